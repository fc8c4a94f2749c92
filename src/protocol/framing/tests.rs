//! Tests of [`super`]: tables, every prefix, every split, and proptests.
use super::*;
use BodyLength::{Chunked, Empty, Length};
use Persistence::{Close, KeepAlive, KeepAliveExplicit};
use Reject::*;
use proptest::prelude::*;

fn limits(max_head: usize) -> Limits {
    Limits {
        max_head,
        max_body: 1000,
    }
}

/// Parse `head`, in which `|` stands for CRLF, with a 1 KiB head limit.
fn parse(head: &str) -> Parse {
    parse_head(head.replace('|', "\r\n").as_bytes(), &limits(1024))
}

/// The head `head` parses to, or why it is refused.
fn parsed(head: &str) -> Result<Head, Reject> {
    match parse(head) {
        Parse::Complete(h) => Ok(h),
        Parse::Reject(reject) => Err(reject),
        Parse::Partial => panic!("partial: {head:?}"),
    }
}

#[test]
fn request_lines_and_persistence() {
    #[rustfmt::skip]
    let table = [
        ("GET / HTTP/1.1|Host: a||", false, KeepAlive),
        ("HEAD / HTTP/1.1|Host: a||", true, KeepAlive),
        ("head / HTTP/1.1|Host: a||", false, KeepAlive),
        ("OPTIONS * HTTP/1.1|Host: a||", false, KeepAlive),
        ("BREW /pot?x=1 HTTP/1.1|Host: a||", false, KeepAlive),
        ("GET / HTTP/1.1\nHost: a\n\n", false, KeepAlive),
        ("|\nGET / HTTP/1.1|Host: a||", false, KeepAlive),
        ("GET / HTTP/1.1|Host: [::1]:8080||", false, KeepAlive),
        ("GET / HTTP/1.1|Host: example.com:||", false, KeepAlive),
        ("GET / HTTP/1.1|Host: 127.0.0.1:8888||", false, KeepAlive),
        ("GET / HTTP/1.1|Host: xn--bcher-kva.example||", false, KeepAlive),
        ("GET / HTTP/1.1|Host: a|Connection: Close||", false, Close),
        ("GET / HTTP/1.1|Host: a|Connection: x, CLOSE||", false, Close),
        ("GET / HTTP/1.1|Host: a|Connection: a|Connection: close||", false, Close),
        ("GET / HTTP/1.1|Host: a|Connection: keep-alive||", false, KeepAlive),
        ("GET / HTTP/1.1|Host: a|Connection: close,||", false, Close),
        ("GET / HTTP/1.1|Host: a|Connection: ,, close||", false, Close),
        ("GET / HTTP/1.0|Connection: keep-alive,||", false, KeepAliveExplicit),
        ("GET / HTTP/1.0||", false, Close),
        ("GET / HTTP/1.0|Host: a||", false, Close),
        ("GET / HTTP/1.0|Connection: Keep-Alive||", false, KeepAliveExplicit),
        ("GET / HTTP/1.0|Connection: keep-alive, close||", false, Close),
        ("POST / HTTP/1.0|Transfer-Encoding: chunked|Connection: keep-alive||", false, Close),
        ("GET / HTTP/1.2|Host: a||", false, KeepAlive),
        ("HEAD / HTTP/1.9|Host: a||", true, KeepAlive),
        ("GET / HTTP/1.2\nHost: a\nConnection: close\n\n", false, Close),
    ];
    for (head, headers_only, persistence) in table {
        let len = head.replace('|', "\r\n").len();
        let h = parsed(head).unwrap_or_else(|r| panic!("{head:?}: {r:?}"));
        let expected = (len, headers_only, persistence);
        assert_eq!((h.len, h.headers_only, h.persistence), expected, "{head:?}");
        // What follows the head (a body, the next request) does not change it.
        let pipelined = format!("{head}GET / HTTP/1.1|");
        assert_eq!(parse(&pipelined), Parse::Complete(h), "{head:?}");
    }
}

#[test]
fn body_framing() {
    #[rustfmt::skip]
    let table = [
        ("", Ok(Empty)),
        ("Content-Length: 5", Ok(Length(5))),
        ("Content-Length:  007 ", Ok(Length(7))),
        ("Content-Length: 0", Ok(Empty)),
        ("Content-Length: 5, 5", Ok(Length(5))),
        ("content-length: 5|Content-Length: 5", Ok(Length(5))),
        ("Content-Length: 1000", Ok(Length(1000))),
        ("Content-Length: 1001", Err(ContentTooLarge)),
        ("Content-Length: 18446744073709551615", Err(ContentTooLarge)),
        ("Content-Length: 18446744073709551616", Err(InvalidContentLength)),
        ("Content-Length: +5", Err(InvalidContentLength)),
        ("Content-Length: -5", Err(InvalidContentLength)),
        ("Content-Length: 0x5", Err(InvalidContentLength)),
        ("Content-Length: 1 2", Err(InvalidContentLength)),
        ("Content-Length:", Err(InvalidContentLength)),
        ("Content-Length: 5,", Err(InvalidContentLength)),
        ("Content-Length: 5, 6", Err(ConflictingContentLength)),
        ("Content-Length: 5|Content-Length: 6", Err(ConflictingContentLength)),
        ("Transfer-Encoding: chunked", Ok(Chunked)),
        ("Transfer-Encoding: gzip, CHUNKED", Ok(Chunked)),
        ("Transfer-Encoding: gzip;q=\"a,b\"|Transfer-Encoding: chunked", Ok(Chunked)),
        ("Transfer-Encoding: x-gzip,deflate,compress,x-compress", Err(ChunkedNotLast)),
        ("Transfer-Encoding: x-gzip,deflate,compress,x-compress,chunked", Ok(Chunked)),
        ("Transfer-Encoding: identity ; a=b, chunked", Ok(Chunked)),
        ("Transfer-Encoding: chunked|Content-Length: 5", Err(ContentLengthAndTransferEncoding)),
        ("Content-Length: 5|Transfer-Encoding: br, chunked", Err(ContentLengthAndTransferEncoding)),
        ("Transfer-Encoding: br, chunked", Err(UnknownTransferCoding)),
        ("Transfer-Encoding: chunked, br", Err(UnknownTransferCoding)),
        ("Transfer-Encoding: gzip", Err(ChunkedNotLast)),
        ("Transfer-Encoding: chunked, gzip", Err(ChunkedNotLast)),
        ("Transfer-Encoding: chunked, chunked", Err(ChunkedNotLast)),
        ("Transfer-Encoding: chunked|Transfer-Encoding: chunked", Err(ChunkedNotLast)),
        ("Transfer-Encoding:", Err(ChunkedNotLast)),
        ("Transfer-Encoding: , ,", Err(ChunkedNotLast)),
        ("Transfer-Encoding: chunked|Transfer-Encoding:", Ok(Chunked)),
        ("Transfer-Encoding: ,chunked", Ok(Chunked)),
        ("Transfer-Encoding: chunked,", Ok(Chunked)),
        ("Transfer-Encoding:  , gzip ,, chunked , ", Ok(Chunked)),
        ("Transfer-Encoding: ;a=b, chunked", Err(InvalidTransferEncoding)),
        ("Transfer-Encoding: chun ked", Err(InvalidTransferEncoding)),
        ("Transfer-Encoding: \"chunked\"", Err(InvalidTransferEncoding)),
    ];
    for (fields, expected) in table {
        let head = format!("POST / HTTP/1.1|Host: a|{fields}||");
        assert_eq!(parsed(&head).map(|h| h.body), expected, "{head:?}");
    }
    let head = "POST / HTTP/1.0|Transfer-Encoding: chunked|Content-Length: 5||";
    assert_eq!(parsed(head), Err(ContentLengthAndTransferEncoding));
}

#[test]
fn expect_continue() {
    #[rustfmt::skip]
    let table = [
        ("POST / HTTP/1.1|Host: a|Expect: 100-Continue|Content-Length: 3||", true),
        ("POST / HTTP/1.1|Host: a|Expect: 100-continue|Transfer-Encoding: chunked||", true),
        ("HEAD / HTTP/1.3|Host: a|Expect: 100-continue|Content-Length: 1||", true),
        ("GET / HTTP/1.1|Host: a|Expect: 100-continue||", false),
        ("POST / HTTP/1.1|Host: a|Expect: 100-continue|Content-Length: 0||", false),
        ("POST / HTTP/1.0|Expect: 100-continue|Content-Length: 3||", false),
        ("POST / HTTP/1.1|Host: a|Expect: 200-ok|Content-Length: 3||", false),
    ];
    for (head, expected) in table {
        assert_eq!(
            parsed(head).map(|h| h.expect_continue),
            Ok(expected),
            "{head:?}"
        );
    }
}

#[test]
fn invalid_heads() {
    #[rustfmt::skip]
    let table = [
        ("GET / HTTP/1.1||", MissingHost), // no Host
        ("GET / HTTP/1.1|Host: a|Host: b||", RepeatedHost),
        ("GET / HTTP/1.0|Host: a|Host: a||", RepeatedHost),
        ("GET / HTTP/1.1|Host: a b||", InvalidHost),
        ("GET / HTTP/1.1|Host:||", EmptyHost),
        ("GET / HTTP/1.1|Host:  \t ||", EmptyHost),
        ("GET / HTTP/1.0|Host:||", EmptyHost),
        ("GET / HTTP/1.1|Host: a:b||", InvalidHost),
        ("GET / HTTP/1.1|Host: a/b||", InvalidHost),
        ("GET / HTTP/1.1|Host: user@a||", InvalidHost),
        ("GET / HTTP/1.1|Host: [::1||", InvalidHost),
        ("GET / HTTP/1.1|Host: :80||", InvalidHost),
        ("GET / HTTP/1.1|Host: a| x: y||", HeaderName), // obs-fold
        ("GET / HTTP/1.1|Host: a|X: y|\tz||", HeaderName), // obs-fold
        ("GET / HTTP/1.1|Host : a||", HeaderName), // whitespace before colon
        ("GET / HTTP/1.1|Host\t: a||", HeaderName),
        ("GET / HTTP/1.1| Host: a||", HeaderName),
        ("GET / HTTP/1.1|Host: a\rX: y||", HeaderValue), // bare CR
        ("GET / HTTP/1.1\rHost: a||", LineEnding),
        ("\rGET / HTTP/1.1|Host: a||", LineEnding),
        ("GET / HTTP/1.1|Host: a\0||", HeaderValue),
        ("GET / HTTP/1.1|Ho\"st: a||", HeaderName),
        ("G(T / HTTP/1.1|Host: a||", RequestLine),
        ("GET  / HTTP/1.1|Host: a||", RequestLine),
        ("GET / HTTP/1.1 |Host: a||", LineEnding),
        ("GET /|Host: a||", RequestLine),
        ("GET / http/1.1|Host: a||", RequestLine),
        ("GET / HTTP/1.10|Host: a||", LineEnding),
        ("GET / HTTP/12.0|Host: a||", RequestLine),
        ("GET / HTTP/1.x|Host: a||", RequestLine),
        ("GET / HTTP/1.2 |Host: a||", RequestLine),
        ("GET / HTTP/1.2\rX", RequestLine),
        ("GET / HTTP/2\r", RequestLine),
        ("GET / HTTP/1.2|Host: a|X : y||", HeaderName),
        ("GET / HTTP/1.2||", MissingHost), // read as 1.1: needs Host
        ("GET / HTTP/2.0||", VersionNotSupported),
        ("GET / HTTP/3.0|Host: a||", VersionNotSupported),
        ("GET / HTTP/0.9|", VersionNotSupported),
        ("PRI * HTTP/2.0||SM||", VersionNotSupported),
        ("PRI * HTTP/2.0\n", VersionNotSupported),
    ];
    for (head, reject) in table {
        assert_eq!(parse(head), Parse::Reject(reject), "{head:?}");
    }
}

/// RFC 9112 §3.2: which target forms go with which methods; CONNECT is 501.
#[test]
fn request_target_forms() {
    #[rustfmt::skip]
    let table: &[(&str, &str, Result<(), Reject>)] = &[
        ("GET", "/", Ok(())),
        ("GET", "/a/b;c?d=e&f=/g?h:i@j", Ok(())),
        ("POST", "//double", Ok(())),
        ("BREW", "/pot%20of%2Fcoffee", Ok(())),
        ("GET", "http://example.com/path?q", Ok(())),
        ("DELETE", "https://[::1]:8888/", Ok(())),
        ("GET", "urn:isbn:0451450523", Ok(())),
        ("OPTIONS", "*", Ok(())),
        ("OPTIONS", "/", Ok(())),
        ("OPTIONS", "http://a/", Ok(())),
        ("GET", "*", Err(AsteriskNotOptions)),
        ("options", "*", Err(AsteriskNotOptions)),
        ("CONNECT", "example.com:443", Err(Connect)),
        ("CONNECT", "[::1]:443", Err(Connect)),
        ("CONNECT", "127.0.0.1:0", Err(Connect)),
        ("CONNECT", "example.com", Err(ConnectTarget)),
        ("CONNECT", "/", Err(ConnectTarget)),
        ("CONNECT", "http://a/", Err(ConnectTarget)),
        ("CONNECT", "*", Err(AsteriskNotOptions)),
        ("GET", "example.com:443", Err(AuthorityNotConnect)),
        ("OPTIONS", "[::1]:80", Err(AuthorityNotConnect)),
        ("GET", "example.com", Err(TargetForm)),
        ("GET", "1http://a/", Err(TargetForm)),
        ("GET", "?q", Err(TargetForm)),
        ("GET", "**", Err(TargetForm)),
        ("GET", "/a#frag", Err(TargetByte)),
        ("GET", "/%", Err(TargetPercent)),
        ("GET", "/%4", Err(TargetPercent)),
        ("GET", "/%4g", Err(TargetPercent)),
        ("GET", "/%%41", Err(TargetPercent)),
    ];
    for &(method, target, expected) in table {
        for version in ["1.1", "1.7"] {
            let head = format!("{method} {target} HTTP/{version}|Host: a||");
            assert_eq!(parsed(&head).map(|_| ()), expected, "{head:?}");
        }
    }
}

/// RFC 9112 §3.2, RFC 3986 §2: a target byte is allowed iff the URI grammar
/// allows it; every byte value is tried in an origin-form and an absolute-form
/// target.
#[test]
fn request_target_bytes() {
    for b in 0..=255u8 {
        let allowed = b.is_ascii_alphanumeric() || b"-._~!$&'()*+,;=:@/?[]".contains(&b);
        for (before, after) in [(&b"GET /a"[..], &b"b"[..]), (b"GET http://h/", b"")] {
            let head = [before, &[b], after, b" HTTP/1.1\r\nHost: a\r\n\r\n"].concat();
            match parse_head(&head, &limits(1024)) {
                Parse::Complete(_) => assert!(allowed, "{b:#04x} accepted"),
                Parse::Reject(reject) => {
                    assert!(!allowed, "{b:#04x} refused: {reject:?}");
                    assert_eq!(reject.status().code(), 400, "{b:#04x}");
                }
                Parse::Partial => assert!(b == b' ' || b == b'\n', "{b:#04x} partial"),
            }
        }
    }
}

/// RFC 9112 §3: a method longer than the head limit is 501, never 414, and
/// every shorter prefix of it waits for more.
#[test]
fn a_method_over_the_limit_is_501() {
    let method = "M".repeat(40);
    for end in 0..32 {
        assert_eq!(
            parse_head(&method.as_bytes()[..end], &limits(32)),
            Parse::Partial
        );
    }
    for end in [32, 40] {
        let outcome = parse_head(&method.as_bytes()[..end], &limits(32));
        assert_eq!(outcome, Parse::Reject(MethodTooLong), "{end}");
    }
    assert_eq!(MethodTooLong.status().code(), 501);
    let target = format!("GET /{}", "a".repeat(40));
    assert_eq!(
        parse_head(target.as_bytes(), &limits(32)),
        Parse::Reject(UriTooLong)
    );
}

#[test]
fn too_many_headers() {
    let fields = "X: y|".repeat(MAX_HEADERS);
    for version in ["1.1", "1.2"] {
        let head = format!("GET / HTTP/{version}|Host: a|{fields}|");
        assert_eq!(parse(&head), Parse::Reject(TooManyHeaders));
    }
}

#[test]
fn every_proper_prefix_is_partial() {
    let heads = [
        "GET / HTTP/1.1|Host: a||",
        "|POST /x?y HTTP/1.1|Host: a|Content-Length: 5|Expect: 100-continue||",
        "GET / HTTP/1.0\nConnection: keep-alive\n\n",
        "PUT / HTTP/1.7|Host: a|Transfer-Encoding: gzip, chunked||",
    ];
    for head in heads {
        let bytes = head.replace('|', "\r\n").into_bytes();
        for end in 0..bytes.len() {
            let prefix = parse_head(&bytes[..end], &limits(1024));
            assert_eq!(prefix, Parse::Partial, "{end} {head:?}");
        }
        assert!(
            matches!(parsed(head), Ok(h) if h.len == bytes.len()),
            "{head:?}"
        );
    }
    for partial in [
        "GET / HTTP/2",
        "GET / HTTP/2.0",
        "GET / HTTP/2.0\r",
        "PRI * HTTP/2.0",
    ] {
        assert_eq!(parse(partial), Parse::Partial, "{partial:?}");
    }
}

#[test]
fn head_size_limit() {
    let fits = "GET /01234 HTTP/1.1|Host: a||".replace('|', "\r\n");
    assert_eq!(fits.len(), 32);
    assert!(matches!(
        parse_head(fits.as_bytes(), &limits(32)),
        Parse::Complete(_)
    ));
    let over = "GET /012345 HTTP/1.1|Host: a||"
        .replace('|', "\r\n")
        .into_bytes();
    assert_eq!(parse_head(&over[..31], &limits(32)), Parse::Partial);
    for end in [32, over.len()] {
        let outcome = parse_head(&over[..end], &limits(32));
        assert_eq!(outcome, Parse::Reject(HeaderFieldsTooLarge));
    }
    for version in ["1.1", "1.2", "2.0"] {
        let long = format!("GET /{} HTTP/{version}\r\nHost: a\r\n\r\n", "a".repeat(40));
        for end in [32, 40, long.len()] {
            let outcome = parse_head(&long.as_bytes()[..end], &limits(32));
            assert_eq!(outcome, Parse::Reject(UriTooLong), "{end} {long:?}");
        }
    }
    assert_eq!(
        parse_head(&[b'\n'; 32], &limits(32)),
        Parse::Reject(UriTooLong)
    );
}

/// Heads, mostly plausible, sometimes with one byte changed, then more bytes.
fn headish() -> impl Strategy<Value = Vec<u8>> {
    let line = "(GET|HEAD|POST|PRI|[A-Z]{1,4}) (/|\\*|/[a-z?=]{1,8}) HTTP/(1\\.[0-3]|1\\.1|2\\.0)(\r?\nHost: a)?";
    let field = "(Host: a|Content-Length: [0-9 ,]{0,4}|Transfer-Encoding: (chunked|gzip|br)|\
                 Connection: (close|keep-alive)|Expect: 100-continue|[A-Za-z-]{1,5}:[ -~]{0,5})";
    let eol = "(\r\n|\n)";
    let fields = prop::collection::vec((field, eol), 0..6);
    let typo = prop::option::weighted(0.3, (any::<prop::sample::Index>(), any::<u8>()));
    (line, eol, fields, eol, typo, "[ -~]{0,8}").prop_map(|(line, eol, fields, end, typo, tail)| {
        let mut head = line + &eol;
        for (field, eol) in fields {
            head += &(field + &eol);
        }
        let mut bytes = (head + &end + &tail).into_bytes();
        if let Some((at, byte)) = typo {
            let at = at.index(bytes.len());
            bytes[at] = byte;
        }
        bytes
    })
}

proptest! {
    #[test]
    fn random_bytes_never_panic(
        bytes in prop::collection::vec(any::<u8>(), 0..300),
        max_head in 0usize..400,
    ) {
        let _ = parse_head(&bytes, &limits(max_head));
    }

    /// Reading more bytes never changes a decision: split reads agree with one read.
    #[test]
    fn a_decided_prefix_decides_the_whole(
        bytes in headish(),
        max_head in 1usize..200,
    ) {
        let whole = parse_head(&bytes, &limits(max_head));
        if let Parse::Complete(head) = whole {
            prop_assert!(head.len <= max_head.min(bytes.len()));
        }
        for end in 0..bytes.len() {
            let prefix = parse_head(&bytes[..end], &limits(max_head));
            prop_assert!(prefix == Parse::Partial || prefix == whole, "{:?}: {:?}", &bytes[..end], prefix);
        }
    }
}
