//! Every response the server can send, rendered once, with the `Date` patched in place.
//!
//! hello-reactor answers every request with the same bytes, so nothing is formatted
//! per request: each variant (keep-alive or close, `GET` or `HEAD`, each reason to refuse)
//! is rendered when the server starts, and answering a request is one copy of a
//! ready-made byte string into the connection's output batch.
//!
//! The only part that changes is `Date`, an IMF-fixdate with one-second resolution
//! (RFC 9110 §5.6.7). Its 29 bytes sit at a known offset in every variant, so
//! [`Responses::refresh_date`] rewrites them in place when the second ticks over.
//! The loop calls it once per turn; it costs one clock read when the second has not
//! changed.
//!
//! A response that has started to go out keeps the bytes it started with: the
//! connection copies what the socket did not take into its own buffer, so a later
//! refresh can never tear a half-sent `Date`.
//!
//! ```text
//! HTTP/1.1 200 OK\r\n
//! Server: hello-reactor\r\n
//! Date: Mon, 23 Nov 2026 19:03:05 GMT\r\n     <- patched once a second
//! Content-Type: text/plain; charset=utf-8\r\n
//! Content-Length: 13\r\n
//! Connection: keep-alive\r\n                 <- only in the variants that need it
//! \r\n
//! Hello, World!                               <- not in HEAD variants
//! ```

use std::time::{SystemTime, UNIX_EPOCH};

use crate::protocol::framing::{Persistence, Reject};
use crate::protocol::status::Status;

/// The interim response to `Expect: 100-continue`.
pub const CONTINUE: &[u8] = b"HTTP/1.1 100 Continue\r\n\r\n";

/// Length of an IMF-fixdate such as `Sun, 06 Nov 1994 08:49:37 GMT`.
const DATE_LEN: usize = 29;

/// One rendered response and where its `Date` value sits.
#[derive(Debug, Clone)]
struct Rendered {
    bytes: Vec<u8>,
    date_at: usize,
}

impl Rendered {
    fn new(status: Status, headers: &[(&str, &str)], body: &[u8], send_body: bool) -> Rendered {
        let mut bytes = Vec::with_capacity(160 + body.len());
        bytes.extend_from_slice(format!("HTTP/1.1 {status}\r\n").as_bytes());
        bytes.extend_from_slice(b"Server: hello-reactor\r\nDate: ");
        let date_at = bytes.len();
        bytes.extend_from_slice(&[b' '; DATE_LEN]);
        bytes.extend_from_slice(b"\r\n");
        for (name, value) in headers {
            bytes.extend_from_slice(format!("{name}: {value}\r\n").as_bytes());
        }
        bytes.extend_from_slice(format!("Content-Length: {}\r\n\r\n", body.len()).as_bytes());
        if send_body {
            bytes.extend_from_slice(body);
        }
        Rendered { bytes, date_at }
    }

    fn set_date(&mut self, date: &[u8; DATE_LEN]) {
        self.bytes[self.date_at..self.date_at + DATE_LEN].copy_from_slice(date);
    }
}

/// The reason a request that does not arrive in time is answered with.
pub const REQUEST_TIMEOUT: Reject = Reject::RequestTimeout;

/// All responses, rendered ahead of time.
#[derive(Debug, Clone)]
pub struct Responses {
    /// Indexed by [`ok_index`]: persistence × (GET, HEAD).
    ok: [Rendered; 6],
    /// One per reason, indexed by `reject as usize` (the order of [`Reject::ALL`]).
    errors: [Rendered; Reject::ALL.len()],
    /// The Unix second the current `Date` was rendered for.
    date_second: u64,
}

fn ok_index(persistence: Persistence, is_head: bool) -> usize {
    let p = match persistence {
        Persistence::KeepAlive => 0,
        Persistence::KeepAliveExplicit => 1,
        Persistence::Close => 2,
    };
    p * 2 + usize::from(is_head)
}

impl Responses {
    /// Render every variant for this body and content type, dated now.
    pub fn new(body: &[u8], content_type: &str) -> Responses {
        let ok = |connection: Option<&str>, send_body: bool| {
            let mut headers = vec![("Content-Type", content_type)];
            headers.extend(connection.map(|value| ("Connection", value)));
            Rendered::new(Status::OK, &headers, body, send_body)
        };
        let error = |reject: Reject| {
            let status = reject.status();
            let text = format!("{reject}\r\n");
            let headers = [
                ("Content-Type", "text/plain; charset=utf-8"),
                ("Connection", "close"),
            ];
            Rendered::new(status, &headers, text.as_bytes(), true)
        };
        let mut responses = Responses {
            ok: [
                ok(None, true),
                ok(None, false),
                ok(Some("keep-alive"), true),
                ok(Some("keep-alive"), false),
                ok(Some("close"), true),
                ok(Some("close"), false),
            ],
            errors: Reject::ALL.map(error),
            date_second: 0,
        };
        responses.refresh_date(SystemTime::now());
        responses
    }

    /// Re-render `Date` if `now` is in a later second than the current one.
    /// Returns whether anything changed.
    pub fn refresh_date(&mut self, now: SystemTime) -> bool {
        let second = now.duration_since(UNIX_EPOCH).map_or(0, |d| d.as_secs());
        if second == self.date_second {
            return false;
        }
        self.date_second = second;
        let text = httpdate::fmt_http_date(now);
        let Ok(date) = <[u8; DATE_LEN]>::try_from(text.as_bytes()) else {
            // httpdate renders years 0..=9999 as 29 bytes; outside that, keep the old date.
            return false;
        };
        for rendered in self.ok.iter_mut().chain(self.errors.iter_mut()) {
            rendered.set_date(&date);
        }
        true
    }

    /// The answer to a request.
    pub fn ok(&self, persistence: Persistence, is_head: bool) -> &[u8] {
        &self.ok[ok_index(persistence, is_head)].bytes
    }

    /// The status of the answer [`Responses::ok`] gives, for the stats.
    pub fn ok_status(&self) -> Status {
        Status::OK
    }

    /// The answer to a refused request, or to one that timed out
    /// ([`REQUEST_TIMEOUT`]); it always says `Connection: close`.
    pub fn error(&self, reject: Reject) -> &[u8] {
        &self.errors[reject as usize].bytes
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::Duration;

    fn text(bytes: &[u8]) -> &str {
        std::str::from_utf8(bytes).unwrap()
    }

    #[test]
    fn keep_alive_get_has_no_connection_header_and_the_body() {
        let r = Responses::new(b"Hello, World!", "text/plain; charset=utf-8");
        let got = text(r.ok(Persistence::KeepAlive, false));
        assert!(got.starts_with("HTTP/1.1 200 OK\r\nServer: hello-reactor\r\nDate: "));
        assert!(got.contains("\r\nContent-Type: text/plain; charset=utf-8\r\n"));
        assert!(got.ends_with("Content-Length: 13\r\n\r\nHello, World!"));
        assert!(!got.contains("Connection"));
    }

    #[test]
    fn head_has_the_get_headers_and_no_body() {
        let r = Responses::new(b"Hello, World!", "text/plain");
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
        let r = Responses::new(b"x", "text/plain");
        assert!(
            text(r.ok(Persistence::KeepAliveExplicit, false))
                .contains("\r\nConnection: keep-alive\r\n")
        );
        assert!(text(r.ok(Persistence::Close, false)).contains("\r\nConnection: close\r\n"));
    }

    #[test]
    fn errors_are_complete_and_close() {
        let r = Responses::new(b"x", "text/plain");
        let got = text(r.error(Reject::MissingHost));
        assert!(got.starts_with("HTTP/1.1 400 Bad Request\r\n"));
        assert!(got.contains("\r\nConnection: close\r\n"));
        let body = "400 Bad Request: HTTP/1.1 request without a Host header\r\n";
        assert!(got.ends_with(&format!("Content-Length: {}\r\n\r\n{body}", body.len())));
        assert!(text(r.error(REQUEST_TIMEOUT)).starts_with("HTTP/1.1 408 Request Timeout\r\n"));
    }

    /// Every reason has its own answer: its status line, and a body that is the
    /// one line saying why, short enough to read in a terminal.
    #[test]
    fn each_reason_is_answered_with_its_line() {
        let r = Responses::new(b"x", "text/plain");
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

    #[test]
    fn date_is_patched_only_when_the_second_changes() {
        let mut r = Responses::new(b"x", "text/plain");
        let t0 = UNIX_EPOCH + Duration::from_secs(784_111_777);
        assert!(r.refresh_date(t0));
        assert!(
            text(r.ok(Persistence::KeepAlive, false))
                .contains("Date: Sun, 06 Nov 1994 08:49:37 GMT\r\n")
        );
        assert!(!r.refresh_date(t0 + Duration::from_millis(999)));
        assert!(r.refresh_date(t0 + Duration::from_secs(1)));
        assert!(
            text(r.error(Reject::MissingHost)).contains("Date: Sun, 06 Nov 1994 08:49:38 GMT\r\n")
        );
    }
}
