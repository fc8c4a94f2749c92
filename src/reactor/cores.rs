//! The protocol core a connection runs: HTTP/1.1's [`Conn`] or HTTP/2's
//! [`Session`], driven through the same calls.
//!
//! Both cores are sans-I/O state machines with one interface (`process`, `eof`,
//! `write_blocked`, `write_progress`, `sent`, `expire`, `drain`, then `wants` and
//! `poll_at`), so the driver (`driver.rs`) does its reads and writes once and
//! calls [`Core`], which forwards to the one it holds. The differences stay here:
//!
//! - **What each borrows.** HTTP/1.1 borrows the loop's `Cx` as it is; HTTP/2
//!   borrows the same clock, timeouts, counters and output buffer, plus the
//!   loop's [`H2Shared`] (its encoded answer and limits), built by [`h2_cx`].
//! - **Output.** HTTP/2 appends frames to a plain `Vec<u8>`: the batch's own
//!   buffer ([`Batch::bytes_mut`](crate::protocol::batch::Batch::bytes_mut)), so
//!   the driver writes either core's output with the same code.
//! - **Size.** HTTP/2 is boxed: a session is larger than a whole HTTP/1.1
//!   connection, and the slab entry of every HTTP/1.1 connection must not grow.
//! - **Timers.** A session's deadlines (header, SETTINGS ack, body, write,
//!   keep-alive, linger) are timeouts: the coarse sweep of `ticker.rs` finds them
//!   through [`Core::poll_at`]. Only held answers (`--delay`), of either core,
//!   need a precise wake-up.

use std::fmt;
use std::time::SystemTime;

use super::context::Context;
use super::metrics::CloseReason;
use crate::config::{Config, Http2Mode};
use crate::protocol::h2::{self, Session, Stage, Timer, answer::H2Answer};
use crate::protocol::{Conn, Phase, Stop, Want};

/// What every HTTP/2 connection of one loop shares: the answer's field block,
/// encoded once (its `date` refreshed with HTTP/1.1's), and the limits.
#[derive(Debug)]
pub struct H2Shared {
    /// The answer every stream gets.
    pub answer: H2Answer,
    /// Streams, header block and body limits, flood budgets.
    pub limits: h2::Limits,
    /// The injected failure (`--fail-rate`), when one is set.
    pub failure: Option<H2Answer>,
    /// Which protocols a connection may speak.
    pub mode: Http2Mode,
}

impl H2Shared {
    /// For `config`, with the answer dated `now`. A large `--body-size` body is
    /// cut from the pattern's shared block, as HTTP/1.1's is (`h2/answer.rs`).
    pub fn new(config: &Config, now: SystemTime) -> H2Shared {
        let settings = config.protocol();
        H2Shared {
            answer: H2Answer::new(&settings.answer, now),
            limits: config.h2_limits(),
            failure: H2Answer::failure(&settings.faults, now),
            mode: config.http2,
        }
    }

    /// Re-render `date` in every field block if `now` is in a later second.
    pub fn refresh_date(&mut self, now: SystemTime) {
        self.answer.refresh_date(now);
        if let Some(failure) = self.failure.as_mut() {
            failure.refresh_date(now);
        }
    }
}

/// Lend the loop's state to one call of an HTTP/2 session.
pub fn h2_cx<'b>(cx: &'b mut Context<'_>) -> h2::Cx<'b> {
    h2::Cx {
        id: cx.shared.id,
        now: cx.shared.now,
        draining: cx.shared.draining,
        answer: &cx.h2.answer,
        failure: cx.h2.failure.as_ref(),
        faults: &mut *cx.shared.faults,
        limits: &cx.h2.limits,
        timeouts: cx.shared.timeouts,
        stats: &mut *cx.shared.stats,
        out: cx.shared.out.bytes_mut(),
    }
}

/// A connection's protocol core.
#[derive(Debug)]
pub enum Core {
    /// HTTP/1.1, the state kept inline.
    Http1(Conn),
    /// HTTP/2, boxed (see the module doc).
    Http2(Box<Session>),
}

impl Core {
    /// A new HTTP/2 session at `now`, waiting for the client preface.
    pub fn http2(cx: &Context<'_>) -> Core {
        Core::Http2(Box::new(Session::new(cx.shared.now, cx.shared.timeouts)))
    }

    /// Answer what `data` holds; see [`Conn::process`].
    #[inline]
    pub fn process(&mut self, cx: &mut Context<'_>, data: &[u8]) -> (usize, Stop) {
        match self {
            Core::Http1(c) => c.process(&mut cx.shared, data),
            Core::Http2(s) => s.process(&mut h2_cx(cx), data),
        }
    }

    /// The peer shut its write side.
    pub fn eof(&mut self, cx: &mut Context<'_>) {
        match self {
            Core::Http1(c) => c.eof(&mut cx.shared),
            Core::Http2(s) => s.eof(&mut h2_cx(cx)),
        }
    }

    /// The socket took only part of the output.
    pub fn write_blocked(&mut self, cx: &mut Context<'_>) {
        match self {
            Core::Http1(c) => c.write_blocked(&mut cx.shared),
            Core::Http2(s) => s.write_blocked(&mut h2_cx(cx)),
        }
    }

    /// The socket took more of the waiting output.
    pub fn write_progress(&mut self, cx: &mut Context<'_>) {
        match self {
            Core::Http1(c) => c.write_progress(&mut cx.shared),
            Core::Http2(s) => s.write_progress(&mut h2_cx(cx)),
        }
    }

    /// All output is written. HTTP/2 may append more (DATA held back): the
    /// driver writes again when the output is not empty.
    #[inline]
    pub fn sent(&mut self, cx: &mut Context<'_>, input_may_wait: bool) {
        match self {
            Core::Http1(c) => c.sent(&mut cx.shared, input_may_wait),
            Core::Http2(s) => s.sent(&mut h2_cx(cx)),
        }
    }

    /// The deadline passed.
    pub fn expire(&mut self, cx: &mut Context<'_>) {
        match self {
            Core::Http1(c) => c.expire(&mut cx.shared),
            Core::Http2(s) => s.expire(&mut h2_cx(cx)),
        }
    }

    /// A graceful shutdown began (HTTP/2 queues a GOAWAY: write it).
    pub fn drain(&mut self, cx: &mut Context<'_>) {
        match self {
            Core::Http1(c) => c.drain(&mut cx.shared),
            Core::Http2(s) => s.drain(&mut h2_cx(cx)),
        }
    }

    /// What the driver should do next.
    #[inline]
    pub fn wants(&self) -> Want {
        match self {
            Core::Http1(c) => c.wants(),
            Core::Http2(s) => s.wants(),
        }
    }

    /// When the current wait times out.
    #[inline]
    pub fn poll_at(&self) -> u64 {
        match self {
            Core::Http1(c) => c.poll_at(),
            Core::Http2(s) => s.poll_at(),
        }
    }

    /// A final answer (or GOAWAY) is queued: input is no longer parsed.
    pub fn input_ended(&self) -> bool {
        match self {
            Core::Http1(c) => c.input_ended(),
            Core::Http2(s) => !matches!(s.stage(), Stage::Preface | Stage::Open),
        }
    }

    /// A precise wake-up the loop has not been told of (held answers).
    pub fn new_wake_up(&mut self) -> Option<u64> {
        match self {
            Core::Http1(c) => c.new_wake_up(),
            Core::Http2(s) => s.new_wake_up(),
        }
    }

    /// Answers held by `--delay`.
    pub fn held_answers(&self) -> usize {
        match self {
            Core::Http1(c) => c.held_answers(),
            Core::Http2(s) => s.held_answers(),
        }
    }

    /// Why the connection would close if its deadline passed now.
    pub fn timeout_reason(&self) -> Option<CloseReason> {
        match self {
            Core::Http1(c) => match c.phase() {
                Phase::Idle => Some(CloseReason::IdleTimeout),
                Phase::Head => Some(CloseReason::HeaderTimeout),
                Phase::Body => Some(CloseReason::BodyTimeout),
                Phase::Write => Some(CloseReason::WriteTimeout),
                Phase::Linger | Phase::Closed => None, // the tail of a final answer
                Phase::Hold => None,                   // held answers are due: not a timeout
            },
            Core::Http2(s) => match s.timer() {
                Timer::Idle => Some(CloseReason::IdleTimeout),
                Timer::Header | Timer::SettingsAck => Some(CloseReason::HeaderTimeout),
                Timer::Body => Some(CloseReason::BodyTimeout),
                Timer::Write => Some(CloseReason::WriteTimeout),
                Timer::Linger | Timer::None | Timer::Hold => None,
            },
        }
    }
}

impl fmt::Display for Core {
    /// The phase (HTTP/1.1) or stage and timer (HTTP/2), for logs.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Core::Http1(c) => write!(f, "{}", c.phase()),
            Core::Http2(s) => write!(f, "h2 {:?} ({:?})", s.stage(), s.timer()),
        }
    }
}
