//! The HTTP/2 protocol core (RFC 9113), a second sans-I/O core beside the
//! HTTP/1.1 one: bytes and "now" in, frames out, no sockets and no clocks.
//!
//! The reactor drives it through `reactor/cores.rs` (see "Driving it" below).
//! Its parts, from the bytes up:
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
//! | [`counts`] | what it counts: streams, GOAWAYs by code, responses (for the metrics' `protocol` label) |
//! | [`error`] | error codes (§7) and the connection/stream distinction (§5.4) |
//! | [`testing`] | a driver with no socket and a hand-written client, for tests and fuzzing |
//!
//! # Driving it
//!
//! [`Session`] answers to the same calls as the HTTP/1.1 [`Conn`](super::Conn)
//! (`process`, `eof`, `write_blocked`, `write_progress`, `sent`, `expire`,
//! `drain`, then `wants` and `poll_at`), with three differences a driver
//! must know:
//!
//! - its [`Cx`] lends the [`answer::H2Answer`] (whose `date` the driver
//!   refreshes with the HTTP/1.1 answers' once a second), the injected failure
//!   and the faults generator (`--fail-rate`, `--delay`), and [`Limits`]
//!   ([`Limits::with_http1`] takes `--max-request-head` and `--max-body`), and
//!   output is a plain `Vec<u8>`: every frame names its stream, so there is no
//!   ready-made answer to point at as HTTP/1.1's `Batch` does;
//! - [`Session::sent`] may append output (DATA held back by a full batch):
//!   the driver writes again when it did;
//! - the client preface is read by the session itself: a driver that sniffs
//!   the first bytes to choose a core (prior knowledge, RFC 9113 §3.3) passes
//!   them on unconsumed (with `--http2 off` the HTTP/1.1 core gets them, and
//!   answers the preface `505 HTTP Version Not Supported`).

pub mod answer;
pub mod budget;
pub mod counts;
pub mod error;
pub mod frame;
pub mod hpack;
pub mod request;
pub mod session;
pub mod stream;
pub mod testing;

pub use session::{Cx, Limits, Session, Stage, Timer};
