//! The listening socket: built with socket2 (for the backlog), drained with `accept`.
//!
//! `accept` errors fall in three kinds, and the loop treats each differently:
//! - the queue is empty (`WouldBlock`): stop until the next readiness edge;
//! - the process or system is out of file descriptors (`EMFILE`, `ENFILE`) or kernel
//!   memory (`ENOBUFS`, `ENOMEM`): the pending connection stays queued and the same
//!   error would come back at once, so retrying now would spin. The loop pauses
//!   accepting for a short back-off instead, and never exits;
//! - the connection died in the queue (`ECONNABORTED`, `EPROTO`, ...): skip it.
//!
//! **Deferred accept (Linux).** By default the kernel hands a connection to `accept`
//! as soon as its handshake completes, although an HTTP client's first bytes are
//! still on their way: the server then pays a loop turn and an `epoll_ctl` to wait
//! for them. [`defer_accept`] sets `TCP_DEFER_ACCEPT`, so the kernel keeps the
//! half-made connection to itself until data arrives (or the period ends, after
//! which it is handed over anyway). A connection that `accept` returns then almost
//! always has its request waiting, and the loop reads it at once (see
//! `Server::add_connection`). A client that connects and stays silent costs the
//! kernel a small request socket instead of costing the server a slot.

use std::io;
use std::net::SocketAddr;
use std::path::Path;

use mio::net::{TcpListener, UnixListener};
use socket2::{Domain, SockAddr, Socket, Type};

use super::stream::{Listener, Peer, SocketFile, Stream};

/// Create a non-blocking listener bound to `addr` with the given backlog.
///
/// `SO_REUSEADDR` lets a restarted server bind while old connections sit in
/// `TIME_WAIT`; on Linux it does not let two servers share a port, so a taken port
/// still fails with `AddrInUse`.
pub fn bind(addr: SocketAddr, backlog: i32) -> io::Result<TcpListener> {
    Ok(TcpListener::from_std(bind_std(addr, backlog)?))
}

/// [`bind`], as a std listener: for workers that share it (`try_clone`), or hand
/// it to [`Server::from_listener`](crate::Server::from_listener).
pub fn bind_std(addr: SocketAddr, backlog: i32) -> io::Result<std::net::TcpListener> {
    let socket = Socket::new(Domain::for_address(addr), Type::STREAM, None)?;
    socket.set_reuse_address(true)?;
    socket.set_nonblocking(true)?;
    socket.bind(&addr.into())?;
    socket.listen(backlog)?;
    Ok(socket.into())
}

/// `n` listening sockets on one address, one per worker, each with `SO_REUSEPORT`
/// (Linux): the kernel hashes every new connection to one of their accept queues,
/// so the workers never contend for a connection and only the chosen one wakes.
///
/// `SO_REUSEPORT` would also let any other process of the same user join the group
/// silently and take a share of the connections. So the port is checked first,
/// exactly as a single server binds it: a probe socket with `SO_REUSEADDR` only is
/// bound (not listened on, so no client can land in it) and dropped. If anything
/// listens there, including another hello-reactor's group, the probe fails with
/// `AddrInUse`, the error a single server gives. The group then binds; from then on
/// another hello-reactor's probe fails against it. (Between the probe and the
/// group's first bind, a program that skips the probe could still slip in; none of
/// ours does.) With port 0 there is nothing to probe: the first socket gets a free
/// port and the others join it. (Linux's search for a free port never shares one
/// with a reuse-port group: `inet_csk_find_open_port` checks conflicts with
/// `reuseport_ok` false.)
#[cfg(any(target_os = "linux", target_os = "android"))]
pub fn bind_reuse_port_group(
    addr: SocketAddr,
    backlog: i32,
    n: usize,
) -> io::Result<Vec<std::net::TcpListener>> {
    if addr.port() != 0 {
        let probe = Socket::new(Domain::for_address(addr), Type::STREAM, None)?;
        probe.set_reuse_address(true)?;
        probe.bind(&addr.into())?;
    }
    let first = bind_reuse_port(addr, backlog)?;
    let addr = first.local_addr()?;
    let mut group = Vec::with_capacity(n);
    group.push(first);
    for _ in 1..n {
        group.push(bind_reuse_port(addr, backlog)?);
    }
    Ok(group)
}

#[cfg(any(target_os = "linux", target_os = "android"))]
fn bind_reuse_port(addr: SocketAddr, backlog: i32) -> io::Result<std::net::TcpListener> {
    let socket = Socket::new(Domain::for_address(addr), Type::STREAM, None)?;
    socket.set_reuse_address(true)?;
    socket.set_reuse_port(true)?;
    socket.set_nonblocking(true)?;
    socket.bind(&addr.into())?;
    socket.listen(backlog)?;
    Ok(socket.into())
}

/// Create a non-blocking Unix domain stream listener at `path`.
///
/// A socket file left by a server that is gone (it crashed, or was killed) would
/// make `bind` fail with `AddrInUse` forever. So when the path is taken, connect to
/// it: refused (`ECONNREFUSED`: a socket file nobody listens on) means stale, and it
/// is replaced; anything else (a live server, or a path that is not a socket at all)
/// is left alone and the `AddrInUse` stands. The file is removed on a clean exit
/// (see [`SocketFile`]).
pub fn bind_unix(path: &Path, backlog: i32) -> io::Result<Listener> {
    let socket = Socket::new(Domain::UNIX, Type::STREAM, None)?;
    socket.set_nonblocking(true)?;
    let addr = SockAddr::unix(path)?;
    match socket.bind(&addr) {
        Err(e) if e.kind() == io::ErrorKind::AddrInUse && is_stale_socket(path) => {
            log::info!("replacing the stale socket file {}", path.display());
            std::fs::remove_file(path)?;
            socket.bind(&addr)?;
        }
        result => result?,
    }
    let file = SocketFile::new(path)?; // from here on, a failure removes the file
    socket.listen(backlog)?;
    let listener = UnixListener::from_std(socket.into());
    Ok(Listener::Unix(listener, Some(file)))
}

/// A socket file that refuses connections: nobody listens on it any more.
fn is_stale_socket(path: &Path) -> bool {
    use std::os::unix::fs::FileTypeExt;
    let is_socket = std::fs::symlink_metadata(path).is_ok_and(|m| m.file_type().is_socket());
    is_socket
        && std::os::unix::net::UnixStream::connect(path)
            .is_err_and(|e| e.kind() == io::ErrorKind::ConnectionRefused)
}

/// Ask the kernel to hold new connections until their first data arrives, for at
/// most about `secs` seconds (rounded up to its SYN-ACK retransmission schedule).
/// Linux only; elsewhere it fails with [`io::ErrorKind::Unsupported`].
#[cfg(any(target_os = "linux", target_os = "android"))]
pub fn defer_accept(listener: &TcpListener, secs: u32) -> io::Result<()> {
    use std::os::fd::AsRawFd;
    let value = libc::c_int::try_from(secs).unwrap_or(libc::c_int::MAX);
    // SAFETY: `setsockopt` reads exactly `optlen` bytes from `optval`, which points
    // to `value`, a live `c_int` on this stack frame, and `optlen` is its size. The
    // fd is the listener's, open for the whole call because we borrow the listener.
    let result = unsafe {
        libc::setsockopt(
            listener.as_raw_fd(),
            libc::IPPROTO_TCP,
            libc::TCP_DEFER_ACCEPT,
            std::ptr::from_ref(&value).cast::<libc::c_void>(),
            std::mem::size_of::<libc::c_int>() as libc::socklen_t,
        )
    };
    if result == 0 {
        Ok(())
    } else {
        Err(io::Error::last_os_error())
    }
}

/// Ask the kernel to hold new connections until their first data arrives: only
/// Linux has `TCP_DEFER_ACCEPT`.
#[cfg(not(any(target_os = "linux", target_os = "android")))]
pub fn defer_accept(_listener: &TcpListener, _secs: u32) -> io::Result<()> {
    Err(io::Error::new(
        io::ErrorKind::Unsupported,
        "TCP_DEFER_ACCEPT is Linux only",
    ))
}

/// The outcome of one `accept`.
#[derive(Debug)]
pub enum Accepted {
    /// A new connection.
    Stream(Stream, Peer),
    /// No connection is waiting.
    Drained,
    /// Out of file descriptors or kernel memory: back off, then retry.
    Exhausted(io::Error),
    /// This connection failed before we got it; try the next one.
    Skipped(io::Error),
}

/// Accept one connection and classify the result.
pub fn accept(listener: &Listener) -> Accepted {
    match listener.accept() {
        Ok((stream, peer)) => Accepted::Stream(stream, peer),
        Err(e) if e.kind() == io::ErrorKind::WouldBlock => Accepted::Drained,
        Err(e) if is_exhaustion(&e) => Accepted::Exhausted(e),
        Err(e) => Accepted::Skipped(e),
    }
}

/// The errno values differ between systems (`ENOBUFS` is 105 on Linux, 55 on macOS
/// and the BSDs), so they come from `libc`, never written by hand.
fn is_exhaustion(error: &io::Error) -> bool {
    matches!(
        error.raw_os_error(),
        Some(libc::EMFILE | libc::ENFILE | libc::ENOMEM | libc::ENOBUFS)
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    fn tcp(addr: &str) -> Listener {
        Listener::Tcp(bind(addr.parse().unwrap(), 16).unwrap())
    }

    #[test]
    fn a_taken_port_is_addr_in_use() {
        let first = bind("127.0.0.1:0".parse().unwrap(), 16).unwrap();
        let addr = first.local_addr().unwrap();
        let err = bind(addr, 16).unwrap_err();
        assert_eq!(err.kind(), io::ErrorKind::AddrInUse);
    }

    #[cfg(any(target_os = "linux", target_os = "android"))]
    #[test]
    fn a_reuse_port_group_shares_a_port_and_checks_it_first() {
        let group = bind_reuse_port_group("127.0.0.1:0".parse().unwrap(), 16, 3).unwrap();
        let addr = group[0].local_addr().unwrap();
        assert_ne!(addr.port(), 0);
        assert!(group.iter().all(|l| l.local_addr().unwrap() == addr));
        // Taken by the group: a plain bind and a second group both fail.
        assert_eq!(bind(addr, 16).unwrap_err().kind(), io::ErrorKind::AddrInUse);
        let err = bind_reuse_port_group(addr, 16, 2).unwrap_err();
        assert_eq!(err.kind(), io::ErrorKind::AddrInUse);
        // Taken by a plain listener: the group fails too.
        let plain = bind("127.0.0.1:0".parse().unwrap(), 16).unwrap();
        let err = bind_reuse_port_group(plain.local_addr().unwrap(), 16, 2).unwrap_err();
        assert_eq!(err.kind(), io::ErrorKind::AddrInUse);
    }

    #[test]
    fn an_empty_queue_is_drained_and_a_client_is_accepted() {
        let listener = tcp("127.0.0.1:0");
        let Ok(super::super::stream::Endpoint::Tcp(addr)) = listener.endpoint() else {
            panic!("not TCP");
        };
        assert!(matches!(accept(&listener), Accepted::Drained));
        let _client = std::net::TcpStream::connect(addr).unwrap();
        let deadline = std::time::Instant::now() + std::time::Duration::from_secs(5);
        loop {
            match accept(&listener) {
                Accepted::Stream(..) => break,
                Accepted::Drained if std::time::Instant::now() < deadline => {}
                other => panic!("unexpected {other:?}"),
            }
        }
    }

    /// With the option set, a connection that sends nothing is not handed to
    /// `accept` (within the 1 s period); one that sends is, with its data waiting.
    #[cfg(any(target_os = "linux", target_os = "android"))]
    #[test]
    fn a_deferred_listener_hands_over_only_connections_with_data() {
        use std::io::{Read, Write};
        use std::time::{Duration, Instant};
        let listener = bind("127.0.0.1:0".parse().unwrap(), 16).unwrap();
        defer_accept(&listener, 1).unwrap();
        let addr = listener.local_addr().unwrap();
        let listener = Listener::Tcp(listener);
        let _silent = std::net::TcpStream::connect(addr).unwrap();
        std::thread::sleep(Duration::from_millis(200));
        assert!(
            matches!(accept(&listener), Accepted::Drained),
            "a silent connection was handed over"
        );
        let mut speaking = std::net::TcpStream::connect(addr).unwrap();
        speaking.write_all(b"GET").unwrap();
        let deadline = Instant::now() + Duration::from_millis(500);
        let mut stream = loop {
            match accept(&listener) {
                Accepted::Stream(stream, _) => break stream,
                Accepted::Drained if Instant::now() < deadline => {
                    std::thread::sleep(Duration::from_millis(5))
                }
                other => panic!("unexpected {other:?}"),
            }
        };
        let mut first = [0u8; 3];
        assert_eq!(stream.read(&mut first).unwrap(), 3, "no data waiting");
        assert_eq!(&first, b"GET");
    }

    #[test]
    fn fd_exhaustion_is_recognised() {
        for errno in [libc::EMFILE, libc::ENFILE, libc::ENOMEM, libc::ENOBUFS] {
            assert!(
                is_exhaustion(&io::Error::from_raw_os_error(errno)),
                "{errno}"
            );
        }
        assert!(!is_exhaustion(&io::Error::from_raw_os_error(
            libc::ECONNABORTED
        )));
    }
}

#[cfg(test)]
mod unix_tests {
    use super::*;

    fn temp_path(name: &str) -> std::path::PathBuf {
        std::env::temp_dir().join(format!("hello-reactor-{}-{name}.sock", std::process::id()))
    }

    #[test]
    fn a_stale_socket_file_is_replaced_and_a_live_one_is_addr_in_use() {
        let path = temp_path("stale");
        let _ = std::fs::remove_file(&path);
        // A socket file nobody listens on: bound, then its listener forgotten.
        drop(std::os::unix::net::UnixListener::bind(&path).unwrap());
        assert!(path.exists());
        let live = bind_unix(&path, 16).expect("a stale socket file is replaced");
        let err = bind_unix(&path, 16).unwrap_err();
        assert_eq!(err.kind(), io::ErrorKind::AddrInUse);
        drop(live);
        assert!(!path.exists(), "the socket file outlived its listener");
    }

    #[test]
    fn a_path_that_is_not_a_socket_is_left_alone() {
        let path = temp_path("plain");
        std::fs::write(&path, b"not a socket").unwrap();
        let err = bind_unix(&path, 16).unwrap_err();
        assert_eq!(err.kind(), io::ErrorKind::AddrInUse);
        assert_eq!(std::fs::read(&path).unwrap(), b"not a socket");
        std::fs::remove_file(&path).unwrap();
    }
}
