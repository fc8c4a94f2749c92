//! The reactor: one thread, one `mio::Poll`, every socket registered with it.
//!
//! ```text
//!            +--------------------------------------------------------------+
//!            |                                                              |
//!            v                                                              |
//!   poll(timeout = next timer, or 0 if work was deferred)                   |
//!            |                                                              |
//!   read the clock once; patch Date if the second changed                   |
//!            |                                                              |
//!   for each event:  LISTENER -> accept (at most 128), serve each new one   |
//!                                at once if the kernel deferred its accept  |
//!                    WAKER    -> shutdown/stop asked by another thread      |
//!                    SIGNALS  -> SIGTERM/SIGINT/SIGHUP, for a lone reactor  |
//!                    conn     -> look the token up again; ready() -> Next   |
//!            |                                                              |
//!   deferred connections (read budget spent) get another call              |
//!            |                                                              |
//!   after the turn: resume accepting, call what the precise queue says     |
//!   is due, expire deadlines on the tick, log stats -----------------------+
//! ```
//!
//! Files: `accept.rs` (the listener and the connection cap), `drain.rs` (stopping),
//! `ticker.rs` (the coarse timer and the stats line), `timers.rs` (the precise
//! queue: held answers, to the millisecond), `driver.rs` (one connection's
//! socket I/O, feeding the protocol core), `calls.rs` (calling a connection's
//! handler and acting on what it returned), `context.rs` (what a handler borrows),
//! `clock.rs`, `listener.rs`, `handle.rs` (control from other threads),
//! `stream.rs` (TCP or Unix socket), `metrics.rs` (counters and the Prometheus
//! text), `scrape.rs` (the metrics listener, `METRICS` and scrape tokens).
//!
//! Ordering decisions, each with its reason:
//! - **The clocks are read once per turn**, after `poll` returns: the monotonic clock
//!   for deadlines and the wall clock for `Date`. Every handler in a turn agrees on
//!   "now", and no handler pays for a clock read. (`poll_timeout` reads the monotonic
//!   clock once more before sleeping, so time spent on the turn is not slept again.)
//! - **Every event is a hint, looked up again.** A connection's [`Token`] is its key
//!   in the [`Slab`]; keys are reused, so an event queued for a connection closed
//!   earlier in the turn may name a new one. Each event looks its token up again; a
//!   spurious call is harmless because handlers act only on what `read` and `write`
//!   report.
//! - **Handlers never close themselves.** They return [`Next`] and `after_call`
//!   (`calls.rs`) acts after the call: a connection that removed itself from the slab would free
//!   the `&mut self` it runs on. Closing is dropping: the fd's close removes it from
//!   epoll and kqueue, so no `deregister` is needed.
//! - **Writable interest only when needed.** A new socket is registered readable
//!   only; the first time output does not fit, one `reregister` adds writable
//!   interest for good (see `watch_writable`).
//! - **Registering late loses no edge.** `register` and `reregister` report
//!   readiness that is already there: epoll and kqueue look at the fd's state when
//!   it is added or changed. So a connection may be read before it is registered
//!   (`accept.rs`), and writable interest may be added after a write fell short.
//! - **Accepting resumes after the events of a turn**, so connections freed this
//!   turn make room for new ones before the next `poll`.

use std::io;
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use log::{debug, log, trace};
use mio::{Events, Interest, Poll, Token, Waker};
use slab::Slab;

use crate::config::Config;
use crate::config::Http2Mode;
use crate::protocol::Conn;
use crate::protocol::h2::Session;
use crate::protocol::stats::Summary;

mod accept;
mod calls;
mod clock;
mod context;
pub mod cores;
mod drain;
pub mod driver;
mod handle;
pub mod listener;
pub mod metrics;
mod scrape;
pub mod stream;
mod ticker;
pub mod timers;
pub mod tls;

pub use accept::ACCEPTS_PER_TURN;
pub use clock::Clock;
pub use drain::SignalMeaning;
pub use driver::{Connection, Next, Readiness};
pub use handle::{Running, ServerHandle, Snapshot};
pub use stream::Endpoint;

use accept::Acceptor;
use context::LoopData;
use cores::Core;
use drain::{Drain, WatchedSignals};
use handle::Control;
pub use scrape::MetricsSlot;
use scrape::{MetricsLinks, SCRAPE_BASE, Scrapes};
use stream::Listener;
use ticker::Ticker;
use timers::Timers;

const LISTENER: Token = Token(usize::MAX);
const WAKER: Token = Token(usize::MAX - 1);
const METRICS: Token = Token(usize::MAX - 2);
const SIGNALS: Token = Token(usize::MAX - 3);

/// A reactor with its listener, ready to [`run`](Server::run) or [`spawn`](Server::spawn).
pub struct Server {
    poll: Poll,
    connections: Slab<Connection>,
    data: LoopData,
    clock: Clock,
    control: Arc<Control>,
    accept: Acceptor,
    drain: Drain,
    ticker: Ticker,
    /// Wake-ups to the millisecond (`timers.rs`): held answers.
    timers: Timers,
    /// The metrics listener and its scrapes, with `--metrics-bind`.
    scrapes: Option<Scrapes>,
    /// Metrics to publish for, or gather from, other reactors.
    metrics: MetricsLinks,
    /// SIGTERM and kin, when this reactor receives them itself (see `drain.rs`).
    signals: Option<WatchedSignals>,
    /// Connections whose budget ran out last turn, and `LISTENER` if accepting did.
    deferred: Vec<Token>,
    /// Scratch list of keys to call after a pass over the slab.
    scratch: Vec<usize>,
}

impl Server {
    /// Bind `config.unix` if set, else `config.bind`, and prepare the loop. Fails if
    /// the address cannot be bound.
    pub fn bind(config: Config) -> io::Result<Server> {
        let listener = match &config.unix {
            Some(path) => listener::bind_unix(path, config.backlog)?,
            None => Listener::Tcp(listener::bind(config.bind, config.backlog)?),
        };
        Server::from_mio(listener, &config)
    }

    /// Serve an already-bound listening socket (inherited, shared with other
    /// workers, or bound by the caller). It is made non-blocking here.
    pub fn from_listener(listener: std::net::TcpListener, config: &Config) -> io::Result<Server> {
        listener.set_nonblocking(true)?;
        let listener = mio::net::TcpListener::from_std(listener);
        Server::from_mio(Listener::Tcp(listener), config)
    }

    /// Serve an already-bound Unix domain listening socket. Its file is left in
    /// place when the server stops: whoever bound it owns it.
    pub fn from_unix_listener(
        listener: std::os::unix::net::UnixListener,
        config: &Config,
    ) -> io::Result<Server> {
        listener.set_nonblocking(true)?;
        let listener = mio::net::UnixListener::from_std(listener);
        Server::from_mio(Listener::Unix(listener, None), config)
    }

    fn from_mio(mut listener: Listener, config: &Config) -> io::Result<Server> {
        let poll = Poll::new()?;
        poll.registry()
            .register(&mut listener, LISTENER, Interest::READABLE)?;
        let waker = Waker::new(poll.registry(), WAKER)?;
        let data = LoopData::new(config);
        let mut server = Server {
            poll,
            connections: Slab::new(),
            accept: Acceptor::new(listener, config)?,
            drain: Drain::new(config.shutdown_timeout),
            ticker: Ticker::new(data.tick_ms, config.stats_interval),
            timers: Timers::default(),
            scrapes: None,
            metrics: MetricsLinks::default(),
            signals: None,
            data,
            clock: Clock::precise(config.delay.is_some()),
            control: Arc::new(Control::new(waker)),
            deferred: Vec::new(),
            scratch: Vec::new(),
        };
        if let Some(addr) = config.metrics_bind {
            server.serve_metrics(addr)?;
        }
        Ok(server)
    }

    /// Name this reactor's connections `w{n} conn {key}` in logs: it is worker `n`
    /// of several. Its own start, stop, drain and stats lines then go to the debug
    /// level, named `w{n}`; the process logs the totals at info.
    pub fn set_worker(&mut self, n: u16) {
        self.data.worker = Some(n);
        self.data.common.faults.for_worker(n);
    }

    /// The TCP address actually bound; for a Unix socket, the unspecified address
    /// `0.0.0.0:0` (see [`Server::endpoint`]).
    pub fn local_addr(&self) -> SocketAddr {
        match self.accept.endpoint {
            Endpoint::Tcp(addr) => addr,
            Endpoint::Unix(_) => SocketAddr::from(([0, 0, 0, 0], 0)),
        }
    }

    /// Where the server listens: a TCP address or a Unix socket path.
    pub fn endpoint(&self) -> &Endpoint {
        &self.accept.endpoint
    }

    /// The most connections this reactor keeps open at once.
    pub fn max_connections(&self) -> usize {
        self.accept.max_connections
    }

    /// A remote control usable from any thread.
    pub fn handle(&self) -> ServerHandle {
        ServerHandle {
            control: Arc::clone(&self.control),
        }
    }

    /// Run the loop on a new thread named `name`, after `setup` on that thread
    /// (pinning it to a CPU, say).
    pub fn spawn_named(
        self,
        name: String,
        setup: impl FnOnce() + Send + 'static,
    ) -> io::Result<Running> {
        let addr = self.local_addr();
        let endpoint = self.endpoint().clone();
        let handle = self.handle();
        let thread = std::thread::Builder::new().name(name).spawn(move || {
            setup();
            self.run()
        })?;
        Ok(Running {
            addr,
            endpoint,
            handle,
            thread: Some(thread),
        })
    }

    /// Run the loop on a new thread.
    pub fn spawn(self) -> io::Result<Running> {
        self.spawn_named("hello-reactor".into(), || {})
    }

    /// Run the loop on this thread until a drain completes or a stop is asked for.
    pub fn run(mut self) -> io::Result<Summary> {
        let mut events = Events::with_capacity(1024);
        log!(
            self.data.report_level(),
            "{}listening on {}, up to {} connections",
            self.data.worker_prefix(),
            self.endpoint(),
            self.max_connections()
        );
        while !self.finished() {
            let timeout = self.poll_timeout();
            if let Err(e) = self.poll.poll(&mut events, timeout) {
                if e.kind() == io::ErrorKind::Interrupted {
                    continue;
                }
                return Err(e);
            }
            self.data.now = self.clock.now_ms();
            let wall = self.clock.wall();
            if self.data.common.responses.refresh_date(wall) {
                self.data.h2.refresh_date(wall);
            }
            for event in events.iter() {
                match event.token() {
                    LISTENER => {
                        trace!("listener: readable");
                        self.accept_some();
                    }
                    WAKER => self.on_wake(),
                    SIGNALS => self.on_signals(),
                    METRICS => self.accept_scrapes(),
                    token if token.0 >= SCRAPE_BASE => self.scrape_ready(token),
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
        self.cut_off_the_rest();
        self.publish_metrics();
        let summary = self.data.common.stats.summary();
        log!(
            self.data.report_level(),
            "{}stopped: {summary}",
            self.data.worker_prefix()
        );
        Ok(summary)
    }

    /// Sleep until the next timer, or not at all when deferred work waits.
    fn poll_timeout(&self) -> Option<Duration> {
        if !self.deferred.is_empty() {
            return Some(Duration::ZERO);
        }
        let timers = [
            (!self.connections.is_empty() || self.metrics.publishes())
                .then_some(self.ticker.next_tick),
            self.accept.paused_until,
            self.drain.deadline,
            self.ticker.next_stats,
            self.timers.next_due(),
            self.scrapes.as_ref().and_then(Scrapes::next_deadline),
        ];
        let wake_at = timers.into_iter().flatten().min()?;
        Some(Duration::from_millis(
            wake_at.saturating_sub(self.clock.now_ms()),
        ))
    }

    fn connection_ready(&mut self, token: Token, readiness: Readiness) {
        let called = self.call(token.0, |conn, cx| {
            trace!("{}: {readiness}", cx.shared.id);
            conn.ready(cx, readiness)
        });
        if !called {
            trace!(
                "{}: stale event ignored (already closed)",
                self.data.id(token.0)
            );
        }
    }

    fn close(&mut self, key: usize) {
        if let Some(conn) = self.connections.try_remove(key) {
            self.data.io.close(conn.close_reason());
            self.data.common.stats.held -= conn.core().held_answers() as u64;
            debug!(
                "{}: closed ({} open)",
                self.data.id(key),
                self.connections.len()
            );
        }
    }

    fn run_deferred(&mut self) {
        let mut deferred = std::mem::take(&mut self.deferred);
        for token in deferred.drain(..) {
            if token == LISTENER {
                self.accept.queued = false;
                self.accept_some();
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
        self.resume_accepting();
        self.fire_timers();
        self.tick();
    }
}

/// A new protocol core for a connection accepted now, and whether its first
/// bytes may still choose HTTP/2 instead: by the preface on a cleartext port
/// (`--http2 on`, prior knowledge), by ALPN over TLS (`on` or `only`).
fn new_core(data: &LoopData, tls: bool) -> (Core, bool) {
    let http1 = || Core::Http1(Conn::new(data.now, &data.common.timeouts));
    match data.h2.mode {
        Http2Mode::Off => (http1(), false),
        Http2Mode::On => (http1(), true),
        Http2Mode::Only if tls => (http1(), true),
        Http2Mode::Only => {
            let session = Session::new(data.now, &data.common.timeouts);
            (Core::Http2(Box::new(session)), false)
        }
    }
}
