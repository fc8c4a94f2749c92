//! HTTP/2 over cleartext (h2c, prior knowledge) with real clients: curl, nghttp,
//! h2load (the defences, with hand-made frame sequences, are in
//! `http2_defences.rs`). Each test runs only if its tool is
//! installed (in CI a missing tool fails; see `common::tool_available`), on
//! loopback, bounded in time.

mod common;

use std::io::Write;
use std::net::SocketAddr;
use std::process::Command;
use std::time::Duration;

use common::{Serving, connect, read_until_eof, run_bounded, start};
use hello_reactor::config::Http2Mode;

/// The client connection preface (RFC 9113 §3.4).
const PREFACE: &[u8] = b"PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n";
/// An empty SETTINGS frame.
const SETTINGS: &[u8] = b"\x00\x00\x00\x04\x00\x00\x00\x00\x00";

fn text(bytes: &[u8]) -> String {
    String::from_utf8_lossy(bytes).into_owned()
}

fn url(addr: SocketAddr) -> String {
    format!("http://{addr}/")
}

#[test]
fn curl_with_prior_knowledge_speaks_http2() {
    if !common::tool_available("curl") {
        return;
    }
    let server = start(|_| {});
    let out = run_bounded(
        Command::new("curl").args([
            "-sv",
            "--http2-prior-knowledge",
            "--max-time",
            "5",
            &url(server.addr()),
        ]),
        Duration::from_secs(10),
    );
    let stderr = text(&out.stderr);
    assert!(out.status.success(), "{stderr}");
    assert_eq!(text(&out.stdout), "Hello, World!", "{stderr}");
    assert!(stderr.contains("< HTTP/2 200"), "{stderr}");
    assert!(stderr.contains("< server: hello-reactor"), "{stderr}");
}

#[test]
fn a_large_body_goes_out_whole_in_many_batches() {
    // 200 KB: more than a batch and the initial window, so DATA is held back and
    // sent once the session is told the rest went out (or the window opens).
    if !common::tool_available("curl") {
        return;
    }
    let server = start(|c| c.body_size = Some(200_000));
    let fetch = |extra: &[&str]| {
        let mut args = vec!["-s", "--max-time", "5"];
        args.extend_from_slice(extra);
        let url = url(server.addr());
        args.push(&url);
        run_bounded(Command::new("curl").args(&args), Duration::from_secs(10)).stdout
    };
    let over_h2 = fetch(&["--http2-prior-knowledge"]);
    assert_eq!(over_h2.len(), 200_000);
    assert!(over_h2 == fetch(&[]), "the same body as HTTP/1.1's");
}

#[test]
fn nghttp_gets_the_answer() {
    if !common::tool_available("nghttp") {
        return;
    }
    let server = start(|_| {});
    let out = run_bounded(
        Command::new("nghttp").args(["-nv", "-t", "5", &url(server.addr())]),
        Duration::from_secs(10),
    );
    let stdout = text(&out.stdout);
    assert!(out.status.success(), "{stdout}{}", text(&out.stderr));
    assert!(stdout.contains(":status: 200"), "{stdout}");
    assert!(stdout.contains("recv DATA frame <length=13"), "{stdout}");
    assert!(stdout.contains("END_STREAM"), "{stdout}");
}

/// h2load with `args` before the URL: every request succeeds.
fn h2load_succeeds(args: &[&str], total: &str) {
    if !common::tool_available("h2load") {
        return;
    }
    let server = start(|_| {});
    let url = url(server.addr());
    let mut all = args.to_vec();
    all.extend(["-n", total, &url]);
    let out = run_bounded(Command::new("h2load").args(&all), Duration::from_secs(30));
    let report = text(&out.stdout);
    assert!(out.status.success(), "{report}{}", text(&out.stderr));
    // h2load 1.52: "requests: N total, N started, N done, N succeeded, 0 failed, ..."
    let done = format!("{total} done, {total} succeeded, 0 failed, 0 errored, 0 timeout");
    assert!(report.contains(&done), "{report}");
    assert!(
        report.contains(&format!("status codes: {total} 2xx")),
        "{report}"
    );
}

#[test]
fn h2load_with_100_streams_per_connection_has_no_errors() {
    h2load_succeeds(&["-c", "100", "-m", "100"], "20000");
}

#[test]
fn h2load_with_one_stream_at_a_time_has_no_errors() {
    h2load_succeeds(&["-c", "10", "-m", "1"], "2000");
}

#[test]
fn a_preface_in_pieces_still_chooses_http2() {
    let server = start(|_| {});
    let mut stream = connect(server.addr());
    for piece in PREFACE.chunks(5) {
        stream.write_all(piece).unwrap();
        std::thread::sleep(Duration::from_millis(20));
    }
    stream.write_all(SETTINGS).unwrap();
    let mut head = [0u8; 9];
    std::io::Read::read_exact(&mut stream, &mut head).unwrap();
    assert_eq!(head[3], 4, "the server's SETTINGS come first: {head:?}");
}

#[test]
fn with_http2_off_the_preface_gets_the_http1_answer() {
    let server = start(|c| c.http2 = Http2Mode::Off);
    let mut stream = connect(server.addr());
    stream.write_all(PREFACE).unwrap();
    let (got, _) = read_until_eof(&mut stream, Duration::from_secs(5));
    let got = text(&got);
    assert!(got.starts_with("HTTP/1.1 505 "), "{got}");
}

#[test]
fn with_http2_only_http1_is_refused() {
    let server = start(|c| c.http2 = Http2Mode::Only);
    let mut stream = connect(server.addr());
    stream
        .write_all(b"GET / HTTP/1.1\r\nHost: x\r\n\r\n")
        .unwrap();
    let (got, _) = read_until_eof(&mut stream, Duration::from_secs(5));
    assert!(!got.starts_with(b"HTTP/"), "{}", text(&got));
    // SETTINGS (9 + 12 bytes), then GOAWAY PROTOCOL_ERROR (9 + 8).
    assert_eq!(got.len(), 38, "{got:?}");
    assert_eq!((got[21 + 3], got[got.len() - 1]), (7, 1), "{got:?}");
    // And an HTTP/2 client is served.
    if common::tool_available("curl") {
        let out = run_bounded(
            Command::new("curl").args([
                "-s",
                "--http2-prior-knowledge",
                "--max-time",
                "5",
                &url(server.addr()),
            ]),
            Duration::from_secs(10),
        );
        assert_eq!(text(&out.stdout), "Hello, World!");
    }
}

/// The value of the metrics sample that starts with `name`.
fn metric(addr: SocketAddr, name: &str) -> u64 {
    let mut stream = connect(addr);
    stream
        .write_all(b"GET /metrics HTTP/1.1\r\nHost: m\r\n\r\n")
        .unwrap();
    let (text, _) = read_until_eof(&mut stream, Duration::from_secs(5));
    let text = String::from_utf8_lossy(&text).into_owned();
    text.lines()
        .find_map(|l| l.strip_prefix(name)?.trim().parse().ok())
        .unwrap_or_else(|| panic!("no {name} in:\n{text}"))
}

#[test]
fn metrics_count_responses_by_protocol_streams_and_goaways() {
    if !common::tool_available("curl") {
        return;
    }
    let mut server = Serving::start(&["--metrics-bind", "127.0.0.1:0"], None);
    let line = server.line();
    let metrics: SocketAddr = line
        .strip_prefix("Metrics on http://")
        .and_then(|rest| rest.strip_suffix("/metrics"))
        .unwrap_or_else(|| panic!("second line {line:?}"))
        .parse()
        .unwrap();
    let url = url(server.addr);
    for extra in [&["--http2-prior-knowledge"][..], &[]] {
        let out = run_bounded(
            Command::new("curl")
                .args(["-s", "--max-time", "5"])
                .args(extra)
                .arg(&url),
            Duration::from_secs(10),
        );
        assert_eq!(text(&out.stdout), "Hello, World!");
    }
    let responses = "hello_reactor_responses_total{protocol=";
    assert_eq!(
        metric(metrics, &format!("{responses}\"h1\",status=\"200\"}}")),
        1
    );
    assert_eq!(
        metric(metrics, &format!("{responses}\"h2\",status=\"200\"}}")),
        1
    );
    assert_eq!(metric(metrics, "hello_reactor_h2_streams_total"), 1);
    // curl closes without waiting for one: the idle GOAWAY is not sent.
    let calm = "hello_reactor_h2_goaways_total{reason=\"enhance_your_calm\"}";
    assert_eq!(metric(metrics, calm), 0);
    if common::python_module_available("h2") {
        let port = server.addr.port().to_string();
        run_bounded(
            Command::new("python3").args([&common::h2_client_script(), "settings_flood", &port]),
            Duration::from_secs(20),
        );
        assert_eq!(metric(metrics, calm), 1);
    }
}

#[test]
fn trace_narrates_the_choice_of_core() {
    let serving = Serving::start(&[], Some("hello_reactor=trace"));
    let mut h2 = connect(serving.addr);
    h2.write_all(PREFACE).unwrap();
    h2.write_all(SETTINGS).unwrap();
    let mut h1 = connect(serving.addr);
    h1.write_all(b"GET / HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
        .unwrap();
    read_until_eof(&mut h1, Duration::from_secs(5));
    drop(h2);
    let (status, log) = serving.terminate();
    assert!(status.success(), "{log}");
    assert!(log.contains(": HTTP/2 preface: h2"), "{log}");
    assert!(log.contains(": no HTTP/2 preface: HTTP/1.1"), "{log}");
}

#[test]
fn upgrade_h2c_is_not_honoured() {
    // RFC 9113 deprecates it: curl's `Upgrade: h2c` gets an HTTP/1.1 answer.
    if !common::tool_available("curl") {
        return;
    }
    let server = start(|_| {});
    let out = run_bounded(
        Command::new("curl").args(["-sv", "--http2", "--max-time", "5", &url(server.addr())]),
        Duration::from_secs(10),
    );
    let stderr = text(&out.stderr);
    assert_eq!(text(&out.stdout), "Hello, World!", "{stderr}");
    assert!(stderr.contains("Upgrade: h2c"), "{stderr}");
    assert!(stderr.contains("< HTTP/1.1 200 OK"), "{stderr}");
    assert!(!stderr.contains("< HTTP/1.1 101"), "{stderr}");
}
