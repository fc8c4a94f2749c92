//! Faults on HTTP/2 streams, as HTTP/1.1's `conn/held.rs` injects them on
//! answers: `--delay` holds a stream's answer, `--fail-rate` swaps it for the
//! injected failure. Both are decided when the request is whole, and the plain
//! path pays one branch ([`Faults::on`](crate::protocol::faults::Faults)).
//!
//! Rules, each with its reason:
//! - **Each stream is held its own delay**, counted from the moment its request
//!   was whole. Streams are independent in HTTP/2, so unlike HTTP/1.1's
//!   pipelined answers nothing keeps them in order: a short delay may overtake a
//!   long one.
//! - **Due one millisecond late rather than early**: `now` is whole
//!   milliseconds rounded down (see `Conn::hold_ok` for the arithmetic).
//! - **A held stream is still a stream**: it counts against
//!   `SETTINGS_MAX_CONCURRENT_STREAMS`, the peer may reset it (no answer is sent
//!   then), and a drain's GOAWAY waits for it.
//! - **The first due time is the session's deadline** ([`Timer::Hold`](super::Timer)),
//!   and [`Session::new_wake_up`] tells the driver each new one once, so the loop
//!   wakes to the millisecond instead of on its coarse sweep.

use log::trace;

use super::super::stream::Stream;
use super::{Cx, Session};

impl Session {
    /// The request on the active stream at `i` is whole and faults are on: mark
    /// it failed (maybe), and hold its answer (with `--delay`). Returns whether
    /// the answer is held.
    pub(super) fn hold_or_fail(&mut self, cx: &mut Cx<'_>, i: usize) -> bool {
        let fail = cx.failure.is_some() && cx.faults.fail_now();
        let stream = &mut self.streams.active[i];
        stream.fail = fail;
        let Some(delay) = cx.faults.delay else {
            return false;
        };
        let due = cx.now + cx.faults.pick(delay) + 1;
        trace!(
            "{} h2: stream {} answer held until {due} ms",
            cx.id, stream.id
        );
        stream.held_until = Some(due);
        self.held += 1;
        cx.stats.held += 1;
        true
    }

    /// When the first held answer is due.
    pub(super) fn next_held(&self) -> Option<u64> {
        if self.held == 0 {
            return None; // without --delay, always: no scan of the streams
        }
        self.streams
            .active
            .iter()
            .filter_map(|s| s.held_until)
            .min()
    }

    /// Answer every held stream now due (the deadline passed, or any call after
    /// it).
    ///
    /// Answering may close streams (a body-less answer, a body that fit), so
    /// each due stream is looked up afresh: a scan of at most
    /// `--h2-max-streams` entries per answer.
    pub(super) fn release_held(&mut self, cx: &mut Cx<'_>) {
        self.told = None; // this wake-up is spent; the next one is told afresh
        let now = cx.now;
        let due = |s: &Stream| s.held_until.is_some_and(|due| due <= now);
        while let Some(i) = self.streams.active.iter().position(due) {
            self.streams.active[i].held_until = None;
            self.held -= 1;
            cx.stats.held -= 1;
            self.answer(cx, i);
        }
    }

    /// Answers held now.
    pub fn held_answers(&self) -> usize {
        self.held as usize
    }

    /// A wake-up time the driver has not been told of yet: the first held
    /// answer's. Each time is reported once.
    pub fn new_wake_up(&mut self) -> Option<u64> {
        let due = self.next_held()?;
        if self.told == Some(due) {
            return None;
        }
        self.told = Some(due);
        Some(due)
    }
}
