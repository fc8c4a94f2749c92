//! Flood defences: how many of some costly thing the peer may cause per window
//! of time.
//!
//! Each is a frame that costs the server work but yields no request, which a
//! peer can send without end (the 2019 HTTP/2 advisories: CVE-2019-9512 ping
//! flood, -9515 settings flood, -9518 empty frames; and CVE-2023-44487, rapid
//! reset: a stream opened and reset at once, so it never counts against
//! `SETTINGS_MAX_CONCURRENT_STREAMS`; and CVE-2025-8671, MadeYouReset: the same
//! with the server's own RST_STREAM, provoked by a malformed frame). Past its
//! budget within one window, the connection ends with GOAWAY
//! `ENHANCE_YOUR_CALM`. The windows are fixed (they restart when one has
//! passed), which is enough to bound the rate.

/// Events allowed per window.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Budgets {
    /// Window length, in milliseconds.
    pub window: u64,
    /// Streams reset before their answer is complete: by the peer, or by us
    /// for a reason the peer gave (a malformed request, a refused stream).
    pub resets: u32,
    /// SETTINGS and PING frames (each makes us send an acknowledgement).
    pub control: u32,
    /// DATA frames with no data and no END_STREAM, and unknown or PRIORITY frames.
    pub empty: u32,
    /// WINDOW_UPDATE frames.
    pub window_updates: u32,
}

impl Budgets {
    /// Generous for a real client (which sends a handful of each per
    /// connection, or one WINDOW_UPDATE per few of our DATA frames), fatal for
    /// a flood.
    pub const DEFAULT: Budgets = Budgets {
        window: 10_000,
        resets: 200,
        control: 200,
        empty: 200,
        window_updates: 2_000,
    };
}

/// What a budget counts.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Cost {
    /// A stream reset, by either side, before its answer was complete.
    Reset,
    /// SETTINGS or PING.
    Control,
    /// An empty DATA, PRIORITY or unknown frame.
    Empty,
    /// WINDOW_UPDATE.
    WindowUpdate,
}

/// The counts in the current window.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Spent {
    since: u64,
    counts: [u32; 4],
}

impl Spent {
    /// Count one `cost` at `now`; false once the budget is exceeded.
    pub fn spend(&mut self, budgets: &Budgets, cost: Cost, now: u64) -> bool {
        if now.saturating_sub(self.since) >= budgets.window {
            *self = Spent {
                since: now,
                counts: [0; 4],
            };
        }
        let (count, limit) = match cost {
            Cost::Reset => (&mut self.counts[0], budgets.resets),
            Cost::Control => (&mut self.counts[1], budgets.control),
            Cost::Empty => (&mut self.counts[2], budgets.empty),
            Cost::WindowUpdate => (&mut self.counts[3], budgets.window_updates),
        };
        *count = count.saturating_add(1);
        *count <= limit
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_budget_per_window_and_per_cost() {
        let budgets = Budgets {
            window: 1000,
            resets: 2,
            ..Budgets::DEFAULT
        };
        let mut spent = Spent::default();
        assert!(spent.spend(&budgets, Cost::Reset, 0));
        assert!(spent.spend(&budgets, Cost::Reset, 999));
        assert!(spent.spend(&budgets, Cost::Control, 999), "another budget");
        assert!(!spent.spend(&budgets, Cost::Reset, 999));
        assert!(spent.spend(&budgets, Cost::Reset, 1000), "a new window");
    }
}
