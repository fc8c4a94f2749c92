//! What the server is told: [`Config`], plain data that every layer reads.
//!
//! Every limit the server enforces is a field here, with a flag and a default
//! chosen for a server that faces untrusted clients (the flags and their defaults:
//! `process/cli.rs`; the reason for each limit: `docs/limits.md`). The library
//! takes a `Config` so that tests and benchmarks can build a server without going
//! through the command line.

use std::net::SocketAddr;
use std::path::PathBuf;
use std::time::Duration;

use crate::protocol::Status;
#[cfg(doc)]
use crate::protocol::response::check_header;

/// Everything a [`Server`](crate::Server) needs to know.
#[derive(Debug, Clone, PartialEq)]
pub struct Config {
    /// Address to listen on; port 0 picks a free port.
    pub bind: SocketAddr,
    /// When `--bind` named a host rather than an address: what it was and what it
    /// resolved to, for the log line at startup (`None` for a literal address).
    pub bind_resolution: Option<String>,
    /// Listen on this Unix domain socket instead of `bind` (`--bind unix:PATH`).
    pub unix: Option<PathBuf>,
    /// The body of every `200 OK`.
    pub body: Vec<u8>,
    /// Its `Content-Type`.
    pub content_type: String,
    /// The status of every answer to a valid request (`--status`).
    pub status: Status,
    /// Header fields added to every such answer (`--header`), in order; each
    /// must pass [`check_header`] (the CLI checks them, and a pair that does
    /// not is left out of the answer with a warning).
    pub headers: Vec<(String, String)>,
    /// Most connections open at once; `None`: as many as the fd limit allows.
    pub max_connections: Option<usize>,
    /// Listen backlog: connections the kernel queues while we do not accept.
    pub backlog: i32,
    /// Seconds the kernel may hold a new connection until its first data arrives
    /// (`TCP_DEFER_ACCEPT`, Linux); 0 hands every connection over at once.
    pub defer_accept: u32,
    /// Largest request head in bytes (431, or 414 for a request line alone).
    pub max_request_head: usize,
    /// Largest request body in bytes (413).
    pub max_body: u64,
    /// From a request's first byte to its complete head (408, then close).
    pub header_timeout: Duration,
    /// Idle time allowed between requests on a persistent connection.
    pub keep_alive_timeout: Duration,
    /// Time allowed without body progress (408, then close).
    pub body_timeout: Duration,
    /// Time allowed without a byte of output accepted by the client.
    pub write_timeout: Duration,
    /// How long to keep reading and discarding after an error response.
    pub linger_timeout: Duration,
    /// How long a graceful shutdown waits for in-flight requests.
    pub shutdown_timeout: Duration,
    /// Log a stats line this often, if set.
    pub stats_interval: Option<Duration>,
    /// Serve Prometheus metrics at `/metrics` on this address, if set.
    pub metrics_bind: Option<SocketAddr>,

    // --- Workers (issue #11): several reactors in one process, `process::Workers`.
    /// Reactors (threads) to run, each with its own connections; at least 1.
    pub workers: usize,
    /// How the workers listen when there are several.
    pub listener: ListenerMode,
    /// Pin worker i to the i-th CPU this process may run on (Linux).
    pub pin_workers: bool,
}

/// How several workers get their connections (`--listener`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum ListenerMode {
    /// One listening socket per worker, all bound to the address with
    /// `SO_REUSEPORT`: the kernel spreads new connections over their queues
    /// (Linux; elsewhere the workers share one socket).
    PerWorker,
    /// One listening socket, shared: every worker watches it and accepts from it.
    Shared,
}

impl Default for ListenerMode {
    /// Per-worker sockets where the kernel balances them (Linux), else shared.
    fn default() -> ListenerMode {
        if cfg!(any(target_os = "linux", target_os = "android")) {
            ListenerMode::PerWorker
        } else {
            ListenerMode::Shared
        }
    }
}

impl Default for Config {
    /// The command line's defaults: each is written once, on its flag in
    /// `process/cli.rs`, and a library user gets exactly what the binary runs with.
    fn default() -> Config {
        crate::process::cli::defaults()
    }
}
