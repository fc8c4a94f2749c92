//! Skipping request bodies, including the chunked transfer coding (RFC 9112 §7.1).
//!
//! The server's response never depends on the body, so the body is never
//! stored: [`BodyReader`] consumes it as it streams in and keeps only what it
//! needs to find its end: a state, two counters and a small budget, in at
//! most 32 bytes, because one lives in every connection. The chunked decoder
//! is a byte-level state machine, so a body split across reads at any byte
//! boundary reaches the same outcome as the body read whole.
//!
//! Chunk framing is read strictly, as request smuggling hides in its
//! ambiguities:
//!
//! * every line (size line, end of data, trailer field, last line) must end
//!   in CRLF; a bare LF is 400. (The head accepts bare LF, as RFC 9112 §2.2
//!   allows for start line and fields; the body does not, consistently.)
//! * a chunk size has 1 to 16 hex digits (as Go's net/http); more is 400 even
//!   with leading zeros, so a size can never overflow.
//! * whitespace after the size is allowed only before a `;` (BWS).
//! * extensions follow RFC 9112 §7.1.1 exactly:
//!   `*( BWS ";" BWS ext-name [ BWS "=" BWS ext-val ] )`, a name is a token, a
//!   value a token or a quoted-string; `5;` (no name), `5;a b`, `5;a=` and
//!   trailing whitespace before the CR are 400. A lenient reading here is
//!   how a front end and a back end come to disagree on where a chunk starts.
//! * trailer fields must be `token ":" value`.
//! * extension bytes plus trailer bytes of one body may not exceed
//!   `max_head` (400), and payload may not exceed `max_body` (413, decided as
//!   soon as a chunk size is read).

use crate::protocol::framing::{BodyLength, Limits, Reject, is_tchar};

/// Progress of [`BodyReader::skip`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Skip {
    /// Bytes of `input` that belonged to the body (framing included).
    pub consumed: usize,
    /// The body is complete; bytes after `consumed` are the next request.
    pub done: bool,
}

/// Skips a request body as it streams in, never holding it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BodyReader {
    /// Payload bytes left: of the body (`Length`) or of the current chunk.
    remaining: u64,
    /// Payload bytes consumed so far.
    total: u64,
    /// Extension and trailer bytes seen so far.
    extra: u32,
    /// Hex digits of the current chunk size.
    digits: u8,
    state: State,
}

/// Where the reader is in the body.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum State {
    /// Inside a `Content-Length` body.
    Length,
    /// In a chunk size (after `digits` hex digits).
    Size,
    /// Whitespace after a chunk size or an extension; a `;` must follow.
    SizeSpace,
    /// After a `;`: whitespace, then an extension name.
    ExtStart,
    /// In an extension name.
    ExtName,
    /// Whitespace after an extension name: `=` or `;` must follow.
    ExtNameSpace,
    /// After `=`: whitespace, then a token or a quoted string.
    ExtValueStart,
    /// In a token extension value.
    ExtToken,
    /// In a quoted-string extension value.
    ExtQuoted,
    /// After a backslash in a quoted string.
    ExtEscape,
    /// After the closing quote of a value.
    ExtQuotedEnd,
    /// The CR of a size line was read.
    SizeLf,
    /// Inside chunk data.
    Data,
    /// Chunk data ended; CR expected.
    DataCr,
    /// CR after chunk data read; LF expected.
    DataLf,
    /// At the start of a trailer line (or of the final empty line).
    TrailerStart,
    /// In a trailer field name.
    TrailerName,
    /// In a trailer field value, up to the CR.
    TrailerValue,
    /// The CR of a trailer line was read.
    TrailerLf,
    /// The CR of the final empty line was read.
    FinalLf,
    /// The body is complete.
    Done,
}

impl BodyReader {
    /// A reader for a body framed as `length`.
    pub fn new(length: BodyLength) -> BodyReader {
        let (remaining, state) = match length {
            BodyLength::Empty | BodyLength::Length(0) => (0, State::Done),
            BodyLength::Length(n) => (n, State::Length),
            BodyLength::Chunked => (0, State::Size),
        };
        BodyReader {
            remaining,
            total: 0,
            extra: 0,
            digits: 0,
            state,
        }
    }

    /// Consume body bytes from the front of `input`.
    ///
    /// Unless the result is `done`, all of `input` is consumed. Once done,
    /// further calls consume nothing. After an `Err` the connection must be
    /// closed; the reader is not meant to be used again.
    pub fn skip(&mut self, input: &[u8], limits: &Limits) -> Result<Skip, Reject> {
        let mut consumed = 0;
        while consumed < input.len() && self.state != State::Done {
            let rest = &input[consumed..];
            match self.state {
                State::Length | State::Data => consumed += self.payload(rest, limits)?,
                _ => {
                    self.step(rest[0], limits)?;
                    consumed += 1;
                }
            }
        }
        Ok(Skip {
            consumed,
            done: self.state == State::Done,
        })
    }

    /// Consume payload bytes from the front of `input` (not empty).
    fn payload(&mut self, input: &[u8], limits: &Limits) -> Result<usize, Reject> {
        if self.total.saturating_add(self.remaining) > limits.max_body {
            return Err(Reject::ContentTooLarge);
        }
        let available = u64::try_from(input.len()).unwrap_or(u64::MAX);
        let n = self.remaining.min(available);
        self.remaining -= n;
        self.total += n;
        if self.remaining == 0 {
            self.state = match self.state {
                State::Length => State::Done,
                _ => State::DataCr,
            };
        }
        Ok(usize::try_from(n).unwrap_or(input.len()))
    }

    /// Consume one framing byte.
    fn step(&mut self, byte: u8, limits: &Limits) -> Result<(), Reject> {
        use State::*;
        let sized = self.digits > 0;
        let next = match (self.state, byte) {
            (Size, b) if b.is_ascii_hexdigit() => return self.digit(b),
            (Size, b';') if sized => self.size_end(ExtStart, limits)?,
            (Size, b' ' | b'\t') if sized => self.size_end(SizeSpace, limits)?,
            (Size, b'\r') if sized => self.size_end(SizeLf, limits)?,
            (SizeSpace, b' ' | b'\t') => SizeSpace,
            (SizeSpace | ExtName | ExtNameSpace | ExtToken | ExtQuotedEnd, b';') => ExtStart,
            (ExtStart, b' ' | b'\t') => ExtStart,
            (ExtStart | ExtName, b) if is_tchar(b) => ExtName,
            (ExtName | ExtNameSpace, b' ' | b'\t') => ExtNameSpace,
            (ExtName | ExtNameSpace, b'=') => ExtValueStart,
            (ExtValueStart, b' ' | b'\t') => ExtValueStart,
            (ExtValueStart | ExtToken, b) if is_tchar(b) => ExtToken,
            (ExtValueStart, b'"') => ExtQuoted,
            (ExtToken | ExtQuotedEnd, b' ' | b'\t') => SizeSpace,
            (ExtName | ExtToken | ExtQuotedEnd, b'\r') => SizeLf,
            (ExtQuoted, b'"') => ExtQuotedEnd,
            (ExtQuoted, b'\\') => ExtEscape,
            (ExtQuoted | ExtEscape, b) if is_text(b) => ExtQuoted,
            (SizeLf, b'\n') if self.remaining == 0 => TrailerStart,
            (SizeLf, b'\n') => Data,
            (DataCr, b'\r') => DataLf,
            (DataLf, b'\n') => Size,
            (TrailerStart, b'\r') => FinalLf,
            (TrailerStart | TrailerName, b) if is_tchar(b) => TrailerName,
            (TrailerName, b':') => TrailerValue,
            (TrailerValue, b'\r') => TrailerLf,
            (TrailerValue, b) if is_text(b) => TrailerValue,
            (TrailerLf, b'\n') => TrailerStart,
            (FinalLf, b'\n') => Done,
            _ => return Err(self.error(byte)),
        };
        let extra = matches!(
            next,
            SizeSpace
                | ExtStart
                | ExtName
                | ExtNameSpace
                | ExtValueStart
                | ExtToken
                | ExtQuoted
                | ExtEscape
                | ExtQuotedEnd
                | TrailerName
                | TrailerValue
                | TrailerLf
        ) || (self.state == TrailerLf);
        if extra {
            self.extra = self.extra.saturating_add(1);
            if usize::try_from(self.extra).unwrap_or(usize::MAX) > limits.max_head {
                return Err(Reject::ChunkMetadataTooLarge);
            }
        }
        if next == Size {
            self.digits = 0;
        }
        self.state = next;
        Ok(())
    }

    /// Why `byte` cannot come next, for the error answer.
    fn error(&self, byte: u8) -> Reject {
        use State::*;
        match (self.state, byte) {
            (SizeLf | DataLf | TrailerLf | FinalLf, _) | (_, b'\n') => Reject::ChunkLineEnding,
            (Size, _) => Reject::ChunkSize,
            (
                SizeSpace | ExtStart | ExtName | ExtNameSpace | ExtValueStart | ExtToken
                | ExtQuoted | ExtEscape | ExtQuotedEnd,
                _,
            ) => Reject::ChunkExtension,
            (DataCr, _) => Reject::ChunkDataEnd,
            _ => Reject::Trailer,
        }
    }

    /// One hex digit of a chunk size; 16 fill a u64, a 17th is refused.
    fn digit(&mut self, byte: u8) -> Result<(), Reject> {
        let value = char::from(byte).to_digit(16).ok_or(Reject::ChunkSize)?;
        if self.digits >= 16 {
            return Err(Reject::ChunkSize);
        }
        self.digits += 1;
        self.remaining = (self.remaining << 4) | u64::from(value);
        Ok(())
    }

    /// The chunk size is known: refuse it if the payload would exceed the limit.
    fn size_end(&self, next: State, limits: &Limits) -> Result<State, Reject> {
        if self.total.saturating_add(self.remaining) > limits.max_body {
            Err(Reject::ContentTooLarge)
        } else {
            Ok(next)
        }
    }
}

/// HTAB, SP, a visible character or obs-text: what a field value may hold, and
/// (but `"` and `\`) a quoted string, or (all of them) a quoted pair.
fn is_text(b: u8) -> bool {
    b == b'\t' || (b' '..=b'~').contains(&b) || b >= 0x80
}

#[cfg(test)]
mod tests;
