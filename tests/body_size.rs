//! `--body-size` over real sockets: the body is the pattern, byte for byte, after a
//! HEAD's `Content-Length` and between pipelined answers; a large one is written
//! from one shared block, so slow readers cost the server no memory of their own.
//! Bounded in time and count; loopback only.

mod common;

use std::io::{Read, Write};
use std::process::Command;
use std::time::{Duration, Instant};

use common::{GET, Reader, Serving, connect};
use hello_reactor::protocol::pattern;

const HEAD: &[u8] = b"HEAD / HTTP/1.1\r\nHost: test\r\n\r\n";

/// Pipelined GET, HEAD, GET of a streamed body (1 MiB + 3) and of a rendered one.
#[test]
fn the_body_is_the_pattern_and_pipelined_answers_follow_it() {
    for size in [1 << 20 | 3, 1000] {
        let serving = Serving::start(&["--body-size", &size.to_string()], None);
        let mut client = Reader::new(connect(serving.addr));
        client.send(&[GET, HEAD, GET].concat());
        let expected = pattern::body(size);
        for head_request in [false, true, false] {
            let response = client.response(head_request);
            assert_eq!(response.status, 200);
            assert_eq!(response.header("Content-Length"), Some(&*size.to_string()));
            let body: &[u8] = if head_request { b"" } else { &expected };
            assert!(response.body == body, "{size}: body differs");
        }
        assert!(client.leftover().is_empty());
        drop(client);
        let (status, stderr) = serving.terminate();
        assert!(status.success(), "{stderr}");
    }
}

/// The server's resident memory, from /proc.
fn rss_kib(pid: u32) -> u64 {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).unwrap();
    status
        .lines()
        .find_map(|l| l.strip_prefix("VmRSS:"))
        .and_then(|v| v.trim().trim_end_matches("kB").trim().parse().ok())
        .unwrap()
}

/// 200 clients ask for a 100 MiB body and read almost nothing: the server writes
/// until each socket is full and waits, holding an offset per connection, so its
/// memory stays that of an idle server. Then one reads its whole body.
#[test]
fn slow_readers_of_a_large_body_cost_no_memory_of_their_own() {
    const SIZE: usize = 100 << 20;
    const READERS: usize = 200;
    let serving = Serving::start(&["--body-size", &SIZE.to_string()], None);
    let before = rss_kib(serving.pid());
    // Nor does the body itself: neither HTTP/1.1 nor HTTP/2 (on by default) holds
    // the 100 MiB, only the pattern's 64 KiB block.
    assert!(
        before < 32 * 1024,
        "an idle server with a 100 MiB --body-size holds {before} KiB"
    );
    let mut readers: Vec<std::net::TcpStream> = (0..READERS)
        .map(|_| {
            let mut stream = connect(serving.addr);
            stream.write_all(GET).unwrap();
            stream
        })
        .collect();
    let mut first = [0u8; 1];
    for stream in &mut readers {
        stream.read_exact(&mut first).unwrap(); // the answer started
    }
    std::thread::sleep(Duration::from_millis(500)); // every socket filled up
    let during = rss_kib(serving.pid());
    eprintln!("server RSS: {before} KiB idle, {during} KiB with {READERS} readers stalled");
    assert!(
        during < before + 16 * 1024,
        "{READERS} stalled readers of a 100 MiB body grew the server from {before} to {during} KiB"
    );
    // One of them now reads on: the whole body arrives, and nothing past it.
    let started = Instant::now();
    let mut one = readers.pop().unwrap();
    let mut received = 1u64;
    let mut buf = vec![0u8; 1 << 20];
    let mut head_end = None;
    let mut seen = Vec::new();
    while head_end.is_none_or(|end| received < (end + SIZE) as u64) {
        let n = one.read(&mut buf).unwrap();
        assert!(n > 0, "closed after {received} bytes");
        if head_end.is_none() {
            seen.extend_from_slice(&buf[..n]);
            head_end = common::find(&seen, b"\r\n\r\n").map(|at| at + 5);
        }
        received += n as u64;
        assert!(started.elapsed() < Duration::from_secs(60), "too slow");
    }
    assert_eq!(
        received,
        (head_end.unwrap() + SIZE) as u64,
        "more than the body"
    );
    drop(readers);
    drop(one);
    let (status, stderr) = serving.terminate_within(Duration::from_secs(15));
    assert!(status.success(), "{stderr}");
}

/// wrk on a streamed body: every answer complete, no socket errors.
#[test]
fn wrk_reads_streamed_bodies_whole() {
    if !common::tool_available("wrk") {
        eprintln!("SKIPPED: wrk is not installed");
        return;
    }
    let serving = Serving::start(&["--body-size", "200000"], None);
    let url = format!("http://{}/", serving.addr);
    let output = common::run_bounded(
        Command::new("wrk").args(["-t1", "-c8", "-d1s", &url]),
        Duration::from_secs(20),
    );
    let text = String::from_utf8_lossy(&output.stdout);
    assert!(output.status.success(), "{text}");
    assert!(text.contains("requests in"), "{text}");
    assert!(
        !text.contains("Socket errors") && !text.contains("Non-2xx"),
        "{text}"
    );
    let (status, stderr) = serving.terminate();
    assert!(status.success(), "{stderr}");
}

/// `--delay` with a streamed body: pipelined answers are held, then each body
/// follows its head in order.
#[test]
fn held_answers_with_streamed_bodies_leave_in_order() {
    let size = 300_000;
    let serving = Serving::start(&["--body-size", &size.to_string(), "--delay", "0.1"], None);
    let mut client = Reader::new(connect(serving.addr));
    let sent = Instant::now();
    client.send(&[GET, HEAD, GET].concat());
    let expected = pattern::body(size);
    for head_request in [false, true, false] {
        let response = client.response(head_request);
        assert_eq!(response.status, 200);
        let body: &[u8] = if head_request { b"" } else { &expected };
        assert!(response.body == body, "body differs");
    }
    let took = sent.elapsed();
    assert!(
        took >= Duration::from_millis(100),
        "answered after {took:?}"
    );
    assert!(took < Duration::from_secs(2), "answered after {took:?}");
    drop(client);
    let (status, stderr) = serving.terminate();
    assert!(status.success(), "{stderr}");
}
