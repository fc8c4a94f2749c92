//! Controlling a server from other threads: [`ServerHandle`] and [`Running`].
//!
//! The loop owns everything and blocks in `poll`, so another thread cannot call into
//! it. Instead it sets a flag and wakes the loop with a [`mio::Waker`]; the loop reads
//! the flag on the waker's event, on its own thread.
//!
//! The other direction is a [`Snapshot`]: at each stats tick (`--stats-interval`)
//! the loop copies its counters into its `Control`, behind a mutex that is taken
//! once per interval, never per request. With several workers the process reads
//! every worker's snapshot and logs their sum.

use std::io;
use std::net::SocketAddr;
use std::sync::atomic::{AtomicU8, Ordering};
use std::sync::{Arc, Mutex, PoisonError};
use std::thread::JoinHandle;

use mio::Waker;

use crate::protocol::stats::Summary;

/// What another thread asked for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Request {
    /// Nothing.
    None = 0,
    /// Graceful shutdown, as on SIGTERM.
    Shutdown = 1,
    /// Stop at once.
    Stop = 2,
}

#[derive(Debug)]
pub(crate) struct Control {
    waker: Waker,
    request: AtomicU8,
    snapshot: Mutex<Snapshot>,
}

/// A reactor's counters as of its last stats tick.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Snapshot {
    /// What it did so far.
    pub summary: Summary,
    /// Connections open at that tick.
    pub open_connections: usize,
}

impl Control {
    pub(crate) fn new(waker: Waker) -> Control {
        Control {
            waker,
            request: AtomicU8::new(Request::None as u8),
            snapshot: Mutex::new(Snapshot::default()),
        }
    }

    /// Called by the loop at its stats tick.
    pub(crate) fn publish(&self, snapshot: Snapshot) {
        *self.snapshot.lock().unwrap_or_else(PoisonError::into_inner) = snapshot;
    }

    /// The strongest request so far (stop beats shutdown).
    pub(crate) fn request(&self) -> Request {
        match self.request.load(Ordering::Acquire) {
            2 => Request::Stop,
            1 => Request::Shutdown,
            _ => Request::None,
        }
    }

    fn ask(&self, request: Request) -> io::Result<()> {
        self.request.fetch_max(request as u8, Ordering::AcqRel);
        self.waker.wake()
    }
}

/// A cloneable, thread-safe remote control for a server.
#[derive(Debug, Clone)]
pub struct ServerHandle {
    pub(crate) control: Arc<Control>,
}

impl ServerHandle {
    /// Begin a graceful shutdown, exactly as SIGTERM does.
    pub fn shutdown(&self) -> io::Result<()> {
        self.control.ask(Request::Shutdown)
    }

    /// Stop at once, closing every connection.
    pub fn stop(&self) -> io::Result<()> {
        self.control.ask(Request::Stop)
    }

    /// The counters the server published at its last stats tick: all zero unless
    /// it runs with `stats_interval` set.
    pub fn snapshot(&self) -> Snapshot {
        self.control
            .snapshot
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .clone()
    }
}

/// A server running on its own thread; dropping it stops the server and joins.
#[derive(Debug)]
pub struct Running {
    pub(crate) addr: SocketAddr,
    pub(crate) endpoint: super::Endpoint,
    pub(crate) handle: ServerHandle,
    pub(crate) thread: Option<JoinHandle<io::Result<Summary>>>,
}

impl Running {
    /// The address the server listens on (with the real port if it asked for 0).
    pub fn addr(&self) -> SocketAddr {
        self.addr
    }

    /// Where the server listens: a TCP address or a Unix socket path.
    pub fn endpoint(&self) -> &super::Endpoint {
        &self.endpoint
    }

    /// A remote control for the server.
    pub fn handle(&self) -> &ServerHandle {
        &self.handle
    }

    /// Stop at once and return what the server did.
    pub fn stop(mut self) -> io::Result<Summary> {
        self.handle.stop()?;
        self.join()
    }

    /// Shut down gracefully, wait for the drain, and return what the server did.
    pub fn shutdown(mut self) -> io::Result<Summary> {
        self.handle.shutdown()?;
        self.join()
    }

    /// Wait for the server to stop by itself (signal or another handle).
    pub fn join(&mut self) -> io::Result<Summary> {
        let thread = self
            .thread
            .take()
            .ok_or_else(|| io::Error::other("already joined"))?;
        thread
            .join()
            .map_err(|_| io::Error::other("server thread panicked"))?
    }
}

impl Drop for Running {
    fn drop(&mut self) {
        if self.thread.is_some() {
            let _ = self.handle.stop();
            let _ = self.join();
        }
    }
}
