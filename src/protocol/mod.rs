//! The HTTP/1.1 protocol core: bytes and "now" in, answers and "what I wait for,
//! until when" out. Nothing here touches a socket, reads a clock or knows of mio.

pub mod batch;
pub mod chunked;
pub mod framing;
pub mod response;
pub mod stats;
pub mod status;

pub use batch::Batch;
pub use status::Status;
