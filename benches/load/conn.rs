//! One client connection: a small state machine driven by readiness events.
//!
//! ```text
//! Connecting ──writable, connected──▶ Writing ──batch fully written──▶ Reading
//!      │                                 ▲                               │
//!      └─ refused / error: closed        └──── all D responses in ◀──────┤
//!                                                                        │
//!                                         Idle ◀── all in, run over ─────┘
//! ```
//!
//! The socket is registered once for both readable and writable, edge-triggered, and
//! every edge is drained until `WouldBlock`: reads until the kernel has nothing more,
//! writes until the batch is out or the send buffer is full. Reads are handled in
//! `Writing` too, because a server may answer the first requests of a batch before
//! the rest of it has been written.

use std::io::{self, Read, Write};
use std::net::SocketAddr;
use std::time::Instant;

use mio::event::Event;
use mio::net::TcpStream;

use crate::parse::ResponseParser;
use crate::report::Stats;

/// Where a connection is in its cycle.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Phase {
    /// Non-blocking `connect` in progress.
    Connecting,
    /// The request batch is partly written.
    Writing,
    /// The whole batch is written; waiting for its responses.
    Reading,
    /// Batch answered after the run ended (draining): nothing more to do.
    Idle,
}

/// What the loop should do with a connection after an event.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Next {
    Keep,
    Close,
}

/// Loop-wide state a connection needs while handling one event.
pub struct Context<'a> {
    /// `depth` requests back to back: written in one go at the start of each cycle.
    pub batch: &'a [u8],
    /// Requests in `batch`, i.e. the pipelining depth.
    pub depth: u32,
    /// Bytes of one request (`batch.len() / depth`).
    pub request_len: usize,
    /// The one read buffer shared by all connections.
    pub buf: &'a mut [u8],
    /// Counters and the latency histogram.
    pub stats: &'a mut Stats,
    /// When the run started, to time how long connecting took.
    pub start: Instant,
    /// False once the run is over: count nothing more, start no new batch.
    pub measuring: bool,
}

/// One connection to the server.
pub struct Conn {
    stream: TcpStream,
    phase: Phase,
    /// Bytes of the batch written so far.
    written: usize,
    /// Responses of the current batch not yet received (written or not).
    outstanding: u32,
    /// When the current batch started to be written.
    sent_at: Instant,
    parser: ResponseParser,
}

impl Conn {
    /// Start a non-blocking connect to `addr`.
    pub fn connect(addr: SocketAddr) -> io::Result<Conn> {
        Ok(Conn {
            stream: TcpStream::connect(addr)?,
            phase: Phase::Connecting,
            written: 0,
            outstanding: 0,
            sent_at: Instant::now(),
            parser: ResponseParser::new(),
        })
    }

    pub fn stream_mut(&mut self) -> &mut TcpStream {
        &mut self.stream
    }

    pub fn phase(&self) -> Phase {
        self.phase
    }

    /// Handle one readiness event.
    pub fn ready(&mut self, cx: &mut Context<'_>, event: &Event) -> Next {
        let mut writable = event.is_writable() || event.is_write_closed() || event.is_error();
        if self.phase == Phase::Connecting {
            match self.connected() {
                Ok(false) => return Next::Keep,
                Ok(true) => {
                    cx.stats.connected += 1;
                    cx.stats.all_connected_after = cx.start.elapsed();
                    // Only latency depends on it; a failure here is not worth a stop.
                    let _ = self.stream.set_nodelay(true);
                    self.start_batch(cx.depth);
                    writable = true;
                }
                Err(e) => {
                    cx.stats.connect_errors += 1;
                    cx.stats.note_error("connect", &e);
                    return Next::Close;
                }
            }
        }
        if self.phase == Phase::Writing && writable && self.write(cx) == Next::Close {
            return Next::Close;
        }
        if event.is_readable() || event.is_read_closed() || event.is_error() {
            return self.read(cx);
        }
        Next::Keep
    }

    /// Has the non-blocking connect finished? (mio's documented recipe.)
    fn connected(&mut self) -> io::Result<bool> {
        if let Some(e) = self.stream.take_error()? {
            return Err(e);
        }
        match self.stream.peer_addr() {
            Ok(_) => Ok(true),
            Err(e) if e.kind() == io::ErrorKind::NotConnected => Ok(false),
            Err(e) => Err(e),
        }
    }

    fn start_batch(&mut self, depth: u32) {
        self.phase = Phase::Writing;
        self.outstanding = depth;
        self.written = 0;
        self.sent_at = Instant::now();
    }

    /// Write the rest of the batch, until done or the socket buffer is full.
    fn write(&mut self, cx: &mut Context<'_>) -> Next {
        while self.written < cx.batch.len() {
            match self.stream.write(&cx.batch[self.written..]) {
                Ok(0) => {
                    cx.stats.write_errors += 1;
                    cx.stats
                        .note_error("write", &io::ErrorKind::WriteZero.into());
                    return Next::Close;
                }
                Ok(n) => self.written += n,
                Err(e) if e.kind() == io::ErrorKind::WouldBlock => return Next::Keep,
                Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
                Err(e) => {
                    cx.stats.write_errors += 1;
                    cx.stats.note_error("write", &e);
                    return Next::Close;
                }
            }
        }
        self.phase = Phase::Reading;
        Next::Keep
    }

    /// Read until `WouldBlock`, framing responses as they come; when the batch is
    /// fully answered, write the next one.
    fn read(&mut self, cx: &mut Context<'_>) -> Next {
        loop {
            match self.stream.read(cx.buf) {
                Ok(0) => {
                    cx.stats.closed_by_server += 1;
                    cx.stats.in_flight_lost += u64::from(self.outstanding);
                    cx.stats
                        .note_error("read", &io::Error::other("connection closed by server"));
                    return Next::Close;
                }
                Ok(n) => {
                    let arrived = Instant::now();
                    if self.frame(cx, n, arrived) == Next::Close {
                        return Next::Close;
                    }
                    // All answered implies all written: next cycle, unless the run is over.
                    if self.outstanding == 0 && self.phase == Phase::Reading {
                        if !cx.measuring {
                            self.phase = Phase::Idle;
                        } else {
                            self.start_batch(cx.depth);
                            if self.write(cx) == Next::Close {
                                return Next::Close;
                            }
                        }
                    }
                }
                Err(e) if e.kind() == io::ErrorKind::WouldBlock => return Next::Keep,
                Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
                Err(e) => {
                    cx.stats.read_errors += 1;
                    cx.stats.note_error("read", &e);
                    return Next::Close;
                }
            }
        }
    }

    /// Frame the `n` bytes just read into `cx.buf`.
    fn frame(&mut self, cx: &mut Context<'_>, n: usize, arrived: Instant) -> Next {
        let latency_us =
            u64::try_from(arrived.duration_since(self.sent_at).as_micros()).unwrap_or(u64::MAX);
        // Requests of this batch fully written so far: no server can answer more.
        let sent = u32::try_from(self.written / cx.request_len).unwrap_or(u32::MAX);
        let (depth, measuring) = (cx.depth, cx.measuring);
        let outstanding = &mut self.outstanding;
        let mut unexpected = false;
        let stats = &mut *cx.stats;
        let result = self.parser.feed(&cx.buf[..n], |status| {
            if *outstanding == 0 || depth - *outstanding >= sent {
                unexpected = true;
                return;
            }
            *outstanding -= 1;
            if measuring {
                stats.record(status, latency_us);
            }
        });
        if let Err(e) = result {
            cx.stats.protocol_errors += 1;
            cx.stats
                .note_error("parse", &io::Error::other(e.to_string()));
            return Next::Close;
        }
        if unexpected {
            cx.stats.protocol_errors += 1;
            cx.stats.note_error(
                "parse",
                &io::Error::other("more responses than requests sent"),
            );
            return Next::Close;
        }
        Next::Keep
    }
}
