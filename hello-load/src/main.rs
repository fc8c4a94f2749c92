//! hello-load: an HTTP/1.1 load generator, built like the server it measures.
//!
//! `hello-load [URL] [--connections N] [--duration S] [--pipeline D] [--rate R [--connect-first]] [--json FILE]`
//!
//! # Design
//!
//! **One thread, one `mio::Poll`.** The server is a single-threaded reactor, and so
//! is this client: every connection is a small state machine (`conn.rs`) whose
//! index is its [`mio::Token`]. Sockets are non-blocking and registered
//! edge-triggered for both directions; every readiness edge is drained until
//! `WouldBlock`. All connections share one read buffer, responses are framed in
//! place (`parse.rs`) and counted into an `hdrhistogram`, so the steady state
//! allocates nothing per request. One thread keeps the client's cost per request
//! low and predictable, and on a 2-core machine leaves the other core to the
//! server: a multi-threaded client would compete with the server for its core, and
//! the numbers would measure the scheduler. When the client saturates its core
//! before the server does, the server's idle time says so, not an error; raise
//! `--pipeline` to make each client syscall carry more requests.
//!
//! **Two modes.** *Closed loop* (the default): each connection keeps `D` requests
//! in flight (`--pipeline D`), writing the next batch when the last is answered,
//! like wrk. It measures how fast the server can go, but its latency hides stalls:
//! while the server stalls, no new request is sent, so a one-second stall shows in
//! only `connections × D` samples. *Open loop* (`--rate R`): requests fall due on a
//! fixed schedule, `R` per second spread round-robin over the connections, and each
//! is timed from its *intended* send time, like wrk2 and oha; a request that could
//! not be sent on time (its connection already had `D` in flight) is counted as
//! late and its wait is part of its latency. A stall then shows in every request
//! that fell due during it.
//!
//! **What is counted.** `requests` counts every response, including those that
//! arrived in the short drain after `--duration` (no request is sent after it); the
//! rate divides them by the time from the first `connect` to the end of the run or
//! the last response, whichever is later. So a server's own request count equals
//! `requests` when no error occurred. Connecting counts against the run; with
//! `--connect-first` (open loop) no request falls due before every connection is up,
//! so a run can time the server's answers (say, a `--delay`) rather than the connects.
//!
//! **Target.** Any `http://` URL; a host name is resolved once, and a first
//! blocking connect checks that something answers (a refused target is one line
//! on stderr and exit status 1). Without a URL it starts hello-reactor in-process,
//! on its own thread, on a free port of 127.0.0.1, and shuts it down at the end.
//! Exit status: 0 if every request was answered with a 200, 1 on any error, 2 on a
//! bad flag.

mod conn;
mod parse;
#[cfg(test)]
mod parse_tests;
mod report;
mod run;
mod target;

use std::io::{self, IsTerminal};
use std::process::ExitCode;
use std::time::Duration;

use clap::{CommandFactory, Parser};

use report::Setup;
use run::{Plan, Progress, run};
use target::{Url, inprocess};

/// HTTP/1.1 load generator: N keep-alive connections for a fixed time, closed loop
/// (as fast as the server answers) or open loop (--rate); live progress, latency
/// percentiles, errors, and a JSON report.
#[derive(Debug, Parser)]
#[command(name = "hello-load", version, after_help = AFTER_HELP)]
struct Args {
    /// http://HOST:PORT/PATH to load (port and path optional); without it, hello-reactor is started
    /// in this process on a free port of 127.0.0.1.
    #[arg(value_parser = Url::parse)]
    url: Option<Url>,
    /// Connections to open and keep busy.
    #[arg(short, long, default_value_t = 100, value_parser = clap::value_parser!(u32).range(1..=60_000))]
    connections: u32,
    /// Seconds to run.
    #[arg(short, long, default_value_t = 5.0, value_parser = parse_duration)]
    duration: f64,
    /// Requests in flight per connection at most (pipelining depth).
    #[arg(short, long, default_value_t = 1, value_parser = clap::value_parser!(u32).range(1..=4096))]
    pipeline: u32,
    /// Open loop: send R requests per second in all, on a fixed schedule, and time
    /// each from its intended send time.
    #[arg(short, long, value_parser = parse_rate)]
    rate: Option<f64>,
    /// Open loop: connect every connection before the first request falls due, so
    /// that connecting counts against neither the schedule nor the latencies
    /// (it still counts in the achieved rate).
    #[arg(long, requires = "rate")]
    connect_first: bool,
    /// Also write the results as JSON to FILE.
    #[arg(long, value_name = "FILE")]
    json: Option<std::path::PathBuf>,
    /// No progress lines (one per second otherwise; refreshed in place on a terminal).
    #[arg(short, long)]
    quiet: bool,
}

const AFTER_HELP: &str = "\
Examples:
  hello-load http://127.0.0.1:8080/ --connections 100 --duration 10
  hello-load http://localhost:8080/ --rate 20000 --json run.json
  hello-load --connections 1000 --pipeline 16      (in-process hello-reactor)

Closed-loop latency runs from the write of a request (or of its batch, with
--pipeline) to the read that completed its response; open-loop latency from the
request's intended send time. Exit status: 0 if every request got a 200, 1 on any
error or a target that does not answer, 2 on a bad flag.";

fn parse_duration(s: &str) -> Result<f64, String> {
    let secs: f64 = s.parse().map_err(|e| format!("{e}"))?;
    if secs.is_finite() && secs > 0.0 && secs <= 3600.0 {
        Ok(secs)
    } else {
        Err("must be a number of seconds in (0, 3600]".to_string())
    }
}

fn parse_rate(s: &str) -> Result<f64, String> {
    let rate: f64 = s.parse().map_err(|e| format!("{e}"))?;
    if rate.is_finite() && (1.0..=10_000_000.0).contains(&rate) {
        Ok(rate)
    } else {
        Err("must be a number of requests per second in [1, 10000000]".to_string())
    }
}

fn main() -> ExitCode {
    let args = match Args::try_parse() {
        Ok(args) => args,
        // --help and --version: printed on stdout, status 0.
        Err(e) if !e.use_stderr() => e.exit(),
        Err(e) => {
            // clap leaves the usage line out of some errors (a value out of
            // range); a bad flag always gets one, and status 2.
            let message = e.to_string();
            eprint!("{message}");
            if !message.contains("Usage:") {
                eprintln!("\n{}", Args::command().render_usage());
            }
            return ExitCode::from(2);
        }
    };
    match main_with(&args) {
        Ok(true) => ExitCode::SUCCESS,
        Ok(false) => ExitCode::FAILURE,
        Err(e) => {
            eprintln!("hello-load: {e}");
            ExitCode::FAILURE
        }
    }
}

/// Run the whole thing; `Ok(false)` if the run saw errors, `Err` (one line) if it
/// could not run at all.
fn main_with(args: &Args) -> Result<bool, String> {
    let connections = args.connections as usize;
    // Our sockets, plus the server's if it runs in this process.
    let sockets = u64::from(args.connections) * if args.url.is_none() { 2 } else { 1 };
    target::raise_fd_limit(sockets + target::SPARE_FDS)?;

    let (url, addr, server) = match &args.url {
        Some(url) => {
            let addr = url.resolve()?;
            target::probe(addr)
                .map_err(|e| format!("cannot connect to {} ({addr}): {e}", url.text))?;
            (url.clone(), addr, None)
        }
        None => {
            let server = inprocess::start().map_err(|e| format!("starting hello-reactor: {e}"))?;
            let addr = server.addr();
            let url = Url::parse(&format!("http://{addr}/"))?;
            (url, addr, Some(server))
        }
    };

    let request = format!(
        "GET {} HTTP/1.1\r\nHost: {}\r\n\r\n",
        url.path, url.authority
    );
    let plan = Plan {
        addr,
        connections,
        depth: args.pipeline as usize,
        requests: request.repeat(args.pipeline as usize).into_bytes(),
        request_len: request.len(),
        duration: Duration::from_secs_f64(args.duration),
        rate: args.rate,
        connect_first: args.connect_first,
        progress: Progress {
            enabled: !args.quiet,
            terminal: io::stdout().is_terminal(),
            shown: false,
        },
    };
    let result = run(plan);

    // `run` has drained and closed its sockets: the server saw only clean closes.
    let server_requests = server.map(inprocess::stop);
    let (stats, elapsed, drain) = result.map_err(|e| format!("event loop: {e}"))?;
    let setup = Setup {
        url: &url.text,
        addr: addr.to_string(),
        in_process: args.url.is_none(),
        connections,
        pipeline: args.pipeline as usize,
        rate: args.rate,
        duration: Duration::from_secs_f64(args.duration),
        elapsed,
        drain,
    };
    print!("{}", report::text(&setup, &stats));
    let mut ok = stats.errors_total() == 0 && stats.responses > 0;
    match server_requests {
        Some(Ok(n)) => println!("  server       in-process hello-reactor answered {n} requests"),
        Some(Err(e)) => {
            println!("  server       in-process hello-reactor failed to stop: {e}");
            ok = false;
        }
        None => {}
    }
    if let Some(path) = &args.json {
        let text = report::json_text(&report::json(&setup, &stats));
        std::fs::write(path, text).map_err(|e| format!("writing {}: {e}", path.display()))?;
    }
    // A failed run also says so in one line on stderr, after the report.
    if stats.responses == 0 {
        eprintln!("hello-load: FAILED: no responses at all from {}", url.text);
    } else if stats.errors_total() > 0 {
        let kinds: Vec<String> = stats
            .errors
            .iter()
            .map(|(k, n)| format!("{k} {n}"))
            .collect();
        eprintln!(
            "hello-load: FAILED: {} errors ({}) in {} requests",
            stats.errors_total(),
            kinds.join(", "),
            stats.responses
        );
    }
    Ok(ok)
}
