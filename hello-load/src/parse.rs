//! Minimal but correct, incremental framing of HTTP/1.1 responses.
//!
//! The load generator does not need headers, only where each response ends and its
//! status. So the parser finds the end of the head (the empty line), checks the status
//! line, reads `Content-Length`, and then skips that many body bytes. Bytes arrive
//! in arbitrary pieces: many responses per read, or one response split anywhere
//! (inside the status line, a header, the terminator or the body).
//!
//! No allocation per response: when a head is complete in the current read buffer
//! (the usual case) it is parsed in place. Only a head split across reads is copied
//! into a per-connection carry buffer, whose capacity is reserved once and reused.
//! Bodies are never copied, only counted down.
//!
//! What it refuses, as a protocol error rather than a miscount: a malformed status
//! line or header line, a missing or bad `Content-Length` on a response that must
//! have a body, conflicting `Content-Length`s, any `Transfer-Encoding` (none of the
//! servers compared sends chunked bodies to a plain `GET`), and heads over
//! [`MAX_HEAD`] bytes. Interim `1xx` responses are framed and skipped: they do not
//! answer a request.

use std::fmt;

/// Largest response head accepted, in bytes.
pub const MAX_HEAD: usize = 16 * 1024;

/// Why a response stream could not be framed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ParseError {
    /// The first line is not `HTTP/1.x NNN ...`.
    StatusLine,
    /// A header line without a colon, an empty name, or a folded line.
    HeaderLine,
    /// `Content-Length` is not a decimal number, or two of them disagree.
    ContentLength,
    /// No `Content-Length` on a response that has a body (read-until-close framing
    /// cannot work on a persistent, pipelined connection).
    NoContentLength,
    /// `Transfer-Encoding` is present; this parser does not decode chunked bodies.
    TransferEncoding,
    /// The head is larger than [`MAX_HEAD`].
    HeadTooLarge,
}

impl fmt::Display for ParseError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            ParseError::StatusLine => "malformed status line",
            ParseError::HeaderLine => "malformed header line",
            ParseError::ContentLength => "invalid Content-Length",
            ParseError::NoContentLength => "response body without Content-Length",
            ParseError::TransferEncoding => "Transfer-Encoding is not supported",
            ParseError::HeadTooLarge => "response head too large",
        })
    }
}

/// Incremental response framer for one connection.
#[derive(Debug)]
pub struct ResponseParser {
    /// A head split across reads, so far; empty on the fast path.
    partial: Vec<u8>,
    /// Where the search for the end of the head stands at the end of `partial`.
    scan: u8,
    /// Body bytes of the current response still to skip.
    body_left: u64,
    /// Status of the response whose body is being skipped.
    status: u16,
}

impl Default for ResponseParser {
    fn default() -> Self {
        Self::new()
    }
}

impl ResponseParser {
    /// A parser expecting the start of a response.
    pub fn new() -> ResponseParser {
        ResponseParser {
            partial: Vec::with_capacity(256),
            scan: IN_LINE,
            body_left: 0,
            status: 0,
        }
    }

    /// True between responses: no partial head or body pending.
    #[cfg(test)]
    pub fn is_idle(&self) -> bool {
        self.partial.is_empty() && self.body_left == 0
    }

    /// Consume `data`, calling `on_response(status)` once for every final response
    /// completed by it, in order.
    pub fn feed(
        &mut self,
        mut data: &[u8],
        mut on_response: impl FnMut(u16),
    ) -> Result<(), ParseError> {
        while !data.is_empty() {
            if self.body_left > 0 {
                // Bounded by data.len(), so the cast back to usize cannot truncate.
                let n = self.body_left.min(data.len() as u64) as usize;
                self.body_left -= n as u64;
                data = &data[n..];
                if self.body_left == 0 {
                    on_response(self.status);
                }
                continue;
            }
            match head_end(self.scan, data) {
                Ok(end) => {
                    let head: &[u8] = if self.partial.is_empty() {
                        &data[..end]
                    } else {
                        if self.partial.len() + end > MAX_HEAD {
                            return Err(ParseError::HeadTooLarge);
                        }
                        self.partial.extend_from_slice(&data[..end]);
                        &self.partial
                    };
                    if head.len() > MAX_HEAD {
                        return Err(ParseError::HeadTooLarge);
                    }
                    let (status, length) = parse_head(head)?;
                    self.partial.clear();
                    self.scan = IN_LINE;
                    data = &data[end..];
                    if length > 0 {
                        self.status = status;
                        self.body_left = length;
                    } else if status >= 200 {
                        on_response(status);
                    }
                }
                Err(scan) => {
                    if self.partial.len() + data.len() > MAX_HEAD {
                        return Err(ParseError::HeadTooLarge);
                    }
                    self.partial.extend_from_slice(data);
                    self.scan = scan;
                    data = &[];
                }
            }
        }
        Ok(())
    }
}

/// Where the scan for the end of a head stands between bytes.
const IN_LINE: u8 = 0;
/// Just after a `\n`: at the start of a line.
const LINE_START: u8 = 1;
/// After `\n\r`: an empty line, if a `\n` follows.
const LINE_START_CR: u8 = 2;

/// Find the end of a head, the first empty line (`\r\n\r\n`, or a bare `\n` for
/// either line end, which RFC 9112 lets a recipient accept): `Ok(index just past
/// it)`, or `Err(scan state)` to carry into the next call. `state` is what the
/// previous call left ([`IN_LINE`] at the start of a response).
fn head_end(mut state: u8, data: &[u8]) -> Result<usize, u8> {
    for (i, &b) in data.iter().enumerate() {
        state = match (b, state) {
            (b'\n', LINE_START | LINE_START_CR) => return Ok(i + 1),
            (b'\n', _) => LINE_START,
            (b'\r', LINE_START) => LINE_START_CR,
            _ => IN_LINE,
        };
    }
    Err(state)
}

/// Parse a complete head (ending in an empty line): its status and body length.
fn parse_head(head: &[u8]) -> Result<(u16, u64), ParseError> {
    // Drop the empty line and the end of the last header line; what is left is
    // lines separated by "\n", each maybe ending in "\r".
    let lines = head.strip_suffix(b"\n").unwrap_or(head);
    let lines = lines.strip_suffix(b"\r").unwrap_or(lines);
    let lines = lines.strip_suffix(b"\n").unwrap_or(lines);
    let mut lines = lines
        .split(|&b| b == b'\n')
        .map(|l| l.strip_suffix(b"\r").unwrap_or(l));
    let status = parse_status_line(lines.next().unwrap_or_default())?;

    let mut content_length: Option<u64> = None;
    for line in lines {
        if line.is_empty() || line[0] == b' ' || line[0] == b'\t' {
            return Err(ParseError::HeaderLine);
        }
        let colon = line
            .iter()
            .position(|&b| b == b':')
            .ok_or(ParseError::HeaderLine)?;
        let (name, value) = (&line[..colon], trim(&line[colon + 1..]));
        if name.is_empty() || name.ends_with(b" ") || name.ends_with(b"\t") {
            return Err(ParseError::HeaderLine);
        }
        if name.eq_ignore_ascii_case(b"content-length") {
            let n = parse_decimal(value).ok_or(ParseError::ContentLength)?;
            if content_length.is_some_and(|m| m != n) {
                return Err(ParseError::ContentLength);
            }
            content_length = Some(n);
        } else if name.eq_ignore_ascii_case(b"transfer-encoding") {
            return Err(ParseError::TransferEncoding);
        }
    }

    // 1xx, 204 and 304 never have a body (RFC 9112 section 6.3).
    let bodiless = status < 200 || status == 204 || status == 304;
    match content_length {
        _ if bodiless => Ok((status, 0)),
        Some(n) => Ok((status, n)),
        None => Err(ParseError::NoContentLength),
    }
}

/// `HTTP/1.x NNN[ reason]` → `NNN`.
fn parse_status_line(line: &[u8]) -> Result<u16, ParseError> {
    let ok = line.len() >= 12
        && line.starts_with(b"HTTP/1.")
        && line[7].is_ascii_digit()
        && line[8] == b' '
        && line[9..12].iter().all(u8::is_ascii_digit)
        && (line.len() == 12 || line[12] == b' ');
    if !ok {
        return Err(ParseError::StatusLine);
    }
    let status = line[9..12]
        .iter()
        .fold(0u16, |acc, &d| acc * 10 + u16::from(d - b'0'));
    if status < 100 {
        return Err(ParseError::StatusLine);
    }
    Ok(status)
}

fn parse_decimal(digits: &[u8]) -> Option<u64> {
    if digits.is_empty() {
        return None;
    }
    digits.iter().try_fold(0u64, |acc, &d| {
        if !d.is_ascii_digit() {
            return None;
        }
        acc.checked_mul(10)?.checked_add(u64::from(d - b'0'))
    })
}

fn trim(bytes: &[u8]) -> &[u8] {
    let is_ws = |b: &u8| *b == b' ' || *b == b'\t';
    let start = bytes.iter().position(|b| !is_ws(b)).unwrap_or(bytes.len());
    let end = bytes
        .iter()
        .rposition(|b| !is_ws(b))
        .map_or(start, |i| i + 1);
    &bytes[start..end]
}
