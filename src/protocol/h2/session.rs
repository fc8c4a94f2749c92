//! One HTTP/2 connection as a state machine (RFC 9113): bytes and "now" in,
//! frames appended to the caller's buffer, "what I wait for, until when" out.
//!
//! The same interface as the HTTP/1.1 [`Conn`](crate::protocol::Conn), so one
//! driver can run either:
//!
//! | the driver saw                       | it calls                          |
//! |--------------------------------------|-----------------------------------|
//! | input bytes                          | [`Session::process`]              |
//! | end of input                         | [`Session::eof`]                  |
//! | the socket took part of the output   | [`Session::write_blocked`], then [`Session::write_progress`] |
//! | all output is written                | [`Session::sent`] (which may append more DATA: write again) |
//! | the deadline ([`Session::poll_at`]) passed | [`Session::expire`]         |
//! | a graceful shutdown began            | [`Session::drain`]                |
//!
//! and asks [`Session::wants`] what to do next.
//!
//! Connection phases ([`Stage`]):
//!
//! ```text
//!   Preface --24 bytes--> Open --GOAWAY sent (an error, or a drain with
//!      |                    |      no stream left)--> Closing --sent--> Linger --EOF/timeout--> Closed
//!      `--wrong bytes-------'
//! ```
//!
//! Rules this file applies, each with its reason:
//! - **Our SETTINGS go first** (§3.4), with `SETTINGS_MAX_CONCURRENT_STREAMS`
//!   and `SETTINGS_MAX_HEADER_LIST_SIZE`; the peer must acknowledge them within
//!   `settings_timeout` or the connection ends with `SETTINGS_TIMEOUT` (§6.5.3).
//! - **The peer's first frame must be SETTINGS** (§3.4): else `PROTOCOL_ERROR`.
//! - **One timer** ([`Timer`]), the earliest of what the connection waits for:
//!   the preface and a header block (header timeout), request bodies (body
//!   timeout, reset by progress), a window that never opens or a socket that
//!   takes nothing (write timeout), no stream at all (keep-alive timeout).
//! - **Backpressure**: as HTTP/1.1, `process` stops once the output holds
//!   [`OUT_BATCH_LIMIT`] bytes; DATA waits for [`Session::sent`].
//! - **A connection error ends the input**: GOAWAY is sent and what follows is
//!   read and dropped until the close (lingering, as HTTP/1.1 does).
//!
//! What a session is told and lends is in `session/borrowed.rs` ([`Limits`],
//! [`Cx`]), frame handlers are in `session/input.rs`, answers and flow control in
//! `session/output.rs`, held and failed answers (`--delay`, `--fail-rate`) in
//! `session/held.rs`.

mod borrowed;
mod held;
mod input;
mod output;
mod timers;

pub use borrowed::{Cx, Limits};
pub use timers::Timer;

use log::debug;

use super::budget::Spent;
use super::error::{ErrorCode, H2Error};
use super::frame::{self, Parsed};
use super::hpack::Decoder;
use super::stream::Streams;
use crate::protocol::{OUT_BATCH_LIMIT, Stop, Timeouts, Want};

/// The connection preface a client sends first (§3.4).
pub const PREFACE: &[u8; 24] = b"PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n";

/// The initial window of every stream and of the connection (§6.9.2); we keep it.
pub const INITIAL_WINDOW: i64 = 65_535;

/// The `SETTINGS_HEADER_TABLE_SIZE` we keep (the default, §6.5.2).
pub const HEADER_TABLE_SIZE: usize = 4_096;

/// The connection's phase.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Stage {
    /// Waiting for the client preface.
    Preface,
    /// Frames flow.
    Open,
    /// A final GOAWAY is queued: input is dropped, close once it is written.
    Closing,
    /// Written; input is read and dropped until EOF or the linger timeout.
    Linger,
    /// The driver closes the socket.
    Closed,
}

/// A header block whose CONTINUATION frames are still to come.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct BlockStart {
    stream: u32,
    end_stream: bool,
    self_dependent: bool,
}

/// One HTTP/2 connection.
#[derive(Debug)]
pub struct Session {
    stage: Stage,
    decoder: Decoder,
    streams: Streams,
    continuation: Option<BlockStart>,
    block: Vec<u8>,
    /// The peer's SETTINGS so far.
    peer_initial_window: i64,
    peer_max_frame: u32,
    /// The peer set its header table size: our next block starts with a size update.
    table_update: bool,
    /// What we may still send on the connection, and what the peer may.
    send_window: i64,
    recv_window: i64,
    /// Our SETTINGS went out at this time and are not acknowledged yet.
    settings_sent: Option<u64>,
    started: bool,
    peer_settings_seen: bool,
    /// The last stream id our GOAWAY named, once sent.
    goaway_sent: Option<u32>,
    spent: Spent,
    write_blocked: bool,
    peer_closed: bool,
    /// Times the timers count from.
    since: Since,
    deadline: u64,
    timer: Timer,
    /// The held answer's due time the driver was last told of (`session/held.rs`).
    told: Option<u64>,
    /// Streams whose answer is held: without `--delay` always 0, and the
    /// deadline's search for the first due time is skipped.
    held: u32,
}

/// When each waited-for thing began.
#[derive(Debug, Clone, Copy, Default)]
struct Since {
    header: Option<u64>,
    /// The last request progress: a stream opened, or DATA on an open one.
    input: u64,
    idle: u64,
    window: u64,
    write: u64,
    linger: u64,
}

impl Session {
    /// A new connection at `now`, waiting for the client preface.
    pub fn new(now: u64, timeouts: &Timeouts) -> Session {
        let since = Since {
            header: Some(now),
            input: now,
            idle: now,
            ..Since::default()
        };
        Session {
            stage: Stage::Preface,
            decoder: Decoder::new(HEADER_TABLE_SIZE),
            streams: Streams::default(),
            continuation: None,
            block: Vec::new(),
            peer_initial_window: INITIAL_WINDOW,
            peer_max_frame: frame::MIN_MAX_FRAME_SIZE,
            table_update: false,
            send_window: INITIAL_WINDOW,
            recv_window: INITIAL_WINDOW,
            settings_sent: None,
            started: false,
            peer_settings_seen: false,
            goaway_sent: None,
            spent: Spent::default(),
            write_blocked: false,
            peer_closed: false,
            since,
            deadline: now + timeouts.header,
            timer: Timer::Header,
            told: None,
            held: 0,
        }
    }

    /// The connection's phase.
    pub fn stage(&self) -> Stage {
        self.stage
    }

    /// Streams currently active (open or answering).
    pub fn active_streams(&self) -> usize {
        self.streams.active.len()
    }

    /// Bytes the session holds on the heap, roughly (its own size is
    /// `size_of::<Session>()`): what a connection costs beyond its socket.
    pub fn heap_bytes(&self) -> usize {
        self.streams.heap_bytes() + self.block.capacity() + self.decoder.heap_bytes()
    }

    /// When the current wait times out: call [`Session::expire`] at or after it.
    pub fn poll_at(&self) -> u64 {
        self.deadline
    }

    /// What the deadline is for.
    pub fn timer(&self) -> Timer {
        self.timer
    }

    /// What the driver should do next.
    pub fn wants(&self) -> Want {
        match self.stage {
            Stage::Closed => Want::Close,
            Stage::Linger => Want::Drain,
            Stage::Closing => Want::Room,
            Stage::Preface | Stage::Open if self.write_blocked => Want::Room,
            Stage::Preface | Stage::Open => Want::Input,
        }
    }

    /// Read frames from `data`, appending what they call for to `cx.out`.
    /// Returns how many bytes were consumed; the driver keeps the rest and
    /// presents it again (with more bytes after [`Stop::Partial`], once the
    /// output is written after [`Stop::Full`]).
    pub fn process(&mut self, cx: &mut Cx<'_>, data: &[u8]) -> (usize, Stop) {
        self.start(cx);
        let mut pos = 0;
        let stop = loop {
            if !matches!(self.stage, Stage::Preface | Stage::Open) {
                pos = data.len(); // after a final GOAWAY, input is only drained
                break Stop::Done;
            }
            if pos == data.len() {
                break Stop::Done;
            }
            if cx.out.len() >= OUT_BATCH_LIMIT {
                break Stop::Full;
            }
            let rest = &data[pos..];
            if self.stage == Stage::Preface {
                let n = rest.len().min(PREFACE.len());
                if rest[..n] != PREFACE[..n] {
                    self.fail(cx, ErrorCode::PROTOCOL_ERROR);
                } else if n < PREFACE.len() {
                    break Stop::Partial;
                } else {
                    pos += n;
                    self.stage = Stage::Open;
                    self.since.header = None;
                }
                continue;
            }
            match frame::parse(rest, frame::MIN_MAX_FRAME_SIZE) {
                Parsed::Partial => break Stop::Partial,
                Parsed::ConnectionError(code) => self.fail(cx, code),
                Parsed::StreamError(id, code, len) => {
                    pos += len;
                    let result = self.frame_stream_error(rest[3], id, code);
                    self.outcome(cx, result);
                }
                Parsed::Frame(frame, len) => {
                    pos += len;
                    let result = self.on_frame(cx, frame);
                    self.outcome(cx, result);
                }
            }
        };
        let partial = stop == Stop::Partial || self.continuation.is_some();
        self.since.header = match (partial, self.since.header) {
            (true, None) => Some(cx.now),
            (true, at) => at,
            (false, _) if self.stage == Stage::Preface => self.since.header,
            (false, _) => None,
        };
        if cx.draining {
            self.go_away(cx); // in case the drain began before the preface was whole
        }
        self.finish_if_done(cx);
        self.rearm(cx);
        (pos, stop)
    }

    /// The peer shut its write side: nothing more can arrive.
    pub fn eof(&mut self, cx: &mut Cx<'_>) {
        self.peer_closed = true;
        if !self.write_blocked || self.stage == Stage::Linger {
            self.stage = Stage::Closed;
        }
        self.rearm(cx);
    }

    /// The socket took only part of the output; the rest waits in the driver.
    pub fn write_blocked(&mut self, cx: &mut Cx<'_>) {
        self.write_blocked = true;
        self.since.write = cx.now;
        self.rearm(cx);
    }

    /// The socket took more of the waiting output.
    pub fn write_progress(&mut self, cx: &mut Cx<'_>) {
        self.since.write = cx.now;
        self.rearm(cx);
    }

    /// All output so far is written. May append more DATA (answers that were
    /// held back by a full batch): the driver writes again if so.
    pub fn sent(&mut self, cx: &mut Cx<'_>) {
        self.write_blocked = false;
        match self.stage {
            Stage::Closing if self.peer_closed => self.stage = Stage::Closed,
            Stage::Closing => {
                self.stage = Stage::Linger;
                self.since.linger = cx.now;
            }
            Stage::Open if self.peer_closed => self.stage = Stage::Closed,
            Stage::Open => self.flush(cx),
            _ => {}
        }
        self.finish_if_done(cx);
        self.rearm(cx);
    }

    /// A graceful shutdown began: GOAWAY names the last stream we will answer;
    /// those are finished, then the connection closes.
    pub fn drain(&mut self, cx: &mut Cx<'_>) {
        if self.stage == Stage::Preface {
            self.stage = Stage::Closed;
        } else {
            self.go_away(cx);
            self.finish_if_done(cx);
        }
        self.rearm(cx);
    }

    /// Our SETTINGS, once, before anything else we send (§3.4).
    fn start(&mut self, cx: &mut Cx<'_>) {
        if self.started {
            return;
        }
        self.started = true;
        let max_list = u32::try_from(cx.limits.max_head).unwrap_or(u32::MAX);
        frame::write::settings(
            cx.out,
            &[
                (
                    frame::setting::MAX_CONCURRENT_STREAMS,
                    cx.limits.max_streams,
                ),
                (frame::setting::MAX_HEADER_LIST_SIZE, max_list),
            ],
        );
        self.settings_sent = Some(cx.now);
    }

    /// Apply the outcome of one frame: nothing, a reset, or the end.
    fn outcome(&mut self, cx: &mut Cx<'_>, result: Result<(), H2Error>) {
        match result {
            Ok(()) => {}
            Err(H2Error::Connection(code)) => self.fail(cx, code),
            Err(H2Error::Stream(id, code)) => self.reset(cx, id, code),
        }
    }

    /// A connection error (or a timeout): GOAWAY, then close (§5.4.1).
    fn fail(&mut self, cx: &mut Cx<'_>, code: ErrorCode) {
        if matches!(self.stage, Stage::Preface | Stage::Open) {
            debug!("{} h2: connection error {code}", cx.id);
            frame::write::goaway(cx.out, self.streams.last_id, code);
            cx.stats.h2.goaway(code);
            self.goaway_sent = Some(self.streams.last_id);
            self.stage = Stage::Closing;
            self.since.write = cx.now;
            self.continuation = None;
        }
    }
}

#[cfg(test)]
mod tests;
