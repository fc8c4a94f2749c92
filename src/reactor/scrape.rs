//! The metrics listener (`--metrics-bind`): `GET /metrics` on a second listening
//! socket of the same reactor, answered with the Prometheus text of `metrics.rs`.
//!
//! It shares the reactor's `Poll` under its own tokens, and none of its code is on
//! the request path: the main listener keeps answering every path with the fixed
//! response, and scrapes are not counted as requests. The loop's only cost for it
//! is one comparison per event, to tell a scrape's token (from [`SCRAPE_BASE`] up)
//! from a client's (a slab key, far below).
//!
//! A scrape is served the simple way: read until the head is complete (at most
//! [`MAX_HEAD`] bytes, within [`SCRAPE_TIMEOUT_MS`]), render, write, close. At most
//! [`MAX_SCRAPES`] are open at once; more are accepted and closed at once, so a
//! flood of them cannot hold descriptors the clients need.

use std::io::{self, Read, Write};
use std::net::SocketAddr;
use std::sync::{Arc, Mutex, PoisonError};

use log::{debug, warn};
use mio::net::{TcpListener, TcpStream};
use mio::{Interest, Token};
use slab::Slab;

use super::metrics::{self, Snapshot};
use super::{METRICS, Server};
use crate::certs::Tls;

/// Scrape connections' tokens start here; a client connection's token is its slab
/// key, which stays far below.
pub(super) const SCRAPE_BASE: usize = usize::MAX / 2;
/// Scrape connections open at once.
const MAX_SCRAPES: usize = 16;
/// The largest request head a scrape may send.
const MAX_HEAD: usize = 8 * 1024;
/// How long a scrape connection may take, from accept to the last byte written.
const SCRAPE_TIMEOUT_MS: u64 = 5_000;

/// Where a reactor publishes its [`Snapshot`] for the reactor that serves metrics.
pub type MetricsSlot = Arc<Mutex<Snapshot>>;

/// How this reactor's metrics reach a scrape when several reactors run: it
/// publishes to a slot, or it renders others' slots with its own.
#[derive(Default)]
pub(super) struct MetricsLinks {
    publish: Option<MetricsSlot>,
    peers: Vec<MetricsSlot>,
}

impl MetricsLinks {
    /// A publisher wakes once per tick even when idle, so its last counts go out.
    pub(super) fn publishes(&self) -> bool {
        self.publish.is_some()
    }
}

/// The metrics listener and its open scrapes.
pub(super) struct Scrapes {
    listener: Option<TcpListener>,
    pub(super) addr: SocketAddr,
    conns: Slab<Scrape>,
}

/// One scrape connection.
struct Scrape {
    stream: TcpStream,
    input: Vec<u8>,
    output: Vec<u8>,
    written: usize,
    deadline: u64,
}

impl Scrapes {
    /// Bind `addr` (TCP) for scrapes.
    pub(super) fn bind(addr: SocketAddr) -> io::Result<Scrapes> {
        let listener = super::listener::bind(addr, 64)?;
        Ok(Scrapes {
            addr: listener.local_addr()?,
            listener: Some(listener),
            conns: Slab::new(),
        })
    }

    /// Register the listener with the reactor's poll.
    pub(super) fn register(&mut self, registry: &mio::Registry) -> io::Result<()> {
        match self.listener.as_mut() {
            Some(listener) => registry.register(listener, METRICS, Interest::READABLE),
            None => Ok(()),
        }
    }

    /// The earliest scrape deadline, if any scrape is open.
    pub(super) fn next_deadline(&self) -> Option<u64> {
        self.conns.iter().map(|(_, s)| s.deadline).min()
    }

    /// Stop accepting scrapes (a drain began).
    pub(super) fn close_listener(&mut self, registry: &mio::Registry) {
        if let Some(mut listener) = self.listener.take() {
            let _ = registry.deregister(&mut listener);
        }
    }
}

impl Server {
    /// Counters of this reactor now, for [`metrics::render`].
    pub fn metrics_snapshot(&self) -> Snapshot {
        Snapshot::take(
            &self.data.common.stats,
            &self.data.io,
            self.connections.len(),
        )
    }

    /// Publish this reactor's counters to `slot` once per tick (at most a second
    /// apart) and when the loop ends, for another reactor to render. The copy is
    /// made off the request path, under a lock only the two of them take.
    pub fn publish_metrics_to(&mut self, slot: MetricsSlot) {
        self.metrics.publish = Some(slot);
    }

    /// Render the snapshots that other reactors publish to `slot` along with this
    /// one's when `/metrics` is scraped here.
    pub fn add_metrics_peer(&mut self, slot: MetricsSlot) {
        self.metrics.peers.push(slot);
    }

    /// After a tick, and when the loop ends: publish, if asked to.
    pub(super) fn publish_metrics(&mut self) {
        if let Some(slot) = &self.metrics.publish {
            let snapshot = Snapshot::take(
                &self.data.common.stats,
                &self.data.io,
                self.connections.len(),
            );
            *slot.lock().unwrap_or_else(PoisonError::into_inner) = snapshot;
        }
    }

    /// This reactor's counters now, and the last ones its peers published.
    fn all_snapshots(&self) -> Vec<Snapshot> {
        let mut all = vec![self.metrics_snapshot()];
        all.extend(
            self.metrics
                .peers
                .iter()
                .map(|slot| slot.lock().unwrap_or_else(PoisonError::into_inner).clone()),
        );
        all
    }

    /// Serve `/metrics` on `addr` (TCP), in addition to the main listener: what
    /// `Config::metrics_bind` asks for. Returns the address bound.
    pub fn serve_metrics(&mut self, addr: SocketAddr) -> io::Result<SocketAddr> {
        let mut scrapes = Scrapes::bind(addr)?;
        scrapes.register(self.poll.registry())?;
        let bound = scrapes.addr;
        self.scrapes = Some(scrapes);
        Ok(bound)
    }

    /// The metrics listener's address, if `--metrics-bind` was given.
    pub fn metrics_addr(&self) -> Option<SocketAddr> {
        self.scrapes.as_ref().map(|s| s.addr)
    }

    /// The metrics listener is readable: accept what waits.
    pub(super) fn accept_scrapes(&mut self) {
        let Some(scrapes) = self.scrapes.as_mut() else {
            return;
        };
        let Some(listener) = scrapes.listener.as_ref() else {
            return;
        };
        loop {
            let mut stream = match listener.accept() {
                Ok((stream, _)) => stream,
                Err(e) if e.kind() == io::ErrorKind::WouldBlock => return,
                Err(e) => {
                    debug!("metrics: accept: {e}");
                    return; // the next edge tries again
                }
            };
            if scrapes.conns.len() >= MAX_SCRAPES {
                debug!("metrics: {MAX_SCRAPES} scrapes open; closing a new one");
                continue;
            }
            let key = scrapes.conns.vacant_key();
            let token = Token(SCRAPE_BASE + key);
            if let Err(e) = self
                .poll
                .registry()
                .register(&mut stream, token, Interest::READABLE)
            {
                warn!("metrics: cannot register a scrape: {e}");
                continue;
            }
            scrapes.conns.insert(Scrape {
                stream,
                input: Vec::new(),
                output: Vec::new(),
                written: 0,
                deadline: self.data.now + SCRAPE_TIMEOUT_MS,
            });
        }
    }

    /// A scrape connection may be readable or writable.
    pub(super) fn scrape_ready(&mut self, token: Token) {
        let key = token.0 - SCRAPE_BASE;
        let snapshots = self.all_snapshots();
        let tls = self.accept.tls.as_deref();
        let Some(scrapes) = self.scrapes.as_mut() else {
            return;
        };
        let Some(scrape) = scrapes.conns.get_mut(key) else {
            return;
        };
        let done = match scrape.progress(&snapshots, tls) {
            Ok(done) => done,
            Err(e) => {
                debug!("metrics: {e}");
                true
            }
        };
        if done {
            scrapes.conns.remove(key);
        } else if !scrape.output.is_empty() {
            let interest = Interest::READABLE | Interest::WRITABLE;
            let _ = self
                .poll
                .registry()
                .reregister(&mut scrape.stream, token, interest);
        }
    }

    /// After a tick: close scrapes past their deadline.
    pub(super) fn expire_scrapes(&mut self) {
        let now = self.data.now;
        if let Some(scrapes) = self.scrapes.as_mut() {
            scrapes.conns.retain(|_, s| s.deadline > now);
        }
    }
}

impl Scrape {
    /// Read, answer once the head is in, write. `Ok(true)`: done, close it.
    fn progress(&mut self, snapshots: &[Snapshot], tls: Option<&Tls>) -> io::Result<bool> {
        if self.output.is_empty() {
            let mut chunk = [0u8; 1024];
            loop {
                match self.stream.read(&mut chunk) {
                    Ok(0) => return Ok(true),
                    Ok(n) => self.input.extend_from_slice(&chunk[..n]),
                    Err(e) if e.kind() == io::ErrorKind::WouldBlock => break,
                    Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
                    Err(e) => return Err(e),
                }
                if self.input.len() > MAX_HEAD {
                    break;
                }
            }
            match answer(&self.input, snapshots, tls) {
                Some(output) => self.output = output,
                None => return Ok(false), // the head is not complete yet
            }
        }
        while self.written < self.output.len() {
            match self.stream.write(&self.output[self.written..]) {
                Ok(0) => return Ok(true),
                Ok(n) => self.written += n,
                Err(e) if e.kind() == io::ErrorKind::WouldBlock => return Ok(false),
                Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
                Err(e) => return Err(e),
            }
        }
        Ok(true)
    }
}

/// The whole response to a request head, or `None` while the head is incomplete.
fn answer(input: &[u8], snapshots: &[Snapshot], tls: Option<&Tls>) -> Option<Vec<u8>> {
    let mut headers = [httparse::EMPTY_HEADER; 32];
    let mut request = httparse::Request::new(&mut headers);
    let (status, body, head_only) = match request.parse(input) {
        Ok(httparse::Status::Partial) if input.len() <= MAX_HEAD => return None,
        Ok(httparse::Status::Complete(_)) => {
            let path = request.path.unwrap_or("");
            let path = path.split('?').next().unwrap_or(path);
            let method = request.method.unwrap_or("");
            match (method, path) {
                ("GET" | "HEAD", "/metrics") => {
                    let mut text = metrics::render(snapshots);
                    if let Some(tls) = tls {
                        tls.stats.render(&mut text);
                    }
                    ("200 OK", text, method == "HEAD")
                }
                (_, "/metrics") => ("405 Method Not Allowed", "GET only\n".into(), false),
                _ => ("404 Not Found", "metrics are at /metrics\n".into(), false),
            }
        }
        _ => ("400 Bad Request", "bad request\n".into(), false),
    };
    let mut out = format!(
        "HTTP/1.1 {status}\r\nContent-Type: text/plain; version=0.0.4; charset=utf-8\r\n\
         Content-Length: {}\r\nConnection: close\r\n\r\n",
        body.len()
    )
    .into_bytes();
    if !head_only {
        out.extend_from_slice(body.as_bytes());
    }
    Some(out)
}
