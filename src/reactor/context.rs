//! What the loop lends its handlers: the clock reading, the rendered responses, the
//! limits, the counters and the two reactor-wide buffers.
//!
//! Keeping these in one struct beside the slab lets the loop borrow a connection
//! (from the slab) and a [`Context`] (from here) at the same time: they are
//! different fields, so the borrows do not overlap.

use super::clock::Clock;
use super::cores::H2Shared;
use super::driver::READ_BUF_SIZE;
use super::metrics::IoCounters;
use crate::config::Config;
use crate::protocol::{Common, ConnId, Cx};

/// Everything a connection handler borrows for one call: what the protocol core
/// needs, and the read buffer that only the driver uses.
pub struct Context<'a> {
    /// The protocol core's part: what every connection of this loop shares (the
    /// rendered answers, limits, timeouts, head memo, counters and the output
    /// batch), lent to this one call as a [`Cx`].
    pub shared: Cx<'a>,
    /// The shared read buffer.
    pub read_buf: &'a mut [u8],
    /// Bytes in and out (the reactor's counters; see `metrics.rs`).
    pub io: &'a mut IoCounters,
    /// What HTTP/2 connections share (see `cores.rs`).
    pub h2: &'a H2Shared,
}

/// The loop's data, owned by its thread and lent to one handler at a time.
pub struct LoopData {
    /// Names this loop's connections in logs (`Some` when there are several workers).
    pub worker: Option<u16>,
    /// The loop's clock reading for this turn.
    pub now: u64,
    /// A graceful shutdown is under way.
    pub draining: bool,
    /// The answers, limits, timeouts, head memo and counters every connection uses.
    pub common: Common,
    /// The reactor's own counters: bytes, close reasons.
    pub io: IoCounters,
    /// HTTP/2's encoded answer and limits, and which protocols are spoken.
    pub h2: H2Shared,
    /// How often deadlines are checked: a quarter of the shortest timeout, between
    /// 10 ms and 1 s, so a timeout of 40 ms or more fires at most 25% late (and a
    /// shorter one at most 10 ms late).
    pub tick_ms: u64,
    read_buf: Box<[u8]>,
    out: Vec<u8>,
}

impl LoopData {
    /// Render the responses and size the buffers for `config`.
    pub fn new(config: &Config) -> LoopData {
        let wall = Clock::start().wall();
        let common = Common::new(&config.protocol(), wall);
        LoopData {
            worker: None,
            now: 0,
            draining: false,
            tick_ms: (common.timeouts.shortest() / 4).clamp(10, 1000),
            common,
            io: IoCounters::default(),
            h2: H2Shared::new(config, wall),
            read_buf: vec![0; READ_BUF_SIZE].into_boxed_slice(),
            out: Vec::with_capacity(2 * READ_BUF_SIZE),
        }
    }

    /// Where the loop's own lines (start, drain, stop, stats) go: info for a lone
    /// reactor, debug for one worker of several (the process logs the totals).
    pub fn report_level(&self) -> log::Level {
        match self.worker {
            None => log::Level::Info,
            Some(_) => log::Level::Debug,
        }
    }

    /// `"w2 "` for worker 2 of several, `""` for a lone reactor.
    pub fn worker_prefix(&self) -> String {
        self.worker.map_or_else(String::new, |w| format!("w{w} "))
    }

    /// The name of connection `key` in logs.
    pub fn id(&self, key: usize) -> ConnId {
        ConnId {
            worker: self.worker,
            key,
        }
    }

    /// Lend everything to the handler of connection `key`.
    pub fn context(&mut self, key: usize) -> Context<'_> {
        let id = self.id(key);
        Context {
            shared: self.common.cx(id, self.now, self.draining, &mut self.out),
            read_buf: &mut self.read_buf,
            io: &mut self.io,
            h2: &self.h2,
        }
    }
}
