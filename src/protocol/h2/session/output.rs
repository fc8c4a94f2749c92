//! What the session sends on its own account: answers with flow control for
//! our DATA (RFC 9113 §5.2, §6.9), resets, and GOAWAY.
//!
//! Rules this file applies, each with its reason:
//! - **Every stream gets the fixed answer** when its request is whole: HEADERS
//!   with the block encoded at start, then the body in DATA frames (HEAD and
//!   body-less statuses end on the HEADERS).
//! - **DATA never exceeds a window**: each frame is the least of what is left,
//!   the connection's window, the stream's window, and the peer's
//!   `SETTINGS_MAX_FRAME_SIZE`. What does not fit waits for WINDOW_UPDATE (or a
//!   larger `SETTINGS_INITIAL_WINDOW_SIZE`); a window that never opens ends in
//!   the write timeout. Streams are served in the order they opened.
//! - **A header table size change is answered** with a size update of 0 at the
//!   start of our next block (RFC 7541 §4.2): our blocks never use the table.
//! - **Draining** sends GOAWAY naming the highest stream we will answer
//!   (§6.8); once those are answered and written, the connection closes.

use log::debug;

use super::super::budget::Cost;
use super::super::error::ErrorCode;
use super::super::frame;
use super::super::stream::{Closed, Lookup, State};
use super::{Cx, Session, Stage};
use crate::protocol::OUT_BATCH_LIMIT;

impl Session {
    /// The request on the active stream at `i` is whole: answer it, or hold its
    /// answer (`--delay`, `session/held.rs`).
    pub(super) fn end_request(&mut self, cx: &mut Cx<'_>, i: usize) -> Result<(), super::H2Error> {
        self.streams.active[i].state = State::HalfClosedRemote;
        let held = cx.faults.on && self.hold_or_fail(cx, i);
        let status = cx.answer_for(&self.streams.active[i]).status();
        cx.stats.response(status);
        cx.stats.h2.response(status);
        if !held {
            self.answer(cx, i);
        }
        Ok(())
    }

    /// Send the HEADERS of the answer on the active stream at `i`, and as much
    /// of its body as the windows allow.
    pub(super) fn answer(&mut self, cx: &mut Cx<'_>, i: usize) {
        let stream = &mut self.streams.active[i];
        let answer = cx.answer_for(stream);
        let headers_only = stream.head || answer.body_len() == 0;
        let max_frame = self.peer_max_frame as usize;
        if self.table_update {
            self.table_update = false;
            let mut block = Vec::with_capacity(answer.block().len() + 1);
            block.push(0x20); // a dynamic table size update to 0
            block.extend_from_slice(answer.block());
            frame::write::headers(cx.out, stream.id, &block, headers_only, max_frame);
        } else {
            frame::write::headers(cx.out, stream.id, answer.block(), headers_only, max_frame);
        }
        if headers_only {
            self.close_stream(cx, i, Closed::Ended);
        } else {
            stream.body_sent = Some(0);
            self.since.window = cx.now;
            self.flush(cx);
        }
    }

    /// Send as much of the waiting bodies as the windows and the batch allow.
    pub(super) fn flush(&mut self, cx: &mut Cx<'_>) {
        let mut i = 0;
        while i < self.streams.active.len() {
            let stream = &mut self.streams.active[i];
            let Some(mut sent) = stream.body_sent else {
                i += 1;
                continue;
            };
            let answer = cx.answer_for(stream);
            let body_len = answer.body_len();
            while sent < body_len && cx.out.len() < OUT_BATCH_LIMIT {
                let room = self.send_window.min(stream.send_window);
                let n = (body_len - sent).min(self.peer_max_frame as usize);
                let n = n.min(usize::try_from(room).unwrap_or(0));
                if n == 0 {
                    break;
                }
                let piece = answer.body_at(sent, n);
                let n = piece.len();
                let end = sent + n == body_len;
                frame::write::data(cx.out, stream.id, piece, end);
                (self.send_window, stream.send_window) =
                    (self.send_window - n as i64, stream.send_window - n as i64);
                sent += n;
                self.since.window = cx.now;
            }
            stream.body_sent = Some(sent);
            if sent == body_len {
                self.close_stream(cx, i, Closed::Ended);
            } else {
                i += 1;
            }
        }
    }

    /// A stream error (§5.4.2): RST_STREAM, and the stream is closed.
    pub(super) fn reset(&mut self, cx: &mut Cx<'_>, id: u32, code: ErrorCode) {
        debug!("{} h2: stream {id} reset: {code}", cx.id);
        frame::write::rst_stream(cx.out, id, code);
        if let Lookup::Active(i) = self.streams.lookup(id) {
            self.close_stream(cx, i, Closed::ResetByUs);
        }
        // A reset the peer provokes (a malformed request, a window overflow, a
        // refused stream) frees its slot as the peer's own does (MadeYouReset,
        // CVE-2025-8671): it spends the same budget.
        if !self.spent.spend(&cx.limits.budgets, Cost::Reset, cx.now) {
            self.fail(cx, ErrorCode::ENHANCE_YOUR_CALM);
        }
    }

    /// Close the active stream at `i`, however it ended: its held answer (if
    /// any) is no longer counted, and once the last stream is gone the
    /// connection is idle and gives back what a burst of streams or a large
    /// header block made it allocate (an idle connection should cost little;
    /// the next burst allocates again).
    pub(super) fn close_stream(&mut self, cx: &mut Cx<'_>, i: usize, how: Closed) {
        let stream = self.streams.close(i, how);
        if stream.held_until.is_some() {
            self.held -= 1;
            cx.stats.held -= 1;
        }
        if self.streams.active.is_empty() {
            self.since.idle = cx.now;
            self.streams.active.shrink_to(0);
            self.decoder.shrink();
            if self.continuation.is_none() {
                self.block.shrink_to(0);
            }
        }
    }

    /// GOAWAY `NO_ERROR` naming the last stream we will answer, once (§6.8).
    pub(super) fn go_away(&mut self, cx: &mut Cx<'_>) {
        if self.goaway_sent.is_none() && self.stage == Stage::Open {
            let last = self.streams.last_id;
            frame::write::goaway(cx.out, last, ErrorCode::NO_ERROR);
            cx.stats.h2.goaway(ErrorCode::NO_ERROR);
            self.goaway_sent = Some(last);
        }
    }

    /// After a GOAWAY, the connection closes once no stream is left.
    pub(super) fn finish_if_done(&mut self, cx: &Cx<'_>) {
        let done = self.streams.active.is_empty() && self.continuation.is_none();
        if self.stage == Stage::Open && self.goaway_sent.is_some() && done {
            self.stage = Stage::Closing;
            self.since.write = cx.now;
        }
    }
}
