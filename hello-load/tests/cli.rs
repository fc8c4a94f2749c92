//! hello-load against real servers over real sockets: its counts against the
//! server's own, the open-loop rate, a stall that only the open loop shows, and
//! how it fails (bad flags, a refused target). No speed is asserted.

use std::io::{Read, Write};
use std::net::{SocketAddr, TcpListener, TcpStream};
use std::path::PathBuf;
use std::process::{Command, Output};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::thread;
use std::time::Duration;

use hello_reactor::{Config, Server};
use serde_json::Value;

fn hello_load(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_hello-load"))
        .args(args)
        .output()
        .expect("run hello-load")
}

/// A fresh path for a JSON report in the target directory's temp space.
fn json_path(name: &str) -> PathBuf {
    let dir = PathBuf::from(env!("CARGO_TARGET_TMPDIR"));
    dir.join(format!("{name}-{}.json", std::process::id()))
}

/// Run hello-load with `--json` and return its exit status and JSON.
fn run_json(name: &str, args: &[&str]) -> (Output, Value) {
    let path = json_path(name);
    let mut all: Vec<&str> = args.to_vec();
    let p = path.to_str().expect("utf-8 path");
    all.extend(["--json", p]);
    let out = hello_load(&all);
    let text = std::fs::read_to_string(&path).unwrap_or_else(|e| {
        panic!(
            "no JSON from hello-load ({e}); stdout:\n{}\nstderr:\n{}",
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        )
    });
    let _ = std::fs::remove_file(&path);
    (out, serde_json::from_str(&text).expect("valid JSON"))
}

fn start_hello_reactor() -> hello_reactor::Running {
    let config = Config {
        bind: SocketAddr::from(([127, 0, 0, 1], 0)),
        ..Config::default()
    };
    Server::bind(config).unwrap().spawn().unwrap()
}

fn u(v: &Value) -> u64 {
    v.as_u64().unwrap_or_else(|| panic!("not an integer: {v}"))
}

#[test]
fn json_requests_match_the_servers_count() {
    let running = start_hello_reactor();
    let url = format!("http://{}/", running.addr());
    let (out, json) = run_json("count", &[&url, "-c", "8", "-d", "2", "-q"]);
    let summary = running.shutdown().unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stdout)
    );

    let keys: Vec<&str> = json
        .as_object()
        .unwrap()
        .keys()
        .map(|k| k.as_str())
        .collect();
    assert_eq!(
        keys,
        [
            "url",
            "mode",
            "connections",
            "pipeline",
            "duration_s",
            "requests",
            "errors",
            "rate",
            "latency_us",
            "histogram",
            "timeline"
        ]
    );
    assert_eq!(json["url"], url.as_str());
    assert_eq!(json["mode"], "closed");
    assert_eq!((u(&json["connections"]), u(&json["pipeline"])), (8, 1));
    let requests = u(&json["requests"]);
    assert!(requests > 0);
    assert_eq!(
        requests, summary.requests,
        "hello-load vs the server's count"
    );
    assert_eq!(json["errors"], serde_json::json!({}));
    assert!(json["rate"]["target"].is_null());
    let secs = json["duration_s"].as_f64().unwrap();
    assert!((2.0..3.0).contains(&secs), "{secs}");
    let achieved = json["rate"]["achieved"].as_f64().unwrap();
    assert!((achieved - requests as f64 / secs).abs() < 1.0);

    let l = &json["latency_us"];
    let p: Vec<u64> = ["p50", "p90", "p99", "p99_9", "max"]
        .iter()
        .map(|k| u(&l[k]))
        .collect();
    assert!(p.windows(2).all(|w| w[0] <= w[1]), "{p:?}");
    let histogram = json["histogram"].as_array().unwrap();
    let counted: u64 = histogram.iter().map(|b| u(&b[1])).sum();
    assert_eq!(counted, requests);
    let uppers: Vec<u64> = histogram.iter().map(|b| u(&b[0])).collect();
    assert!(uppers.windows(2).all(|w| w[0] < w[1]));
    assert!(*uppers.last().unwrap() >= p[4]);

    let timeline = json["timeline"].as_array().unwrap();
    assert!((2..=3).contains(&timeline.len()), "{timeline:?}");
    let per_second: u64 = timeline.iter().map(|s| u(&s["requests"])).sum();
    assert_eq!(per_second, requests);
    for (i, s) in timeline.iter().enumerate() {
        assert_eq!(u(&s["second"]), i as u64);
        assert_eq!(u(&s["errors"]), 0);
    }

    // Not a terminal: one plain progress line per second, then the report.
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(stdout.contains("closed loop, 8 connections"), "{stdout}");
    assert!(stdout.contains(&format!("{requests} answered")), "{stdout}");
    assert!(!stdout.contains('\r'));
}

#[test]
fn open_loop_keeps_its_rate() {
    let running = start_hello_reactor();
    let url = format!("http://{}/", running.addr());
    let (out, json) = run_json("rate", &[&url, "-c", "10", "-d", "3", "--rate", "2000"]);
    let summary = running.shutdown().unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stdout)
    );
    assert_eq!(json["mode"], "open");
    assert_eq!(json["rate"]["target"].as_f64(), Some(2000.0));
    let achieved = json["rate"]["achieved"].as_f64().unwrap();
    assert!(
        (1900.0..=2100.0).contains(&achieved),
        "achieved {achieved} req/s for a target of 2000"
    );
    assert_eq!(u(&json["requests"]), summary.requests);
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(stdout.contains("target 2000 req/s"), "{stdout}");
    // Progress lines: one per second.
    assert!(
        stdout
            .lines()
            .filter(|l| l.contains(" req/s  p99 "))
            .count()
            >= 3
    );
}

/// Against `hello-reactor --delay 0.1`, with every connection up before the
/// first request falls due: each answer takes the delay, give or take the machine.
#[test]
fn connect_first_times_the_server_not_the_connects() {
    let delay = Duration::from_millis(100);
    let config = Config {
        bind: SocketAddr::from(([127, 0, 0, 1], 0)),
        delay: Some((delay, delay)),
        ..Config::default()
    };
    let running = Server::bind(config).unwrap().spawn().unwrap();
    let url = format!("http://{}/", running.addr());
    let args = [
        &url,
        "-c",
        "500",
        "-d",
        "1",
        "--rate",
        "500",
        "--connect-first",
    ];
    let (out, json) = run_json("connect-first", &args);
    let summary = running.shutdown().unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stdout)
    );
    assert_eq!(u(&json["requests"]), 500);
    assert_eq!(summary.requests, 500);
    let (p50, max) = (u(&json["latency_us"]["p50"]), u(&json["latency_us"]["max"]));
    assert!(p50 >= 99_000, "p50 {p50} µs for a 100 ms delay");
    assert!(max < 1_000_000, "max {max} µs for a 100 ms delay");
}

/// A server of one thread per connection that answers every request with a fixed
/// 200, except while `paused`: then it answers nothing until the pause is over.
fn stalling_server(paused: Arc<AtomicBool>) -> SocketAddr {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let addr = listener.local_addr().unwrap();
    thread::spawn(move || {
        for stream in listener.incoming() {
            let Ok(stream) = stream else { return };
            let paused = Arc::clone(&paused);
            thread::spawn(move || serve(stream, &paused));
        }
    });
    addr
}

fn serve(mut stream: TcpStream, paused: &AtomicBool) {
    const RESPONSE: &[u8] = b"HTTP/1.1 200 OK\r\nContent-Length: 13\r\n\r\nHello, World!";
    let mut buf = [0u8; 16 * 1024];
    let mut tail = 0u32; // the last bytes seen, to find "\r\n\r\n" across reads
    let mut out = Vec::new();
    loop {
        let n = match stream.read(&mut buf) {
            Ok(0) | Err(_) => return,
            Ok(n) => n,
        };
        let mut requests = 0;
        for &b in &buf[..n] {
            tail = (tail << 8) | u32::from(b);
            if tail == u32::from_be_bytes(*b"\r\n\r\n") {
                requests += 1;
            }
        }
        while paused.load(Ordering::SeqCst) {
            thread::sleep(Duration::from_millis(2));
        }
        out.clear();
        for _ in 0..requests {
            out.extend_from_slice(RESPONSE);
        }
        if stream.write_all(&out).is_err() {
            return;
        }
    }
}

/// Load a server that stops answering for one second in the middle of a 3 s run.
fn run_with_stall(name: &str, extra: &[&str]) -> Value {
    let paused = Arc::new(AtomicBool::new(false));
    let addr = stalling_server(Arc::clone(&paused));
    let url = format!("http://{addr}/");
    let pauser = thread::spawn(move || {
        thread::sleep(Duration::from_millis(1000));
        paused.store(true, Ordering::SeqCst);
        thread::sleep(Duration::from_millis(1000));
        paused.store(false, Ordering::SeqCst);
    });
    let mut args = vec![url.as_str(), "-c", "4", "-d", "3", "-q"];
    args.extend_from_slice(extra);
    let (out, json) = run_json(name, &args);
    pauser.join().unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stdout)
    );
    json
}

#[test]
fn a_stall_shows_in_the_open_loop_p99_and_hides_in_the_closed_loop() {
    let open = thread::spawn(|| run_with_stall("stall-open", &["--rate", "400"]));
    let closed = run_with_stall("stall-closed", &[]);
    let open = open.join().unwrap();

    // Open loop: every request due during the stall waited for its end, so at
    // least a quarter of them (a third of the run) waited over half a second,
    // and the p99 is close to the whole second.
    let p99 = u(&open["latency_us"]["p99"]);
    assert!(p99 >= 800_000, "open-loop p99 {p99} µs over a 1 s stall");
    let worst_second = open["timeline"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| u(&s["p99_us"]))
        .max()
        .unwrap();
    assert!(worst_second >= 800_000, "{}", open["timeline"]);

    // Closed loop: only the 4 requests in flight saw the stall; the max shows it,
    // the p99 does not.
    let max = u(&closed["latency_us"]["max"]);
    let p99 = u(&closed["latency_us"]["p99"]);
    assert!(max >= 800_000, "closed-loop max {max} µs over a 1 s stall");
    assert!(
        p99 < 500_000,
        "closed-loop p99 {p99} µs: {} requests",
        closed["requests"]
    );
}

#[test]
fn bad_flags_exit_2_with_a_usage_line() {
    for args in [
        &["--connections", "0"][..],
        &["--bogus"],
        &["--rate", "-5"],
        &["--duration", "0"],
        &["--pipeline", "x"],
        &["ftp://127.0.0.1/"],
        &["http://127.0.0.1:99999/"],
        &["--connect-first"],
    ] {
        let out = hello_load(args);
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert_eq!(out.status.code(), Some(2), "{args:?}: {stderr}");
        assert!(stderr.contains("Usage: hello-load"), "{args:?}: {stderr}");
        assert!(out.stdout.is_empty(), "{args:?}");
    }
}

#[test]
fn a_refused_target_is_one_line_and_a_failure() {
    // A port that was just free: nothing listens on it. Closing our listener is
    // not enough: a child another test thread forked while it was open holds a
    // copy until its `exec` closes it. No child can inherit it once ours is closed,
    // so wait (bounded) for the first refused connect.
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let port = listener.local_addr().unwrap().port();
    drop(listener);
    let deadline = std::time::Instant::now() + Duration::from_secs(5);
    while TcpStream::connect(("127.0.0.1", port))
        .is_ok_and(|_| std::time::Instant::now() < deadline)
    {
        thread::sleep(Duration::from_millis(10));
    }
    let out = hello_load(&[&format!("http://127.0.0.1:{port}/"), "-d", "1"]);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(1), "{stderr}");
    assert_eq!(stderr.lines().count(), 1, "{stderr}");
    assert!(
        stderr.starts_with("hello-load: cannot connect to"),
        "{stderr}"
    );
    assert!(stderr.to_lowercase().contains("refused"), "{stderr}");
    assert!(out.stdout.is_empty());
}

#[test]
fn a_target_that_closes_every_connection_fails_in_one_line() {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let addr = listener.local_addr().unwrap();
    thread::spawn(move || {
        for stream in listener.incoming() {
            drop(stream); // accepted, then closed without an answer
        }
    });
    let out = hello_load(&[&format!("http://{addr}/"), "-c", "3", "-d", "1", "-q"]);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(1), "{stderr}");
    assert_eq!(stderr.lines().count(), 1, "{stderr}");
    assert!(
        stderr.starts_with("hello-load: FAILED: no responses at all"),
        "{stderr}"
    );
    let stdout = String::from_utf8_lossy(&out.stdout);
    // Closed before or after the request arrived: EOF or a reset.
    assert!(stdout.contains("3 requests lost in flight"), "{stdout}");
}
