//! The protocol core on its own, with simulated time: one fixture per phase
//! (smoltcp's style), each transition and each deadline tested by advancing a
//! number, never by sleeping.

use super::response::CONTINUE;
use super::testing::Fixture;
use super::{Phase, Want};

const GET: &[u8] = b"GET / HTTP/1.1\r\nHost: x\r\n\r\n";
const GET_CLOSE: &[u8] = b"GET / HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n";
const POST_HEAD: &[u8] = b"POST / HTTP/1.1\r\nHost: x\r\nContent-Length: 10\r\n\r\n";

fn is_ok(answer: &[u8]) -> bool {
    answer.starts_with(b"HTTP/1.1 200 OK\r\n")
}

fn count_ok(answers: &[u8]) -> usize {
    answers
        .windows(b"HTTP/1.1 200 OK".len())
        .filter(|w| *w == b"HTTP/1.1 200 OK")
        .count()
}

/// Idle, at time 0.
fn idle() -> Fixture {
    Fixture::new()
}

/// Half a head arrived at time 1000.
fn head() -> Fixture {
    let mut f = idle();
    f.advance(1000);
    assert!(f.input(b"GET / HTTP/1.1\r\nHo").is_empty());
    assert_eq!(f.conn.phase(), Phase::Head);
    f
}

/// A POST head and 4 of its 10 body bytes arrived at time 1000.
fn body() -> Fixture {
    let mut f = idle();
    f.advance(1000);
    let mut bytes = POST_HEAD.to_vec();
    bytes.extend_from_slice(b"abcd");
    assert!(
        f.input(&bytes).is_empty(),
        "no 100: the body came with the head"
    );
    assert_eq!(f.conn.phase(), Phase::Body);
    f
}

/// An answer at time 1000 that the socket took only part of.
fn write() -> Fixture {
    let mut f = idle();
    f.advance(1000);
    assert!(is_ok(&f.input(GET)));
    f.blocked();
    assert_eq!(f.conn.phase(), Phase::Write);
    f
}

/// An error answer written at time 1000: lingering.
fn linger() -> Fixture {
    let mut f = idle();
    f.advance(1000);
    let answer = f.input(b"GET / HTTP/1.1\r\n\r\n"); // no Host
    assert!(answer.starts_with(b"HTTP/1.1 400"), "{answer:?}");
    f.all_sent();
    assert_eq!(f.conn.phase(), Phase::Linger);
    f
}

mod idle {
    use super::*;

    #[test]
    fn a_request_is_answered_and_the_keep_alive_time_counts_from_the_answer() {
        let mut f = idle();
        assert_eq!(f.conn.poll_at(), f.common.timeouts.keep_alive);
        f.advance(5000);
        assert!(is_ok(&f.input(GET)));
        f.all_sent();
        assert_eq!(f.conn.phase(), Phase::Idle);
        assert_eq!(f.conn.wants(), Want::Input);
        assert_eq!(f.conn.poll_at(), 5000 + f.common.timeouts.keep_alive);
        assert_eq!(f.common.stats.requests, 1);
    }

    #[test]
    fn the_keep_alive_deadline_closes_without_an_answer() {
        let mut f = idle();
        f.advance(f.common.timeouts.keep_alive);
        assert!(f.expire().is_empty());
        assert_eq!(f.conn.wants(), Want::Close);
        assert_eq!(f.common.stats.timeouts, 1);
    }

    #[test]
    fn pipelined_requests_are_answered_in_order_in_one_batch() {
        let mut f = idle();
        let mut two = GET.to_vec();
        two.extend_from_slice(GET_CLOSE);
        let answers = f.input(&two);
        assert_eq!(count_ok(&answers), 2);
        assert!(answers.ends_with(b"Hello, World!"));
        let second = &answers[answers.len() / 2..];
        assert!(find(second, b"Connection: close").is_some());
    }

    #[test]
    fn connection_close_closes_once_written_or_lingers_if_more_came() {
        let mut f = idle();
        assert!(is_ok(&f.input(GET_CLOSE)));
        f.all_sent();
        assert_eq!(f.conn.wants(), Want::Close);

        let mut f = idle();
        let mut bytes = GET_CLOSE.to_vec();
        bytes.extend_from_slice(GET);
        assert_eq!(
            count_ok(&f.input(&bytes)),
            1,
            "nothing after a final answer"
        );
        f.all_sent();
        assert_eq!(f.conn.wants(), Want::Drain);
    }

    #[test]
    fn eof_closes_and_a_drain_closes_an_idle_connection() {
        let mut f = idle();
        f.eof();
        assert_eq!(f.conn.wants(), Want::Close);
        let mut f = idle();
        f.drain();
        assert_eq!(f.conn.wants(), Want::Close);
    }

    #[test]
    fn a_request_during_a_drain_gets_a_final_answer_and_a_linger() {
        let mut f = idle();
        assert!(f.input(b"GET / HTTP/1.1\r\n").is_empty());
        f.drain();
        assert_eq!(f.conn.phase(), Phase::Head, "a request under way finishes");
        let answer = f.input(b"Host: x\r\n\r\n");
        assert!(find(&answer, b"Connection: close").is_some());
        f.all_sent();
        assert_eq!(f.conn.wants(), Want::Drain);
    }
}

mod head {
    use super::*;

    #[test]
    fn the_header_deadline_runs_from_the_first_byte_and_a_trickle_does_not_extend_it() {
        let mut f = head();
        assert_eq!(f.conn.poll_at(), 1000 + f.common.timeouts.header);
        f.advance(10_000);
        assert!(f.input(b"st: x\r\n").is_empty());
        assert_eq!(f.conn.poll_at(), 1000 + f.common.timeouts.header);
    }

    #[test]
    fn the_header_deadline_answers_408_then_lingers_then_closes() {
        let mut f = head();
        f.advance(f.common.timeouts.header);
        assert!(f.expire().starts_with(b"HTTP/1.1 408 Request Timeout\r\n"));
        f.all_sent();
        assert_eq!(f.conn.phase(), Phase::Linger);
        assert_eq!(f.conn.poll_at(), f.now + f.common.timeouts.linger);
        f.advance(f.common.timeouts.linger);
        assert!(f.expire().is_empty());
        assert_eq!(f.conn.wants(), Want::Close);
        assert_eq!(f.common.stats.timeouts, 1);
    }

    #[test]
    fn completing_the_head_answers_and_returns_to_idle() {
        let mut f = head();
        f.advance(500);
        assert!(is_ok(&f.input(b"st: x\r\n\r\n")));
        f.all_sent();
        assert_eq!(f.conn.phase(), Phase::Idle);
        assert_eq!(f.conn.poll_at(), 1500 + f.common.timeouts.keep_alive);
    }

    #[test]
    fn a_second_partial_head_gets_its_own_header_deadline() {
        let mut f = head();
        f.advance(500);
        assert!(is_ok(&f.input(b"st: x\r\n\r\nGET /")));
        assert_eq!(f.conn.phase(), Phase::Head);
        assert_eq!(f.conn.poll_at(), 1500 + f.common.timeouts.header);
    }

    #[test]
    fn eof_in_a_head_closes_without_an_answer() {
        let mut f = head();
        f.eof();
        assert_eq!(f.conn.wants(), Want::Close);
        assert_eq!(f.common.stats.requests, 0);
    }
}

mod body {
    use super::*;

    #[test]
    fn progress_restarts_the_body_deadline_and_the_end_answers() {
        let mut f = body();
        assert_eq!(f.conn.poll_at(), 1000 + f.common.timeouts.body);
        f.advance(2000);
        assert!(f.input(b"efg").is_empty());
        assert_eq!(f.conn.poll_at(), 3000 + f.common.timeouts.body);
        assert!(is_ok(&f.input(b"hij")));
        f.all_sent();
        assert_eq!(f.conn.phase(), Phase::Idle);
    }

    #[test]
    fn the_body_deadline_answers_408() {
        let mut f = body();
        f.advance(f.common.timeouts.body);
        assert!(f.expire().starts_with(b"HTTP/1.1 408 "));
        f.all_sent();
        assert_eq!(f.conn.wants(), Want::Drain);
    }

    #[test]
    fn expect_100_continue_is_sent_only_when_the_head_came_alone() {
        let head =
            b"POST / HTTP/1.1\r\nHost: x\r\nContent-Length: 2\r\nExpect: 100-continue\r\n\r\n";
        let mut f = idle();
        assert_eq!(f.input(head), CONTINUE);
        assert!(is_ok(&f.input(b"hi")));

        let mut f = idle();
        let mut with_body = head.to_vec();
        with_body.extend_from_slice(b"h");
        assert!(
            f.input(&with_body).is_empty(),
            "100 sent with the body here"
        );
        assert!(is_ok(&f.input(b"i")));
    }

    #[test]
    fn eof_in_a_body_closes_without_an_answer() {
        let mut f = body();
        f.eof();
        assert_eq!(f.conn.wants(), Want::Close);
    }
}

mod write {
    use super::*;

    #[test]
    fn progress_restarts_the_write_deadline_and_all_written_returns_to_idle() {
        let mut f = write();
        assert_eq!(f.conn.wants(), Want::Room);
        assert_eq!(f.conn.poll_at(), 1000 + f.common.timeouts.write);
        f.advance(3000);
        f.progress();
        assert_eq!(f.conn.poll_at(), 4000 + f.common.timeouts.write);
        f.advance(1000);
        f.all_sent();
        assert_eq!(f.conn.phase(), Phase::Idle);
        assert_eq!(f.conn.poll_at(), 5000 + f.common.timeouts.keep_alive);
    }

    #[test]
    fn the_write_deadline_closes_without_an_answer() {
        let mut f = write();
        f.advance(f.common.timeouts.write);
        assert!(f.expire().is_empty());
        assert_eq!(f.conn.wants(), Want::Close);
        assert_eq!(f.common.stats.timeouts, 1);
    }

    #[test]
    fn a_partial_head_behind_the_answers_is_resumed_after_them() {
        let mut f = idle();
        let mut bytes = GET.to_vec();
        bytes.extend_from_slice(b"GET / HT");
        assert!(is_ok(&f.input(&bytes)));
        f.blocked();
        f.all_sent();
        assert_eq!(f.conn.phase(), Phase::Head);
    }

    #[test]
    fn a_drain_while_writing_closes_once_written() {
        let mut f = write();
        f.drain();
        assert_eq!(f.conn.phase(), Phase::Write);
        f.all_sent();
        assert_eq!(f.conn.wants(), Want::Close);
    }

    #[test]
    fn eof_while_writing_closes_once_written() {
        let mut f = write();
        f.eof();
        assert_eq!(f.conn.wants(), Want::Room);
        f.all_sent();
        assert_eq!(f.conn.wants(), Want::Close);
    }
}

mod linger {
    use super::*;

    #[test]
    fn input_after_an_error_is_never_answered() {
        let mut f = linger();
        assert!(f.input(GET).is_empty());
        assert_eq!(f.common.stats.requests, 0);
    }

    #[test]
    fn the_linger_deadline_closes() {
        let mut f = linger();
        assert_eq!(f.conn.poll_at(), 1000 + f.common.timeouts.linger);
        f.advance(f.common.timeouts.linger);
        assert!(f.expire().is_empty());
        assert_eq!(f.conn.wants(), Want::Close);
        assert_eq!(
            f.common.stats.timeouts, 0,
            "a linger ending is not a timeout"
        );
    }
}

fn find(haystack: &[u8], needle: &[u8]) -> Option<usize> {
    haystack.windows(needle.len()).position(|w| w == needle)
}

mod any_split {
    use proptest::prelude::*;

    use super::*;

    /// Pipelined requests of every framing, ending in a final one.
    fn requests() -> Vec<u8> {
        let mut all = Vec::new();
        all.extend_from_slice(GET);
        all.extend_from_slice(b"HEAD / HTTP/1.1\r\nHost: x\r\n\r\n");
        all.extend_from_slice(POST_HEAD);
        all.extend_from_slice(b"0123456789");
        all.extend_from_slice(
            b"POST / HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n3;a=b\r\nabc\r\n0\r\nT: v\r\n\r\n",
        );
        all.extend_from_slice(b"GET / HTTP/1.0\r\nConnection: keep-alive\r\n\r\n");
        all.extend_from_slice(GET_CLOSE);
        all
    }

    /// Feed `input` in pieces cut at `cuts`, with the socket taking each batch
    /// whole or after `stalls[i]` partial writes; return every answer in order.
    fn run(input: &[u8], cuts: &[usize], stalls: &[u8]) -> Vec<u8> {
        let mut f = Fixture::new();
        let mut answers = Vec::new();
        let mut points: Vec<usize> = cuts.iter().map(|c| c % (input.len() + 1)).collect();
        points.push(input.len());
        points.sort_unstable();
        let mut from = 0;
        for (i, &to) in points.iter().enumerate() {
            let batch = f.input(&input[from..to]);
            from = to;
            if batch.is_empty() {
                continue;
            }
            answers.extend_from_slice(&batch);
            let stall = stalls.get(i).copied().unwrap_or(0);
            if stall > 0 {
                f.blocked();
                for _ in 1..stall {
                    f.progress();
                }
            }
            f.all_sent();
        }
        answers
    }

    proptest! {
        #[test]
        fn any_split_and_any_partial_writes_give_the_same_answers(
            cuts in proptest::collection::vec(any::<usize>(), 0..12),
            stalls in proptest::collection::vec(0u8..4, 0..12),
        ) {
            let input = requests();
            let whole = run(&input, &[], &[]);
            prop_assert_eq!(count_ok(&whole), 6);
            prop_assert_eq!(run(&input, &cuts, &stalls), whole);
        }
    }
}
