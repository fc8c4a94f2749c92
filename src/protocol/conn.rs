//! One HTTP/1.1 connection as a state machine: bytes and "now" in, answers and
//! "what I wait for, until when" out.
//!
//! [`Conn`] never touches a socket. Its driver (the reactor's, or a blocking loop)
//! does the reads and writes and tells it what happened:
//!
//! | the driver saw                       | it calls                          |
//! |--------------------------------------|-----------------------------------|
//! | input bytes                          | [`Conn::process`]                 |
//! | end of input (read returned 0)       | [`Conn::eof`]                     |
//! | the socket took only part of the answers | [`Conn::write_blocked`]       |
//! | the socket took more of them         | [`Conn::write_progress`]          |
//! | every answer is written              | [`Conn::sent`]                    |
//! | the deadline ([`Conn::poll_at`]) passed | [`Conn::expire`]               |
//! | a graceful shutdown began            | [`Conn::drain`]                   |
//!
//! and asks [`Conn::wants`] what to do next: read more input, wait for room in the
//! socket, drain input after a half-close, or close. Time is a number passed in
//! ([`Cx::now`]), so every deadline can be tested by advancing it.
//!
//! Rules this file applies, each with its reason:
//! - **Answers are appended to the caller's [`Batch`](super::Batch)**, in request order, so the
//!   driver writes every answer to one read with one `write`.
//! - **Nothing after a final answer is parsed.** An error answer, a `Connection:
//!   close` answer, or any answer while draining ends the input; what follows is
//!   counted as a reason to linger, never answered.
//! - **Backpressure.** `process` stops parsing once the batch holds
//!   [`OUT_BATCH_LIMIT`] bytes and returns the rest: unanswered input waits until
//!   the answers are written.
//! - **A repeated head costs one comparison** ([`HeadMemo`](super::framing::HeadMemo)), and bodies are skipped,
//!   never stored ([`BodyReader`]).

use log::{debug, trace};

pub use super::common::{ConnId, Cx};
use super::framing::{BodyLength, BodyReader, Head, Parse, Persistence, Reject};
use super::phase::{Phase, Timeouts};
use super::response::CONTINUE;

mod held;

/// Output batch size past which no further request is parsed until it is written.
pub const OUT_BATCH_LIMIT: usize = 64 * 1024;

/// Why [`Conn::process`] stopped.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Stop {
    /// Every byte was consumed.
    Done,
    /// The rest is an incomplete head: present it again with more bytes.
    Partial,
    /// The batch is full: present the rest again once it is written.
    Full,
}

/// What a connection needs next from its driver.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Want {
    /// Input: read and [`process`](Conn::process) it.
    Input,
    /// Room in the socket for the answers it has not taken.
    Room,
    /// Nothing until [`Conn::poll_at`]: answers are held (`--delay`), and input
    /// waits until they are out. Then call [`Conn::expire`].
    Wait,
    /// The write side is shut: read and drop input until EOF.
    Drain,
    /// Close the socket.
    Close,
}

/// Where the input stands, whatever the output is doing.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Input {
    /// Between requests.
    Boundary,
    /// Unanswered bytes are buffered by the driver: an incomplete head, or heads
    /// left for after a full batch.
    Head,
    /// Inside a request body.
    Body,
    /// A final answer is queued: nothing more is parsed.
    Ended,
}

/// The HTTP/1.1 state of one connection. Small: thousands of idle ones sit in the
/// reactor's slab.
#[derive(Debug)]
pub struct Conn {
    phase: Phase,
    input: Input,
    /// The current request is `HEAD`.
    headers_only: bool,
    /// The current request's persistence.
    persistence: Persistence,
    /// Close with a lingering drain: the client may still be sending.
    linger: bool,
    /// The client shut its write side.
    peer_closed: bool,
    /// When the current phase times out, in the driver's milliseconds.
    deadline: u64,
    body: BodyReader,
    /// Answers held by `--delay` (see `held.rs`); `None` without it.
    held: Option<Box<held::Held>>,
}

impl Conn {
    /// A new connection, idle until its first byte.
    pub fn new(now: u64, timeouts: &Timeouts) -> Conn {
        Conn {
            phase: Phase::Idle,
            input: Input::Boundary,
            headers_only: false,
            persistence: Persistence::KeepAlive,
            linger: false,
            peer_closed: false,
            deadline: now + timeouts.keep_alive,
            body: BodyReader::new(BodyLength::Empty),
            held: None,
        }
    }

    /// The phase the connection is in.
    pub fn phase(&self) -> Phase {
        self.phase
    }

    /// When the current phase times out: call [`Conn::expire`] at or after it.
    pub fn poll_at(&self) -> u64 {
        self.deadline
    }

    /// What the driver should do next.
    pub fn wants(&self) -> Want {
        match self.phase {
            Phase::Idle | Phase::Head | Phase::Body => Want::Input,
            Phase::Write => Want::Room,
            Phase::Hold => Want::Wait,
            Phase::Linger => Want::Drain,
            Phase::Closed => Want::Close,
        }
    }

    /// A final answer is queued: input is no longer parsed.
    pub fn input_ended(&self) -> bool {
        self.input == Input::Ended
    }

    /// Parse and answer requests from `data` into `cx.out`. Returns how many bytes
    /// were consumed; the driver keeps the rest and presents it again (with more
    /// bytes after [`Stop::Partial`], as it is after [`Stop::Full`]).
    pub fn process(&mut self, cx: &mut Cx<'_>, data: &[u8]) -> (usize, Stop) {
        let mut pos = 0;
        let mut completed = false;
        let stop = loop {
            match self.input {
                Input::Ended => {
                    // What follows a final answer is never answered, but the client
                    // may be sending more: close gently.
                    self.linger |= pos < data.len();
                    pos = data.len();
                    break Stop::Done;
                }
                Input::Body => {
                    match self.body.skip(&data[pos..], cx.limits) {
                        Ok(skip) => {
                            pos += skip.consumed;
                            self.deadline = cx.now + cx.timeouts.body;
                            if !skip.done {
                                break Stop::Done;
                            }
                            self.input = Input::Boundary;
                            self.respond(cx);
                        }
                        Err(reject) => self.reject(cx, reject),
                    }
                    continue;
                }
                Input::Boundary | Input::Head => {}
            }
            if pos == data.len() {
                self.input = Input::Boundary;
                break Stop::Done;
            }
            if cx.out.len() >= OUT_BATCH_LIMIT || cx.out.tail() > 0 || self.held_full() {
                self.input = Input::Head;
                break Stop::Full;
            }
            match cx.memo.parse(&data[pos..], cx.limits) {
                Parse::Partial => {
                    self.input = Input::Head;
                    break Stop::Partial;
                }
                Parse::Reject(reject) => self.reject(cx, reject),
                Parse::Complete(head) => {
                    pos += head.len;
                    completed = true;
                    self.begin_request(cx, head, pos < data.len());
                }
            }
        };
        self.follow_input(cx, completed);
        (pos, stop)
    }

    /// The client shut its write side: an incomplete request can never complete, so
    /// the connection closes once what was answered is written.
    pub fn eof(&mut self, cx: &mut Cx<'_>) {
        trace!("{}: peer closed its side", cx.id);
        self.peer_closed = true;
        if self.input != Input::Ended {
            self.input = Input::Boundary;
        }
        if !matches!(self.phase, Phase::Write | Phase::Hold) {
            self.set_phase(cx, Phase::Closed);
        }
    }

    /// The socket took only part of the answers; the rest waits in the driver.
    pub fn write_blocked(&mut self, cx: &mut Cx<'_>) {
        self.set_phase(cx, Phase::Write);
    }

    /// The socket took more of the waiting answers: the write timeout starts again.
    pub fn write_progress(&mut self, cx: &mut Cx<'_>) {
        self.deadline = cx.now + cx.timeouts.write;
    }

    /// Every answer is written. `input_may_wait`: the socket may hold unread input,
    /// which a plain close would answer with a reset.
    pub fn sent(&mut self, cx: &mut Cx<'_>, input_may_wait: bool) {
        if self.holding() {
            self.set_phase(cx, Phase::Hold);
        } else if self.input == Input::Ended {
            let linger = (self.linger || input_may_wait) && !self.peer_closed;
            self.set_phase(cx, if linger { Phase::Linger } else { Phase::Closed });
        } else if self.peer_closed {
            self.set_phase(cx, Phase::Closed);
        } else if matches!(self.phase, Phase::Write | Phase::Hold) {
            let next = self.input_phase();
            self.set_phase(cx, next);
            self.close_if_draining(cx);
        }
    }

    /// The deadline passed. A request under way is answered `408` first; held
    /// answers that are due are appended to `cx.out`.
    pub fn expire(&mut self, cx: &mut Cx<'_>) {
        match self.phase {
            Phase::Hold => return self.release(cx),
            Phase::Closed => return,
            _ => debug!("{}: {} timed out", cx.id, self.phase),
        }
        match self.phase {
            Phase::Hold | Phase::Closed => {}
            Phase::Linger => self.set_phase(cx, Phase::Closed),
            Phase::Idle | Phase::Write => {
                cx.stats.timeouts += 1;
                self.set_phase(cx, Phase::Closed);
            }
            Phase::Head | Phase::Body => {
                cx.stats.timeouts += 1;
                self.reject(cx, Reject::RequestTimeout);
            }
        }
    }

    /// A graceful shutdown began (`cx.draining` is now set): an idle connection
    /// closes now, a busy one after its current answer, which will be final.
    pub fn drain(&mut self, cx: &mut Cx<'_>) {
        self.close_if_draining(cx);
    }

    fn begin_request(&mut self, cx: &mut Cx<'_>, head: Head, body_arrived: bool) {
        cx.stats.requests += 1;
        trace!(
            "{}: request head of {} bytes, {:?}",
            cx.id, head.len, head.body
        );
        self.headers_only = head.headers_only;
        self.persistence = head.persistence;
        if head.body == BodyLength::Empty {
            self.respond(cx);
            return;
        }
        // RFC 9110 §10.1.1: a server may omit `100 Continue` when it already has
        // (some of) the body; the client then reads just the final answer.
        if head.expect_continue && !body_arrived {
            if self.holding() {
                self.hold_continue(cx);
            } else {
                cx.out.push(CONTINUE);
            }
        }
        self.body = BodyReader::new(head.body);
        self.input = Input::Body;
    }

    /// Queue the fixed answer for the current request.
    fn respond(&mut self, cx: &mut Cx<'_>) {
        if cx.draining {
            // The client did not choose this close and may be sending its next
            // request: drain it rather than answer it with a reset.
            self.persistence = Persistence::Close;
            self.linger = true;
        }
        if cx.faults.on {
            self.respond_with_faults(cx); // one branch on a setting off by default
        } else {
            let responses = cx.responses;
            cx.out
                .push(responses.ok(self.persistence, self.headers_only));
            cx.out.stream(responses.streamed(self.headers_only));
            cx.stats.response(responses.ok_status());
        }
        if self.persistence == Persistence::Close {
            self.input = Input::Ended;
        }
    }

    /// Queue an error answer; the connection closes (lingering) once it is written.
    fn reject(&mut self, cx: &mut Cx<'_>, reject: Reject) {
        debug!("{}: {reject}", cx.id);
        let responses = cx.responses;
        if self.holding() {
            self.hold_error(cx, reject);
        } else {
            cx.out.push(responses.error(reject));
        }
        cx.stats.response(reject.status());
        self.input = Input::Ended;
        self.linger = true;
    }

    /// After input was processed: the phase follows where the input stands. A
    /// request completed in this call restarts the deadline of the phase it left
    /// (the next head gets its own header time; keep-alive counts from the answer).
    fn follow_input(&mut self, cx: &mut Cx<'_>, completed: bool) {
        if self.holding() {
            if self.phase != Phase::Write {
                self.set_phase(cx, Phase::Hold);
            }
            return;
        }
        if self.input == Input::Ended || self.phase == Phase::Write {
            return;
        }
        let next = self.input_phase();
        let restart = completed && matches!(next, Phase::Head | Phase::Idle);
        if next != self.phase || restart {
            self.set_phase(cx, next);
        }
        self.close_if_draining(cx);
    }

    fn input_phase(&self) -> Phase {
        match self.input {
            Input::Boundary | Input::Ended => Phase::Idle,
            Input::Head => Phase::Head,
            Input::Body => Phase::Body,
        }
    }

    fn close_if_draining(&mut self, cx: &mut Cx<'_>) {
        if cx.draining && self.phase == Phase::Idle {
            self.set_phase(cx, Phase::Closed);
        }
    }

    /// Every transition goes through here: one log line, one deadline.
    fn set_phase(&mut self, cx: &mut Cx<'_>, next: Phase) {
        if next != self.phase {
            trace!("{}: {} => {}", cx.id, self.phase, next);
        }
        if let Some(timeout) = cx.timeouts.of(next) {
            self.deadline = cx.now + timeout;
        } else if let Some(due) = self.next_due() {
            self.deadline = due; // Phase::Hold: when the next held answer is due
        }
        self.phase = next;
    }
}
