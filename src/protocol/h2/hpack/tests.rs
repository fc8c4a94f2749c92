//! RFC 7541 Appendix C, every example (C.2 to C.6, with and without Huffman),
//! plus the decoder's refusals and the encoder's output read back.

use super::encoder::{BlockWriter, integer as put_integer};
use super::*;

fn hex(s: &str) -> Vec<u8> {
    let s: String = s.split_whitespace().collect();
    (0..s.len())
        .step_by(2)
        .map(|i| u8::from_str_radix(&s[i..i + 2], 16).unwrap())
        .collect()
}

type Fields = Vec<(String, String)>;

fn decode(decoder: &mut Decoder, block: &[u8]) -> Result<Fields, DecodeError> {
    let mut fields = Vec::new();
    decoder.decode(block, usize::MAX, |n, v| {
        fields.push((
            String::from_utf8_lossy(n).into(),
            String::from_utf8_lossy(v).into(),
        ))
    })?;
    Ok(fields)
}

fn pairs(list: &[(&str, &str)]) -> Fields {
    list.iter().map(|&(n, v)| (n.into(), v.into())).collect()
}

/// One block of a sequence: (block, fields, table size after).
type Step<'a> = (&'a str, &'a [(&'a str, &'a str)], usize);

/// Blocks decoded in order by one decoder.
fn sequence(table: usize, steps: &[Step<'_>]) {
    let mut decoder = Decoder::new(table);
    for (block, fields, size) in steps {
        assert_eq!(
            decode(&mut decoder, &hex(block)),
            Ok(pairs(fields)),
            "{block}"
        );
        assert_eq!(decoder.table().size(), *size, "{block}");
    }
}

#[test]
fn c2_literals_and_indexed() {
    sequence(
        4096,
        &[(
            "400a637573746f6d2d6b65790d637573746f6d2d686561646572",
            &[("custom-key", "custom-header")],
            55,
        )],
    );
    sequence(
        4096,
        &[(
            "040c2f73616d706c652f70617468",
            &[(":path", "/sample/path")],
            0,
        )],
    );
    sequence(
        4096,
        &[(
            "100870617373776f726406736563726574",
            &[("password", "secret")],
            0,
        )],
    );
    sequence(4096, &[("82", &[(":method", "GET")], 0)]);
}

const REQ1: &[(&str, &str)] = &[
    (":method", "GET"),
    (":scheme", "http"),
    (":path", "/"),
    (":authority", "www.example.com"),
];
const REQ2: &[(&str, &str)] = &[
    (":method", "GET"),
    (":scheme", "http"),
    (":path", "/"),
    (":authority", "www.example.com"),
    ("cache-control", "no-cache"),
];
const REQ3: &[(&str, &str)] = &[
    (":method", "GET"),
    (":scheme", "https"),
    (":path", "/index.html"),
    (":authority", "www.example.com"),
    ("custom-key", "custom-value"),
];

#[test]
fn c3_requests_without_huffman() {
    sequence(
        4096,
        &[
            ("828684410f7777772e6578616d706c652e636f6d", REQ1, 57),
            ("828684be58086e6f2d6361636865", REQ2, 110),
            (
                "828785bf400a637573746f6d2d6b65790c637573746f6d2d76616c7565",
                REQ3,
                164,
            ),
        ],
    );
}

#[test]
fn c4_requests_with_huffman() {
    sequence(
        4096,
        &[
            ("828684418cf1e3c2e5f23a6ba0ab90f4ff", REQ1, 57),
            ("828684be5886a8eb10649cbf", REQ2, 110),
            (
                "828785bf408825a849e95ba97d7f8925a849e95bb8e8b4bf",
                REQ3,
                164,
            ),
        ],
    );
}

const RESP1: &[(&str, &str)] = &[
    (":status", "302"),
    ("cache-control", "private"),
    ("date", "Mon, 21 Oct 2013 20:13:21 GMT"),
    ("location", "https://www.example.com"),
];
const RESP2: &[(&str, &str)] = &[
    (":status", "307"),
    ("cache-control", "private"),
    ("date", "Mon, 21 Oct 2013 20:13:21 GMT"),
    ("location", "https://www.example.com"),
];
const RESP3: &[(&str, &str)] = &[
    (":status", "200"),
    ("cache-control", "private"),
    ("date", "Mon, 21 Oct 2013 20:13:22 GMT"),
    ("location", "https://www.example.com"),
    ("content-encoding", "gzip"),
    (
        "set-cookie",
        "foo=ASDJKHQKBZXOQWEOPIUAXQWEOIU; max-age=3600; version=1",
    ),
];

#[test]
fn c5_responses_without_huffman_evict() {
    sequence(
        256,
        &[
            (
                "4803333032580770726976617465611d4d6f6e2c203231204f637420323031332032303a31333a3231
             20474d546e1768747470733a2f2f7777772e6578616d706c652e636f6d",
                RESP1,
                222,
            ),
            ("4803333037c1c0bf", RESP2, 222),
            (
                "88c1611d4d6f6e2c203231204f637420323031332032303a31333a323220474d54c05a04677a6970
             7738666f6f3d4153444a4b48514b425a584f5157454f50495541585157454f49553b206d61782d61
             67653d333630303b2076657273696f6e3d31",
                RESP3,
                215,
            ),
        ],
    );
}

#[test]
fn c6_responses_with_huffman_evict() {
    sequence(
        256,
        &[
            (
                "488264025885aec3771a4b6196d07abe941054d444a8200595040b8166e082a62d1bff6e919d29ad
             171863c78f0b97c8e9ae82ae43d3",
                RESP1,
                222,
            ),
            ("4883640effc1c0bf", RESP2, 222),
            (
                "88c16196d07abe941054d444a8200595040b8166e084a62d1bffc05a839bd9ab77ad94e7821dd7f2
             e6c7b335dfdfcd5b3960d5af27087f3672c1ab270fb5291f9587316065c003ed4ee5b1063d5007",
                RESP3,
                215,
            ),
        ],
    );
}

#[test]
fn c1_integers_and_overflow() {
    for (value, prefix) in [
        (10, 5),
        (1337, 5),
        (42, 8 - 1),
        (0, 4),
        (u32::MAX as usize, 7),
    ] {
        let mut out = Vec::new();
        put_integer(&mut out, value, prefix, 0);
        let mut at = 0;
        assert_eq!(decoder::integer(&out, &mut at, prefix), Ok(value));
        assert_eq!(at, out.len());
    }
    let mut out = Vec::new();
    put_integer(&mut out, 1337, 5, 0);
    assert_eq!(out, [0x1f, 0x9a, 0x0a]);
    for bad in [
        &[0x1f][..],
        &[0x1f, 0x80],
        &[0x1f, 0xff, 0xff, 0xff, 0xff, 0x7f],
        &[0x1f, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80],
    ] {
        assert_eq!(
            decoder::integer(bad, &mut 0, 5),
            Err(DecodeError::Compression),
            "{bad:x?}"
        );
    }
}

#[test]
fn malformed_blocks_are_compression_errors() {
    let bad = [
        "3f",         // hpack-rs#11: a size update whose integer never ends
        "80",         // index 0
        "be",         // index 62 with an empty dynamic table
        "4005",       // name of 5 bytes, block ends
        "00811e0161", // Huffman name "a" padded with 110, not the ones of EOS
        "00ff",       // string length runs past the block
        "823f",       // size update after a field
        "3fe21f",     // size update to 4096 + 1
    ];
    for block in bad {
        let mut decoder = Decoder::new(4096);
        assert_eq!(
            decode(&mut decoder, &hex(block)),
            Err(DecodeError::Compression),
            "{block}"
        );
    }
}

#[test]
fn size_updates_at_the_start_and_within_the_limit() {
    let mut decoder = Decoder::new(4096);
    decode(
        &mut decoder,
        &hex("400a637573746f6d2d6b65790d637573746f6d2d686561646572"),
    )
    .unwrap();
    assert_eq!(decoder.table().len(), 1);
    // Two updates (0 then 4096) and an indexed field: the entry is evicted.
    assert_eq!(
        decode(&mut decoder, &hex("203fe11f82")),
        Ok(pairs(&[(":method", "GET")]))
    );
    assert_eq!(
        (decoder.table().len(), decoder.table().max_size()),
        (0, 4096)
    );
    assert_eq!(
        decode(&mut decoder, &hex("be")),
        Err(DecodeError::Compression)
    );
}

#[test]
fn the_list_bound_stops_fields_but_not_the_table() {
    let mut decoder = Decoder::new(4096);
    let block = hex("400a637573746f6d2d6b65790d637573746f6d2d686561646572be");
    let mut seen = 0;
    // Each field is 10 + 13 + 32 = 55 bytes: one fits in 60, two do not.
    assert_eq!(
        decoder.decode(&block, 60, |_, _| seen += 1),
        Err(DecodeError::TooLarge)
    );
    assert_eq!(seen, 1);
    assert_eq!(decoder.table().len(), 1, "the insertion happened anyway");
    assert_eq!(
        decode(&mut decoder, &hex("be")),
        Ok(pairs(&[("custom-key", "custom-header")]))
    );
}

#[test]
fn an_hpack_bomb_is_bounded() {
    let mut decoder = Decoder::new(4096);
    let mut block = vec![0x40, 0x01, b'x']; // x: 4000 bytes of value
    put_integer(&mut block, 4000, 7, 0);
    block.extend(std::iter::repeat_n(b'v', 4000));
    block.extend(std::iter::repeat_n(0xbe, 10_000)); // then 10,000 references to it
    let mut bytes = 0;
    let result = decoder.decode(&block, 16 * 1024, |n, v| bytes += n.len() + v.len());
    assert_eq!(result, Err(DecodeError::TooLarge));
    assert!(bytes <= 16 * 1024, "{bytes}");
}

#[test]
fn the_response_block_reads_back_with_its_date_where_it_said() {
    let mut block = BlockWriter::new();
    block.status(200);
    block.field(b"server", b"hello-reactor");
    let date_at = block.field(b"date", b"Tue, 01 Dec 2026 00:00:00 GMT");
    block.field(b"x-from-the-command-line", b"1");
    let mut odd = BlockWriter::new();
    odd.status(418);
    let mut bytes = block.bytes.clone();
    assert_eq!(bytes[0], 0x88);
    bytes[date_at..date_at + 29].copy_from_slice(b"Wed, 02 Dec 2026 00:00:01 GMT");
    let mut decoder = Decoder::new(4096);
    assert_eq!(
        decode(&mut decoder, &bytes),
        Ok(pairs(&[
            (":status", "200"),
            ("server", "hello-reactor"),
            ("date", "Wed, 02 Dec 2026 00:00:01 GMT"),
            ("x-from-the-command-line", "1"),
        ]))
    );
    assert_eq!(
        decode(&mut decoder, &odd.bytes),
        Ok(pairs(&[(":status", "418")]))
    );
    assert!(decoder.table().is_empty(), "the encoder never indexes");
}

mod properties {
    use super::*;
    use proptest::prelude::*;

    fn name() -> impl Strategy<Value = Vec<u8>> {
        prop_oneof![
            Just(b"date".to_vec()),
            Just(b":status".to_vec()),
            Just(b"content-type".to_vec()),
            prop::collection::vec(prop::sample::select(b"abcxyz-0123".to_vec()), 1..20),
        ]
    }

    proptest! {
        /// What the encoder writes, any decoder reads back, field for field.
        #[test]
        fn encoded_fields_decode_back(
            fields in prop::collection::vec((name(), prop::collection::vec(any::<u8>(), 0..200)), 0..12),
        ) {
            let mut block = BlockWriter::new();
            for (name, value) in &fields {
                block.field(name, value);
            }
            let mut back = Vec::new();
            Decoder::new(4096).decode(&block.bytes, usize::MAX, |n, v| back.push((n.to_vec(), v.to_vec()))).unwrap();
            prop_assert_eq!(back, fields);
        }

        /// Any bytes: decoded or refused, never a panic, and the table within its size.
        #[test]
        fn any_block_is_decoded_or_refused(
            blocks in prop::collection::vec(prop::collection::vec(any::<u8>(), 0..64), 1..4),
            limit in 0usize..300,
        ) {
            let mut decoder = Decoder::new(limit);
            for block in &blocks {
                let _ = decoder.decode(block, 1000, |_, _| {});
                prop_assert!(decoder.table().size() <= decoder.table().max_size());
                prop_assert!(decoder.table().max_size() <= limit);
            }
        }

        /// Huffman: any bytes round-trip.
        #[test]
        fn huffman_round_trips(bytes in prop::collection::vec(any::<u8>(), 0..100)) {
            let mut code = Vec::new();
            huffman::encode(&bytes, &mut code);
            let mut back = Vec::new();
            prop_assert_eq!(huffman::decode(&code, &mut back), Ok(()));
            prop_assert_eq!(back, bytes);
        }
    }
}
