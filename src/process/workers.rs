//! Workers: N independent single-threaded reactors in one process (`--workers`).
//!
//! Each worker is a whole [`Server`] on its own thread (`hello-reactor-{i}`): its own
//! `Poll`, listener, slab of connections, buffers and counters. The workers share
//! nothing while they serve, so there are no locks on the request path and a
//! connection lives and dies on the worker that accepted it. What is shared is what
//! belongs to the process, and it lives here or beside it in [`process`](super):
//! the address, the connection budget, the signals and the reports.
//!
//! **Listening.** With one worker nothing changes: one socket bound as always
//! ([`Server::bind`]). With several, [`ListenerMode`] chooses:
//! - `per-worker` (the default on Linux): every worker binds its own socket to the
//!   address with `SO_REUSEPORT`, and the kernel hashes each new connection to one
//!   of their accept queues. Only that worker wakes, and no two workers race for a
//!   connection. The port is still checked, so that a second server fails with
//!   `AddrInUse` instead of silently joining the group (see
//!   [`listener::bind_reuse_port_group`](crate::reactor::listener)). The price: a
//!   connection hashed to a busy worker waits for that worker, even if another is
//!   idle; with many short connections the hash evens out.
//! - `shared`: one socket, and every worker registers a duplicate of it
//!   (`try_clone`) with its own `Poll`. Every worker is woken for a new connection
//!   and they race to accept it (the losers get `WouldBlock`), so an idle worker
//!   picks up slack, at the cost of wake-ups that find nothing. macOS and the BSDs
//!   always use this mode: their `SO_REUSEPORT` does not spread connections (or, on
//!   FreeBSD, needs `SO_REUSEPORT_LB`), so `per-worker` falls back to it there.
//!
//! `docs/workers.md` has the measurements behind the default.
//!
//! **Limits** are the process's: `max_connections` is the total, split evenly (the
//! first workers take the remainder), and never less than one per worker. A worker
//! at its share stops accepting, exactly like a lone reactor at its cap; with
//! per-worker sockets its new clients wait in its own queue.
//!
//! **Stopping.** [`Workers::handles`] holds one [`ServerHandle`] per worker; the
//! signal thread asks them all, so every worker stops accepting and drains at
//! once. [`Workers::join`] waits for all of them and adds their [`Summary`]s.
//!
//! **Reports.** Each worker logs its own lines at the debug level, named `w{i}`
//! (see [`Server::set_worker`]); the process logs the totals at info, in the
//! format a lone reactor uses: the `stopped:` line when all have stopped, and with
//! `stats_interval` a `stats:` line from a thread of its own, which adds up the
//! [`Snapshot`](crate::reactor::Snapshot)s the workers publish at their stats ticks
//! (so the total lags by at most one interval).

use std::io;
use std::net::SocketAddr;
use std::sync::mpsc::{self, RecvTimeoutError, Sender};
use std::thread::JoinHandle;
use std::time::Duration;

use log::{debug, info, log_enabled};

use super::affinity;
use super::listen;
use super::timeshare;
use crate::config::Config;
use crate::protocol::stats::{Summary, stats_line};
use crate::reactor::{Endpoint, Running, Server, ServerHandle};

/// N reactors running on their threads; dropping it stops them all and waits.
///
/// ```
/// use std::io::{Read, Write};
/// use hello_reactor::{Config, Workers};
///
/// let config = Config {
///     bind: "127.0.0.1:0".parse().unwrap(),
///     workers: 2, // threads hello-reactor-0 and hello-reactor-1
///     ..Config::default()
/// };
/// let workers = Workers::start(config)?;
/// for _ in 0..4 {
///     let mut client = std::net::TcpStream::connect(workers.addr())?;
///     client.write_all(b"GET / HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")?;
///     let mut response = String::new();
///     client.read_to_string(&mut response)?;
///     assert!(response.starts_with("HTTP/1.1 200 OK\r\n"));
/// }
/// let total = workers.shutdown()?; // every worker drains; their summaries add up
/// assert_eq!((total.connections, total.requests), (4, 4));
/// # Ok::<(), std::io::Error>(())
/// ```
#[derive(Debug)]
pub struct Workers {
    addr: SocketAddr,
    handles: Vec<ServerHandle>,
    running: Vec<Running>,
    reporter: Option<Reporter>,
}

/// N reactors bound and built, not yet running: the caller can take their
/// handles (say, for signals) before the first connection is served.
pub struct Bound {
    servers: Vec<Server>,
    addr: SocketAddr,
    endpoint: Endpoint,
    mode: &'static str,
    pin: bool,
    stats_interval: Option<Duration>,
}

impl Workers {
    /// Bind `config.bind` for `config.workers` reactors and start them.
    pub fn start(config: Config) -> io::Result<Workers> {
        Workers::bind(config)?.spawn()
    }

    /// Build `config.workers` reactors (at least one) on the socket the service
    /// manager passed, or bound at `config.bind` (see `process/listen.rs`),
    /// with the connection cap split among them and, with `metrics_bind`, the
    /// metrics port on the first. Fails as a lone server would if the address
    /// cannot be bound; the error names it.
    pub fn bind(config: Config) -> io::Result<Bound> {
        let (servers, mode) = listen::servers(&config)?;
        let addr = servers[0].local_addr();
        let endpoint = servers[0].endpoint().clone();
        let lone = servers.len() == 1;
        Ok(Bound {
            servers,
            addr,
            endpoint,
            mode,
            pin: config.pin_workers,
            // A lone reactor logs its own stats line.
            stats_interval: if lone { None } else { config.stats_interval },
        })
    }

    /// The address the workers listen on (with the real port if 0 was asked for).
    pub fn addr(&self) -> SocketAddr {
        self.addr
    }

    /// One remote control per worker, in worker order.
    pub fn handles(&self) -> &[ServerHandle] {
        &self.handles
    }

    /// How many workers run.
    pub fn len(&self) -> usize {
        self.handles.len()
    }

    /// Never: there is at least one worker.
    pub fn is_empty(&self) -> bool {
        self.handles.is_empty()
    }

    /// Drain every worker, as SIGTERM does, wait, and return their summed summary.
    pub fn shutdown(mut self) -> io::Result<Summary> {
        self.handles
            .iter()
            .map(ServerHandle::shutdown)
            .collect::<io::Result<Vec<()>>>()?;
        self.join()
    }

    /// Stop every worker at once, wait, and return their summed summary.
    pub fn stop(mut self) -> io::Result<Summary> {
        self.handles
            .iter()
            .map(ServerHandle::stop)
            .collect::<io::Result<Vec<()>>>()?;
        self.join()
    }

    /// Wait until every worker has stopped (through a signal or the handles) and
    /// return the sum of their summaries; the first error if one failed.
    pub fn join(&mut self) -> io::Result<Summary> {
        let results: Vec<io::Result<Summary>> =
            self.running.iter_mut().map(Running::join).collect();
        if let Some(reporter) = self.reporter.take() {
            reporter.finish();
        }
        let mut total = Summary::default();
        let mut first_error = None;
        let mut shares = Vec::with_capacity(results.len());
        for (i, result) in results.into_iter().enumerate() {
            match result {
                Ok(summary) => {
                    shares.push(format!("w{i} {}", summary.requests));
                    total += &summary;
                }
                Err(e) => {
                    shares.push(format!("w{i} failed"));
                    first_error.get_or_insert(e);
                }
            }
        }
        if self.len() > 1 {
            debug!("requests per worker: {}", shares.join(", "));
            info!("stopped: {total}");
        }
        first_error.map_or(Ok(total), Err)
    }
}

impl Drop for Workers {
    fn drop(&mut self) {
        if self.running.iter().any(|r| r.thread.is_some()) {
            for handle in &self.handles {
                let _ = handle.stop();
            }
            let _ = self.join();
        }
    }
}

impl Bound {
    /// The address the workers will listen on (`0.0.0.0:0` for a Unix socket).
    pub fn addr(&self) -> SocketAddr {
        self.addr
    }

    /// Where the workers will listen: a TCP address or a Unix socket path.
    pub fn endpoint(&self) -> &Endpoint {
        &self.endpoint
    }

    /// The metrics port, with `metrics_bind`.
    pub fn metrics_addr(&self) -> Option<SocketAddr> {
        self.servers[0].metrics_addr()
    }

    /// One remote control per worker, in worker order.
    pub fn handles(&self) -> Vec<ServerHandle> {
        self.servers.iter().map(Server::handle).collect()
    }

    /// The one reactor, if there is exactly one (to run on the caller's thread);
    /// else `self` back.
    pub fn into_lone(mut self) -> Result<Server, Box<Bound>> {
        if self.servers.len() == 1 {
            Ok(self.servers.remove(0))
        } else {
            Err(Box::new(self))
        }
    }

    /// Start every worker on its thread `hello-reactor-{i}`, pinned if asked, and
    /// under `SCHED_BATCH` if they outnumber the CPUs (see `process/timeshare.rs`).
    pub fn spawn(self) -> io::Result<Workers> {
        let n = self.servers.len();
        let cpus = if self.pin {
            affinity::cpus_for_pinning()
        } else {
            Vec::new()
        };
        let shared_cpus = timeshare::workers_share_cpus(n);
        if let Some(c) = shared_cpus {
            info!(
                "{n} workers share {c} CPU(s): they run under SCHED_BATCH, so that a worker \
                 waking up does not preempt another in the middle of its batch"
            );
        }
        if n > 1 {
            let cap: Option<usize> = self
                .servers
                .iter()
                .map(|s| Some(s.max_connections()).filter(|&m| m != usize::MAX))
                .sum();
            info!(
                "{n} workers on {} ({}), up to {} connections in all{}",
                self.addr,
                self.mode,
                cap.map_or_else(|| "unlimited".to_string(), |c| c.to_string()),
                if cpus.is_empty() { "" } else { ", pinned" }
            );
        }
        let handles = self.handles();
        let mut running = Vec::with_capacity(n);
        for (i, server) in self.servers.into_iter().enumerate() {
            let cpu = (!cpus.is_empty()).then(|| cpus[i % cpus.len()]);
            running.push(spawn_worker(server, i, cpu, shared_cpus.is_some())?);
        }
        let reporter = match self.stats_interval {
            Some(interval) => Some(Reporter::spawn(handles.clone(), interval)?),
            None => None,
        };
        Ok(Workers {
            addr: self.addr,
            handles,
            running,
            reporter,
        })
    }
}

/// Run `server` on thread `hello-reactor-{i}`, pinned to `cpu` first if given, and
/// under `SCHED_BATCH` if `batch`.
fn spawn_worker(server: Server, i: usize, cpu: Option<usize>, batch: bool) -> io::Result<Running> {
    server.spawn_named(format!("hello-reactor-{i}"), move || {
        let who = format!("w{i}");
        if let Some(cpu) = cpu {
            affinity::pin_logged(&who, cpu);
        }
        if batch {
            timeshare::batch_logged(&who);
        }
    })
}

/// The thread that logs the process's `stats:` line every interval.
#[derive(Debug)]
struct Reporter {
    done: Sender<()>,
    thread: JoinHandle<()>,
}

impl Reporter {
    fn spawn(handles: Vec<ServerHandle>, interval: Duration) -> io::Result<Reporter> {
        let (done, wait) = mpsc::channel::<()>();
        let thread = std::thread::Builder::new()
            .name("hello-reactor-stats".into())
            .spawn(move || {
                let mut requests_before = 0;
                while let Err(RecvTimeoutError::Timeout) = wait.recv_timeout(interval) {
                    if !log_enabled!(log::Level::Info) {
                        continue;
                    }
                    let snapshots: Vec<_> = handles.iter().map(ServerHandle::snapshot).collect();
                    let total: Summary = snapshots.iter().map(|s| &s.summary).sum();
                    let open = snapshots.iter().map(|s| s.open_connections).sum();
                    let requests = total.requests;
                    let rate =
                        requests.saturating_sub(requests_before) as f64 / interval.as_secs_f64();
                    requests_before = requests;
                    info!("{}", stats_line(rate, open, &total));
                }
            })?;
        Ok(Reporter { done, thread })
    }

    fn finish(self) {
        let _ = self.done.send(());
        let _ = self.thread.join();
    }
}
