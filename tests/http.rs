//! HTTP/1.1 semantics over real sockets (RFC 9112): persistence, the fixed response's
//! headers, HEAD, request bodies, `Expect: 100-continue`, methods and targets, and
//! requests that arrive in pieces.
//!
//! Each group has its own small fixture; every test starts its own server on a free
//! port so the tests can run in parallel.

mod common;

use std::io::{ErrorKind, Read, Write};
use std::time::{Duration, SystemTime};

use common::{GET, Reader, Response, connect, start, start_default};

const HELLO: &str = "Hello, World!";

/// A fresh server and one client connection to it.
fn client() -> (hello_reactor::Running, Reader) {
    let server = start_default();
    let reader = Reader::new(connect(server.addr()));
    (server, reader)
}

/// The default `200 OK` with the default body.
fn assert_hello(response: &Response) {
    assert_eq!(response.status, 200, "{}", response.head);
    assert_eq!(response.body_text(), HELLO, "{}", response.head);
}

/// The connection stays quiet for a moment: no unexpected response, no close.
fn assert_quiet(reader: &mut Reader) {
    assert!(
        reader.leftover().is_empty(),
        "unexpected bytes after the responses: {:?}",
        String::from_utf8_lossy(reader.leftover())
    );
    let stream = &mut reader.stream;
    stream
        .set_read_timeout(Some(Duration::from_millis(300)))
        .unwrap();
    let mut byte = [0u8; 64];
    match stream.read(&mut byte) {
        Err(e) if matches!(e.kind(), ErrorKind::WouldBlock | ErrorKind::TimedOut) => {}
        Ok(0) => panic!("the server closed a persistent connection"),
        Ok(n) => panic!(
            "unexpected extra bytes: {:?}",
            String::from_utf8_lossy(&byte[..n])
        ),
        Err(e) => panic!("unexpected error: {e}"),
    }
    stream.set_read_timeout(Some(common::IO_TIMEOUT)).unwrap();
}

/// The server closes cleanly (FIN, not a reset) with nothing more to say.
fn assert_closed_cleanly(reader: &mut Reader) {
    let rest = reader
        .read_to_close()
        .expect("the server should close with a FIN, not a reset");
    assert!(
        rest.is_empty(),
        "unexpected bytes before the close: {:?}",
        String::from_utf8_lossy(&rest)
    );
}

/// `head` without its `Date` line.
fn without_date(head: &str) -> String {
    head.split("\r\n")
        .filter(|line| !line.starts_with("Date: "))
        .collect::<Vec<_>>()
        .join("\r\n")
}

mod persistence {
    use super::*;

    #[test]
    fn http11_keeps_the_connection_open_for_a_second_request() {
        let (_server, mut reader) = client();
        for _ in 0..2 {
            reader.send(GET);
            let response = reader.response(false);
            assert_hello(&response);
            assert_eq!(response.header("Connection"), None, "{}", response.head);
        }
        assert_quiet(&mut reader);
    }

    #[test]
    fn http10_without_keep_alive_gets_connection_close_then_eof() {
        let (_server, mut reader) = client();
        reader.send(b"GET / HTTP/1.0\r\n\r\n");
        let response = reader.response(false);
        assert_hello(&response);
        assert_eq!(response.header("Connection"), Some("close"));
        assert_closed_cleanly(&mut reader);
    }

    #[test]
    fn http10_with_keep_alive_is_kept_alive_and_says_so() {
        let (_server, mut reader) = client();
        for _ in 0..2 {
            reader.send(b"GET / HTTP/1.0\r\nConnection: keep-alive\r\n\r\n");
            let response = reader.response(false);
            assert_hello(&response);
            assert_eq!(response.header("Connection"), Some("keep-alive"));
        }
        assert_quiet(&mut reader);
    }

    #[test]
    fn http10_keep_alive_then_http10_plain_closes_after_the_second() {
        let (_server, mut reader) = client();
        reader.send(b"GET / HTTP/1.0\r\nConnection: keep-alive\r\n\r\n");
        let first = reader.response(false);
        assert_eq!(first.header("Connection"), Some("keep-alive"));
        reader.send(b"GET / HTTP/1.0\r\n\r\n");
        let second = reader.response(false);
        assert_hello(&second);
        assert_eq!(second.header("Connection"), Some("close"));
        assert_closed_cleanly(&mut reader);
    }

    #[test]
    fn http11_connection_close_is_honoured_then_eof() {
        let (_server, mut reader) = client();
        reader.send(b"GET / HTTP/1.1\r\nHost: t\r\nConnection: close\r\n\r\n");
        let response = reader.response(false);
        assert_hello(&response);
        assert_eq!(response.header("Connection"), Some("close"));
        assert_closed_cleanly(&mut reader);
    }

    #[test]
    fn a_request_pipelined_after_connection_close_is_not_answered() {
        let (_server, mut reader) = client();
        let mut bytes = b"GET / HTTP/1.1\r\nHost: t\r\nConnection: close\r\n\r\n".to_vec();
        bytes.extend_from_slice(GET);
        bytes.extend_from_slice(GET);
        reader.send(&bytes);
        let response = reader.response(false);
        assert_hello(&response);
        assert_eq!(response.header("Connection"), Some("close"));
        // Exactly one response, then a clean close (the server drains what follows
        // instead of resetting the connection under the client).
        assert_closed_cleanly(&mut reader);
    }

    #[test]
    fn input_still_arriving_after_connection_close_does_not_reset_the_response() {
        // RFC 9112 §9.6: closing with unread input would send a reset that can
        // destroy the response before the client reads it; the server must shut its
        // write side and drain instead.
        let (_server, mut reader) = client();
        let mut writer = reader.stream.try_clone().unwrap();
        let writing = std::thread::spawn(move || {
            // The first write holds the close and more (as a pipelining client
            // would send it); more keeps coming while the response goes out.
            let mut first = b"GET / HTTP/1.1\r\nHost: t\r\nConnection: close\r\n\r\n".to_vec();
            first.extend_from_slice(&GET.repeat(64));
            writer.write_all(&first)?;
            for _ in 0..512 {
                writer.write_all(&GET.repeat(64))?;
            }
            writer.shutdown(std::net::Shutdown::Write)
        });
        let response = reader.response(false);
        assert_hello(&response);
        assert_eq!(response.header("Connection"), Some("close"));
        assert_closed_cleanly(&mut reader);
        writing
            .join()
            .unwrap()
            .expect("the server stopped reading the client's input before its EOF");
    }

    #[test]
    fn connection_close_token_is_found_in_a_list_and_case_insensitively() {
        let (_server, mut reader) = client();
        reader.send(b"GET / HTTP/1.1\r\nHost: t\r\nconnection: Upgrade, CLOSE\r\n\r\n");
        let response = reader.response(false);
        assert_hello(&response);
        assert_eq!(response.header("Connection"), Some("close"));
        assert_closed_cleanly(&mut reader);
    }
}

mod headers {
    use super::*;

    #[test]
    fn the_response_carries_exactly_the_documented_headers() {
        let (_server, mut reader) = client();
        reader.send(GET);
        let response = reader.response(false);
        assert_hello(&response);
        assert!(
            response.head.starts_with("HTTP/1.1 200 OK\r\n"),
            "{}",
            response.head
        );
        assert_eq!(response.header("Server"), Some("hello-reactor"));
        assert_eq!(
            response.header("Content-Type"),
            Some("text/plain; charset=utf-8")
        );
        assert_eq!(response.header("Content-Length"), Some("13"));
        assert_eq!(response.header("Connection"), None);
        assert_eq!(response.header("Transfer-Encoding"), None);
        let names: Vec<&str> = response.headers.iter().map(|(n, _)| n.as_str()).collect();
        assert_eq!(
            names,
            ["Server", "Date", "Content-Type", "Content-Length"],
            "{}",
            response.head
        );
    }

    #[test]
    fn date_is_an_imf_fixdate_close_to_now() {
        let (_server, mut reader) = client();
        reader.send(GET);
        let response = reader.response(false);
        let date = response.header("Date").expect("a Date header");
        let when = httpdate::parse_http_date(date)
            .unwrap_or_else(|e| panic!("Date {date:?} does not parse: {e}"));
        // The obsolete RFC 850 and asctime forms also parse; IMF-fixdate is the one
        // that formats back to itself.
        assert_eq!(httpdate::fmt_http_date(when), date, "not an IMF-fixdate");
        assert!(date.ends_with(" GMT"), "{date}");
        let now = SystemTime::now();
        let skew = now.duration_since(when).unwrap_or_else(|e| e.duration());
        assert!(
            skew < Duration::from_secs(5),
            "Date {date:?} is {skew:?} off"
        );
    }

    #[test]
    fn date_is_not_frozen() {
        let (_server, mut reader) = client();
        reader.send(GET);
        let first = reader.response(false);
        std::thread::sleep(Duration::from_millis(1100));
        reader.send(GET);
        let second = reader.response(false);
        let (a, b) = (
            first.header("Date").unwrap(),
            second.header("Date").unwrap(),
        );
        assert_ne!(a, b, "two responses 1.1 s apart carry the same Date");
        assert!(
            httpdate::parse_http_date(b).unwrap() > httpdate::parse_http_date(a).unwrap(),
            "{a} then {b}"
        );
    }
}

mod head_method {
    use super::*;

    #[test]
    fn head_has_the_get_headers_and_no_body() {
        let (_server, mut reader) = client();
        let mut bytes = b"HEAD / HTTP/1.1\r\nHost: t\r\n\r\n".to_vec();
        bytes.extend_from_slice(GET);
        reader.send(&bytes);
        let head = reader.response(true);
        // Had the HEAD response carried a body, the GET's status line would not
        // start right after its head and this read would fail.
        let get = reader.response(false);
        assert_eq!(head.status, 200);
        assert_eq!(head.header("Content-Length"), Some("13"));
        assert!(head.body.is_empty());
        assert_hello(&get);
        assert_eq!(without_date(&head.head), without_date(&get.head));
        assert_quiet(&mut reader);
    }

    #[test]
    fn head_with_connection_close_closes_without_a_body() {
        let (_server, mut reader) = client();
        reader.send(b"HEAD / HTTP/1.1\r\nHost: t\r\nConnection: close\r\n\r\n");
        let head = reader.response(true);
        assert_eq!(head.status, 200);
        assert_eq!(head.header("Content-Length"), Some("13"));
        assert_eq!(head.header("Connection"), Some("close"));
        assert_closed_cleanly(&mut reader);
    }
}

mod bodies {
    use super::*;

    /// Send `body_request` followed by a `HEAD` with `Connection: close`, and check
    /// that exactly two responses come back: the first for the request with the
    /// body, the second for the HEAD, then a clean close.
    fn answered_once_then_next(body_request: &[u8]) {
        let (_server, mut reader) = client();
        let mut bytes = body_request.to_vec();
        bytes.extend_from_slice(b"HEAD /next HTTP/1.1\r\nHost: t\r\nConnection: close\r\n\r\n");
        reader.send(&bytes);
        let first = reader.response(false);
        assert_hello(&first);
        assert_eq!(first.header("Connection"), None, "{}", first.head);
        let second = reader.response(true);
        assert_eq!(second.status, 200);
        assert_eq!(
            second.header("Connection"),
            Some("close"),
            "the second response is not the HEAD's: {}",
            second.head
        );
        assert_closed_cleanly(&mut reader);
    }

    #[test]
    fn a_content_length_body_is_skipped_and_the_next_request_answered() {
        answered_once_then_next(
            b"POST /form HTTP/1.1\r\nHost: t\r\nContent-Length: 11\r\n\r\nhello world",
        );
    }

    #[test]
    fn a_body_that_looks_like_a_request_is_not_answered() {
        let inner = "GET /smuggled HTTP/1.1\r\nHost: t\r\n\r\n";
        let request = format!(
            "POST / HTTP/1.1\r\nHost: t\r\nContent-Length: {}\r\n\r\n{inner}",
            inner.len()
        );
        answered_once_then_next(request.as_bytes());
    }

    #[test]
    fn a_chunked_body_with_extensions_and_trailers_is_skipped() {
        answered_once_then_next(
            b"POST /upload HTTP/1.1\r\nHost: t\r\nTransfer-Encoding: chunked\r\n\r\n\
              5;name=value\r\nhello\r\n\
              6;a=b;c=\"quoted\"\r\n world\r\n\
              A\r\n0123456789\r\n\
              0;last=yes\r\nTrailer-One: 1\r\nTrailer-Two: two\r\n\r\n",
        );
    }

    #[test]
    fn a_chunked_body_that_looks_like_a_request_is_not_answered() {
        let inner = "GET /smuggled HTTP/1.1\r\nHost: t\r\n\r\n";
        let request = format!(
            "POST / HTTP/1.1\r\nHost: t\r\nTransfer-Encoding: chunked\r\n\r\n{:x}\r\n{inner}\r\n0\r\n\r\n",
            inner.len()
        );
        answered_once_then_next(request.as_bytes());
    }

    #[test]
    fn a_body_sent_after_the_head_is_waited_for() {
        let (_server, mut reader) = client();
        reader.send(b"POST / HTTP/1.1\r\nHost: t\r\nContent-Length: 10\r\n\r\n01234");
        // Half the body: no answer yet.
        assert_quiet(&mut reader);
        reader.send(b"56789");
        assert_hello(&reader.response(false));
        reader.send(GET);
        assert_hello(&reader.response(false));
        assert_quiet(&mut reader);
    }
}

mod expect_continue {
    use super::*;

    #[test]
    fn continue_comes_before_the_body_is_sent_and_200_after() {
        let (_server, mut reader) = client();
        reader.send(
            b"POST / HTTP/1.1\r\nHost: t\r\nContent-Length: 5\r\nExpect: 100-continue\r\n\r\n",
        );
        let interim = reader.response(false);
        assert_eq!(interim.status, 100, "{}", interim.head);
        assert_eq!(interim.head, "HTTP/1.1 100 Continue\r\n\r\n");
        reader.send(b"hello");
        let response = reader.response(false);
        assert_hello(&response);
        assert_quiet(&mut reader);
    }

    #[test]
    fn a_chunked_body_gets_continue_too_and_the_token_is_case_insensitive() {
        let (_server, mut reader) = client();
        reader.send(
            b"PUT / HTTP/1.1\r\nHost: t\r\nTransfer-Encoding: chunked\r\nExpect: 100-Continue\r\n\r\n",
        );
        let interim = reader.response(false);
        assert_eq!(interim.status, 100, "{}", interim.head);
        reader.send(b"3\r\nabc\r\n0\r\n\r\n");
        assert_hello(&reader.response(false));
        assert_quiet(&mut reader);
    }

    #[test]
    fn an_http10_expectation_is_ignored() {
        // RFC 9110 §10.1.1: a 100-continue expectation in an HTTP/1.0 request MUST
        // be ignored.
        let (_server, mut reader) = client();
        reader.send(
            b"POST / HTTP/1.0\r\nConnection: keep-alive\r\nContent-Length: 5\r\nExpect: 100-continue\r\n\r\n",
        );
        assert_quiet(&mut reader);
        reader.send(b"hello");
        let response = reader.response(false);
        assert_hello(&response);
        assert_eq!(response.header("Connection"), Some("keep-alive"));
    }
}

mod methods_and_targets {
    use super::*;

    #[test]
    fn any_method_and_target_gets_200() {
        let (_server, mut reader) = client();
        let long_path = format!("/{}", "segment/".repeat(500));
        let requests = [
            "OPTIONS * HTTP/1.1\r\nHost: t\r\n\r\n".to_string(),
            "BREW /pot HTTP/1.1\r\nHost: t\r\n\r\n".to_string(),
            "POST /submit HTTP/1.1\r\nHost: t\r\nContent-Length: 0\r\n\r\n".to_string(),
            "DELETE /thing/42 HTTP/1.1\r\nHost: t\r\n\r\n".to_string(),
            "PUT /x HTTP/1.1\r\nHost: t\r\nContent-Length: 3\r\n\r\nabc".to_string(),
            "PATCH /x HTTP/1.1\r\nHost: t\r\nContent-Length: 1\r\n\r\n!".to_string(),
            "GET /search?q=hello+world&lang=en&empty=&x=%20%2F HTTP/1.1\r\nHost: t\r\n\r\n"
                .to_string(),
            format!("GET {long_path} HTTP/1.1\r\nHost: t\r\n\r\n"),
            "GET http://example.com/absolute?form=1 HTTP/1.1\r\nHost: example.com\r\n\r\n"
                .to_string(),
        ];
        // One at a time, so a failure names the request.
        for request in &requests {
            reader.send(request.as_bytes());
            let response = reader.response(false);
            assert_eq!(response.status, 200, "{request:?} got {}", response.head);
            assert_eq!(response.body_text(), HELLO, "{request:?}");
        }
        assert_quiet(&mut reader);
    }
}

mod custom_response {
    use super::*;

    #[test]
    fn configured_body_and_content_type_are_served() {
        let body: Vec<u8> = b"<h1>custom</h1>\n\x00\xff binary too".to_vec();
        let served = body.clone();
        let server = start(move |config| {
            config.body = served;
            config.content_type = "text/html; charset=latin1".to_string();
        });
        let mut reader = Reader::new(connect(server.addr()));
        let mut bytes = GET.to_vec();
        bytes.extend_from_slice(b"HEAD / HTTP/1.1\r\nHost: t\r\n\r\n");
        reader.send(&bytes);
        let get = reader.response(false);
        let head = reader.response(true);
        for response in [&get, &head] {
            assert_eq!(response.status, 200);
            assert_eq!(
                response.header("Content-Type"),
                Some("text/html; charset=latin1")
            );
            assert_eq!(
                response.header("Content-Length"),
                Some(body.len().to_string().as_str())
            );
        }
        assert_eq!(get.body, body);
        assert!(head.body.is_empty());
        assert_quiet(&mut reader);
    }

    #[test]
    fn an_empty_body_has_content_length_zero() {
        let server = start(|config| config.body = Vec::new());
        let mut reader = Reader::new(connect(server.addr()));
        reader.send(GET);
        let response = reader.response(false);
        assert_eq!(response.status, 200);
        assert_eq!(response.header("Content-Length"), Some("0"));
        reader.send(GET);
        assert_eq!(reader.response(false).status, 200);
        assert_quiet(&mut reader);
    }
}

mod fragmented_input {
    use super::*;

    #[test]
    fn a_request_written_one_byte_at_a_time_is_answered_once() {
        let (_server, mut reader) = client();
        let request = b"GET /slow HTTP/1.1\r\nHost: t\r\nAccept: */*\r\n\r\n";
        for byte in request {
            reader.send(std::slice::from_ref(byte));
            std::thread::sleep(Duration::from_millis(2));
        }
        assert_hello(&reader.response(false));
        assert_quiet(&mut reader);
        // The connection is still in a clean state for the next request.
        reader.send(GET);
        assert_hello(&reader.response(false));
        assert_quiet(&mut reader);
    }

    #[test]
    fn a_body_and_the_next_head_written_one_byte_at_a_time() {
        let (_server, mut reader) = client();
        let request =
            b"POST / HTTP/1.1\r\nHost: t\r\nTransfer-Encoding: chunked\r\n\r\n3;x\r\nabc\r\n0\r\n\r\nGET / HTTP/1.1\r\nHost: t\r\n\r\n";
        for byte in request {
            reader.send(std::slice::from_ref(byte));
            std::thread::sleep(Duration::from_millis(1));
        }
        assert_hello(&reader.response(false));
        assert_hello(&reader.response(false));
        assert_quiet(&mut reader);
    }
}
