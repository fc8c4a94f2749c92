//! The rendered answers, byte for byte.
use super::*;
use std::time::Duration;

fn text(bytes: &[u8]) -> &str {
    std::str::from_utf8(bytes).unwrap()
}

/// The default answer (`200 OK`, no extra header) with this body and type.
fn plain(body: &[u8], content_type: &str) -> Responses {
    Responses::for_answer(
        &Answer {
            status: Status::OK,
            content_type,
            headers: &[],
            body,
            streamed: None,
        },
        SystemTime::now(),
    )
}

#[test]
fn keep_alive_get_has_no_connection_header_and_the_body() {
    let r = plain(b"Hello, World!", "text/plain; charset=utf-8");
    let got = text(r.ok(Persistence::KeepAlive, false));
    assert!(got.starts_with("HTTP/1.1 200 OK\r\nServer: hello-reactor\r\nDate: "));
    assert!(got.contains("\r\nContent-Type: text/plain; charset=utf-8\r\n"));
    assert!(got.ends_with("Content-Length: 13\r\n\r\nHello, World!"));
    assert!(!got.contains("Connection"));
}

#[test]
fn head_has_the_get_headers_and_no_body() {
    let r = plain(b"Hello, World!", "text/plain");
    for p in [
        Persistence::KeepAlive,
        Persistence::KeepAliveExplicit,
        Persistence::Close,
    ] {
        let get = text(r.ok(p, false));
        let head = text(r.ok(p, true));
        assert_eq!(format!("{head}Hello, World!"), get);
    }
}

#[test]
fn connection_header_follows_persistence() {
    let r = plain(b"x", "text/plain");
    assert!(
        text(r.ok(Persistence::KeepAliveExplicit, false))
            .contains("\r\nConnection: keep-alive\r\n")
    );
    assert!(text(r.ok(Persistence::Close, false)).contains("\r\nConnection: close\r\n"));
}

#[test]
fn errors_are_complete_and_close() {
    let r = plain(b"x", "text/plain");
    let got = text(r.error(Reject::MissingHost));
    assert!(got.starts_with("HTTP/1.1 400 Bad Request\r\n"));
    assert!(got.contains("\r\nConnection: close\r\n"));
    let body = "400 Bad Request: HTTP/1.1 request without a Host header\r\n";
    assert!(got.ends_with(&format!("Content-Length: {}\r\n\r\n{body}", body.len())));
    assert!(text(r.error(Reject::RequestTimeout)).starts_with("HTTP/1.1 408 Request Timeout\r\n"));
}

/// Every reason has its own answer: its status line, and a body that is the
/// one line saying why, short enough to read in a terminal.
#[test]
fn each_reason_is_answered_with_its_line() {
    let r = plain(b"x", "text/plain");
    for reject in Reject::ALL {
        let got = text(r.error(reject));
        let status = reject.status();
        assert!(got.starts_with(&format!("HTTP/1.1 {status}\r\n")), "{got}");
        let (head, body) = got.split_once("\r\n\r\n").unwrap();
        assert_eq!(body, format!("{status}: {}\r\n", reject.reason()));
        assert_eq!(body.trim_end(), reject.to_string());
        assert!(body.len() < 100, "{body:?}");
        assert!(head.contains(&format!("\r\nContent-Length: {}", body.len())));
        assert!(head.contains("\r\nConnection: close"));
    }
}

/// `--status` and `--header`: every variant has the status line and the
/// headers; 204 and 304 have no body and no Content-Length, 205 says
/// `Content-Length: 0`; error answers keep their own status and no extra header.
#[test]
fn the_status_and_headers_are_configurable() {
    let headers = vec![
        ("X-A".to_string(), "1".to_string()),
        ("Cache-Control".to_string(), "no-store".to_string()),
    ];
    #[rustfmt::skip]
    let table = [
        (200, Some(13), true),
        (201, Some(13), true),
        (299, Some(13), true),
        (404, Some(13), true),
        (503, Some(13), true),
        (204, None, false),
        (304, None, false),
        (205, Some(0), false),
    ];
    for (code, length, has_body) in table {
        let status = Status::new(code).unwrap();
        let r = Responses::for_answer(
            &Answer {
                status,
                content_type: "text/plain",
                headers: &headers,
                body: b"Hello, World!",
                streamed: None,
            },
            SystemTime::now(),
        );
        assert_eq!(r.ok_status(), status);
        for p in [
            Persistence::KeepAlive,
            Persistence::KeepAliveExplicit,
            Persistence::Close,
        ] {
            for headers_only in [false, true] {
                let got = text(r.ok(p, headers_only));
                let (head, body) = got.split_once("\r\n\r\n").unwrap();
                assert!(head.starts_with(&format!("HTTP/1.1 {status}\r\n")), "{got}");
                assert!(
                    head.contains("\r\nX-A: 1\r\nCache-Control: no-store"),
                    "{got}"
                );
                match length {
                    Some(n) => assert!(head.contains(&format!("\r\nContent-Length: {n}"))),
                    None => assert!(!head.contains("Content-Length"), "{got}"),
                }
                assert_eq!(head.contains("Content-Type: text/plain"), has_body, "{got}");
                let expected = if has_body && !headers_only {
                    "Hello, World!"
                } else {
                    ""
                };
                assert_eq!(body, expected, "{code} {p:?} head={headers_only}");
            }
        }
        let error = text(r.error(Reject::MissingHost));
        assert!(error.starts_with("HTTP/1.1 400 Bad Request\r\n"));
        assert!(!error.contains("X-A"), "{error}");
    }
}

/// A library user's `Config` is not checked by the CLI: a header that could
/// split the answer is left out rather than rendered.
#[test]
fn headers_that_fail_the_check_are_left_out() {
    let headers = vec![
        ("X-Ok".to_string(), "1".to_string()),
        ("X-Bad".to_string(), "a\r\nSet-Cookie: x".to_string()),
        ("Content-Length".to_string(), "0".to_string()),
        ("Bad Name".to_string(), "x".to_string()),
    ];
    let r = Responses::for_answer(
        &Answer {
            status: Status::OK,
            content_type: "text/plain",
            headers: &headers,
            body: b"x",
            streamed: None,
        },
        SystemTime::now(),
    );
    let got = text(r.ok(Persistence::KeepAlive, false));
    assert!(got.contains("\r\nX-Ok: 1\r\n"), "{got}");
    assert!(!got.contains("X-Bad") && !got.contains("Set-Cookie") && !got.contains("Bad Name"));
    assert_eq!(got.matches("Content-Length").count(), 1, "{got}");
}

#[test]
fn date_is_patched_only_when_the_second_changes() {
    let mut r = plain(b"x", "text/plain");
    let t0 = UNIX_EPOCH + Duration::from_secs(784_111_777);
    assert!(r.refresh_date(t0));
    assert!(
        text(r.ok(Persistence::KeepAlive, false))
            .contains("Date: Sun, 06 Nov 1994 08:49:37 GMT\r\n")
    );
    assert!(!r.refresh_date(t0 + Duration::from_millis(999)));
    assert!(r.refresh_date(t0 + Duration::from_secs(1)));
    assert!(text(r.error(Reject::MissingHost)).contains("Date: Sun, 06 Nov 1994 08:49:38 GMT\r\n"));
}

#[test]
fn a_streamed_body_ends_the_answer_at_its_head() {
    let r = Responses::for_answer(
        &Answer {
            streamed: Some(100 << 20),
            ..Answer::DEFAULT
        },
        SystemTime::now(),
    );
    for headers_only in [false, true] {
        let got = text(r.ok(Persistence::KeepAlive, headers_only));
        assert!(got.ends_with("Content-Length: 104857600\r\n\r\n"), "{got}");
    }
    assert_eq!(r.streamed(false), 100 << 20);
    assert_eq!(r.streamed(true), 0, "HEAD: the length, not the body");
    assert_eq!(r.block().len(), crate::protocol::pattern::BLOCK_LEN);
    let none = plain(b"x", "text/plain");
    assert_eq!((none.streamed(false), none.block().len()), (0, 0));
}
