//! Stopping: requests from a [`ServerHandle`](crate::ServerHandle) (through the
//! waker) and SIGTERM/SIGINT (through signal-hook's pipe) both end in
//! `begin_shutdown`, so a signal and a library call drain the same way.

use log::info;
use signal_hook::consts::SIGINT;

use super::Server;
use crate::connection::Next;
use crate::handle::Request;

impl Server {
    pub(super) fn on_wake(&mut self) {
        match self.control.request() {
            Request::None => {}
            Request::Shutdown => self.begin_shutdown("shutdown requested"),
            Request::Stop => self.stop_now = true,
        }
    }

    pub(super) fn on_signals(&mut self) {
        let Some(signals) = self.signals.as_mut() else {
            return;
        };
        let received: Vec<i32> = signals.pending().collect();
        for signal in received {
            let name = if signal == SIGINT {
                "SIGINT"
            } else {
                "SIGTERM"
            };
            self.begin_shutdown(name);
        }
    }

    /// Stop accepting, close idle connections, let busy ones finish; a second call
    /// stops at once.
    pub(super) fn begin_shutdown(&mut self, why: &str) {
        if self.shutdown_deadline.is_some() {
            info!("{why} again: stopping now");
            self.stop_now = true;
            return;
        }
        info!(
            "{why}: closing the listener, draining {} connections (up to {:?})",
            self.connections.len(),
            self.shutdown_timeout
        );
        if let Some(mut listener) = self.listener.take() {
            let _ = self.poll.registry().deregister(&mut listener);
        }
        self.shared.draining = true;
        self.shutdown_deadline = Some(self.shared.now + self.shutdown_timeout.as_millis() as u64);
        for (key, conn) in self.connections.iter_mut() {
            if conn.begin_drain(&mut self.shared.context(key)) == Next::Close {
                self.to_close.push(key);
            }
        }
        self.close_marked();
    }
}
