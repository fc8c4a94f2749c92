//! What the connections of one driver have in common, and how a call borrows it.
//!
//! A [`Conn`](super::Conn) keeps only its own state; the rendered answers, the
//! limits and timeouts, the head memo and the counters are the driver's, one set
//! for all its connections (an idle connection must stay small). [`Common`] holds
//! that set and lends it to one call at a time as a [`Cx`]. The reactor, the
//! blocking example and the test fixture all build their `Cx` here.

use std::time::{Duration, SystemTime};

use super::framing::{HeadMemo, Limits};
use super::response::Responses;
use super::stats::Stats;
use super::{Batch, ConnId, Cx, Timeouts};
use crate::config::Config;

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
}

impl Common {
    /// For `config`, with the answers dated `now` (the caller reads the clock).
    pub fn new(config: &Config, now: SystemTime) -> Common {
        let ms = |d: Duration| u64::try_from(d.as_millis()).unwrap_or(u64::MAX);
        Common {
            responses: Responses::for_config(config, now),
            limits: Limits {
                max_head: config.max_request_head,
                max_body: config.max_body,
            },
            timeouts: Timeouts {
                header: ms(config.header_timeout),
                keep_alive: ms(config.keep_alive_timeout),
                body: ms(config.body_timeout),
                write: ms(config.write_timeout),
                linger: ms(config.linger_timeout),
            },
            memo: HeadMemo::new(),
            stats: Stats::default(),
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
            out: Batch::new(out),
        }
    }
}
