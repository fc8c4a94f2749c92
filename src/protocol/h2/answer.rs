//! The fixed answer as HTTP/2 sends it: one field block, encoded once at start,
//! and the body, shared by every stream of every connection.
//!
//! The same status, fields and body as HTTP/1.1's [`Answer`] (see
//! [`crate::protocol::response`]), with the changes HTTP/2 asks for: field names
//! in lowercase (RFC 9113 §8.2.1), no connection-specific fields (§8.2.2), and no
//! `Connection` variants (persistence is the connection's, not the answer's).
//! The block is HPACK literals without indexing ([`BlockWriter`]), so the `date`
//! value sits at a known offset and [`H2Answer::refresh_date`] patches it in
//! place, once a second, exactly as HTTP/1.1's `Date` is patched.
//!
//! A large `--body-size` body is never stored whole here either: DATA frames are
//! cut from the one shared block of the pattern ([`pattern::slice_at`]), as the
//! HTTP/1.1 driver writes it, so a 1 GiB body costs 64 KiB, not 1 GiB per loop.

use std::time::SystemTime;

use log::warn;

use super::hpack::BlockWriter;
use crate::protocol::faults::FaultSettings;
use crate::protocol::pattern;
use crate::protocol::response::{Answer, DATE_LEN, check_header, date_if_new, failure_body};
use crate::protocol::status::{Content, Status};

/// Fields HTTP/2 forbids in any message (RFC 9113 §8.2.2), beyond those
/// [`check_header`] already keeps out of every answer.
const CONNECTION_SPECIFIC: [&str; 4] = ["keep-alive", "proxy-connection", "upgrade", "te"];

/// An answer's body: its bytes, or a large `--body-size` pattern cut from one block.
#[derive(Debug, Clone)]
enum Body {
    Bytes(Vec<u8>),
    Pattern { len: usize, block: Box<[u8]> },
}

/// The HTTP/2 answer: its field block and body.
#[derive(Debug, Clone)]
pub struct H2Answer {
    block: Vec<u8>,
    date_at: usize,
    body: Body,
    status: Status,
    date_second: u64,
}

impl H2Answer {
    /// Encode `answer`, dated `now` (the caller reads the clock).
    pub fn new(answer: &Answer<'_>, now: SystemTime) -> H2Answer {
        let content = answer.status.content();
        let mut block = BlockWriter::new();
        block.status(answer.status.code());
        block.field(b"server", b"hello-reactor");
        let date_at = block.field(b"date", &[b' '; DATE_LEN]);
        if content == Content::Body {
            block.field(b"content-type", answer.content_type.as_bytes());
        }
        for (name, value) in answer.headers {
            let lower = name.to_ascii_lowercase();
            match check_header(name, value) {
                Ok(()) if CONNECTION_SPECIFIC.contains(&lower.as_str()) => {
                    warn!("header left out of the HTTP/2 answer: {name} is connection-specific")
                }
                Ok(()) => drop(block.field(lower.as_bytes(), value.as_bytes())),
                Err(e) => warn!("header left out of the answer: {e}"),
            }
        }
        let body = match (content, answer.streamed) {
            (Content::None, _) => Body::Bytes(Vec::new()),
            (Content::Empty, _) => {
                block.field(b"content-length", b"0");
                Body::Bytes(Vec::new())
            }
            (Content::Body, Some(size)) => {
                block.field(b"content-length", size.to_string().as_bytes());
                Body::Pattern {
                    len: usize::try_from(size).unwrap_or(usize::MAX),
                    block: pattern::block(),
                }
            }
            (Content::Body, None) => {
                block.field(b"content-length", answer.body.len().to_string().as_bytes());
                Body::Bytes(answer.body.to_vec())
            }
        };
        let mut h2 = H2Answer {
            block: block.bytes,
            date_at,
            body,
            status: answer.status,
            date_second: 0,
        };
        h2.refresh_date(now);
        h2
    }

    /// The injected failure (`--fail-rate`), as HTTP/1.1 renders it; `None`
    /// without a fail rate (nothing is rendered that no stream would get).
    pub fn failure(faults: &FaultSettings, now: SystemTime) -> Option<H2Answer> {
        if faults.fail_rate <= 0.0 {
            return None;
        }
        let body = failure_body(faults.fail_status);
        Some(H2Answer::new(
            &Answer::failure(faults.fail_status, &body),
            now,
        ))
    }

    /// Re-render `date` if `now` is in a later second. Returns whether it changed.
    pub fn refresh_date(&mut self, now: SystemTime) -> bool {
        let Some(date) = date_if_new(&mut self.date_second, now) else {
            return false;
        };
        self.block[self.date_at..self.date_at + DATE_LEN].copy_from_slice(&date);
        true
    }

    /// The field block of every answer.
    pub fn block(&self) -> &[u8] {
        &self.block
    }

    /// The body's length (0 for 204, 205, 304).
    pub fn body_len(&self) -> usize {
        match &self.body {
            Body::Bytes(bytes) => bytes.len(),
            Body::Pattern { len, .. } => *len,
        }
    }

    /// The body's bytes from `offset` on, at most `max` of them; fewer where a
    /// pattern's block ends (at least 64 KiB less a line): the caller sends what it
    /// got and asks again from where that ended.
    pub fn body_at(&self, offset: usize, max: usize) -> &[u8] {
        match &self.body {
            Body::Bytes(bytes) => &bytes[offset..bytes.len().min(offset + max)],
            Body::Pattern { len, block } => {
                let left = len.saturating_sub(offset).min(max);
                pattern::slice_at(block, offset as u64, left as u64)
            }
        }
    }

    /// The status, for the counters.
    pub fn status(&self) -> Status {
        self.status
    }
}

#[cfg(test)]
mod tests {
    use super::super::hpack::Decoder;
    use super::*;
    use std::time::UNIX_EPOCH;

    fn fields(answer: &H2Answer) -> Vec<(String, String)> {
        let mut out = Vec::new();
        Decoder::new(4096)
            .decode(answer.block(), usize::MAX, |n, v| {
                out.push((
                    String::from_utf8_lossy(n).into(),
                    String::from_utf8_lossy(v).into(),
                ))
            })
            .unwrap();
        out
    }

    #[test]
    fn the_default_answer_and_its_date_patch() {
        let at = UNIX_EPOCH + std::time::Duration::from_secs(1_796_083_200);
        let mut answer = H2Answer::new(&Answer::DEFAULT, at);
        let expect = |date: &str| {
            vec![
                (":status".to_string(), "200".to_string()),
                ("server".into(), "hello-reactor".into()),
                ("date".into(), date.into()),
                ("content-type".into(), "text/plain; charset=utf-8".into()),
                ("content-length".into(), "13".into()),
            ]
        };
        assert_eq!(fields(&answer), expect("Tue, 01 Dec 2026 00:00:00 GMT"));
        assert!(!answer.refresh_date(at));
        assert!(answer.refresh_date(at + std::time::Duration::from_secs(61)));
        assert_eq!(fields(&answer), expect("Tue, 01 Dec 2026 00:01:01 GMT"));
        assert_eq!(answer.body_at(0, usize::MAX), b"Hello, World!");
    }

    #[test]
    fn names_are_lowercased_and_connection_fields_left_out() {
        let headers = [
            ("X-From-The-Command-Line".to_string(), "1".to_string()),
            ("Keep-Alive".into(), "timeout=5".into()),
            ("Upgrade".into(), "h2c".into()),
        ];
        let answer = Answer {
            status: Status::new(204).unwrap(),
            headers: &headers,
            ..Answer::DEFAULT
        };
        let answer = H2Answer::new(&answer, UNIX_EPOCH);
        let names: Vec<String> = fields(&answer).into_iter().map(|(n, _)| n).collect();
        assert_eq!(
            names,
            [":status", "server", "date", "x-from-the-command-line"]
        );
        assert_eq!(answer.body_len(), 0);
    }

    #[test]
    fn a_large_pattern_body_is_cut_from_one_block() {
        let size = 3 * pattern::BLOCK_LEN as u64 + 5;
        let answer = Answer {
            body: &[],
            streamed: Some(size),
            ..Answer::DEFAULT
        };
        let answer = H2Answer::new(&answer, UNIX_EPOCH);
        assert!(fields(&answer).contains(&("content-length".into(), size.to_string())));
        assert_eq!(answer.body_len(), size as usize);
        let mut copy = Vec::new();
        while copy.len() < answer.body_len() {
            let piece = answer.body_at(copy.len(), 16_384 + copy.len() % 7);
            assert!(!piece.is_empty());
            copy.extend_from_slice(piece);
        }
        assert_eq!(copy, pattern::body(size as usize));
    }
}
