//! Stopping: a [`ServerHandle`](super::ServerHandle) asks, through the waker, for a
//! graceful drain or an immediate stop. The process layer turns SIGTERM and SIGINT
//! into the same requests, so a signal and a library call drain the same way.

use std::time::Duration;

use log::{log, warn};

use super::Server;
use super::clock::millis;
use super::handle::Request;
use super::metrics::CloseReason;

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

/// What a signal asks a reactor for (the process decides, see
/// `process/signals.rs`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SignalMeaning {
    /// Nothing: log it and go on.
    Nothing,
    /// A graceful drain.
    Drain,
    /// Stop at once.
    Stop,
    /// Read the TLS certificate, key and client CA again (SIGHUP).
    Reload,
}

/// The signals a reactor receives in its own `Poll` (one reactor in the process),
/// and what each means.
pub(super) struct WatchedSignals {
    pub(super) signals: signal_hook_mio::v1_0::Signals,
    pub(super) meaning: fn(i32, bool) -> SignalMeaning,
}

impl Server {
    /// Receive `signals` in this reactor's own `Poll`, with `meaning` deciding what
    /// each asks for (given whether a drain has begun). For a process with one
    /// reactor: no thread is needed to wait for signals.
    pub fn watch_signals(
        &mut self,
        mut signals: signal_hook_mio::v1_0::Signals,
        meaning: fn(i32, bool) -> SignalMeaning,
    ) -> std::io::Result<()> {
        self.poll
            .registry()
            .register(&mut signals, super::SIGNALS, mio::Interest::READABLE)?;
        self.signals = Some(WatchedSignals { signals, meaning });
        Ok(())
    }

    pub(super) fn on_signals(&mut self) {
        let Some(watched) = self.signals.as_mut() else {
            return;
        };
        let meaning = watched.meaning;
        let pending: Vec<i32> = watched.signals.pending().collect();
        for signal in pending {
            match meaning(signal, self.drain.deadline.is_some()) {
                SignalMeaning::Nothing => {}
                SignalMeaning::Drain => self.begin_drain(),
                SignalMeaning::Stop => self.drain.stop_now = true,
                SignalMeaning::Reload => self.reload_tls(),
            }
        }
    }

    /// SIGHUP: new connections get the certificate in the files now.
    pub fn reload_tls(&mut self) {
        match &self.accept.tls {
            Some(tls) => tls.reload(),
            None => log::info!("SIGHUP: ignored (flags change only with a restart)"),
        }
    }

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
        self.data.common.stats.held = 0; // none of them will leave now
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
            self.call(key, |conn, cx| conn.drain(cx));
        }
        self.scratch = keys;
    }
}
