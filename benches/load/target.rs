//! What the bench loads: an external server given by `--url` (loopback only), or
//! hello-reactor started in this process; and the fd limit both need.

use std::net::{IpAddr, Ipv4Addr, Ipv6Addr, SocketAddr};

/// File descriptors kept spare beyond the sockets (stdio, epoll, listener, ...).
pub const SPARE_FDS: u64 = 64;

/// Raise the soft fd limit to `need` (and, as root, the hard limit too).
pub fn raise_fd_limit(need: u64) -> Result<(), String> {
    let mut got = rlimit::increase_nofile_limit(need).map_err(|e| format!("fd limit: {e}"))?;
    if got < need && rlimit::Resource::NOFILE.set(need, need).is_ok() {
        got = need;
    }
    if got < need {
        return Err(format!(
            "need {need} file descriptors but the limit is {got}; use fewer --connections, \
             raise the hard limit (ulimit -Hn), or run the server in another process (--url)"
        ));
    }
    Ok(())
}

/// `http://HOST[:PORT][/PATH]` with a loopback HOST → (address, Host header, path).
pub fn parse_url(url: &str) -> Result<(SocketAddr, String, String), String> {
    let bad = |why: &str| format!("--url {url:?}: {why}");
    let rest = url
        .strip_prefix("http://")
        .ok_or_else(|| bad("only http:// URLs are supported"))?;
    let (authority, path) = match rest.find('/') {
        Some(i) => (&rest[..i], &rest[i..]),
        None => (rest, "/"),
    };
    let (host, port) = if let Some(v6) = authority.strip_prefix('[') {
        let (ip, after) = v6.split_once(']').ok_or_else(|| bad("unclosed '['"))?;
        (
            &authority[..ip.len() + 2],
            after.strip_prefix(':').unwrap_or(after),
        )
    } else {
        match authority.rsplit_once(':') {
            Some((h, p)) => (h, p),
            None => (authority, ""),
        }
    };
    let port: u16 = if port.is_empty() {
        80
    } else {
        port.parse().map_err(|_| bad("bad port"))?
    };
    let ip: IpAddr = match host {
        "localhost" => IpAddr::V4(Ipv4Addr::LOCALHOST),
        h if h.starts_with('[') => h[1..h.len() - 1]
            .parse::<Ipv6Addr>()
            .map(IpAddr::V6)
            .map_err(|_| bad("bad IPv6 address"))?,
        h => h
            .parse::<Ipv4Addr>()
            .map(IpAddr::V4)
            .map_err(|_| bad("host must be an IP literal or localhost"))?,
    };
    if !ip.is_loopback() {
        return Err(bad(
            "refusing a non-loopback address: this bench loads 127.0.0.1/::1 only",
        ));
    }
    Ok((
        SocketAddr::new(ip, port),
        host.to_string(),
        path.to_string(),
    ))
}

/// The in-process server, kept behind this one small module so the rest of the
/// bench does not depend on the library's API (only `Config`, `Server::bind`,
/// `spawn`, `addr` and `stop` are used, and no type is named but `Config`/`Server`).
pub mod inprocess {
    use std::io;
    use std::net::SocketAddr;

    use hello_reactor::{Config, Server};

    /// A hello-reactor running on its own thread in this process.
    pub struct InProcess {
        addr: SocketAddr,
        stop: Box<dyn FnOnce() -> io::Result<String>>,
    }

    impl InProcess {
        pub fn addr(&self) -> SocketAddr {
            self.addr
        }
    }

    /// Start hello-reactor on a free port of 127.0.0.1, on its own thread.
    pub fn start() -> io::Result<InProcess> {
        let config = Config {
            bind: "127.0.0.1:0".parse().expect("valid address"),
            ..Config::default()
        };
        let running = Server::bind(config)?.spawn()?;
        Ok(InProcess {
            addr: running.addr(),
            stop: Box::new(move || running.stop().map(|summary| summary.to_string())),
        })
    }

    /// Stop it, join its thread, and describe what it did.
    pub fn stop(server: InProcess) -> io::Result<String> {
        (server.stop)()
    }
}
