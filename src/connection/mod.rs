//! One client connection: a state machine driven by readiness hints.
//!
//! A connection owns its socket and its parsing state, never the loop. The loop calls
//! [`Connection::ready`] when the socket may be readable or writable, and
//! [`Connection::expire`] when the connection's deadline has passed; each returns a
//! [`Next`] — keep going, call again once the others had their turn, or close — and
//! the loop acts on it after the handler has returned (so a handler never frees
//! itself mid-call).
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
//! (Every transition, with its trigger and timeout: `docs/architecture.md`.)
//!
//! Rules, each with its reason:
//! 1. **Readiness is a hint and edge-triggered.** The connection remembers whether the
//!    socket may still hold input (`readable`) or take output (`writable`) and clears
//!    the flag only when the kernel says so: `WouldBlock`, or a short read/write. A short
//!    read means the socket was drained at that instant; any byte arriving later raises
//!    a new edge, so no extra `read` that must fail with `WouldBlock` is needed. The
//!    exception is a FIN that arrived with the data: its edge is already spent, so once
//!    an event reports `read_closed` the connection reads on until `Ok(0)`.
//! 2. **Input lives in the loop's buffer.** Reads go into one reactor-wide buffer. Only
//!    bytes that cannot be answered yet (an incomplete head) are copied into a
//!    per-connection `Spill`, which is freed as soon as it is empty: an idle
//!    connection holds no buffer at all.
//! 3. **Responses are batched.** Every request in a read is answered into one output
//!    [`Batch`], written with one `write`. A lone answer is written from where it was
//!    rendered, without a copy. What the socket does not take is copied into the
//!    spill, so bytes that started to go out are finished unchanged.
//! 4. **Backpressure.** While output waits, the connection reads nothing more; once the
//!    batch reaches [`OUT_BATCH_LIMIT`], unanswered input waits in the spill. Memory per
//!    connection is bounded by one read (64 KiB) of unanswered input, or an
//!    unfinished head of at most `max_head`, plus one batch: `OUT_BATCH_LIMIT` and
//!    the one response that crossed it (with a large `--body-file`, that response).
//! 5. **Fairness.** At most [`READS_PER_TURN`] reads per call; a connection with more
//!    input returns [`Next::Yield`]; the loop calls it again after every other event
//!    of the turn, and does not sleep in `poll` while a connection waits for that.
//! 6. **Closing is staged.** After an error response, when the client sent more than
//!    we will read, or when a shutdown closes a connection the client meant to keep,
//!    the write side is shut and input is drained for `linger_timeout`
//!    (RFC 9112 §9.6), so the client reads our answer instead of a reset.

use std::fmt;
use std::io;

use log::debug;
use mio::net::TcpStream;

mod input;
mod output;
mod state;

pub use crate::protocol::Batch;
pub use state::{State, Timeouts};

use crate::protocol::framing::{BodyLength, BodyReader, HeadMemo, Limits, Persistence};
use crate::protocol::response::{REQUEST_TIMEOUT, Responses};
use crate::protocol::stats::Stats;

/// Size of the loop's shared read buffer.
pub const READ_BUF_SIZE: usize = 64 * 1024;
/// Output batch size past which no further request is parsed until it is written.
pub const OUT_BATCH_LIMIT: usize = 64 * 1024;
/// Reads one connection may do per loop turn before others get their turn.
pub const READS_PER_TURN: u32 = 4;

/// What an event reported about a socket. Every flag is a hint.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Readiness {
    /// Input (or an error) may be waiting.
    pub readable: bool,
    /// Output may be accepted.
    pub writable: bool,
    /// The peer's FIN (or an error) has arrived: a short read has not reached EOF yet.
    pub read_closed: bool,
}

impl Readiness {
    /// A socket just accepted after its first bytes arrived (deferred accept): data
    /// waits, and an empty send buffer has room. Whether the peer already sent its
    /// FIN is unknown; a read that returns 0 finds out.
    pub const FRESH: Readiness = Readiness {
        readable: true,
        writable: true,
        read_closed: false,
    };
}

impl fmt::Display for Readiness {
    /// `event: readable writable`, or `deferred turn` when nothing was reported.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if *self == Readiness::default() {
            return write!(f, "deferred turn");
        }
        write!(f, "event:")?;
        for (set, name) in [
            (self.readable, " readable"),
            (self.writable, " writable"),
            (self.read_closed, " read-closed"),
        ] {
            if set {
                write!(f, "{name}")?;
            }
        }
        Ok(())
    }
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
    /// The last head parsed, to answer a repeated head without parsing it.
    pub memo: &'a mut HeadMemo,
    /// Timeouts.
    pub timeouts: &'a Timeouts,
    /// Counters.
    pub stats: &'a mut Stats,
    /// The shared read buffer.
    pub read_buf: &'a mut [u8],
    /// The answers to write; empty between calls.
    pub out: Batch<'a>,
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

/// A client connection. Kept small: ten thousand idle ones should cost well under
/// 128 bytes each.
#[derive(Debug)]
pub struct Connection {
    stream: TcpStream,
    state: State,
    /// The socket may hold unread input.
    readable: bool,
    /// The peer's FIN has been reported: read until `Ok(0)`, however short the reads.
    read_closed: bool,
    /// On the loop's deferred list: queue it once, so yielding cannot multiply its turns.
    queued: bool,
    /// `TCP_NODELAY` is set (see `set_nodelay`).
    nodelay: bool,
    /// The socket is registered for writable edges too (see `Server::watch_writable`).
    writable_interest: bool,
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
            read_closed: false,
            queued: false,
            nodelay: false,
            writable_interest: false,
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

    /// Output waits for room in the socket, but the loop is not yet watching for it.
    pub fn needs_writable_interest(&self) -> bool {
        !self.writable_interest && self.output_pending()
    }

    /// The loop now reports writable edges for this socket.
    pub fn writable_interest_added(&mut self) {
        self.writable_interest = true;
    }

    /// Put on the deferred list: `true` if it was not there already.
    pub fn mark_queued(&mut self) -> bool {
        !std::mem::replace(&mut self.queued, true)
    }

    /// Taken off the deferred list for its turn.
    pub fn unqueue(&mut self) {
        self.queued = false;
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
    pub fn ready(&mut self, cx: &mut Context<'_>, readiness: Readiness) -> Next {
        self.readable |= readiness.readable || readiness.read_closed;
        self.writable |= readiness.writable;
        self.read_closed |= readiness.read_closed;
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

    fn fail(&mut self, cx: &mut Context<'_>, error: io::Error) -> Next {
        debug!("conn {}: {error}", cx.id);
        cx.stats.io_errors += 1;
        Next::Close
    }

    fn output_pending(&self) -> bool {
        self.spill.as_ref().is_some_and(|s| !s.output.is_empty())
    }

    /// After a read of `n` bytes into a buffer of `capacity`: may more input wait?
    /// A short read drained the socket (rule 1), unless a FIN is known to be pending:
    /// its edge was already reported, so only reading on to `Ok(0)` will see it.
    fn more_input_after_read(&self, n: usize, capacity: usize) -> bool {
        n == capacity || self.read_closed
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_connection_stays_small() {
        // One lives in the slab per open connection; the budget is 128 bytes of RSS each.
        // mio's TcpStream carries a selector id in debug builds only (+16 bytes).
        let budget = if cfg!(debug_assertions) { 80 } else { 64 };
        let size = std::mem::size_of::<Connection>();
        assert!(size <= budget, "Connection is {size} bytes");
        assert!(std::mem::size_of::<slab::Slab<Connection>>() <= 64);
    }
}
