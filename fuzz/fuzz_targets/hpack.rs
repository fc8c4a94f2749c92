//! The HPACK decoder (src/protocol/h2/hpack/) on arbitrary blocks.
//!
//! Input: bytes 0..2 the table size (`limit`, u16 LE, mod 8192), bytes 2..4
//! the list bound (u16 LE), then blocks, each a length byte and that many
//! bytes (fewer if the input ends), decoded in order by one decoder, the way
//! a connection decodes its header blocks. The same blocks go through a
//! second decoder with no list bound. Checks: no panic; the table never
//! exceeds its size; the fields handed out stay within the bound; the bounded
//! decoder's table follows the unbounded one's exactly (a block over the bound
//! is still decoded to its end); both agree on which blocks are broken. Also:
//! Huffman-encoding any block decodes back to it.

#![no_main]

use hello_reactor::protocol::h2::hpack::{DecodeError, Decoder, huffman};
use libfuzzer_sys::fuzz_target;

fn blocks(mut data: &[u8]) -> Vec<&[u8]> {
    let mut out = Vec::new();
    while let Some((&len, rest)) = data.split_first() {
        let (block, rest) = rest.split_at(usize::from(len).min(rest.len()));
        out.push(block);
        data = rest;
    }
    out
}

fuzz_target!(|data: &[u8]| {
    let Some((head, data)) = data.split_first_chunk::<4>() else {
        return;
    };
    let limit = usize::from(u16::from_le_bytes([head[0], head[1]]) % 8192);
    let max_list = usize::from(u16::from_le_bytes([head[2], head[3]]));
    let mut bounded = Decoder::new(limit);
    let mut free = Decoder::new(limit);
    for block in blocks(data) {
        let mut handed = 0usize;
        let b = bounded.decode(block, max_list, |n, v| handed += n.len() + v.len() + 32);
        let f = free.decode(block, usize::MAX, |_, _| {});
        assert!(handed <= max_list, "{handed} bytes handed out over {max_list}");
        match (b, f) {
            (Ok(()), Ok(())) | (Err(DecodeError::TooLarge), Ok(())) => {}
            (Err(DecodeError::Compression), Err(DecodeError::Compression)) => return,
            other => panic!("bounded and unbounded disagree: {other:?}"),
        }
        let (bt, ft) = (bounded.table(), free.table());
        assert_eq!((bt.len(), bt.size()), (ft.len(), ft.size()), "tables diverged");
        assert!(bt.size() <= bt.max_size() && bt.max_size() <= limit);
        let mut code = Vec::new();
        huffman::encode(block, &mut code);
        assert_eq!(code.len(), huffman::encoded_len(block));
        let mut back = Vec::new();
        huffman::decode(&code, &mut back).expect("our own Huffman code decodes");
        assert_eq!(back, block);
    }
});
