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
//! HTTP/1.1 200 OK\r\n                           <- --status, with its standard phrase
//! Server: hello-reactor\r\n
//! Date: Mon, 23 Nov 2026 19:03:05 GMT\r\n     <- patched once a second
//! Content-Type: text/plain; charset=utf-8\r\n <- not for 204, 205, 304
//! X-From-The-Command-Line: 1\r\n              <- each --header, in order
//! Connection: keep-alive\r\n                 <- only in the variants that need it
//! Content-Length: 13\r\n                     <- none for 204 and 304, 0 for 205
//! \r\n
//! Hello, World!                               <- not in HEAD variants, nor 204/205/304
//! ```
//!
//! Error answers are rendered the same way, one per [`Reject`] reason: its status,
//! `Content-Type: text/plain`, `Connection: close`, and a body of one line saying
//! why (`400 Bad Request: HTTP/1.1 request without a Host header`). `--status` and
//! `--header` do not touch them.
//!
//! What `--header` may add is decided here ([`check_header`]), so the command line
//! and a library `Config` are held to the same rule.

use std::time::{SystemTime, UNIX_EPOCH};

use log::warn;

use crate::protocol::framing::{Persistence, Reject, is_tchar};
use crate::protocol::pattern;
use crate::protocol::status::{Content, Status};

/// The `Date` value for `now` if `now` is in a later second than `*second`, which
/// then records it: one comparison per call, one rendering per second. HTTP/1.1's
/// answers and HTTP/2's field block ([`H2Answer`](super::h2::answer::H2Answer))
/// both patch it in place.
pub(crate) fn date_if_new(second: &mut u64, now: SystemTime) -> Option<[u8; DATE_LEN]> {
    let now_second = now.duration_since(UNIX_EPOCH).map_or(0, |d| d.as_secs());
    if now_second == *second {
        return None;
    }
    *second = now_second;
    // httpdate renders years 0..=9999 as 29 bytes; outside that, keep the old date.
    <[u8; DATE_LEN]>::try_from(httpdate::fmt_http_date(now).as_bytes()).ok()
}

/// The interim response to `Expect: 100-continue`.
pub const CONTINUE: &[u8] = b"HTTP/1.1 100 Continue\r\n\r\n";

/// Length of an IMF-fixdate such as `Sun, 06 Nov 1994 08:49:37 GMT`.
pub(crate) const DATE_LEN: usize = 29;

/// One rendered response and where its `Date` value sits.
#[derive(Debug, Clone)]
struct Rendered {
    bytes: Vec<u8>,
    date_at: usize,
}

impl Rendered {
    /// `content_length`: `None` for a status that has none (204, 304); `body`:
    /// the bytes sent after the head (empty for HEAD and body-less statuses).
    fn new(
        status: Status,
        headers: &[(&str, &str)],
        content_length: Option<u64>,
        body: &[u8],
    ) -> Rendered {
        let mut bytes = Vec::with_capacity(160 + body.len());
        bytes.extend_from_slice(format!("HTTP/1.1 {status}\r\n").as_bytes());
        bytes.extend_from_slice(b"Server: hello-reactor\r\nDate: ");
        let date_at = bytes.len();
        bytes.extend_from_slice(&[b' '; DATE_LEN]);
        bytes.extend_from_slice(b"\r\n");
        for (name, value) in headers {
            bytes.extend_from_slice(format!("{name}: {value}\r\n").as_bytes());
        }
        if let Some(length) = content_length {
            bytes.extend_from_slice(format!("Content-Length: {length}\r\n").as_bytes());
        }
        bytes.extend_from_slice(b"\r\n");
        bytes.extend_from_slice(body);
        Rendered { bytes, date_at }
    }

    fn set_date(&mut self, date: &[u8; DATE_LEN]) {
        self.bytes[self.date_at..self.date_at + DATE_LEN].copy_from_slice(date);
    }
}

/// What every request is answered with: `--status`, `--content-type`,
/// `--header` and the body.
#[derive(Debug, Clone, Copy)]
pub struct Answer<'a> {
    /// The status (default `200 OK`).
    pub status: Status,
    /// The `Content-Type` (sent only with content).
    pub content_type: &'a str,
    /// Extra header fields, in order. Pairs [`check_header`] refuses are left out.
    pub headers: &'a [(String, String)],
    /// The body (not sent for HEAD, nor for 204, 205 and 304).
    pub body: &'a [u8],
    /// `--body-size` above what is rendered: instead of `body`, this many bytes of
    /// the pattern, written by the driver from a shared block (see [`pattern`]).
    pub streamed: Option<u64>,
}

impl Answer<'static> {
    /// The server's default answer: `200 OK`, `text/plain; charset=utf-8`,
    /// `Hello, World!`, no extra headers.
    pub const DEFAULT: Answer<'static> = Answer {
        status: Status::OK,
        content_type: "text/plain; charset=utf-8",
        headers: &[],
        body: b"Hello, World!",
        streamed: None,
    };
}

/// The body of the injected failure (`--fail-rate`): it says it is one.
pub(crate) fn failure_body(status: Status) -> String {
    format!("{status}: injected by hello-reactor --fail-rate, not a real failure\r\n")
}

impl<'a> Answer<'a> {
    /// The injected failure (`--fail-rate`): `status`, and `body` from
    /// [`failure_body`]; HTTP/1.1 and HTTP/2 render the same one.
    pub(crate) fn failure(status: Status, body: &'a str) -> Answer<'a> {
        Answer {
            status,
            content_type: "text/plain; charset=utf-8",
            headers: &[],
            body: body.as_bytes(),
            streamed: None,
        }
    }

    /// Every variant, in the order of [`ok_index`].
    fn variants(&self) -> [Rendered; 6] {
        [
            self.render(None, false),
            self.render(None, true),
            self.render(Some("keep-alive"), false),
            self.render(Some("keep-alive"), true),
            self.render(Some("close"), false),
            self.render(Some("close"), true),
        ]
    }

    /// One variant of the answer: `connection` is the `Connection` value, if any.
    fn render(&self, connection: Option<&str>, headers_only: bool) -> Rendered {
        let content = self.status.content();
        let mut headers = Vec::with_capacity(self.headers.len() + 2);
        if content == Content::Body {
            headers.push(("Content-Type", self.content_type));
        }
        for (name, value) in self.headers {
            match check_header(name, value) {
                Ok(()) => headers.push((name.as_str(), value.as_str())),
                Err(e) => warn!("header left out of the answer: {e}"),
            }
        }
        headers.extend(connection.map(|value| ("Connection", value)));
        let (length, body) = match content {
            Content::None => (None, &[][..]),
            Content::Empty => (Some(0), &[][..]),
            Content::Body => match self.streamed {
                Some(len) => (Some(len), &[][..]), // the driver writes the body
                None if headers_only => (Some(self.body.len() as u64), &[][..]),
                None => (Some(self.body.len() as u64), self.body),
            },
        };
        Rendered::new(self.status, &headers, length, body)
    }
}

/// Header fields the server writes itself, which `--header` may not add: a
/// second `Content-Length`, `Transfer-Encoding` or `Connection` would change
/// the framing or persistence a client reads (and could split the answer in
/// two); `Date`, `Server` and `Content-Type` would appear twice.
const OWN_HEADERS: [&str; 6] = [
    "Content-Length",
    "Transfer-Encoding",
    "Connection",
    "Date",
    "Server",
    "Content-Type",
];

/// Whether `name: value` may be added to the answer: the name a token
/// (RFC 9110 §5.1), not one of the fields the server owns, and the value a
/// field value ([`check_field_value`]).
pub fn check_header(name: &str, value: &str) -> Result<(), String> {
    if name.is_empty() || !name.bytes().all(is_tchar) {
        return Err(format!(
            "`{}` is not a header field name (a token: letters, digits, !#$%&'*+-.^_`|~)",
            name.escape_debug()
        ));
    }
    if let Some(own) = OWN_HEADERS.iter().find(|h| h.eq_ignore_ascii_case(name)) {
        let hint = match *own {
            "Content-Type" => "; use --content-type",
            _ => "",
        };
        return Err(format!("{own} is written by the server itself{hint}"));
    }
    check_field_value(value)
}

/// A field value (RFC 9110 §5.5): visible ASCII, obs-text, and spaces or tabs
/// between them. CR, LF, NUL and other controls are refused: in a response
/// they would end the header early or split it (response splitting), so a
/// value from the command line is held to what the server demands of a
/// client's.
pub fn check_field_value(value: &str) -> Result<(), String> {
    let bytes = value.as_bytes();
    if let Some(&b) = bytes
        .iter()
        .find(|&&b| !(b == b'\t' || b == b' ' || (b >= 0x21 && b != 0x7f)))
    {
        return Err(format!(
            "`{}` holds the control character {b:#04x}, which a header field value cannot",
            value.escape_debug()
        ));
    }
    if matches!(bytes.first(), Some(b' ' | b'\t')) || matches!(bytes.last(), Some(b' ' | b'\t')) {
        return Err(format!(
            "`{value}` starts or ends with whitespace, which a header field value cannot"
        ));
    }
    Ok(())
}

/// All responses, rendered ahead of time.
#[derive(Debug, Clone)]
pub struct Responses {
    /// Indexed by [`ok_index`]: persistence × (GET, HEAD).
    ok: [Rendered; 6],
    /// Their status.
    ok_status: Status,
    /// One per reason, indexed by `reject as usize` (the order of [`Reject::ALL`]).
    errors: [Rendered; Reject::ALL.len()],
    /// The injected failure (`--fail-rate`), indexed like `ok`, and its status;
    /// rendered only when failures are injected.
    fail: Option<(Box<[Rendered; 6]>, Status)>,
    /// The Unix second the current `Date` was rendered for.
    date_second: u64,
    /// Bytes of the pattern that follow the head of a `GET` answer (`--body-size`
    /// streamed; 0 otherwise), and the shared block they are written from.
    streamed: u64,
    block: Box<[u8]>,
}

fn ok_index(persistence: Persistence, headers_only: bool) -> usize {
    let p = match persistence {
        Persistence::KeepAlive => 0,
        Persistence::KeepAliveExplicit => 1,
        Persistence::Close => 2,
    };
    p * 2 + usize::from(headers_only)
}

impl Responses {
    /// Render every variant of `answer` and every error answer, dated `now` (the
    /// caller reads the clock: the protocol core never does).
    pub fn for_answer(answer: &Answer<'_>, now: SystemTime) -> Responses {
        let error = |reject: Reject| {
            let text = format!("{reject}\r\n");
            let headers = [
                ("Content-Type", "text/plain; charset=utf-8"),
                ("Connection", "close"),
            ];
            let len = Some(text.len() as u64);
            Rendered::new(reject.status(), &headers, len, text.as_bytes())
        };
        let mut responses = Responses {
            ok: answer.variants(),
            ok_status: answer.status,
            errors: Reject::ALL.map(error),
            fail: None,
            date_second: 0,
            streamed: match answer.status.content() {
                Content::Body => answer.streamed.unwrap_or(0),
                Content::None | Content::Empty => 0,
            },
            block: match answer.streamed {
                Some(_) => pattern::block(),
                None => Box::default(),
            },
        };
        responses.refresh_date(now);
        responses
    }

    /// Re-render `Date` if `now` is in a later second than the current one.
    /// Returns whether anything changed.
    pub fn refresh_date(&mut self, now: SystemTime) -> bool {
        let Some(date) = date_if_new(&mut self.date_second, now) else {
            return false;
        };
        let fail = self.fail.iter_mut().flat_map(|(f, _)| f.iter_mut());
        for rendered in self.ok.iter_mut().chain(self.errors.iter_mut()).chain(fail) {
            rendered.set_date(&date);
        }
        true
    }

    /// The answer to a request.
    pub fn ok(&self, persistence: Persistence, headers_only: bool) -> &[u8] {
        &self.ok[ok_index(persistence, headers_only)].bytes
    }

    /// Render the injected failure (`--fail-rate`): `status`, a body saying it was
    /// injected, and the persistence of the answer it replaces (an injected
    /// failure does not close the connection).
    pub fn add_failure(&mut self, status: Status, now: SystemTime) {
        let body = failure_body(status);
        let answer = Answer::failure(status, &body);
        self.fail = Some((Box::new(answer.variants()), status));
        self.date_second = 0;
        self.refresh_date(now);
    }

    /// The injected failure in place of [`Responses::ok`], and its status; `None`
    /// unless [`Responses::add_failure`] rendered it.
    pub fn fail(&self, persistence: Persistence, headers_only: bool) -> Option<(&[u8], Status)> {
        let (variants, status) = self.fail.as_ref()?;
        Some((
            &variants[ok_index(persistence, headers_only)].bytes,
            *status,
        ))
    }

    /// Bytes of body the driver writes after [`Responses::ok`]'s head: a streamed
    /// `--body-size` for a `GET`, else 0.
    pub fn streamed(&self, headers_only: bool) -> u64 {
        if headers_only { 0 } else { self.streamed }
    }

    /// The shared block a streamed body is written from (empty without one).
    pub fn block(&self) -> &[u8] {
        &self.block
    }

    /// The status of the answer [`Responses::ok`] gives, for the stats.
    pub fn ok_status(&self) -> Status {
        self.ok_status
    }

    /// The answer to a refused request, or to one that timed out
    /// ([`Reject::RequestTimeout`]); it always says `Connection: close`.
    pub fn error(&self, reject: Reject) -> &[u8] {
        &self.errors[reject as usize].bytes
    }
}

#[cfg(test)]
mod tests;
