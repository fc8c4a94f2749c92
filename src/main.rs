//! The `hello-reactor` binary: parse flags, raise the fd limit, listen, serve.

use std::io::Write;
use std::process::ExitCode;

use hello_reactor::server::RESERVED_FDS;
use hello_reactor::{Cli, Server, fdlimit};
use log::{error, info, warn};

fn main() -> ExitCode {
    let config = Cli::parse_config();
    env_logger::Builder::from_env(env_logger::Env::default().default_filter_or("info")).init();
    if let Some(resolution) = &config.bind_resolution {
        info!("{resolution}");
    }

    let fd_limit = match fdlimit::raise_to_hard_limit() {
        Ok(limit) => Some(limit),
        Err(e) => {
            warn!("cannot raise the file-descriptor limit: {e}");
            fdlimit::current_soft_limit().ok()
        }
    };
    let bind = config.bind;
    let mut server = match Server::bind(config) {
        Ok(server) => server,
        Err(e) => {
            eprintln!("hello-reactor: cannot listen on {bind}: {e}");
            return ExitCode::from(1);
        }
    };
    if let Some(limit) = fd_limit {
        let needed = server.max_connections() as u64 + RESERVED_FDS as u64;
        if needed > limit {
            warn!(
                "--max-connections {} needs about {needed} file descriptors but the limit is {limit}; \
                 accepts will pause when descriptors run out",
                server.max_connections()
            );
        }
    }
    if let Err(e) = server.handle_signals() {
        warn!("cannot handle SIGTERM/SIGINT: {e}");
    }

    let addr = server.local_addr();
    let mut stdout = std::io::stdout();
    let _ = writeln!(stdout, "Serving HTTP on {addr} ...");
    let _ = stdout.flush();

    match server.run() {
        Ok(_) => ExitCode::SUCCESS,
        Err(e) => {
            error!("the event loop failed: {e}");
            ExitCode::from(1)
        }
    }
}
