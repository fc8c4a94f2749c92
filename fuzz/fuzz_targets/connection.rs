//! The whole protocol core, driven as its reactor driver drives it, by an arbitrary
//! script of input pieces, clock jumps and socket capacities.
//!
//! Invariants: no panic; the core is only called as the driver's contract allows
//! (input only while it wants input); answers never outnumber the requests whose
//! heads completed, plus one error answer; nothing follows a final answer; the
//! input the driver must keep for the core stays under the head limit (a partial
//! head) unless it is whole requests held back by a full batch.

#![no_main]

use arbitrary::Arbitrary;
use hello_reactor::protocol::testing::Fixture;
use hello_reactor::protocol::{Phase, Want};
use libfuzzer_sys::fuzz_target;

#[derive(Debug, Arbitrary)]
enum Step {
    /// Bytes arrive (only delivered while the core wants input).
    Input(Vec<u8>),
    /// The clock moves on by this many milliseconds (up to about a minute).
    Advance(u16),
    /// The socket takes the answers only after this many partial writes.
    Stall(u8),
    /// The deadline check runs.
    Expire,
    /// The client shuts its write side.
    Eof,
    /// A graceful shutdown begins.
    Drain,
}

#[derive(Debug, Arbitrary)]
struct Script {
    /// A small head limit makes 431/414 reachable.
    small_head: bool,
    steps: Vec<Step>,
}

/// Status lines in `answers`, not counting interim `100 Continue`.
fn finals(answers: &[u8]) -> Vec<&[u8]> {
    let mut found = Vec::new();
    let mut at = 0;
    while let Some(i) = find(&answers[at..], b"HTTP/1.1 ") {
        let line = &answers[at + i..];
        if !line.starts_with(b"HTTP/1.1 100 ") {
            found.push(line);
        }
        at += i + 9;
    }
    found
}

fn find(haystack: &[u8], needle: &[u8]) -> Option<usize> {
    haystack.windows(needle.len()).position(|w| w == needle)
}

fuzz_target!(|script: Script| {
    let mut f = Fixture::new();
    if script.small_head {
        f.common.limits.max_head = 256;
    }
    let mut answered = 0u64;
    let mut errors = 0u64;
    let mut ended = false;
    let mut stall = 0u8;
    for step in script.steps {
        let answers = match step {
            Step::Input(bytes) if f.conn.wants() == Want::Input => f.input(&bytes),
            Step::Input(_) => Vec::new(),
            Step::Advance(ms) => {
                f.advance(u64::from(ms));
                Vec::new()
            }
            Step::Stall(n) => {
                stall = n % 4;
                Vec::new()
            }
            Step::Expire if f.now >= f.conn.poll_at() => f.expire(),
            Step::Expire => Vec::new(),
            Step::Eof if matches!(f.conn.wants(), Want::Input | Want::Room) => {
                f.eof();
                Vec::new()
            }
            Step::Eof => Vec::new(),
            Step::Drain if !f.draining => {
                f.drain();
                Vec::new()
            }
            Step::Drain => Vec::new(),
        };
        if !answers.is_empty() {
            assert!(!ended, "an answer after a final answer");
            for line in finals(&answers) {
                if line.starts_with(b"HTTP/1.1 200 ") {
                    answered += 1;
                } else {
                    errors += 1;
                }
                if find(&line[..line.len().min(4096)], b"\r\n\r\n")
                    .is_some_and(|end| find(&line[..end], b"Connection: close").is_some())
                {
                    ended = true;
                }
            }
            if stall > 0 {
                f.blocked();
                for _ in 1..stall {
                    f.progress();
                }
            }
            f.all_sent();
        }
        assert!(answered <= f.common.stats.requests, "more answers than requests");
        assert!(errors <= 1, "two error answers");
        if f.conn.phase() == Phase::Head && f.pending.len() >= f.common.limits.max_head {
            panic!("{} bytes kept for an incomplete head", f.pending.len());
        }
        if f.conn.wants() == Want::Close {
            break;
        }
    }
});
