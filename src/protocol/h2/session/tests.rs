//! The session on simulated time, grouped per connection phase
//! (`tests/phases.rs`), per stream state (`tests/streams.rs`), flow control
//! (`tests/flow.rs`), defences (`tests/defences.rs`) and injected faults
//! (`tests/faults.rs`).

mod clients;
mod defences;
mod faults;
mod flow;
mod phases;
mod streams;

use super::super::error::ErrorCode;
use super::super::testing::{Fixture, Out};

/// A fixture past the handshake, its output checked.
fn ready() -> Fixture {
    let mut f = Fixture::new();
    assert_eq!(
        f.handshake(),
        [
            Out::Settings(false, vec![(3, 100), (6, 16 * 1024)]),
            Out::Settings(true, vec![]),
        ]
    );
    f.sent();
    f
}

/// The answer to a GET on `stream` with the default answer.
fn answered(stream: u32) -> [Out; 2] {
    [
        Out::Headers(stream, false, "200".into()),
        Out::Data(stream, 13, true),
    ]
}

/// The connection ended with GOAWAY `code`.
fn goaway(out: &[Out], code: ErrorCode) -> bool {
    matches!(out.last(), Some(Out::GoAway(_, c)) if *c == code)
}
