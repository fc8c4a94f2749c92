//! Fuzz `parse_head` and `HeadMemo::parse` (src/protocol/framing.rs, framing/memo.rs).
//!
//! Input: two bytes that choose the limits, then the buffer as a read left it.
//!
//! * byte 0 chooses `max_head`: `1 + 32 * b` (1 ..= 8161);
//! * byte 1 chooses `max_body`: `(b & 0x3f) << (16 * (b >> 6))`
//!   (0 ..= 63, or up to 63 << 16, << 32, << 48);
//! * the rest is the buffer. A seed file written as text starts with two
//!   printable bytes, e.g. `~~` (max_head 4033, max_body 62 << 16).
//!
//! Invariants checked, all from the module docs and generic to any reject
//! reason (no reject variant is named, so new rules do not break the target):
//!
//! 1. no panic;
//! 2. `Complete(head)`: `0 < head.len <= buf.len()` and `head.len <= max_head`;
//! 3. the outcome depends only on the bytes, never on how they were split into
//!    reads: every proper prefix of the buffer gives `Partial` or the very
//!    outcome the whole buffer gives (a decided outcome never changes as more
//!    bytes arrive), every proper prefix of a complete head gives `Partial`,
//!    and the buffer cut to exactly `head.len` gives the same `Complete`;
//! 4. `HeadMemo::parse` gives `parse_head`'s outcome whatever was parsed
//!    before: two inputs (the buffer, and what follows its head, as in a
//!    pipeline) through one memo, in both orders, under two sets of limits.
#![no_main]

use hello_reactor::protocol::framing::{HeadMemo, Limits, Parse, parse_head};
use libfuzzer_sys::fuzz_target;

fn limits(b0: u8, b1: u8) -> Limits {
    Limits {
        max_head: 1 + 32 * usize::from(b0),
        max_body: u64::from(b1 & 0x3f) << (16 * u32::from(b1 >> 6)),
    }
}

/// Invariants 1–3 for one buffer; returns its outcome.
fn check_pure(buf: &[u8], limits: &Limits) -> Parse {
    let outcome = parse_head(buf, limits);
    assert_eq!(parse_head(buf, limits), outcome, "not deterministic");
    for end in prefix_ends(buf, limits) {
        let early = parse_head(&buf[..end], limits);
        assert!(
            early == Parse::Partial || early == outcome,
            "prefix of {end} bytes gave {early:?}, the whole {} bytes {outcome:?}",
            buf.len()
        );
    }
    if let Parse::Complete(head) = outcome {
        assert!(head.len > 0, "empty head: {head:?}");
        assert!(head.len <= buf.len(), "head beyond the buffer: {head:?}");
        assert!(head.len <= limits.max_head, "head over max_head: {head:?}");
        // Every proper prefix of a valid head is Partial: the loop above checks
        // it for the prefixes it visits (a prefix shorter than `head.len`
        // cannot give this very `Complete`, so it must have given `Partial`).
        assert_eq!(
            parse_head(&buf[..head.len], limits),
            outcome,
            "the head alone parses otherwise"
        );
    }
    outcome
}

/// The proper prefix lengths worth checking in `buf`.
///
/// Past `max_head` the parser must not look (its window is `max_head` bytes),
/// so longer prefixes say nothing new. Every length up to 256 is checked; past
/// that, the lengths that end within two bytes of a delimiter (CR, LF, SP,
/// HTAB, `:`), where the parser's decisions are made, then one in 61 and the
/// last eight. A long input so costs far fewer parses than one per byte.
fn prefix_ends<'a>(buf: &'a [u8], limits: &Limits) -> impl Iterator<Item = usize> + 'a {
    let top = buf.len().min(limits.max_head.saturating_add(1));
    let delimiter = |i: usize| matches!(buf.get(i), Some(b'\r' | b'\n' | b' ' | b'\t' | b':'));
    (0..top).filter(move |&end| {
        end < 256
            || end % 61 == 0
            || end + 8 >= top
            || (end.saturating_sub(2)..=end + 1).any(delimiter)
    })
}

/// Invariant 4: every parse through `memo` equals `parse_head`.
fn memo_parse(memo: &mut HeadMemo, buf: &[u8], limits: &Limits) -> Parse {
    let expected = parse_head(buf, limits);
    let got = memo.parse(buf, limits);
    assert_eq!(got, expected, "memo disagrees with parse_head");
    got
}

fuzz_target!(|data: &[u8]| {
    let [b0, b1, buf @ ..] = data else { return };
    let limits = limits(*b0, *b1);
    // Other limits, each differing in one field and most likely to change the
    // outcome, to check the memo never answers across limits.
    let (h, b) = (limits.max_head, limits.max_body);
    let others = [
        (h, 0),
        (h, b / 2),
        (h, u64::MAX),
        ((h / 2).max(1), b),
        (h + 1 + usize::from(*b0 & 7), b),
    ]
    .map(|(max_head, max_body)| Limits { max_head, max_body });

    let outcome = check_pure(buf, &limits);
    // What follows the head: the body, or the next request of a pipeline.
    let rest = match outcome {
        Parse::Complete(head) => &buf[head.len..],
        _ => &buf[buf.len() / 2..],
    };
    if let Parse::Complete(_) = outcome {
        check_pure(rest, &limits);
    }

    // The buffer, then what follows, then the buffer again (a memo hit), with
    // the other limits in between and every prefix at the end.
    let mut memo = HeadMemo::new();
    memo_parse(&mut memo, buf, &limits);
    memo_parse(&mut memo, rest, &limits);
    for other in &others {
        memo_parse(&mut memo, buf, other);
        memo_parse(&mut memo, buf, &limits);
        memo_parse(&mut memo, rest, other);
    }
    for end in prefix_ends(buf, &limits) {
        memo_parse(&mut memo, &buf[..end], &limits);
    }

    // The other order: what follows first, then the buffer.
    let mut memo = HeadMemo::new();
    memo_parse(&mut memo, rest, &limits);
    memo_parse(&mut memo, buf, &limits);
    memo_parse(&mut memo, rest, &limits);
});
