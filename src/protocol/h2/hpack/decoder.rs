//! The HPACK decoder (RFC 7541 §3, §6): one per connection, fed whole field
//! blocks in the order they arrive, so its dynamic table follows the peer's
//! encoder.
//!
//! Rules this file applies, each with its reason:
//! - **Never panics, never trusts a length.** Every read is checked against the
//!   block; integers over 2^32 are refused (§5.1 leaves the limit to us).
//! - **A size update only at the start of a block** (§4.2), and never above the
//!   `SETTINGS_HEADER_TABLE_SIZE` we advertised (§6.3): both `COMPRESSION_ERROR`.
//! - **The decoded list is bounded, but the block is always decoded to its end.**
//!   Past `max_list` bytes (name + value + 32 per field, RFC 9113 §6.5.2) no more
//!   fields are handed out and the result is [`DecodeError::TooLarge`], but the
//!   table insertions still happen: stopping early would desynchronize the table
//!   for every later block. So an HPACK bomb (a few bytes naming a large entry
//!   many times) costs one index lookup per byte, never a copy.

use super::huffman;
use super::table::{DynamicTable, ENTRY_OVERHEAD};

/// Why a block could not be decoded.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DecodeError {
    /// The block breaks HPACK: a connection error `COMPRESSION_ERROR` (RFC 9113 §4.3).
    Compression,
    /// The block is valid but its fields exceed `max_list`; the table is up to date.
    TooLarge,
}

/// One connection's decoder.
#[derive(Debug)]
pub struct Decoder {
    table: DynamicTable,
    /// The `SETTINGS_HEADER_TABLE_SIZE` we advertised: the most a size update may ask.
    limit: usize,
    name: Vec<u8>,
    value: Vec<u8>,
}

/// A representation's first byte, by its leading bits (§6).
enum Kind {
    Indexed,
    Incremental,
    SizeUpdate,
    Literal,
}

impl Decoder {
    /// A decoder whose table may grow to `limit` bytes, the
    /// `SETTINGS_HEADER_TABLE_SIZE` we advertise (4096 unless we send another).
    pub fn new(limit: usize) -> Decoder {
        Decoder {
            table: DynamicTable::new(limit),
            limit,
            name: Vec::new(),
            value: Vec::new(),
        }
    }

    /// Bytes held on the heap, roughly: the table and the scratch strings.
    pub fn heap_bytes(&self) -> usize {
        self.table.heap_bytes() + self.name.capacity() + self.value.capacity()
    }

    /// Give back scratch space a long field made it allocate (the table is
    /// state and stays).
    pub fn shrink(&mut self) {
        self.name.clear();
        self.value.clear();
        self.name.shrink_to(0);
        self.value.shrink_to(0);
    }

    /// The dynamic table, for tests and metrics.
    pub fn table(&self) -> &DynamicTable {
        &self.table
    }

    /// Decode one whole field block, handing each field to `field` in order
    /// while their total stays within `max_list` bytes.
    pub fn decode(
        &mut self,
        block: &[u8],
        max_list: usize,
        mut field: impl FnMut(&[u8], &[u8]),
    ) -> Result<(), DecodeError> {
        let mut at = 0;
        let mut list = 0usize;
        let mut fields_seen = false;
        while let Some(&first) = block.get(at) {
            let (kind, prefix) = match first {
                0x80.. => (Kind::Indexed, 7),
                0x40.. => (Kind::Incremental, 6),
                0x20.. => (Kind::SizeUpdate, 5),
                _ => (Kind::Literal, 4),
            };
            let index = integer(block, &mut at, prefix)?;
            if let Kind::SizeUpdate = kind {
                if fields_seen || index > self.limit {
                    return Err(DecodeError::Compression);
                }
                self.table.set_max_size(index);
                continue;
            }
            fields_seen = true;
            let (name, value) = match kind {
                Kind::Indexed => self.table.get(index).ok_or(DecodeError::Compression)?,
                _ => self.literal(block, &mut at, index, matches!(kind, Kind::Incremental))?,
            };
            list = list.saturating_add(name.len() + value.len() + ENTRY_OVERHEAD);
            if list <= max_list {
                field(name, value);
            }
        }
        if list > max_list {
            Err(DecodeError::TooLarge)
        } else {
            Ok(())
        }
    }

    /// A literal field (§6.2): the name by index (or a string if `index` is 0),
    /// then the value; added to the table if `incremental`.
    fn literal(
        &mut self,
        block: &[u8],
        at: &mut usize,
        index: usize,
        incremental: bool,
    ) -> Result<(&[u8], &[u8]), DecodeError> {
        self.name.clear();
        if index == 0 {
            string(block, at, &mut self.name)?;
        } else {
            let (name, _) = self.table.get(index).ok_or(DecodeError::Compression)?;
            // Copied: inserting this field may evict the entry it names (§4.4).
            self.name.extend_from_slice(name);
        }
        self.value.clear();
        string(block, at, &mut self.value)?;
        if incremental {
            self.table.insert(&self.name, &self.value);
        }
        Ok((&self.name, &self.value))
    }
}

/// An integer with an N-bit prefix (§5.1), starting at `block[*at]`.
pub fn integer(block: &[u8], at: &mut usize, prefix: u32) -> Result<usize, DecodeError> {
    let mask = (1u8 << prefix) - 1;
    let first = block.get(*at).ok_or(DecodeError::Compression)? & mask;
    *at += 1;
    if first < mask {
        return Ok(usize::from(first));
    }
    let mut value = u64::from(mask);
    for shift in (0..=28).step_by(7) {
        let byte = *block.get(*at).ok_or(DecodeError::Compression)?;
        *at += 1;
        value += u64::from(byte & 0x7f) << shift;
        if byte & 0x80 == 0 {
            return usize::try_from(value)
                .ok()
                .filter(|&v| v <= u32::MAX as usize)
                .ok_or(DecodeError::Compression);
        }
    }
    Err(DecodeError::Compression)
}

/// A string literal (§5.2), raw or Huffman-coded, appended to `out`.
pub fn string(block: &[u8], at: &mut usize, out: &mut Vec<u8>) -> Result<(), DecodeError> {
    let huffman = block.get(*at).ok_or(DecodeError::Compression)? & 0x80 != 0;
    let len = integer(block, at, 7)?;
    let end = at.checked_add(len).ok_or(DecodeError::Compression)?;
    let bytes = block.get(*at..end).ok_or(DecodeError::Compression)?;
    *at = end;
    if huffman {
        huffman::decode(bytes, out).map_err(|_| DecodeError::Compression)
    } else {
        out.extend_from_slice(bytes);
        Ok(())
    }
}
