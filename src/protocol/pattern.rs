//! `--body-size`: a body of any size, from 1 byte to 1 GiB, that costs no memory
//! per connection.
//!
//! The body is a fixed printable pattern: one 64-byte line repeated, cut at the
//! size asked for. A small one is rendered into the answer like `--body`. A large
//! one is never stored whole: the answer ends at its head (with the full
//! `Content-Length`), and the driver writes the body from one shared block of the
//! pattern ([`block`]), 64 KiB made of whole lines, so that the body's byte at any
//! offset is the block's byte at `offset % LINE.len()`. A connection mid-body keeps
//! only how far it got.

/// One line of the pattern: 63 printable bytes and a newline.
pub const LINE: &[u8; 64] = b"0123456789abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ.\n";

/// Bytes in the shared block: whole lines, as much as one write usually takes.
pub const BLOCK_LEN: usize = 64 * 1024;

/// The first `len` bytes of the pattern.
pub fn body(len: usize) -> Vec<u8> {
    LINE.iter().copied().cycle().take(len).collect()
}

/// The shared block the driver writes large bodies from.
pub fn block() -> Box<[u8]> {
    body(BLOCK_LEN).into_boxed_slice()
}

/// The bytes of the body from `offset` on, as far as the block reaches (at least
/// `BLOCK_LEN - LINE.len()`), capped at `left`.
pub fn slice_at(block: &[u8], offset: u64, left: u64) -> &[u8] {
    let start = (offset % LINE.len() as u64) as usize;
    let rest = &block[start..];
    let len = usize::try_from(left).unwrap_or(usize::MAX).min(rest.len());
    &rest[..len]
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn any_offset_of_the_block_continues_the_body() {
        let block = block();
        let whole = body(3 * BLOCK_LEN + 17);
        let mut offset = 0u64;
        let mut copy = Vec::new();
        while (offset as usize) < whole.len() {
            let left = whole.len() as u64 - offset;
            // Uneven steps, as short writes would leave them.
            let piece = slice_at(&block, offset, left.min(40_000 + offset % 977));
            copy.extend_from_slice(piece);
            offset += piece.len() as u64;
        }
        assert_eq!(copy, whole);
        assert!(whole.iter().all(|b| b.is_ascii_graphic() || *b == b'\n'));
    }
}
