//! One client connection: a state machine driven by readiness hints.
//!
//! A connection owns its socket and its parsing state, never the loop. The loop calls
//! [`Connection::ready`] when the socket may be readable or writable, and
//! [`Connection::expire`] when the connection's deadline has passed; each returns a
//! [`Next`] — keep going, come back next turn, or close — and the loop acts on it
//! after the handler has returned (so a handler never frees itself mid-call).
//!
//! ```text
//!             request bytes              head complete, no body
//!   +------+  ------------>  +-------------+  ---------------------> (answer) -> Idle
//!   | Idle |                 | ReadingHead |
//!   +------+  <------------  +-------------+  head complete, body ->  +-------------+
//!      ^       answer sent                                            | ReadingBody |
//!      |                                                              +-------------+
//!      |  socket takes the rest     +---------+   socket full              | body done
//!      +--------------------------- | Writing | <--------------------------+ (answer)
//!                                   +---------+
//!   error response / Connection: close with more input -> Lingering -> closed
//! ```
//!
//! Rules, each with its reason:
//! 1. **Readiness is a hint and edge-triggered.** The connection remembers whether the
//!    socket may still hold input (`readable`) or take output (`writable`) and clears
//!    the flag only when the kernel says so: `WouldBlock`, or a short read/write. A short
//!    read means the socket was drained at that instant; any byte arriving later raises
//!    a new edge, so no extra `read` that must fail with `WouldBlock` is needed.
//! 2. **Input lives in the loop's buffer.** Reads go into one reactor-wide buffer. Only
//!    bytes that cannot be answered yet (an incomplete head) are copied into a
//!    per-connection [`Spill`], which is freed as soon as it is empty: an idle
//!    connection holds no buffer at all.
//! 3. **Responses are batched.** Every request in a read is answered into one output
//!    batch, written with one `write`. What the socket does not take is copied into the
//!    spill, so bytes that started to go out are finished unchanged.
//! 4. **Backpressure.** While output waits, the connection reads nothing more; once the
//!    batch reaches [`OUT_BATCH_LIMIT`], unanswered input waits in the spill. Memory per
//!    connection is bounded by the read buffer plus one batch.
//! 5. **Fairness.** At most [`READS_PER_TURN`] reads per call; a connection with more
//!    input returns [`Next::Yield`] and the loop comes back to it next turn.
//! 6. **Closing is staged.** After an error response, or when the client sent more than
//!    we will read, the write side is shut and input is drained for `linger_timeout`
//!    (RFC 9112 §9.6), so the client reads our answer instead of a reset.

use std::fmt;
use std::io::{self, Read, Write};
use std::net::Shutdown;

use log::{debug, trace};
use mio::net::TcpStream;

use crate::framing::{self, BodyLength, BodyReader, Head, Limits, Parse, Persistence};
use crate::response::{CONTINUE, REQUEST_TIMEOUT, Responses};
use crate::stats::Stats;

/// Size of the loop's shared read buffer.
pub const READ_BUF_SIZE: usize = 64 * 1024;
/// Output batch size past which no further request is parsed until it is written.
pub const OUT_BATCH_LIMIT: usize = 64 * 1024;
/// Reads one connection may do per loop turn before others get their turn.
pub const READS_PER_TURN: u32 = 4;

/// What a connection waits for. Logged on every change as `conn 7: Idle => ReadingHead`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum State {
    /// Between requests: waiting for the first byte of the next one (keep-alive timeout).
    Idle,
    /// Part of a head is buffered (header timeout, counted from its first byte).
    ReadingHead,
    /// Skipping a request body (body timeout, reset by progress).
    ReadingBody,
    /// Output the socket has not taken yet; reading is paused (write timeout).
    Writing,
    /// Final response sent, write side shut: discarding input until EOF (linger timeout).
    Lingering,
}

impl fmt::Display for State {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Debug::fmt(self, f)
    }
}

/// Timeouts in milliseconds, the loop's clock unit.
#[derive(Debug, Clone, Copy)]
pub struct Timeouts {
    /// [`State::ReadingHead`]: first byte to complete head.
    pub header: u64,
    /// [`State::Idle`].
    pub keep_alive: u64,
    /// [`State::ReadingBody`], per progress.
    pub body: u64,
    /// [`State::Writing`], per progress.
    pub write: u64,
    /// [`State::Lingering`].
    pub linger: u64,
}

/// What a handler tells the loop to do once it has returned.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Next {
    /// Wait for the next readiness event or deadline.
    Keep,
    /// Input may remain but this turn's budget is spent: call again next turn.
    Yield,
    /// Remove and close the connection.
    Close,
}

/// Everything a handler borrows from the loop for one call.
pub struct Context<'a> {
    /// The connection's token, for logs.
    pub id: usize,
    /// The loop's clock, in milliseconds since the server started.
    pub now: u64,
    /// A graceful shutdown is under way: answer with `Connection: close`, close idlers.
    pub draining: bool,
    /// Rendered responses.
    pub responses: &'a Responses,
    /// Framing limits.
    pub limits: &'a Limits,
    /// Timeouts.
    pub timeouts: &'a Timeouts,
    /// Counters.
    pub stats: &'a mut Stats,
    /// The shared read buffer.
    pub read_buf: &'a mut [u8],
    /// The shared output batch; empty between calls.
    pub out: &'a mut Vec<u8>,
}

/// Bytes a connection must keep between calls; allocated only while non-empty.
#[derive(Debug, Default)]
struct Spill {
    /// Unanswered input, starting at a request head.
    input: Vec<u8>,
    /// Output the socket has not taken.
    output: Vec<u8>,
    /// Bytes of `output` already written.
    written: usize,
}

/// Why [`Connection::consume`] stopped.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Stop {
    /// Everything consumed.
    Done,
    /// The rest is an incomplete head: wait for more bytes.
    Partial,
    /// The output batch is full: answer the rest once it is written.
    Full,
}

/// A client connection. Kept small: ten thousand idle ones should cost well under
/// 128 bytes each.
#[derive(Debug)]
pub struct Connection {
    stream: TcpStream,
    state: State,
    /// The socket may hold unread input.
    readable: bool,
    /// The socket may accept output.
    writable: bool,
    /// The client shut its write side (read returned 0).
    peer_closed: bool,
    /// The final response is queued: close once it is written.
    closing: bool,
    /// Close with a lingering close rather than at once.
    linger: bool,
    /// Saved input is an incomplete head: parse again only when more arrives.
    await_input: bool,
    /// A request head completed since the last [`Connection::settle`].
    head_completed: bool,
    /// A body is being skipped.
    in_body: bool,
    /// The current request is `HEAD`.
    is_head: bool,
    /// The current request's persistence.
    persistence: Persistence,
    /// When the current state times out, in loop milliseconds.
    deadline: u64,
    body: BodyReader,
    spill: Option<Box<Spill>>,
}

impl Connection {
    /// A freshly accepted connection, idle until its first byte.
    pub fn new(stream: TcpStream, now: u64, timeouts: &Timeouts) -> Connection {
        Connection {
            stream,
            state: State::Idle,
            readable: false,
            writable: true,
            peer_closed: false,
            closing: false,
            linger: false,
            await_input: false,
            head_completed: false,
            in_body: false,
            is_head: false,
            persistence: Persistence::KeepAlive,
            deadline: now + timeouts.keep_alive,
            body: BodyReader::new(BodyLength::Empty),
            spill: None,
        }
    }

    /// The socket, for (de)registration.
    pub fn stream_mut(&mut self) -> &mut TcpStream {
        &mut self.stream
    }

    /// What the connection waits for.
    pub fn state(&self) -> State {
        self.state
    }

    /// When the current state times out.
    pub fn deadline(&self) -> u64 {
        self.deadline
    }

    /// The socket may be readable and/or writable: make all the progress allowed.
    pub fn ready(&mut self, cx: &mut Context<'_>, readable: bool, writable: bool) -> Next {
        self.readable |= readable;
        self.writable |= writable;
        let next = self.drive(cx);
        self.conclude(cx, next)
    }

    /// The deadline has passed: close, or answer `408` first if a request was under way.
    pub fn expire(&mut self, cx: &mut Context<'_>) -> Next {
        debug!("conn {}: {} timed out", cx.id, self.state);
        match self.state {
            State::Lingering => return Next::Close,
            State::Idle | State::Writing => {
                cx.stats.timeouts += 1;
                return Next::Close;
            }
            State::ReadingHead | State::ReadingBody => cx.stats.timeouts += 1,
        }
        self.reject(cx, REQUEST_TIMEOUT);
        if let Err(e) = self.write_out(cx) {
            return self.fail(cx, e);
        }
        let next = self.drive(cx);
        self.conclude(cx, next)
    }

    /// A graceful shutdown began: idle connections close now, busy ones after their
    /// current response (which will say `Connection: close`).
    pub fn begin_drain(&mut self, cx: &mut Context<'_>) -> Next {
        self.conclude(cx, Next::Keep)
    }

    fn conclude(&mut self, cx: &mut Context<'_>, next: Next) -> Next {
        if next == Next::Close {
            return next;
        }
        self.settle(cx);
        if cx.draining && self.state == State::Idle {
            return Next::Close;
        }
        next
    }

    /// The main loop of a connection: flush, answer buffered input, read, repeat.
    fn drive(&mut self, cx: &mut Context<'_>) -> Next {
        if self.state == State::Lingering {
            return self.discard_input(cx);
        }
        let mut reads = 0;
        loop {
            if self.output_pending() {
                match self.flush_spill(cx) {
                    Ok(true) => {}
                    Ok(false) => return Next::Keep,
                    Err(e) => return self.fail(cx, e),
                }
            }
            if self.closing {
                return self.finish(cx);
            }
            if self.has_deferred_input() {
                self.process_saved(cx);
            } else if self.peer_closed {
                return Next::Close;
            } else if !self.readable {
                return Next::Keep;
            } else if reads == READS_PER_TURN {
                return Next::Yield;
            } else {
                reads += 1;
                if let Err(e) = self.read_and_process(cx) {
                    return self.fail(cx, e);
                }
            }
            if let Err(e) = self.write_out(cx) {
                return self.fail(cx, e);
            }
        }
    }

    /// One `read` into the shared buffer, and everything that can be answered from it.
    fn read_and_process(&mut self, cx: &mut Context<'_>) -> io::Result<()> {
        let n = match self.stream.read(cx.read_buf) {
            Ok(0) => {
                self.on_eof(cx);
                return Ok(());
            }
            Ok(n) => n,
            Err(e) if e.kind() == io::ErrorKind::WouldBlock => {
                self.readable = false;
                return Ok(());
            }
            Err(e) if e.kind() == io::ErrorKind::Interrupted => return Ok(()),
            Err(e) => return Err(e),
        };
        // A short read drained the socket (rule 1).
        self.readable = n == cx.read_buf.len();
        trace!("conn {}: read {n} bytes", cx.id);
        let data = std::mem::take(&mut cx.read_buf);
        self.process_read(cx, &data[..n]);
        cx.read_buf = data;
        Ok(())
    }

    fn on_eof(&mut self, cx: &mut Context<'_>) {
        trace!("conn {}: peer closed its side", cx.id);
        self.peer_closed = true;
        self.readable = false;
        // An incomplete head or body can never complete now; what was complete is answered.
        self.in_body = false;
        if let Some(spill) = self.spill.as_mut() {
            spill.input = Vec::new();
        }
        self.await_input = false;
    }

    fn process_read(&mut self, cx: &mut Context<'_>, data: &[u8]) {
        let Some(spill) = self.spill.as_mut().filter(|s| !s.input.is_empty()) else {
            let (used, stop) = self.consume(cx, data);
            if used < data.len() {
                self.save_input(&data[used..], stop);
            }
            return;
        };
        spill.input.extend_from_slice(data);
        // An incomplete head can only complete with a new line: skip re-parsing the
        // whole head for every byte a slow client trickles in.
        if data.contains(&b'\n') || spill.input.len() >= cx.limits.max_head {
            self.await_input = false;
            self.process_saved(cx);
        }
    }

    /// Answer what the spill holds, keeping what is left.
    fn process_saved(&mut self, cx: &mut Context<'_>) {
        let Some(spill) = self.spill.as_mut() else {
            return;
        };
        let mut input = std::mem::take(&mut spill.input);
        let (used, stop) = self.consume(cx, &input);
        input.drain(..used);
        self.await_input = stop == Stop::Partial;
        if let Some(spill) = self.spill.as_mut() {
            spill.input = input;
        }
        self.release_empty_spill();
    }

    fn save_input(&mut self, rest: &[u8], stop: Stop) {
        let spill = self.spill.get_or_insert_with(Box::default);
        spill.input.extend_from_slice(rest);
        self.await_input = stop == Stop::Partial;
    }

    /// Parse and answer requests from `data` into the output batch.
    fn consume(&mut self, cx: &mut Context<'_>, data: &[u8]) -> (usize, Stop) {
        let mut pos = 0;
        loop {
            if self.closing {
                // Nothing after a final response is processed; remember it was sent.
                self.linger |= pos < data.len();
                return (data.len(), Stop::Done);
            }
            if self.in_body {
                match self.body.skip(&data[pos..], cx.limits) {
                    Ok(skip) => {
                        pos += skip.consumed;
                        self.deadline = cx.now + cx.timeouts.body;
                        if !skip.done {
                            return (pos, Stop::Done);
                        }
                        self.in_body = false;
                        self.respond(cx);
                    }
                    Err(reject) => self.reject(cx, reject.status()),
                }
                continue;
            }
            if pos == data.len() {
                return (pos, Stop::Done);
            }
            if cx.out.len() >= OUT_BATCH_LIMIT {
                return (pos, Stop::Full);
            }
            match framing::parse_head(&data[pos..], cx.limits) {
                Parse::Partial => return (pos, Stop::Partial),
                Parse::Reject(reject) => self.reject(cx, reject.status()),
                Parse::Complete(head) => {
                    pos += head.len;
                    self.begin_request(cx, head);
                }
            }
        }
    }

    fn begin_request(&mut self, cx: &mut Context<'_>, head: Head) {
        cx.stats.requests += 1;
        trace!(
            "conn {}: request head of {} bytes, {:?}",
            cx.id, head.len, head.body
        );
        self.head_completed = true;
        self.is_head = head.is_head;
        self.persistence = head.persistence;
        if head.body == BodyLength::Empty {
            self.respond(cx);
        } else {
            if head.expect_continue {
                cx.out.extend_from_slice(CONTINUE);
            }
            self.body = BodyReader::new(head.body);
            self.in_body = true;
        }
    }

    /// Queue the `200 OK` for the current request.
    fn respond(&mut self, cx: &mut Context<'_>) {
        if cx.draining {
            self.persistence = Persistence::Close;
        }
        cx.out
            .extend_from_slice(cx.responses.ok(self.persistence, self.is_head));
        cx.stats.response(200);
        if self.persistence == Persistence::Close {
            self.closing = true;
            // Input still in the socket would turn our close into a reset.
            self.linger |= self.readable;
        }
    }

    /// Queue an error response; the connection closes (lingering) once it is written.
    fn reject(&mut self, cx: &mut Context<'_>, status: u16) {
        debug!("conn {}: answering {status}", cx.id);
        cx.out.extend_from_slice(cx.responses.error(status));
        cx.stats.response(status);
        self.closing = true;
        self.linger = true;
        self.in_body = false;
        if let Some(spill) = self.spill.as_mut() {
            spill.input = Vec::new();
        }
    }

    /// Write the output batch; what the socket does not take goes to the spill.
    fn write_out(&mut self, cx: &mut Context<'_>) -> io::Result<()> {
        if cx.out.is_empty() {
            return Ok(());
        }
        let mut written = 0;
        let result = if self.output_pending() {
            Ok(()) // keep order: older output goes first
        } else {
            write_some(&mut self.stream, cx.out, &mut written, &mut self.writable)
        };
        if written < cx.out.len() && result.is_ok() {
            trace!("conn {}: wrote {written} of {} bytes", cx.id, cx.out.len());
            let spill = self.spill.get_or_insert_with(Box::default);
            spill.output.extend_from_slice(&cx.out[written..]);
            self.deadline = cx.now + cx.timeouts.write;
        }
        cx.out.clear();
        result
    }

    /// Write spilled output. `Ok(true)`: all of it is out.
    fn flush_spill(&mut self, cx: &mut Context<'_>) -> io::Result<bool> {
        if !self.writable {
            return Ok(false);
        }
        let Some(spill) = self.spill.as_mut() else {
            return Ok(true);
        };
        let before = spill.written;
        write_some(
            &mut self.stream,
            &spill.output,
            &mut spill.written,
            &mut self.writable,
        )?;
        if spill.written > before {
            self.deadline = cx.now + cx.timeouts.write;
            trace!("conn {}: flushed {} bytes", cx.id, spill.written - before);
        }
        if spill.written < spill.output.len() {
            return Ok(false);
        }
        spill.output = Vec::new();
        spill.written = 0;
        self.release_empty_spill();
        Ok(true)
    }

    /// The final response is out: close now, or half-close and linger.
    fn finish(&mut self, cx: &mut Context<'_>) -> Next {
        if !self.linger || self.peer_closed {
            return Next::Close;
        }
        let _ = self.stream.shutdown(Shutdown::Write);
        self.spill = None;
        self.set_state(cx, State::Lingering);
        self.discard_input(cx)
    }

    /// Lingering: read and drop input until EOF, an error or the deadline.
    fn discard_input(&mut self, cx: &mut Context<'_>) -> Next {
        for _ in 0..READS_PER_TURN {
            if !self.readable {
                return Next::Keep;
            }
            match self.stream.read(cx.read_buf) {
                Ok(0) => return Next::Close,
                Ok(n) => self.readable = n == cx.read_buf.len(),
                Err(e) if e.kind() == io::ErrorKind::WouldBlock => self.readable = false,
                Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
                Err(_) => return Next::Close,
            }
        }
        Next::Yield
    }

    fn fail(&mut self, cx: &mut Context<'_>, error: io::Error) -> Next {
        debug!("conn {}: {error}", cx.id);
        cx.stats.io_errors += 1;
        Next::Close
    }

    /// Derive the state from what the connection holds, after a call.
    fn settle(&mut self, cx: &mut Context<'_>) {
        let next = if self.state == State::Lingering {
            State::Lingering
        } else if self.output_pending() {
            State::Writing
        } else if self.in_body {
            State::ReadingBody
        } else if self.spill.as_ref().is_some_and(|s| !s.input.is_empty()) {
            State::ReadingHead
        } else {
            State::Idle
        };
        // A new head started since the last call gets its own header deadline.
        if next != self.state || (next == State::ReadingHead && self.head_completed) {
            self.set_state(cx, next);
        }
        self.head_completed = false;
    }

    /// Every transition goes through here: one log line, one deadline.
    fn set_state(&mut self, cx: &mut Context<'_>, next: State) {
        trace!("conn {}: {} => {}", cx.id, self.state, next);
        let t = cx.timeouts;
        self.deadline = cx.now
            + match next {
                State::Idle => t.keep_alive,
                State::ReadingHead => t.header,
                State::ReadingBody => t.body,
                State::Writing => t.write,
                State::Lingering => t.linger,
            };
        self.state = next;
    }

    fn output_pending(&self) -> bool {
        self.spill.as_ref().is_some_and(|s| !s.output.is_empty())
    }

    fn has_deferred_input(&self) -> bool {
        !self.await_input && self.spill.as_ref().is_some_and(|s| !s.input.is_empty())
    }

    fn release_empty_spill(&mut self) {
        if self
            .spill
            .as_ref()
            .is_some_and(|s| s.input.is_empty() && s.output.is_empty())
        {
            self.spill = None;
        }
    }
}

/// Write `buf[*written..]` until done or the socket is full. A short write means the
/// send buffer is full; the kernel will raise a writable edge when it drains.
fn write_some(
    stream: &mut TcpStream,
    buf: &[u8],
    written: &mut usize,
    writable: &mut bool,
) -> io::Result<()> {
    while *written < buf.len() {
        match stream.write(&buf[*written..]) {
            Ok(0) => return Err(io::ErrorKind::WriteZero.into()),
            Ok(n) => {
                *written += n;
                if *written < buf.len() {
                    *writable = false;
                    return Ok(());
                }
            }
            Err(e) if e.kind() == io::ErrorKind::WouldBlock => {
                *writable = false;
                return Ok(());
            }
            Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
            Err(e) => return Err(e),
        }
    }
    Ok(())
}
