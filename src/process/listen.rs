//! Where the workers listen, decided once for the process.
//!
//! In order: a socket the service manager passed (socket activation, see
//! [`activation`]); else `--bind unix:PATH`; else the TCP address. One worker
//! serves its socket exactly as a lone reactor does ([`Server::bind`]). Several
//! workers on TCP listen as [`ListenerMode`] says (see [`Workers`](super::Workers));
//! on a passed socket they share it. A Unix socket is served by one worker: its
//! connections are a proxy's, few and long-lived, and one reactor keeps the
//! socket file's life simple.
//!
//! The metrics port (`--metrics-bind`) is the first worker's; the others publish
//! their counters to it at each tick, so a scrape adds up every worker.

use std::io;

use log::{debug, warn};

use super::activation;
use crate::config::{Config, ListenerMode};
use crate::reactor::{MetricsSlot, Server, listener};

/// The reactors for `config`, and how they listen (for the start-up line).
pub(super) fn servers(config: &Config) -> io::Result<(Vec<Server>, &'static str)> {
    let mut n = config.workers.max(1);
    if config.unix.is_some() && n > 1 {
        warn!("a Unix socket is served by one worker; --workers {n} is ignored");
        n = 1;
    }
    // Every worker gets the same settings but its share of the connection cap and
    // no metrics port of its own.
    let worker_config = |share| Config {
        max_connections: share,
        metrics_bind: None,
        ..config.clone()
    };
    let shares = shares(config.max_connections, n);
    let (mut servers, mode) = match activation::inherited() {
        Err(e) => return Err(context(e, "cannot use the socket passed in LISTEN_FDS")),
        Ok(Some(socket)) => {
            let mut servers = Vec::with_capacity(n);
            for share in &shares {
                let server = socket
                    .try_clone()
                    .and_then(|s| s.into_server(&worker_config(*share)));
                servers.push(
                    server
                        .map_err(|e| context(e, "cannot serve the socket passed in LISTEN_FDS"))?,
                );
            }
            (servers, "the socket passed by the service manager")
        }
        Ok(None) if n == 1 => {
            let server = Server::bind(worker_config(shares[0]))
                .map_err(|e| context(e, &format!("cannot listen on {}", bind_target(config))))?;
            (vec![server], "one socket")
        }
        Ok(None) => {
            let (listeners, mode) = tcp_listeners(config, n)
                .map_err(|e| context(e, &format!("cannot listen on {}", config.bind)))?;
            let mut servers = Vec::with_capacity(n);
            for (listener, share) in listeners.into_iter().zip(&shares) {
                servers.push(Server::from_listener(listener, &worker_config(*share))?);
            }
            (servers, mode)
        }
    };
    if n > 1 {
        for (i, server) in servers.iter_mut().enumerate() {
            server.set_worker(u16::try_from(i).unwrap_or(u16::MAX));
        }
    }
    if let Some(addr) = config.metrics_bind {
        let (first, others) = servers.split_first_mut().expect("at least one worker");
        first
            .serve_metrics(addr)
            .map_err(|e| context(e, &format!("cannot listen on {addr} (--metrics-bind)")))?;
        for other in others {
            let slot = MetricsSlot::default();
            other.publish_metrics_to(slot.clone());
            first.add_metrics_peer(slot);
        }
    }
    Ok((servers, mode))
}

/// `--bind` as given: `IP:PORT` or `unix:PATH`.
fn bind_target(config: &Config) -> String {
    match &config.unix {
        Some(path) => format!("unix:{}", path.display()),
        None => config.bind.to_string(),
    }
}

/// `error` with `what` before it, keeping its kind.
fn context(error: io::Error, what: &str) -> io::Error {
    io::Error::new(error.kind(), format!("{what}: {error}"))
}

/// The listening sockets for `n` workers, and how they were made.
fn tcp_listeners(
    config: &Config,
    n: usize,
) -> io::Result<(Vec<std::net::TcpListener>, &'static str)> {
    #[cfg(any(target_os = "linux", target_os = "android"))]
    if config.listener == ListenerMode::PerWorker {
        let group = listener::bind_reuse_port_group(config.bind, config.backlog, n)?;
        return Ok((group, "a socket per worker, SO_REUSEPORT"));
    }
    if config.listener == ListenerMode::PerWorker {
        debug!("per-worker sockets need Linux's SO_REUSEPORT; sharing one socket");
    }
    let first = listener::bind_std(config.bind, config.backlog)?;
    let mut shared = Vec::with_capacity(n);
    for _ in 1..n {
        shared.push(first.try_clone()?);
    }
    shared.push(first);
    Ok((shared, "one shared socket"))
}

/// Split the process's connection cap over `n` workers: even shares, the first
/// workers taking one more each until the remainder is used up, and at least one
/// each (warned about: the total is then `n`).
fn shares(total: Option<usize>, n: usize) -> Vec<Option<usize>> {
    let Some(total) = total else {
        return vec![None; n];
    };
    if total < n {
        warn!(
            "--max-connections {total} is fewer than --workers {n}: each worker keeps one, {n} in all"
        );
    }
    (0..n)
        .map(|i| Some((total / n + usize::from(i < total % n)).max(1)))
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_cap_is_split_and_adds_up() {
        assert_eq!(shares(None, 3), vec![None, None, None]);
        assert_eq!(
            shares(Some(10), 4),
            vec![Some(3), Some(3), Some(2), Some(2)]
        );
        assert_eq!(shares(Some(8), 4), vec![Some(2); 4]);
        assert_eq!(shares(Some(2), 4), vec![Some(1); 4]);
        for total in 1..50 {
            for n in 1..9 {
                let sum: usize = shares(Some(total), n).into_iter().flatten().sum();
                assert_eq!(sum, total.max(n), "{total} over {n}");
            }
        }
    }
}
