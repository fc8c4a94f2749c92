//! Pipelining: many requests in one write are answered in order, and how the bytes
//! are split into segments never changes the answers.

mod common;

use std::io::Write;
use std::net::SocketAddr;
use std::time::Duration;

use common::{Reader, connect, start_default};
use proptest::prelude::*;
use proptest::test_runner::{Config as ProptestConfig, TestRunner};

/// One request of a pipeline and whether its response has no body.
struct Request {
    bytes: Vec<u8>,
    is_head: bool,
}

/// Request `i` of `n`: an irregular mix of methods, with and without bodies, so that
/// a reordered or dropped response breaks the parse of the ones after it. The last
/// request asks to close.
fn request(i: usize, n: usize) -> Request {
    let close = if i + 1 == n {
        "Connection: close\r\n"
    } else {
        ""
    };
    let (bytes, is_head) = match i % 7 {
        0 => (
            format!("GET /{i} HTTP/1.1\r\nHost: t\r\n{close}\r\n"),
            false,
        ),
        1 | 4 => (
            format!("HEAD /{i} HTTP/1.1\r\nHost: t\r\n{close}\r\n"),
            true,
        ),
        2 => {
            let body = format!("body of request {i}");
            (
                format!(
                    "POST /{i} HTTP/1.1\r\nHost: t\r\nContent-Length: {}\r\n{close}\r\n{body}",
                    body.len()
                ),
                false,
            )
        }
        3 => (
            format!("DELETE /{i} HTTP/1.1\r\nHost: t\r\n{close}\r\n"),
            false,
        ),
        5 => (
            format!(
                "PUT /{i} HTTP/1.1\r\nHost: t\r\nTransfer-Encoding: chunked\r\n{close}\r\n4\r\nwxyz\r\n0\r\n\r\n"
            ),
            false,
        ),
        _ => (
            format!("OPTIONS * HTTP/1.1\r\nHost: t\r\n{close}\r\n"),
            false,
        ),
    };
    Request {
        bytes: bytes.into_bytes(),
        is_head,
    }
}

/// Send `n` pipelined requests from a writer thread (so a large pipeline cannot
/// deadlock on full socket buffers) and check the `n` responses, in order, then EOF.
fn pipeline(addr: SocketAddr, n: usize) {
    let requests: Vec<Request> = (0..n).map(|i| request(i, n)).collect();
    let bytes: Vec<u8> = requests.iter().flat_map(|r| r.bytes.clone()).collect();
    let mut reader = Reader::new(connect(addr));
    let mut writer = reader.stream.try_clone().unwrap();
    let writing = std::thread::spawn(move || writer.write_all(&bytes));
    for (i, request) in requests.iter().enumerate() {
        let response = reader
            .try_response(request.is_head)
            .unwrap_or_else(|e| panic!("response {i} of {n}: {e}"));
        assert_eq!(response.status, 200, "response {i}: {}", response.head);
        let expected_body: &[u8] = if request.is_head {
            b""
        } else {
            b"Hello, World!"
        };
        assert_eq!(response.body, expected_body, "response {i}");
        assert_eq!(
            response.header("Content-Length"),
            Some("13"),
            "response {i}"
        );
        let expected_connection = (i + 1 == n).then_some("close");
        assert_eq!(
            response.header("Connection"),
            expected_connection,
            "response {i}: {}",
            response.head
        );
    }
    let rest = reader.read_to_close().expect("a clean close");
    assert!(
        rest.is_empty(),
        "bytes after the last response: {:?}",
        String::from_utf8_lossy(&rest)
    );
    writing.join().unwrap().expect("the pipeline was written");
}

mod in_one_write {
    use super::*;

    #[test]
    fn a_hundred_pipelined_requests_get_a_hundred_responses_in_order() {
        let server = start_default();
        pipeline(server.addr(), 100);
    }

    #[test]
    fn a_pipeline_larger_than_the_socket_buffers_is_answered_in_order() {
        // About 200 KB of requests and 700 KB of responses: the server must stop
        // reading while its output waits, and resume, without losing order.
        let server = start_default();
        pipeline(server.addr(), 5000);
    }
}

mod large_responses {
    use super::*;

    #[test]
    fn pipelined_requests_for_a_large_body_are_all_delivered_whole() {
        // 50 responses of 256 KiB: far more than any socket buffer, so most of the
        // output waits in the server while the client reads slowly.
        let body: Vec<u8> = (0..256 * 1024).map(|i| (i % 251) as u8).collect();
        let served = body.clone();
        let server = common::start(move |config| config.body = served);
        let mut reader = Reader::new(connect(server.addr()));
        let mut writer = reader.stream.try_clone().unwrap();
        let mut requests = common::GET.repeat(49);
        requests.extend_from_slice(b"GET /last HTTP/1.1\r\nHost: t\r\nConnection: close\r\n\r\n");
        let writing = std::thread::spawn(move || writer.write_all(&requests));
        for i in 0..50 {
            let response = reader
                .try_response(false)
                .unwrap_or_else(|e| panic!("response {i}: {e}"));
            assert_eq!(response.status, 200, "response {i}");
            assert!(response.body == body, "response {i}: the body differs");
            if i % 10 == 0 {
                std::thread::sleep(Duration::from_millis(5));
            }
        }
        let rest = reader.read_to_close().expect("a clean close");
        assert!(
            rest.is_empty(),
            "{} bytes after the last response",
            rest.len()
        );
        writing.join().unwrap().expect("the pipeline was written");
    }
}

mod arbitrary_splits {
    use super::*;

    /// Several requests, including a Content-Length body, a chunked body with an
    /// extension and a trailer, and a HEAD; the last one closes.
    const STREAM: &[u8] = b"GET /a HTTP/1.1\r\nHost: t\r\n\r\n\
        POST /b HTTP/1.1\r\nHost: t\r\nContent-Length: 11\r\n\r\nhello world\
        HEAD /c HTTP/1.1\r\nHost: t\r\n\r\n\
        POST /d HTTP/1.1\r\nHost: t\r\nTransfer-Encoding: chunked\r\n\r\n5;ext=1\r\nhello\r\n1a\r\nabcdefghijklmnopqrstuvwxyz\r\n0\r\nTrailer: yes\r\n\r\n\
        OPTIONS * HTTP/1.1\r\nHost: t\r\n\r\n\
        DELETE /e?x=1 HTTP/1.1\r\nHost: t\r\nContent-Length: 2\r\n\r\nok\
        GET /f HTTP/1.1\r\nHost: t\r\nConnection: close\r\n\r\n";

    /// Which requests of [`STREAM`] are HEADs.
    const HEADS: [bool; 7] = [false, false, true, false, false, false, false];

    /// Blank out every `Date` value so runs in different seconds compare equal.
    fn normalize(mut bytes: Vec<u8>) -> Vec<u8> {
        let mut from = 0;
        while let Some(at) = common::find(&bytes[from..], b"\r\nDate: ") {
            let start = from + at + 8;
            let end = (start + 29).min(bytes.len());
            bytes[start..end].fill(b'#');
            from = end;
        }
        bytes
    }

    /// Write `STREAM` cut at `cuts`, flushing each piece as its own segment, and
    /// return everything the server sent until it closed.
    fn transcript(addr: SocketAddr, cuts: &[usize]) -> Vec<u8> {
        let mut reader = Reader::new(connect(addr));
        let mut start = 0;
        for &cut in cuts.iter().chain(std::iter::once(&STREAM.len())) {
            if cut > start {
                reader.stream.write_all(&STREAM[start..cut]).unwrap();
                reader.stream.flush().unwrap();
                std::thread::sleep(Duration::from_micros(300));
                start = cut;
            }
        }
        reader.read_to_close().expect("a clean close")
    }

    /// Cut points: sorted, distinct, inside the stream.
    fn cuts() -> impl Strategy<Value = Vec<usize>> {
        prop_oneof![
            // A few cuts anywhere.
            proptest::collection::vec(1..STREAM.len(), 0..8),
            // Many cuts: small pieces, down to single bytes.
            proptest::collection::vec(1..STREAM.len(), 8..64),
        ]
        .prop_map(|mut cuts| {
            cuts.sort_unstable();
            cuts.dedup();
            cuts
        })
    }

    #[test]
    fn any_split_of_a_pipeline_gets_the_same_responses() {
        let server = start_default();
        let addr = server.addr();

        let reference = transcript(addr, &[]);
        // The reference itself is right: seven responses, the HEAD's without a body.
        let mut at = 0;
        for (i, &is_head) in HEADS.iter().enumerate() {
            let head_len = common::find(&reference[at..], b"\r\n\r\n")
                .unwrap_or_else(|| panic!("no head for response {i}"))
                + 4;
            let head = std::str::from_utf8(&reference[at..at + head_len]).unwrap();
            assert!(
                head.starts_with("HTTP/1.1 200 OK\r\n"),
                "response {i}: {head}"
            );
            assert_eq!(
                head.contains("Connection: close"),
                i == 6,
                "response {i}: {head}"
            );
            at += head_len;
            if !is_head {
                assert_eq!(&reference[at..at + 13], b"Hello, World!", "response {i}");
                at += 13;
            }
        }
        assert_eq!(at, reference.len(), "extra bytes after seven responses");
        let reference = normalize(reference);

        let mut runner = TestRunner::new(ProptestConfig {
            failure_persistence: None,
            ..ProptestConfig::with_cases(32)
        });
        runner
            .run(&cuts(), |cuts| {
                let got = normalize(transcript(addr, &cuts));
                prop_assert_eq!(
                    String::from_utf8_lossy(&got),
                    String::from_utf8_lossy(&reference),
                    "cuts {:?}",
                    cuts
                );
                Ok(())
            })
            .unwrap();
    }
}
