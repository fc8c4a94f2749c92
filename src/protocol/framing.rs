//! Request framing: where one request ends and the next begins.
//!
//! This module owns the one decision the server must get right about every
//! request even though it answers all of them alike: how many bytes the
//! request occupies. A wrong answer desynchronizes the connection (the body of
//! one request is read as the head of the next: request smuggling), so the
//! rules of RFC 9112 §6 are applied strictly, and a request whose framing is
//! ambiguous is refused rather than guessed at.
//!
//! Bytes in, outcomes out: no I/O and no allocation per request, so the module
//! is tested exhaustively without sockets, and an idle connection costs no
//! memory beyond its buffer and a [`BodyReader`].
//!
//! * **Partial is not an error.** TCP delivers a request in arbitrary pieces;
//!   a prefix of a valid request is early, not wrong. [`parse_head`] returns
//!   [`Parse::Partial`] for every proper prefix of a valid head and rejects
//!   only when no continuation could make the bytes valid, or a limit is hit.
//!   Its outcome depends only on the bytes, never on how they were split into
//!   reads: it looks at no more than `max_head` bytes at a time.
//! * **The body is skipped, never buffered.** The response does not depend on
//!   the body, so [`BodyReader`] (in `chunked.rs`) walks its framing with a few
//!   counters. Storing it would make a connection's memory grow with what the
//!   client chooses to send.
//! * **Limits are passed in.** [`Limits`] is configuration shared by every
//!   connection; a copy per connection would be bytes per connection that
//!   carry no information.
//!
//! Here: the outcome types and the head's syntax (httparse, plus the
//! `HTTP/1.x` versions it does not know). In `framing/target.rs`: the
//! request-target's form and characters, and the `Host` authority. In
//! `framing/fields.rs`: what the header fields say about framing. In
//! `framing/reject.rs`: every reason to refuse a request ([`Reject`]), with its
//! status and the line the answer says. In `framing/memo.rs`: the last head
//! parsed, so that a repeated one costs one comparison ([`HeadMemo`]).

use std::mem::MaybeUninit;

use httparse::{EMPTY_HEADER, Error, Header, Request, Status};

pub use crate::protocol::chunked::{BodyReader, Skip};
pub(crate) use fields::is_tchar;
pub use memo::HeadMemo;
pub use reject::Reject;

use fields::analyze;

mod fields;
mod memo;
mod reject;
mod target;

/// Header fields one head may carry; more is answered with 431.
const MAX_HEADERS: usize = 64;

/// Limits the framing enforces. Passed by reference on every call so that a
/// connection does not have to store them.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Limits {
    /// Largest request head (request line + headers + blank line), in bytes.
    pub max_head: usize,
    /// Largest request body, in bytes of payload.
    pub max_body: u64,
}

impl Limits {
    /// The server's defaults (`--max-request-head`, `--max-body`): a 16 KiB head
    /// holds any real browser's request with room for cookies; 1 MiB of body is
    /// read and discarded before `413`.
    pub const DEFAULT: Limits = Limits {
        max_head: 16 * 1024,
        max_body: 1024 * 1024,
    };
}

/// Whether the connection stays open after the response, and how the response says so.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Persistence {
    /// HTTP/1.1 default: keep open, no `Connection` header needed.
    KeepAlive,
    /// HTTP/1.0 with `Connection: keep-alive`: keep open, response says `Connection: keep-alive`.
    KeepAliveExplicit,
    /// Close after the response, which says `Connection: close`.
    Close,
}

/// How the body after a head is framed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum BodyLength {
    /// No body.
    Empty,
    /// `Content-Length: n` with n > 0.
    Length(u64),
    /// `Transfer-Encoding: chunked`.
    Chunked,
}

/// A complete, valid request head: what the connection needs to answer it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Head {
    /// Bytes of the head, including the terminating blank line.
    pub len: usize,
    /// The method is `HEAD`: answer with headers only.
    pub headers_only: bool,
    /// Keep-alive or close.
    pub persistence: Persistence,
    /// `Expect: 100-continue` on an HTTP/1.1 request with a non-empty body.
    pub expect_continue: bool,
    /// The body framing.
    pub body: BodyLength,
}

/// Outcome of [`parse_head`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Parse {
    /// Not complete yet: wait for more bytes (not an error).
    Partial,
    /// A complete head.
    Complete(Head),
    /// The request is invalid or over a limit.
    Reject(Reject),
}

/// Parse the request head at the start of `buf`.
///
/// Empty lines before the request line are skipped and counted in
/// [`Head::len`]. `HTTP/1.x` with x ≥ 2 is treated as HTTP/1.1; other
/// versions are refused with 505 once the request line is complete.
pub fn parse_head(buf: &[u8], limits: &Limits) -> Parse {
    // Never look past the limit: the outcome then cannot depend on how many
    // bytes beyond it one read happened to return.
    let window = &buf[..buf.len().min(limits.max_head)];
    // Uninitialized: httparse writes only the slots it fills, so the common
    // path does not zero 2 KiB of stack per call.
    let mut headers = [const { MaybeUninit::<Header<'_>>::uninit() }; MAX_HEADERS];
    let mut request = Request::new(&mut []);
    match request.parse_with_uninit_headers(window, &mut headers) {
        Ok(Status::Complete(len)) => {
            let method = request.method.unwrap_or_default().as_bytes();
            let target = request.path.unwrap_or_default().as_bytes();
            if let Err(reject) = target::check(method, target) {
                return Parse::Reject(reject);
            }
            let http11 = request.version == Some(1);
            analyze(len, method == b"HEAD", http11, request.headers, limits)
        }
        Ok(Status::Partial) => incomplete(window, buf.len(), limits),
        Err(Error::Version) => other_version(window, buf.len(), limits),
        Err(error) => Parse::Reject(reject_for(error)),
    }
}

/// The reason for an error httparse reports.
fn reject_for(error: Error) -> Reject {
    match error {
        Error::TooManyHeaders => Reject::TooManyHeaders,
        Error::HeaderName => Reject::HeaderName,
        Error::HeaderValue => Reject::HeaderValue,
        Error::NewLine => Reject::LineEnding,
        Error::Token | Error::Version | Error::Status => Reject::RequestLine,
    }
}

/// A head that is not complete in `window`: wait, or refuse it if the window
/// is already as large as a head may be: 431 if the request line ended, 414 if
/// the target did not, and 501 if not even the method did (RFC 9112 §3: a
/// method longer than any the server implements; it is no URI to be too long).
fn incomplete(window: &[u8], buffered: usize, limits: &Limits) -> Parse {
    if buffered < limits.max_head {
        return Parse::Partial;
    }
    let line = &window[request_line_start(window)..];
    if line.contains(&b'\n') {
        Parse::Reject(Reject::HeaderFieldsTooLarge)
    } else if !line.is_empty() && !line.contains(&b' ') {
        Parse::Reject(Reject::MethodTooLong)
    } else {
        Parse::Reject(Reject::UriTooLong)
    }
}

/// Offset of the request line: after the empty lines a server should ignore
/// (RFC 9112 §2.2), exactly as httparse skips them.
fn request_line_start(buf: &[u8]) -> usize {
    let mut start = 0;
    loop {
        match &buf[start..] {
            [b'\r', b'\n', ..] => start += 2,
            [b'\n', ..] => start += 1,
            _ => return start,
        }
    }
}

/// The rare path: httparse accepts only HTTP/1.0 and HTTP/1.1. Its method and
/// target were valid (they are parsed before the version), so the version
/// starts after the second space. `HTTP/1.x` is parsed on as HTTP/1.1 (RFC
/// 9110 §6.2: a higher minor version is compatible); another major version is
/// 505, decided only once the request line is complete.
fn other_version(window: &[u8], buffered: usize, limits: &Limits) -> Parse {
    let start = request_line_start(window);
    let line = &window[start..];
    let mut spaces = line.iter().enumerate().filter(|&(_, &b)| b == b' ');
    let (Some((method_end, _)), Some((target_end, _))) = (spaces.next(), spaces.next()) else {
        return Parse::Reject(Reject::RequestLine);
    };
    let version = &line[target_end + 1..];
    let line_end = match version {
        [b'H', b'T', b'T', b'P', b'/', major, b'.', minor, rest @ ..]
            if major.is_ascii_digit() && minor.is_ascii_digit() =>
        {
            let eol = match rest {
                [b'\r', b'\n', ..] => 2,
                [b'\n', ..] => 1,
                [] | [b'\r'] => return incomplete(window, buffered, limits),
                _ => return Parse::Reject(Reject::RequestLine),
            };
            if *major != b'1' {
                return Parse::Reject(Reject::VersionNotSupported);
            }
            start + target_end + 1 + 8 + eol
        }
        _ if is_version_prefix(version) => return incomplete(window, buffered, limits),
        _ => return Parse::Reject(Reject::RequestLine),
    };
    let mut headers = [EMPTY_HEADER; MAX_HEADERS];
    match httparse::parse_headers(&window[line_end..], &mut headers) {
        Ok(Status::Complete((len, fields))) => {
            let method = &line[..method_end];
            if let Err(reject) = target::check(method, &line[method_end + 1..target_end]) {
                return Parse::Reject(reject);
            }
            analyze(line_end + len, method == b"HEAD", true, fields, limits)
        }
        Ok(Status::Partial) => incomplete(window, buffered, limits),
        Err(error) => Parse::Reject(reject_for(error)),
    }
}

/// `bytes` (shorter than 8) could still become `HTTP/d.d`.
fn is_version_prefix(bytes: &[u8]) -> bool {
    bytes.len() < 8
        && bytes.iter().zip(b"HTTP/0.0").all(|(&b, &p)| match p {
            b'0' => b.is_ascii_digit(),
            _ => b == p,
        })
}

#[cfg(test)]
mod tests;
