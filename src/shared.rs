//! What the loop lends its handlers: the clock, the rendered responses, the limits,
//! the counters and the two reactor-wide buffers.
//!
//! Keeping these in one struct beside the slab lets the loop borrow a connection
//! (from the slab) and a [`Context`] (from here) at the same time: they are
//! different fields, so the borrows do not overlap.

use std::time::{Duration, SystemTime};

use crate::config::Config;
use crate::connection::{Batch, Context, READ_BUF_SIZE, Timeouts};
use crate::protocol::framing::{HeadMemo, Limits};
use crate::protocol::response::Responses;
use crate::protocol::stats::Stats;

/// The loop's two clocks: milliseconds since the server started (deadlines) and
/// the wall clock (`Date`), read once per loop turn for the handlers (and the
/// monotonic one again before `poll`, to size its timeout).
///
/// On Linux both are the kernel's *coarse* clocks. The kernel updates them once per
/// scheduler tick (1 to 10 ms), and reading one is a load from the vDSO page, where
/// the precise clocks also read the CPU's time-stamp counter and scale it. The loop
/// needs no better: deadlines are whole milliseconds checked on a tick of 10 ms or
/// more, and `Date` has one-second resolution. At 100 connections answered one
/// request per event, the precise reads were about 1% of the server's CPU time.
/// Elsewhere the standard clocks are used.
#[derive(Debug, Clone, Copy)]
pub struct Clock {
    start: Duration,
}

impl Clock {
    /// A clock starting now.
    pub fn start() -> Clock {
        Clock { start: monotonic() }
    }

    /// Milliseconds since [`Clock::start`].
    pub fn now_ms(&self) -> u64 {
        millis(monotonic().saturating_sub(self.start))
    }

    /// The wall clock, for `Date`.
    pub fn wall(&self) -> SystemTime {
        wall()
    }
}

#[cfg(target_os = "linux")]
fn monotonic() -> Duration {
    since_zero(rustix::time::clock_gettime(
        rustix::time::ClockId::MonotonicCoarse,
    ))
}

#[cfg(target_os = "linux")]
fn wall() -> SystemTime {
    let now = rustix::time::clock_gettime(rustix::time::ClockId::RealtimeCoarse);
    std::time::UNIX_EPOCH + since_zero(now)
}

/// A timespec as a duration since its clock's zero (both clocks here are past it).
#[cfg(target_os = "linux")]
fn since_zero(t: rustix::time::Timespec) -> Duration {
    let secs = u64::try_from(t.tv_sec).unwrap_or(0);
    let nanos = u32::try_from(t.tv_nsec).unwrap_or(0);
    Duration::new(secs, nanos)
}

#[cfg(not(target_os = "linux"))]
fn monotonic() -> Duration {
    use std::sync::OnceLock;
    static ZERO: OnceLock<std::time::Instant> = OnceLock::new();
    ZERO.get_or_init(std::time::Instant::now).elapsed()
}

#[cfg(not(target_os = "linux"))]
fn wall() -> SystemTime {
    SystemTime::now()
}

fn millis(duration: Duration) -> u64 {
    u64::try_from(duration.as_millis()).unwrap_or(u64::MAX)
}

/// State shared by every connection, owned by the loop.
pub struct Shared {
    /// The loop's clock reading for this turn.
    pub now: u64,
    /// A graceful shutdown is under way.
    pub draining: bool,
    /// Rendered responses.
    pub responses: Responses,
    /// Framing limits.
    pub limits: Limits,
    /// The last head parsed (see [`HeadMemo`]).
    pub memo: HeadMemo,
    /// Timeouts in milliseconds.
    pub timeouts: Timeouts,
    /// Counters.
    pub stats: Stats,
    /// How often deadlines are checked: a quarter of the shortest timeout, between
    /// 10 ms and 1 s, so a timeout of 40 ms or more fires at most 25% late (and a
    /// shorter one at most 10 ms late).
    pub tick_ms: u64,
    read_buf: Box<[u8]>,
    out: Vec<u8>,
}

impl Shared {
    /// Render the responses and size the buffers for `config`.
    pub fn new(config: &Config) -> Shared {
        let timeouts = Timeouts {
            header: millis(config.header_timeout),
            keep_alive: millis(config.keep_alive_timeout),
            body: millis(config.body_timeout),
            write: millis(config.write_timeout),
            linger: millis(config.linger_timeout),
        };
        let shortest = [
            timeouts.header,
            timeouts.keep_alive,
            timeouts.body,
            timeouts.write,
            timeouts.linger,
        ]
        .into_iter()
        .min()
        .unwrap_or(1000);
        Shared {
            now: 0,
            draining: false,
            responses: Responses::for_config(config),
            limits: Limits {
                max_head: config.max_request_head,
                max_body: config.max_body,
            },
            memo: HeadMemo::new(),
            timeouts,
            stats: Stats::default(),
            tick_ms: (shortest / 4).clamp(10, 1000),
            read_buf: vec![0; READ_BUF_SIZE].into_boxed_slice(),
            out: Vec::with_capacity(2 * READ_BUF_SIZE),
        }
    }

    /// Lend everything to the handler of connection `id`.
    pub fn context(&mut self, id: usize) -> Context<'_> {
        Context {
            id,
            now: self.now,
            draining: self.draining,
            responses: &self.responses,
            limits: &self.limits,
            memo: &mut self.memo,
            timeouts: &self.timeouts,
            stats: &mut self.stats,
            read_buf: &mut self.read_buf,
            out: Batch::new(&mut self.out),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The coarse clocks move with real time, to within a scheduler tick or two.
    #[test]
    fn the_clocks_follow_real_time() {
        let clock = Clock::start();
        let before = clock.now_ms();
        std::thread::sleep(Duration::from_millis(100));
        let elapsed = clock.now_ms() - before;
        assert!(
            (80..5000).contains(&elapsed),
            "{elapsed} ms for a 100 ms sleep"
        );
        let gap = match clock.wall().duration_since(SystemTime::now()) {
            Ok(ahead) => ahead,
            Err(behind) => behind.duration(),
        };
        assert!(
            gap < Duration::from_millis(100),
            "wall clock off by {gap:?}"
        );
    }
}
