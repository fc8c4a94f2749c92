//! What hello-load loads: any `http://` URL (a host name is resolved once, with the
//! standard library's resolver), or hello-reactor started in this process; the
//! check that the target answers at all; and the fd limit the sockets need.

use std::io;
use std::net::{SocketAddr, TcpStream, ToSocketAddrs};
use std::time::Duration;

/// File descriptors kept spare beyond the sockets (stdio, epoll, listener, ...).
pub const SPARE_FDS: u64 = 64;

/// How long the first connection, the one that checks the target, may take.
const PROBE_TIMEOUT: Duration = Duration::from_secs(3);

/// Raise the soft fd limit to `need` (and, as root, the hard limit too).
pub fn raise_fd_limit(need: u64) -> Result<(), String> {
    let mut got = rlimit::increase_nofile_limit(need).map_err(|e| format!("fd limit: {e}"))?;
    if got < need && rlimit::Resource::NOFILE.set(need, need).is_ok() {
        got = need;
    }
    if got < need {
        return Err(format!(
            "need {need} file descriptors but the limit is {got}; use fewer --connections \
             or raise the hard limit (ulimit -Hn)"
        ));
    }
    Ok(())
}

/// A parsed `http://` URL: what to connect to and what to ask for.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Url {
    /// The URL as given.
    pub text: String,
    /// Host name or address, without brackets around an IPv6 literal.
    pub host: String,
    pub port: u16,
    /// The `Host` header: the authority as written in the URL.
    pub authority: String,
    /// Path and query, at least `/`.
    pub path: String,
}

impl Url {
    /// Parse `http://HOST[:PORT][/PATH][?QUERY]`; a fragment is dropped. Used as
    /// clap's value parser, so a malformed URL is a usage error (exit status 2).
    pub fn parse(text: &str) -> Result<Url, String> {
        let rest = text
            .strip_prefix("http://")
            .ok_or("only http:// URLs are supported")?;
        let rest = rest.split('#').next().unwrap_or_default();
        let end = rest.find(['/', '?']).unwrap_or(rest.len());
        let (authority, path) = rest.split_at(end);
        if authority.contains('@') {
            return Err("user names in URLs are not supported".into());
        }
        let (host, port) = if let Some(v6) = authority.strip_prefix('[') {
            let (ip, after) = v6.split_once(']').ok_or("unclosed '[' in the host")?;
            match after {
                "" => (ip, None),
                _ => (
                    ip,
                    Some(
                        after
                            .strip_prefix(':')
                            .ok_or("junk after ']' in the host")?,
                    ),
                ),
            }
        } else {
            match authority.split_once(':') {
                Some((h, p)) => (h, Some(p)),
                None => (authority, None),
            }
        };
        if host.is_empty() {
            return Err("no host in the URL".into());
        }
        let port = match port {
            None | Some("") => 80,
            Some(p) => p.parse().map_err(|_| format!("bad port {p:?}"))?,
        };
        let path = match path {
            "" => "/".to_string(),
            p if p.starts_with('?') => format!("/{p}"),
            p => p.to_string(),
        };
        if path.bytes().any(|b| b <= b' ' || b == 0x7f) {
            return Err("spaces or control characters in the path".into());
        }
        Ok(Url {
            text: text.to_string(),
            host: host.to_string(),
            port,
            authority: authority.to_string(),
            path,
        })
    }

    /// Resolve the host (the first address the resolver gives).
    pub fn resolve(&self) -> Result<SocketAddr, String> {
        (self.host.as_str(), self.port)
            .to_socket_addrs()
            .map_err(|e| format!("cannot resolve {:?}: {e}", self.host))?
            .next()
            .ok_or_else(|| format!("{:?} resolves to no address", self.host))
    }
}

/// Connect once, blocking, before the load starts: a target that refuses or does
/// not answer is then reported in one line instead of as N failed connections.
pub fn probe(addr: SocketAddr) -> io::Result<()> {
    TcpStream::connect_timeout(&addr, PROBE_TIMEOUT).map(drop)
}

/// The in-process server, kept behind this one small module so the rest of the
/// tool does not depend on the library's API (only `Config`, `Server::bind`,
/// `spawn`, `addr`, `shutdown` and `Summary::requests` are used).
pub mod inprocess {
    use std::io;
    use std::net::SocketAddr;

    use hello_reactor::{Config, Server};

    /// A hello-reactor running on its own thread in this process.
    pub struct InProcess {
        addr: SocketAddr,
        stop: Box<dyn FnOnce() -> io::Result<u64>>,
    }

    impl InProcess {
        pub fn addr(&self) -> SocketAddr {
            self.addr
        }
    }

    /// Start hello-reactor on a free port of 127.0.0.1, on its own thread.
    pub fn start() -> io::Result<InProcess> {
        let config = Config {
            bind: SocketAddr::from(([127, 0, 0, 1], 0)),
            ..Config::default()
        };
        let running = Server::bind(config)?.spawn()?;
        Ok(InProcess {
            addr: running.addr(),
            stop: Box::new(move || running.shutdown().map(|summary| summary.requests)),
        })
    }

    /// Shut it down gracefully, join its thread, and return how many requests it
    /// answered.
    pub fn stop(server: InProcess) -> io::Result<u64> {
        (server.stop)()
    }
}

#[cfg(test)]
mod tests {
    use super::Url;

    #[test]
    fn urls() {
        let u = Url::parse("http://localhost:8080/a?b=c#frag").unwrap();
        assert_eq!(
            (
                u.host.as_str(),
                u.port,
                u.authority.as_str(),
                u.path.as_str()
            ),
            ("localhost", 8080, "localhost:8080", "/a?b=c")
        );
        let u = Url::parse("http://[::1]:81").unwrap();
        assert_eq!((u.host.as_str(), u.port, u.path.as_str()), ("::1", 81, "/"));
        let u = Url::parse("http://example.org?x").unwrap();
        assert_eq!((u.port, u.path.as_str()), (80, "/?x"));
        for bad in [
            "https://x/",
            "x:80",
            "http://",
            "http://:80/",
            "http://a:b/",
            "http://a:70000/",
            "http://u@a/",
            "http://[::1/",
            "http://a/b c",
        ] {
            assert!(Url::parse(bad).is_err(), "{bad}");
        }
    }
}
