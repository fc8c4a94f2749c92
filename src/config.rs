//! What the server is told: the command line (clap) and the [`Config`] it becomes.
//!
//! Every limit the server enforces has a flag here and a default chosen for a server
//! that faces untrusted clients; `docs/limits.md` gives the reason for each. The
//! library takes a [`Config`] (plain data, `Default` gives the CLI defaults) so that
//! tests and benchmarks can build a server without going through the command line.

use std::net::{SocketAddr, ToSocketAddrs};
use std::path::PathBuf;
use std::time::Duration;

use clap::error::{ContextKind, ContextValue, ErrorKind};
use clap::{CommandFactory, Parser};

use crate::protocol::Status;
use crate::protocol::response::{check_field_value, check_header};

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
    fn default() -> Config {
        Config {
            bind: SocketAddr::from(([127, 0, 0, 1], 8888)),
            bind_resolution: None,
            unix: None,
            body: b"Hello, World!".to_vec(),
            content_type: "text/plain; charset=utf-8".to_string(),
            status: Status::OK,
            headers: Vec::new(),
            max_connections: None,
            backlog: 1024,
            defer_accept: 1,
            max_request_head: 16 * 1024,
            max_body: 1024 * 1024,
            header_timeout: Duration::from_secs(30),
            keep_alive_timeout: Duration::from_secs(75),
            body_timeout: Duration::from_secs(30),
            write_timeout: Duration::from_secs(30),
            linger_timeout: Duration::from_secs(5),
            shutdown_timeout: Duration::from_secs(10),
            stats_interval: None,
            metrics_bind: None,
            // Workers (issue #11).
            workers: 1,
            listener: ListenerMode::default(),
            pin_workers: false,
        }
    }
}

/// The command line. Defaults mirror [`Config::default`].
#[derive(Debug, Parser)]
#[command(
    name = "hello-reactor",
    version,
    about = "A single-threaded, event-driven HTTP/1.1 server that answers every request with one fixed response."
)]
pub struct Cli {
    /// Address to listen on: `IP:PORT`, `[IPv6]:PORT`, `HOST:PORT` (port 0 picks a free port) or `unix:PATH`
    #[arg(long, value_name = "ADDR", default_value = "127.0.0.1:8888", value_parser = parse_bind)]
    pub bind: Bind,
    /// Body of every response
    #[arg(
        long,
        value_name = "TEXT",
        default_value = "Hello, World!",
        conflicts_with = "body_file"
    )]
    pub body: String,
    /// Read the body of every response from this file
    #[arg(long, value_name = "PATH")]
    pub body_file: Option<PathBuf>,
    /// Content-Type of the response
    #[arg(long, value_name = "TYPE", default_value = "text/plain; charset=utf-8", value_parser = parse_content_type)]
    pub content_type: String,
    /// Status of every answer, 200-599, sent with its standard reason phrase
    /// (204 and 304 without body or Content-Length)
    #[arg(long, value_name = "CODE", default_value_t = 200, value_parser = clap::value_parser!(u16).range(200..=599))]
    pub status: u16,
    /// Add a header field to every answer (repeatable); not Content-Length,
    /// Transfer-Encoding, Connection, Date, Server or Content-Type
    #[arg(long = "header", value_name = "'NAME: VALUE'", value_parser = parse_header)]
    pub headers: Vec<(String, String)>,
    /// Most connections open at once [default: the raised fd limit less a reserve]
    #[arg(long, value_name = "N", value_parser = clap::value_parser!(u64).range(1..))]
    pub max_connections: Option<u64>,
    /// Listen backlog
    #[arg(long, value_name = "N", default_value_t = 1024, value_parser = clap::value_parser!(i32).range(1..))]
    pub backlog: i32,
    /// Seconds the kernel may hold a new connection until its first bytes arrive
    /// (Linux TCP_DEFER_ACCEPT; 0 = off)
    #[arg(long, value_name = "SECS", default_value_t = 1, value_parser = clap::value_parser!(u32).range(0..=3600))]
    pub defer_accept: u32,
    /// Largest request head in bytes (larger: 431, or 414 for the request line)
    #[arg(long, value_name = "BYTES", default_value_t = 16 * 1024, value_parser = clap::value_parser!(u64).range(64..=(1 << 30)))]
    pub max_request_head: u64,
    /// Largest request body in bytes (larger: 413)
    #[arg(long, value_name = "BYTES", default_value_t = 1024 * 1024)]
    pub max_body: u64,
    /// Seconds from a request's first byte to its complete head
    #[arg(long, value_name = "SECS", default_value = "30", value_parser = parse_secs)]
    pub header_timeout: Duration,
    /// Seconds an idle persistent connection is kept open
    #[arg(long, value_name = "SECS", default_value = "75", value_parser = parse_secs)]
    pub keep_alive_timeout: Duration,
    /// Seconds without request-body progress before closing
    #[arg(long, value_name = "SECS", default_value = "30", value_parser = parse_secs)]
    pub body_timeout: Duration,
    /// Seconds without the client accepting a byte of output before closing
    #[arg(long, value_name = "SECS", default_value = "30", value_parser = parse_secs)]
    pub write_timeout: Duration,
    /// Seconds to keep draining input after an error response (lingering close)
    #[arg(long, value_name = "SECS", default_value = "5", value_parser = parse_secs)]
    pub linger_timeout: Duration,
    /// Seconds a graceful shutdown (SIGTERM, SIGINT) waits for in-flight requests
    #[arg(long, value_name = "SECS", default_value = "10", value_parser = parse_secs)]
    pub shutdown_timeout: Duration,
    /// Log requests/s, open connections and errors every SECS seconds
    #[arg(long, value_name = "SECS", value_parser = parse_secs)]
    pub stats_interval: Option<Duration>,
    /// Serve Prometheus metrics at http://ADDR/metrics (a second listener)
    #[arg(long, value_name = "ADDR")]
    pub metrics_bind: Option<SocketAddr>,

    // --- Workers (issue #11).
    /// Reactor threads, each serving its own connections: a number, or `auto` for
    /// one per CPU this process may run on
    #[arg(long, value_name = "N|auto", default_value = "1", value_parser = parse_workers)]
    pub workers: usize,
    /// With several workers: `per-worker` sockets (SO_REUSEPORT, Linux) or one `shared` socket
    #[arg(long, value_name = "MODE", value_enum, default_value_t = ListenerMode::default())]
    pub listener: ListenerMode,
    /// Pin worker i to the i-th CPU this process may run on (Linux)
    #[arg(long)]
    pub pin_workers: bool,
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
        let body = match &self.body_file {
            Some(path) => std::fs::read(path)
                .map_err(|e| format!("cannot read --body-file {}: {e}", path.display()))?,
            None => self.body.into_bytes(),
        };
        let max_connections = self
            .max_connections
            .map(|n| usize::try_from(n).unwrap_or(usize::MAX));
        let (bind, bind_resolution, unix) = match self.bind {
            Bind::Tcp { addr, resolution } => (addr, resolution, None),
            Bind::Unix(path) => (Config::default().bind, None, Some(path)),
        };
        Ok(Config {
            bind,
            bind_resolution,
            unix,
            body,
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
            // Workers (issue #11).
            workers: self.workers,
            listener: self.listener,
            pin_workers: self.pin_workers,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cli_defaults_match_config_default() {
        let cli = Cli::try_parse_from(["hello-reactor"]).unwrap();
        assert_eq!(cli.into_config().unwrap(), Config::default());
    }

    #[test]
    fn seconds_accept_fractions_and_reject_nonsense() {
        assert_eq!(parse_secs("0.5"), Ok(Duration::from_millis(500)));
        assert_eq!(parse_secs("75"), Ok(Duration::from_secs(75)));
        assert!(parse_secs("0").is_err());
        assert!(parse_secs("-1").is_err());
        assert!(parse_secs("soon").is_err());
        assert!(parse_secs("1e9").is_err());
    }

    #[test]
    fn flags_reach_the_config() {
        let cli = Cli::try_parse_from([
            "hello-reactor",
            "--bind",
            "127.0.0.1:0",
            "--body",
            "hi",
            "--max-connections",
            "7",
            "--header-timeout",
            "1.5",
        ])
        .unwrap();
        let config = cli.into_config().unwrap();
        assert_eq!(config.bind.port(), 0);
        assert_eq!(config.body, b"hi");
        assert_eq!(config.max_connections, Some(7));
        assert_eq!(config.header_timeout, Duration::from_millis(1500));
    }

    // Workers (issue #11).
    #[test]
    fn workers_are_a_count_or_auto() {
        assert_eq!(parse_workers("4"), Ok(4));
        let cpus = std::thread::available_parallelism().unwrap().get();
        assert_eq!(parse_workers("auto"), Ok(cpus));
        assert!(parse_workers("0").is_err());
        assert!(parse_workers("-1").is_err());
        assert!(parse_workers("many").is_err());
        assert!(parse_workers("100000").is_err());
        let cli = Cli::try_parse_from([
            "hello-reactor",
            "--workers",
            "3",
            "--listener",
            "shared",
            "--pin-workers",
        ])
        .unwrap();
        let config = cli.into_config().unwrap();
        assert_eq!(config.workers, 3);
        assert_eq!(config.listener, ListenerMode::Shared);
        assert!(config.pin_workers);
        assert!(Cli::try_parse_from(["hello-reactor", "--listener", "both"]).is_err());
    }

    #[test]
    fn bind_takes_addresses_and_host_names() {
        let tcp = |text| match parse_bind(text).unwrap() {
            Bind::Tcp { addr, resolution } => (addr, resolution),
            other => panic!("{other:?}"),
        };
        assert_eq!(tcp("[::1]:8888"), ("[::1]:8888".parse().unwrap(), None));
        let (addr, resolution) = tcp("localhost:8888");
        assert!(addr.ip().is_loopback(), "{addr}");
        assert_eq!(addr.port(), 8888);
        let note = resolution.unwrap();
        assert!(
            note.starts_with("--bind localhost:8888 resolved to "),
            "{note}"
        );
        for bad in [
            "localhost",
            "127.0.0.1",
            "1.2.3.4:99999",
            ":80",
            "",
            "a b:80",
        ] {
            let message = parse_bind(bad).unwrap_err();
            assert!(message.contains("127.0.0.1:8888"), "{bad}: {message}");
            assert!(message.contains("[::1]:8888"), "{bad}: {message}");
            assert!(message.contains("localhost:8888"), "{bad}: {message}");
        }
    }

    #[test]
    fn field_values_are_checked_like_a_clients() {
        #[rustfmt::skip]
        let table = [
            ("text/plain", true),
            ("text/plain; charset=utf-8", true),
            ("a\tb", true),
            ("caf\u{e9}", true),
            ("", true),
            ("a\r\nSet-Cookie: x=1", false),
            ("a\nb", false),
            ("a\rb", false),
            ("a\0b", false),
            ("a\x7fb", false),
            ("a\x01b", false),
            (" a", false),
            ("a\t", false),
        ];
        for (value, ok) in table {
            assert_eq!(check_field_value(value).is_ok(), ok, "{value:?}");
        }
        assert!(parse_content_type("").is_err());
        assert!(parse_content_type("a\0b").is_err());
        assert!(parse_content_type("text/html\r\n").is_err());
        assert_eq!(parse_content_type("text/html"), Ok("text/html".to_string()));
    }

    #[test]
    fn headers_are_a_token_and_a_field_value() {
        #[rustfmt::skip]
        let table: &[(&str, Option<(&str, &str)>)] = &[
            ("X-A: b", Some(("X-A", "b"))),
            ("X-A:b", Some(("X-A", "b"))),
            ("X-A: \t b c \t", Some(("X-A", "b c"))),
            ("X-Empty:", Some(("X-Empty", ""))),
            ("Cache-Control: max-age=60, public", Some(("Cache-Control", "max-age=60, public"))),
            ("X-A: b: c", Some(("X-A", "b: c"))),
            ("!#$%&'*+-.^_`|~: x", Some(("!#$%&'*+-.^_`|~", "x"))),
            ("X-A", None),
            (": b", None),
            ("X A: b", None),
            ("X-A : b", None),
            ("X(A): b", None),
            ("X-\u{e9}: b", None),
            ("X-A: b\r\nSet-Cookie: c", None),
            ("X-A: b\nc", None),
            ("X-A: b\0", None),
            ("X-A: b\x7f", None),
            ("content-length: 5", None),
            ("Transfer-Encoding: chunked", None),
            ("CONNECTION: close", None),
            ("Date: today", None),
            ("Server: other", None),
            ("Content-Type: text/html", None),
        ];
        for &(text, expected) in table {
            let got = parse_header(text);
            let expected = expected.map(|(n, v)| (n.to_string(), v.to_string()));
            assert_eq!(got.clone().ok(), expected, "{text:?}: {got:?}");
        }
    }

    #[test]
    fn status_and_headers_reach_the_config() {
        let cli = Cli::try_parse_from([
            "hello-reactor",
            "--status",
            "404",
            "--header",
            "X-One: 1",
            "--header",
            "X-Two: 2",
        ])
        .unwrap();
        let config = cli.into_config().unwrap();
        assert_eq!(config.status.code(), 404);
        assert_eq!(
            config.headers,
            [("X-One".into(), "1".into()), ("X-Two".into(), "2".into())]
        );
        for bad in ["199", "600", "99", "x", "-1", "2000"] {
            let err = Cli::try_parse_from(["hello-reactor", "--status", bad]);
            assert!(err.is_err(), "{bad}");
        }
    }

    #[test]
    fn bind_takes_an_address_or_a_unix_path() {
        let parse = |arg: &str| Cli::try_parse_from(["hello-reactor", "--bind", arg]);
        let config = parse("unix:/tmp/h.sock").unwrap().into_config().unwrap();
        assert_eq!(config.unix, Some(PathBuf::from("/tmp/h.sock")));
        let config = parse("[::1]:0").unwrap().into_config().unwrap();
        assert_eq!(
            (config.bind, config.unix),
            ("[::1]:0".parse().unwrap(), None)
        );
        for bad in ["unix:", "localhost", "/tmp/h.sock", "1.2.3.4"] {
            let err = parse(bad).unwrap_err();
            assert_eq!(err.kind(), ErrorKind::ValueValidation, "{bad}");
        }
    }

    #[test]
    fn body_and_body_file_conflict() {
        let err = Cli::try_parse_from(["hello-reactor", "--body", "a", "--body-file", "b"]);
        assert_eq!(err.unwrap_err().kind(), ErrorKind::ArgumentConflict);
    }

    #[test]
    fn a_missing_body_file_is_a_clear_error() {
        let cli =
            Cli::try_parse_from(["hello-reactor", "--body-file", "/nonexistent/body"]).unwrap();
        let message = cli.into_config().unwrap_err();
        assert!(
            message.contains("cannot read --body-file /nonexistent/body"),
            "{message}"
        );
    }
}
