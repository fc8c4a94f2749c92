//! The event loop: one thread, one `mio::Poll`, every socket registered with it.
//!
//! ```text
//!            +--------------------------------------------------------------+
//!            |                                                              |
//!            v                                                              |
//!   poll(timeout = next tick, or 0 if work was deferred)                    |
//!            |                                                              |
//!   read the clock once; patch Date if the second changed                   |
//!            |                                                              |
//!   for each event:  LISTENER -> accept until WouldBlock (or the cap);      |
//!                                serve each new one at once if deferred     |
//!                    WAKER    -> shutdown/stop asked by another thread      |
//!                    SIGNALS  -> SIGTERM/SIGINT: graceful shutdown          |
//!                    conn     -> look the token up again; ready() -> Next   |
//!            |                                                              |
//!   deferred connections (read budget spent) get another call              |
//!            |                                                              |
//!   tick: expire deadlines, resume accepting, log stats -------------------+
//! ```
//!
//! Ordering decisions:
//! - The clocks are read once per turn, after `poll` returns: the monotonic clock for
//!   deadlines and the wall clock for `Date`. Every handler in a turn agrees on
//!   "now", and no handler pays for a clock read. (`poll_timeout` reads the monotonic
//!   clock once more before sleeping, so time spent on the turn's events is not slept
//!   again.)
//! - Handlers never close themselves: they return [`Next`] and `Server::apply` acts
//!   after the call. A token may be stale (its connection closed earlier in the same
//!   turn, or its key reused), so every event looks its token up again; a spurious
//!   call is harmless because handlers only act on what the kernel reports.
//! - Accepting resumes after the events of a turn, so connections freed this turn make
//!   room for new ones before the next `poll`.
//! - Timeouts use one coarse sweep per tick instead of a timer per connection: a
//!   request costs one store of its deadline (O(1), no allocation), and the sweep
//!   costs a few nanoseconds per connection a few times a second.

use std::io;
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use log::{debug, info, trace, warn};
use mio::net::TcpListener;
use mio::{Events, Interest, Poll, Token, Waker};
use signal_hook::consts::{SIGINT, SIGTERM};
use signal_hook_mio::v1_0::Signals;
use slab::Slab;

use crate::config::Config;
use crate::connection::{Connection, Next, Readiness};
use crate::handle::{Control, Running, ServerHandle};
use crate::listener;
use crate::protocol::stats::Summary;
use crate::shared::{Clock, Shared};

mod accept;
mod shutdown;

pub use accept::ACCEPTS_PER_TURN;
use accept::{default_max_connections, defer_accept};

const LISTENER: Token = Token(usize::MAX);
const WAKER: Token = Token(usize::MAX - 1);
const SIGNALS: Token = Token(usize::MAX - 2);

/// File descriptors kept free for the listener, poll, waker, signals, logs.
pub const RESERVED_FDS: usize = 32;

/// A bound server, ready to [`run`](Server::run) or [`spawn`](Server::spawn).
pub struct Server {
    poll: Poll,
    listener: Option<TcpListener>,
    local_addr: SocketAddr,
    connections: Slab<Connection>,
    max_connections: usize,
    shared: Shared,
    clock: Clock,
    control: Arc<Control>,
    signals: Option<Signals>,
    /// Connections whose budget ran out last turn, and `LISTENER` if accepting did.
    deferred: Vec<Token>,
    /// `LISTENER` is on the deferred list.
    accept_queued: bool,
    /// Scratch list of keys to close after a sweep.
    to_close: Vec<usize>,
    /// Accepting is paused until this time (fd exhaustion back-off).
    accept_paused_until: Option<u64>,
    /// The connection cap was hit; accept again when a slot frees.
    at_cap: bool,
    /// The kernel defers accept until data arrives, so read a connection at accept.
    read_at_accept: bool,
    last_fd_warning: Option<u64>,
    next_tick: u64,
    next_stats: Option<u64>,
    stats_requests_before: u64,
    /// Graceful shutdown deadline, once one began.
    shutdown_deadline: Option<u64>,
    shutdown_timeout: Duration,
    stats_interval: Option<Duration>,
    stop_now: bool,
}

impl Server {
    /// Bind the listener and prepare the loop. Fails if the address cannot be bound.
    pub fn bind(config: Config) -> io::Result<Server> {
        let poll = Poll::new()?;
        let mut listener = listener::bind(config.bind, config.backlog)?;
        let local_addr = listener.local_addr()?;
        let read_at_accept = defer_accept(&listener, config.defer_accept);
        poll.registry()
            .register(&mut listener, LISTENER, Interest::READABLE)?;
        let waker = Waker::new(poll.registry(), WAKER)?;
        let max_connections = config
            .max_connections
            .unwrap_or_else(default_max_connections);
        let clock = Clock::start();
        let shared = Shared::new(&config);
        Ok(Server {
            poll,
            listener: Some(listener),
            local_addr,
            connections: Slab::new(),
            max_connections,
            next_tick: shared.tick_ms,
            shared,
            clock,
            control: Arc::new(Control::new(waker)),
            signals: None,
            deferred: Vec::new(),
            accept_queued: false,
            to_close: Vec::new(),
            accept_paused_until: None,
            at_cap: false,
            read_at_accept,
            last_fd_warning: None,
            next_stats: config.stats_interval.map(|d| d.as_millis() as u64),
            stats_requests_before: 0,
            shutdown_deadline: None,
            shutdown_timeout: config.shutdown_timeout,
            stats_interval: config.stats_interval,
            stop_now: false,
        })
    }

    /// The address actually bound.
    pub fn local_addr(&self) -> SocketAddr {
        self.local_addr
    }

    /// The most connections this server keeps open at once.
    pub fn max_connections(&self) -> usize {
        self.max_connections
    }

    /// A remote control usable from any thread.
    pub fn handle(&self) -> ServerHandle {
        ServerHandle {
            control: Arc::clone(&self.control),
        }
    }

    /// Turn SIGTERM and SIGINT into graceful shutdown (a second one stops at once).
    /// Signals are process-wide, so only the binary asks for this.
    pub fn handle_signals(&mut self) -> io::Result<()> {
        let mut signals = Signals::new([SIGTERM, SIGINT])?;
        self.poll
            .registry()
            .register(&mut signals, SIGNALS, Interest::READABLE)?;
        self.signals = Some(signals);
        Ok(())
    }

    /// Run the loop on a new thread.
    pub fn spawn(self) -> io::Result<Running> {
        let addr = self.local_addr;
        let handle = self.handle();
        let thread = std::thread::Builder::new()
            .name("hello-reactor".into())
            .spawn(move || self.run())?;
        Ok(Running {
            addr,
            handle,
            thread: Some(thread),
        })
    }

    /// Run the loop on this thread until shutdown completes or a stop is asked for.
    pub fn run(mut self) -> io::Result<Summary> {
        let mut events = Events::with_capacity(1024);
        info!(
            "listening on {}, up to {} connections",
            self.local_addr, self.max_connections
        );
        while !self.finished() {
            let timeout = self.poll_timeout();
            if let Err(e) = self.poll.poll(&mut events, timeout) {
                if e.kind() == io::ErrorKind::Interrupted {
                    continue;
                }
                return Err(e);
            }
            self.shared.now = self.clock.now_ms();
            self.shared.responses.refresh_date(self.clock.wall());
            for event in events.iter() {
                match event.token() {
                    LISTENER => {
                        trace!("listener: readable");
                        self.accept_all();
                    }
                    WAKER => self.on_wake(),
                    SIGNALS => self.on_signals(),
                    token => {
                        let error = event.is_error();
                        let readiness = Readiness {
                            readable: event.is_readable() || error,
                            writable: event.is_writable() || event.is_write_closed() || error,
                            read_closed: event.is_read_closed() || error,
                        };
                        self.connection_ready(token, readiness);
                    }
                }
            }
            self.run_deferred();
            self.after_turn();
        }
        let summary = self.shared.stats.summary();
        info!("stopped: {summary}");
        Ok(summary)
    }

    fn finished(&self) -> bool {
        self.stop_now
            || self
                .shutdown_deadline
                .is_some_and(|deadline| self.connections.is_empty() || self.shared.now >= deadline)
    }

    /// Sleep until the next timer, or not at all when deferred work waits.
    fn poll_timeout(&self) -> Option<Duration> {
        if !self.deferred.is_empty() {
            return Some(Duration::ZERO);
        }
        let timers = [
            (!self.connections.is_empty()).then_some(self.next_tick),
            self.accept_paused_until,
            self.shutdown_deadline,
            self.next_stats,
        ];
        let wake_at = timers.into_iter().flatten().min()?;
        Some(Duration::from_millis(
            wake_at.saturating_sub(self.clock.now_ms()),
        ))
    }

    fn connection_ready(&mut self, token: Token, readiness: Readiness) {
        let Some(conn) = self.connections.get_mut(token.0) else {
            trace!("conn {}: stale event ignored (already closed)", token.0);
            return;
        };
        trace!("conn {}: {readiness}", token.0);
        let next = conn.ready(&mut self.shared.context(token.0), readiness);
        if next != Next::Close {
            Self::watch_writable(&self.poll, conn, token);
        }
        self.apply(token, next);
    }

    /// Add writable interest the first time a connection has output the socket would
    /// not take, and keep it from then on: edge-triggered, it costs nothing while the
    /// socket has room. `reregister` reports readiness that is already there, so an
    /// edge that came before this call is not lost.
    fn watch_writable(poll: &Poll, conn: &mut Connection, token: Token) {
        if !conn.needs_writable_interest() {
            return;
        }
        let interest = Interest::READABLE | Interest::WRITABLE;
        match poll
            .registry()
            .reregister(conn.stream_mut(), token, interest)
        {
            Ok(()) => conn.writable_interest_added(),
            Err(e) => warn!("conn {}: cannot watch for writability: {e}", token.0),
        }
    }

    /// Act on what a handler returned, after it returned.
    fn apply(&mut self, token: Token, next: Next) {
        match next {
            Next::Keep => {}
            Next::Yield => {
                let conn = self.connections.get_mut(token.0);
                if conn.is_some_and(Connection::mark_queued) {
                    self.deferred.push(token);
                }
            }
            Next::Close => self.close(token.0),
        }
    }

    fn close(&mut self, key: usize) {
        if self.connections.try_remove(key).is_some() {
            debug!("conn {key}: closed ({} open)", self.connections.len());
        }
    }

    fn run_deferred(&mut self) {
        let mut deferred = std::mem::take(&mut self.deferred);
        for token in deferred.drain(..) {
            if token == LISTENER {
                self.accept_queued = false;
                self.accept_all();
                continue;
            }
            if let Some(conn) = self.connections.get_mut(token.0) {
                conn.unqueue();
            }
            self.connection_ready(token, Readiness::default());
        }
        if self.deferred.is_empty() {
            self.deferred = deferred; // keep the allocation
        }
    }

    fn after_turn(&mut self) {
        let now = self.shared.now;
        if self.accept_paused_until.is_some_and(|until| now >= until) {
            self.accept_paused_until = None;
            self.accept_all();
        }
        if self.at_cap && self.connections.len() < self.max_connections {
            self.at_cap = false;
            self.accept_all();
        }
        if now >= self.next_tick {
            self.next_tick = now + self.shared.tick_ms;
            self.expire_deadlines();
        }
        if self.next_stats.is_some_and(|at| now >= at) {
            self.log_stats();
        }
    }

    /// The coarse timer: one pass over the connections, closing what expired.
    fn expire_deadlines(&mut self) {
        let now = self.shared.now;
        for (key, conn) in self.connections.iter_mut() {
            if conn.deadline() > now {
                continue;
            }
            trace!("conn {key}: deadline passed in {}", conn.state());
            let next = conn.expire(&mut self.shared.context(key));
            if next != Next::Close {
                Self::watch_writable(&self.poll, conn, Token(key));
            }
            match next {
                Next::Keep => {}
                Next::Yield if conn.mark_queued() => self.deferred.push(Token(key)),
                Next::Yield => {}
                Next::Close => self.to_close.push(key),
            }
        }
        self.close_marked();
    }

    /// Close the connections a pass over the slab marked in `to_close`.
    fn close_marked(&mut self) {
        let mut to_close = std::mem::take(&mut self.to_close);
        for key in to_close.drain(..) {
            self.close(key);
        }
        self.to_close = to_close;
    }

    fn log_stats(&mut self) {
        let Some(interval) = self.stats_interval else {
            return;
        };
        let stats = &self.shared.stats;
        let rate = (stats.requests - self.stats_requests_before) as f64 / interval.as_secs_f64();
        info!(
            "stats: {rate:.0} req/s, {} open connections, {} error responses, {} I/O errors, {} timeouts",
            self.connections.len(),
            stats.error_responses(),
            stats.io_errors,
            stats.timeouts
        );
        self.stats_requests_before = stats.requests;
        self.next_stats = Some(self.shared.now + interval.as_millis() as u64);
    }
}
