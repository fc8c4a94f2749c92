//! The command line: every flag, its default and its check, and the [`Config`] it
//! becomes.
//!
//! The defaults are not written here: each flag takes its default from the data
//! it sets (`config.rs` says where each lives), and [`Config::default`] is what an
//! empty command line gives. A value from the command line is checked as strictly as one
//! from the network (a header value with a CR is refused here as it would be in a
//! request), and a bad flag exits 2 with a usage line.

use std::net::SocketAddr;
use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

use clap::error::{ContextKind, ContextValue, ErrorKind};
use clap::{CommandFactory, Parser};

use crate::certs::{self, Tls, TlsFiles};
use crate::config::{self, Config, Http2Mode, ListenerMode};
use crate::protocol::framing::Limits;
use crate::protocol::h2;
use crate::protocol::pattern;
use crate::protocol::response::Answer;
use crate::protocol::{FaultSettings, Status, Timeouts};
pub use values::Bind;
use values::{
    parse_bind, parse_content_type, parse_delay, parse_header, parse_rate, parse_secs,
    parse_workers,
};

/// A default in milliseconds as `--*-timeout` takes it: seconds, fractions allowed.
fn secs(ms: u64) -> String {
    Duration::from_millis(ms).as_secs_f64().to_string()
}

/// A default body or content type as clap shows it.
fn text(bytes: &[u8]) -> String {
    String::from_utf8_lossy(bytes).into_owned()
}

/// The command line.
#[derive(Debug, Parser)]
#[command(
    name = "hello-reactor",
    version,
    about = "A single-threaded, event-driven HTTP/1.1 and HTTP/2 server that answers every request with one fixed response."
)]
pub struct Cli {
    /// Address to listen on: `IP:PORT`, `[IPv6]:PORT`, `HOST:PORT` (port 0 picks a free port) or `unix:PATH`
    #[arg(long, value_name = "ADDR", default_value = config::DEFAULT_BIND.to_string(), value_parser = parse_bind)]
    pub bind: Bind,
    /// Body of every response
    #[arg(
        long,
        value_name = "TEXT",
        default_value = text(Answer::DEFAULT.body),
        conflicts_with = "body_file"
    )]
    pub body: String,
    /// Read the body of every response from this file
    #[arg(long, value_name = "PATH")]
    pub body_file: Option<PathBuf>,
    /// A body of BYTES bytes (1 to 1 GiB) of a fixed printable pattern instead of
    /// --body; a large one is written from one shared block, never copied per connection
    #[arg(long, value_name = "BYTES", conflicts_with_all = ["body", "body_file"], value_parser = clap::value_parser!(u64).range(1..=(1 << 30)))]
    pub body_size: Option<u64>,
    /// Content-Type of the response
    #[arg(long, value_name = "TYPE", default_value = Answer::DEFAULT.content_type, value_parser = parse_content_type)]
    pub content_type: String,
    /// Status of every answer, 200-599, sent with its standard reason phrase
    /// (204 and 304 without body or Content-Length)
    #[arg(long, value_name = "CODE", default_value_t = Answer::DEFAULT.status.code(), value_parser = clap::value_parser!(u16).range(200..=599))]
    pub status: u16,
    /// Add a header field to every answer (repeatable); not Content-Length,
    /// Transfer-Encoding, Connection, Date, Server or Content-Type
    #[arg(long = "header", value_name = "'NAME: VALUE'", value_parser = parse_header)]
    pub headers: Vec<(String, String)>,
    /// Most connections open at once [default: the raised fd limit less a reserve]
    #[arg(long, value_name = "N", value_parser = clap::value_parser!(u64).range(1..))]
    pub max_connections: Option<u64>,
    /// Listen backlog
    #[arg(long, value_name = "N", default_value_t = config::DEFAULT_BACKLOG, value_parser = clap::value_parser!(i32).range(1..))]
    pub backlog: i32,
    /// Seconds the kernel may hold a new connection until its first bytes arrive
    /// (Linux TCP_DEFER_ACCEPT; 0 = off)
    #[arg(long, value_name = "SECS", default_value_t = config::DEFAULT_DEFER_ACCEPT, value_parser = clap::value_parser!(u32).range(0..=3600))]
    pub defer_accept: u32,
    /// Largest request head in bytes (larger: 431, or 414 for the request line)
    #[arg(long, value_name = "BYTES", default_value_t = Limits::DEFAULT.max_head as u64, value_parser = clap::value_parser!(u64).range(64..=(1 << 30)))]
    pub max_request_head: u64,
    /// Largest request body in bytes (larger: 413)
    #[arg(long, value_name = "BYTES", default_value_t = Limits::DEFAULT.max_body)]
    pub max_body: u64,
    /// Seconds from a request's first byte to its complete head
    #[arg(long, value_name = "SECS", default_value = secs(Timeouts::DEFAULT.header), value_parser = parse_secs)]
    pub header_timeout: Duration,
    /// Seconds an idle persistent connection is kept open
    #[arg(long, value_name = "SECS", default_value = secs(Timeouts::DEFAULT.keep_alive), value_parser = parse_secs)]
    pub keep_alive_timeout: Duration,
    /// Seconds without request-body progress before closing
    #[arg(long, value_name = "SECS", default_value = secs(Timeouts::DEFAULT.body), value_parser = parse_secs)]
    pub body_timeout: Duration,
    /// Seconds without the client accepting a byte of output before closing
    #[arg(long, value_name = "SECS", default_value = secs(Timeouts::DEFAULT.write), value_parser = parse_secs)]
    pub write_timeout: Duration,
    /// Seconds to keep draining input after an error response (lingering close)
    #[arg(long, value_name = "SECS", default_value = secs(Timeouts::DEFAULT.linger), value_parser = parse_secs)]
    pub linger_timeout: Duration,
    /// Seconds a graceful shutdown (SIGTERM, SIGINT) waits for in-flight requests
    #[arg(long, value_name = "SECS", default_value = secs(config::DEFAULT_SHUTDOWN_TIMEOUT.as_millis() as u64), value_parser = parse_secs)]
    pub shutdown_timeout: Duration,
    /// Log requests/s, open connections and errors every SECS seconds
    #[arg(long, value_name = "SECS", value_parser = parse_secs)]
    pub stats_interval: Option<Duration>,
    /// Serve Prometheus metrics at http://ADDR/metrics (a second listener)
    #[arg(long, value_name = "ADDR")]
    pub metrics_bind: Option<SocketAddr>,

    // --- A test backend (issue #20).
    /// Hold each answer SECS after its request arrived, or a time drawn uniformly
    /// from MIN..MAX (seconds, fractions allowed); the thread is never blocked
    #[arg(long, value_name = "SECS|MIN..MAX", value_parser = parse_delay)]
    pub delay: Option<(Duration, Duration)>,
    /// The fraction of answers (0 to 1) replaced by an injected failure, chosen at
    /// random (see --seed); keep-alive is unaffected
    #[arg(long, value_name = "P", default_value_t = FaultSettings::NONE.fail_rate, value_parser = parse_rate)]
    pub fail_rate: f64,
    /// Status of an injected failure (--fail-rate)
    #[arg(long, value_name = "CODE", default_value_t = FaultSettings::NONE.fail_status.code(), value_parser = clap::value_parser!(u16).range(200..=599))]
    pub fail_status: u16,
    /// Seed of the generator that picks delays and failures (same seed, same choices)
    #[arg(long, value_name = "N", default_value_t = FaultSettings::NONE.seed)]
    pub seed: u64,

    // --- Workers (issue #11).
    /// Reactor threads, each serving its own connections: a number, or `auto` for
    /// one per CPU this process may run on
    #[arg(long, value_name = "N|auto", default_value = config::DEFAULT_WORKERS.to_string(), value_parser = parse_workers)]
    pub workers: usize,
    /// With several workers: `per-worker` sockets (SO_REUSEPORT, Linux) or one `shared` socket
    #[arg(long, value_name = "MODE", value_enum, default_value_t = ListenerMode::default())]
    pub listener: ListenerMode,
    /// Pin worker i to the i-th CPU this process may run on (Linux)
    #[arg(long)]
    pub pin_workers: bool,

    // --- HTTP/2 (issue #21).
    /// HTTP/2: `on` (a connection opening with the HTTP/2 preface speaks it),
    /// `off` (HTTP/1.1 only) or `only` (HTTP/1.1 is refused)
    #[arg(long, value_name = "MODE", value_enum, default_value_t = config::DEFAULT_HTTP2)]
    pub http2: Http2Mode,
    /// Most concurrent HTTP/2 streams per connection (more are refused)
    #[arg(long, value_name = "N", default_value_t = h2::Limits::DEFAULT.max_streams, value_parser = clap::value_parser!(u32).range(1..))]
    pub h2_max_streams: u32,
    // --- TLS (issue #19).
    /// Serve HTTPS (TLS 1.2 and 1.3) with this certificate chain (PEM, leaf first);
    /// needs --tls-key
    #[arg(long, value_name = "PATH")]
    pub tls_cert: Option<PathBuf>,
    /// The certificate's private key (PEM: PKCS#8, RSA PKCS#1 or SEC1 EC); needs --tls-cert
    #[arg(long, value_name = "PATH")]
    pub tls_key: Option<PathBuf>,
    /// Require client certificates signed by this CA (PEM): mutual TLS
    #[arg(long, value_name = "PATH")]
    pub tls_client_ca: Option<PathBuf>,
}

impl Cli {
    /// Parse the process arguments into a [`Config`]; on a bad flag print the error and
    /// a usage line and exit with status 2 (clap's convention).
    ///
    /// clap prints the usage line only for some errors; a value its parsers refuse
    /// (`--status 99`, `--bind nope`) gets one too, so that every bad flag is
    /// answered alike.
    pub fn parse_config() -> Config {
        let cli = Cli::try_parse().unwrap_or_else(|mut error| {
            if matches!(
                error.kind(),
                ErrorKind::ValueValidation | ErrorKind::InvalidValue
            ) {
                let usage = Cli::command().render_usage();
                error.insert(ContextKind::Usage, ContextValue::StyledStr(usage));
            }
            error.exit()
        });
        cli.into_config().unwrap_or_else(|message| {
            Cli::command()
                .error(ErrorKind::ValueValidation, message)
                .exit()
        })
    }

    /// Turn parsed flags into a [`Config`], reading `--body-file` if given.
    pub fn into_config(self) -> Result<Config, String> {
        let tls = self.tls()?;
        let (body, body_size) = match (&self.body_file, self.body_size) {
            (_, Some(size)) if size >= config::STREAMED_BODY_MIN => (Vec::new(), Some(size)),
            (_, Some(size)) => (pattern::body(size as usize), None),
            (Some(path), None) => (
                std::fs::read(path)
                    .map_err(|e| format!("cannot read --body-file {}: {e}", path.display()))?,
                None,
            ),
            (None, None) => (self.body.into_bytes(), None),
        };
        let max_connections = self
            .max_connections
            .map(|n| usize::try_from(n).unwrap_or(usize::MAX));
        let (bind, bind_resolution, unix) = match self.bind {
            Bind::Tcp { addr, resolution } => (addr, resolution, None),
            // `bind` is not used with a Unix socket.
            Bind::Unix(path) => (SocketAddr::from(([0, 0, 0, 0], 0)), None, Some(path)),
        };
        Ok(Config {
            bind,
            bind_resolution,
            unix,
            body,
            body_size,
            content_type: self.content_type,
            status: Status::new(self.status)
                .ok_or_else(|| format!("--status {} is not in 200..=599", self.status))?,
            headers: self.headers,
            max_connections,
            backlog: self.backlog,
            defer_accept: self.defer_accept,
            max_request_head: usize::try_from(self.max_request_head).unwrap_or(usize::MAX),
            max_body: self.max_body,
            header_timeout: self.header_timeout,
            keep_alive_timeout: self.keep_alive_timeout,
            body_timeout: self.body_timeout,
            write_timeout: self.write_timeout,
            linger_timeout: self.linger_timeout,
            shutdown_timeout: self.shutdown_timeout,
            stats_interval: self.stats_interval,
            metrics_bind: self.metrics_bind,
            delay: self.delay,
            fail_rate: self.fail_rate,
            fail_status: Status::new(self.fail_status)
                .ok_or_else(|| format!("--fail-status {} is not in 200..=599", self.fail_status))?,
            seed: self.seed,
            // Workers (issue #11).
            workers: self.workers,
            listener: self.listener,
            pin_workers: self.pin_workers,
            http2: self.http2,
            h2_max_streams: self.h2_max_streams,
            tls,
        })
    }

    /// `--tls-cert` and `--tls-key` (both or neither) and `--tls-client-ca`,
    /// loaded and checked now: a bad file is a bad flag.
    fn tls(&self) -> Result<Option<Arc<Tls>>, String> {
        let (cert, key) = match (&self.tls_cert, &self.tls_key) {
            (None, None) if self.tls_client_ca.is_some() => {
                return Err("--tls-client-ca needs --tls-cert and --tls-key".into());
            }
            (None, None) => return Ok(None),
            (Some(_), None) => return Err("--tls-cert needs --tls-key".into()),
            (None, Some(_)) => return Err("--tls-key needs --tls-cert".into()),
            (Some(cert), Some(key)) => (cert.clone(), key.clone()),
        };
        let files = TlsFiles {
            cert,
            key,
            client_ca: self.tls_client_ca.clone(),
            alpn: match self.http2 {
                Http2Mode::On => certs::ALPN,
                Http2Mode::Off => certs::ALPN_HTTP1,
                Http2Mode::Only => certs::ALPN_H2,
            },
        };
        Tls::load(files).map(Some)
    }
}

#[cfg(test)]
mod tests;
mod values;
