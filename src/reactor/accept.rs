//! Accepting: drain the listener, serve a new connection at once when the kernel
//! deferred its accept, register the rest, and back off when descriptors run out.
//!
//! The order inside `add_connection` is the point of this file: a connection is read
//! (when its request is already there) *before* it is registered, because a
//! `Connection: close` request answered then needs no registration at all, and
//! registering after the read loses nothing (the reactor's module docs: registering
//! late loses no edge).

use std::io;
use std::sync::Arc;

use log::{debug, trace, warn};
use mio::{Interest, Token};

use super::calls::after_call;
use super::driver::{Connection, Next, Readiness};
use super::metrics::CloseReason;
use super::stream::{Endpoint, Listener, Peer, Stream};
use super::tls::TlsStream;
use super::{LISTENER, Server, listener, new_core};
use crate::certs::Tls;
use crate::config::Config;
use crate::reactor::listener::Accepted;

/// Most connections accepted in one go. With deferred accept each one is also read
/// and answered at once, so a flood of new clients (each `Connection: close`, and
/// reconnecting as fast as it is answered) could otherwise keep the loop accepting
/// while established connections wait for their turn.
pub const ACCEPTS_PER_TURN: usize = 128;

/// How long accepting pauses after `EMFILE`/`ENFILE`.
const ACCEPT_BACKOFF_MS: u64 = 100;
/// At most one fd-exhaustion warning per this many milliseconds.
const FD_WARNING_EVERY_MS: u64 = 5_000;
/// At most one connection-cap warning per this many milliseconds.
const CAP_WARNING_EVERY_MS: u64 = 10_000;

/// The listener and what accepting needs to remember.
pub(super) struct Acceptor {
    /// `None` once a drain has closed it.
    pub(super) listener: Option<Listener>,
    pub(super) endpoint: Endpoint,
    /// The connection cap; `usize::MAX` when the caller set none.
    pub(super) max_connections: usize,
    /// `LISTENER` is on the deferred list.
    pub(super) queued: bool,
    /// Accepting is paused until this time (fd exhaustion back-off).
    pub(super) paused_until: Option<u64>,
    /// The connection cap was hit; accept again when a slot frees.
    at_cap: bool,
    /// The kernel defers accept until data arrives, so read a connection at accept.
    read_at_accept: bool,
    last_fd_warning: Option<u64>,
    last_cap_warning: Option<u64>,
    /// With `--tls-cert`: every new connection starts a TLS handshake.
    pub(super) tls: Option<Arc<Tls>>,
}

impl Acceptor {
    pub(super) fn new(listener: Listener, config: &Config) -> io::Result<Acceptor> {
        // TCP_DEFER_ACCEPT is TCP's: a Unix socket has no handshake to defer.
        let read_at_accept = match &listener {
            Listener::Tcp(tcp) => defer_accept(tcp, config.defer_accept),
            Listener::Unix(..) => false,
        };
        Ok(Acceptor {
            endpoint: listener.endpoint()?,
            read_at_accept,
            listener: Some(listener),
            max_connections: config.max_connections.unwrap_or(usize::MAX),
            queued: false,
            paused_until: None,
            at_cap: false,
            last_fd_warning: None,
            last_cap_warning: None,
            tls: config.tls.clone(),
        })
    }
}

/// Set `TCP_DEFER_ACCEPT` for `secs` (0: off); true if the kernel now defers.
fn defer_accept(listener: &mio::net::TcpListener, secs: u32) -> bool {
    if secs == 0 {
        return false;
    }
    match listener::defer_accept(listener, secs) {
        Ok(()) => true,
        Err(e) if e.kind() == io::ErrorKind::Unsupported => {
            debug!("deferred accept unavailable: {e}");
            false
        }
        Err(e) => {
            warn!("cannot defer accept ({e}); new connections wait for their first event");
            false
        }
    }
}

impl Server {
    /// Accept until the queue is empty, the connection cap is reached or the
    /// process runs out of descriptors; but at most [`ACCEPTS_PER_TURN`] at a time.
    pub(super) fn accept_some(&mut self) {
        for _ in 0..ACCEPTS_PER_TURN {
            if self.accept.paused_until.is_some() {
                return;
            }
            let Some(listener) = self.accept.listener.as_ref() else {
                return;
            };
            if self.connections.len() >= self.accept.max_connections {
                self.warn_at_cap();
                self.accept.at_cap = true;
                return;
            }
            match listener::accept(listener) {
                Accepted::Stream(stream, peer) => self.add_connection(stream, peer),
                Accepted::Drained => return,
                Accepted::Exhausted(e) => self.back_off_accepting(e),
                Accepted::Skipped(e) => debug!("accept: {e}"),
            }
        }
        // The budget is spent and clients may still be queued. The listener's edge
        // will not come again for them, so go on from the deferred list, after the
        // events already waiting for the connections we have.
        if !self.accept.queued {
            trace!("listener: {ACCEPTS_PER_TURN} accepted, the rest next turn");
            self.accept.queued = true;
            self.deferred.push(LISTENER);
        }
    }

    /// After a turn: accept again if a back-off ended or a slot freed under the cap.
    pub(super) fn resume_accepting(&mut self) {
        let now = self.data.now;
        if self.accept.paused_until.is_some_and(|until| now >= until) {
            self.accept.paused_until = None;
            self.accept_some();
        }
        if self.accept.at_cap && self.connections.len() < self.accept.max_connections {
            self.accept.at_cap = false;
            self.accept_some();
        }
    }

    /// A new connection: served at once if its request is (likely) already here,
    /// then registered unless it is already done.
    fn add_connection(&mut self, stream: Stream, peer: Peer) {
        // The key `insert` will use: the token this connection's events will carry.
        let key = self.connections.vacant_key();
        let id = self.data.id(key);
        let stream = match &self.accept.tls {
            None => stream,
            Some(tls) => match TlsStream::new(stream, tls, self.handshake_deadline(), id) {
                Ok(tls) => Stream::Tls(Box::new(tls)),
                Err(e) => {
                    warn!("{id}: cannot start TLS: {e}");
                    return;
                }
            },
        };
        let (core, sniff) = new_core(&self.data, self.accept.tls.is_some());
        let mut conn = Connection::new(stream, core, sniff);
        self.data.common.stats.connections += 1;
        debug!(
            "{id}: accepted from {peer} ({} open)",
            self.connections.len() + 1
        );
        // With deferred accept the kernel handed this socket over because its first
        // bytes arrived: read them now rather than after a turn of the loop. A
        // `Connection: close` request is then answered and closed before the socket
        // is ever registered. Without it, the read would nearly always find nothing.
        let next = if self.accept.read_at_accept {
            trace!("{id}: reading at accept");
            conn.ready(&mut self.data.context(key), Readiness::FRESH)
        } else {
            Next::Keep
        };
        if next == Next::Close {
            self.data.io.close(conn.close_reason());
            debug!("{id}: closed ({} open)", self.connections.len());
            return;
        }
        // Readable only: a new socket is writable at once, and asking for that edge
        // would cost every connection an event that says nothing.
        let interest = if conn.needs_writable_interest() {
            conn.writable_interest_added();
            Interest::READABLE | Interest::WRITABLE
        } else {
            Interest::READABLE
        };
        if let Err(e) = self
            .poll
            .registry()
            .register(conn.stream_mut(), Token(key), interest)
        {
            warn!("{id}: cannot register: {e}");
            self.data.io.close(CloseReason::Error);
            return;
        }
        // Not `Close` (returned above): at most a yield to queue.
        after_call(
            &self.poll,
            &mut self.deferred,
            &mut self.timers,
            &mut conn,
            Token(key),
            next,
        );
        let inserted = self.connections.insert(conn);
        debug_assert_eq!(inserted, key);
    }

    /// A handshake starting now must end within the header timeout.
    fn handshake_deadline(&self) -> u64 {
        self.data.now + self.data.common.timeouts.header
    }

    /// At the cap with the listener readable (an edge, or accepting left off with
    /// clients queued): they wait in the kernel's backlog, unseen by any log below
    /// debug unless said here. Once per [`CAP_WARNING_EVERY_MS`], at the default level.
    fn warn_at_cap(&mut self) {
        let now = self.data.now;
        let quiet = self
            .accept
            .last_cap_warning
            .is_some_and(|at| now < at + CAP_WARNING_EVERY_MS);
        if quiet {
            return;
        }
        self.accept.last_cap_warning = Some(now);
        warn!(
            "at the connection cap ({} open): new clients wait in the listen backlog \
             (raise --max-connections or the fd limit; next warning in 10 s at the earliest)",
            self.accept.max_connections
        );
    }

    fn back_off_accepting(&mut self, error: io::Error) {
        let now = self.data.now;
        self.data.common.stats.accept_fd_exhausted += 1;
        self.accept.paused_until = Some(now + ACCEPT_BACKOFF_MS);
        let quiet = self
            .accept
            .last_fd_warning
            .is_some_and(|at| now < at + FD_WARNING_EVERY_MS);
        if !quiet {
            self.accept.last_fd_warning = Some(now);
            warn!(
                "accept: {error}; pausing accepts for {ACCEPT_BACKOFF_MS} ms ({} open connections, {} times so far)",
                self.connections.len(),
                self.data.common.stats.accept_fd_exhausted
            );
        }
    }
}
