//! The whole HTTP/2 core (src/protocol/h2/session.rs), driven as a driver
//! would, by a script of input pieces, clock jumps, socket stalls, deadline
//! checks, EOF and a drain.
//!
//! Input: byte 0 is the setup (bit 0: start with the client preface and an
//! empty SETTINGS; bit 1: small limits, so refusals and floods are reachable;
//! bit 2: faults, each answer held 0 to 300 ms and half of them failed);
//! then operations, each one byte:
//!
//! | op | meaning |
//! |---|---|
//! | `0x00..=0xef` | the next `op` bytes arrive (fewer if the input ends) |
//! | `0xf0` | the clock moves on by the next byte × 256 ms (up to about a minute) |
//! | `0xf1` | the socket takes the output after `next byte % 4` partial writes |
//! | `0xf2` | the deadline check (only once `poll_at` has passed) |
//! | `0xf3` | the client shuts its write side |
//! | `0xf4` | a graceful shutdown begins |
//! | other | ignored |
//!
//! So real client byte streams (fuzz/make_seeds.py writes them with the
//! Python `h2` library) make seeds directly. The driver's contract is kept:
//! input only while the session wants input. Checks:
//!
//! * no panic, in the session or in the test client reading its output: every
//!   byte the server sends parses as a frame and its header blocks decode
//!   (the fixture panics otherwise);
//! * no DATA exceeds the frame size or the windows the client allowed (the
//!   fixture's `Credit` counts them from the input the session consumed);
//! * answers never outnumber requests;
//! * the held-answers gauge equals the answers the session holds;
//! * the input kept for a partial frame stays under one maximal frame;
//! * nothing follows a GOAWAY with an error code.

#![no_main]

use hello_reactor::protocol::h2::error::ErrorCode;
use hello_reactor::protocol::faults::{Delay, FaultSettings};
use hello_reactor::protocol::h2::testing::{Fixture, Out, client};
use hello_reactor::protocol::{Stop, Want};
use libfuzzer_sys::fuzz_target;

fn step(f: &mut Fixture, data: &mut &[u8], stall: &mut u8) -> Vec<Out> {
    let Some((&op, rest)) = data.split_first() else {
        return Vec::new();
    };
    *data = rest;
    let mut next = || {
        let (&b, rest) = data.split_first().unwrap_or((&0, &[]));
        *data = rest;
        b
    };
    match op {
        0x00..=0xef => {
            let n = usize::from(op).min(data.len());
            let (bytes, rest) = data.split_at(n);
            *data = rest;
            if f.session.wants() == Want::Input { f.input(bytes) } else { Vec::new() }
        }
        0xf0 => {
            f.advance(u64::from(next()) * 256);
            Vec::new()
        }
        0xf1 => {
            *stall = next() % 4;
            Vec::new()
        }
        0xf2 if f.now >= f.session.poll_at() => f.expire(),
        0xf3 if matches!(f.session.wants(), Want::Input | Want::Room) => {
            f.eof();
            Vec::new()
        }
        0xf4 if !f.draining => f.drain(),
        _ => Vec::new(),
    }
}

fuzz_target!(|data: &[u8]| {
    let Some((&setup, mut data)) = data.split_first() else {
        return;
    };
    let mut f = if setup & 4 != 0 {
        Fixture::with_faults(&FaultSettings {
            delay: Some(Delay { min: 0, max: 300 }),
            fail_rate: 0.5,
            ..FaultSettings::NONE
        })
    } else {
        Fixture::new()
    };
    if setup & 2 != 0 {
        f.limits.max_streams = 2;
        f.limits.max_head = 64;
        f.limits.max_body = 16;
        f.limits.budgets.control = 4;
        f.limits.budgets.resets = 4;
    }
    if setup & 1 != 0 {
        f.input(&client::preface());
    }
    let (mut ended, mut stall, mut answers) = (false, 0u8, 0u64);
    while !data.is_empty() {
        f.last_raw.clear();
        let mut out = step(&mut f, &mut data, &mut stall);
        if !f.last_raw.is_empty() {
            if stall > 0 {
                f.blocked();
                for _ in 1..stall {
                    f.progress();
                }
            }
            out.extend(f.sent());
            // What `sent` appends (DATA held back by a full batch) is written too.
            while !f.last_raw.is_empty() {
                out.extend(f.sent());
            }
        }
        for frame in &out {
            assert!(!ended, "{frame:?} after a final GOAWAY");
            match frame {
                Out::Headers(..) => answers += 1,
                Out::GoAway(_, code) if *code != ErrorCode::NO_ERROR => ended = true,
                _ => {}
            }
        }
        assert!(answers <= f.stats.requests, "more answers than requests");
        assert_eq!(f.stats.held, f.session.held_answers() as u64, "held gauge");
        if f.last_stop == Some(Stop::Partial) {
            assert!(f.pending.len() < 9 + 16_384, "{} bytes kept", f.pending.len());
        }
        if f.session.wants() == Want::Close {
            break;
        }
    }
});
