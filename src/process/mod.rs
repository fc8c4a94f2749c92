//! The process: what exists once per process, above the reactors.
//!
//! The reactor knows one `Poll`, one listener and its connections. Everything
//! that belongs to the whole process lives here instead, so that one process can
//! run several reactors: the file-descriptor limit (raised once, shared by all),
//! the signals (caught once, passed to every reactor), and the descriptors kept
//! back from the connection budget ([`RESERVED_FDS`]).

use std::io::{self, Write};
use std::process::ExitCode;

use log::{error, warn};

use crate::config::Config;
use crate::reactor::Server;

pub mod activation;
pub mod fdlimit;
mod signals;

/// File descriptors kept free for the listener, poll, waker, signals, logs.
pub const RESERVED_FDS: usize = 32;

/// Run the binary's server until it drains or stops: raise the fd limit, size the
/// connection cap, bind, print where it listens, serve, and pass on signals.
/// Exit status: 0 after a clean stop, 1 if the address cannot be bound or the
/// event loop fails.
pub fn serve(mut config: Config) -> ExitCode {
    config.max_connections = Some(connection_budget(config.max_connections));
    let server = match listen(config) {
        Ok(server) => server,
        Err(message) => {
            eprintln!("hello-reactor: {message}");
            return ExitCode::from(1);
        }
    };
    // Signals are caught before the address is announced: whoever reads that line
    // may send SIGTERM at once, and it must drain, not kill.
    if let Err(e) = signals::forward(vec![server.handle()]) {
        warn!("cannot handle SIGTERM/SIGINT: {e}");
    }
    let mut stdout = io::stdout();
    let _ = writeln!(stdout, "Serving HTTP on {} ...", server.endpoint());
    if let Some(addr) = server.metrics_addr() {
        let _ = writeln!(stdout, "Metrics on http://{addr}/metrics");
    }
    let _ = stdout.flush();
    let mut running = match server.spawn_named("hello-reactor-0".into()) {
        Ok(running) => running,
        Err(e) => {
            error!("cannot start the event loop: {e}");
            return ExitCode::from(1);
        }
    };
    match running.join() {
        Ok(_) => ExitCode::SUCCESS,
        Err(e) => {
            error!("the event loop failed: {e}");
            ExitCode::from(1)
        }
    }
}

/// The reactor on the socket the service manager passed (see [`activation`]), or
/// else on `--bind`. Runs before any thread starts.
fn listen(mut config: Config) -> Result<Server, String> {
    // Bound after the main listener, so that an error names the right address.
    let metrics = config.metrics_bind.take();
    let mut server = match activation::inherited() {
        Ok(Some(socket)) => socket
            .into_server(&config)
            .map_err(|e| format!("cannot serve the socket passed in LISTEN_FDS: {e}")),
        Ok(None) => {
            let bind = bind_target(&config);
            Server::bind(config).map_err(|e| format!("cannot listen on {bind}: {e}"))
        }
        Err(e) => Err(format!("cannot use the socket passed in LISTEN_FDS: {e}")),
    }?;
    if let Some(addr) = metrics {
        server
            .serve_metrics(addr)
            .map_err(|e| format!("cannot listen on {addr} (--metrics-bind): {e}"))?;
    }
    Ok(server)
}

/// `--bind` as given: `IP:PORT` or `unix:PATH`.
fn bind_target(config: &Config) -> String {
    match &config.unix {
        Some(path) => format!("unix:{}", path.display()),
        None => config.bind.to_string(),
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
