//! One client connection as the reactor sees it: a socket, its protocol core, and
//! the bytes the two could not agree on yet.
//!
//! Two names that look alike: [`Connection`] (here, the reactor's slab entry) owns
//! the socket, the spill buffers and the readiness flags, and holds in its field
//! `core` a [`Core`] (the protocol core: the HTTP/1.1 or HTTP/2 state machine, no
//! socket; see `cores.rs`). `Connection` does the `read` and `write` calls and
//! feeds its `core`, which decides everything about HTTP. Its first bytes choose
//! the core (`driver/input.rs`, rule 6). Each call also borrows `cx.shared`: the part of
//! the loop that every connection shares (rendered answers, limits, timeouts, the
//! head memo, counters and the output batch), lent to one call at a time. The loop calls [`Connection::ready`] when the socket may
//! be readable or writable, [`Connection::expire`] when the core's deadline has
//! passed and [`Connection::drain`] when a shutdown begins; each returns a [`Next`],
//! and the loop acts on it after the call (so a handler never frees itself).
//!
//! Rules, each with its reason:
//! 1. **Readiness is a hint and edge-triggered.** The connection remembers whether
//!    the socket may still hold input (`readable`) or take output (`writable`) and
//!    clears a flag only when the kernel says so: `WouldBlock`, or a short read or
//!    write. A short read drained the socket at that instant; any later byte raises
//!    a new edge, so the `read` that could only fail with `WouldBlock` is skipped.
//!    The exception is a FIN that arrived with the data: its edge is already spent,
//!    so once an event reports `read_closed` the connection reads on until `Ok(0)`.
//! 2. **Input lives in the loop's buffer.** Reads go into one reactor-wide buffer.
//!    Only bytes the core could not answer yet (an incomplete head) are copied into a
//!    per-connection `Spill`, freed as soon as it is empty: an idle connection
//!    holds no buffer at all.
//! 3. **One read, one write.** Every answer to one read goes out in one `write` of
//!    the batch. What the socket does not take is copied into the spill and written,
//!    unchanged and in order, before anything newer; while it waits, nothing is read
//!    (backpressure).
//! 4. **Fairness.** At most [`READS_PER_TURN`] reads per call; a connection with more
//!    input returns [`Next::Yield`], and the loop calls it again after every other
//!    event of the turn.
//! 5. **Closing is staged.** When the core lingers, the write side is shut and input
//!    is read and dropped until EOF (RFC 9112 §9.6), so the client reads the answer
//!    instead of a reset.
//! 6. **The first bytes choose the protocol.** With `--http2 on`, a connection
//!    starts as HTTP/1.1 its `setup` is `Sniff`: bytes that begin the HTTP/2 preface
//!    are held until they make it whole (then an HTTP/2 session takes them) or
//!    stray from it (then HTTP/1.1 does, as ever). Once chosen, the choice costs
//!    nothing more: the flag is checked only while input is read.

use std::fmt;
use std::io;

use log::debug;

use super::context::Context;
use super::cores::Core;
use super::metrics::CloseReason;
use super::stream::Stream;
use crate::protocol::Want;

mod input;
mod output;

use input::Setup;

/// Size of the loop's shared read buffer.
pub const READ_BUF_SIZE: usize = 64 * 1024;
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

/// Bytes a connection must keep between calls; allocated only while non-empty.
#[derive(Debug, Default)]
struct Spill {
    /// Unanswered input, starting at a request head.
    input: Vec<u8>,
    /// Output the socket has not taken.
    output: Vec<u8>,
    /// Bytes of `output` already written.
    written: usize,
    /// A streamed body (`--body-size`) follows `output`: bytes of it written so
    /// far, and its length (equal when there is none).
    stream_at: u64,
    stream_end: u64,
}

/// A client connection: the slab entry. Kept small, so that ten thousand idle ones
/// cost well under 128 bytes each.
#[derive(Debug)]
pub struct Connection {
    stream: Stream,
    /// The protocol core (HTTP/1.1 or HTTP/2): this connection's own state.
    core: Core,
    spill: Option<Box<Spill>>,
    /// The socket may hold unread input.
    readable: bool,
    /// The peer's FIN has been reported: read until `Ok(0)`, however short the reads.
    read_closed: bool,
    /// The socket may accept output.
    writable: bool,
    /// Whether the first bytes may still choose the core, and whether
    /// `TCP_NODELAY` is set (see `set_nodelay`): one byte for both.
    setup: Setup,
    /// The spilled input is an incomplete head: present it again only when a new
    /// line arrives (a head can only complete with one).
    head_waits: bool,
    /// The loop's: on its deferred list, so yielding cannot multiply its turns.
    queued: bool,
    /// The loop's: the socket is registered for writable edges too.
    writable_interest: bool,
    /// Why it is closing, once known (counted when it leaves the slab).
    close_reason: Option<CloseReason>,
}

impl Connection {
    /// A freshly accepted connection, idle until its first byte; with `sniff`,
    /// those bytes may still choose HTTP/2.
    pub fn new(stream: Stream, core: Core, sniff: bool) -> Connection {
        Connection {
            stream,
            core,
            setup: if sniff { Setup::Sniff } else { Setup::Chosen },
            spill: None,
            readable: false,
            read_closed: false,
            writable: true,
            head_waits: false,
            queued: false,
            writable_interest: false,
            close_reason: None,
        }
    }

    /// Why it closed: the first reason noted, else a final answer sent.
    pub fn close_reason(&self) -> CloseReason {
        self.close_reason.unwrap_or(CloseReason::Done)
    }

    /// Note why it is closing, unless a reason is already known (a timeout's 408
    /// ends in a close that the timeout, not the answer, caused).
    pub fn note_close(&mut self, reason: CloseReason) {
        self.close_reason.get_or_insert(reason);
    }

    /// The socket, for (de)registration; with TLS, its layer (ALPN, say).
    pub fn stream(&self) -> &Stream {
        &self.stream
    }

    /// The socket, for (de)registration.
    pub fn stream_mut(&mut self) -> &mut Stream {
        &mut self.stream
    }

    /// The protocol core.
    pub fn core(&self) -> &Core {
        &self.core
    }

    /// A time to be woken at that the loop has not been told of: held answers
    /// (`--delay`) are due then.
    pub fn new_wake_up(&mut self) -> Option<u64> {
        self.core.new_wake_up()
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

    /// The socket may be readable and/or writable: make all the progress allowed.
    pub fn ready(&mut self, cx: &mut Context<'_>, readiness: Readiness) -> Next {
        self.readable |= readiness.readable || readiness.read_closed;
        self.writable |= readiness.writable;
        self.read_closed |= readiness.read_closed;
        self.drive(cx)
    }

    /// When to call [`Connection::expire`]: the core's deadline, or a TLS
    /// handshake's if that comes first (the core does not see the handshake).
    pub fn poll_at(&self) -> u64 {
        let at = self.core.poll_at();
        self.stream
            .handshake_deadline()
            .map_or(at, |tls| at.min(tls))
    }

    /// The core's deadline has passed: it closes, or answers `408` first. A TLS
    /// handshake past the header timeout just closes.
    pub fn expire(&mut self, cx: &mut Context<'_>) -> Next {
        if self
            .stream
            .handshake_deadline()
            .is_some_and(|at| at <= cx.shared.now)
        {
            self.note_close(CloseReason::HeaderTimeout);
            return Next::Close;
        }
        if let Some(reason) = self.core.timeout_reason() {
            self.note_close(reason);
        }
        self.core.expire(cx);
        if self.core.wants() == Want::Close {
            return Next::Close;
        }
        if self.core.input_ended()
            && let Some(spill) = self.spill.as_mut()
        {
            spill.input = Vec::new(); // never to be answered now
        }
        if let Err(e) = self.write_out(cx) {
            return self.fail(cx, e);
        }
        self.drive(cx)
    }

    /// A graceful shutdown began: idle connections close now, busy ones after their
    /// current answer (which will say `Connection: close`).
    pub fn drain(&mut self, cx: &mut Context<'_>) -> Next {
        self.core.drain(cx);
        if self.core.wants() == Want::Close {
            self.note_close(CloseReason::Shutdown);
            return Next::Close;
        }
        // HTTP/2 says GOAWAY, naming the last stream it will answer.
        if let Err(e) = self.write_out(cx) {
            return self.fail(cx, e);
        }
        Next::Keep
    }

    /// The connection's loop: flush, answer buffered input, read, write, repeat.
    fn drive(&mut self, cx: &mut Context<'_>) -> Next {
        let mut reads = 0;
        loop {
            if self.output_pending() {
                match self.flush_spill(cx) {
                    Ok(true) => {}
                    Ok(false) => return Next::Keep,
                    Err(e) => return self.fail(cx, e),
                }
            }
            match self.core.wants() {
                Want::Close => return Next::Close,
                Want::Drain => return self.discard_input(cx),
                Want::Room | Want::Wait => return Next::Keep,
                Want::Input => {}
            }
            if self.has_deferred_input() {
                self.process_saved(cx);
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
        debug!("{}: {error}", cx.shared.id);
        let reason = CloseReason::of_error(&error);
        self.note_close(reason);
        if reason == CloseReason::Reset {
            cx.shared.stats.resets += 1;
        } else {
            cx.shared.stats.io_errors += 1;
        }
        Next::Close
    }

    /// Output waits: in the spill, or (TLS) records the socket did not take.
    fn output_pending(&self) -> bool {
        self.spill
            .as_ref()
            .is_some_and(|s| !s.output.is_empty() || s.stream_at < s.stream_end)
            || self.stream.pending_output()
    }

    /// After a read of `n` bytes into a buffer of `capacity`: may more input wait?
    /// A short read drained the socket (rule 1), unless a FIN is known to be pending:
    /// its edge was already reported, so only reading on to `Ok(0)` will see it; or
    /// the stream says input waits (TLS: plaintext is shorter than its records).
    fn more_input_after_read(&self, n: usize, capacity: usize) -> bool {
        n == capacity || self.read_closed || self.stream.input_waits()
    }

    fn has_deferred_input(&self) -> bool {
        !self.head_waits && self.spill.as_ref().is_some_and(|s| !s.input.is_empty())
    }

    fn release_empty_spill(&mut self) {
        if self.spill.as_ref().is_some_and(|s| {
            s.input.is_empty() && s.output.is_empty() && s.stream_at == s.stream_end
        }) {
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
        // The TCP/Unix `Stream` enum adds a tag: 8 bytes in release, where it fills
        // what was padding (64 bytes before and after), and 8 in debug (72 -> 80).
        // The core's pointer to its held answers (`--delay`, `None` otherwise) and
        // the stream's third variant, TLS (one pointer to rustls's state, `tls.rs`),
        // each add 8 bytes: no padding was left to absorb them (64 -> 80 in release,
        // 80 -> 88 in debug). 10,000 plain connections pay 160 KB for the options.
        let budget = if cfg!(debug_assertions) { 88 } else { 80 };
        let size = std::mem::size_of::<Connection>();
        eprintln!("Connection is {size} bytes (budget {budget})");
        assert!(size <= budget, "Connection is {size} bytes");
        assert!(std::mem::size_of::<slab::Slab<Connection>>() <= 64);
    }
}
