//! A driver for the protocol core with no socket and a clock that is a number:
//! for tests, doc examples and fuzzing.
//!
//! [`Fixture`] plays the part of the reactor's driver: it keeps the input the core
//! has not consumed (the driver's spill), collects the answers the core appends,
//! and reports writes as the test decides (all sent, or blocked). Time moves only
//! when the test says so, so every deadline is tested by advancing a number.

use super::{Common, Conn, ConnId, Cx, Settings, Stop};

/// The wall clock every fixture's `Date` shows, in seconds since 1970:
/// Tue, 01 Dec 2026 00:00:00 GMT.
pub const FIXED_DATE_SECS: u64 = 1_796_083_200;

/// One connection's core and everything it borrows, owned by the test.
pub struct Fixture {
    /// The core under test.
    pub conn: Conn,
    /// The clock, in milliseconds.
    pub now: u64,
    /// A graceful shutdown is under way.
    pub draining: bool,
    /// The answers, limits and timeouts in force (the server's defaults unless
    /// changed before use), the head memo and the counters.
    pub common: Common,
    /// Input the core has not consumed yet.
    pub pending: Vec<u8>,
    batch: Vec<u8>,
}

impl Default for Fixture {
    fn default() -> Fixture {
        Fixture::new()
    }
}

impl Fixture {
    /// A new idle connection at time 0 with the server's default limits.
    pub fn new() -> Fixture {
        Fixture::with(&Settings::DEFAULT)
    }

    /// A new idle connection at time 0 told `settings`.
    pub fn with(settings: &Settings<'_>) -> Fixture {
        // A fixed `Date`, so two fixtures made a second apart answer alike.
        let date = std::time::UNIX_EPOCH + std::time::Duration::from_secs(FIXED_DATE_SECS);
        let common = Common::new(settings, date);
        Fixture {
            conn: Conn::new(0, &common.timeouts),
            now: 0,
            draining: false,
            common,
            pending: Vec::new(),
            batch: Vec::new(),
        }
    }

    /// Run `call` with the core and a context; return the answers it appended.
    fn call(&mut self, call: impl FnOnce(&mut Conn, &mut Cx<'_>, &[u8])) -> Vec<u8> {
        let pending = std::mem::take(&mut self.pending);
        let id = ConnId {
            worker: None,
            key: 0,
        };
        let mut cx = self.common.cx(id, self.now, self.draining, &mut self.batch);
        call(&mut self.conn, &mut cx, &pending);
        let answers = cx.out.as_slice().to_vec();
        cx.out.clear();
        if self.pending.is_empty() {
            self.pending = pending;
        }
        answers
    }

    /// Bytes arrive: the core answers what it can; what it did not consume is kept
    /// and presented again with the next input. Returns the answers.
    pub fn input(&mut self, bytes: &[u8]) -> Vec<u8> {
        self.pending.extend_from_slice(bytes);
        let mut left = Vec::new();
        let answers = self.call(|conn, cx, pending| {
            let (used, _stop): (usize, Stop) = conn.process(cx, pending);
            left = pending[used..].to_vec();
        });
        self.pending = left;
        answers
    }

    /// The client shut its write side.
    pub fn eof(&mut self) {
        self.pending.clear();
        self.call(|conn, cx, _| conn.eof(cx));
    }

    /// Every answer so far was written.
    pub fn all_sent(&mut self) {
        self.call(|conn, cx, _| conn.sent(cx, false));
    }

    /// The socket took only part of the answers.
    pub fn blocked(&mut self) {
        self.call(|conn, cx, _| conn.write_blocked(cx));
    }

    /// The socket took some more of the waiting answers.
    pub fn progress(&mut self) {
        self.call(|conn, cx, _| conn.write_progress(cx));
    }

    /// The clock moves on by `ms` milliseconds.
    pub fn advance(&mut self, ms: u64) {
        self.now += ms;
    }

    /// The deadline check: returns the answers `expire` appended (a `408`, or none).
    pub fn expire(&mut self) -> Vec<u8> {
        self.call(|conn, cx, _| conn.expire(cx))
    }

    /// A graceful shutdown begins.
    pub fn drain(&mut self) {
        self.draining = true;
        self.call(|conn, cx, _| conn.drain(cx));
    }
}
