//! One status type for every answer the server can give: the code, its standard
//! reason phrase, and whether a response with it may carry content.
//!
//! Framing decides *why* a request is refused ([`Reject`](crate::protocol::framing::Reject)),
//! [`Responses`](crate::protocol::response::Responses) renders the answers and
//! [`Stats`](crate::protocol::stats::Stats) counts them; all three speak of a
//! [`Status`], so a code and its phrase are written down once, here.
//!
//! A [`Status`] is always in `200..=599`: the server never sends a 1xx as a final
//! answer (`100 Continue` is a fixed interim line), and `--status` is checked
//! against this range before one is made. Codes without a registered phrase get
//! an empty one, which RFC 9112 §4 allows (`reason-phrase` is optional).

use std::fmt;

/// A final status code, `200..=599`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Status(u16);

impl Status {
    /// `200 OK`, the default answer.
    pub const OK: Status = Status(200);
    /// `400 Bad Request`.
    pub const BAD_REQUEST: Status = Status(400);
    /// `408 Request Timeout`.
    pub const REQUEST_TIMEOUT: Status = Status(408);
    /// `413 Content Too Large`.
    pub const CONTENT_TOO_LARGE: Status = Status(413);
    /// `414 URI Too Long`.
    pub const URI_TOO_LONG: Status = Status(414);
    /// `431 Request Header Fields Too Large`.
    pub const HEADER_FIELDS_TOO_LARGE: Status = Status(431);
    /// `501 Not Implemented`.
    pub const NOT_IMPLEMENTED: Status = Status(501);
    /// `503 Service Unavailable`, the default injected failure (`--fail-status`).
    pub const SERVICE_UNAVAILABLE: Status = Status(503);
    /// `505 HTTP Version Not Supported`.
    pub const VERSION_NOT_SUPPORTED: Status = Status(505);

    /// The lowest code a [`Status`] may have.
    pub const MIN: u16 = 200;
    /// The highest code a [`Status`] may have.
    pub const MAX: u16 = 599;

    /// `code` as a status, if it is a final status (`200..=599`).
    pub const fn new(code: u16) -> Option<Status> {
        if code >= Status::MIN && code <= Status::MAX {
            Some(Status(code))
        } else {
            None
        }
    }

    /// The three-digit code.
    pub const fn code(self) -> u16 {
        self.0
    }

    /// The standard reason phrase (RFC 9110 §15, RFC 6585, RFC 7725), or `""`
    /// for a code that has none.
    pub const fn reason(self) -> &'static str {
        match self.0 {
            200 => "OK",
            201 => "Created",
            202 => "Accepted",
            203 => "Non-Authoritative Information",
            204 => "No Content",
            205 => "Reset Content",
            206 => "Partial Content",
            300 => "Multiple Choices",
            301 => "Moved Permanently",
            302 => "Found",
            303 => "See Other",
            304 => "Not Modified",
            305 => "Use Proxy",
            307 => "Temporary Redirect",
            308 => "Permanent Redirect",
            400 => "Bad Request",
            401 => "Unauthorized",
            402 => "Payment Required",
            403 => "Forbidden",
            404 => "Not Found",
            405 => "Method Not Allowed",
            406 => "Not Acceptable",
            407 => "Proxy Authentication Required",
            408 => "Request Timeout",
            409 => "Conflict",
            410 => "Gone",
            411 => "Length Required",
            412 => "Precondition Failed",
            413 => "Content Too Large",
            414 => "URI Too Long",
            415 => "Unsupported Media Type",
            416 => "Range Not Satisfiable",
            417 => "Expectation Failed",
            421 => "Misdirected Request",
            422 => "Unprocessable Content",
            426 => "Upgrade Required",
            428 => "Precondition Required",
            429 => "Too Many Requests",
            431 => "Request Header Fields Too Large",
            451 => "Unavailable For Legal Reasons",
            500 => "Internal Server Error",
            501 => "Not Implemented",
            502 => "Bad Gateway",
            503 => "Service Unavailable",
            504 => "Gateway Timeout",
            505 => "HTTP Version Not Supported",
            511 => "Network Authentication Required",
            _ => "",
        }
    }

    /// What a response with this status says about its content.
    ///
    /// * 204 and 304 have neither content nor `Content-Length` (RFC 9110 §8.6,
    ///   §15.3.5, §15.4.5): a length there would be read by some clients as a
    ///   body to wait for.
    /// * 205 must not have content, and says so with `Content-Length: 0`
    ///   (RFC 9110 §15.3.6).
    /// * every other status carries the configured body.
    pub const fn content(self) -> Content {
        match self.0 {
            204 | 304 => Content::None,
            205 => Content::Empty,
            _ => Content::Body,
        }
    }
}

/// Whether a response with some status has content, see [`Status::content`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Content {
    /// No content and no `Content-Length` (204, 304).
    None,
    /// No content, `Content-Length: 0` (205).
    Empty,
    /// The body, with its `Content-Length`.
    Body,
}

/// The status line's text after the version: `404 Not Found`, or `299` alone.
impl fmt::Display for Status {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.reason() {
            "" => write!(f, "{}", self.0),
            reason => write!(f, "{} {reason}", self.0),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_final_codes_are_statuses() {
        let table = [
            (0, None),
            (100, None),
            (199, None),
            (200, Some(200)),
            (299, Some(299)),
            (599, Some(599)),
            (600, None),
            (u16::MAX, None),
        ];
        for (code, expected) in table {
            assert_eq!(Status::new(code).map(Status::code), expected, "{code}");
        }
    }

    #[test]
    fn display_is_code_and_phrase() {
        let table = [
            (200, "200 OK"),
            (204, "204 No Content"),
            (404, "404 Not Found"),
            (418, "418"),
            (431, "431 Request Header Fields Too Large"),
            (505, "505 HTTP Version Not Supported"),
            (599, "599"),
        ];
        for (code, text) in table {
            assert_eq!(Status::new(code).unwrap().to_string(), text);
        }
    }

    #[test]
    fn the_named_constants_have_their_codes() {
        let table = [
            (Status::OK, 200),
            (Status::BAD_REQUEST, 400),
            (Status::REQUEST_TIMEOUT, 408),
            (Status::CONTENT_TOO_LARGE, 413),
            (Status::URI_TOO_LONG, 414),
            (Status::HEADER_FIELDS_TOO_LARGE, 431),
            (Status::NOT_IMPLEMENTED, 501),
            (Status::VERSION_NOT_SUPPORTED, 505),
        ];
        for (status, code) in table {
            assert_eq!(Some(status), Status::new(code));
            assert!(!status.reason().is_empty(), "{code}");
        }
    }

    #[test]
    fn content_follows_the_status() {
        for code in Status::MIN..=Status::MAX {
            let expected = match code {
                204 | 304 => Content::None,
                205 => Content::Empty,
                _ => Content::Body,
            };
            assert_eq!(Status::new(code).unwrap().content(), expected, "{code}");
        }
    }
}
