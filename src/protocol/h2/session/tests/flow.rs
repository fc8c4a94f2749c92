//! Flow control both ways (RFC 9113 §5.2, §6.9).

use super::super::super::frame::MAX_WINDOW;
use super::super::super::testing::client;
use super::super::Timer;
use super::*;
use crate::protocol::response::Answer;
use crate::protocol::{Stop, Want};

fn big(len: usize) -> Fixture {
    let body = vec![b'x'; len];
    let body: &'static [u8] = Box::leak(body.into_boxed_slice());
    let mut f = Fixture::with_answer(&Answer {
        body,
        ..Answer::DEFAULT
    });
    f.handshake();
    f.sent();
    f
}

#[test]
fn our_data_respects_the_connection_and_stream_windows() {
    let mut f = big(100_000);
    let out = f.input(&client::get(1));
    assert_eq!(
        out,
        [
            Out::Headers(1, false, "200".into()),
            Out::Data(1, 16_384, false),
            Out::Data(1, 16_384, false),
            Out::Data(1, 16_384, false),
            Out::Data(1, 16_383, false),
        ]
    );
    assert_eq!(f.session.timer(), Timer::Write);
    assert_eq!(
        f.input(&client::window(1, 50_000)),
        [],
        "the connection window is still shut"
    );
    let out = f.input(&client::window(0, 20_000));
    assert_eq!(
        out,
        [Out::Data(1, 16_384, false), Out::Data(1, 3_616, false)]
    );
    let out = f.input(&client::window(0, 100_000));
    assert_eq!(out, [Out::Data(1, 14_465, true)]);
    assert_eq!(f.session.active_streams(), 0);
}

#[test]
fn a_larger_frame_size_and_initial_window_are_used() {
    let mut f = big(100_000);
    f.input(&client::settings(&[(4, 200_000), (5, 1 << 20)]));
    f.input(&client::window(0, 200_000));
    let out = f.input(&client::get(1));
    assert_eq!(
        out,
        [
            Out::Headers(1, false, "200".into()),
            Out::Data(1, 100_000, true)
        ]
    );
}

#[test]
fn a_lowered_initial_window_can_go_negative() {
    let mut f = big(100_000);
    f.input(&client::get(1)); // 65,535 sent
    f.input(&client::settings(&[(4, 0)])); // stream window now -65,535
    assert_eq!(f.input(&client::window(0, 100_000)), []);
    assert_eq!(
        f.input(&client::window(1, 65_535 + 10)),
        [Out::Data(1, 10, false)]
    );
}

#[test]
fn window_overflow_is_an_error() {
    let mut f = ready();
    assert!(goaway(
        &f.input(&client::window(0, MAX_WINDOW)),
        ErrorCode::FLOW_CONTROL_ERROR
    ));
    let mut f = ready();
    f.input(&client::headers(1, &client::GET, false));
    assert_eq!(
        f.input(&client::window(1, MAX_WINDOW)),
        [Out::Reset(1, ErrorCode::FLOW_CONTROL_ERROR)]
    );
    let mut f = ready();
    f.input(&client::headers(1, &client::GET, false));
    f.input(&client::window(1, MAX_WINDOW - 65_535));
    assert!(goaway(
        &f.input(&client::settings(&[(4, 65_536)])),
        ErrorCode::FLOW_CONTROL_ERROR
    ));
}

#[test]
fn request_bodies_are_given_their_window_back() {
    let mut f = ready();
    f.input(&client::headers(1, &client::GET, false));
    let chunk = vec![0; 16_384];
    assert_eq!(f.input(&client::data(1, &chunk, false)), []);
    let out = f.input(&client::data(1, &chunk, false));
    assert_eq!(out, [Out::Window(0, 32_768), Out::Window(1, 32_768)]);
}

#[test]
fn data_on_a_stream_we_reset_still_counts_for_the_connection() {
    let mut f = ready();
    f.input(&client::headers(1, &client::GET, false));
    f.input(&client::data(1, b"x", false));
    let mut fields = client::GET.to_vec();
    fields.push(("te", "gzip"));
    assert_eq!(
        f.input(&client::headers(3, &fields, false)),
        [Out::Reset(3, ErrorCode::PROTOCOL_ERROR)]
    );
    let chunk = vec![0; 16_384];
    assert_eq!(f.input(&client::data(3, &chunk, false)), []);
    assert_eq!(
        f.input(&client::data(3, &chunk, false)),
        [Out::Window(0, 32_769)]
    );
}

#[test]
fn a_body_over_max_body_is_cancelled() {
    let mut f = ready();
    f.limits.max_body = 10;
    f.input(&client::headers(1, &client::GET, false));
    assert_eq!(
        f.input(&client::data(1, &[0; 11], false)),
        [Out::Reset(1, ErrorCode::CANCEL)]
    );
}

#[test]
fn a_window_that_never_opens_times_out() {
    let mut f = big(100_000);
    f.input(&client::get(1));
    f.advance(f.timeouts.write);
    assert_eq!(f.expire(), [Out::GoAway(1, ErrorCode::NO_ERROR)]);
    assert_eq!(f.stats.timeouts, 1);
}

#[test]
fn a_full_batch_holds_input_and_data_until_sent() {
    let mut f = big(1 << 20);
    f.input(&client::settings(&[(4, MAX_WINDOW)]));
    f.input(&client::window(0, MAX_WINDOW - 65_535));
    let mut two = client::get(1);
    two.extend(client::get(3));
    let out = f.input(&two);
    assert_eq!(
        out.len(),
        5,
        "HEADERS and four DATA fill the batch: {out:?}"
    );
    assert_eq!(f.last_stop, Some(Stop::Full));
    assert_eq!(f.pending, client::get(3), "the second request waits");
    assert_eq!(f.session.wants(), Want::Input);
    assert_eq!(f.sent(), vec![Out::Data(1, 16_384, false); 4]);
    let out = f.input(b"");
    assert_eq!(out[0], Out::Headers(3, false, "200".into()));
}
