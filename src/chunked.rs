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
//! * extensions are skipped up to the CR, and may hold only HTAB, SP, visible
//!   characters and obs-text; trailer fields must be `token ":" value`.
//! * extension bytes plus trailer bytes of one body may not exceed
//!   `max_head` (400), and payload may not exceed `max_body` (413, decided as
//!   soon as a chunk size is read).

use crate::framing::{BodyLength, Limits, Reject, is_tchar};

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
    /// Whitespace after a chunk size; a `;` must follow.
    SizeSpace,
    /// In chunk extensions, up to the CR.
    Extension,
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
            (Size, b';') if sized => self.size_end(Extension, limits)?,
            (Size, b' ' | b'\t') if sized => self.size_end(SizeSpace, limits)?,
            (Size, b'\r') if sized => self.size_end(SizeLf, limits)?,
            (SizeSpace, b' ' | b'\t') => SizeSpace,
            (SizeSpace, b';') => Extension,
            (Extension, b'\r') => SizeLf,
            (Extension, b) if is_text(b) => Extension,
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
            _ => return Err(Reject::BadRequest),
        };
        let extra = matches!(
            next,
            SizeSpace | Extension | TrailerName | TrailerValue | TrailerLf
        ) || (self.state == TrailerLf);
        if extra {
            self.extra = self.extra.saturating_add(1);
            if usize::try_from(self.extra).unwrap_or(usize::MAX) > limits.max_head {
                return Err(Reject::BadRequest);
            }
        }
        if next == Size {
            self.digits = 0;
        }
        self.state = next;
        Ok(())
    }

    /// One hex digit of a chunk size; 16 fill a u64, a 17th is refused.
    fn digit(&mut self, byte: u8) -> Result<(), Reject> {
        let value = char::from(byte).to_digit(16).ok_or(Reject::BadRequest)?;
        if self.digits >= 16 {
            return Err(Reject::BadRequest);
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

/// HTAB, SP, a visible character or obs-text: what a field value (or an
/// extension) may hold.
fn is_text(b: u8) -> bool {
    b == b'\t' || (b' '..=b'~').contains(&b) || b >= 0x80
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    const LIMITS: Limits = Limits {
        max_head: 64,
        max_body: 100,
    };

    fn chunked() -> BodyReader {
        BodyReader::new(BodyLength::Chunked)
    }

    /// Feed `pieces` in order, as reads would, then an empty read; stop at
    /// done or at an error.
    fn feed<'a>(
        mut reader: BodyReader,
        pieces: impl IntoIterator<Item = &'a [u8]>,
    ) -> Result<Skip, Reject> {
        let mut consumed = 0;
        for piece in pieces {
            let skip = reader.skip(piece, &LIMITS)?;
            consumed += skip.consumed;
            if skip.done {
                return Ok(Skip {
                    consumed,
                    done: true,
                });
            }
            assert_eq!(skip.consumed, piece.len(), "not done, yet input left");
        }
        let last = reader.skip(&[], &LIMITS)?;
        assert_eq!(last.consumed, 0);
        Ok(Skip {
            consumed,
            done: last.done,
        })
    }

    fn whole(reader: BodyReader, input: &[u8]) -> Result<Skip, Reject> {
        reader.clone().skip(input, &LIMITS)
    }

    fn done(consumed: usize) -> Result<Skip, Reject> {
        Ok(Skip {
            consumed,
            done: true,
        })
    }

    fn pending(consumed: usize) -> Result<Skip, Reject> {
        Ok(Skip {
            consumed,
            done: false,
        })
    }

    #[test]
    fn reader_is_small() {
        assert!(std::mem::size_of::<BodyReader>() <= 32);
    }

    #[test]
    fn framings() {
        use BodyLength::*;
        use Reject::*;
        let table: &[(BodyLength, &str, Result<Skip, Reject>)] = &[
            (Empty, "GET", done(0)),
            (Empty, "", done(0)),
            (Length(0), "x", done(0)),
            (Length(5), "hel", pending(3)),
            (Length(5), "helloGET", done(5)),
            (Length(101), "x", Err(ContentTooLarge)),
            (Length(100), "x", pending(1)),
            (Chunked, "", pending(0)),
            (Chunked, "0\r\n\r\nGET", done(5)),
            (Chunked, "5\r\nhello\r\n0\r\n\r\n", done(15)),
            (Chunked, "5\r\nhello\r\n1a\r\n", pending(14)),
            (Chunked, "A\r\n0123456789\r\n0\r\n\r\n", done(20)),
            (Chunked, "000a\r\n0123456789\r\n0\r\n\r\n", done(23)),
            (
                Chunked,
                "5;a=b;c=\"d;\\\"e\"\r\nhello\r\n0;x\r\n\r\n",
                done(31),
            ),
            (Chunked, "5 ;a\r\nhello\r\n0\t \t;\r\n\r\n", done(22)),
            (Chunked, "0\r\nX-T: 1\r\nY:\r\n\r\nNEXT", done(17)),
            (Chunked, "64\r\n", pending(4)),
            (Chunked, "65\r\n", Err(ContentTooLarge)),
            (Chunked, "32\r\n", pending(4)),
            (Chunked, "FFFFFFFFFFFFFFFF;", Err(ContentTooLarge)),
            (Chunked, "00000000000000001\r\n", Err(BadRequest)),
            (Chunked, "10000000000000000\r\n", Err(BadRequest)),
            (Chunked, "\r\n", Err(BadRequest)),
            (Chunked, ";a\r\n", Err(BadRequest)),
            (Chunked, " 5\r\n", Err(BadRequest)),
            (Chunked, "+5\r\n", Err(BadRequest)),
            (Chunked, "0x5\r\n", Err(BadRequest)),
            (Chunked, "5 \r\n", Err(BadRequest)),
            (Chunked, "5\n", Err(BadRequest)),
            (Chunked, "5\r\r", Err(BadRequest)),
            (Chunked, "5;a\n", Err(BadRequest)),
            (Chunked, "5;a\0\r\n", Err(BadRequest)),
            (Chunked, "1\r\nab\r\n", Err(BadRequest)),
            (Chunked, "1\r\na\n0\r\n\r\n", Err(BadRequest)),
            (Chunked, "1\r\na\r0", Err(BadRequest)),
            (Chunked, "0\r\n\n", Err(BadRequest)),
            (Chunked, "0\r\n\r\r", Err(BadRequest)),
            (Chunked, "0\r\nX: 1\n\r\n", Err(BadRequest)),
            (Chunked, "0\r\n x: 1\r\n\r\n", Err(BadRequest)),
            (Chunked, "0\r\nX : 1\r\n\r\n", Err(BadRequest)),
            (Chunked, "0\r\n:1\r\n\r\n", Err(BadRequest)),
            (Chunked, "0\r\nX\r\n\r\n", Err(BadRequest)),
            (Chunked, "0\r\nX: a\x7f\r\n\r\n", Err(BadRequest)),
        ];
        for &(length, input, expected) in table {
            let reader = BodyReader::new(length);
            assert_eq!(
                whole(reader.clone(), input.as_bytes()),
                expected,
                "{length:?} {input:?}"
            );
            let bytes = input.as_bytes();
            assert_eq!(
                feed(reader.clone(), bytes.chunks(1)),
                expected,
                "bytewise {input:?}"
            );
            for at in 0..=bytes.len() {
                let (a, b) = bytes.split_at(at);
                assert_eq!(
                    feed(reader.clone(), [a, b]),
                    expected,
                    "split at {at}: {input:?}"
                );
            }
        }
    }

    #[test]
    fn done_stays_done() {
        let mut reader = chunked();
        assert_eq!(reader.skip(b"0\r\n\r\n", &LIMITS), done(5));
        assert_eq!(reader.skip(b"0\r\n\r\n", &LIMITS), done(0));
    }

    #[test]
    fn extensions_and_trailers_share_a_budget() {
        // 64 bytes of extensions and trailers pass, 65 do not.
        let ext = format!(";{}", "e".repeat(39)); // 40 bytes
        let trailer = format!("T:{}\r\n", "v".repeat(20)); // 24 bytes
        let fits = format!("1{ext}\r\nx\r\n0\r\n{trailer}\r\n");
        assert_eq!(whole(chunked(), fits.as_bytes()), done(fits.len()));
        let over = format!("1{ext}\r\nx\r\n0;\r\n{trailer}\r\n");
        assert_eq!(whole(chunked(), over.as_bytes()), Err(Reject::BadRequest));
        let spaces = format!("1{}", " ".repeat(65));
        assert_eq!(whole(chunked(), spaces.as_bytes()), Err(Reject::BadRequest));
    }

    #[test]
    fn payload_limit_counts_all_chunks() {
        let at_limit = format!("32\r\n{0}\r\n32\r\n{0}\r\n0\r\n\r\n", "x".repeat(50));
        assert_eq!(whole(chunked(), at_limit.as_bytes()), done(at_limit.len()));
        let over = format!("32\r\n{0}\r\n33\r\n", "x".repeat(50));
        assert_eq!(
            whole(chunked(), over.as_bytes()),
            Err(Reject::ContentTooLarge)
        );
    }

    #[test]
    fn every_prefix_of_a_chunked_body_is_not_done() {
        let bodies = [
            "0\r\n\r\n",
            "5\r\nhello\r\n0\r\n\r\n",
            "3;name=value;q=\"x\"\r\nabc\r\n10\r\n0123456789abcdef\r\n0;last\r\nExpires: never\r\nX-Sum:  1 \r\n\r\n",
        ];
        for body in bodies {
            let bytes = body.as_bytes();
            for end in 0..bytes.len() {
                assert_eq!(
                    whole(chunked(), &bytes[..end]),
                    pending(end),
                    "{:?}",
                    &body[..end]
                );
            }
            let mut pipelined = bytes.to_vec();
            pipelined.extend_from_slice(b"GET / HTTP/1.1\r\n");
            assert_eq!(whole(chunked(), &pipelined), done(bytes.len()), "{body:?}");
        }
    }

    /// A chunked body: chunks of the given sizes, optional extensions, trailers.
    fn chunked_body() -> impl Strategy<Value = Vec<u8>> {
        let chunk = (
            1usize..40,
            proptest::option::of("[a-z]{1,5}(=[a-z0-9]{1,5})?"),
        );
        let chunks = proptest::collection::vec(chunk, 0..4);
        let trailers = proptest::collection::vec("[A-Za-z-]{1,8}: [ -~]{0,8}", 0..3);
        (chunks, trailers).prop_map(|(chunks, trailers)| {
            let mut body = String::new();
            for (size, ext) in chunks {
                let ext = ext.map(|e| format!(";{e}")).unwrap_or_default();
                body += &format!("{size:x}{ext}\r\n{}\r\n", "d".repeat(size));
            }
            body += "0\r\n";
            for trailer in trailers {
                body += &format!("{trailer}\r\n");
            }
            body += "\r\n";
            body.into_bytes()
        })
    }

    proptest! {
        #[test]
        fn random_bytes_never_panic(bytes in proptest::collection::vec(any::<u8>(), 0..200), n in 0u64..300) {
            for length in [BodyLength::Chunked, BodyLength::Length(n), BodyLength::Empty] {
                let _ = BodyReader::new(length).skip(&bytes, &LIMITS);
            }
        }

        #[test]
        fn split_chunked_body_is_same_as_whole(body in chunked_body(), tail in "[A-Z]{0,5}", cuts in proptest::collection::vec(any::<prop::sample::Index>(), 0..6)) {
            let mut input = body.clone();
            input.extend_from_slice(tail.as_bytes());
            let expected = whole(chunked(), &input);
            let payload: usize = body.len();
            prop_assert!(expected.is_err() || expected == done(payload));
            let mut at: Vec<usize> = cuts.iter().map(|i| i.index(input.len() + 1)).collect();
            at.sort_unstable();
            let pieces = std::iter::once(0).chain(at.iter().copied()).zip(at.iter().copied().chain(std::iter::once(input.len())));
            prop_assert_eq!(feed(chunked(), pieces.map(|(a, b)| &input[a..b])), expected);
        }

        #[test]
        fn split_random_bytes_is_same_as_whole(input in "[0-9a-fA-F;= \t\r\nxX:-]{0,60}", cuts in proptest::collection::vec(any::<prop::sample::Index>(), 0..6)) {
            let input = input.as_bytes();
            let mut at: Vec<usize> = cuts.iter().map(|i| i.index(input.len() + 1)).collect();
            at.sort_unstable();
            let pieces = std::iter::once(0).chain(at.iter().copied()).zip(at.iter().copied().chain(std::iter::once(input.len())));
            prop_assert_eq!(feed(chunked(), pieces.map(|(a, b)| &input[a..b])), whole(chunked(), input));
        }
    }
}
