//! The coarse timer: one pass over the connections per tick expires deadlines, and
//! the optional stats line is logged on its own schedule. Beside it, the loop's
//! side of the precise queue (`timers.rs`): calling the connections it says are due.
//!
//! At each stats tick the loop also publishes a [`Snapshot`] of its counters to its
//! handle, so that with several workers the process can log the sum (see
//! `process/workers.rs`). One lock per interval, nothing per request.
//!
//! One sweep per tick instead of a timer per connection: a request costs one store
//! of its deadline (O(1), no allocation), and the sweep costs a few nanoseconds per
//! connection a few times a second.

use std::time::Duration;

use log::{log, trace};

use super::Server;
use super::clock::millis;
use super::handle::Snapshot;
use crate::protocol::stats::stats_line;

/// The tick and the stats schedule.
pub(super) struct Ticker {
    pub(super) next_tick: u64,
    pub(super) next_stats: Option<u64>,
    tick_ms: u64,
    stats_interval: Option<Duration>,
    requests_before: u64,
}

impl Ticker {
    pub(super) fn new(tick_ms: u64, stats_interval: Option<Duration>) -> Ticker {
        Ticker {
            next_tick: tick_ms,
            next_stats: stats_interval.map(millis),
            tick_ms,
            stats_interval,
            requests_before: 0,
        }
    }
}

impl Server {
    /// After a turn: expire deadlines when the tick is due, log stats when due.
    pub(super) fn tick(&mut self) {
        let now = self.data.now;
        if now >= self.ticker.next_tick {
            self.ticker.next_tick = now + self.ticker.tick_ms;
            self.expire_deadlines();
            self.expire_scrapes();
            self.publish_metrics();
        }
        if self.ticker.next_stats.is_some_and(|at| now >= at) {
            self.log_stats();
        }
    }

    /// One pass over the connections finds what is due; each is then called like
    /// any other handler.
    fn expire_deadlines(&mut self) {
        let now = self.data.now;
        let mut due = std::mem::take(&mut self.scratch);
        due.extend(
            self.connections
                .iter()
                .filter(|(_, conn)| conn.poll_at() <= now)
                .map(|(key, _)| key),
        );
        for key in due.drain(..) {
            self.call(key, |conn, cx| {
                trace!("{}: deadline passed in {}", cx.shared.id, conn.core());
                conn.expire(cx)
            });
        }
        self.scratch = due;
    }

    /// Call every connection whose precise wake-up is due. An entry whose
    /// connection has closed or no longer has a deadline that passed is stale and
    /// skipped (lazy deletion, see `timers.rs`).
    pub(super) fn fire_timers(&mut self) {
        let now = self.data.now;
        if self.timers.next_due().is_none_or(|due| due > now) {
            return;
        }
        let mut due = std::mem::take(&mut self.scratch);
        self.timers.pop_due(now, &mut due);
        for key in due.drain(..) {
            let wanted = self
                .connections
                .get(key)
                .is_some_and(|c| c.poll_at() <= now);
            if wanted {
                self.call(key, |conn, cx| conn.expire(cx));
            }
        }
        self.scratch = due;
    }

    fn log_stats(&mut self) {
        let Some(interval) = self.ticker.stats_interval else {
            return;
        };
        let summary = self.data.common.stats.summary();
        let rate = (summary.requests - self.ticker.requests_before) as f64 / interval.as_secs_f64();
        let open = self.connections.len();
        log!(
            self.data.report_level(),
            "{}{}",
            self.data.worker_prefix(),
            stats_line(rate, open, &summary)
        );
        self.ticker.requests_before = summary.requests;
        self.control.publish(Snapshot {
            summary,
            open_connections: open,
        });
        self.ticker.next_stats = Some(now_plus(self.data.now, interval));
    }
}

fn now_plus(now: u64, interval: Duration) -> u64 {
    now + millis(interval)
}
