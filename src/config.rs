//! What the server is told: the command line (clap) and the [`Config`] it becomes.
//!
//! Every limit the server enforces has a flag here and a default chosen for a server
//! that faces untrusted clients; `docs/limits.md` gives the reason for each. The
//! library takes a [`Config`] (plain data, `Default` gives the CLI defaults) so that
//! tests and benchmarks can build a server without going through the command line.

use std::net::SocketAddr;
use std::path::PathBuf;
use std::time::Duration;

use clap::error::ErrorKind;
use clap::{CommandFactory, Parser};

/// Everything a [`Server`](crate::Server) needs to know.
#[derive(Debug, Clone, PartialEq)]
pub struct Config {
    /// Address to listen on; port 0 picks a free port.
    pub bind: SocketAddr,
    /// Listen on this Unix domain socket instead of `bind` (`--bind unix:PATH`).
    pub unix: Option<PathBuf>,
    /// The body of every `200 OK`.
    pub body: Vec<u8>,
    /// Its `Content-Type`.
    pub content_type: String,
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
}

impl Default for Config {
    fn default() -> Config {
        Config {
            bind: SocketAddr::from(([127, 0, 0, 1], 8888)),
            unix: None,
            body: b"Hello, World!".to_vec(),
            content_type: "text/plain; charset=utf-8".to_string(),
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
    /// Address to listen on: IP:PORT (port 0 picks a free port) or unix:PATH
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
    #[arg(long, value_name = "TYPE", default_value = "text/plain; charset=utf-8")]
    pub content_type: String,
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
}

/// What `--bind` names: a TCP address, or `unix:PATH` for a Unix domain socket.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Bind {
    /// `IP:PORT`.
    Tcp(SocketAddr),
    /// `unix:PATH`.
    Unix(PathBuf),
}

fn parse_bind(text: &str) -> Result<Bind, String> {
    match text.strip_prefix("unix:") {
        Some("") => Err("`unix:` needs a path, as in unix:/run/hello-reactor.sock".into()),
        Some(path) => Ok(Bind::Unix(PathBuf::from(path))),
        None => text
            .parse()
            .map(Bind::Tcp)
            .map_err(|_| format!("`{text}` is neither IP:PORT nor unix:PATH")),
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

impl Cli {
    /// Parse the process arguments into a [`Config`]; on a bad flag print the error and
    /// a usage line and exit with status 2 (clap's convention).
    pub fn parse_config() -> Config {
        let cli = Cli::parse();
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
        let (bind, unix) = match self.bind {
            Bind::Tcp(addr) => (addr, None),
            Bind::Unix(path) => (Config::default().bind, Some(path)),
        };
        Ok(Config {
            bind,
            unix,
            body,
            content_type: self.content_type,
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
