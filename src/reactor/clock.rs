//! The loop's clocks, read once per turn and handed to the protocol core as numbers.

use std::time::{Duration, SystemTime};

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
/// Elsewhere the standard clocks are used, and so they are with the `callgrind`
/// feature (rustix's vDSO lookup crashes under valgrind; `benches/instructions.sh`).
///
/// The exception is `--delay`: a held answer is due to the millisecond, and a coarse
/// reading lags real time by up to a scheduler tick (4 ms at 250 Hz), so an answer
/// could leave that much before its delay ran out. With a delay the loop reads the
/// precise monotonic clock ([`Clock::precise`]), once per turn as ever.
#[derive(Debug, Clone, Copy)]
pub struct Clock {
    start: Duration,
    precise: bool,
}

impl Clock {
    /// A coarse clock starting now.
    pub fn start() -> Clock {
        Clock::precise(false)
    }

    /// A clock starting now: the precise monotonic clock if `precise`, else the
    /// coarse one.
    pub fn precise(precise: bool) -> Clock {
        Clock {
            start: monotonic(precise),
            precise,
        }
    }

    /// Milliseconds since [`Clock::start`].
    pub fn now_ms(&self) -> u64 {
        millis(monotonic(self.precise).saturating_sub(self.start))
    }

    /// The wall clock, for `Date`.
    pub fn wall(&self) -> SystemTime {
        wall()
    }
}

#[cfg(all(target_os = "linux", not(feature = "callgrind")))]
fn monotonic(precise: bool) -> Duration {
    let id = if precise {
        rustix::time::ClockId::Monotonic
    } else {
        rustix::time::ClockId::MonotonicCoarse
    };
    since_zero(rustix::time::clock_gettime(id))
}

#[cfg(all(target_os = "linux", not(feature = "callgrind")))]
fn wall() -> SystemTime {
    let now = rustix::time::clock_gettime(rustix::time::ClockId::RealtimeCoarse);
    std::time::UNIX_EPOCH + since_zero(now)
}

/// A timespec as a duration since its clock's zero (both clocks here are past it).
#[cfg(all(target_os = "linux", not(feature = "callgrind")))]
fn since_zero(t: rustix::time::Timespec) -> Duration {
    let secs = u64::try_from(t.tv_sec).unwrap_or(0);
    let nanos = u32::try_from(t.tv_nsec).unwrap_or(0);
    Duration::new(secs, nanos)
}

#[cfg(any(not(target_os = "linux"), feature = "callgrind"))]
fn monotonic(_precise: bool) -> Duration {
    use std::sync::OnceLock;
    static ZERO: OnceLock<std::time::Instant> = OnceLock::new();
    ZERO.get_or_init(std::time::Instant::now).elapsed()
}

#[cfg(any(not(target_os = "linux"), feature = "callgrind"))]
fn wall() -> SystemTime {
    SystemTime::now()
}

/// A duration in whole milliseconds, the unit of the loop's clock.
pub fn millis(duration: Duration) -> u64 {
    u64::try_from(duration.as_millis()).unwrap_or(u64::MAX)
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
