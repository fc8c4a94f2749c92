//! The two kinds of socket the reactor serves: TCP and Unix domain stream sockets.
//!
//! A server behind a local reverse proxy (nginx `proxy_pass http://unix:/run/…`,
//! HAProxy, Envoy) or a benchmark that wants no TCP stack in the way listens on a
//! Unix socket. The protocol is the same byte stream, so only the socket calls
//! differ, and they differ in three places: `accept` (a Unix peer has no address),
//! `TCP_NODELAY` and `TCP_DEFER_ACCEPT` (TCP only; a Unix socket has no Nagle and
//! no handshake to defer, so both are skipped).
//!
//! **An enum, not a generic or a trait object.** [`Stream`] and [`Listener`] hold one
//! of the two mio types. Each `read`/`write` is one `match` on a tag that never
//! changes for a connection, so the branch is always predicted: next to a system
//! call it costs nothing measurable. A generic `Server<S>` would remove even that
//! but double the code the compiler emits and force every user of `Server` (tests,
//! workers, benchmarks) to name a type parameter; a `Box<dyn>` would add an
//! allocation per connection and an indirect call per I/O. Both mio types are one
//! file descriptor (plus a selector id in debug builds), so the enum adds only its
//! tag to the slab entry, which fits in `Connection`'s existing padding (see the
//! size test in `driver.rs`).
//!
//! **Reads and writes are direct system calls on Linux.** glibc's `recv` and `send`
//! are cancellation points: once a process has a second thread (the workers, or
//! the signal thread beside them), glibc switches the thread's cancellation state
//! around every call (`__pthread_enable_asynccancel`). This server never cancels a
//! thread, so that is pure cost: with two workers, libc's share of the samples was
//! 2.7 % against 1.6 % for one. rustix issues the same `recvfrom`/`sendto` system
//! calls without the wrapper and without `unsafe` here. Elsewhere, `std`'s calls.

use std::fmt;
use std::io::{self, Read, Write};
use std::net::{Shutdown, SocketAddr};
use std::os::fd::{AsFd, BorrowedFd};
use std::path::{Path, PathBuf};

use mio::event::Source;
use mio::net::{TcpListener, TcpStream, UnixListener, UnixStream};
use mio::{Interest, Registry, Token};
#[cfg(target_os = "linux")]
use rustix::net::{RecvFlags, SendFlags};

use super::tls::TlsStream;

/// Where a server listens: a TCP address or a Unix socket path.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Endpoint {
    /// A TCP address (with the real port once bound).
    Tcp(SocketAddr),
    /// A Unix domain socket at this path (`None` for an unnamed inherited socket).
    Unix(Option<PathBuf>),
}

impl fmt::Display for Endpoint {
    /// `127.0.0.1:8888`, or `unix:/run/hello.sock` (the `--bind` syntax).
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Endpoint::Tcp(addr) => write!(f, "{addr}"),
            Endpoint::Unix(Some(path)) => write!(f, "unix:{}", path.display()),
            Endpoint::Unix(None) => write!(f, "unix:(unnamed)"),
        }
    }
}

/// A connection's socket.
#[derive(Debug)]
pub enum Stream {
    /// A TCP connection.
    Tcp(TcpStream),
    /// A Unix domain stream connection.
    Unix(UnixStream),
    /// TLS over either (`--tls-cert`): boxed, so that a plain connection's slab
    /// entry does not grow by rustls's state (see `tls.rs`).
    Tls(Box<TlsStream>),
}

impl Stream {
    /// `TCP_NODELAY`; a Unix socket has no Nagle algorithm, so nothing to do there.
    pub fn set_nodelay(&self, on: bool) -> io::Result<()> {
        match self {
            Stream::Tcp(s) => s.set_nodelay(on),
            Stream::Unix(_) => Ok(()),
            Stream::Tls(s) => s.socket().set_nodelay(on),
        }
    }

    /// Shut down one or both directions (over TLS, `close_notify` first).
    pub fn shutdown(&mut self, how: Shutdown) -> io::Result<()> {
        match self {
            Stream::Tcp(s) => s.shutdown(how),
            Stream::Unix(s) => s.shutdown(how),
            Stream::Tls(s) => s.shutdown(how),
        }
    }

    /// Output written but not yet in the socket: TLS records the socket did not
    /// take. The driver treats it as its own spilled output (see `tls.rs`).
    #[inline]
    pub fn pending_output(&self) -> bool {
        match self {
            Stream::Tls(s) => s.pending_output(),
            _ => false,
        }
    }

    /// TLS: the last read returned less than a full buffer with input still in
    /// the socket (plaintext is shorter than its records), so read again.
    #[inline]
    pub fn input_waits(&self) -> bool {
        match self {
            Stream::Tls(s) => s.input_waits(),
            _ => false,
        }
    }

    /// While a TLS handshake is under way: when it must be done (loop ms).
    #[inline]
    pub fn handshake_deadline(&self) -> Option<u64> {
        match self {
            Stream::Tls(s) => s.handshake_deadline(),
            _ => None,
        }
    }

    /// The TLS layer, if this is a TLS connection (for its ALPN protocol, say).
    pub fn tls(&self) -> Option<&TlsStream> {
        match self {
            Stream::Tls(s) => Some(s),
            _ => None,
        }
    }
}

impl AsFd for Stream {
    fn as_fd(&self) -> BorrowedFd<'_> {
        match self {
            Stream::Tcp(s) => s.as_fd(),
            Stream::Unix(s) => s.as_fd(),
            Stream::Tls(s) => s.socket().as_fd(),
        }
    }
}

/// On Linux: `recv(2)` issued directly (rustix), not through glibc's wrapper.
impl Read for Stream {
    #[cfg(target_os = "linux")]
    #[inline]
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        if let Stream::Tls(s) = self {
            return s.read(buf);
        }
        let (n, _) = rustix::net::recv(self.as_fd(), buf, RecvFlags::empty())?;
        Ok(n)
    }

    #[cfg(not(target_os = "linux"))]
    #[inline]
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        match self {
            Stream::Tcp(s) => s.read(buf),
            Stream::Unix(s) => s.read(buf),
            Stream::Tls(s) => s.read(buf),
        }
    }
}

/// On Linux: `send(2)` with `MSG_NOSIGNAL` issued directly (rustix), not through
/// glibc's wrapper; a peer that has gone gives `EPIPE`, never `SIGPIPE`.
impl Write for Stream {
    #[cfg(target_os = "linux")]
    #[inline]
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        if let Stream::Tls(s) = self {
            return s.write(buf);
        }
        Ok(rustix::net::send(self.as_fd(), buf, SendFlags::NOSIGNAL)?)
    }

    /// Used by TLS to send several queued records in one system call.
    #[cfg(target_os = "linux")]
    fn write_vectored(&mut self, bufs: &[io::IoSlice<'_>]) -> io::Result<usize> {
        if let Stream::Tls(s) = self {
            let buf = bufs
                .iter()
                .find(|b| !b.is_empty())
                .map_or(&[][..], |b| &**b);
            return s.write(buf);
        }
        let mut control = rustix::net::SendAncillaryBuffer::default();
        Ok(rustix::net::sendmsg(
            self.as_fd(),
            bufs,
            &mut control,
            SendFlags::NOSIGNAL,
        )?)
    }

    #[cfg(not(target_os = "linux"))]
    #[inline]
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        match self {
            Stream::Tcp(s) => s.write(buf),
            Stream::Unix(s) => s.write(buf),
            Stream::Tls(s) => s.write(buf),
        }
    }

    /// A socket has no user-space buffer; TLS sends the records it holds, and
    /// returns `WouldBlock` if some still wait.
    #[inline]
    fn flush(&mut self) -> io::Result<()> {
        match self {
            Stream::Tls(s) => s.flush(),
            _ => Ok(()),
        }
    }
}

impl Source for Stream {
    fn register(
        &mut self,
        registry: &Registry,
        token: Token,
        interest: Interest,
    ) -> io::Result<()> {
        match self {
            Stream::Tcp(s) => s.register(registry, token, interest),
            Stream::Unix(s) => s.register(registry, token, interest),
            Stream::Tls(s) => s.socket_mut().register(registry, token, interest),
        }
    }

    fn reregister(
        &mut self,
        registry: &Registry,
        token: Token,
        interest: Interest,
    ) -> io::Result<()> {
        match self {
            Stream::Tcp(s) => s.reregister(registry, token, interest),
            Stream::Unix(s) => s.reregister(registry, token, interest),
            Stream::Tls(s) => s.socket_mut().reregister(registry, token, interest),
        }
    }

    fn deregister(&mut self, registry: &Registry) -> io::Result<()> {
        match self {
            Stream::Tcp(s) => s.deregister(registry),
            Stream::Unix(s) => s.deregister(registry),
            Stream::Tls(s) => s.socket_mut().deregister(registry),
        }
    }
}

/// Who connected: a TCP peer's address; a Unix peer is normally unnamed.
#[derive(Debug)]
pub enum Peer {
    /// A TCP client.
    Tcp(SocketAddr),
    /// A Unix socket client.
    Unix,
}

impl fmt::Display for Peer {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Peer::Tcp(addr) => write!(f, "{addr}"),
            Peer::Unix => write!(f, "a Unix socket client"),
        }
    }
}

/// A listening socket of either kind.
#[derive(Debug)]
pub enum Listener {
    /// Listening on TCP.
    Tcp(TcpListener),
    /// Listening on a Unix socket; the file is removed when this is dropped if this
    /// process created it.
    Unix(UnixListener, Option<SocketFile>),
}

impl Listener {
    /// Accept one connection.
    pub fn accept(&self) -> io::Result<(Stream, Peer)> {
        match self {
            Listener::Tcp(l) => l.accept().map(|(s, a)| (Stream::Tcp(s), Peer::Tcp(a))),
            Listener::Unix(l, _) => l.accept().map(|(s, _)| (Stream::Unix(s), Peer::Unix)),
        }
    }

    /// Where it listens.
    pub fn endpoint(&self) -> io::Result<Endpoint> {
        match self {
            Listener::Tcp(l) => l.local_addr().map(Endpoint::Tcp),
            Listener::Unix(l, _) => {
                let addr = l.local_addr()?;
                Ok(Endpoint::Unix(addr.as_pathname().map(Path::to_path_buf)))
            }
        }
    }
}

impl Source for Listener {
    fn register(
        &mut self,
        registry: &Registry,
        token: Token,
        interest: Interest,
    ) -> io::Result<()> {
        match self {
            Listener::Tcp(l) => l.register(registry, token, interest),
            Listener::Unix(l, _) => l.register(registry, token, interest),
        }
    }

    fn reregister(
        &mut self,
        registry: &Registry,
        token: Token,
        interest: Interest,
    ) -> io::Result<()> {
        match self {
            Listener::Tcp(l) => l.reregister(registry, token, interest),
            Listener::Unix(l, _) => l.reregister(registry, token, interest),
        }
    }

    fn deregister(&mut self, registry: &Registry) -> io::Result<()> {
        match self {
            Listener::Tcp(l) => l.deregister(registry),
            Listener::Unix(l, _) => l.deregister(registry),
        }
    }
}

/// The socket file a Unix listener created, removed again when the listener is
/// dropped (at the start of a drain, or when the loop ends): a clean exit leaves no
/// stale file behind.
///
/// It is removed only if the path still names the same file (device and inode): if
/// a newer instance has meanwhile replaced it, the newer socket stays.
#[derive(Debug)]
pub struct SocketFile {
    path: PathBuf,
    id: (u64, u64),
}

impl SocketFile {
    /// Remember the socket file now at `path`.
    pub fn new(path: &Path) -> io::Result<SocketFile> {
        Ok(SocketFile {
            path: path.to_path_buf(),
            id: file_id(path)?,
        })
    }
}

impl Drop for SocketFile {
    fn drop(&mut self) {
        if file_id(&self.path).is_ok_and(|id| id == self.id) {
            let _ = std::fs::remove_file(&self.path);
        }
    }
}

fn file_id(path: &Path) -> io::Result<(u64, u64)> {
    use std::os::unix::fs::MetadataExt;
    let meta = std::fs::symlink_metadata(path)?;
    Ok((meta.dev(), meta.ino()))
}
