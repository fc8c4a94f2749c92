//! What a session is told once ([`Limits`]) and what it borrows for each call
//! ([`Cx`]): the driver's clock, the answers, the faults, counters and the
//! output buffer. A session owns only its own state; everything shared by the
//! connections of one loop is lent here.

use super::super::answer::H2Answer;
use super::super::budget::Budgets;
use super::super::stream::Stream;
use crate::protocol::faults::Faults;
use crate::protocol::stats::Stats;
use crate::protocol::{ConnId, Timeouts};

/// What the HTTP/2 core is told beyond the timeouts.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Limits {
    /// `SETTINGS_MAX_CONCURRENT_STREAMS`: more are refused with `REFUSED_STREAM`.
    pub max_streams: u32,
    /// The largest header block, encoded or decoded (`--max-request-head`).
    pub max_head: usize,
    /// The largest request body per stream (`--max-body`).
    pub max_body: u64,
    /// How long our SETTINGS may go unacknowledged, in milliseconds.
    pub settings_timeout: u64,
    /// Flood defences.
    pub budgets: Budgets,
}

impl Limits {
    /// The defaults: 100 streams (as nginx and h2o), a 16 KiB header block and
    /// 1 MiB bodies (HTTP/1.1's limits), 10 s for the SETTINGS ack.
    pub const DEFAULT: Limits = Limits {
        max_streams: 100,
        max_head: 16 * 1024,
        max_body: 1024 * 1024,
        settings_timeout: 10_000,
        budgets: Budgets::DEFAULT,
    };

    /// The defaults, with the head and body limits HTTP/1.1 is given
    /// (`--max-request-head`, `--max-body` mean the same thing here).
    pub fn with_http1(limits: &crate::protocol::framing::Limits) -> Limits {
        Limits {
            max_head: limits.max_head,
            max_body: limits.max_body,
            ..Limits::DEFAULT
        }
    }
}

/// Everything a session borrows for one call.
pub struct Cx<'a> {
    /// The connection's name, for logs.
    pub id: ConnId,
    /// The driver's clock, in milliseconds.
    pub now: u64,
    /// A graceful shutdown is under way.
    pub draining: bool,
    /// The answer every stream gets.
    pub answer: &'a H2Answer,
    /// The injected failure (`--fail-rate`), rendered only when one is set.
    pub failure: Option<&'a H2Answer>,
    /// `--delay` and `--fail-rate`, and the generator that picks them.
    pub faults: &'a mut Faults,
    /// Limits.
    pub limits: &'a Limits,
    /// Timeouts.
    pub timeouts: &'a Timeouts,
    /// Counters.
    pub stats: &'a mut Stats,
    /// Output: frames are appended.
    pub out: &'a mut Vec<u8>,
}

impl<'a> Cx<'a> {
    /// The answer `stream` gets: the configured one, or the injected failure.
    pub(super) fn answer_for(&self, stream: &Stream) -> &'a H2Answer {
        match self.failure {
            Some(failure) if stream.fail => failure,
            _ => self.answer,
        }
    }
}
