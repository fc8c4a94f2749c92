//! Conformance round two (issue #10), over real sockets: the request-target's form
//! and characters, CONNECT, long methods, Host syntax, empty list elements, chunk
//! extensions, and error answers that say why.
//!
//! Each rule also has a table test in its protocol module; these check that the
//! server as a whole answers as the module decides: the status, the one-line
//! body naming the reason, `Connection: close`, and a clean close after it.

mod common;

use std::net::SocketAddr;

use common::{GET, Reader, Response, connect, roundtrip, start_default};

/// Send `request` on a fresh connection and read one answer.
fn answer(addr: SocketAddr, request: &[u8]) -> (Response, Reader) {
    let mut reader = Reader::new(connect(addr));
    reader.send(request);
    let response = reader.response(false);
    (response, reader)
}

/// `request` is refused with `status` and a body that is exactly
/// `"{status} {phrase}: {why}\r\n"`, then the connection closes cleanly.
fn refused(addr: SocketAddr, request: &[u8], status: u16, why: &str) {
    let (response, mut reader) = answer(addr, request);
    let shown = String::from_utf8_lossy(request);
    assert_eq!(response.status, status, "{shown:?}: {}", response.head);
    assert_eq!(response.header("Connection"), Some("close"), "{shown:?}");
    let body = response.body_text();
    assert!(
        body.starts_with(&format!("{status} ")) && body.ends_with(&format!(": {why}\r\n")),
        "{shown:?}: body {body:?}, expected the reason {why:?}"
    );
    assert_eq!(body.matches('\n').count(), 1, "one line: {body:?}");
    assert_eq!(
        response.header("Content-Length"),
        Some(body.len().to_string().as_str())
    );
    let rest = reader
        .read_to_close()
        .expect("EOF after the error, not a reset");
    assert!(rest.is_empty(), "bytes after the error: {rest:?}");
}

/// `request` is answered with the fixed 200.
fn accepted(addr: SocketAddr, request: &[u8]) -> Response {
    let (response, _) = answer(addr, request);
    let shown = String::from_utf8_lossy(request);
    assert_eq!(response.status, 200, "{shown:?}: {}", response.head);
    assert_eq!(response.body_text(), "Hello, World!", "{shown:?}");
    response
}

fn request_line(line: &str) -> Vec<u8> {
    format!("{line}\r\nHost: test\r\n\r\n").into_bytes()
}

/// The experiment a newcomer tries first: type a request line and an empty line
/// into telnet, forgetting Host. The answer says what was missing.
#[test]
fn a_request_without_host_is_told_why() {
    let running = start_default();
    let (response, _) = answer(running.addr(), b"GET /hello HTTP/1.1\r\n\r\n");
    assert_eq!(response.status, 400);
    assert_eq!(
        response.body_text(),
        "400 Bad Request: HTTP/1.1 request without a Host header\r\n"
    );
    assert_eq!(response.header("Content-Length"), Some("57"));
}

/// RFC 9112 §3.2: origin-form and absolute-form for any method, `*` for OPTIONS.
#[test]
fn request_target_forms_that_fit_their_method_are_answered() {
    let running = start_default();
    for line in [
        "GET /path?query=1&b=%2F HTTP/1.1",
        "POST /a/b;c HTTP/1.1",
        "GET http://test/path HTTP/1.1",
        "DELETE https://[::1]:8888/x HTTP/1.1",
        "OPTIONS * HTTP/1.1",
        "OPTIONS /x HTTP/1.1",
    ] {
        accepted(running.addr(), &request_line(line));
    }
}

/// RFC 9112 §3.2: a form with the wrong method, or no form at all, is 400.
#[test]
fn request_target_forms_that_do_not_fit_are_400() {
    let running = start_default();
    for (line, why) in [
        ("GET * HTTP/1.1", "request-target * is only for OPTIONS"),
        (
            "GET test:80 HTTP/1.1",
            "request-target host:port is only for CONNECT",
        ),
        (
            "GET test HTTP/1.1",
            "request-target is not /path, an absolute URI, host:port or *",
        ),
        (
            "CONNECT /x HTTP/1.1",
            "CONNECT needs a host:port request-target",
        ),
    ] {
        refused(running.addr(), &request_line(line), 400, why);
    }
}

/// RFC 3986: a target byte outside the URI characters, or a broken `%`, is 400.
#[test]
fn request_target_characters_outside_a_uri_are_400() {
    let running = start_default();
    let byte = "request-target has a character not allowed in a URI";
    for target in [
        &b"/a\"b"[..],
        b"/a<b>",
        b"/a\\b",
        b"/a^b",
        b"/a`b",
        b"/a{b}",
        b"/a|b",
        b"/a#fragment",
        b"/caf\xc3\xa9",
        b"/\xff",
    ] {
        let request = [b"GET ", target, b" HTTP/1.1\r\nHost: test\r\n\r\n"].concat();
        // httparse refuses some of these itself (a malformed request line): 400
        // either way, and the reason says the request line is at fault.
        let (response, _) = answer(running.addr(), &request);
        assert_eq!(response.status, 400, "{target:?}");
        let body = response.body_text();
        assert!(
            body.ends_with(&format!(": {byte}\r\n"))
                || body.ends_with(": malformed request line\r\n"),
            "{target:?}: {body:?}"
        );
    }
    for target in ["/%", "/%4", "/%zz", "/a%2"] {
        refused(
            running.addr(),
            &request_line(&format!("GET {target} HTTP/1.1")),
            400,
            "request-target has a % not followed by two hex digits",
        );
    }
}

/// RFC 9110 §9.3.6: a 2xx to CONNECT would open a tunnel; this server is not a
/// proxy, so CONNECT is 501 and the connection closes.
#[test]
fn connect_is_501_never_200() {
    let running = start_default();
    for target in ["test:443", "127.0.0.1:80", "[::1]:443"] {
        refused(
            running.addr(),
            &request_line(&format!("CONNECT {target} HTTP/1.1")),
            501,
            "CONNECT: this server is not a proxy",
        );
    }
}

/// RFC 9112 §3: a method longer than any the server knows is 501, not 414.
#[test]
fn a_method_over_the_request_line_limit_is_501() {
    let running = common::start(|config| config.max_request_head = 1024);
    let method = "M".repeat(2000);
    refused(
        running.addr(),
        method.as_bytes(),
        501,
        "method longer than any this server knows",
    );
    let target = format!("GET /{} HTTP/1.1\r\n", "a".repeat(2000));
    let (response, _) = answer(running.addr(), target.as_bytes());
    assert_eq!(response.status, 414, "a long target stays 414");
}

/// RFC 9112 §3.2, RFC 9110 §7.2: Host is `uri-host [ ":" port ]`, and not empty.
#[test]
fn host_must_be_host_and_port() {
    let running = start_default();
    for host in [
        "test",
        "test:8888",
        "127.0.0.1:1",
        "[::1]:8888",
        "a.b-c_d~e",
    ] {
        accepted(
            running.addr(),
            format!("GET / HTTP/1.1\r\nHost: {host}\r\n\r\n").as_bytes(),
        );
    }
    refused(
        running.addr(),
        b"GET / HTTP/1.1\r\nHost:\r\n\r\n",
        400,
        "Host header is empty",
    );
    for host in ["a:b", "a/b", "user@a", "[::1", ":80", "a:80:80", "a%zz"] {
        refused(
            running.addr(),
            format!("GET / HTTP/1.1\r\nHost: {host}\r\n\r\n").as_bytes(),
            400,
            "Host is not host[:port]",
        );
    }
}

/// RFC 9110 §5.6.1.2: empty list elements are ignored.
#[test]
fn empty_list_elements_are_ignored() {
    let running = start_default();
    for coding in [",chunked", "chunked,", " , chunked , "] {
        let request = format!(
            "POST / HTTP/1.1\r\nHost: t\r\nTransfer-Encoding: {coding}\r\n\r\n\
             5\r\nhello\r\n0\r\n\r\n"
        );
        let mut reader = Reader::new(connect(running.addr()));
        reader.send(request.as_bytes());
        reader.send(GET);
        // Both answered: the chunked body was read as one, not as a request.
        for _ in 0..2 {
            assert_eq!(reader.response(false).status, 200, "{coding:?}");
        }
    }
    let (response, mut reader) = answer(
        running.addr(),
        b"GET / HTTP/1.1\r\nHost: t\r\nConnection: close,\r\n\r\n",
    );
    assert_eq!(response.status, 200);
    assert_eq!(response.header("Connection"), Some("close"));
    assert!(reader.read_to_close().unwrap().is_empty());
}

/// RFC 9112 §7.1.1: chunk extensions are `;name[=token|"quoted"]`, nothing else.
#[test]
fn chunk_extensions_follow_the_grammar() {
    let running = start_default();
    let post = |chunks: &[u8]| {
        [
            &b"POST / HTTP/1.1\r\nHost: t\r\nTransfer-Encoding: chunked\r\n\r\n"[..],
            chunks,
        ]
        .concat()
    };
    for chunks in [
        &b"5;a\r\nhello\r\n0\r\n\r\n"[..],
        b"5 ; a = b ; c=\"d;e\\\"\"\r\nhello\r\n0;last\r\n\r\n",
    ] {
        accepted(running.addr(), &post(chunks));
    }
    let extension = "malformed chunk extension";
    for (chunks, why) in [
        (&b"5;\r\nhello\r\n0\r\n\r\n"[..], extension),
        (b"5;a b\r\nhello\r\n0\r\n\r\n", extension),
        (b"5;a=\r\nhello\r\n0\r\n\r\n", extension),
        (b"5;a(\r\nhello\r\n0\r\n\r\n", extension),
        (b"5;a=\"b\r\nhello\r\n0\r\n\r\n", extension),
        (b"5;a \r\nhello\r\n0\r\n\r\n", extension),
        (b"5\nhello\r\n0\r\n\r\n", "a chunk line not ended by CRLF"),
        (b"5;a\nhello\r\n0\r\n\r\n", "a chunk line not ended by CRLF"),
        (b"5\rhello\r\n0\r\n\r\n", "a chunk line not ended by CRLF"),
        (
            b"5;a\rb\r\nhello\r\n0\r\n\r\n",
            "a chunk line not ended by CRLF",
        ),
    ] {
        refused(running.addr(), &post(chunks), 400, why);
    }
}

/// Every refusal still closes with a lingering close, and the server serves on.
#[test]
fn the_server_serves_on_after_refusals() {
    let running = start_default();
    refused(
        running.addr(),
        b"GET / HTTP/1.1\r\n\r\n",
        400,
        "HTTP/1.1 request without a Host header",
    );
    refused(
        running.addr(),
        b"GET / HTTP/1.1\r\nHost: t\r\nContent-Length: 1\r\nContent-Length: 2\r\n\r\n",
        400,
        "Content-Length values differ",
    );
    refused(
        running.addr(),
        b"GET / HTTP/2.0\r\n\r\n",
        505,
        "only HTTP/1.x is supported",
    );
    assert_eq!(roundtrip(running.addr(), GET).status, 200);
}
