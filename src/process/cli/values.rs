//! What each flag's value may be: the parsers clap calls, each with its range and
//! the message a wrong value gets (the caller exits 2 with a usage line).

use std::net::{SocketAddr, ToSocketAddrs};
use std::path::PathBuf;
use std::time::Duration;

use crate::protocol::response::{check_field_value, check_header};

/// Most workers accepted: more threads than this is a typo, not a machine.
const MAX_WORKERS: usize = 1024;

/// Parse `--workers`: `auto` (the CPUs this process may run on) or 1 to 1024.
pub(super) fn parse_workers(text: &str) -> Result<usize, String> {
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
pub(super) fn parse_secs(text: &str) -> Result<Duration, String> {
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
pub(super) fn parse_delay(text: &str) -> Result<(Duration, Duration), String> {
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
pub(super) fn parse_rate(text: &str) -> Result<f64, String> {
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
pub(super) fn parse_bind(text: &str) -> Result<Bind, String> {
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
pub(super) fn parse_header(text: &str) -> Result<(String, String), String> {
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
pub(super) fn parse_content_type(text: &str) -> Result<String, String> {
    if text.is_empty() {
        return Err("the content type cannot be empty".to_string());
    }
    check_field_value(text)?;
    Ok(text.to_string())
}
