//! Stream states (RFC 9113 §5.1): idle, open, half-closed (remote), closed;
//! and what a request's fields and body must be (§8).

use super::super::super::frame::{flag, kind};
use super::super::super::testing::client;
use super::*;
use crate::protocol::Want;

#[test]
fn idle_frames_other_than_headers_and_priority_end_the_connection() {
    for frame in [
        client::data(1, b"x", false),
        client::window(1, 1),
        client::reset(1, ErrorCode::CANCEL),
        client::frame(kind::CONTINUATION, flag::END_HEADERS, 1, b""),
    ] {
        let mut f = ready();
        assert!(
            goaway(&f.input(&frame), ErrorCode::PROTOCOL_ERROR),
            "{frame:02x?}"
        );
    }
    let mut f = ready();
    assert_eq!(
        f.input(&client::frame(kind::PRIORITY, 0, 9, &[0, 0, 0, 1, 16])),
        []
    );
    assert_eq!(
        f.input(&client::get(1)),
        answered(1),
        "PRIORITY did not use stream 9"
    );
}

#[test]
fn idle_ids_must_be_odd_and_growing() {
    let mut f = ready();
    assert!(goaway(&f.input(&client::get(2)), ErrorCode::PROTOCOL_ERROR));
    let mut f = ready();
    f.input(&client::get(5));
    assert!(goaway(&f.input(&client::get(3)), ErrorCode::PROTOCOL_ERROR));
}

#[test]
fn open_a_body_is_read_and_discarded_then_answered() {
    let mut f = ready();
    let mut fields = client::GET.to_vec();
    fields.push(("content-length", "5"));
    assert_eq!(f.input(&client::headers(1, &fields, false)), []);
    assert_eq!(f.input(&client::data(1, b"hel", false)), []);
    assert_eq!(f.input(&client::data(1, b"lo", true)), answered(1));
}

#[test]
fn open_content_length_must_match_the_data() {
    for (body, end) in [(&b"toolong"[..], false), (b"shrt", true)] {
        let mut f = ready();
        let mut fields = client::GET.to_vec();
        fields.push(("content-length", "5"));
        f.input(&client::headers(1, &fields, false));
        assert_eq!(
            f.input(&client::data(1, body, end)),
            [Out::Reset(1, ErrorCode::PROTOCOL_ERROR)]
        );
        assert_eq!(
            f.input(&client::get(3)),
            answered(3),
            "the connection goes on"
        );
    }
}

#[test]
fn open_trailers_end_the_request_and_must_end_the_stream() {
    let mut f = ready();
    f.input(&client::headers(1, &client::GET, false));
    assert_eq!(
        f.input(&client::headers(1, &[("x-sum", "1")], true)),
        answered(1)
    );
    f.input(&client::headers(3, &client::GET, false));
    let out = f.input(&client::headers(3, &[("x-sum", "1")], false));
    assert_eq!(out, [Out::Reset(3, ErrorCode::PROTOCOL_ERROR)]);
    f.input(&client::headers(5, &client::GET, false));
    let out = f.input(&client::headers(5, &[(":path", "/")], true));
    assert_eq!(out, [Out::Reset(5, ErrorCode::PROTOCOL_ERROR)]);
}

#[test]
fn malformed_requests_are_stream_errors() {
    let mut f = ready();
    let cases: [&[(&str, &str)]; 4] = [
        &[(":method", "GET"), (":path", "/")],
        &[
            (":method", "GET"),
            (":scheme", "http"),
            (":path", "/"),
            ("Host", "a"),
        ],
        &[
            (":method", "GET"),
            (":scheme", "http"),
            (":path", "/"),
            ("connection", "close"),
        ],
        &[
            (":method", "GET"),
            (":scheme", "http"),
            (":path", "/"),
            ("te", "gzip"),
        ],
    ];
    for (i, fields) in cases.iter().enumerate() {
        let id = 2 * i as u32 + 1;
        assert_eq!(
            f.input(&client::headers(id, fields, true)),
            [Out::Reset(id, ErrorCode::PROTOCOL_ERROR)]
        );
    }
    assert_eq!(f.input(&client::get(9)), answered(9));
    assert_eq!(
        f.input(&client::data(1, b"x", true)),
        [],
        "late DATA on a stream we reset is ignored"
    );
}

#[test]
fn head_gets_headers_only() {
    let mut f = ready();
    let fields = [(":method", "HEAD"), (":scheme", "http"), (":path", "/")];
    assert_eq!(
        f.input(&client::headers(1, &fields, true)),
        [Out::Headers(1, true, "200".into())]
    );
}

#[test]
fn half_closed_remote_data_is_a_stream_error() {
    let mut f = ready();
    f.input(&client::settings(&[(4, 0)])); // no window: the answer waits
    assert_eq!(
        f.input(&client::get(1)),
        [Out::Headers(1, false, "200".into())]
    );
    assert_eq!(
        f.input(&client::data(1, b"x", true)),
        [Out::Reset(1, ErrorCode::STREAM_CLOSED)]
    );
    assert_eq!(f.session.active_streams(), 0);
    assert_eq!(
        f.input(&client::window(1, 100)),
        [],
        "WINDOW_UPDATE on a closed stream is ignored"
    );
}

#[test]
fn half_closed_remote_headers_are_a_stream_error() {
    let mut f = ready();
    f.input(&client::settings(&[(4, 0)]));
    f.input(&client::get(1));
    assert_eq!(
        f.input(&client::headers(1, &[("x", "1")], true)),
        [Out::Reset(1, ErrorCode::STREAM_CLOSED)]
    );
}

#[test]
fn closed_data_or_headers_after_the_end_is_stream_closed() {
    let mut f = ready();
    f.input(&client::get(1));
    assert!(goaway(
        &f.input(&client::data(1, b"x", true)),
        ErrorCode::STREAM_CLOSED
    ));
    let mut f = ready();
    f.input(&client::headers(1, &client::GET, false));
    assert_eq!(f.input(&client::reset(1, ErrorCode::CANCEL)), []);
    assert!(goaway(&f.input(&client::get(1)), ErrorCode::STREAM_CLOSED));
}

#[test]
fn closed_reset_and_priority_are_ignored() {
    let mut f = ready();
    f.input(&client::get(1));
    assert_eq!(f.input(&client::reset(1, ErrorCode::CANCEL)), []);
    assert_eq!(
        f.input(&client::frame(kind::PRIORITY, 0, 1, &[0, 0, 0, 3, 16])),
        []
    );
    assert_eq!(f.session.wants(), Want::Input);
}

#[test]
fn a_stream_that_depends_on_itself_is_reset() {
    let mut f = ready();
    let mut payload = vec![0, 0, 0, 1, 16];
    payload.extend(client::block(&client::GET));
    let frame = client::frame(
        kind::HEADERS,
        flag::END_HEADERS | flag::PRIORITY | flag::END_STREAM,
        1,
        &payload,
    );
    assert_eq!(f.input(&frame), [Out::Reset(1, ErrorCode::PROTOCOL_ERROR)]);
    let self_priority = client::frame(kind::PRIORITY, 0, 3, &[0, 0, 0, 3, 16]);
    assert_eq!(
        f.input(&self_priority),
        [Out::Reset(3, ErrorCode::PROTOCOL_ERROR)]
    );
}

#[test]
fn streams_over_the_limit_are_refused() {
    let mut f = ready();
    f.limits.max_streams = 2;
    f.input(&client::headers(1, &client::GET, false));
    f.input(&client::headers(3, &client::GET, false));
    assert_eq!(
        f.input(&client::get(5)),
        [Out::Reset(5, ErrorCode::REFUSED_STREAM)]
    );
    assert_eq!(
        f.input(&client::data(5, b"x", true)),
        [],
        "frames on the refused stream are ignored"
    );
    assert_eq!(f.input(&client::data(1, b"", true)), answered(1));
    assert_eq!(f.input(&client::get(7)), answered(7));
}

#[test]
fn continuation_completes_a_block_and_nothing_may_come_between() {
    let mut f = ready();
    let block = client::block(&client::GET);
    let (a, b) = block.split_at(5);
    assert_eq!(
        f.input(&client::frame(kind::HEADERS, flag::END_STREAM, 1, a)),
        []
    );
    assert_eq!(
        f.input(&client::frame(kind::CONTINUATION, flag::END_HEADERS, 1, b)),
        answered(1)
    );
    f.input(&client::frame(kind::HEADERS, flag::END_STREAM, 3, a));
    assert!(goaway(
        &f.input(&client::frame(6, 0, 0, b"12345678")),
        ErrorCode::PROTOCOL_ERROR
    ));
    let mut f = ready();
    f.input(&client::frame(kind::HEADERS, flag::END_STREAM, 1, a));
    let other = client::frame(kind::CONTINUATION, flag::END_HEADERS, 3, b);
    assert!(goaway(&f.input(&other), ErrorCode::PROTOCOL_ERROR));
}

#[test]
fn hpack_errors_end_the_connection() {
    let mut f = ready();
    let frame = client::frame(kind::HEADERS, flag::END_HEADERS, 1, &[0x3f]);
    assert!(goaway(&f.input(&frame), ErrorCode::COMPRESSION_ERROR));
}

#[test]
fn a_header_table_size_change_is_acknowledged_in_our_next_block() {
    let mut f = ready();
    f.input(&client::settings(&[(1, 0)]));
    assert_eq!(
        f.input(&client::get(1)),
        answered(1),
        "the client's decoder accepts it"
    );
    assert_eq!(
        f.last_raw[9..11],
        [0x20, 0x88],
        "a size update to 0, then :status 200"
    );
    f.input(&client::get(3));
    assert_eq!(f.last_raw[9], 0x88, "only once");
}
