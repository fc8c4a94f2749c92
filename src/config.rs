//! What the server is told: [`Config`], plain data that every layer reads.
//!
//! Every limit the server enforces is a field here, with a flag and a default
//! chosen for a server that faces untrusted clients (the flags: `process/cli.rs`;
//! the reason for each limit: `docs/limits.md`). The library takes a `Config` so
//! that tests and benchmarks can build a server without going through the command
//! line.
//!
//! Each default is written once, beside the data it defaults: the protocol core's
//! on its own types ([`Answer::DEFAULT`], [`Limits::DEFAULT`],
//! [`Timeouts::DEFAULT`]), the rest here (`DEFAULT_*`). The command line takes its
//! defaults from both, and [`Config::default`] is what an empty command line gives.
//!
//! Imports run one way: `process/` reads `config`, and `config` reads the protocol's
//! types to hand the core its [`Settings`] ([`Config::protocol`]); the core never
//! sees a `Config`.

use std::net::{Ipv4Addr, SocketAddr, SocketAddrV4};
use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

use crate::certs::Tls;
use crate::protocol::framing::Limits;
use crate::protocol::h2;
use crate::protocol::response::Answer;
#[cfg(doc)]
use crate::protocol::response::check_header;
use crate::protocol::{Delay, FaultSettings, Settings, Status, Timeouts};

/// `--bind`: loopback, so that a first `cargo run` is reachable from this machine only.
pub const DEFAULT_BIND: SocketAddr = SocketAddr::V4(SocketAddrV4::new(Ipv4Addr::LOCALHOST, 8888));
/// `--backlog`: room for a burst of a thousand connections while the loop is busy.
pub const DEFAULT_BACKLOG: i32 = 1024;
/// `--defer-accept`: a second, so that a connection that never speaks costs no wake-up.
pub const DEFAULT_DEFER_ACCEPT: u32 = 1;
/// `--shutdown-timeout`: how long a drain may take before the rest are closed.
pub const DEFAULT_SHUTDOWN_TIMEOUT: Duration = Duration::from_secs(10);
/// `--body-size` from this size on is streamed from a shared block (`body_size`);
/// below it the pattern is rendered into the answer like any `--body`, and the
/// answer is one copy as ever.
pub const STREAMED_BODY_MIN: u64 = 64 * 1024;
/// `--workers`: one reactor, the single-threaded server.
pub const DEFAULT_WORKERS: usize = 1;
/// `--http2`: on, as a client that speaks it first (prior knowledge) is served.
pub const DEFAULT_HTTP2: Http2Mode = Http2Mode::On;

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
    /// Instead of `body`, this many bytes of a fixed pattern, written from one
    /// shared block and never stored whole (`--body-size` above
    /// [`STREAMED_BODY_MIN`]; a smaller one is rendered into `body`).
    pub body_size: Option<u64>,
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

    // --- A test backend (issue #20): faults injected on purpose.
    /// Hold each answer for a time in `min..=max` after its request's head
    /// (`--delay`); `None`: answer at once.
    pub delay: Option<(Duration, Duration)>,
    /// The fraction of answers, 0.0 to 1.0, replaced by an injected failure.
    pub fail_rate: f64,
    /// The status of an injected failure.
    pub fail_status: Status,
    /// Seed of the generator that picks delays and failures.
    pub seed: u64,

    // --- Workers (issue #11): several reactors in one process, `process::Workers`.
    /// Reactors (threads) to run, each with its own connections; at least 1.
    pub workers: usize,
    /// How the workers listen when there are several.
    pub listener: ListenerMode,
    /// Pin worker i to the i-th CPU this process may run on (Linux).
    pub pin_workers: bool,

    // --- HTTP/2 (issue #21).
    /// Whether a connection may speak HTTP/2 (`--http2`).
    pub http2: Http2Mode,
    /// `SETTINGS_MAX_CONCURRENT_STREAMS` (`--h2-max-streams`).
    pub h2_max_streams: u32,

    // --- TLS (issue #19): `--tls-cert`, `--tls-key`, `--tls-client-ca`.
    /// Serve HTTPS with this certificate and key (loaded, checked, and shared by
    /// every worker; [`Tls::load`]); `None`: plain HTTP.
    pub tls: Option<Arc<Tls>>,
}

/// Which protocols a connection may speak (`--http2`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum Http2Mode {
    /// HTTP/2 for a connection that opens with its preface, else HTTP/1.1.
    On,
    /// HTTP/1.1 only: the preface gets HTTP/1.1's answer to it.
    Off,
    /// HTTP/2 only: HTTP/1.1 is refused (a GOAWAY, then the close).
    Only,
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
    /// What an empty command line gives (a test in `process/cli/tests.rs` holds the
    /// two together), so a library user gets exactly what the binary runs with.
    fn default() -> Config {
        let answer = Answer::DEFAULT;
        let timeout = |ms: u64| Duration::from_millis(ms);
        let timeouts = Timeouts::DEFAULT;
        Config {
            bind: DEFAULT_BIND,
            bind_resolution: None,
            unix: None,
            body: answer.body.to_vec(),
            body_size: answer.streamed,
            content_type: answer.content_type.to_string(),
            status: answer.status,
            headers: Vec::new(),
            max_connections: None,
            backlog: DEFAULT_BACKLOG,
            defer_accept: DEFAULT_DEFER_ACCEPT,
            max_request_head: Limits::DEFAULT.max_head,
            max_body: Limits::DEFAULT.max_body,
            header_timeout: timeout(timeouts.header),
            keep_alive_timeout: timeout(timeouts.keep_alive),
            body_timeout: timeout(timeouts.body),
            write_timeout: timeout(timeouts.write),
            linger_timeout: timeout(timeouts.linger),
            shutdown_timeout: DEFAULT_SHUTDOWN_TIMEOUT,
            stats_interval: None,
            metrics_bind: None,
            delay: None,
            fail_rate: FaultSettings::NONE.fail_rate,
            fail_status: FaultSettings::NONE.fail_status,
            seed: FaultSettings::NONE.seed,
            workers: DEFAULT_WORKERS,
            listener: ListenerMode::default(),
            pin_workers: false,
            http2: DEFAULT_HTTP2,
            h2_max_streams: h2::Limits::DEFAULT.max_streams,
            tls: None,
        }
    }
}

impl Config {
    /// What the protocol core is told: the answer, the limits, the timeouts (in
    /// milliseconds, the unit of the drivers' clocks) and the faults to inject.
    pub fn protocol(&self) -> Settings<'_> {
        let ms = |d: Duration| u64::try_from(d.as_millis()).unwrap_or(u64::MAX);
        Settings {
            answer: Answer {
                status: self.status,
                content_type: &self.content_type,
                headers: &self.headers,
                body: &self.body,
                streamed: self.body_size,
            },
            limits: Limits {
                max_head: self.max_request_head,
                max_body: self.max_body,
            },
            timeouts: Timeouts {
                header: ms(self.header_timeout),
                keep_alive: ms(self.keep_alive_timeout),
                body: ms(self.body_timeout),
                write: ms(self.write_timeout),
                linger: ms(self.linger_timeout),
            },
            faults: FaultSettings {
                delay: self.delay.map(|(min, max)| Delay {
                    min: ms(min),
                    max: ms(max),
                }),
                fail_rate: self.fail_rate,
                fail_status: self.fail_status,
                seed: self.seed,
            },
        }
    }

    /// What the HTTP/2 core is told beyond the timeouts: HTTP/1.1's head and
    /// body limits (the flags mean the same thing) and `--h2-max-streams`.
    pub fn h2_limits(&self) -> h2::Limits {
        h2::Limits {
            max_streams: self.h2_max_streams,
            ..h2::Limits::with_http1(&self.protocol().limits)
        }
    }
}
