//! HPACK (RFC 7541), written here rather than taken from a crate: the `hpack`
//! crate panics on the single byte `0x3f` (mlalic/hpack-rs#11), and a decoder
//! fed by the network must refuse anything, never panic.
//!
//! | file | what |
//! |------|------|
//! | `decoder.rs` | integers, strings, the four representations, size updates, the list bound |
//! | `table.rs` | the static table (Appendix A) and the dynamic table (§4) |
//! | `huffman.rs` | the Huffman code (Appendix B): a canonical-code walk, no tree |
//! | `encoder.rs` | the response's block, built once, with the `date` at a known offset |

pub mod decoder;
pub mod encoder;
pub mod huffman;
pub mod table;

pub use decoder::{DecodeError, Decoder};
pub use encoder::BlockWriter;

#[cfg(test)]
mod tests;
