//! What the connections of one driver have in common, and how a call borrows it.
//!
//! A [`Conn`](super::Conn) keeps only its own state; the rendered answers, the
//! limits and timeouts, the head memo and the counters are the driver's, one set
//! for all its connections (an idle connection must stay small). [`Common`] holds
//! that set and lends it to one call at a time as a [`Cx`]. The reactor, the
//! blocking example and the test fixture all build their `Cx` here.
//!
//! The core is told what it needs as [`Settings`]: the answer, the framing limits
//! and the timeouts, and nothing else. The process's `Config` makes them
//! (`Config::protocol`), so the core never imports `Config` and does not grow when
//! another layer gains a setting (TLS, workers, metrics).

use std::time::SystemTime;

use super::Timeouts;
use super::batch::Batch;
use super::faults::{FaultSettings, Faults};
use super::framing::{HeadMemo, Limits};
use super::response::{Answer, Responses};
use super::stats::Stats;

/// What the protocol core is told: the answer to give, the framing limits and the
/// timeouts. Each has its default on its own type ([`Answer::DEFAULT`],
/// [`Limits::DEFAULT`], [`Timeouts::DEFAULT`]).
#[derive(Debug, Clone, Copy)]
pub struct Settings<'a> {
    /// What every valid request is answered with.
    pub answer: Answer<'a>,
    /// Framing limits.
    pub limits: Limits,
    /// Timeouts, in milliseconds.
    pub timeouts: Timeouts,
    /// Faults to inject on purpose (`--delay`, `--fail-rate`); none by default.
    pub faults: FaultSettings,
}

impl Settings<'static> {
    /// The server's defaults.
    pub const DEFAULT: Settings<'static> = Settings {
        answer: Answer::DEFAULT,
        limits: Limits::DEFAULT,
        timeouts: Timeouts::DEFAULT,
        faults: FaultSettings::NONE,
    };
}

/// Names a connection in logs: `conn 7`, or `w2 conn 7` when there are several
/// workers (connection keys repeat across workers).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ConnId {
    /// The worker's number, when the process runs more than one.
    pub worker: Option<u16>,
    /// The connection's key in its worker's slab.
    pub key: usize,
}

impl std::fmt::Display for ConnId {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self.worker {
            Some(w) => write!(f, "w{w} conn {}", self.key),
            None => write!(f, "conn {}", self.key),
        }
    }
}

/// Everything a connection borrows for one call.
pub struct Cx<'a> {
    /// The connection's name, for logs.
    pub id: ConnId,
    /// The driver's clock, in whole milliseconds (rounded down).
    pub now: u64,
    /// A graceful shutdown is under way: every answer is final.
    pub draining: bool,
    /// Rendered responses.
    pub responses: &'a Responses,
    /// Framing limits.
    pub limits: &'a Limits,
    /// The last head parsed, to answer a repeated head without parsing it.
    pub memo: &'a mut HeadMemo,
    /// Timeouts.
    pub timeouts: &'a Timeouts,
    /// Counters.
    pub stats: &'a mut Stats,
    /// Faults to inject (`--delay`, `--fail-rate`) and their generator.
    pub faults: &'a mut Faults,
    /// The answers to write, in order.
    pub out: Batch<'a>,
}

/// The answers, limits, timeouts, head memo and counters of one driver.
#[derive(Debug)]
pub struct Common {
    /// Rendered answers.
    pub responses: Responses,
    /// Framing limits.
    pub limits: Limits,
    /// Timeouts in milliseconds.
    pub timeouts: Timeouts,
    /// The last head parsed (see [`HeadMemo`]).
    pub memo: HeadMemo,
    /// Counters.
    pub stats: Stats,
    /// Faults to inject, and the generator that picks them.
    pub faults: Faults,
}

impl Common {
    /// For `settings`, with the answers dated `now` (the caller reads the clock).
    pub fn new(settings: &Settings<'_>, now: SystemTime) -> Common {
        let mut responses = Responses::for_answer(&settings.answer, now);
        if settings.faults.fail_rate > 0.0 {
            responses.add_failure(settings.faults.fail_status, now);
        }
        Common {
            responses,
            limits: settings.limits,
            timeouts: settings.timeouts,
            memo: HeadMemo::new(),
            stats: Stats::default(),
            faults: Faults::new(&settings.faults),
        }
    }

    /// Lend everything to one call of connection `id`'s core, at time `now`, with
    /// its answers appended to `out` (empty between calls).
    pub fn cx<'a>(
        &'a mut self,
        id: ConnId,
        now: u64,
        draining: bool,
        out: &'a mut Vec<u8>,
    ) -> Cx<'a> {
        Cx {
            id,
            now,
            draining,
            responses: &self.responses,
            limits: &self.limits,
            memo: &mut self.memo,
            timeouts: &self.timeouts,
            stats: &mut self.stats,
            faults: &mut self.faults,
            out: Batch::new(out),
        }
    }
}
