//! Load generator for hello-reactor, built like the server it measures.
//!
//! `cargo bench --bench load -- --connections N --duration S --pipeline D [--url URL]`
//!
//! # Design
//!
//! **One thread, one `mio::Poll`.** The server is a single-threaded reactor, and so
//! is this client: every connection lives in a [`slab::Slab`] keyed by its
//! [`mio::Token`], and each is a small state machine (Connecting → Writing the
//! request batch → Reading the responses → Writing the next batch ...; see
//! `load/conn.rs`). Sockets are non-blocking and registered edge-triggered for both
//! directions; every readiness edge is drained until `WouldBlock`. All connections
//! share one read buffer, responses are framed in place (`load/parse.rs`) and
//! counted into an `hdrhistogram`, so the steady state allocates nothing per
//! request. One thread keeps the client's cost per request low and predictable, and
//! on a 2-core machine leaves the other core to the server: a multi-threaded client
//! would compete with the server for its core, and the numbers would measure the
//! scheduler. When the client saturates its core before the server does, it says
//! so by the server's idle time, not by an error; raise `--pipeline` to make each
//! client syscall carry more requests.
//!
//! **Pipelining depth.** Each connection keeps `D` requests in flight: it writes `D`
//! copies of `GET / HTTP/1.1` in one `write`, waits for all `D` responses, then
//! writes the next batch (closed-loop, like wrk with `pipeline.lua`). Depth 1 is the
//! classic keep-alive request/response loop, where every request costs both sides
//! at least one `read`, one `write` and one readiness event; depth 16 amortises
//! those syscalls over 16 requests, so it measures the server's per-request work
//! (parsing, response assembly) rather than the kernel's per-syscall cost.
//!
//! **What the latency means.** Each response's latency runs from the moment its
//! batch started to be written to the moment the `read` that completed it
//! returned, in microseconds. With depth 1 that is the usual request round trip.
//! With depth `D` all `D` requests share one start time, so the k-th response's
//! latency includes waiting behind the k-1 before it: the percentiles describe the
//! batch, and p50 is roughly half the time to answer the whole batch. In every mode
//! it also includes client-side queueing: time a ready connection waits while the
//! one client thread serves the others. Throughput (`req/s`) counts responses that
//! arrived within `--duration`, divided by the actual run time (from the first
//! `connect`, so connecting thousands of sockets counts against the run).
//!
//! **Target.** By default the bench starts hello-reactor in-process, on its own
//! thread, on a free port of 127.0.0.1, and stops it at the end (printing the
//! server's own summary). `--url http://127.0.0.1:PORT/` targets an external server
//! instead; only loopback addresses are accepted. The run always stops by itself
//! after `--duration`. It exits non-zero if any error occurred (failed connects,
//! read/write errors, connections closed by the server, unparseable responses,
//! non-200 statuses) or if no response arrived at all.
//!
//! Run with no arguments at all (as `cargo test --benches` does) it checks its
//! response framer (`load/selfcheck.rs`) and does a short smoke run instead.

#[path = "load/conn.rs"]
mod conn;
#[path = "load/parse.rs"]
mod parse;
#[path = "load/report.rs"]
mod report;
#[path = "load/selfcheck.rs"]
mod selfcheck;
#[path = "load/target.rs"]
mod target;

use std::io;
use std::net::SocketAddr;
use std::process::ExitCode;
use std::time::{Duration, Instant};

use clap::Parser;
use mio::{Events, Interest, Poll, Token};
use slab::Slab;

use conn::{Conn, Context, Next, Phase};
use report::{Setup, Stats};
use target::{inprocess, parse_url, raise_fd_limit};

/// Size of the one read buffer all connections share.
const READ_BUF: usize = 64 * 1024;
/// Readiness events taken per `poll`.
const EVENTS: usize = 1024;
/// Longest wait, after the run, for the batches still in flight to be answered.
const DRAIN_MAX: Duration = Duration::from_secs(2);

/// Load generator for hello-reactor: N keep-alive connections, D pipelined requests
/// each, for a fixed time; reports requests/s, latency percentiles and errors.
#[derive(Debug, Parser)]
#[command(name = "load", after_help = AFTER_HELP)]
struct Args {
    /// Connections to open and keep busy.
    #[arg(long, default_value_t = 100, value_parser = clap::value_parser!(u32).range(1..=60_000))]
    connections: u32,
    /// Seconds to run.
    #[arg(long, default_value_t = 5.0, value_parser = parse_duration)]
    duration: f64,
    /// Requests in flight per connection (pipelining depth), written in one batch.
    #[arg(long, default_value_t = 1, value_parser = clap::value_parser!(u32).range(1..=4096))]
    pipeline: u32,
    /// Load an external server at http://127.0.0.1:PORT/PATH (loopback only)
    /// instead of starting hello-reactor in-process.
    #[arg(long)]
    url: Option<String>,
    /// Passed by `cargo bench` to every bench; ignored.
    #[arg(long, hide = true)]
    bench: bool,
}

const AFTER_HELP: &str = "\
Examples:
  cargo bench --bench load -- --connections 1000 --duration 3 --pipeline 16
  cargo bench --bench load -- --url http://127.0.0.1:18082/ --connections 100

Latency runs from the write of a connection's request batch to the read that
completed each response; with --pipeline D all D responses share one start time.
Exits non-zero if any error occurred.";

fn parse_duration(s: &str) -> Result<f64, String> {
    let secs: f64 = s.parse().map_err(|e| format!("{e}"))?;
    if secs.is_finite() && secs > 0.0 && secs <= 3600.0 {
        Ok(secs)
    } else {
        Err("must be a number of seconds in (0, 3600]".to_string())
    }
}

fn main() -> ExitCode {
    env_logger::Builder::from_env(env_logger::Env::default().default_filter_or("warn")).init();
    let args = if std::env::args_os().len() <= 1 {
        // No arguments at all: run as a test (`cargo test --benches`), so check the
        // framer and keep the load short.
        println!("load: no arguments, smoke run (see `cargo bench --bench load -- --help`)");
        if let Err(e) = selfcheck::run() {
            eprintln!("load: response framer self-check failed: {e}");
            return ExitCode::FAILURE;
        }
        println!("load: response framer self-checks passed");
        Args {
            connections: 16,
            duration: 0.5,
            pipeline: 4,
            url: None,
            bench: false,
        }
    } else {
        Args::parse()
    };
    match main_with(&args) {
        Ok(true) => ExitCode::SUCCESS,
        Ok(false) => ExitCode::FAILURE,
        Err(e) => {
            eprintln!("load: {e}");
            ExitCode::FAILURE
        }
    }
}

/// Run the whole bench; `Ok(false)` if the run saw errors.
fn main_with(args: &Args) -> Result<bool, String> {
    let connections = args.connections as usize;
    let in_process = args.url.is_none();
    // Our sockets, plus the server's if it runs in this process.
    let sockets = u64::from(args.connections) * if in_process { 2 } else { 1 };
    raise_fd_limit(sockets + target::SPARE_FDS)?;

    let (addr, host, path, server) = match &args.url {
        Some(url) => {
            let (addr, host, path) = parse_url(url)?;
            (addr, host, path, None)
        }
        None => {
            let server = inprocess::start().map_err(|e| format!("starting hello-reactor: {e}"))?;
            let addr = server.addr();
            (addr, addr.ip().to_string(), "/".to_string(), Some(server))
        }
    };
    let url = format!("http://{addr}{path}");

    let request = format!("GET {path} HTTP/1.1\r\nHost: {host}\r\n\r\n");
    let batch = request.repeat(args.pipeline as usize).into_bytes();
    let duration = Duration::from_secs_f64(args.duration);
    let result = run(addr, connections, args.pipeline, &batch, duration);

    // `run` has drained and closed its sockets: the server now sees only idle
    // keep-alive connections closed cleanly, and its summary shows just the load.
    let server_summary = server.map(inprocess::stop);
    let (stats, elapsed, open_at_end) = result.map_err(|e| format!("event loop: {e}"))?;
    let setup = Setup {
        connections,
        depth: args.pipeline,
        url: &url,
        in_process,
    };
    report::print(&setup, &stats, elapsed, open_at_end);
    let mut ok = stats.errors() == 0 && stats.responses > 0;
    match server_summary {
        Some(Ok(summary)) => println!("  server       {summary}"),
        Some(Err(e)) => {
            println!("  server       stop failed: {e}");
            ok = false;
        }
        None => {}
    }
    if stats.responses == 0 {
        println!("  FAILED: no responses at all");
    }
    Ok(ok)
}

/// The load itself: connect, then cycle batches until `duration` has passed; then
/// drain (let in-flight batches finish, uncounted, for at most [`DRAIN_MAX`]) and
/// close every socket, so the server sees clean closes rather than resets.
/// Returns the counters, the measured time, and how many connections were open
/// (connected, not closed) when it ended.
fn run(
    addr: SocketAddr,
    connections: usize,
    depth: u32,
    batch: &[u8],
    duration: Duration,
) -> io::Result<(Stats, Duration, usize)> {
    let mut poll = Poll::new()?;
    let mut events = Events::with_capacity(EVENTS);
    let mut conns: Slab<Conn> = Slab::with_capacity(connections);
    let mut buf = vec![0u8; READ_BUF];
    let mut stats = Stats::new();

    let start = Instant::now();
    let deadline = start + duration;
    for _ in 0..connections {
        match Conn::connect(addr) {
            Ok(conn) => {
                let entry = conns.vacant_entry();
                let token = Token(entry.key());
                let conn = entry.insert(conn);
                poll.registry().register(
                    conn.stream_mut(),
                    token,
                    Interest::READABLE | Interest::WRITABLE,
                )?;
            }
            Err(e) => {
                stats.connect_errors += 1;
                stats.note_error("connect", &e);
            }
        }
    }

    let mut cx = Context {
        batch,
        depth,
        request_len: batch.len() / depth as usize,
        buf: &mut buf,
        stats: &mut stats,
        start,
        measuring: true,
    };
    while Instant::now() < deadline && !conns.is_empty() {
        turn(&mut poll, &mut events, &mut conns, &mut cx, deadline)?;
    }
    let elapsed = start.elapsed();
    let open = conns
        .iter()
        .filter(|(_, c)| c.phase() != Phase::Connecting)
        .count();
    let unfinished = (conns.len() - open) as u64;

    // Drain: no new batches, nothing counted; give up on connects still pending.
    cx.measuring = false;
    conns.retain(|_, c| c.phase() != Phase::Connecting);
    let drain_deadline = Instant::now() + DRAIN_MAX.min(duration);
    while Instant::now() < drain_deadline && conns.iter().any(|(_, c)| c.phase() != Phase::Idle) {
        turn(&mut poll, &mut events, &mut conns, &mut cx, drain_deadline)?;
    }
    drop(conns);

    stats.connect_errors += unfinished;
    stats.connect_unfinished = unfinished;
    if unfinished > 0 {
        let e = io::Error::new(io::ErrorKind::TimedOut, "still connecting at the end");
        stats.note_error("connect", &e);
    }
    Ok((stats, elapsed, open))
}

/// One turn of the loop: wait for readiness (until `until` at most) and hand every
/// event to its connection, closing those that are done for.
fn turn(
    poll: &mut Poll,
    events: &mut Events,
    conns: &mut Slab<Conn>,
    cx: &mut Context<'_>,
    until: Instant,
) -> io::Result<()> {
    let timeout = until.saturating_duration_since(Instant::now());
    match poll.poll(events, Some(timeout)) {
        Ok(()) => {}
        Err(e) if e.kind() == io::ErrorKind::Interrupted => return Ok(()),
        Err(e) => return Err(e),
    }
    for event in events.iter() {
        let key = event.token().0;
        let Some(conn) = conns.get_mut(key) else {
            continue;
        };
        if conn.ready(cx, event) == Next::Close {
            let mut conn = conns.remove(key);
            // Closing the socket (drop) deregisters it too; this is tidiness.
            let _ = poll.registry().deregister(conn.stream_mut());
        }
    }
    Ok(())
}
