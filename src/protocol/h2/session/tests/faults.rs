//! `--delay` and `--fail-rate` on streams (`session/held.rs`), on simulated time.

use super::super::super::testing::client;
use super::super::{Stage, Timer};
use super::*;
use crate::protocol::Status;
use crate::protocol::faults::{Delay, FaultSettings};

/// Past the handshake, every answer held `min..=max` ms.
fn delayed(min: u64, max: u64) -> Fixture {
    let mut f = Fixture::with_faults(&FaultSettings {
        delay: Some(Delay { min, max }),
        ..FaultSettings::NONE
    });
    f.handshake();
    f.sent();
    f
}

#[test]
fn a_held_answer_leaves_its_delay_after_the_request_and_not_before() {
    let mut f = delayed(100, 100);
    f.advance(1000);
    assert_eq!(f.input(&client::get(1)), [], "held, not answered");
    assert_eq!(f.stats.held, 1);
    assert_eq!(f.stats.requests, 1);
    // One millisecond late rather than early: `now` is rounded down.
    assert_eq!(
        (f.session.timer(), f.session.poll_at()),
        (Timer::Hold, 1101)
    );
    assert_eq!(f.session.new_wake_up(), Some(1101));
    assert_eq!(f.session.new_wake_up(), None, "each wake-up is told once");
    f.advance(100);
    assert_eq!(f.expire(), [], "up to a millisecond early");
    f.advance(1);
    assert_eq!(f.expire(), answered(1));
    assert_eq!(f.stats.held, 0);
    assert_eq!(f.session.timer(), Timer::Idle);
}

#[test]
fn each_stream_is_held_from_its_own_request() {
    let mut f = delayed(100, 100);
    f.input(&client::get(1));
    f.advance(30);
    f.input(&client::get(3));
    assert_eq!(f.session.held_answers(), 2);
    f.advance(71);
    assert_eq!(f.expire(), answered(1), "stream 3 is not due yet");
    assert_eq!(f.session.new_wake_up(), Some(131));
    f.advance(30);
    assert_eq!(f.expire(), answered(3));
}

#[test]
fn streams_due_together_leave_together() {
    let mut f = delayed(50, 50);
    let mut three = client::get(1);
    three.extend(client::get(3));
    three.extend(client::get(5));
    assert_eq!(f.input(&three), []);
    f.advance(51);
    let out = f.expire();
    assert_eq!(out.len(), 6, "three HEADERS and three DATA: {out:?}");
    assert_eq!(f.session.active_streams(), 0);
}

#[test]
fn a_held_stream_counts_against_the_stream_limit() {
    let mut f = delayed(1000, 1000);
    f.limits.max_streams = 2;
    f.input(&client::get(1));
    f.input(&client::get(3));
    assert_eq!(
        f.input(&client::get(5)),
        [Out::Reset(5, ErrorCode::REFUSED_STREAM)]
    );
}

#[test]
fn a_reset_held_stream_is_not_answered_nor_counted() {
    let mut f = delayed(100, 100);
    f.input(&client::get(1));
    assert_eq!(f.stats.held, 1);
    assert_eq!(f.input(&client::reset(1, ErrorCode::CANCEL)), []);
    assert_eq!(f.stats.held, 0);
    assert_eq!(f.session.held_answers(), 0);
    assert_eq!(f.session.timer(), Timer::Idle, "idle from the reset");
    f.advance(101);
    assert_eq!(f.expire(), []);
}

#[test]
fn a_drain_waits_for_held_streams() {
    let mut f = delayed(100, 100);
    f.input(&client::get(1));
    f.advance(10);
    assert_eq!(f.drain(), [Out::GoAway(1, ErrorCode::NO_ERROR)]);
    f.sent();
    assert_eq!(
        f.session.stage(),
        Stage::Open,
        "stream 1 is still to answer"
    );
    f.advance(91);
    assert_eq!(f.expire(), answered(1));
    f.sent();
    assert_eq!(f.session.stage(), Stage::Linger);
}

#[test]
fn random_delays_stay_in_range() {
    let mut f = delayed(10, 90);
    for id in (1..40).step_by(2) {
        f.input(&client::get(id));
    }
    let mut answered_at = Vec::new();
    while f.session.held_answers() > 0 {
        let at = f.session.poll_at();
        assert!((11..=91).contains(&at), "due at {at}");
        f.now = at;
        let out = f.expire();
        answered_at.extend(
            out.iter()
                .filter(|o| matches!(o, Out::Data(..)))
                .map(|_| at),
        );
        f.sent();
    }
    assert_eq!(answered_at.len(), 20);
    assert!(
        answered_at.first() < answered_at.last(),
        "not all one delay"
    );
}

#[test]
fn injected_failures_replace_some_answers() {
    let mut f = Fixture::with_faults(&FaultSettings {
        fail_rate: 0.5,
        fail_status: Status::new(502).unwrap(),
        seed: 7,
        ..FaultSettings::NONE
    });
    f.handshake();
    f.sent();
    let failure_len = f.failure.as_ref().unwrap().body_len();
    let (mut failed, mut ok) = (0, 0);
    for id in (1..200).step_by(2) {
        let out = f.input(&client::get(id));
        match &out[..] {
            [Out::Headers(_, false, s), Out::Data(_, len, true)] if s == "502" => {
                assert_eq!(*len, failure_len, "the failure's own body");
                failed += 1;
            }
            [Out::Headers(_, false, s), Out::Data(_, 13, true)] if s == "200" => ok += 1,
            other => panic!("stream {id}: {other:?}"),
        }
        f.sent();
    }
    assert_eq!(failed + ok, 100);
    assert!((30..=70).contains(&failed), "{failed} of 100 failed");
    assert_eq!(
        f.session.stage(),
        Stage::Open,
        "failures keep the connection"
    );
    assert!(failure_len > 13, "the failure's body says it was injected");
}
