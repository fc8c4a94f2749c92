//! The process: what exists once per process, above the reactors.
//!
//! The reactor knows one `Poll`, one listener and its connections. Everything
//! that belongs to the whole process lives here instead, so that one process can
//! run several reactors: the file-descriptor limit (raised once, shared by all),
//! the signals (caught once, passed to every reactor), and the descriptors kept
//! back from the connection budget ([`RESERVED_FDS`]). [`Workers`] starts the
//! reactors (one by default, `--workers N` for more) and stops them together.

use std::io::{self, Write};
use std::net::SocketAddr;
use std::process::ExitCode;
use std::sync::Arc;

use log::{error, info, warn};

use crate::certs::Tls;
use crate::config::Config;
use crate::protocol::stats::Summary;
use crate::reactor::{Endpoint, Server};

pub mod activation;
pub mod affinity;
pub mod cli;
pub mod fdlimit;
mod listen;
mod signals;
mod timeshare;
mod workers;

pub use workers::{Bound, Workers};

/// File descriptors kept free for the listener, poll, waker, signals, logs.
pub const RESERVED_FDS: usize = 32;

/// Run the binary's server until it drains or stops: raise the fd limit, size the
/// connection cap, bind for every worker, print where it listens, serve, and pass
/// on signals. Exit status: 0 after a clean stop, 1 if the address cannot be bound
/// or an event loop fails.
pub fn serve(mut config: Config) -> ExitCode {
    if let Some(resolution) = &config.bind_resolution {
        info!("{resolution}");
    }
    log_faults(&config);
    config.max_connections = Some(connection_budget(config.max_connections));
    let pin = config.pin_workers;
    let tls = config.tls.clone();
    let bound = match Workers::bind(config) {
        Ok(bound) => bound,
        Err(e) => {
            eprintln!("hello-reactor: {e}");
            return ExitCode::from(1);
        }
    };
    // Signals are caught before the address is announced: whoever reads that line
    // may send SIGTERM at once, and it must drain, not kill.
    match bound.into_lone() {
        Ok(server) => serve_lone(server, pin, tls.is_some()),
        Err(bound) => serve_workers(*bound, tls),
    }
}

/// Say at start which faults are injected: a delayed or failing server must never
/// be mistaken for a slow or broken one.
fn log_faults(config: &Config) {
    match config.delay {
        Some((min, max)) if min == max => info!("--delay: every answer is held {min:?}"),
        Some((min, max)) => info!(
            "--delay: every answer is held {min:?} to {max:?} (uniform, --seed {})",
            config.seed
        ),
        None => {}
    }
    if config.fail_rate > 0.0 {
        info!(
            "--fail-rate: {}% of answers are an injected {} (--seed {})",
            config.fail_rate * 100.0,
            config.fail_status,
            config.seed
        );
    }
}

/// One reactor: it receives the signals in its own `Poll` and runs on this thread,
/// so the process has one thread (see [`signals`] for why that matters).
fn serve_lone(mut server: Server, pin: bool, https: bool) -> ExitCode {
    match signal_hook_mio::v1_0::Signals::new(signals::HANDLED) {
        Ok(watched) => {
            if let Err(e) = server.watch_signals(watched, signals::meaning) {
                warn!("cannot handle SIGTERM/SIGINT: {e}");
            }
        }
        Err(e) => warn!("cannot handle SIGTERM/SIGINT: {e}"),
    }
    if pin && let Some(&cpu) = affinity::cpus_for_pinning().first() {
        affinity::pin_logged("reactor", cpu);
    }
    announce(server.endpoint(), server.metrics_addr(), https);
    exit_status(server.run())
}

/// Several reactors, each on its thread; one more thread waits for signals.
fn serve_workers(bound: Bound, tls: Option<Arc<Tls>>) -> ExitCode {
    let https = tls.is_some();
    if let Err(e) = signals::forward(bound.handles(), tls) {
        warn!("cannot handle SIGTERM/SIGINT: {e}");
    }
    announce(bound.endpoint(), bound.metrics_addr(), https);
    let mut workers = match bound.spawn() {
        Ok(workers) => workers,
        Err(e) => {
            error!("cannot start the event loop: {e}");
            return ExitCode::from(1);
        }
    };
    exit_status(workers.join())
}

/// stdout's first line says where the server listens (`Serving HTTPS` with TLS),
/// the second (with `--metrics-bind`) where the metrics are: scripts and tests
/// read them.
fn announce(endpoint: &Endpoint, metrics: Option<SocketAddr>, https: bool) {
    let mut stdout = io::stdout();
    let scheme = if https { "HTTPS" } else { "HTTP" };
    let _ = writeln!(stdout, "Serving {scheme} on {endpoint} ...");
    if let Some(addr) = metrics {
        let _ = writeln!(stdout, "Metrics on http://{addr}/metrics");
    }
    let _ = stdout.flush();
}

fn exit_status(result: io::Result<Summary>) -> ExitCode {
    match result {
        Ok(_) => ExitCode::SUCCESS,
        Err(e) => {
            error!("the event loop failed: {e}");
            ExitCode::from(1)
        }
    }
}

/// Raise the fd limit, and choose the connection cap: `asked`, or as many as the
/// limit allows less [`RESERVED_FDS`]. Warns once if `asked` does not fit.
fn connection_budget(asked: Option<usize>) -> usize {
    let limit = match fdlimit::raise_to_hard_limit() {
        Ok(limit) => Some(limit),
        Err(e) => {
            warn!("cannot raise the file-descriptor limit: {e}");
            fdlimit::current_soft_limit().ok()
        }
    };
    let fits = |limit: u64| {
        usize::try_from(limit)
            .unwrap_or(usize::MAX)
            .saturating_sub(RESERVED_FDS)
    };
    let Some(wanted) = asked else {
        return limit.map_or(1024 - RESERVED_FDS, fits).max(1);
    };
    if let Some(limit) = limit {
        let needed = wanted as u64 + RESERVED_FDS as u64;
        if needed > limit {
            warn!(
                "--max-connections {wanted} needs about {needed} file descriptors but the limit is {limit}; \
                 accepts will pause when descriptors run out"
            );
        }
    }
    wanted
}
