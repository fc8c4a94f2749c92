//! `--delay` and `--fail-rate` in the protocol core, with simulated time: held
//! answers leave when due, in request order, and a drain lets them out.

use super::testing::Fixture;
use super::{Delay, FaultSettings, Phase, Settings, Status, Want};

const GET: &[u8] = b"GET / HTTP/1.1\r\nHost: x\r\n\r\n";

fn count(answers: &[u8], status_line: &[u8]) -> usize {
    answers
        .windows(status_line.len())
        .filter(|w| *w == status_line)
        .count()
}

fn oks(answers: &[u8]) -> usize {
    count(answers, b"HTTP/1.1 200 OK")
}

fn with_faults(faults: FaultSettings) -> Fixture {
    Fixture::with(&Settings {
        faults,
        ..Settings::DEFAULT
    })
}

/// Answers held 100 ms.
fn delayed() -> Fixture {
    with_faults(FaultSettings {
        delay: Some(Delay { min: 100, max: 100 }),
        ..FaultSettings::NONE
    })
}

#[test]
fn an_answer_leaves_its_delay_after_the_head_and_not_before() {
    let mut f = delayed();
    f.advance(1000);
    assert!(f.input(GET).is_empty(), "held, not answered");
    assert_eq!(f.conn.phase(), Phase::Hold);
    assert_eq!(f.conn.wants(), Want::Wait);
    // Due 100 ms after the head plus one: `now` (1000) is rounded down, so the
    // head may have come at 1000.9 ms, and 1100 could be 99.1 ms after it.
    assert_eq!(f.conn.poll_at(), 1101);
    assert_eq!(f.common.stats.held, 1);
    assert_eq!(f.conn.new_wake_up(), Some(1101));
    assert_eq!(f.conn.new_wake_up(), None, "each wake-up is told once");
    f.advance(100);
    assert!(f.expire().is_empty(), "up to a millisecond early");
    f.advance(1);
    assert_eq!(oks(&f.expire()), 1);
    assert_eq!(f.common.stats.held, 0);
    f.all_sent();
    assert_eq!(f.conn.phase(), Phase::Idle);
    assert_eq!(f.conn.wants(), Want::Input);
    // Idle from the answer, not a Head left behind: no 408 comes at the header
    // timeout, only the keep-alive close.
    assert_eq!(f.conn.poll_at(), 1101 + f.common.timeouts.keep_alive);
}

#[test]
fn pipelined_requests_in_one_read_are_due_together_in_order() {
    let mut f = delayed();
    let mut three = GET.repeat(2);
    three.extend_from_slice(b"HEAD / HTTP/1.1\r\nHost: x\r\n\r\n");
    assert!(f.input(&three).is_empty());
    assert_eq!(f.conn.held_answers(), 3);
    f.advance(101);
    let answers = f.expire();
    assert_eq!(
        oks(&answers),
        3,
        "all due at once, not one delay after another"
    );
    assert!(
        answers.ends_with(b"Content-Length: 13\r\n\r\n"),
        "HEAD last"
    );
    f.all_sent();
    // The next request, read later, is delayed from its own arrival.
    f.advance(50);
    assert!(f.input(GET).is_empty());
    assert_eq!(f.conn.poll_at(), 252);
}

#[test]
fn random_delays_never_reorder_answers() {
    let mut f = with_faults(FaultSettings {
        delay: Some(Delay { min: 0, max: 100 }),
        seed: 3,
        ..FaultSettings::NONE
    });
    let mut input = GET.repeat(20);
    input.extend_from_slice(b"BAD\r\n\r\n");
    assert!(f.input(&input).is_empty());
    let mut answers = Vec::new();
    let mut last_due = 0;
    while f.conn.phase() == Phase::Hold {
        assert!(f.conn.poll_at() >= last_due, "due times go forward");
        last_due = f.conn.poll_at();
        f.now = last_due;
        answers.extend(f.expire());
        f.all_sent();
    }
    assert!(last_due <= 101);
    assert_eq!(oks(&answers), 20);
    let bad = count(&answers, b"HTTP/1.1 400 Bad Request");
    assert_eq!(bad, 1);
    let last_ok = answers.windows(15).rposition(|w| w == b"HTTP/1.1 200 OK");
    let the_400 = answers.windows(12).position(|w| w == b"HTTP/1.1 400");
    assert!(
        last_ok < the_400,
        "the error leaves after the answers before it"
    );
    assert_eq!(
        f.conn.wants(),
        Want::Drain,
        "the error still closes, lingering"
    );
}

#[test]
fn a_drain_waits_for_held_answers_and_the_last_one_closes() {
    let mut f = delayed();
    assert!(f.input(&GET.repeat(2)).is_empty());
    f.advance(50);
    f.drain();
    assert_eq!(f.conn.phase(), Phase::Hold, "held answers are not dropped");
    f.advance(51);
    let answers = f.expire();
    assert_eq!(oks(&answers), 2);
    assert_eq!(count(&answers, b"Connection: close"), 1, "only the last");
    assert!(f.conn.input_ended());
    f.all_sent();
    assert!(matches!(f.conn.phase(), Phase::Linger | Phase::Closed));
}

#[test]
fn a_blocked_write_keeps_the_rest_held() {
    let mut f = with_faults(FaultSettings {
        delay: Some(Delay { min: 10, max: 100 }),
        seed: 1,
        ..FaultSettings::NONE
    });
    assert!(f.input(&GET.repeat(50)).is_empty());
    f.now = f.conn.poll_at();
    assert!(oks(&f.expire()) >= 1);
    f.blocked();
    assert_eq!(f.conn.wants(), Want::Room);
    f.all_sent();
    assert_eq!(f.conn.phase(), Phase::Hold, "back to holding the rest");
    assert!(f.conn.poll_at() > f.now);
}

#[test]
fn injected_failures_keep_the_connection_alive() {
    let mut f = with_faults(FaultSettings {
        fail_rate: 1.0,
        fail_status: Status::new(502).unwrap(),
        ..FaultSettings::NONE
    });
    let answers = f.input(&GET.repeat(2));
    assert_eq!(count(&answers, b"HTTP/1.1 502 Bad Gateway"), 2);
    assert_eq!(count(&answers, b"injected by hello-reactor --fail-rate"), 2);
    assert_eq!(count(&answers, b"Connection: close"), 0);
    assert_eq!(f.common.stats.summary().responses_with(502), 2);
    f.all_sent();
    assert_eq!(f.conn.phase(), Phase::Idle);
}

#[test]
fn no_faults_no_holding() {
    let mut f = Fixture::new();
    assert_eq!(oks(&f.input(GET)), 1);
    assert_eq!(f.conn.new_wake_up(), None);
    assert_eq!(f.conn.held_answers(), 0);
}

/// A streamed `--body-size` answer ends the batch: the driver writes its body after
/// the head, and the next request waits, unparsed, until it is out.
#[test]
fn a_streamed_body_ends_the_batch() {
    let answer = super::response::Answer {
        streamed: Some(100_000),
        ..super::response::Answer::DEFAULT
    };
    let mut f = Fixture::with(&Settings {
        answer,
        ..Settings::DEFAULT
    });
    let answers = f.input(&GET.repeat(2));
    assert_eq!(oks(&answers), 1);
    assert!(answers.ends_with(b"Content-Length: 100000\r\n\r\n"));
    assert_eq!(f.pending, GET, "the second request waits");
    f.all_sent();
    assert_eq!(oks(&f.input(b"")), 1, "then it is answered");
}
