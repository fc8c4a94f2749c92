//! Fuzz `BodyReader::skip` (src/protocol/chunked.rs) with bodies split into
//! arbitrary reads.
//!
//! Input: a fixed layout read with `arbitrary::Unstructured`, so that a seed
//! file is a short binary header followed by the body as it would arrive:
//!
//! | bytes   | field                                                        |
//! |---------|--------------------------------------------------------------|
//! | 0..2    | `max_head`, u16 little-endian (extension + trailer budget)   |
//! | 2..4    | `max_body` mantissa, u16 LE                                  |
//! | 4       | `max_body` shift (mod 64): `max_body = mantissa << shift`    |
//! | 5       | framing: 0..=223 chunked, else `Content-Length` of bytes 6..10 |
//! | 6..10   | that length, u32 LE                                          |
//! | 10      | `n`: number of split bytes that follow (mod 64)              |
//! | 11..11+n | the split script: lengths of successive reads, each mod 64; the last read takes the rest |
//! | then    | the body bytes                                               |
//!
//! A short input is padded with zeros (`Unstructured` semantics).
//!
//! Invariants, generic to any reject reason (no variant is named):
//!
//! 1. no panic;
//! 2. every call consumes at most its input, and all of it unless done;
//! 3. the outcome (done at which offset, the reject, or "needs more") and the
//!    reader's state afterwards are the same however the bytes were split,
//!    read whole or one byte at a time;
//! 4. once done, nothing more is consumed and the reader stays done.
#![no_main]

use arbitrary::{Arbitrary, Unstructured};
use hello_reactor::protocol::framing::{BodyLength, BodyReader, Limits, Reject};
use libfuzzer_sys::fuzz_target;

#[derive(Debug)]
struct Input<'a> {
    max_head: u16,
    body_mantissa: u16,
    body_shift: u8,
    framing: u8,
    length: u32,
    splits: &'a [u8],
    body: &'a [u8],
}

impl<'a> Arbitrary<'a> for Input<'a> {
    fn arbitrary(u: &mut Unstructured<'a>) -> arbitrary::Result<Self> {
        let mut header = [0u8; 11];
        let available = u.len().min(header.len());
        header[..available].copy_from_slice(u.bytes(available)?);
        let n = usize::from(header[10] % 64).min(u.len());
        let splits = u.bytes(n)?;
        let body = u.bytes(u.len())?;
        Ok(Input {
            max_head: u16::from_le_bytes([header[0], header[1]]),
            body_mantissa: u16::from_le_bytes([header[2], header[3]]),
            body_shift: header[4],
            framing: header[5],
            length: u32::from_le_bytes([header[6], header[7], header[8], header[9]]),
            splits,
            body,
        })
    }
}

/// How a whole feed ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Outcome {
    /// Done after this many bytes; the rest is the next request's.
    Done(usize),
    /// Every byte consumed, more body expected.
    NeedsMore,
    /// Refused.
    Rejected(Reject),
}

/// Feed `pieces` in order as reads would; check invariants 2 and 4 on every
/// call. Returns the outcome and the reader afterwards.
fn feed<'a>(
    framing: BodyLength,
    pieces: impl IntoIterator<Item = &'a [u8]>,
    limits: &Limits,
) -> (Outcome, BodyReader) {
    let mut reader = BodyReader::new(framing);
    let mut offset = 0;
    let mut done_at = None;
    for piece in pieces {
        match reader.skip(piece, limits) {
            Err(reject) => return (Outcome::Rejected(reject), reader),
            Ok(skip) => {
                assert!(skip.consumed <= piece.len(), "consumed beyond the input");
                if let Some(at) = done_at {
                    assert!(
                        skip.done && skip.consumed == 0,
                        "consumed after done at {at}"
                    );
                    continue;
                }
                offset += skip.consumed;
                if skip.done {
                    done_at = Some(offset);
                } else {
                    assert_eq!(skip.consumed, piece.len(), "not done, yet input left");
                }
            }
        }
    }
    // An empty read changes nothing; it also tells whether a reader that was
    // given no bytes at all (an empty or zero-length body) is done.
    let before = reader.clone();
    let last = reader.skip(&[], limits).expect("an empty read was refused");
    assert_eq!(last.consumed, 0, "an empty read consumed bytes");
    if done_at.is_some() {
        assert!(last.done, "done, then not done");
    } else if last.done {
        // Done without any read saying so: only if it never needed a byte.
        assert_eq!(offset, 0, "became done silently");
    }
    assert_eq!(reader, before, "an empty read moved the reader");
    let outcome = match done_at {
        Some(at) => Outcome::Done(at),
        None if last.done => Outcome::Done(offset),
        None => Outcome::NeedsMore,
    };
    (outcome, reader)
}

fuzz_target!(|input: Input<'_>| {
    let limits = Limits {
        max_head: usize::from(input.max_head),
        max_body: u64::from(input.body_mantissa) << (input.body_shift % 64),
    };
    let framing = match input.framing {
        0..=223 => BodyLength::Chunked,
        _ => BodyLength::Length(u64::from(input.length)),
    };
    let body = input.body;

    // Whole, in one read.
    let (whole, whole_reader) = feed(framing, [body], &limits);

    // Split by the script.
    let mut pieces = Vec::new();
    let mut rest = body;
    for &split in input.splits {
        let n = usize::from(split % 64).min(rest.len());
        let (piece, tail) = rest.split_at(n);
        pieces.push(piece);
        rest = tail;
    }
    pieces.push(rest);
    let (split, split_reader) = feed(framing, pieces.iter().copied(), &limits);
    assert_eq!(split, whole, "the split changed the outcome");
    if !matches!(whole, Outcome::Rejected(_)) {
        assert_eq!(
            split_reader, whole_reader,
            "the split changed the reader's state"
        );
    }

    // One byte at a time (bounded, to keep each run fast).
    if body.len() <= 4096 {
        let (bytewise, bytewise_reader) = feed(framing, body.chunks(1), &limits);
        assert_eq!(bytewise, whole, "byte-at-a-time changed the outcome");
        if !matches!(whole, Outcome::Rejected(_)) {
            assert_eq!(
                bytewise_reader, whole_reader,
                "byte-at-a-time changed the state"
            );
        }
    }

    // Once done, the reader stays done and takes nothing, whatever comes next.
    if let Outcome::Done(at) = whole {
        let mut reader = whole_reader.clone();
        for tail in [&body[at..], b"0\r\n\r\n".as_slice(), body] {
            let skip = reader.skip(tail, &limits);
            assert_eq!(
                skip.map(|s| (s.consumed, s.done)),
                Ok((0, true)),
                "took bytes after done"
            );
        }
    }
});
