//! The HTTP/1.1 protocol core: bytes and "now" in, answers and "what I wait for,
//! until when" out. Nothing here touches a socket, reads a clock or knows of mio.
//!
//! [`h2`] is the HTTP/2 core beside it, built the same way; the reactor does
//! not drive it yet.

pub mod batch;
pub mod chunked;
pub mod common;
pub mod conn;
pub mod faults;
pub mod framing;
pub mod h2;
#[cfg(test)]
mod held_tests;
pub mod pattern;
pub mod phase;
pub mod response;
pub mod stats;
pub mod status;
pub mod testing;
#[cfg(test)]
mod tests;

pub use batch::Batch;
pub use common::{Common, Settings};
pub use conn::{Conn, ConnId, Cx, OUT_BATCH_LIMIT, Stop, Want};
pub use faults::{Delay, FaultSettings};
pub use phase::{Phase, Timeouts};
pub use status::Status;
