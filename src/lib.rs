//! hello-reactor: a single-threaded, event-driven HTTP/1.1 server on `mio`.
#![deny(missing_docs)]

pub mod chunked;
pub mod config;
pub mod framing;
pub mod response;
pub mod stats;
