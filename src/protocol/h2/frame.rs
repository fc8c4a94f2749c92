//! HTTP/2 frames (RFC 9113 §4 and §6): parsed from bytes with every rule the
//! frame itself can break checked here, so that the session sees only
//! well-formed frames.
//!
//! ```text
//!  +-----------------------------------------------+
//!  |                 Length (24)                   |
//!  +---------------+---------------+---------------+
//!  |   Type (8)    |   Flags (8)   |
//!  +-+-------------+---------------+-------------------------------+
//!  |R|                 Stream Identifier (31)                      |
//!  +=+=============================================================+
//!  |                   Frame Payload (0...)                      ...
//!  +---------------------------------------------------------------+
//! ```
//!
//! Rules this file applies, each with its reason:
//! - **`Partial` is not an error** (as with `httparse`): a frame split across
//!   reads is presented again with more bytes. But the length is checked as soon
//!   as the 9-byte header is there (§4.2), so a frame over
//!   `SETTINGS_MAX_FRAME_SIZE` is refused before any of it is buffered.
//! - **A frame too long is a connection error** `FRAME_SIZE_ERROR`: §4.2 requires
//!   it for any frame that carries a field block or has stream 0 and allows it
//!   for the rest, and one rule is simpler to test.
//! - **Stream-id rules per type** (§6): DATA, HEADERS, PRIORITY, RST_STREAM and
//!   CONTINUATION need a stream; SETTINGS, PING and GOAWAY must not have one.
//! - **Padding** (§6.1, §6.2): a pad length as long as what remains is a
//!   connection error `PROTOCOL_ERROR`. DATA keeps its whole payload length for
//!   flow control (§6.9: padding counts).
//! - **PRIORITY is parsed and ignored** (§5.3.2 deprecates the scheme), but a
//!   stream that depends on itself is still a stream error (§5.3.1).
//! - **The parser is a server's**: PUSH_PROMISE from a client is a connection
//!   error `PROTOCOL_ERROR` (§8.4). Unknown frame types are returned so the
//!   session can ignore them (§4.1) while still checking CONTINUATION order.
//! - **SETTINGS values are checked** (§6.5.2): `ENABLE_PUSH` other than 0 or 1,
//!   `MAX_FRAME_SIZE` out of range (`PROTOCOL_ERROR`), `INITIAL_WINDOW_SIZE`
//!   over 2^31-1 (`FLOW_CONTROL_ERROR`).

mod codes;
pub mod write;

pub use codes::{flag, kind, setting};

use super::error::{ErrorCode, H2Error};

/// Bytes in a frame header.
pub const HEADER_LEN: usize = 9;
/// The smallest (and initial) `SETTINGS_MAX_FRAME_SIZE` (§4.2).
pub const MIN_MAX_FRAME_SIZE: u32 = 16_384;
/// The largest `SETTINGS_MAX_FRAME_SIZE` (§6.5.2).
pub const MAX_MAX_FRAME_SIZE: u32 = (1 << 24) - 1;
/// The largest flow-control window (§6.9.1).
pub const MAX_WINDOW: u32 = (1 << 31) - 1;

/// The 9 bytes before every payload.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct FrameHeader {
    /// Payload length.
    pub len: u32,
    /// Type code ([`kind`]).
    pub kind: u8,
    /// Flags ([`flag`]).
    pub flags: u8,
    /// Stream identifier, the reserved bit cleared (§4.1: ignored on receipt).
    pub stream: u32,
}

impl FrameHeader {
    /// Read a header from the first 9 bytes of `buf`, if there are 9.
    pub fn read(buf: &[u8]) -> Option<FrameHeader> {
        let h: &[u8; HEADER_LEN] = buf.get(..HEADER_LEN)?.try_into().ok()?;
        Some(FrameHeader {
            len: u32::from_be_bytes([0, h[0], h[1], h[2]]),
            kind: h[3],
            flags: h[4],
            stream: u32::from_be_bytes([h[5], h[6], h[7], h[8]]) & MAX_WINDOW,
        })
    }

    fn has(&self, flag: u8) -> bool {
        self.flags & flag != 0
    }
}

/// One frame, borrowing its payload from the input.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Frame<'a> {
    /// DATA: `data` without padding; `flow_len` is the whole payload, which
    /// flow control counts (§6.9).
    Data {
        /// The stream.
        stream: u32,
        /// END_STREAM.
        end_stream: bool,
        /// The data, padding removed.
        data: &'a [u8],
        /// The payload length, padding included.
        flow_len: u32,
    },
    /// HEADERS: the start of a field block.
    Headers {
        /// The stream.
        stream: u32,
        /// END_STREAM.
        end_stream: bool,
        /// END_HEADERS: no CONTINUATION follows.
        end_headers: bool,
        /// The stream depends on itself (§5.3.1): a stream error, once the block
        /// is decoded (the HPACK state must still follow it).
        self_dependent: bool,
        /// The field block fragment, padding and priority removed.
        block: &'a [u8],
    },
    /// PRIORITY, ignored (§5.3.2), but its stream counts as seen.
    Priority {
        /// The stream.
        stream: u32,
    },
    /// RST_STREAM.
    RstStream {
        /// The stream.
        stream: u32,
        /// Why.
        code: ErrorCode,
    },
    /// SETTINGS: `params` is 6 bytes per parameter, each already checked;
    /// read them with [`settings_params`].
    Settings {
        /// An acknowledgement of ours (then `params` is empty).
        ack: bool,
        /// The parameters.
        params: &'a [u8],
    },
    /// PING.
    Ping {
        /// An answer to ours.
        ack: bool,
        /// The opaque data to echo.
        data: [u8; 8],
    },
    /// GOAWAY.
    GoAway {
        /// The last stream the peer processed.
        last_stream: u32,
        /// Why.
        code: ErrorCode,
    },
    /// WINDOW_UPDATE with a non-zero increment.
    WindowUpdate {
        /// The stream, or 0 for the connection.
        stream: u32,
        /// The increment, 1 to 2^31-1.
        increment: u32,
    },
    /// CONTINUATION: more of a field block.
    Continuation {
        /// The stream.
        stream: u32,
        /// END_HEADERS.
        end_headers: bool,
        /// The fragment.
        block: &'a [u8],
    },
    /// A frame of a type this parser does not know: ignored (§4.1, §5.5).
    Unknown {
        /// Its type code.
        kind: u8,
    },
}

/// What [`parse`] found at the start of a buffer.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Parsed<'a> {
    /// Not a whole frame yet: present the bytes again with more.
    Partial,
    /// A frame of `len` bytes, header included.
    Frame(Frame<'a>, usize),
    /// A frame of `len` bytes that breaks a rule costing one stream: the session
    /// resets the stream (or, if the stream is idle, ends the connection) and
    /// skips `len` bytes.
    StreamError(u32, ErrorCode, usize),
    /// A rule whose breach ends the connection.
    ConnectionError(ErrorCode),
}

/// Parse the frame at the start of `buf`, refusing one longer than
/// `max_frame_size` (the `SETTINGS_MAX_FRAME_SIZE` we advertised).
pub fn parse(buf: &[u8], max_frame_size: u32) -> Parsed<'_> {
    let Some(header) = FrameHeader::read(buf) else {
        return Parsed::Partial;
    };
    if header.len > max_frame_size {
        return Parsed::ConnectionError(ErrorCode::FRAME_SIZE_ERROR);
    }
    let total = HEADER_LEN + header.len as usize;
    let Some(payload) = buf.get(HEADER_LEN..total) else {
        return Parsed::Partial;
    };
    match payload_of(header, payload) {
        Ok(frame) => Parsed::Frame(frame, total),
        Err(H2Error::Stream(stream, code)) => Parsed::StreamError(stream, code, total),
        Err(H2Error::Connection(code)) => Parsed::ConnectionError(code),
    }
}

fn connection(code: ErrorCode) -> H2Error {
    H2Error::Connection(code)
}

/// The stream-id rule of §6 for each type: `needs` a stream, or must have none.
fn check_stream(header: FrameHeader, needs: bool) -> Result<u32, H2Error> {
    if (header.stream != 0) == needs {
        Ok(header.stream)
    } else {
        Err(connection(ErrorCode::PROTOCOL_ERROR))
    }
}

fn payload_of(h: FrameHeader, payload: &[u8]) -> Result<Frame<'_>, H2Error> {
    match h.kind {
        kind::DATA => {
            let stream = check_stream(h, true)?;
            let data = unpad(h, payload)?;
            let end_stream = h.has(flag::END_STREAM);
            Ok(Frame::Data {
                stream,
                end_stream,
                data,
                flow_len: h.len,
            })
        }
        kind::HEADERS => headers(h, payload),
        kind::PRIORITY => {
            let stream = check_stream(h, true)?;
            let Ok(fields) = <[u8; 5]>::try_from(payload) else {
                return Err(H2Error::Stream(stream, ErrorCode::FRAME_SIZE_ERROR));
            };
            if dependency(&fields) == stream {
                return Err(H2Error::Stream(stream, ErrorCode::PROTOCOL_ERROR));
            }
            Ok(Frame::Priority { stream })
        }
        kind::RST_STREAM => {
            let stream = check_stream(h, true)?;
            let code = ErrorCode(u32_exact(payload)?);
            Ok(Frame::RstStream { stream, code })
        }
        kind::SETTINGS => settings(h, payload),
        kind::PUSH_PROMISE => Err(connection(ErrorCode::PROTOCOL_ERROR)),
        kind::PING => {
            check_stream(h, false)?;
            let data = <[u8; 8]>::try_from(payload)
                .map_err(|_| connection(ErrorCode::FRAME_SIZE_ERROR))?;
            Ok(Frame::Ping {
                ack: h.has(flag::ACK),
                data,
            })
        }
        kind::GOAWAY => {
            check_stream(h, false)?;
            if payload.len() < 8 {
                return Err(connection(ErrorCode::FRAME_SIZE_ERROR));
            }
            let last_stream = u32_exact(&payload[..4])? & MAX_WINDOW;
            let code = ErrorCode(u32_exact(&payload[4..8])?);
            Ok(Frame::GoAway { last_stream, code })
        }
        kind::WINDOW_UPDATE => window_update(h, payload),
        kind::CONTINUATION => {
            let stream = check_stream(h, true)?;
            let end_headers = h.has(flag::END_HEADERS);
            Ok(Frame::Continuation {
                stream,
                end_headers,
                block: payload,
            })
        }
        other => Ok(Frame::Unknown { kind: other }),
    }
}

fn headers(h: FrameHeader, payload: &[u8]) -> Result<Frame<'_>, H2Error> {
    let stream = check_stream(h, true)?;
    let mut block = unpad(h, payload)?;
    let mut self_dependent = false;
    if h.has(flag::PRIORITY) {
        let Some((fields, rest)) = block.split_first_chunk::<5>() else {
            return Err(connection(ErrorCode::FRAME_SIZE_ERROR));
        };
        self_dependent = dependency(fields) == stream;
        block = rest;
    }
    Ok(Frame::Headers {
        stream,
        end_stream: h.has(flag::END_STREAM),
        end_headers: h.has(flag::END_HEADERS),
        self_dependent,
        block,
    })
}

/// The stream a priority block (E, dependency, weight) names.
fn dependency(fields: &[u8; 5]) -> u32 {
    u32::from_be_bytes([fields[0], fields[1], fields[2], fields[3]]) & MAX_WINDOW
}

/// The payload without its padding, if the PADDED flag is set (§6.1, §6.2).
fn unpad(h: FrameHeader, payload: &[u8]) -> Result<&[u8], H2Error> {
    if !h.has(flag::PADDED) {
        return Ok(payload);
    }
    let Some((&pad, rest)) = payload.split_first() else {
        return Err(connection(ErrorCode::FRAME_SIZE_ERROR));
    };
    let keep = rest
        .len()
        .checked_sub(usize::from(pad))
        .ok_or(connection(ErrorCode::PROTOCOL_ERROR))?;
    Ok(&rest[..keep])
}

fn u32_exact(payload: &[u8]) -> Result<u32, H2Error> {
    <[u8; 4]>::try_from(payload)
        .map(u32::from_be_bytes)
        .map_err(|_| connection(ErrorCode::FRAME_SIZE_ERROR))
}

fn settings(h: FrameHeader, payload: &[u8]) -> Result<Frame<'_>, H2Error> {
    check_stream(h, false)?;
    let ack = h.has(flag::ACK);
    if (ack && !payload.is_empty()) || !payload.len().is_multiple_of(6) {
        return Err(connection(ErrorCode::FRAME_SIZE_ERROR));
    }
    for (id, value) in settings_params(payload) {
        let bad = match id {
            setting::ENABLE_PUSH if value > 1 => ErrorCode::PROTOCOL_ERROR,
            setting::INITIAL_WINDOW_SIZE if value > MAX_WINDOW => ErrorCode::FLOW_CONTROL_ERROR,
            setting::MAX_FRAME_SIZE
                if !(MIN_MAX_FRAME_SIZE..=MAX_MAX_FRAME_SIZE).contains(&value) =>
            {
                ErrorCode::PROTOCOL_ERROR
            }
            _ => continue,
        };
        return Err(connection(bad));
    }
    Ok(Frame::Settings {
        ack,
        params: payload,
    })
}

/// The (identifier, value) pairs of a SETTINGS payload, in order.
pub fn settings_params(params: &[u8]) -> impl Iterator<Item = (u16, u32)> + '_ {
    params.chunks_exact(6).map(|p| {
        let id = u16::from_be_bytes([p[0], p[1]]);
        (id, u32::from_be_bytes([p[2], p[3], p[4], p[5]]))
    })
}

fn window_update(h: FrameHeader, payload: &[u8]) -> Result<Frame<'_>, H2Error> {
    let increment = u32_exact(payload)? & MAX_WINDOW;
    if increment == 0 {
        // §6.9: a stream error on a stream, a connection error on the connection.
        return Err(match h.stream {
            0 => connection(ErrorCode::PROTOCOL_ERROR),
            stream => H2Error::Stream(stream, ErrorCode::PROTOCOL_ERROR),
        });
    }
    Ok(Frame::WindowUpdate {
        stream: h.stream,
        increment,
    })
}

#[cfg(test)]
mod tests;
