//! Socket activation: serve a listening socket handed over by a service manager
//! (systemd's `LISTEN_FDS`/`LISTEN_PID` protocol) instead of binding one.
//!
//! Why: the service manager owns the socket, not the server. While the server
//! restarts (a new version, new flags, a crash), the socket stays open in the
//! manager, the kernel keeps completing handshakes into its backlog, and the next
//! instance accepts them: no client sees a refused connection. It also lets the
//! manager bind privileged ports and start the server on first use.
//!
//! The protocol: the manager passes `LISTEN_FDS` sockets starting at fd 3 and sets
//! `LISTEN_PID` to the server's pid. The `listenfd` crate reads it (checking
//! `LISTEN_PID`, and also accepting none, its extension for wrappers that cannot
//! know the pid; `LISTEN_FDS_FIRST_FD` moves the first fd), marks the fds
//! close-on-exec and removes the variables, so a child of the server would not
//! think the sockets are its own. Removing them is why [`inherited`] must run
//! before any other thread exists.
//!
//! One socket is served: the first. It may be TCP (IPv4 or IPv6) or a Unix stream
//! socket. `--bind` is then not used. An inherited Unix socket's file belongs to
//! the manager and is left in place at exit.
//!
//! Restarting without refusals needs the manager to hold the socket across the
//! restart, as systemd does for a `.socket` unit. `systemd-socket-activate` (the
//! test tool) does not: it waits for the first connection, then *execs* the server
//! in its own process, so the socket lives and dies with that one server. The
//! tests use it to check the protocol, and hold the socket themselves to check the
//! restart (`tests/activation.rs`).

use std::io;
use std::os::unix::net::UnixListener;

use listenfd::ListenFd;
use log::{info, warn};

use crate::config::Config;
use crate::reactor::Server;

/// A listening socket passed by the service manager.
#[derive(Debug)]
pub enum Inherited {
    /// A TCP listener.
    Tcp(std::net::TcpListener),
    /// A Unix domain stream listener.
    Unix(UnixListener),
}

impl Inherited {
    /// Another handle to the same socket (for another reactor).
    pub fn try_clone(&self) -> io::Result<Inherited> {
        Ok(match self {
            Inherited::Tcp(l) => Inherited::Tcp(l.try_clone()?),
            Inherited::Unix(l) => Inherited::Unix(l.try_clone()?),
        })
    }

    /// A reactor serving this socket.
    pub fn into_server(self, config: &Config) -> io::Result<Server> {
        match self {
            Inherited::Tcp(l) => Server::from_listener(l, config),
            Inherited::Unix(l) => Server::from_unix_listener(l, config),
        }
    }
}

/// The first socket the service manager passed, if it passed any. Call before any
/// thread is started (it edits the environment). An error names the bad fd.
pub fn inherited() -> io::Result<Option<Inherited>> {
    let mut fds = ListenFd::from_env();
    if fds.len() == 0 {
        return Ok(None);
    }
    if fds.len() > 1 {
        warn!(
            "{} sockets passed (LISTEN_FDS); serving the first, ignoring the rest",
            fds.len()
        );
    }
    let socket = match fds.take_tcp_listener(0) {
        Ok(Some(tcp)) => Inherited::Tcp(tcp),
        Ok(None) => return Ok(None),
        Err(_) => match fds.take_unix_listener(0)? {
            Some(unix) => Inherited::Unix(unix),
            None => return Ok(None),
        },
    };
    info!("serving the socket passed by the service manager (LISTEN_FDS); --bind is not used");
    Ok(Some(socket))
}
