//! The HTTP/2 protocol core (RFC 9113), a second sans-I/O core beside the
//! HTTP/1.1 one: bytes and "now" in, frames out, no sockets and no clocks.
//!
//! Not yet driven by the reactor. Its parts, from the bytes up:
//!
//! | part | what it does |
//! |------|--------------|
//! | [`frame`] | frame header and every frame type of §6, parsed with its own rules; serializers for what a server sends |
//! | [`hpack`] | HPACK (RFC 7541): a decoder that never panics, and the encoder of the response block |
//! | [`request`] | whether a request's fields are well-formed (§8.2, §8.3) |
//! | [`answer`] | the fixed answer's field block, encoded once, its `date` patched in place |
//! | [`stream`] | stream states (§5.1): the active ones, and what is remembered of the closed |
//! | [`budget`] | flood defences: rapid reset, SETTINGS, PING, empty frames, WINDOW_UPDATE |
//! | [`session`] | one connection: preface, SETTINGS, streams, flow control, answers, GOAWAY |
//! | [`error`] | error codes (§7) and the connection/stream distinction (§5.4) |

pub mod answer;
pub mod budget;
pub mod error;
pub mod frame;
pub mod hpack;
pub mod request;
pub mod session;
pub mod stream;
pub mod testing;

pub use session::{Cx, Limits, Session, Stage, Timer};
