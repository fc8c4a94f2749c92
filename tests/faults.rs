//! Faults injected on purpose, over real sockets: `--delay` holds answers without
//! blocking the loop, in order, through a drain; `--fail-rate` swaps answers for
//! an injected error. Both over HTTP/1.1 and HTTP/2 (h2load, curl). Bounded in time and count; loopback only.

mod common;

use std::io::{Read, Write};
use std::net::SocketAddr;
use std::process::Command;
use std::time::{Duration, Instant};

use common::{GET, Reader, connect, start};
use hello_reactor::{Config, Server};

const DELAY: Duration = Duration::from_millis(200);

fn delayed(config: &mut Config) {
    config.delay = Some((DELAY, DELAY));
}

#[test]
fn an_answer_leaves_after_its_delay() {
    let server = start(delayed);
    let mut client = Reader::new(connect(server.addr()));
    for _ in 0..2 {
        let sent = Instant::now();
        client.send(GET);
        let response = client.response(false);
        let took = sent.elapsed();
        assert_eq!(response.status, 200);
        assert!(took >= DELAY, "answered after {took:?}");
        assert!(took < DELAY * 5, "answered after {took:?}");
    }
    let summary = server.shutdown().unwrap();
    assert_eq!(summary.requests, 2);
}

/// Never early, not even by the fraction of a millisecond the loop's clock
/// rounds off: fifty requests in a row, each timed from its send.
#[test]
fn an_answer_never_leaves_before_its_delay() {
    const SHORT: Duration = Duration::from_millis(20);
    let server = start(|config| config.delay = Some((SHORT, SHORT)));
    let mut client = Reader::new(connect(server.addr()));
    let mut early = Vec::new();
    for _ in 0..50 {
        let sent = Instant::now();
        client.send(GET);
        assert_eq!(client.response(false).status, 200);
        let took = sent.elapsed();
        if took < SHORT {
            early.push(took);
        }
    }
    assert!(early.is_empty(), "answered early: {early:?}");
    server.shutdown().unwrap();
}

/// Fifty connections, each waiting on a held answer, are all answered about one
/// delay after they asked: the thread never waits on any one of them.
#[test]
fn held_answers_do_not_block_other_connections() {
    let server = start(delayed);
    let mut clients: Vec<Reader> = (0..50)
        .map(|_| Reader::new(connect(server.addr())))
        .collect();
    let sent = Instant::now();
    for client in &mut clients {
        client.send(GET);
    }
    for client in &mut clients {
        assert_eq!(client.response(false).status, 200);
    }
    let took = sent.elapsed();
    assert!(took >= DELAY, "all answered after {took:?}");
    assert!(
        took < DELAY * 5,
        "50 held answers took {took:?}: one after another?"
    );
    server.shutdown().unwrap();
}

/// Requests sent together are answered together, in order, one delay later; the
/// next request is delayed from its own arrival.
#[test]
fn pipelined_answers_leave_together_in_order() {
    let server = start(delayed);
    let mut client = Reader::new(connect(server.addr()));
    let sent = Instant::now();
    let head = b"HEAD / HTTP/1.1\r\nHost: test\r\n\r\n";
    client.send(&[GET, &head[..], GET].concat());
    let first = client.response(false);
    let second = client.response(true);
    let third = client.response(false);
    let took = sent.elapsed();
    assert_eq!((first.status, second.status, third.status), (200, 200, 200));
    assert_eq!(first.body, b"Hello, World!");
    assert!(second.body.is_empty(), "the HEAD answer is second");
    assert!(
        took >= DELAY && took < DELAY * 2,
        "three answers after {took:?}: not one delay after another"
    );
    server.shutdown().unwrap();
}

/// A graceful shutdown waits for a held answer, which says `Connection: close`.
#[test]
fn a_drain_sends_held_answers_before_stopping() {
    let server = start(|config| {
        config.delay = Some((Duration::from_millis(500), Duration::from_millis(500)));
    });
    let mut client = Reader::new(connect(server.addr()));
    client.send(GET);
    std::thread::sleep(Duration::from_millis(100)); // the request is held now
    let stopping = std::thread::spawn(move || server.shutdown().unwrap());
    let response = client.response(false);
    assert_eq!(response.status, 200);
    assert_eq!(response.header("Connection"), Some("close"));
    let summary = stopping.join().unwrap();
    assert_eq!((summary.requests, summary.cut_off), (1, 0));
}

/// Scrape `/metrics` on `addr` (one request, `Connection: close`).
fn scrape(addr: SocketAddr) -> String {
    let mut stream = connect(addr);
    stream
        .write_all(b"GET /metrics HTTP/1.1\r\nHost: m\r\nConnection: close\r\n\r\n")
        .unwrap();
    let mut text = String::new();
    stream.read_to_string(&mut text).unwrap();
    text
}

#[test]
fn the_delayed_answers_gauge_counts_answers_in_flight() {
    let mut config = Config {
        bind: "127.0.0.1:0".parse().unwrap(),
        metrics_bind: Some("127.0.0.1:0".parse().unwrap()),
        delay: Some((Duration::from_secs(1), Duration::from_secs(1))),
        ..Config::default()
    };
    config.shutdown_timeout = Duration::from_secs(5);
    let server = Server::bind(config).unwrap();
    let metrics = server.metrics_addr().unwrap();
    let server = server.spawn().unwrap();
    let mut clients: Vec<Reader> = (0..3)
        .map(|_| Reader::new(connect(server.addr())))
        .collect();
    for client in &mut clients {
        client.send(GET);
    }
    let gauge = |n: u64| format!("\nhello_reactor_delayed_answers {n}\n");
    let mut text = String::new();
    assert!(
        common::eventually(Duration::from_millis(900), || {
            text = scrape(metrics);
            text.contains(&gauge(3))
        }),
        "{text}"
    );
    for client in &mut clients {
        assert_eq!(client.response(false).status, 200);
    }
    assert!(scrape(metrics).contains(&gauge(0)));
    server.shutdown().unwrap();
}

/// `--fail-rate 1 --fail-status 502`: every answer fails, with a 502.
fn always_502(config: &mut Config) {
    config.fail_rate = 1.0;
    config.fail_status = hello_reactor::protocol::Status::new(502).unwrap();
}

/// `--fail-rate 1 --fail-status 502` through curl: every answer is the injected
/// 502, says so, and the connection stays open for the next.
#[test]
fn fail_rate_one_injects_every_answer_and_keeps_the_connection() {
    if !common::tool_available("curl") {
        return;
    }
    let server = start(always_502);
    let url = format!("http://{}/", server.addr());
    let output = common::run_bounded(
        Command::new("curl").args(["-sv", &url, &url]),
        Duration::from_secs(10),
    );
    let stdout = String::from_utf8_lossy(&output.stdout);
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert_eq!(
        stdout
            .matches("injected by hello-reactor --fail-rate")
            .count(),
        2,
        "{stdout}"
    );
    assert!(stderr.contains("< HTTP/1.1 502 Bad Gateway"), "{stderr}");
    assert!(
        stderr.contains("Re-using existing connection") || stderr.contains("Reusing existing"),
        "keep-alive after an injected failure: {stderr}"
    );
    let summary = server.shutdown().unwrap();
    assert_eq!(summary.responses_with(502), 2);
}

/// `--delay MIN..MAX` through curl: each answer takes at least MIN.
#[test]
fn a_delay_range_holds_each_answer_at_least_its_minimum() {
    if !common::tool_available("curl") {
        return;
    }
    let server = start(|config| {
        config.delay = Some((Duration::from_millis(100), Duration::from_millis(300)));
        config.seed = 42;
    });
    let url = format!("http://{}/", server.addr());
    for _ in 0..3 {
        let output = common::run_bounded(
            Command::new("curl").args(["-s", "-o", "/dev/null", "-w", "%{time_total}", &url]),
            Duration::from_secs(10),
        );
        let took: f64 = String::from_utf8_lossy(&output.stdout).parse().unwrap();
        assert!((0.1..1.5).contains(&took), "answered after {took} s");
    }
    server.shutdown().unwrap();
}

/// HTTP/2 streams are held too, each its own delay, and concurrently: h2load
/// sends 40 requests on 2 connections, 20 streams at once each, all answered
/// about one delay after they were sent, none early, none failed.
#[test]
fn http2_streams_are_held_their_delay_concurrently() {
    if !common::tool_available("h2load") {
        return;
    }
    let server = start(delayed);
    let url = format!("http://{}/", server.addr());
    let sent = Instant::now();
    let output = common::run_bounded(
        Command::new("h2load").args(["-n40", "-c2", "-m20", &url]),
        Duration::from_secs(20),
    );
    let took = sent.elapsed();
    let stdout = String::from_utf8_lossy(&output.stdout);
    assert!(
        stdout.contains("40 succeeded, 0 failed, 0 errored"),
        "{stdout}"
    );
    assert!(
        took >= DELAY && took < DELAY * 4,
        "40 held streams took {took:?}"
    );
    let min_time = stdout
        .lines()
        .find(|l| l.starts_with("time for request:"))
        .and_then(|l| l.split_whitespace().nth(3))
        .unwrap_or_default();
    assert!(min_time.ends_with("ms"), "{stdout}");
    let min_ms: f64 = min_time.trim_end_matches("ms").parse().unwrap();
    assert!(min_ms >= 200.0, "a stream answered after {min_ms} ms");
    let summary = server.shutdown().unwrap();
    assert_eq!(summary.requests, 40);
}

/// `--fail-rate 1` over HTTP/2: every stream gets the injected status and body
/// (curl for one stream's answer, h2load for ten streams on one connection).
#[test]
fn http2_streams_get_the_injected_failure() {
    if !common::tool_available("curl") || !common::tool_available("h2load") {
        return;
    }
    let server = start(always_502);
    let url = format!("http://{}/", server.addr());
    let output = common::run_bounded(
        Command::new("curl").args(["-sv", "--http2-prior-knowledge", &url]),
        Duration::from_secs(10),
    );
    let stdout = String::from_utf8_lossy(&output.stdout);
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert_eq!(
        stdout,
        "502 Bad Gateway: injected by hello-reactor --fail-rate, not a real failure\r\n"
    );
    assert!(stderr.contains("< HTTP/2 502"), "{stderr}");
    let output = common::run_bounded(
        Command::new("h2load").args(["-n10", "-c1", "-m10", &url]),
        Duration::from_secs(10),
    );
    let stdout = String::from_utf8_lossy(&output.stdout);
    assert!(
        stdout.contains("status codes: 0 2xx, 0 3xx, 0 4xx, 10 5xx"),
        "{stdout}"
    );
    let summary = server.shutdown().unwrap();
    assert_eq!(summary.responses_with(502), 11);
}
