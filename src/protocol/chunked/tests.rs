//! Tests of [`super`]: tables, every prefix, every split, and proptests.
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
        (Chunked, "5 ;a\r\nhello\r\n0\t \t;x\r\n\r\n", done(23)),
        (Chunked, "0 ; a = b ;c= \"\" ;d\r\n\r\n", done(23)),
        (Chunked, "0;a=\"\\\"\\\\\t\u{e9}\"\r\n\r\n", done(17)),
        (Chunked, "0;!#$%&'*+-.^_`|~=x\r\n\r\n", done(23)),
        (Chunked, "5;\r\n", Err(ChunkExtension)),
        (Chunked, "5; \r\n", Err(ChunkExtension)),
        (Chunked, "5;;a\r\n", Err(ChunkExtension)),
        (Chunked, "5;a;\r\n", Err(ChunkExtension)),
        (Chunked, "5;=b\r\n", Err(ChunkExtension)),
        (Chunked, "5;a=\r\n", Err(ChunkExtension)),
        (Chunked, "5;a =\r\n", Err(ChunkExtension)),
        (Chunked, "5;a \r\n", Err(ChunkExtension)),
        (Chunked, "5;a=b \r\n", Err(ChunkExtension)),
        (Chunked, "5;a b\r\n", Err(ChunkExtension)),
        (Chunked, "5;a=b c\r\n", Err(ChunkExtension)),
        (Chunked, "5;a=b=c\r\n", Err(ChunkExtension)),
        (Chunked, "5;a(b\r\n", Err(ChunkExtension)),
        (Chunked, "5;a=\"b\r\n", Err(ChunkExtension)),
        (Chunked, "5;a=\"b\"c\r\n", Err(ChunkExtension)),
        (Chunked, "5;a=\"\x7f\"\r\n", Err(ChunkExtension)),
        (Chunked, "5;a=\"\\\n\"\r\n", Err(ChunkLineEnding)),
        (Chunked, "5;\u{e9}\r\n", Err(ChunkExtension)),
        (Chunked, "5;a\rb\r\n", Err(ChunkLineEnding)),
        (Chunked, "5;a=\"\r\"\r\n", Err(ChunkExtension)),
        (Chunked, "5;a=b\n", Err(ChunkLineEnding)),
        (Chunked, "5\r;a\r\n", Err(ChunkLineEnding)),
        (Chunked, "0\r\nX-T: 1\r\nY:\r\n\r\nNEXT", done(17)),
        (Chunked, "64\r\n", pending(4)),
        (Chunked, "65\r\n", Err(ContentTooLarge)),
        (Chunked, "32\r\n", pending(4)),
        (Chunked, "FFFFFFFFFFFFFFFF;", Err(ContentTooLarge)),
        (Chunked, "00000000000000001\r\n", Err(ChunkSize)),
        (Chunked, "10000000000000000\r\n", Err(ChunkSize)),
        (Chunked, "\r\n", Err(ChunkSize)),
        (Chunked, ";a\r\n", Err(ChunkSize)),
        (Chunked, " 5\r\n", Err(ChunkSize)),
        (Chunked, "+5\r\n", Err(ChunkSize)),
        (Chunked, "0x5\r\n", Err(ChunkSize)),
        (Chunked, "5 \r\n", Err(ChunkExtension)),
        (Chunked, "5\n", Err(ChunkLineEnding)),
        (Chunked, "5\r\r", Err(ChunkLineEnding)),
        (Chunked, "5;a\n", Err(ChunkLineEnding)),
        (Chunked, "5;a\0\r\n", Err(ChunkExtension)),
        (Chunked, "1\r\nab\r\n", Err(ChunkDataEnd)),
        (Chunked, "1\r\na\n0\r\n\r\n", Err(ChunkLineEnding)),
        (Chunked, "1\r\na\r0", Err(ChunkLineEnding)),
        (Chunked, "0\r\n\n", Err(ChunkLineEnding)),
        (Chunked, "0\r\n\r\r", Err(ChunkLineEnding)),
        (Chunked, "0\r\nX: 1\n\r\n", Err(ChunkLineEnding)),
        (Chunked, "0\r\n x: 1\r\n\r\n", Err(Trailer)),
        (Chunked, "0\r\nX : 1\r\n\r\n", Err(Trailer)),
        (Chunked, "0\r\n:1\r\n\r\n", Err(Trailer)),
        (Chunked, "0\r\nX\r\n\r\n", Err(Trailer)),
        (Chunked, "0\r\nX: a\x7f\r\n\r\n", Err(Trailer)),
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
    let over = format!("1{ext}\r\nx\r\n0;a\r\n{trailer}\r\n");
    assert_eq!(
        whole(chunked(), over.as_bytes()),
        Err(Reject::ChunkMetadataTooLarge)
    );
    let spaces = format!("1{}", " ".repeat(65));
    assert_eq!(
        whole(chunked(), spaces.as_bytes()),
        Err(Reject::ChunkMetadataTooLarge)
    );
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
