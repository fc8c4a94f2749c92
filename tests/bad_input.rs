//! Hardening: malformed, ambiguous and oversized requests.
//!
//! Every rejected request must get its status in a complete response that says
//! `Connection: close` and carries a one-line text body saying why, followed by a clean close: the
//! server half-closes and drains what the client still sends (a lingering close,
//! RFC 9112 §9.6), so the client reads the whole error and then EOF, never a reset.
//! To make a reset likely if the server closed too early, every check sends 256 KiB
//! of extra bytes after the bad request from a second thread while the first reads.
//! Afterwards the server must still answer a fresh GET with 200.

mod common;

use std::io::{self, Read, Write};
use std::net::{Shutdown, SocketAddr, TcpStream};
use std::thread;
use std::time::Duration;

use common::{GET, Reader, connect, roundtrip, start, start_default};
use hello_reactor::Config;
use proptest::prelude::*;
use proptest::test_runner::{Config as ProptestConfig, TestRunner};

/// Extra bytes a client keeps sending after its bad request.
const EXTRA: usize = 256 * 1024;

/// Send `request` followed by [`EXTRA`] bytes of junk from another thread, read the
/// response, and check that it is a complete `status` error, followed by a clean EOF.
/// Then check that the server still serves a fresh GET.
fn assert_rejected(addr: SocketAddr, request: &[u8], status: u16) {
    let stream = connect(addr);
    let mut writer = stream.try_clone().unwrap();
    let request_copy = request.to_vec();
    let sender = thread::spawn(move || -> io::Result<()> {
        writer.write_all(&request_copy)?;
        let junk = vec![b'x'; 16 * 1024];
        for _ in 0..EXTRA / junk.len() {
            writer.write_all(&junk)?;
        }
        writer.shutdown(Shutdown::Write)
    });
    let mut reader = Reader::new(stream);
    let response = reader.try_response(false).unwrap_or_else(|e| {
        panic!(
            "no complete {status} response to {:?}: {e}",
            preview(request)
        )
    });
    assert_eq!(
        response.status,
        status,
        "request {:?} got {}",
        preview(request),
        response.head
    );
    assert_eq!(
        response.header("Connection"),
        Some("close"),
        "{}",
        response.head
    );
    let content_type = response.header("Content-Type").unwrap_or("");
    assert!(content_type.starts_with("text/plain"), "{}", response.head);
    let body = response.body_text();
    assert!(
        !body.is_empty() && body.len() < 100 && body.starts_with(&status.to_string()),
        "error body {body:?}"
    );
    // One line, `400 Bad Request: <why>`, ended by CRLF; nothing of the request.
    assert!(
        body.ends_with("\r\n") && body.matches('\n').count() == 1 && body.contains(": "),
        "error body {body:?} is not one line saying why"
    );
    // Lingering close: EOF after the response, not a reset, and nothing else.
    let rest = reader
        .read_to_close()
        .unwrap_or_else(|e| panic!("expected EOF after the {status}, got {e}"));
    assert!(rest.is_empty(), "bytes after the error response: {rest:?}");
    // The server drained everything the client sent instead of resetting it.
    sender
        .join()
        .unwrap()
        .unwrap_or_else(|e| panic!("the client's extra bytes were refused: {e}"));
    assert_eq!(roundtrip(addr, GET).status, 200, "server stopped serving");
}

fn preview(request: &[u8]) -> String {
    let shown = &request[..request.len().min(120)];
    String::from_utf8_lossy(shown).into_owned()
}

/// A server with the default config and one check per request.
fn rejects(cases: &[(&[u8], u16)]) {
    let running = start_default();
    for (request, status) in cases {
        assert_rejected(running.addr(), request, *status);
    }
    running.stop().unwrap();
}

fn with_header(header: &str) -> Vec<u8> {
    format!("GET / HTTP/1.1\r\nHost: test\r\n{header}\r\n\r\n").into_bytes()
}

fn post(headers: &str, body: &[u8]) -> Vec<u8> {
    let mut request = format!("POST / HTTP/1.1\r\nHost: test\r\n{headers}\r\n\r\n").into_bytes();
    request.extend_from_slice(body);
    request
}

#[test]
fn unparseable_request_lines_are_400() {
    rejects(&[
        (b"NOT A REQUEST\r\n\r\n", 400),
        (b"GET\r\nHost: test\r\n\r\n", 400),
        (b"GET / HTTP/1.1 extra\r\nHost: test\r\n\r\n", 400),
        (b"GET  / HTTP/1.1\r\nHost: test\r\n\r\n", 400),
        (b"GET / FTP/1.1\r\nHost: test\r\n\r\n", 400),
        (b"G(T / HTTP/1.1\r\nHost: test\r\n\r\n", 400),
    ]);
}

#[test]
fn garbage_bytes_are_400() {
    // A TLS ClientHello-like record, and control bytes, each ending in a blank line.
    rejects(&[
        (b"\x16\x03\x01\x02\x00\x01\x00\x01\xfc\x03\x03\r\n\r\n", 400),
        (b"\x00\x01\x02\x03\xff\xfe\r\n\r\n", 400),
        (b"\r\n\r\n\xff\xff\r\n\r\n", 400),
    ]);
}

#[test]
fn space_before_a_header_colon_is_400() {
    rejects(&[
        (b"GET / HTTP/1.1\r\nHost : test\r\n\r\n", 400),
        (b"GET / HTTP/1.1\r\nHost: test\r\nX-Thing\t: 1\r\n\r\n", 400),
    ]);
}

#[test]
fn a_bare_cr_is_400() {
    rejects(&[
        (b"GET / HTTP/1.1\r\nHost: test\rX: y\r\n\r\n", 400),
        (b"GET / HTTP/1.1\rHost: test\r\n\r\n", 400),
    ]);
}

#[test]
fn an_obs_fold_continuation_line_is_400() {
    rejects(&[
        (
            b"GET / HTTP/1.1\r\nHost: test\r\nX-Long: a\r\n b\r\n\r\n",
            400,
        ),
        (
            b"GET / HTTP/1.1\r\nHost: test\r\nX-Long: a\r\n\tb\r\n\r\n",
            400,
        ),
    ]);
}

#[test]
fn http11_without_host_or_with_two_hosts_is_400() {
    rejects(&[
        (b"GET / HTTP/1.1\r\n\r\n", 400),
        (b"GET / HTTP/1.1\r\nAccept: */*\r\n\r\n", 400),
        (b"GET / HTTP/1.1\r\nHost: a\r\nHost: b\r\n\r\n", 400),
        (b"GET / HTTP/1.1\r\nHost: a\r\nHost: a\r\n\r\n", 400),
    ]);
    // HTTP/1.0 does not require Host.
    let running = start_default();
    let response = roundtrip(running.addr(), b"GET / HTTP/1.0\r\n\r\n");
    assert_eq!(response.status, 200);
}

#[test]
fn content_length_with_transfer_encoding_is_400() {
    rejects(&[
        (
            &post(
                "Content-Length: 5\r\nTransfer-Encoding: chunked",
                b"0\r\n\r\n",
            ),
            400,
        ),
        (
            &post(
                "Transfer-Encoding: chunked\r\nContent-Length: 5",
                b"0\r\n\r\n",
            ),
            400,
        ),
    ]);
}

#[test]
fn bad_content_lengths_are_400() {
    rejects(&[
        (&post("Content-Length: abc", b"abc"), 400),
        (&post("Content-Length: -1", b""), 400),
        (&post("Content-Length: 0x10", b"0123456789abcdef"), 400),
        (
            &post("Content-Length: 5\r\nContent-Length: 6", b"123456"),
            400,
        ),
        (&post("Content-Length: 5, 6", b"123456"), 400),
        (&post("Content-Length: 99999999999999999999999", b""), 400),
        (&post("Content-Length: 18446744073709551616", b""), 400),
        (&post("Content-Length: ", b""), 400),
        (&post("Content-Length: +5", b"12345"), 400),
    ]);
}

#[test]
fn content_length_over_max_body_is_413() {
    // Default max_body is 1 MiB: a valid length one byte over is refused up front.
    // With `Expect: 100-continue`, the 413 comes instead of the 100 (the first
    // response read must be the 413).
    rejects(&[
        (&post("Content-Length: 1048577", b""), 413),
        (
            &post("Content-Length: 1048577\r\nExpect: 100-continue", b""),
            413,
        ),
    ]);
    // With a small limit, the limit itself is fine and one over is not.
    let running = start(|c| c.max_body = 100);
    let ok = roundtrip(running.addr(), &post("Content-Length: 100", &[b'a'; 100]));
    assert_eq!(ok.status, 200);
    assert_rejected(running.addr(), &post("Content-Length: 101", b""), 413);
}

#[test]
fn transfer_encoding_not_ending_in_chunked_is_400() {
    rejects(&[
        (&post("Transfer-Encoding: gzip", b""), 400),
        (&post("Transfer-Encoding: chunked, gzip", b""), 400),
    ]);
}

#[test]
fn unknown_transfer_coding_is_501() {
    rejects(&[(&post("Transfer-Encoding: foo, chunked", b"0\r\n\r\n"), 501)]);
}

#[test]
fn malformed_chunks_are_400() {
    rejects(&[
        (
            &post("Transfer-Encoding: chunked", b"zz\r\nhello\r\n0\r\n\r\n"),
            400,
        ),
        (
            &post("Transfer-Encoding: chunked", b"5\r\nhelloXX0\r\n\r\n"),
            400,
        ),
    ]);
}

#[test]
fn http2_and_http3_request_lines_are_505() {
    rejects(&[
        (b"GET / HTTP/2.0\r\nHost: test\r\n\r\n", 505),
        (b"GET / HTTP/3.0\r\nHost: test\r\n\r\n", 505),
    ]);
}

#[test]
fn http12_is_handled_as_http11() {
    let running = start_default();
    let mut reader = Reader::new(connect(running.addr()));
    reader.send(b"GET / HTTP/1.2\r\nHost: test\r\n\r\n");
    let response = reader.response(false);
    assert_eq!(response.status, 200);
    assert_eq!(response.body_text(), "Hello, World!");
    // Persistent, like HTTP/1.1.
    assert_eq!(response.header("Connection"), None);
    reader.send(GET);
    assert_eq!(reader.response(false).status, 200);
}

#[test]
fn a_request_target_over_max_request_head_is_414() {
    let target = "a".repeat(20 * 1024);
    let request = format!("GET /{target} HTTP/1.1\r\nHost: test\r\n\r\n");
    rejects(&[(request.as_bytes(), 414)]);
}

#[test]
fn a_header_section_over_the_default_16k_is_431() {
    let mut headers = String::new();
    for i in 0..200 {
        headers.push_str(&format!("X-Filler-{i}: {}\r\n", "v".repeat(80)));
    }
    assert!(headers.len() > 16 * 1024);
    let request = format!("GET / HTTP/1.1\r\nHost: test\r\n{headers}\r\n");
    rejects(&[(request.as_bytes(), 431)]);
    // One header just under the limit is fine.
    let running = start_default();
    let request = with_header(&format!("X-Big: {}", "v".repeat(15 * 1024)));
    assert_eq!(roundtrip(running.addr(), &request).status, 200);
}

#[test]
fn a_header_section_over_a_custom_limit_is_431() {
    let running = start(|c: &mut Config| c.max_request_head = 256);
    let fits = with_header(&format!("X-Pad: {}", "p".repeat(150)));
    assert!(fits.len() < 256);
    assert_eq!(roundtrip(running.addr(), &fits).status, 200);
    let too_big = with_header(&format!("X-Pad: {}", "p".repeat(300)));
    assert_rejected(running.addr(), &too_big, 431);
}

#[test]
fn a_chunked_body_over_max_body_is_413() {
    let running = start(|c| c.max_body = 1000);
    let addr = running.addr();
    // Under the limit in two chunks: fine.
    let mut body = b"1f4\r\n".to_vec();
    body.extend_from_slice(&[b'a'; 500]);
    body.extend_from_slice(b"\r\n1f4\r\n");
    body.extend_from_slice(&[b'b'; 500]);
    body.extend_from_slice(b"\r\n0\r\n\r\n");
    assert_eq!(
        roundtrip(addr, &post("Transfer-Encoding: chunked", &body)).status,
        200
    );
    // One chunk over the limit.
    let mut body = b"400\r\n".to_vec();
    body.extend_from_slice(&[b'a'; 1024]);
    body.extend_from_slice(b"\r\n0\r\n\r\n");
    assert_rejected(addr, &post("Transfer-Encoding: chunked", &body), 413);
    // Two chunks that are each fine but add up to more than the limit.
    let mut body = b"258\r\n".to_vec();
    body.extend_from_slice(&[b'a'; 600]);
    body.extend_from_slice(b"\r\n258\r\n");
    body.extend_from_slice(&[b'b'; 600]);
    body.extend_from_slice(b"\r\n0\r\n\r\n");
    assert_rejected(addr, &post("Transfer-Encoding: chunked", &body), 413);
}

// ---------------------------------------------------------------------------------
// Random input never crashes the server.

/// Statuses this server can send.
const KNOWN_STATUSES: [u16; 9] = [100, 200, 400, 408, 413, 414, 431, 501, 505];

/// Check that `bytes` is a sequence of well-formed responses; the last one may be cut
/// short only if the connection was reset (`complete` false).
fn check_responses(bytes: &[u8], complete: bool) -> Result<(), String> {
    let mut rest = bytes;
    while !rest.is_empty() {
        let Some(end) = common::find(rest, b"\r\n\r\n") else {
            return if complete {
                Err(format!(
                    "incomplete head {:?}",
                    String::from_utf8_lossy(rest)
                ))
            } else {
                Ok(())
            };
        };
        let head = std::str::from_utf8(&rest[..end]).map_err(|e| e.to_string())?;
        let status_line = head.lines().next().unwrap_or("");
        let status: u16 = status_line
            .strip_prefix("HTTP/1.1 ")
            .and_then(|s| s.get(..3))
            .and_then(|s| s.parse().ok())
            .ok_or_else(|| format!("bad status line {status_line:?}"))?;
        if !KNOWN_STATUSES.contains(&status) || status_line.as_bytes().get(12) != Some(&b' ') {
            return Err(format!("unexpected status line {status_line:?}"));
        }
        let length: usize = head
            .lines()
            .find_map(|l| {
                let (name, value) = l.split_once(':')?;
                name.eq_ignore_ascii_case("content-length")
                    .then(|| value.trim().parse().ok())?
            })
            .unwrap_or(0);
        rest = &rest[end + 4..];
        // A 200 to HEAD has no body; every body here starts with something other
        // than the next status line
        // (so a 200 with nothing after it answered a HEAD).
        let has_body = status != 100 && !rest.is_empty() && !rest.starts_with(b"HTTP/1.1 ");
        if has_body {
            if rest.len() < length {
                return if complete {
                    Err(format!("body cut short after {status_line:?}"))
                } else {
                    Ok(())
                };
            }
            rest = &rest[length..];
        }
    }
    Ok(())
}

/// Send `input` on a new connection, half-close, and collect what comes back.
fn exchange(addr: SocketAddr, input: &[u8]) -> Result<(), String> {
    let mut stream = TcpStream::connect(addr).map_err(|e| format!("connect: {e}"))?;
    stream
        .set_read_timeout(Some(Duration::from_secs(5)))
        .unwrap();
    stream
        .set_write_timeout(Some(Duration::from_secs(5)))
        .unwrap();
    // The server may answer and close before taking everything: that is allowed.
    let _ = stream.write_all(input);
    let _ = stream.shutdown(Shutdown::Write);
    let mut got = Vec::new();
    let mut chunk = [0u8; 8192];
    let complete = loop {
        match stream.read(&mut chunk) {
            Ok(0) => break true,
            Ok(n) => got.extend_from_slice(&chunk[..n]),
            Err(e) if e.kind() == io::ErrorKind::ConnectionReset => break false,
            Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
            Err(e) => return Err(format!("read: {e} after {got:?}")),
        }
    };
    check_responses(&got, complete)
}

fn http_ish() -> impl Strategy<Value = Vec<u8>> {
    let token = prop_oneof![
        Just(b"GET / HTTP/1.1".to_vec()),
        Just(b"HEAD / HTTP/1.0".to_vec()),
        Just(b"POST /x HTTP/1.1".to_vec()),
        Just(b"\r\n".to_vec()),
        Just(b"\r".to_vec()),
        Just(b"\n".to_vec()),
        Just(b"Host: a".to_vec()),
        Just(b"Content-Length: ".to_vec()),
        Just(b"Transfer-Encoding: chunked".to_vec()),
        Just(b"Connection: close".to_vec()),
        Just(b"Expect: 100-continue".to_vec()),
        Just(b":".to_vec()),
        Just(b" ".to_vec()),
        Just(b"0".to_vec()),
        Just(b"5".to_vec()),
        Just(b"ff".to_vec()),
        proptest::collection::vec(any::<u8>(), 1..16),
    ];
    proptest::collection::vec(token, 0..40).prop_map(|parts| parts.concat())
}

#[test]
fn random_bytes_never_crash_the_server() {
    let running = start(|c| {
        c.header_timeout = Duration::from_millis(500);
        c.body_timeout = Duration::from_millis(500);
        c.linger_timeout = Duration::from_millis(500);
        c.max_request_head = 1024;
        c.max_body = 4096;
    });
    let addr = running.addr();
    let config = ProptestConfig {
        cases: 64,
        failure_persistence: None,
        ..ProptestConfig::default()
    };
    let mut runner = TestRunner::new(config);
    let inputs = prop_oneof![proptest::collection::vec(any::<u8>(), 0..2048), http_ish()];
    runner
        .run(&inputs, |input| {
            exchange(addr, &input).map_err(TestCaseError::fail)?;
            let response = roundtrip(addr, GET);
            prop_assert_eq!(response.status, 200);
            Ok(())
        })
        .unwrap();
    let summary = running.stop().unwrap();
    assert!(summary.responses_with(200) >= 64, "{summary}");
}
