//! Stream states (RFC 9113 §5.1), as a server that never pushes sees them.
//!
//! ```text
//!                          +--------+
//!                          |  idle  |   every id above `last_id`
//!                          +--------+
//!                              |
//!                              | recv HEADERS (odd id, > last_id)
//!                              v
//!                          +--------+
//!         recv RST_STREAM  |  open  |   reading the request: fields, DATA
//!        ,-----------------+        |
//!       |                  +--------+
//!       |                      |
//!       |                      | recv END_STREAM: the request is whole,
//!       |                      | send HEADERS (+ DATA as windows allow)
//!       |                      v
//!       |                  +--------+
//!       | recv RST_STREAM  | half-  |   answering; only WINDOW_UPDATE,
//!       |<-----------------+ closed |   RST_STREAM and PRIORITY may arrive
//!       |                  |(remote)|
//!       |                  +--------+
//!       |                      |
//!       |                      | send END_STREAM (the last DATA)
//!       v                      v
//!                          +--------+
//!     send RST_STREAM  --> | closed |   forgotten, but the last few are
//!     (from any state)     +--------+   remembered with how they closed
//! ```
//!
//! Idle and closed streams hold no memory: a stream is idle if its id is above
//! the highest one opened (`last_id`, §5.1.1: ids only grow), closed if it is
//! at or below it and not active. The last [`RECENT`] closed streams are
//! remembered with how they closed, because that decides what a late frame
//! means (§5.1, "closed"): after *we* reset a stream, its frames are ignored
//! (the peer may have sent them before it saw our RST_STREAM); after the peer
//! reset it or the exchange ended, DATA or HEADERS on it is a `STREAM_CLOSED`
//! error.

use std::collections::VecDeque;

/// Closed streams remembered with how they closed.
pub const RECENT: usize = 32;

/// An active stream's state.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum State {
    /// Receiving the request.
    Open,
    /// The request is whole; the answer is going out.
    HalfClosedRemote,
}

/// How a closed stream closed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Closed {
    /// We sent RST_STREAM: late frames are ignored.
    ResetByUs,
    /// The peer reset it, or both sides ended it: late DATA or HEADERS is an error.
    Ended,
}

/// Where a stream id stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Lookup {
    /// Active, at this index of [`Streams::active`].
    Active(usize),
    /// Never used: above the highest id opened.
    Idle,
    /// Closed; how, if it is among the recent ones.
    Closed(Option<Closed>),
}

/// One active stream.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Stream {
    /// Its id.
    pub id: u32,
    /// Its state.
    pub state: State,
    /// What we may still send on it (§6.9): may go negative when the peer
    /// lowers `SETTINGS_INITIAL_WINDOW_SIZE` (§6.9.2).
    pub send_window: i64,
    /// What the peer may still send on it.
    pub recv_window: i64,
    /// Request body bytes received (padding excluded).
    pub received: u64,
    /// The declared `content-length`, checked against DATA (§8.1.1).
    pub content_length: Option<u64>,
    /// HEAD: the answer has no DATA.
    pub head: bool,
    /// The body bytes sent so far, once the answer has started.
    pub body_sent: Option<usize>,
    /// `--delay`: the request is whole and its answer waits until then.
    pub held_until: Option<u64>,
    /// `--fail-rate`: the stream gets the injected failure.
    pub fail: bool,
}

/// The active streams of a connection and what it remembers of the others.
#[derive(Debug, Default)]
pub struct Streams {
    /// Active streams, in the order they opened.
    pub active: Vec<Stream>,
    recent: VecDeque<(u32, Closed)>,
    /// The highest stream id opened (or refused) so far.
    pub last_id: u32,
}

impl Streams {
    /// Bytes held on the heap, roughly.
    pub fn heap_bytes(&self) -> usize {
        self.active.capacity() * std::mem::size_of::<Stream>() + self.recent.capacity() * 8
    }

    /// Where `id` stands.
    pub fn lookup(&self, id: u32) -> Lookup {
        if let Some(i) = self.active.iter().position(|s| s.id == id) {
            return Lookup::Active(i);
        }
        if id > self.last_id {
            return Lookup::Idle;
        }
        Lookup::Closed(
            self.recent
                .iter()
                .find(|(r, _)| *r == id)
                .map(|&(_, how)| how),
        )
    }

    /// Open stream `id` (odd, above `last_id`: the caller checked).
    pub fn open(&mut self, stream: Stream) {
        self.last_id = stream.id;
        self.active.push(stream);
    }

    /// A stream refused before it was active: it counts as used.
    pub fn refuse(&mut self, id: u32) {
        self.last_id = self.last_id.max(id);
        self.remember(id, Closed::ResetByUs);
    }

    /// Close the active stream at `index`.
    pub fn close(&mut self, index: usize, how: Closed) -> Stream {
        let stream = self.active.remove(index);
        self.remember(stream.id, how);
        stream
    }

    fn remember(&mut self, id: u32, how: Closed) {
        if self.recent.len() == RECENT {
            self.recent.pop_front();
        }
        self.recent.push_back((id, how));
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn stream(id: u32) -> Stream {
        Stream {
            id,
            state: State::Open,
            send_window: 65_535,
            recv_window: 65_535,
            received: 0,
            content_length: None,
            head: false,
            body_sent: None,
            held_until: None,
            fail: false,
        }
    }

    #[test]
    fn idle_active_and_closed() {
        let mut streams = Streams::default();
        assert_eq!(streams.lookup(1), Lookup::Idle);
        streams.open(stream(3));
        assert_eq!(streams.lookup(3), Lookup::Active(0));
        assert_eq!(
            streams.lookup(1),
            Lookup::Closed(None),
            "skipped: implicitly closed"
        );
        assert_eq!(streams.lookup(5), Lookup::Idle);
        streams.refuse(5);
        assert_eq!(streams.lookup(5), Lookup::Closed(Some(Closed::ResetByUs)));
        assert_eq!(streams.close(0, Closed::Ended).id, 3);
        assert_eq!(streams.lookup(3), Lookup::Closed(Some(Closed::Ended)));
    }

    #[test]
    fn only_the_recent_closed_are_remembered() {
        let mut streams = Streams::default();
        for id in (1..=2 * RECENT as u32 + 1).step_by(2) {
            streams.refuse(id);
        }
        assert_eq!(streams.lookup(1), Lookup::Closed(None));
        assert_eq!(streams.lookup(3), Lookup::Closed(Some(Closed::ResetByUs)));
    }
}
