//! Client-side frame builders: what a test or the fuzzer sends, written by hand.

use super::*;

/// A frame with any header fields.
pub fn frame(kind: u8, flags: u8, stream: u32, payload: &[u8]) -> Vec<u8> {
    let mut out = Vec::new();
    frame::write::header(&mut out, payload.len(), kind, flags, stream);
    out.extend_from_slice(payload);
    out
}

/// The preface and an empty SETTINGS.
pub fn preface() -> Vec<u8> {
    let mut out = PREFACE.to_vec();
    frame::write::settings(&mut out, &[]);
    out
}

/// A field block of literals.
pub fn block(fields: &[(&str, &str)]) -> Vec<u8> {
    let mut block = BlockWriter::new();
    for (name, value) in fields {
        block.field(name.as_bytes(), value.as_bytes());
    }
    block.bytes
}

/// The fields of `GET /`.
pub const GET: [(&str, &str); 4] = [
    (":method", "GET"),
    (":scheme", "http"),
    (":path", "/"),
    (":authority", "a"),
];

/// HEADERS with END_HEADERS carrying `fields`.
pub fn headers(stream: u32, fields: &[(&str, &str)], end_stream: bool) -> Vec<u8> {
    let flags = flag::END_HEADERS | if end_stream { flag::END_STREAM } else { 0 };
    frame(kind::HEADERS, flags, stream, &block(fields))
}

/// A whole `GET /` on `stream`.
pub fn get(stream: u32) -> Vec<u8> {
    headers(stream, &GET, true)
}

/// DATA.
pub fn data(stream: u32, bytes: &[u8], end_stream: bool) -> Vec<u8> {
    frame(
        kind::DATA,
        if end_stream { flag::END_STREAM } else { 0 },
        stream,
        bytes,
    )
}

/// SETTINGS with these parameters.
pub fn settings(params: &[(u16, u32)]) -> Vec<u8> {
    let mut out = Vec::new();
    frame::write::settings(&mut out, params);
    out
}

/// Our SETTINGS acknowledged.
pub fn settings_ack() -> Vec<u8> {
    frame(kind::SETTINGS, flag::ACK, 0, b"")
}

/// WINDOW_UPDATE.
pub fn window(stream: u32, increment: u32) -> Vec<u8> {
    frame(kind::WINDOW_UPDATE, 0, stream, &increment.to_be_bytes())
}

/// RST_STREAM.
pub fn reset(stream: u32, code: ErrorCode) -> Vec<u8> {
    frame(kind::RST_STREAM, 0, stream, &code.0.to_be_bytes())
}
