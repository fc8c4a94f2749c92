//! The one deadline a session has: the earliest of what it waits for.
//!
//! | what it waits for | timeout | counts from |
//! |---|---|---|
//! | the preface, a partial frame, a header block's CONTINUATION | header | its first byte |
//! | our SETTINGS' acknowledgement | `settings_timeout` | sending them |
//! | a request body (a stream open for input) | body | the last stream opened or DATA on one (not PINGs) |
//! | a window for our DATA | write | the last DATA sent |
//! | room in the socket | write | the last progress |
//! | any stream, when none is active | keep-alive | the last stream's end |
//! | the close after a final GOAWAY | linger | the GOAWAY, then its write |
//! | a held answer (`--delay`) | its delay | its request's end |
//!
//! A timeout during a request ends the connection with GOAWAY `NO_ERROR` naming
//! the last stream (the client learns which streams were not answered); an
//! unacknowledged SETTINGS ends it with `SETTINGS_TIMEOUT` (RFC 9113 §6.5.3).

use log::debug;

use super::super::error::ErrorCode;
use super::super::stream::State;
use super::{Cx, Session, Stage};

/// What the deadline is for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Timer {
    /// No deadline.
    None,
    /// The preface, a partial frame or a header block (header timeout).
    Header,
    /// Our SETTINGS are unacknowledged.
    SettingsAck,
    /// A request body (body timeout, reset by progress).
    Body,
    /// An answer waits for a window, or the socket for room (write timeout).
    Write,
    /// No stream is active (keep-alive timeout).
    Idle,
    /// Lingering, or closing after a final GOAWAY.
    Linger,
    /// A held answer is due (`--delay`): not a timeout.
    Hold,
}

impl Session {
    /// The deadline passed (calls before it change nothing).
    pub fn expire(&mut self, cx: &mut Cx<'_>) {
        if cx.now < self.deadline {
            return;
        }
        if self.timer == Timer::Hold {
            self.release_held(cx);
            self.finish_if_done(cx); // a drain may have waited for these
            return self.rearm(cx);
        }
        debug!(
            "{} h2: {:?} timed out in {:?}",
            cx.id, self.timer, self.stage
        );
        match self.timer {
            Timer::None => {}
            Timer::Hold => {} // released above
            Timer::Linger => self.stage = Stage::Closed,
            Timer::Write if self.write_blocked => {
                cx.stats.timeouts += 1;
                self.stage = Stage::Closed;
            }
            Timer::SettingsAck => self.fail(cx, ErrorCode::SETTINGS_TIMEOUT),
            Timer::Header if self.stage == Stage::Preface => {
                cx.stats.timeouts += 1;
                self.stage = Stage::Closed;
            }
            Timer::Idle => self.fail(cx, ErrorCode::NO_ERROR),
            Timer::Header | Timer::Body | Timer::Write => {
                cx.stats.timeouts += 1;
                self.fail(cx, ErrorCode::NO_ERROR);
            }
        }
        self.rearm(cx);
    }

    /// The one deadline: the earliest of what the connection waits for.
    pub(super) fn rearm(&mut self, cx: &Cx<'_>) {
        let t = cx.timeouts;
        let mut next = (u64::MAX, Timer::None);
        let mut at = |when: u64, timer: Timer| {
            if when < next.0 {
                next = (when, timer);
            }
        };
        match self.stage {
            Stage::Closed => {}
            Stage::Linger => at(self.since.linger + t.linger, Timer::Linger),
            Stage::Closing => at(self.since.write + t.write, Timer::Linger),
            Stage::Preface | Stage::Open => {
                if self.write_blocked {
                    at(self.since.write + t.write, Timer::Write);
                }
                if let (Some(sent), Stage::Open) = (self.settings_sent, self.stage) {
                    at(sent + cx.limits.settings_timeout, Timer::SettingsAck);
                }
                if let Some(header) = self.since.header {
                    at(header + t.header, Timer::Header);
                }
                let active = &self.streams.active;
                if active.iter().any(|s| s.state == State::Open) {
                    at(self.since.input + t.body, Timer::Body);
                }
                if active.iter().any(|s| s.body_sent.is_some()) {
                    at(self.since.window + t.write, Timer::Write);
                }
                if active.is_empty() {
                    at(self.since.idle + t.keep_alive, Timer::Idle);
                }
                if let Some(due) = self.next_held() {
                    at(due, Timer::Hold);
                }
            }
        }
        (self.deadline, self.timer) = next;
    }
}
