//! Serializers for the frames a server sends, appended to an output buffer.
//!
//! Each writes exactly one frame (HEADERS may add CONTINUATIONs: a field block
//! longer than the peer's `SETTINGS_MAX_FRAME_SIZE` is split, §4.3). None pads
//! (padding is optional, §6.1) nor sends PRIORITY (deprecated, §5.3.2).

use super::{ErrorCode, HEADER_LEN, MAX_WINDOW, flag, kind};

/// Append a frame header.
pub fn header(out: &mut Vec<u8>, len: usize, kind: u8, flags: u8, stream: u32) {
    debug_assert!(len < 1 << 24, "frame length {len}");
    let len = (len as u32).to_be_bytes();
    out.extend_from_slice(&len[1..]);
    out.push(kind);
    out.push(flags);
    out.extend_from_slice(&(stream & MAX_WINDOW).to_be_bytes());
}

/// SETTINGS with these (identifier, value) pairs.
pub fn settings(out: &mut Vec<u8>, params: &[(u16, u32)]) {
    header(out, params.len() * 6, kind::SETTINGS, 0, 0);
    for (id, value) in params {
        out.extend_from_slice(&id.to_be_bytes());
        out.extend_from_slice(&value.to_be_bytes());
    }
}

/// The acknowledgement of the peer's SETTINGS (§6.5.3).
pub fn settings_ack(out: &mut Vec<u8>) {
    header(out, 0, kind::SETTINGS, flag::ACK, 0);
}

/// A PING, or the answer to one (`ack`) with the same data (§6.7).
pub fn ping(out: &mut Vec<u8>, ack: bool, data: [u8; 8]) {
    header(out, 8, kind::PING, if ack { flag::ACK } else { 0 }, 0);
    out.extend_from_slice(&data);
}

/// GOAWAY naming the last stream processed (§6.8); no debug data.
pub fn goaway(out: &mut Vec<u8>, last_stream: u32, code: ErrorCode) {
    header(out, 8, kind::GOAWAY, 0, 0);
    out.extend_from_slice(&(last_stream & MAX_WINDOW).to_be_bytes());
    out.extend_from_slice(&code.0.to_be_bytes());
}

/// RST_STREAM (§6.4).
pub fn rst_stream(out: &mut Vec<u8>, stream: u32, code: ErrorCode) {
    header(out, 4, kind::RST_STREAM, 0, stream);
    out.extend_from_slice(&code.0.to_be_bytes());
}

/// WINDOW_UPDATE of `increment` (1 to 2^31-1) for `stream`, 0 for the
/// connection (§6.9).
pub fn window_update(out: &mut Vec<u8>, stream: u32, increment: u32) {
    debug_assert!((1..=MAX_WINDOW).contains(&increment));
    header(out, 4, kind::WINDOW_UPDATE, 0, stream);
    out.extend_from_slice(&(increment & MAX_WINDOW).to_be_bytes());
}

/// HEADERS carrying `block`, split into CONTINUATION frames of at most
/// `max_frame` bytes (§4.3: the frames of one block are contiguous).
pub fn headers(out: &mut Vec<u8>, stream: u32, block: &[u8], end_stream: bool, max_frame: usize) {
    let max_frame = max_frame.max(1);
    let mut chunks = block.chunks(max_frame).peekable();
    let first = chunks.next().unwrap_or(&[]);
    let mut flags = if end_stream { flag::END_STREAM } else { 0 };
    if chunks.peek().is_none() {
        flags |= flag::END_HEADERS;
    }
    header(out, first.len(), kind::HEADERS, flags, stream);
    out.extend_from_slice(first);
    while let Some(chunk) = chunks.next() {
        let last = chunks.peek().is_none();
        let flags = if last { flag::END_HEADERS } else { 0 };
        header(out, chunk.len(), kind::CONTINUATION, flags, stream);
        out.extend_from_slice(chunk);
    }
}

/// One DATA frame (the caller keeps it within the peer's frame size and windows).
pub fn data(out: &mut Vec<u8>, stream: u32, data: &[u8], end_stream: bool) {
    let flags = if end_stream { flag::END_STREAM } else { 0 };
    header(out, data.len(), kind::DATA, flags, stream);
    out.extend_from_slice(data);
}

/// Bytes a frame with `payload` bytes takes on the wire.
pub const fn frame_len(payload: usize) -> usize {
    HEADER_LEN + payload
}

/// What is written parses back as the frames meant (the parser's own table
/// tests are in `frame/tests.rs`).
#[cfg(test)]
mod tests {
    use super::super::{Frame, MIN_MAX_FRAME_SIZE as MAX, Parsed, parse};
    use super::*;

    #[test]
    fn headers_are_split_into_continuations() {
        let mut out = Vec::new();
        headers(&mut out, 1, b"abcde", true, 2);
        let mut at = 0;
        let mut seen = Vec::new();
        while at < out.len() {
            let Parsed::Frame(frame, len) = parse(&out[at..], MAX) else {
                panic!()
            };
            seen.push(frame);
            at += len;
        }
        assert_eq!(
            seen,
            [
                Frame::Headers {
                    stream: 1,
                    end_stream: true,
                    end_headers: false,
                    self_dependent: false,
                    block: b"ab",
                },
                Frame::Continuation {
                    stream: 1,
                    end_headers: false,
                    block: b"cd"
                },
                Frame::Continuation {
                    stream: 1,
                    end_headers: true,
                    block: b"e"
                },
            ]
        );
        let mut one = Vec::new();
        headers(&mut one, 1, b"ab", false, 100);
        let Parsed::Frame(
            Frame::Headers {
                end_headers: true, ..
            },
            11,
        ) = parse(&one, MAX)
        else {
            panic!()
        };
    }

    #[test]
    fn data_and_rst_stream_round_trip() {
        let mut out = Vec::new();
        data(&mut out, 9, b"body", true);
        rst_stream(&mut out, 9, ErrorCode::REFUSED_STREAM);
        let data = Frame::Data {
            stream: 9,
            end_stream: true,
            data: b"body",
            flow_len: 4,
        };
        assert_eq!(parse(&out, MAX), Parsed::Frame(data, frame_len(4)));
        let rst = Frame::RstStream {
            stream: 9,
            code: ErrorCode::REFUSED_STREAM,
        };
        assert_eq!(parse(&out[13..], MAX), Parsed::Frame(rst, 13));
    }
}
