//! Checks of the response framer (`cargo test`); each returns its first failure
//! as a message, so a failing case says what it was fed.

use proptest::collection::vec;
use proptest::prelude::*;
use proptest::test_runner::{Config, TestRunner};

use crate::parse::{MAX_HEAD, ParseError, ResponseParser};

const FLOOR: &[u8] = b"HTTP/1.1 200 OK\r\nServer: floor\r\nContent-Type: text/plain\r\nContent-Length: 13\r\n\r\nHello, World!";

#[test]
fn framer() -> Result<(), String> {
    many_responses_in_one_read()?;
    rejects_what_it_cannot_frame()?;
    splits_do_not_matter()
}

fn statuses(parser: &mut ResponseParser, data: &[u8]) -> Result<Vec<u16>, ParseError> {
    let mut out = Vec::new();
    parser.feed(data, |s| out.push(s))?;
    Ok(out)
}

fn many_responses_in_one_read() -> Result<(), String> {
    let mut stream = FLOOR.repeat(5);
    stream.extend_from_slice(b"HTTP/1.1 404 Not Found\r\ncontent-length:  0 \r\n\r\n");
    stream.extend_from_slice(b"HTTP/1.0 204\r\n\r\n");
    stream.extend_from_slice(b"HTTP/1.1 100 Continue\r\n\r\n");
    stream.extend_from_slice(b"HTTP/1.1 503 Busy\nContent-Length: 2\n\nno");
    let mut p = ResponseParser::new();
    let got = statuses(&mut p, &stream).map_err(|e| e.to_string())?;
    if got != [200, 200, 200, 200, 200, 404, 204, 503] || !p.is_idle() {
        return Err(format!("many responses in one read: got {got:?}"));
    }
    Ok(())
}

fn rejects_what_it_cannot_frame() -> Result<(), String> {
    let big = [b'a'; MAX_HEAD + 1];
    let cases: &[(&[u8], ParseError)] = &[
        (b"HTTP/2 200 OK\r\n\r\n", ParseError::StatusLine),
        (b"HTTP/1.1 20 OK\r\n\r\n", ParseError::StatusLine),
        (b"HTTP/1.1 200OK\r\n\r\n", ParseError::StatusLine),
        (
            b"HTTP/1.1 200 OK\r\nNoColon\r\n\r\n",
            ParseError::HeaderLine,
        ),
        (
            b"HTTP/1.1 200 OK\r\nA: b\r\n folded\r\n\r\n",
            ParseError::HeaderLine,
        ),
        (
            b"HTTP/1.1 200 OK\r\nContent-Length: 1x\r\n\r\n",
            ParseError::ContentLength,
        ),
        (
            b"HTTP/1.1 200 OK\r\nContent-Length: 1\r\nContent-Length: 2\r\n\r\n",
            ParseError::ContentLength,
        ),
        (
            b"HTTP/1.1 200 OK\r\nServer: x\r\n\r\n",
            ParseError::NoContentLength,
        ),
        (
            b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n",
            ParseError::TransferEncoding,
        ),
        (&big, ParseError::HeadTooLarge),
    ];
    for (input, want) in cases {
        let got = ResponseParser::new().feed(input, |_| {});
        if got != Err(*want) {
            let shown = String::from_utf8_lossy(&input[..input.len().min(80)]);
            return Err(format!("{shown:?}: got {got:?}, want {want:?}"));
        }
    }
    Ok(())
}

/// Any split of a stream of responses frames exactly the same responses.
fn splits_do_not_matter() -> Result<(), String> {
    let mut runner = TestRunner::new(Config {
        cases: 512,
        failure_persistence: None,
        ..Config::default()
    });
    let strategy = (1usize..20, vec(0usize..40, 20), vec(0usize..2000, 0..30));
    runner
        .run(&strategy, |(n, bodies, cuts)| {
            let mut stream = Vec::new();
            let mut want = Vec::new();
            for (i, &len) in bodies.iter().take(n).enumerate() {
                let status = if i % 3 == 0 { 200 } else { 500 + i as u16 };
                // '\r' in a value and in the body exercise the terminator search.
                let head = format!("HTTP/1.1 {status} X\r\nContent-Length: {len}\r\nX: \r\r\n\r\n");
                stream.extend_from_slice(head.as_bytes());
                stream.extend(std::iter::repeat_n(b'\r', len));
                want.push(status);
            }
            let mut cuts: Vec<usize> = cuts.into_iter().map(|c| c % (stream.len() + 1)).collect();
            cuts.extend([0, stream.len()]);
            cuts.sort_unstable();
            let mut p = ResponseParser::new();
            let mut got = Vec::new();
            for w in cuts.windows(2) {
                p.feed(&stream[w[0]..w[1]], |s| got.push(s))
                    .map_err(|e| TestCaseError::fail(e.to_string()))?;
            }
            prop_assert_eq!(got, want);
            prop_assert!(p.is_idle());
            Ok(())
        })
        .map_err(|e| format!("splits: {e}"))
}
