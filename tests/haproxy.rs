//! HAProxy in front of instances of the real binary, configured by the checked-in
//! `deploy/haproxy.cfg` (only its addresses and socket path rewritten): a steady load
//! goes through HAProxy while each instance in turn is restarted, and not one request
//! may fail. Needs `haproxy` (in CI a missing one fails; see `common::tool_available`).

mod common;

use std::io::Write;
use std::net::{SocketAddr, TcpStream};
use std::process::Command;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

use common::Reader;
use common::haproxy::{
    Haproxy, Instance, STEP, available, config_path, retried_requests, run, server_lines,
};

#[test]
fn the_checked_in_config_is_valid() {
    if !available("haproxy") {
        return;
    }
    let path = config_path();
    let (ok, out) = run(Command::new("haproxy").arg("-c").arg("-f").arg(&path));
    assert!(ok, "haproxy -c -f {} failed:\n{out}", path.display());
}

/// What the client threads saw.
#[derive(Default)]
struct Tally {
    ok: AtomicU64,
    failures: Mutex<Vec<String>>,
    stop: AtomicBool,
}

impl Tally {
    fn ok(&self) -> u64 {
        self.ok.load(Ordering::SeqCst)
    }

    /// Wait until `more` requests succeeded after `since` (a count from `ok`).
    fn wait_served(&self, since: u64, more: u64, what: &str) {
        assert!(
            common::eventually(STEP, || self.ok() >= since + more),
            "fewer than {more} requests were served {what} ({} failures so far)",
            self.failures.lock().unwrap().len()
        );
    }
}

/// Client threads: half keep one connection alive, half open one per request. Every
/// request must get a 200 with the body; anything else (a refused connect, a reset,
/// an error status, a short body) is a failure. Each thread stops when told, after
/// `MAX_REQUESTS`, or after `MAX_LOAD`, whichever comes first.
struct Load {
    tally: Arc<Tally>,
    threads: Vec<JoinHandle<()>>,
    started: Instant,
}

const CLIENTS: usize = 4;
const MAX_REQUESTS: u64 = 100_000;
const MAX_LOAD: Duration = Duration::from_secs(180);
/// Pause between a thread's requests: a steady load, not a flood that starves the
/// processes under test on a shared 2-core machine.
const PACE: Duration = Duration::from_millis(2);

impl Load {
    fn start(front: SocketAddr) -> Load {
        let tally = Arc::new(Tally::default());
        let started = Instant::now();
        let threads = (0..CLIENTS)
            .map(|i| {
                let tally = Arc::clone(&tally);
                let keep_alive = i % 2 == 0;
                std::thread::spawn(move || client(front, keep_alive, &tally, started))
            })
            .collect();
        Load {
            tally,
            threads,
            started,
        }
    }

    /// Stop the clients and wait for them.
    fn finish(&mut self) {
        self.tally.stop.store(true, Ordering::SeqCst);
        for thread in self.threads.drain(..) {
            thread.join().expect("a client thread panicked");
        }
    }
}

impl Drop for Load {
    fn drop(&mut self) {
        self.tally.stop.store(true, Ordering::SeqCst);
    }
}

fn client(front: SocketAddr, keep_alive: bool, tally: &Tally, started: Instant) {
    let request: &[u8] = if keep_alive {
        b"GET / HTTP/1.1\r\nHost: test\r\n\r\n"
    } else {
        b"GET / HTTP/1.1\r\nHost: test\r\nConnection: close\r\n\r\n"
    };
    let mut conn: Option<Reader> = None;
    for _ in 0..MAX_REQUESTS {
        if tally.stop.load(Ordering::SeqCst) || started.elapsed() > MAX_LOAD {
            return;
        }
        let at = started.elapsed();
        match one_request(front, &mut conn, request) {
            Ok(()) => {
                tally.ok.fetch_add(1, Ordering::SeqCst);
            }
            Err(e) => {
                conn = None;
                let kind = if keep_alive { "keep-alive" } else { "close" };
                tally
                    .failures
                    .lock()
                    .unwrap()
                    .push(format!("{at:.3?} ({kind} client): {e}"));
            }
        }
        if !keep_alive {
            conn = None;
        }
        std::thread::sleep(PACE);
    }
}

/// One request on `conn` (connecting first if there is none); `Err` says what failed.
fn one_request(front: SocketAddr, conn: &mut Option<Reader>, request: &[u8]) -> Result<(), String> {
    if conn.is_none() {
        let stream = TcpStream::connect(front).map_err(|e| format!("connect: {e}"))?;
        stream.set_read_timeout(Some(common::IO_TIMEOUT)).unwrap();
        stream.set_write_timeout(Some(common::IO_TIMEOUT)).unwrap();
        stream.set_nodelay(true).unwrap();
        *conn = Some(Reader::new(stream));
    }
    let reader = conn.as_mut().unwrap();
    reader
        .stream
        .write_all(request)
        .map_err(|e| format!("send: {e}"))?;
    let response = reader
        .try_response(false)
        .map_err(|e| format!("no response: {e}"))?;
    if response.status != 200 || response.body != b"Hello, World!" {
        return Err(format!(
            "got {} {:?}",
            response.status,
            String::from_utf8_lossy(&response.body)
        ));
    }
    if response
        .header("connection")
        .is_some_and(|v| v.eq_ignore_ascii_case("close"))
    {
        *conn = None; // HAProxy said it closes: reconnect for the next request
    }
    Ok(())
}

/// Steady load on all instances before each restart.
const SETTLE: Duration = Duration::from_secs(1);

/// Requests served while a step runs before the next one starts.
const SERVED_PER_STEP: u64 = 20;

/// The whole scenario. `drain_first`: do what an operator does (take the server out
/// through the runtime API first); otherwise SIGTERM it while HAProxy still sends it
/// traffic, and let health checks and retries cope. Returns (requests served,
/// requests HAProxy retried), or `None` when HAProxy is missing and the test skips.
fn rolling_restart(name: &str, drain_first: bool) -> Option<(u64, usize)> {
    if !available("haproxy") {
        return None;
    }
    let template = std::fs::read_to_string(config_path()).unwrap();
    let count = server_lines(&template);
    assert!(count >= 2, "the config needs two servers or more");
    let mut instances: Vec<Instance> = (0..count).map(|_| Instance::start("127.0.0.1:0")).collect();
    let ports: Vec<u16> = instances.iter().map(|i| i.addr.port()).collect();
    let mut haproxy = Haproxy::start(&template, &ports, name);

    let mut load = Load::start(haproxy.front);
    load.tally
        .wait_served(0, SERVED_PER_STEP, "before any restart");
    for instance in &mut instances {
        // Let the load run on all instances for a while first.
        std::thread::sleep(SETTLE);
        let addr = instance.addr;
        let server = haproxy.server(addr).name;
        if drain_first {
            // No new requests; then wait for the ones it has to finish; then out.
            haproxy
                .command(&format!("set server {server} state drain"))
                .unwrap();
            haproxy.wait_status(addr, "DRAIN");
            assert!(
                common::eventually(STEP, || haproxy.server(addr).sessions == "0"),
                "{server} still has sessions after draining: {:?}",
                haproxy.server(addr)
            );
            haproxy
                .command(&format!("set server {server} state maint"))
                .unwrap();
            haproxy.wait_status(addr, "MAINT");
        }
        instance.terminate();
        // While it is down, the other instances carry the load.
        let down_at = load.tally.ok();
        if !drain_first {
            haproxy.wait_status(addr, "DOWN");
        }
        load.tally.wait_served(
            down_at,
            SERVED_PER_STEP,
            &format!("while {server} was down"),
        );
        *instance = Instance::start(&addr.to_string());
        assert_eq!(instance.addr, addr);
        if drain_first {
            haproxy
                .command(&format!("set server {server} state ready"))
                .unwrap();
        }
        haproxy.wait_status(addr, "UP");
        let up_at = load.tally.ok();
        load.tally
            .wait_served(up_at, SERVED_PER_STEP, &format!("after {server} came back"));
    }
    // A steady load for about 10 s in all.
    let rest = Duration::from_secs(10).saturating_sub(load.started.elapsed());
    std::thread::sleep(rest);
    load.finish();

    let (log, warnings) = haproxy.stop();
    let failures = load.tally.failures.lock().unwrap().clone();
    let served = load.tally.ok();
    let retried = retried_requests(&log);
    let tail: Vec<&str> = log.lines().rev().take(40).collect();
    assert!(
        failures.is_empty(),
        "{} of {} requests failed:\n{}\nHAProxy warnings:\n{warnings}\nlast log lines (newest first):\n{}",
        failures.len(),
        failures.len() as u64 + served,
        failures.join("\n"),
        tail.join("\n")
    );
    assert!(served > 0);
    eprintln!(
        "{name}: {served} requests through HAProxy in {:.1?}, 0 failed, {} retried by HAProxy{}",
        load.started.elapsed(),
        retried.len(),
        retried
            .first()
            .map_or(String::new(), |line| format!(", e.g.\n  {line}"))
    );
    Some((served, retried.len()))
}

/// The bare case: SIGTERM while HAProxy still routes to the instance. Its listener
/// closes, its idle connections close, in-flight requests finish; the requests that
/// hit it before the health check notices are retried on another instance.
#[test]
fn sigterm_each_instance_in_turn_and_no_request_fails() {
    rolling_restart("sigterm", false);
}

/// What an operator does (docs/service.md): drain the server in HAProxy, put it in
/// maintenance, restart it, set it ready. No request should need a retry then.
#[test]
fn drain_in_haproxy_then_restart_and_no_request_fails() {
    if let Some((_, retried)) = rolling_restart("drained", true) {
        assert_eq!(retried, 0, "a drained server got requests");
    }
}

/// Requests the fail-rate run makes through HAProxy.
const FAIL_RATE_REQUESTS: u64 = 1000;

/// `--fail-rate`: each instance answers 5% of requests with an injected 503, and
/// the checked-in retries (`retry-on all-retryable-errors`, `retries 3`, `option
/// redispatch 1`) resend each one to another instance: the client sees none. A
/// request fails only if all four tries draw a 503 (0.05^4: about one run in 160
/// at 1000 requests would see one).
#[test]
fn injected_503s_are_retried_away() {
    if !available("haproxy") {
        return;
    }
    let template = std::fs::read_to_string(config_path()).unwrap();
    let instances: Vec<Instance> = (0..server_lines(&template))
        .map(|i| {
            let seed = i.to_string();
            let flags = ["--fail-rate", "0.05", "--seed", &seed];
            Instance::start_with("127.0.0.1:0", &flags)
        })
        .collect();
    let ports: Vec<u16> = instances.iter().map(|i| i.addr.port()).collect();
    let mut haproxy = Haproxy::start(&template, &ports, "fail-rate");
    let mut load = Load::start(haproxy.front);
    load.tally
        .wait_served(0, FAIL_RATE_REQUESTS, "with injected failures");
    load.finish();
    let (log, warnings) = haproxy.stop();
    let failures = load.tally.failures.lock().unwrap().clone();
    assert!(
        failures.is_empty(),
        "{} requests failed:\n{}\nHAProxy warnings:\n{warnings}",
        failures.len(),
        failures.join("\n")
    );
    let retried = retried_requests(&log);
    assert!(!retried.is_empty(), "no injected 503 was retried:\n{log}");
    eprintln!(
        "fail-rate: {} requests through HAProxy, 0 failed, {} retried after an injected 503, e.g.\n  {}",
        load.tally.ok(),
        retried.len(),
        retried[0]
    );
}
