//! The last head parsed, remembered: a client on a kept-alive connection sends
//! the same head again and again, so the loop compares bytes instead of parsing.
//!
//! [`parse_head`] is a pure function of the bytes and the [`Limits`], and the
//! outcome for a buffer that *starts with* a complete head is decided by that
//! head's bytes alone: the parser stops at the blank line that ends it, and the
//! window it looks at (the first `max_head` bytes) always holds the whole head.
//! So when a new request starts with exactly the bytes of the last head that
//! parsed as [`Parse::Complete`], under the same limits, the outcome is the same
//! [`Head`], and one `memcmp` of the head replaces the parse and every check
//! (nothing is skipped: the bytes already passed them all).
//!
//! ```text
//!   buf:  GET / HTTP/1.1\r\nHost: a\r\n\r\nGET / HTTP/1.1\r\n...
//!         |<--------- memo.bytes ------->|
//!         equal? -> Complete(memo.head)    differs? -> parse_head(buf), remember it
//! ```
//!
//! Only heads up to [`MEMO_MAX`] bytes are remembered, so a miss costs at most a
//! comparison that short. One entry serves the whole loop: benchmark tools send
//! one head on every connection, and a browser's heads differ between
//! connections (cookies, paths), where the memo simply misses and parses.
//! Rejected and partial heads are never remembered: they are parsed every time.

use super::{Head, Limits, Parse, parse_head};

/// The longest head worth remembering: a typical tool's or browser's head, not a
/// limit-sized one whose comparison would cost as much as a parse.
pub const MEMO_MAX: usize = 1024;

/// The last complete head parsed, with the limits it was parsed under.
#[derive(Debug, Default)]
pub struct HeadMemo {
    bytes: Vec<u8>,
    entry: Option<(Head, Limits)>,
}

impl HeadMemo {
    /// An empty memo.
    pub fn new() -> HeadMemo {
        HeadMemo::default()
    }

    /// [`parse_head`], answered from the memo when `buf` starts with its head.
    pub fn parse(&mut self, buf: &[u8], limits: &Limits) -> Parse {
        if let Some((head, memo_limits)) = self.entry
            && memo_limits == *limits
            && buf.starts_with(&self.bytes)
        {
            return Parse::Complete(head);
        }
        let parse = parse_head(buf, limits);
        if let Parse::Complete(head) = parse
            && head.len <= MEMO_MAX
        {
            self.bytes.clear();
            self.bytes.extend_from_slice(&buf[..head.len]);
            self.entry = Some((head, *limits));
        }
        parse
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::protocol::framing::{BodyLength, Persistence, Reject};
    use proptest::prelude::*;

    const LIMITS: Limits = Limits {
        max_head: 256,
        max_body: 1000,
    };

    #[test]
    fn a_repeated_head_is_answered_from_the_memo() {
        let mut memo = HeadMemo::new();
        let two = b"GET / HTTP/1.1\r\nHost: a\r\n\r\nGET / HTTP/1.1\r\nHost: a\r\n\r\n";
        let first = memo.parse(two, &LIMITS);
        assert_eq!(first, parse_head(two, &LIMITS));
        assert_eq!(memo.bytes, &two[..27]);
        assert_eq!(memo.parse(&two[27..], &LIMITS), first);
    }

    #[test]
    fn a_head_that_differs_anywhere_is_parsed_again() {
        let mut memo = HeadMemo::new();
        let base = "GET / HTTP/1.1\r\nHost: a\r\n\r\n";
        assert!(matches!(
            memo.parse(base.as_bytes(), &LIMITS),
            Parse::Complete(_)
        ));
        let table = [
            // The same start, then one more field: not the remembered head.
            "GET / HTTP/1.1\r\nHost: a\r\nConnection: close\r\n\r\n",
            "HEAD / HTTP/1.1\r\nHost: a\r\n\r\n",
            "GET / HTTP/1.0\r\nHost: a\r\n\r\n",
            "GET / HTTP/1.1\r\nHost: a\r\nContent-Length: 5000\r\n\r\n",
            "GET / HTTP/1.1\r\nHost: a b\r\n\r\n",
            "GET / HTTP/1.1\r\nHost: a\r\n",
        ];
        for request in table {
            let mut fresh = HeadMemo::new();
            fresh.parse(base.as_bytes(), &LIMITS);
            let expected = parse_head(request.as_bytes(), &LIMITS);
            assert_eq!(
                fresh.parse(request.as_bytes(), &LIMITS),
                expected,
                "{request:?}"
            );
        }
        let close = "GET / HTTP/1.1\r\nHost: a\r\nConnection: close\r\n\r\n";
        let Parse::Complete(head) = memo.parse(close.as_bytes(), &LIMITS) else {
            panic!("not complete");
        };
        assert_eq!(head.persistence, Persistence::Close);
    }

    #[test]
    fn other_limits_are_not_answered_from_the_memo() {
        let mut memo = HeadMemo::new();
        let request = b"POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 500\r\n\r\n";
        let Parse::Complete(head) = memo.parse(request, &LIMITS) else {
            panic!("not complete");
        };
        assert_eq!(head.body, BodyLength::Length(500));
        let tighter = Limits {
            max_body: 100,
            ..LIMITS
        };
        assert_eq!(
            memo.parse(request, &tighter),
            Parse::Reject(Reject::ContentTooLarge)
        );
    }

    #[test]
    fn rejected_partial_and_long_heads_are_not_remembered() {
        let mut memo = HeadMemo::new();
        memo.parse(b"GET / HTTP/1.1\r\n\r\n", &LIMITS); // no Host: 400
        memo.parse(b"GET / HTTP/1.1\r\nHost: a\r\n", &LIMITS);
        let limits = Limits {
            max_head: 4 * MEMO_MAX,
            ..LIMITS
        };
        let long = format!("GET /{} HTTP/1.1\r\nHost: a\r\n\r\n", "x".repeat(MEMO_MAX));
        assert!(matches!(
            memo.parse(long.as_bytes(), &limits),
            Parse::Complete(_)
        ));
        assert!(memo.entry.is_none() && memo.bytes.is_empty());
    }

    /// A head from parts that each may or may not be valid.
    fn request() -> impl Strategy<Value = Vec<u8>> {
        let method = prop::sample::select(vec!["GET", "HEAD", "POST", "G T"]);
        let version = prop::sample::select(vec!["HTTP/1.1", "HTTP/1.0", "HTTP/1.7", "HTTP/2.0"]);
        let field = prop::sample::select(vec![
            "Host: a\r\n",
            "Host: b\r\n",
            "Connection: close\r\n",
            "Connection: keep-alive\r\n",
            "Content-Length: 3\r\n",
            "Content-Length: 3000\r\n",
            "Transfer-Encoding: chunked\r\n",
            "Expect: 100-continue\r\n",
            "\r\n",
        ]);
        (method, version, prop::collection::vec(field, 0..5))
            .prop_map(|(m, v, fields)| format!("{m} / {v}\r\n{}\r\n", fields.concat()).into_bytes())
    }

    proptest! {
        /// Whatever came before, the memo's outcome is `parse_head`'s, for a head
        /// followed by anything, and for every prefix of it.
        #[test]
        fn the_memo_never_changes_an_outcome(
            earlier in prop::collection::vec(request(), 0..4),
            head in request(),
            tail in prop::collection::vec(any::<u8>(), 0..8),
        ) {
            let mut memo = HeadMemo::new();
            for bytes in &earlier {
                memo.parse(bytes, &LIMITS);
            }
            let buf = [head.as_slice(), &tail].concat();
            for end in 0..=buf.len() {
                prop_assert_eq!(memo.parse(&buf[..end], &LIMITS), parse_head(&buf[..end], &LIMITS));
            }
        }
    }
}
