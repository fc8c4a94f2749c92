//! The command line: every flag, its default and its check, and the [`Config`] it
//! becomes.
//!
//! The defaults are not written here: each flag takes its default from the data
//! it sets (`config.rs` says where each lives), and [`Config::default`] is what an
//! empty command line gives. A value from the command line is checked as strictly as one
//! from the network (a header value with a CR is refused here as it would be in a
//! request), and a bad flag exits 2 with a usage line.

use std::net::{SocketAddr, ToSocketAddrs};
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
use crate::protocol::response::{Answer, check_field_value, check_header};
use crate::protocol::{FaultSettings, Status, Timeouts};

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

/// Most workers accepted: more threads than this is a typo, not a machine.
const MAX_WORKERS: usize = 1024;

/// Parse `--workers`: `auto` (the CPUs this process may run on) or 1 to 1024.
fn parse_workers(text: &str) -> Result<usize, String> {
    if text == "auto" {
        return Ok(std::thread::available_parallelism().map_or(1, |n| n.get()));
    }
    match text.parse::<usize>() {
        Ok(n) if (1..=MAX_WORKERS).contains(&n) => Ok(n),
        Ok(_) => Err(format!(
            "`{text}` is out of range (1 to {MAX_WORKERS}, or auto)"
        )),
        Err(_) => Err(format!("`{text}` is not a number of workers or `auto`")),
    }
}

/// Longest timeout accepted: a day. Longer is a typo, not a policy.
const MAX_SECS: f64 = 86_400.0;

/// Parse seconds, fractions allowed (`0.5`), between 1 ms and a day.
fn parse_secs(text: &str) -> Result<Duration, String> {
    let secs: f64 = text
        .parse()
        .map_err(|_| format!("`{text}` is not a number of seconds"))?;
    if !(0.001..=MAX_SECS).contains(&secs) {
        return Err(format!(
            "`{text}` is out of range (0.001 to {MAX_SECS} seconds)"
        ));
    }
    Ok(Duration::from_secs_f64(secs))
}

/// `--delay`: `SECS`, or `MIN..MAX` with `MIN <= MAX`, each as [`parse_secs`]
/// takes it (`MIN` may also be 0).
fn parse_delay(text: &str) -> Result<(Duration, Duration), String> {
    let Some((min, max)) = text.split_once("..") else {
        let secs = parse_secs(text)?;
        return Ok((secs, secs));
    };
    let min = match min {
        "0" => Duration::ZERO,
        _ => parse_secs(min)?,
    };
    let max = parse_secs(max)?;
    if min > max {
        return Err(format!(
            "`{text}`: the shortest delay is longer than the longest (expected MIN..MAX)"
        ));
    }
    Ok((min, max))
}

/// `--fail-rate`: a fraction from 0 to 1.
fn parse_rate(text: &str) -> Result<f64, String> {
    match text.parse::<f64>() {
        Ok(p) if (0.0..=1.0).contains(&p) => Ok(p),
        Ok(_) => Err(format!("`{text}` is out of range (0 to 1)")),
        Err(_) => Err(format!("`{text}` is not a fraction (0 to 1, e.g. 0.2)")),
    }
}

/// The forms `--bind` takes, for its error message.
const BIND_FORMS: &str = "expected IP:PORT, [IPv6]:PORT, HOST:PORT or unix:PATH, \
                          e.g. 127.0.0.1:8888, [::1]:8888, localhost:8888 or unix:/tmp/hello.sock";

/// A parsed `--bind`: a TCP address (and, for a host name, how it was
/// resolved), or `unix:PATH` for a Unix domain socket.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Bind {
    /// `IP:PORT` or `HOST:PORT`.
    Tcp {
        /// The address (the first one a host name resolved to).
        addr: SocketAddr,
        /// For a host name: `localhost:8888 resolved to 127.0.0.1:8888 (of ...)`.
        resolution: Option<String>,
    },
    /// `unix:PATH`.
    Unix(PathBuf),
}

/// `--bind`: `unix:PATH`, a socket address, or a host name and port resolved now
/// (the first address is used, as a client would; the choice is logged at
/// startup, since `localhost` may be `::1` on one machine and `127.0.0.1` on the
/// next).
fn parse_bind(text: &str) -> Result<Bind, String> {
    match text.strip_prefix("unix:") {
        Some("") => return Err("`unix:` needs a path, as in unix:/run/hello-reactor.sock".into()),
        Some(path) => return Ok(Bind::Unix(PathBuf::from(path))),
        None => {}
    }
    if let Ok(addr) = text.parse::<SocketAddr>() {
        return Ok(Bind::Tcp {
            addr,
            resolution: None,
        });
    }
    let addrs: Vec<SocketAddr> = text
        .to_socket_addrs()
        .map_err(|e| format!("`{text}` is not an address to listen on ({e}); {BIND_FORMS}"))?
        .collect();
    let Some(&addr) = addrs.first() else {
        return Err(format!("`{text}` resolved to no address; {BIND_FORMS}"));
    };
    let all: Vec<String> = addrs.iter().map(SocketAddr::to_string).collect();
    Ok(Bind::Tcp {
        addr,
        resolution: Some(format!(
            "--bind {text} resolved to {addr} (first of: {})",
            all.join(", ")
        )),
    })
}

/// `--header 'Name: value'`: a token, a colon, a field value (whitespace around
/// it is dropped, as a server drops it from a request's field line); not one
/// of the fields the server writes itself.
fn parse_header(text: &str) -> Result<(String, String), String> {
    let Some((name, value)) = text.split_once(':') else {
        return Err(format!(
            "`{}` is not a header: expected 'Name: value'",
            text.escape_debug()
        ));
    };
    let value = value.trim_matches([' ', '\t']);
    check_header(name, value)?;
    Ok((name.to_string(), value.to_string()))
}

/// `--content-type`: a non-empty field value.
fn parse_content_type(text: &str) -> Result<String, String> {
    if text.is_empty() {
        return Err("the content type cannot be empty".to_string());
    }
    check_field_value(text)?;
    Ok(text.to_string())
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
