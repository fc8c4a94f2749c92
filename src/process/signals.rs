//! Signals, caught once for the process and passed to every reactor.
//!
//! A signal handler may do almost nothing, so signal-hook's iterator turns each
//! signal into a message for an ordinary thread, which asks every reactor through
//! its [`ServerHandle`] (a flag and a wake-up, exactly what a library caller uses):
//! - SIGTERM, SIGINT: drain (stop accepting, finish in-flight requests); a second
//!   one stops at once.
//! - SIGHUP: logged and ignored. nginx re-reads its configuration on SIGHUP; this
//!   server has no configuration file, and flags can only change with a restart
//!   (which socket activation makes lossless), so hanging up the terminal must not
//!   kill a server that was started from it.
//! - SIGPIPE is ignored by every Rust program: a write to a closed socket returns
//!   `EPIPE` instead of killing the process.

use std::io;

use log::{info, warn};
use signal_hook::consts::{SIGHUP, SIGINT, SIGTERM};
use signal_hook::iterator::Signals;

use crate::reactor::ServerHandle;

/// Start the thread that turns signals into requests to `handles`.
pub fn forward(handles: Vec<ServerHandle>) -> io::Result<()> {
    let mut signals = Signals::new([SIGTERM, SIGINT, SIGHUP])?;
    std::thread::Builder::new()
        .name("hello-reactor-signals".into())
        .spawn(move || {
            let mut draining = false;
            for signal in signals.forever() {
                let name = match signal {
                    SIGINT => "SIGINT",
                    SIGTERM => "SIGTERM",
                    _ => {
                        info!("SIGHUP: ignored (flags change only with a restart)");
                        continue;
                    }
                };
                let result = if draining {
                    info!("{name} again: stopping now");
                    handles.iter().try_for_each(ServerHandle::stop)
                } else {
                    info!("{name}: draining");
                    draining = true;
                    handles.iter().try_for_each(ServerHandle::shutdown)
                };
                if let Err(e) = result {
                    warn!("cannot pass {name} on: {e}");
                }
            }
        })?;
    Ok(())
}
