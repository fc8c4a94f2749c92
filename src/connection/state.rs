//! The states a connection waits in, and the one place it moves between them.
//!
//! A connection does not choose its state: after every call, [`Connection::settle`]
//! derives it from what the connection holds (output waiting, a body being skipped,
//! part of a head), and every change goes through [`Connection::set_state`], which
//! logs `conn 7: Idle => ReadingHead` and sets the one deadline the new state has.
//! So the state can never disagree with the buffers, and a connection has exactly
//! one timer, whatever it waits for.

use std::fmt;

use log::trace;

use super::{Connection, Context};

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

impl Connection {
    /// Derive the state from what the connection holds, after a call.
    pub(super) fn settle(&mut self, cx: &mut Context<'_>) {
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
        // A request completed since the last call: the next one gets its own header
        // deadline, and an idle connection's keep-alive time counts from this answer.
        let restart = self.head_completed && matches!(next, State::ReadingHead | State::Idle);
        if next != self.state || restart {
            self.set_state(cx, next);
        }
        self.head_completed = false;
    }

    /// Every transition goes through here: one log line, one deadline.
    pub(super) fn set_state(&mut self, cx: &mut Context<'_>, next: State) {
        if next != self.state {
            trace!("conn {}: {} => {}", cx.id, self.state, next);
        }
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
}
