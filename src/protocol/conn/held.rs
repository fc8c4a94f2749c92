//! Held answers (`--delay`): each answer leaves its delay after its request's head
//! was complete, in request order, without the driver ever blocking. Also where an
//! answer becomes an injected failure (`--fail-rate`): both are faults, and both
//! are off the plain path, behind one branch in [`Conn::respond`].
//!
//! With a delay set, [`Conn::respond`] does not append the answer to the batch: it
//! queues which answer it is and when it is due. While answers are held the
//! connection is in [`Phase::Hold`], whose deadline is the first due time, and
//! [`Conn::wants`] says [`Want::Wait`](super::Want::Wait): nothing to read or write
//! until then. At the deadline the driver calls [`Conn::expire`], which appends
//! every answer now due; once they are written the connection holds the next ones,
//! or goes back to reading.
//!
//! Rules, each with its reason:
//! - **Order is kept by queueing everything behind a held answer**: an error or a
//!   `100 Continue` that follows a held answer is queued too, due at once, so it
//!   leaves right after the answers before it. (An injected failure is an answer
//!   like any other: it is held its delay.) Due times never go backwards.
//! - **A streamed body (`--body-size`) ends a release**: the answers due after it
//!   leave once it is written, on the next wake-up.
//! - **Input waits while answers are held**, as it does while the socket is full:
//!   requests that arrived in one read are answered together, one delay after their
//!   read, and what arrives later is read once they are out.
//! - **The queue holds what one read asked for**, at most [`MAX_HELD`] answers;
//!   heads beyond that stay with the driver, as they do after a full batch.
//! - **A drain lets held answers leave**, the last one saying `Connection: close`.
//! - **Nothing is allocated without `--delay`**: `Conn` holds an
//!   `Option<Box<Held>>`, created with the first held answer.

use std::collections::VecDeque;

use log::trace;

use super::{Conn, Cx, Input, Phase};
use crate::protocol::framing::{Persistence, Reject};
use crate::protocol::response::CONTINUE;

/// Most answers one connection holds; more heads wait unparsed.
pub const MAX_HELD: usize = 1024;

/// Which rendered answer to send when it is due.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Answer {
    /// The configured answer (`fail`: the injected failure in its place).
    Ok {
        persistence: Persistence,
        headers_only: bool,
        fail: bool,
    },
    /// An error answer (final).
    Error(Reject),
    /// `100 Continue`.
    Continue,
}

/// The answers one connection holds, oldest first, with their due times.
#[derive(Debug, Default)]
pub(super) struct Held {
    queue: VecDeque<(u64, Answer)>,
    /// The due time the driver was last told to wake the connection at.
    told: Option<u64>,
}

impl Conn {
    /// Answers are held: anything answered now must queue behind them.
    pub(super) fn holding(&self) -> bool {
        self.held.as_ref().is_some_and(|h| !h.queue.is_empty())
    }

    /// When the first held answer is due.
    pub(super) fn next_due(&self) -> Option<u64> {
        Some(self.held.as_ref()?.queue.front()?.0)
    }

    /// How many answers are held.
    pub fn held_answers(&self) -> usize {
        self.held.as_ref().map_or(0, |h| h.queue.len())
    }

    /// A wake-up time the driver has not been told of yet: the connection holds
    /// answers and the first is due then. Each time is reported once.
    pub fn new_wake_up(&mut self) -> Option<u64> {
        let held = self.held.as_deref_mut()?;
        let due = held.queue.front()?.0;
        if self.phase != Phase::Hold || held.told == Some(due) {
            return None;
        }
        held.told = Some(due);
        Some(due)
    }

    /// [`Conn::respond`] with faults on: maybe an injected failure in place of
    /// the answer, maybe held for a delay.
    pub(super) fn respond_with_faults(&mut self, cx: &mut Cx<'_>) {
        let responses = cx.responses;
        let fail = cx.faults.fail_now();
        let failure = if fail {
            responses.fail(self.persistence, self.headers_only)
        } else {
            None
        };
        cx.stats
            .response(failure.map_or(responses.ok_status(), |(_, status)| status));
        if let Some(delay) = cx.faults.delay {
            let delay = cx.faults.pick(delay);
            self.hold_ok(cx, delay, fail);
        } else if let Some((bytes, _)) = failure {
            cx.out.push(bytes);
        } else {
            cx.out
                .push(responses.ok(self.persistence, self.headers_only));
            cx.out.stream(responses.streamed(self.headers_only));
        }
    }

    /// The configured answer (or the injected failure), due `delay` from now.
    ///
    /// Due one millisecond later than `now + delay`: `now` is whole milliseconds
    /// rounded down, so the request came in up to a millisecond after it, and an
    /// answer due at `now + delay` could leave up to that much before its delay
    /// ran out. Late by under a millisecond is the side to err on.
    pub(super) fn hold_ok(&mut self, cx: &mut Cx<'_>, delay: u64, fail: bool) {
        let answer = Answer::Ok {
            persistence: self.persistence,
            headers_only: self.headers_only,
            fail,
        };
        self.hold(cx, cx.now + delay + 1, answer);
    }

    /// An error answer, due as soon as those before it.
    pub(super) fn hold_error(&mut self, cx: &mut Cx<'_>, reject: Reject) {
        self.hold(cx, cx.now, Answer::Error(reject));
    }

    /// `100 Continue`, due as soon as the answers before it.
    pub(super) fn hold_continue(&mut self, cx: &mut Cx<'_>) {
        self.hold(cx, cx.now, Answer::Continue);
    }

    /// The queue is full: parse no further heads until it empties.
    pub(super) fn held_full(&self) -> bool {
        self.held
            .as_ref()
            .is_some_and(|h| h.queue.len() >= MAX_HELD)
    }

    fn hold(&mut self, cx: &mut Cx<'_>, due: u64, answer: Answer) {
        let held = self.held.get_or_insert_with(Box::default);
        // Due times never go backwards in the queue: an answer leaves after the
        // ones before it, however short its own delay.
        let due = held.queue.back().map_or(due, |(last, _)| due.max(*last));
        trace!("{}: answer held until {due} ms", cx.id);
        held.queue.push_back((due, answer));
        cx.stats.held += 1;
    }

    /// Append every held answer that is due to `cx.out`. While draining, the last
    /// one says `Connection: close` and ends the input.
    pub(super) fn release(&mut self, cx: &mut Cx<'_>) {
        let Some(held) = self.held.as_deref_mut() else {
            return;
        };
        held.told = None; // this wake-up is spent; the next one is told afresh
        trace!("{}: held answers due at {} ms", cx.id, cx.now);
        let responses = cx.responses;
        while let Some(&(due, answer)) = held.queue.front() {
            if due > cx.now {
                break;
            }
            held.queue.pop_front();
            cx.stats.held -= 1;
            let bytes = match answer {
                Answer::Ok {
                    persistence,
                    headers_only,
                    fail,
                } => {
                    let last = held.queue.is_empty() && cx.draining;
                    let persistence = if last {
                        Persistence::Close
                    } else {
                        persistence
                    };
                    if last && self.input != Input::Ended {
                        self.input = Input::Ended;
                        self.linger = true;
                    }
                    match responses.fail(persistence, headers_only) {
                        Some((bytes, _)) if fail => bytes,
                        _ => {
                            // A streamed body ends the batch: the rest stay held.
                            cx.out.push(responses.ok(persistence, headers_only));
                            cx.out.stream(responses.streamed(headers_only));
                            if cx.out.tail() > 0 {
                                return;
                            }
                            continue;
                        }
                    }
                }
                Answer::Error(reject) => responses.error(reject),
                Answer::Continue => CONTINUE,
            };
            cx.out.push(bytes);
        }
    }
}
