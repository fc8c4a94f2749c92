//! Signals, caught once for the process and passed to every reactor.
//!
//! What each signal means is decided in one place, [`meaning`]:
//! - SIGTERM, SIGINT: drain (stop accepting, finish in-flight requests); a second
//!   one stops at once.
//! - SIGHUP: with TLS, read the certificate, key and client CA again (new
//!   connections get the new ones; a bad file keeps the old, with a warning), as
//!   nginx does. Otherwise logged and ignored: flags can only change with a
//!   restart (which socket activation makes lossless), and hanging up the terminal
//!   must not kill a server that was started from it.
//! - SIGPIPE is ignored by every Rust program: a write to a closed socket returns
//!   `EPIPE` instead of killing the process.
//!
//! How they arrive depends on how many reactors there are:
//! - **One** (the default): signal-hook's pipe is registered with the reactor's own
//!   `Poll` ([`Server::watch_signals`](crate::Server::watch_signals)), and the
//!   reactor runs on the main thread. The process then has one thread, and glibc
//!   keeps its single-threaded fast path: with a second thread, each call to one of
//!   its cancellation points also switches the thread's cancellation state. For
//!   `send` and `recv` that cost about 1 % of the CPU time per request at ka100
//!   (`docs/benchmarks.md`); they are direct system calls now
//!   ([`Stream`](crate::reactor::stream::Stream)), but `epoll_wait` and `accept4`
//!   still go through glibc.
//! - **Several**: one thread of its own waits for signals and asks every reactor
//!   through its [`ServerHandle`] (a flag and a wake-up, what a library caller uses).

use std::io;
use std::sync::Arc;

use log::{info, warn};
use signal_hook::consts::{SIGHUP, SIGINT, SIGTERM};
use signal_hook::iterator::Signals;

use crate::certs::Tls;
use crate::reactor::{ServerHandle, SignalMeaning};

/// The signals the process handles.
pub const HANDLED: [i32; 3] = [SIGTERM, SIGINT, SIGHUP];

/// What `signal` asks for, given whether a drain has already begun; logs it.
pub fn meaning(signal: i32, draining: bool) -> SignalMeaning {
    let name = match signal {
        SIGINT => "SIGINT",
        SIGTERM => "SIGTERM",
        _ => return SignalMeaning::Reload,
    };
    if draining {
        info!("{name} again: stopping now");
        SignalMeaning::Stop
    } else {
        info!("{name}: draining");
        SignalMeaning::Drain
    }
}

/// SIGHUP: reload the TLS files if there are any (once for every worker: they
/// share them), else say it is ignored.
pub fn reload(tls: Option<&Tls>) {
    match tls {
        Some(tls) => tls.reload(),
        None => info!("SIGHUP: ignored (flags change only with a restart)"),
    }
}

/// Start the thread that turns signals into requests to `handles`.
pub fn forward(handles: Vec<ServerHandle>, tls: Option<Arc<Tls>>) -> io::Result<()> {
    let mut signals = Signals::new(HANDLED)?;
    std::thread::Builder::new()
        .name("hello-reactor-signals".into())
        .spawn(move || {
            let mut draining = false;
            for signal in signals.forever() {
                let result = match meaning(signal, draining) {
                    SignalMeaning::Nothing => Ok(()),
                    SignalMeaning::Reload => {
                        reload(tls.as_deref());
                        Ok(())
                    }
                    SignalMeaning::Drain => {
                        draining = true;
                        handles.iter().try_for_each(ServerHandle::shutdown)
                    }
                    SignalMeaning::Stop => handles.iter().try_for_each(ServerHandle::stop),
                };
                if let Err(e) = result {
                    warn!("cannot pass signal {signal} on: {e}");
                }
            }
        })?;
    Ok(())
}
