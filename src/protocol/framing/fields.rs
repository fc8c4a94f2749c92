//! What the header fields say about framing: one pass over the fields httparse
//! found, then the rules of RFC 9112 §6 and §9.3 applied to what was gathered.
//!
//! Only the fields that decide where the request ends or whether the connection
//! stays open are read: `Host` (checked, since a request without exactly one is
//! refused), `Content-Length`, `Transfer-Encoding`, `Connection` and `Expect`.
//! Every other field is skipped unread.

use httparse::Header;

use super::target::is_authority;
use super::{BodyLength, Head, Limits, Parse, Persistence, Reject};

/// Transfer codings this server knows (RFC 9110 §18.6). It decodes none of
/// them, but a known coding before `chunked` does not change the framing.
const KNOWN_CODINGS: [&[u8]; 7] = [
    b"chunked",
    b"gzip",
    b"x-gzip",
    b"deflate",
    b"compress",
    b"x-compress",
    b"identity",
];

/// Turn a syntactically complete head into the [`Parse`] outcome.
pub(super) fn analyze(
    len: usize,
    headers_only: bool,
    http11: bool,
    headers: &[Header<'_>],
    limits: &Limits,
) -> Parse {
    match Fields::scan(headers).and_then(|fields| fields.head(len, headers_only, http11, limits)) {
        Ok(head) => Parse::Complete(head),
        Err(reject) => Parse::Reject(reject),
    }
}

/// What the header fields that matter to framing say, gathered in one pass.
#[derive(Default)]
struct Fields {
    hosts: u32,
    content_length: Option<u64>,
    codings: Codings,
    close: bool,
    keep_alive: bool,
    expect_continue: bool,
}

/// The `Transfer-Encoding` codings, over all its field lines, in order.
#[derive(Default)]
struct Codings {
    present: bool,
    unknown: bool,
    chunked: u32,
    last_is_chunked: bool,
}

impl Fields {
    /// Gather the fields; syntax errors in framing fields are 400 at once.
    fn scan(headers: &[Header<'_>]) -> Result<Fields, Reject> {
        let mut fields = Fields::default();
        for header in headers {
            let (name, value) = (header.name, header.value);
            if name.eq_ignore_ascii_case("host") {
                fields.hosts += 1;
                check_host(value)?;
            } else if name.eq_ignore_ascii_case("content-length") {
                fields.add_content_length(value)?;
            } else if name.eq_ignore_ascii_case("transfer-encoding") {
                fields.codings.add(value)?;
            } else if name.eq_ignore_ascii_case("connection") {
                for token in elements(value) {
                    fields.close |= token.eq_ignore_ascii_case(b"close");
                    fields.keep_alive |= token.eq_ignore_ascii_case(b"keep-alive");
                }
            } else if name.eq_ignore_ascii_case("expect") {
                fields.expect_continue |=
                    elements(value).any(|e| e.eq_ignore_ascii_case(b"100-continue"));
            }
        }
        Ok(fields)
    }

    /// `Content-Length` (RFC 9110 §8.6): 1*DIGIT, or a list of identical
    /// values; any other value, or a different value on another line, is 400.
    fn add_content_length(&mut self, value: &[u8]) -> Result<(), Reject> {
        for element in elements(value) {
            let n = parse_decimal(element).ok_or(Reject::InvalidContentLength)?;
            if self.content_length.is_some_and(|previous| previous != n) {
                return Err(Reject::ConflictingContentLength);
            }
            self.content_length = Some(n);
        }
        Ok(())
    }

    /// The head, once every field is known (RFC 9112 §3.2, §6, §9.3).
    fn head(
        self,
        len: usize,
        headers_only: bool,
        http11: bool,
        limits: &Limits,
    ) -> Result<Head, Reject> {
        if self.hosts > 1 {
            return Err(Reject::RepeatedHost);
        }
        if http11 && self.hosts == 0 {
            return Err(Reject::MissingHost);
        }
        let body = if self.codings.present {
            self.codings.framing(self.content_length.is_some())?
        } else {
            match self.content_length {
                None | Some(0) => BodyLength::Empty,
                Some(n) if n > limits.max_body => return Err(Reject::ContentTooLarge),
                Some(n) => BodyLength::Length(n),
            }
        };
        // RFC 9112 §6.1: an HTTP/1.0 message with Transfer-Encoding has faulty
        // framing; it is read as chunked, then the connection is closed.
        let persistence = if self.close || (!http11 && (!self.keep_alive || self.codings.present)) {
            Persistence::Close
        } else if http11 {
            Persistence::KeepAlive
        } else {
            Persistence::KeepAliveExplicit
        };
        let expect_continue = http11 && self.expect_continue && body != BodyLength::Empty;
        Ok(Head {
            len,
            headers_only,
            persistence,
            expect_continue,
            body,
        })
    }
}

impl Codings {
    /// One `Transfer-Encoding` field line: codings, each maybe with `;` parameters.
    ///
    /// Empty list elements are ignored (RFC 9110 §5.6.1.2: `,chunked` and
    /// `chunked,` mean `chunked`), but the field still counts as present: a
    /// line with no coding at all does not end in `chunked`, and is refused
    /// rather than read as "no body".
    fn add(&mut self, value: &[u8]) -> Result<(), Reject> {
        self.present = true;
        for element in elements(value).filter(|e| !e.is_empty()) {
            let name = match element.iter().position(|&b| b == b';') {
                Some(semicolon) => trim(&element[..semicolon]),
                None => element,
            };
            if name.is_empty() || !name.iter().all(|&b| is_tchar(b)) {
                return Err(Reject::InvalidTransferEncoding);
            }
            let chunked = name.eq_ignore_ascii_case(b"chunked");
            self.unknown |= !KNOWN_CODINGS.iter().any(|k| name.eq_ignore_ascii_case(k));
            self.chunked = self.chunked.saturating_add(u32::from(chunked));
            self.last_is_chunked = chunked;
        }
        Ok(())
    }

    /// The framing the codings give (RFC 9112 §6.1, §6.3).
    fn framing(&self, has_content_length: bool) -> Result<BodyLength, Reject> {
        if has_content_length {
            Err(Reject::ContentLengthAndTransferEncoding)
        } else if self.unknown {
            Err(Reject::UnknownTransferCoding)
        } else if self.chunked != 1 || !self.last_is_chunked {
            Err(Reject::ChunkedNotLast)
        } else {
            Ok(BodyLength::Chunked)
        }
    }
}

/// The elements of a comma-separated field value (RFC 9110 §5.6.1), trimmed
/// of whitespace, empty ones included (a caller skips them, or, for
/// `Content-Length`, which is not a list, refuses them). Commas inside quoted
/// strings (in parameters) do not separate.
fn elements(value: &[u8]) -> impl Iterator<Item = &[u8]> {
    let (mut quoted, mut escaped) = (false, false);
    let separator = move |&b: &u8| {
        if escaped {
            escaped = false;
        } else if quoted {
            escaped = b == b'\\';
            quoted = b != b'"';
        } else if b == b'"' {
            quoted = true;
        } else {
            return b == b',';
        }
        false
    };
    value.split(separator).map(trim)
}

/// `bytes` without leading and trailing spaces and tabs.
fn trim(mut bytes: &[u8]) -> &[u8] {
    while let [b' ' | b'\t', rest @ ..] = bytes {
        bytes = rest;
    }
    while let [rest @ .., b' ' | b'\t'] = bytes {
        bytes = rest;
    }
    bytes
}

/// `1*DIGIT` as a u64; `None` if empty, not all digits, or too large.
fn parse_decimal(digits: &[u8]) -> Option<u64> {
    if digits.is_empty() {
        return None;
    }
    digits.iter().try_fold(0u64, |n, &b| {
        let digit = b.checked_sub(b'0').filter(|d| *d <= 9)?;
        n.checked_mul(10)?.checked_add(u64::from(digit))
    })
}

/// A `tchar` of RFC 9110 §5.6.2.
pub(crate) fn is_tchar(b: u8) -> bool {
    TCHAR[usize::from(b)]
}

/// `Host` (RFC 9112 §3.2, RFC 9110 §7.2): `uri-host [ ":" port ]`. An empty
/// value is refused too: RFC 9112 lets a client send one only when the target
/// URI has no authority, which no target this server accepts lacks (origin-form
/// and `*` are paths on this host, absolute-form names one).
fn check_host(value: &[u8]) -> Result<(), Reject> {
    if value.is_empty() {
        Err(Reject::EmptyHost)
    } else if is_authority(value, false) {
        Ok(())
    } else {
        Err(Reject::InvalidHost)
    }
}

/// Byte classes as tables, built at compile time: a table is one load per byte
/// where searching the list of punctuation was a loop per byte (it was the
/// costliest part of a pipelined request's head analysis). `Host` is checked
/// the same way, with the tables in `target.rs`.
const TCHAR: [bool; 256] = alphanumeric_and(b"!#$%&'*+-.^_`|~");

/// A table true for ASCII letters and digits and for each byte of `extra`.
const fn alphanumeric_and(extra: &[u8]) -> [bool; 256] {
    let mut table = [false; 256];
    let mut b = 0;
    while b < 256 {
        table[b] = (b as u8).is_ascii_alphanumeric();
        b += 1;
    }
    let mut i = 0;
    while i < extra.len() {
        table[extra[i] as usize] = true;
        i += 1;
    }
    table
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The byte-class tables say exactly what the RFC grammars say, for all 256 bytes.
    #[test]
    fn byte_tables_match_the_grammars() {
        for b in 0..=255u8 {
            let alnum = b.is_ascii_alphanumeric();
            assert_eq!(
                is_tchar(b),
                alnum || b"!#$%&'*+-.^_`|~".contains(&b),
                "tchar {b:#04x}"
            );
        }
    }
}
