//! Table tests: every frame type, valid and broken, and every proper prefix of
//! each valid frame (which must be `Partial`).

use super::write;
use super::*;

const MAX: u32 = MIN_MAX_FRAME_SIZE;

/// A raw frame: header fields and payload.
fn raw(kind: u8, flags: u8, stream: u32, payload: &[u8]) -> Vec<u8> {
    let mut out = Vec::new();
    write::header(&mut out, payload.len(), kind, flags, stream);
    out.extend_from_slice(payload);
    out
}

/// `bytes` parses to `frame`, using all of it, and every proper prefix is `Partial`.
fn parses(bytes: &[u8], frame: Frame<'_>) {
    assert_eq!(
        parse(bytes, MAX),
        Parsed::Frame(frame, bytes.len()),
        "{bytes:02x?}"
    );
    for cut in 0..bytes.len() {
        assert_eq!(parse(&bytes[..cut], MAX), Parsed::Partial, "prefix {cut}");
    }
    let mut longer = bytes.to_vec();
    longer.extend_from_slice(b"next frame");
    assert_eq!(parse(&longer, MAX), Parsed::Frame(frame, bytes.len()));
}

fn conn_error(bytes: &[u8], code: ErrorCode) {
    assert_eq!(
        parse(bytes, MAX),
        Parsed::ConnectionError(code),
        "{bytes:02x?}"
    );
}

#[test]
fn data_frames_plain_padded_and_empty() {
    let f = raw(kind::DATA, flag::END_STREAM, 1, b"hello");
    let data = Frame::Data {
        stream: 1,
        end_stream: true,
        data: b"hello",
        flow_len: 5,
    };
    parses(&f, data);
    let f = raw(kind::DATA, flag::PADDED, 3, b"\x03hi\0\0\0");
    let data = Frame::Data {
        stream: 3,
        end_stream: false,
        data: b"hi",
        flow_len: 6,
    };
    parses(&f, data);
    let f = raw(kind::DATA, 0, 5, b"");
    parses(
        &f,
        Frame::Data {
            stream: 5,
            end_stream: false,
            data: b"",
            flow_len: 0,
        },
    );
    let f = raw(kind::DATA, flag::PADDED, 5, b"\0");
    parses(
        &f,
        Frame::Data {
            stream: 5,
            end_stream: false,
            data: b"",
            flow_len: 1,
        },
    );
}

#[test]
fn data_rules() {
    conn_error(&raw(kind::DATA, 0, 0, b"x"), ErrorCode::PROTOCOL_ERROR);
    // §6.1: padding as long as the payload (pad length byte included) or longer.
    let f = raw(kind::DATA, flag::PADDED, 1, b"\x02ab");
    parses(
        &f,
        Frame::Data {
            stream: 1,
            end_stream: false,
            data: b"",
            flow_len: 3,
        },
    );
    conn_error(
        &raw(kind::DATA, flag::PADDED, 1, b"\x03ab"),
        ErrorCode::PROTOCOL_ERROR,
    );
    conn_error(
        &raw(kind::DATA, flag::PADDED, 1, b""),
        ErrorCode::FRAME_SIZE_ERROR,
    );
}

#[test]
fn headers_frames_with_padding_and_priority() {
    let headers = |stream, end_stream, end_headers, self_dependent, block| Frame::Headers {
        stream,
        end_stream,
        end_headers,
        self_dependent,
        block,
    };
    let f = raw(
        kind::HEADERS,
        flag::END_HEADERS | flag::END_STREAM,
        1,
        b"\x82\x84",
    );
    parses(&f, headers(1, true, true, false, b"\x82\x84"));
    let flags = flag::PADDED | flag::PRIORITY;
    let f = raw(kind::HEADERS, flags, 3, b"\x02\x80\0\0\x01\x10\x82pp");
    parses(&f, headers(3, false, false, false, b"\x82"));
    let f = raw(kind::HEADERS, flag::PRIORITY, 3, b"\0\0\0\x03\x10\x82");
    parses(&f, headers(3, false, false, true, b"\x82"));
}

#[test]
fn headers_rules() {
    conn_error(
        &raw(kind::HEADERS, 0, 0, b"\x82"),
        ErrorCode::PROTOCOL_ERROR,
    );
    conn_error(
        &raw(kind::HEADERS, flag::PRIORITY, 1, b"\0\0\0"),
        ErrorCode::FRAME_SIZE_ERROR,
    );
    let padded_priority = flag::PADDED | flag::PRIORITY;
    let f = raw(kind::HEADERS, padded_priority, 1, b"\x01\0\0\0\0\x10");
    conn_error(&f, ErrorCode::FRAME_SIZE_ERROR);
    conn_error(
        &raw(kind::HEADERS, flag::PADDED, 1, b"\x05abc"),
        ErrorCode::PROTOCOL_ERROR,
    );
}

#[test]
fn priority_is_parsed_and_checked() {
    parses(
        &raw(kind::PRIORITY, 0, 5, b"\0\0\0\x01\x10"),
        Frame::Priority { stream: 5 },
    );
    conn_error(
        &raw(kind::PRIORITY, 0, 0, b"\0\0\0\x01\x10"),
        ErrorCode::PROTOCOL_ERROR,
    );
    let f = raw(kind::PRIORITY, 0, 5, b"\0\0\0\x01");
    assert_eq!(
        parse(&f, MAX),
        Parsed::StreamError(5, ErrorCode::FRAME_SIZE_ERROR, 13)
    );
    let f = raw(kind::PRIORITY, 0, 5, b"\x80\0\0\x05\x10");
    assert_eq!(
        parse(&f, MAX),
        Parsed::StreamError(5, ErrorCode::PROTOCOL_ERROR, 14)
    );
}

#[test]
fn rst_stream() {
    let f = raw(kind::RST_STREAM, 0, 7, &[0, 0, 0, 8]);
    parses(
        &f,
        Frame::RstStream {
            stream: 7,
            code: ErrorCode::CANCEL,
        },
    );
    let f = raw(kind::RST_STREAM, 0, 7, &[0, 0, 1, 0]);
    parses(
        &f,
        Frame::RstStream {
            stream: 7,
            code: ErrorCode(256),
        },
    );
    conn_error(
        &raw(kind::RST_STREAM, 0, 0, &[0; 4]),
        ErrorCode::PROTOCOL_ERROR,
    );
    conn_error(
        &raw(kind::RST_STREAM, 0, 1, &[0; 3]),
        ErrorCode::FRAME_SIZE_ERROR,
    );
    conn_error(
        &raw(kind::RST_STREAM, 0, 1, &[0; 5]),
        ErrorCode::FRAME_SIZE_ERROR,
    );
}

#[test]
fn settings_frames_and_values() {
    let mut f = Vec::new();
    write::settings(&mut f, &[(setting::MAX_CONCURRENT_STREAMS, 100), (0x99, 7)]);
    let Parsed::Frame(Frame::Settings { ack: false, params }, 21) = parse(&f, MAX) else {
        panic!("{:?}", parse(&f, MAX));
    };
    assert_eq!(
        settings_params(params).collect::<Vec<_>>(),
        [(3, 100), (0x99, 7)]
    );
    parses(
        &f,
        Frame::Settings {
            ack: false,
            params: &f[9..],
        },
    );
    let mut ack = Vec::new();
    write::settings_ack(&mut ack);
    parses(
        &ack,
        Frame::Settings {
            ack: true,
            params: b"",
        },
    );
    conn_error(
        &raw(kind::SETTINGS, flag::ACK, 0, &[0; 6]),
        ErrorCode::FRAME_SIZE_ERROR,
    );
    conn_error(
        &raw(kind::SETTINGS, 0, 0, &[0; 5]),
        ErrorCode::FRAME_SIZE_ERROR,
    );
    conn_error(&raw(kind::SETTINGS, 0, 1, b""), ErrorCode::PROTOCOL_ERROR);
    let bad = [
        (setting::ENABLE_PUSH, 2, ErrorCode::PROTOCOL_ERROR),
        (
            setting::INITIAL_WINDOW_SIZE,
            MAX_WINDOW + 1,
            ErrorCode::FLOW_CONTROL_ERROR,
        ),
        (
            setting::MAX_FRAME_SIZE,
            MIN_MAX_FRAME_SIZE - 1,
            ErrorCode::PROTOCOL_ERROR,
        ),
        (
            setting::MAX_FRAME_SIZE,
            MAX_MAX_FRAME_SIZE + 1,
            ErrorCode::PROTOCOL_ERROR,
        ),
    ];
    for (id, value, code) in bad {
        let mut f = Vec::new();
        write::settings(&mut f, &[(id, value)]);
        conn_error(&f, code);
    }
}

#[test]
fn ping_goaway_and_push_promise() {
    let mut f = Vec::new();
    write::ping(&mut f, true, *b"12345678");
    parses(
        &f,
        Frame::Ping {
            ack: true,
            data: *b"12345678",
        },
    );
    conn_error(&raw(kind::PING, 0, 1, &[0; 8]), ErrorCode::PROTOCOL_ERROR);
    conn_error(&raw(kind::PING, 0, 0, &[0; 7]), ErrorCode::FRAME_SIZE_ERROR);
    let mut f = Vec::new();
    write::goaway(&mut f, 9, ErrorCode::ENHANCE_YOUR_CALM);
    parses(
        &f,
        Frame::GoAway {
            last_stream: 9,
            code: ErrorCode::ENHANCE_YOUR_CALM,
        },
    );
    let f = raw(kind::GOAWAY, 0, 0, b"\0\0\0\x01\0\0\0\0debug");
    parses(
        &f,
        Frame::GoAway {
            last_stream: 1,
            code: ErrorCode::NO_ERROR,
        },
    );
    conn_error(
        &raw(kind::GOAWAY, 0, 0, &[0; 7]),
        ErrorCode::FRAME_SIZE_ERROR,
    );
    conn_error(&raw(kind::GOAWAY, 0, 3, &[0; 8]), ErrorCode::PROTOCOL_ERROR);
    conn_error(
        &raw(kind::PUSH_PROMISE, 4, 1, &[0, 0, 0, 2]),
        ErrorCode::PROTOCOL_ERROR,
    );
}

#[test]
fn window_update() {
    let mut f = Vec::new();
    write::window_update(&mut f, 0, MAX_WINDOW);
    parses(
        &f,
        Frame::WindowUpdate {
            stream: 0,
            increment: MAX_WINDOW,
        },
    );
    let f = raw(kind::WINDOW_UPDATE, 0, 3, &[0x80, 0, 0, 1]);
    parses(
        &f,
        Frame::WindowUpdate {
            stream: 3,
            increment: 1,
        },
    );
    conn_error(
        &raw(kind::WINDOW_UPDATE, 0, 0, &[0; 4]),
        ErrorCode::PROTOCOL_ERROR,
    );
    let f = raw(kind::WINDOW_UPDATE, 0, 3, &[0x80, 0, 0, 0]);
    assert_eq!(
        parse(&f, MAX),
        Parsed::StreamError(3, ErrorCode::PROTOCOL_ERROR, 13)
    );
    conn_error(
        &raw(kind::WINDOW_UPDATE, 0, 3, &[0; 3]),
        ErrorCode::FRAME_SIZE_ERROR,
    );
}

#[test]
fn continuation_and_unknown_types() {
    let f = raw(kind::CONTINUATION, flag::END_HEADERS, 1, b"\x82");
    parses(
        &f,
        Frame::Continuation {
            stream: 1,
            end_headers: true,
            block: b"\x82",
        },
    );
    conn_error(
        &raw(kind::CONTINUATION, 0, 0, b""),
        ErrorCode::PROTOCOL_ERROR,
    );
    parses(
        &raw(0xfa, 0xff, 0, b"whatever"),
        Frame::Unknown { kind: 0xfa },
    );
}

#[test]
fn length_is_checked_from_the_header_alone() {
    let mut f = raw(kind::DATA, 0, 1, &vec![0; MAX as usize + 1]);
    conn_error(&f[..HEADER_LEN], ErrorCode::FRAME_SIZE_ERROR);
    assert_eq!(parse(&f[..HEADER_LEN - 1], MAX), Parsed::Partial);
    f.truncate(HEADER_LEN);
    assert!(matches!(parse(&f, MAX + 1), Parsed::Partial));
    let f = raw(kind::DATA, 0, 1, &vec![0; MAX as usize]);
    assert!(matches!(parse(&f, MAX), Parsed::Frame(_, n) if n == f.len()));
}

#[test]
fn the_reserved_bit_is_ignored() {
    let mut f = raw(kind::DATA, 0, 1, b"x");
    f[5] |= 0x80;
    parses(
        &f,
        Frame::Data {
            stream: 1,
            end_stream: false,
            data: b"x",
            flow_len: 1,
        },
    );
}
