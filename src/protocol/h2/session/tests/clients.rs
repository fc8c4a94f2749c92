//! Byte streams real clients sent, replayed: the Python `h2` library (4.x)
//! uses Huffman strings and its dynamic table, as browsers do.

use super::*;

fn hex(s: &str) -> Vec<u8> {
    (0..s.len())
        .step_by(2)
        .map(|i| u8::from_str_radix(&s[i..i + 2], 16).unwrap())
        .collect()
}

/// Python h2: a POST of 5 bytes in two DATA frames with trailers, then two
/// GETs whose fields come from its dynamic table (`c0`).
const PYTHON_H2_POST_THEN_GETS: &str = "505249202a20485454502f322e300d0a0d0a534d0d0a0d0a00002a04000000000000\
010000100000020000000100040000ffff0005000040000008000000000003000000640006000100000000\
0d0104000000018386448362daff41811f5c816f00000300000000000168656c0000020000000000016c6f\
00000c0105000000014088f2b127293aa2da7f810f000004010500000003828684c0000004010500000005\
828684c0";

#[test]
fn python_h2_post_with_trailers_then_gets_from_its_dynamic_table() {
    let mut f = Fixture::new();
    let bytes = hex(PYTHON_H2_POST_THEN_GETS);
    let mut out = f.input(&bytes);
    assert_eq!(
        out.drain(..2).collect::<Vec<_>>(),
        [
            Out::Settings(false, vec![(3, 100), (6, 16 * 1024)]),
            Out::Settings(true, vec![]),
        ]
    );
    let mut expect = Vec::new();
    for id in [1, 3, 5] {
        expect.extend(answered(id));
    }
    assert_eq!(out, expect);
    assert_eq!(f.stats.requests, 3);
    // Our SETTINGS (21 bytes), its ack (9), the HEADERS frame header (9).
    assert_eq!(
        f.last_raw[21 + 9 + 9..][..2],
        [0x20, 0x88],
        "size update first"
    );
}

#[test]
fn the_same_bytes_one_at_a_time() {
    let mut f = Fixture::new();
    let mut out = Vec::new();
    for b in hex(PYTHON_H2_POST_THEN_GETS) {
        out.extend(f.input(&[b]));
    }
    assert_eq!(out.len(), 2 + 6);
    assert_eq!(f.pending, [], "nothing left over");
}
