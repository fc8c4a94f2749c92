//! hello-reactor: a single-threaded, event-driven HTTP/1.1 server on `mio` that
//! answers every request with one fixed response.
//!
//! ```no_run
//! use hello_reactor::{Config, Server};
//!
//! let mut config = Config::default();
//! config.bind = "127.0.0.1:0".parse().unwrap();
//! let running = Server::bind(config)?.spawn()?;
//! println!("serving on {}", running.addr());
//! let summary = running.shutdown()?;
//! println!("{summary}");
//! # Ok::<(), std::io::Error>(())
//! ```
#![deny(missing_docs)]

pub mod chunked;
pub mod config;
pub mod connection;
pub mod fdlimit;
pub mod framing;
pub mod handle;
pub mod listener;
pub mod response;
pub mod server;
pub mod shared;
pub mod stats;

pub use config::{Cli, Config};
pub use handle::{Running, ServerHandle};
pub use server::Server;
pub use stats::Summary;
