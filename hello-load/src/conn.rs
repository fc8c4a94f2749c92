//! One client connection: a small state machine driven by readiness events.
//!
//! ```text
//! connecting ──writable, connected──▶ open: write requests ⇄ read responses
//!      │                                  │
//!      └─ refused / error: closed         └─ error, EOF, bad response: closed
//! ```
//!
//! An open connection writes requests when the mode says so and reads responses
//! whenever they come:
//!
//! - **closed loop**: when nothing is in flight, write the next batch of `D`
//!   requests (`--pipeline D`) in one `write`; every request of the batch is timed
//!   from the moment the batch started to be written.
//! - **open loop**: requests fall due on a fixed schedule (the main loop hands each
//!   its global index `j`, see [`Schedule`]); a due request is written as soon as
//!   fewer than `D` are in flight, all those due in one `write`, and it is timed
//!   from its *intended* time. A request the server holds up thus delays the ones
//!   behind it, and their waiting is measured, not omitted.
//!
//! The socket is registered once for both readable and writable, edge-triggered,
//! and every edge is drained until `WouldBlock`: reads until the kernel has nothing
//! more, writes until the requests are out or the send buffer is full.

use std::collections::VecDeque;
use std::io::{self, Read, Write};
use std::net::SocketAddr;
use std::time::{Duration, Instant};

use mio::event::Event;
use mio::net::TcpStream;

use crate::parse::ResponseParser;
use crate::report::Stats;

/// Open loop: a request written this long or more after its intended time counts
/// as sent late. `epoll_wait` sleeps in whole milliseconds and the loop wakes a
/// little after a request falls due, so below a few ms lateness is the timer's.
pub const LATE: Duration = Duration::from_millis(5);

/// What the loop should do with a connection after an event.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Next {
    Keep,
    Close,
}

/// Open loop: request `j` (counting from 0 over all connections) is intended at
/// `start + j / rate` and goes to connection `j mod connections`.
#[derive(Debug, Clone, Copy)]
pub struct Schedule {
    pub start: Instant,
    pub rate: f64,
    /// Requests intended before the end of the run: `⌈duration × rate⌉`.
    pub total: u64,
}

impl Schedule {
    pub fn intended(&self, j: u64) -> Instant {
        self.start + Duration::from_secs_f64(j as f64 / self.rate)
    }
}

/// Loop-wide state a connection needs while handling one event.
pub struct Context<'a> {
    /// `depth` copies of the request, back to back; a write sends a prefix of it.
    pub requests: &'a [u8],
    /// Bytes of one request.
    pub request_len: usize,
    /// At most this many requests in flight per connection (`--pipeline`).
    pub depth: usize,
    /// Connections in all: the stride between one connection's request indices.
    pub connections: u64,
    /// Open loop only.
    pub schedule: Option<Schedule>,
    /// The one read buffer shared by all connections.
    pub buf: &'a mut [u8],
    pub stats: &'a mut Stats,
    /// When the run started, to time how long connecting took.
    pub start: Instant,
    /// False once the run is over: write no more requests (but count responses).
    pub sending: bool,
}

/// One connection to the server.
pub struct Conn {
    stream: TcpStream,
    connected: bool,
    /// Bytes of the write in progress (whole requests), and how many are out.
    write_len: usize,
    written: usize,
    /// When each request written (or being written) and not yet answered was
    /// started (closed loop) or intended (open loop), oldest first.
    in_flight: VecDeque<Instant>,
    /// Open loop: requests due but not written yet: the index of the first, and
    /// how many (their indices are `connections` apart).
    pending_from: u64,
    pending: u64,
    parser: ResponseParser,
}

impl Conn {
    /// Start a non-blocking connect to `addr`.
    pub fn connect(addr: SocketAddr, depth: usize) -> io::Result<Conn> {
        Ok(Conn {
            stream: TcpStream::connect(addr)?,
            connected: false,
            write_len: 0,
            written: 0,
            in_flight: VecDeque::with_capacity(depth),
            pending_from: 0,
            pending: 0,
            parser: ResponseParser::new(),
        })
    }

    pub fn stream_mut(&mut self) -> &mut TcpStream {
        &mut self.stream
    }

    pub fn is_connected(&self) -> bool {
        self.connected
    }

    /// Requests written and not answered yet.
    pub fn in_flight(&self) -> usize {
        self.in_flight.len()
    }

    /// Open loop: requests due and not written yet.
    pub fn pending(&self) -> u64 {
        self.pending
    }

    /// Open loop: request `j` is due on this connection.
    pub fn due(&mut self, cx: &mut Context<'_>, j: u64) -> Next {
        if self.pending == 0 {
            self.pending_from = j;
        }
        self.pending += 1;
        if self.connected {
            self.send(cx)
        } else {
            Next::Keep
        }
    }

    /// Handle one readiness event.
    pub fn ready(&mut self, cx: &mut Context<'_>, event: &Event) -> Next {
        if !self.connected {
            match self.finish_connect() {
                Ok(false) => return Next::Keep,
                Ok(true) => {
                    self.connected = true;
                    cx.stats.connected += 1;
                    cx.stats.all_connected_after = cx.start.elapsed();
                    // Only latency depends on it; a failure here is not worth a stop.
                    let _ = self.stream.set_nodelay(true);
                    if self.send(cx) == Next::Close {
                        return Next::Close;
                    }
                }
                Err(e) => {
                    cx.stats.error("connect", &e);
                    return Next::Close;
                }
            }
        } else if (event.is_writable() || event.is_write_closed() || event.is_error())
            && (self.write(cx) == Next::Close || self.send(cx) == Next::Close)
        {
            return Next::Close;
        }
        if event.is_readable() || event.is_read_closed() || event.is_error() {
            return self.read(cx);
        }
        Next::Keep
    }

    /// Has the non-blocking connect finished? (mio's documented recipe.)
    fn finish_connect(&mut self) -> io::Result<bool> {
        if let Some(e) = self.stream.take_error()? {
            return Err(e);
        }
        match self.stream.peer_addr() {
            Ok(_) => Ok(true),
            Err(e) if e.kind() == io::ErrorKind::NotConnected => Ok(false),
            Err(e) => Err(e),
        }
    }

    /// Start writing whatever the mode says is due now, unless a write is still in
    /// progress (the next writable edge continues it).
    fn send(&mut self, cx: &mut Context<'_>) -> Next {
        if self.written < self.write_len || !cx.sending {
            return Next::Keep;
        }
        let now = Instant::now();
        let count = match &cx.schedule {
            None if self.in_flight.is_empty() => {
                self.in_flight.extend(std::iter::repeat_n(now, cx.depth));
                cx.depth
            }
            None => 0,
            Some(schedule) => {
                let room = cx.depth - self.in_flight.len();
                let count = usize::try_from(self.pending)
                    .unwrap_or(usize::MAX)
                    .min(room);
                for _ in 0..count {
                    let intended = schedule.intended(self.pending_from);
                    let late = now.saturating_duration_since(intended);
                    if late >= LATE {
                        cx.stats.late += 1;
                        cx.stats.max_late = cx.stats.max_late.max(late);
                    }
                    self.in_flight.push_back(intended);
                    self.pending_from += cx.connections;
                    self.pending -= 1;
                }
                count
            }
        };
        if count == 0 {
            return Next::Keep;
        }
        self.write_len = count * cx.request_len;
        self.written = 0;
        self.write(cx)
    }

    /// Write the rest of the requests, until done or the socket buffer is full.
    fn write(&mut self, cx: &mut Context<'_>) -> Next {
        while self.written < self.write_len {
            match self
                .stream
                .write(&cx.requests[self.written..self.write_len])
            {
                Ok(0) => {
                    self.fail(cx, "write", io::ErrorKind::WriteZero.into());
                    return Next::Close;
                }
                Ok(n) => self.written += n,
                Err(e) if e.kind() == io::ErrorKind::WouldBlock => return Next::Keep,
                Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
                Err(e) => {
                    self.fail(cx, "write", e);
                    return Next::Close;
                }
            }
        }
        cx.stats.sent += (self.write_len / cx.request_len) as u64;
        self.write_len = 0;
        self.written = 0;
        Next::Keep
    }

    /// Read until `WouldBlock`, framing responses as they come, and write what
    /// they made room for.
    fn read(&mut self, cx: &mut Context<'_>) -> Next {
        loop {
            match self.stream.read(cx.buf) {
                Ok(0) => {
                    let e = io::Error::other("connection closed by the server");
                    self.fail(cx, "closed", e);
                    return Next::Close;
                }
                Ok(n) => {
                    if self.frame(cx, n, Instant::now()) == Next::Close
                        || self.send(cx) == Next::Close
                    {
                        return Next::Close;
                    }
                }
                Err(e) if e.kind() == io::ErrorKind::WouldBlock => return Next::Keep,
                Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
                Err(e) => {
                    self.fail(cx, "read", e);
                    return Next::Close;
                }
            }
        }
    }

    /// Count an error that ends this connection, and the requests it loses.
    fn fail(&mut self, cx: &mut Context<'_>, kind: &str, e: io::Error) {
        cx.stats.error(kind, &e);
        cx.stats.lost_in_flight += self.in_flight.len() as u64;
        self.in_flight.clear();
    }

    /// Frame the `n` bytes just read into `cx.buf`.
    fn frame(&mut self, cx: &mut Context<'_>, n: usize, arrived: Instant) -> Next {
        // Requests of the write in progress not fully written yet: no server can
        // have answered them.
        let len = cx.request_len;
        let unwritten = self.write_len / len - self.written / len;
        let in_flight = &mut self.in_flight;
        let stats = &mut *cx.stats;
        let mut unexpected = false;
        let result = self.parser.feed(&cx.buf[..n], |status| {
            if in_flight.len() <= unwritten {
                unexpected = true;
                return;
            }
            if let Some(started) = in_flight.pop_front() {
                let latency = arrived.saturating_duration_since(started);
                let latency_us = u64::try_from(latency.as_micros()).unwrap_or(u64::MAX);
                stats.record(status, latency_us, arrived);
            }
        });
        if let Err(e) = result {
            self.fail(cx, "parse", io::Error::other(e.to_string()));
            return Next::Close;
        }
        if unexpected {
            self.fail(
                cx,
                "parse",
                io::Error::other("more responses than requests sent"),
            );
            return Next::Close;
        }
        Next::Keep
    }
}
