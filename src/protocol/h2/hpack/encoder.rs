//! The encoder for the fixed response's field block (RFC 7541 §6), run once at
//! start, as the HTTP/1.1 answers are rendered once ([`crate::protocol::response`]).
//!
//! It never touches a dynamic table: `:status` is indexed from the static table
//! when it is there (§6.1), every other field is a literal without indexing
//! with its name indexed when the static table has it (§6.2.2), and no string is
//! Huffman-coded. So the block is the same on every stream of every connection,
//! needs no encoder state, and the `date` value keeps its 29 bytes at a known
//! offset, to be patched in place once a second.

use super::table::find_static;

/// A field block under construction.
#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub struct BlockWriter {
    /// The encoded block.
    pub bytes: Vec<u8>,
}

impl BlockWriter {
    /// An empty block.
    pub fn new() -> BlockWriter {
        BlockWriter::default()
    }

    /// `:status`, indexed if the static table has it (200, 204, 206, 304, 400,
    /// 404, 500), else a literal with the name indexed.
    pub fn status(&mut self, code: u16) {
        let text = code.to_string();
        match find_static(b":status", text.as_bytes()) {
            Some((index, true)) => integer(&mut self.bytes, index, 7, 0x80),
            _ => {
                self.field(b":status", text.as_bytes());
            }
        }
    }

    /// A literal without indexing; returns the offset of the value's bytes.
    /// `name` must be lowercase (RFC 9113 §8.2.1).
    pub fn field(&mut self, name: &[u8], value: &[u8]) -> usize {
        match find_static(name, value) {
            Some((index, _)) => integer(&mut self.bytes, index, 4, 0x00),
            None => {
                self.bytes.push(0x00);
                raw_string(&mut self.bytes, name);
            }
        }
        raw_string(&mut self.bytes, value);
        self.bytes.len() - value.len()
    }
}

/// `value` with an N-bit prefix (§5.1) after the bits `high`.
pub fn integer(out: &mut Vec<u8>, value: usize, prefix: u32, high: u8) {
    let mask = (1usize << prefix) - 1;
    if value < mask {
        out.push(high | value as u8);
        return;
    }
    out.push(high | mask as u8);
    let mut rest = value - mask;
    while rest >= 0x80 {
        out.push(0x80 | (rest & 0x7f) as u8);
        rest >>= 7;
    }
    out.push(rest as u8);
}

/// A string literal, not Huffman-coded (§5.2).
pub fn raw_string(out: &mut Vec<u8>, s: &[u8]) {
    integer(out, s.len(), 7, 0x00);
    out.extend_from_slice(s);
}
