//! The `hello-reactor` binary: parse the flags, then let the process layer serve.

use std::process::ExitCode;

use hello_reactor::{Cli, process};

fn main() -> ExitCode {
    let config = Cli::parse_config();
    env_logger::Builder::from_env(env_logger::Env::default().default_filter_or("info")).init();
    process::serve(config)
}
