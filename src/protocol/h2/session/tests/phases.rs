//! Connection phases: preface, SETTINGS exchange, PING, GOAWAY both ways,
//! timeouts, drain, linger.

use super::super::super::testing::client;
use super::super::{PREFACE, Stage, Timer};
use super::*;
use crate::protocol::{Stop, Want};

#[test]
fn preface_in_pieces_then_settings_then_a_request() {
    let mut f = Fixture::new();
    assert_eq!(
        f.input(&PREFACE[..10]),
        [Out::Settings(false, vec![(3, 100), (6, 16384)])]
    );
    assert_eq!(f.last_stop, Some(Stop::Partial));
    assert_eq!(f.session.stage(), Stage::Preface);
    assert_eq!(f.input(&PREFACE[10..]), []);
    assert_eq!(f.session.stage(), Stage::Open);
    assert_eq!(
        f.input(&client::settings(&[])),
        [Out::Settings(true, vec![])]
    );
    assert_eq!(f.input(&client::get(1)), answered(1));
    assert_eq!(f.stats.requests, 1);
}

#[test]
fn a_wrong_preface_ends_the_connection() {
    let mut f = Fixture::new();
    let out = f.input(b"GET / HTTP/1.1\r\n\r\n");
    assert!(goaway(&out, ErrorCode::PROTOCOL_ERROR), "{out:?}");
    assert_eq!(f.session.wants(), Want::Room);
    f.sent();
    assert_eq!(f.session.wants(), Want::Drain);
    assert_eq!(f.input(b"more"), [], "input after the GOAWAY is dropped");
    f.advance(f.timeouts.linger);
    f.expire();
    assert_eq!(f.session.wants(), Want::Close);
}

#[test]
fn the_preface_times_out_as_a_head_does() {
    let mut f = Fixture::new();
    f.input(&PREFACE[..3]);
    assert_eq!(
        (f.session.timer(), f.session.poll_at()),
        (Timer::Header, f.timeouts.header)
    );
    f.advance(f.timeouts.header);
    f.expire();
    assert_eq!(f.session.wants(), Want::Close);
}

#[test]
fn the_first_frame_must_be_settings() {
    let mut f = Fixture::new();
    let mut bytes = PREFACE.to_vec();
    bytes.extend(client::get(1));
    assert!(goaway(&f.input(&bytes), ErrorCode::PROTOCOL_ERROR));
}

#[test]
fn our_settings_must_be_acknowledged_in_time() {
    let mut f = Fixture::new();
    f.input(&client::preface());
    assert_eq!(f.session.timer(), Timer::SettingsAck);
    f.advance(f.limits.settings_timeout - 1);
    assert_eq!(f.expire(), []);
    f.advance(1);
    assert_eq!(f.expire(), [Out::GoAway(0, ErrorCode::SETTINGS_TIMEOUT)]);
}

#[test]
fn ping_is_echoed_and_a_ping_ack_ignored() {
    let mut f = ready();
    let ping = client::frame(6, 0, 0, b"12345678");
    assert_eq!(f.input(&ping), [Out::Ping(true, *b"12345678")]);
    assert_eq!(f.input(&client::frame(6, 1, 0, b"87654321")), []);
}

#[test]
fn an_idle_connection_says_goodbye_after_keep_alive() {
    let mut f = ready();
    f.input(&client::get(1));
    f.sent();
    assert_eq!(f.session.timer(), Timer::Idle);
    f.advance(f.timeouts.keep_alive);
    assert_eq!(f.expire(), [Out::GoAway(1, ErrorCode::NO_ERROR)]);
    f.sent();
    f.eof();
    assert_eq!(f.session.wants(), Want::Close);
}

#[test]
fn drain_names_the_last_stream_and_finishes_it() {
    let mut f = ready();
    f.input(&client::headers(1, &client::GET, false)); // a body is coming
    assert_eq!(f.drain(), [Out::GoAway(1, ErrorCode::NO_ERROR)]);
    assert_eq!(f.session.wants(), Want::Input);
    assert_eq!(
        f.input(&client::get(3)),
        [],
        "a stream after the GOAWAY's is ignored"
    );
    assert_eq!(f.input(&client::data(1, b"", true)), answered(1));
    assert_eq!(f.session.stage(), Stage::Closing);
    f.sent();
    assert_eq!(f.session.wants(), Want::Drain);
}

#[test]
fn a_drain_with_nothing_active_closes_after_the_goaway() {
    let mut f = ready();
    assert_eq!(f.drain(), [Out::GoAway(0, ErrorCode::NO_ERROR)]);
    assert_eq!(f.session.wants(), Want::Room);
    f.sent();
    f.eof();
    assert_eq!(f.session.wants(), Want::Close);
    let mut g = Fixture::new();
    g.drain();
    assert_eq!(g.session.wants(), Want::Close, "no preface yet: just close");
}

#[test]
fn the_peers_goaway_is_answered_with_ours() {
    let mut f = ready();
    let out = f.input(&client::frame(7, 0, 0, &[0; 8]));
    assert_eq!(out, [Out::GoAway(0, ErrorCode::NO_ERROR)]);
    assert_eq!(f.session.stage(), Stage::Closing);
}

#[test]
fn a_socket_that_takes_nothing_times_out() {
    let mut f = ready();
    f.input(&client::get(1));
    f.blocked();
    assert_eq!(f.session.wants(), Want::Room);
    f.advance(f.timeouts.write / 2);
    f.progress();
    f.advance(f.timeouts.write / 2);
    assert_eq!(f.expire(), []);
    f.advance(f.timeouts.write / 2);
    f.expire();
    assert_eq!(f.session.wants(), Want::Close);
    assert_eq!(f.stats.timeouts, 1);
}

#[test]
fn a_header_block_left_unfinished_times_out() {
    let mut f = ready();
    let block = client::block(&client::GET);
    f.input(&client::frame(1, 0, 1, &block)); // no END_HEADERS
    assert_eq!(f.session.timer(), Timer::Header);
    f.advance(f.timeouts.header);
    assert_eq!(f.expire(), [Out::GoAway(0, ErrorCode::NO_ERROR)]);
}

#[test]
fn a_request_body_that_stalls_times_out() {
    let mut f = ready();
    f.input(&client::headers(1, &client::GET, false));
    assert_eq!(f.session.timer(), Timer::Body);
    f.advance(f.timeouts.body - 1);
    f.input(&client::data(1, b"x", false));
    f.advance(f.timeouts.body - 1);
    assert_eq!(f.expire(), [], "progress restarted the body timeout");
    f.advance(1);
    assert_eq!(f.expire(), [Out::GoAway(1, ErrorCode::NO_ERROR)]);
}

#[test]
fn an_idle_session_is_small() {
    // The target is an idle connection under half of nginx's 1.5 KiB.
    // Inline, a session is 352 bytes today; once idle it keeps on the heap
    // the recent closed ids (256 bytes) and the peer's HPACK table (none
    // here; up to 4 KiB of entries, the client's choice).
    let size = std::mem::size_of::<super::super::Session>();
    assert!(size <= 400, "{size} bytes");
    let mut f = ready();
    assert_eq!(
        f.session.heap_bytes(),
        0,
        "nothing allocated before a request"
    );
    let block = client::block(&[("x-big", &"v".repeat(10_000))]);
    for id in (1..40).step_by(2) {
        f.input(&client::headers(id, &client::GET, false));
    }
    f.input(&client::frame(1, 1, 41, &block[..5_000])); // 10 kB in two pieces
    f.input(&client::frame(9, 4, 41, &block[5_000..]));
    for id in (1..40).step_by(2) {
        f.input(&client::data(id, b"", true));
    }
    f.sent();
    assert_eq!(f.session.active_streams(), 0);
    let heap = f.session.heap_bytes();
    assert!(
        size + heap <= 768,
        "{size} + {heap} bytes kept by an idle connection"
    );
}

#[test]
fn the_peers_goaway_lets_active_streams_finish() {
    let mut f = ready();
    f.input(&client::headers(1, &client::GET, false));
    assert_eq!(
        f.input(&client::frame(7, 0, 0, &[0; 8])),
        [Out::GoAway(1, ErrorCode::NO_ERROR)]
    );
    assert_eq!(
        f.session.stage(),
        Stage::Open,
        "stream 1 is still to be answered"
    );
    assert_eq!(f.input(&client::data(1, b"", true)), answered(1));
    assert_eq!(f.session.stage(), Stage::Closing);
}

#[test]
fn unknown_frames_and_an_unasked_settings_ack_are_ignored() {
    let mut f = ready();
    assert_eq!(f.input(&client::frame(0xfa, 0xff, 7, b"grease")), []);
    assert_eq!(f.input(&client::settings_ack()), []);
    assert_eq!(f.input(&client::get(1)), answered(1));
}

#[test]
fn expire_before_the_deadline_changes_nothing() {
    let mut f = ready();
    let at = f.session.poll_at();
    f.advance(at - 1);
    assert_eq!(f.expire(), []);
    assert_eq!((f.session.poll_at(), f.session.wants()), (at, Want::Input));
}

#[test]
fn eof_closes_once_the_output_is_written() {
    let mut f = ready();
    f.input(&client::get(1));
    f.blocked();
    f.eof();
    assert_eq!(f.session.wants(), Want::Room);
    f.sent();
    assert_eq!(f.session.wants(), Want::Close);
}

#[test]
fn a_drain_that_began_before_the_preface_was_whole_still_says_goaway() {
    let mut f = Fixture::new();
    f.draining = true;
    let mut bytes = client::preface();
    bytes.extend(client::settings_ack());
    let out = f.input(&bytes);
    assert!(
        out.contains(&Out::GoAway(0, ErrorCode::NO_ERROR)),
        "{out:?}"
    );
    assert_eq!(f.session.stage(), Stage::Closing);
}

#[test]
fn limits_follow_http1s_head_and_body() {
    let http1 = crate::protocol::framing::Limits {
        max_head: 100,
        max_body: 7,
    };
    let limits = super::super::Limits::with_http1(&http1);
    assert_eq!(
        (limits.max_head, limits.max_body, limits.max_streams),
        (100, 7, 100)
    );
}

#[test]
fn pings_do_not_keep_a_stalled_body_alive() {
    let mut f = ready();
    f.input(&client::headers(1, &client::GET, false));
    for _ in 0..3 {
        f.advance(f.timeouts.body / 3);
        f.input(&client::frame(6, 0, 0, b"12345678"));
    }
    assert_eq!(f.expire(), [Out::GoAway(1, ErrorCode::NO_ERROR)]);
}
