//! The listening socket: built with socket2 (for the backlog), drained with `accept`.
//!
//! `accept` errors fall in three kinds, and the loop treats each differently:
//! - the queue is empty (`WouldBlock`): stop until the next readiness edge;
//! - the process or system is out of file descriptors (`EMFILE`, `ENFILE`) or kernel
//!   memory (`ENOBUFS`, `ENOMEM`): the pending connection stays queued and the same
//!   error would come back at once, so retrying now would spin. The loop pauses
//!   accepting for a short back-off instead, and never exits;
//! - the connection died in the queue (`ECONNABORTED`, `EPROTO`, ...): skip it.

use std::io;
use std::net::SocketAddr;

use mio::net::{TcpListener, TcpStream};
use socket2::{Domain, Socket, Type};

/// Create a non-blocking listener bound to `addr` with the given backlog.
///
/// `SO_REUSEADDR` lets a restarted server bind while old connections sit in
/// `TIME_WAIT`; on Linux it does not let two servers share a port, so a taken port
/// still fails with `AddrInUse`.
pub fn bind(addr: SocketAddr, backlog: i32) -> io::Result<TcpListener> {
    let socket = Socket::new(Domain::for_address(addr), Type::STREAM, None)?;
    socket.set_reuse_address(true)?;
    socket.set_nonblocking(true)?;
    socket.bind(&addr.into())?;
    socket.listen(backlog)?;
    Ok(TcpListener::from_std(socket.into()))
}

/// The outcome of one `accept`.
#[derive(Debug)]
pub enum Accepted {
    /// A new connection.
    Stream(TcpStream, SocketAddr),
    /// No connection is waiting.
    Drained,
    /// Out of file descriptors or kernel memory: back off, then retry.
    Exhausted(io::Error),
    /// This connection failed before we got it; try the next one.
    Skipped(io::Error),
}

/// Accept one connection and classify the result.
pub fn accept(listener: &TcpListener) -> Accepted {
    match listener.accept() {
        Ok((stream, peer)) => Accepted::Stream(stream, peer),
        Err(e) if e.kind() == io::ErrorKind::WouldBlock => Accepted::Drained,
        Err(e) if is_exhaustion(&e) => Accepted::Exhausted(e),
        Err(e) => Accepted::Skipped(e),
    }
}

fn is_exhaustion(error: &io::Error) -> bool {
    const EMFILE: i32 = 24;
    const ENFILE: i32 = 23;
    const ENOMEM: i32 = 12;
    const ENOBUFS: i32 = 105;
    matches!(
        error.raw_os_error(),
        Some(EMFILE | ENFILE | ENOMEM | ENOBUFS)
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_taken_port_is_addr_in_use() {
        let first = bind("127.0.0.1:0".parse().unwrap(), 16).unwrap();
        let addr = first.local_addr().unwrap();
        let err = bind(addr, 16).unwrap_err();
        assert_eq!(err.kind(), io::ErrorKind::AddrInUse);
    }

    #[test]
    fn an_empty_queue_is_drained_and_a_client_is_accepted() {
        let listener = bind("127.0.0.1:0".parse().unwrap(), 16).unwrap();
        assert!(matches!(accept(&listener), Accepted::Drained));
        let _client = std::net::TcpStream::connect(listener.local_addr().unwrap()).unwrap();
        let deadline = std::time::Instant::now() + std::time::Duration::from_secs(5);
        loop {
            match accept(&listener) {
                Accepted::Stream(..) => break,
                Accepted::Drained if std::time::Instant::now() < deadline => {}
                other => panic!("unexpected {other:?}"),
            }
        }
    }

    #[test]
    fn fd_exhaustion_is_recognised() {
        assert!(is_exhaustion(&io::Error::from_raw_os_error(24)));
        assert!(is_exhaustion(&io::Error::from_raw_os_error(23)));
        assert!(!is_exhaustion(&io::Error::from_raw_os_error(103)));
    }
}
