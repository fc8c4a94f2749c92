//! Stopping: a [`ServerHandle`](super::ServerHandle) asks, through the waker, for a
//! graceful drain or an immediate stop. The process layer turns SIGTERM and SIGINT
//! into the same requests, so a signal and a library call drain the same way.

use std::time::Duration;

use log::{log, warn};

use super::Server;
use super::clock::millis;
use super::handle::Request;
use super::metrics::CloseReason;
use mio::Token;

/// What stopping needs to remember.
pub(super) struct Drain {
    /// Graceful shutdown deadline, once one began.
    pub(super) deadline: Option<u64>,
    timeout: Duration,
    stop_now: bool,
}

impl Drain {
    pub(super) fn new(timeout: Duration) -> Drain {
        Drain {
            deadline: None,
            timeout,
            stop_now: false,
        }
    }
}

impl Server {
    pub(super) fn on_wake(&mut self) {
        match self.control.request() {
            Request::None => {}
            Request::Shutdown => self.begin_drain(),
            Request::Stop => {
                if !self.drain.stop_now {
                    log!(
                        self.data.report_level(),
                        "{}stopping now: closing {} connections",
                        self.data.worker_prefix(),
                        self.connections.len()
                    );
                }
                self.drain.stop_now = true;
            }
        }
    }

    /// The loop ends: stopped, or drained (every connection closed, or out of time).
    pub(super) fn finished(&self) -> bool {
        self.drain.stop_now
            || self
                .drain
                .deadline
                .is_some_and(|deadline| self.connections.is_empty() || self.data.now >= deadline)
    }

    /// The loop ended with connections still open (the shutdown timeout ran out, or
    /// a stop was asked for): close them, and count them as cut off.
    pub(super) fn cut_off_the_rest(&mut self) {
        let open = self.connections.len();
        if open == 0 {
            return;
        }
        // A stop asked for at once was logged when asked ("stopping now").
        if !self.drain.stop_now {
            warn!(
                "the shutdown timeout ({:?}) ran out: cutting off {open} connections still open",
                self.drain.timeout
            );
        }
        self.data.common.stats.cut_off += open as u64;
        for _ in self.connections.drain() {
            self.data.io.close(CloseReason::CutOff);
        }
    }

    /// Stop accepting, close idle connections, let busy ones finish.
    fn begin_drain(&mut self) {
        if self.drain.deadline.is_some() {
            return;
        }
        log!(
            self.data.report_level(),
            "{}draining: closing the listener, {} connections open (up to {:?})",
            self.data.worker_prefix(),
            self.connections.len(),
            self.drain.timeout
        );
        if let Some(mut listener) = self.accept.listener.take() {
            let _ = self.poll.registry().deregister(&mut listener);
        }
        if let Some(scrapes) = self.scrapes.as_mut() {
            scrapes.close_listener(self.poll.registry());
        }
        self.data.draining = true;
        self.drain.deadline = Some(self.data.now + millis(self.drain.timeout));
        let mut keys = std::mem::take(&mut self.scratch);
        keys.extend(self.connections.iter().map(|(key, _)| key));
        for key in keys.drain(..) {
            if let Some(conn) = self.connections.get_mut(key) {
                let next = conn.drain(&mut self.data.context(key));
                self.after_call(Token(key), next);
            }
        }
        self.scratch = keys;
    }
}
