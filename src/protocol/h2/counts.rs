//! What HTTP/2 adds to the loop's counters: streams opened, GOAWAYs sent by
//! error code, and responses by status (so the metrics can say which protocol
//! answered). Kept apart from HTTP/1.1's [`Stats`](crate::protocol::stats::Stats)
//! fields, which count both protocols' requests and responses as before.

use std::ops::AddAssign;

use super::error::ErrorCode;
use crate::protocol::status::Status;

/// The error codes a GOAWAY can carry that we name (RFC 9113 §7): 0 to 13.
pub const CODES: usize = 14;

/// Live counters, owned by the loop (inside its `Stats`).
#[derive(Debug)]
pub struct H2Counts {
    /// Streams opened by a request's HEADERS.
    pub streams: u64,
    /// GOAWAY frames sent, by error code.
    goaways: [u64; CODES],
    /// Responses sent over HTTP/2, by status code.
    responses: Box<[u64]>,
}

impl Default for H2Counts {
    fn default() -> H2Counts {
        H2Counts {
            streams: 0,
            goaways: [0; CODES],
            responses: vec![0; usize::from(Status::MAX) + 1].into_boxed_slice(),
        }
    }
}

impl H2Counts {
    /// Count one GOAWAY sent with `code`.
    pub fn goaway(&mut self, code: ErrorCode) {
        if let Some(count) = self.goaways.get_mut(code.0 as usize) {
            *count += 1;
        }
    }

    /// Count one response with `status` (also counted in `Stats::response`).
    #[inline]
    pub fn response(&mut self, status: Status) {
        if let Some(count) = self.responses.get_mut(usize::from(status.code())) {
            *count += 1;
        }
    }

    /// A snapshot for callers outside the loop.
    pub fn summary(&self) -> H2Summary {
        H2Summary {
            streams: self.streams,
            goaways: self.goaways,
            responses: (0u16..)
                .zip(self.responses.iter())
                .filter(|(_, n)| **n > 0)
                .map(|(s, n)| (s, *n))
                .collect(),
        }
    }
}

/// HTTP/2's counters as a summary: summable across workers.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct H2Summary {
    /// Streams opened.
    pub streams: u64,
    /// GOAWAY frames sent, indexed by error code.
    pub goaways: [u64; CODES],
    /// Responses sent over HTTP/2: `(status, count)`, ascending.
    pub responses: Vec<(u16, u64)>,
}

impl H2Summary {
    /// Responses sent over HTTP/2 with `status`.
    pub fn responses_with(&self, status: u16) -> u64 {
        self.responses
            .iter()
            .find(|(s, _)| *s == status)
            .map_or(0, |(_, n)| *n)
    }

    /// `(name, count)` of every GOAWAY code, its name in lower case for a label.
    pub fn goaways(&self) -> impl Iterator<Item = (String, u64)> + '_ {
        (0u32..).zip(self.goaways).map(|(code, n)| {
            let name = ErrorCode(code).to_string().to_ascii_lowercase();
            (name, n)
        })
    }
}

impl AddAssign<&H2Summary> for H2Summary {
    fn add_assign(&mut self, other: &H2Summary) {
        self.streams += other.streams;
        for (mine, theirs) in self.goaways.iter_mut().zip(other.goaways) {
            *mine += theirs;
        }
        for &(status, count) in &other.responses {
            match self.responses.iter_mut().find(|(s, _)| *s == status) {
                Some((_, n)) => *n += count,
                None => self.responses.push((status, count)),
            }
        }
        self.responses.sort_by_key(|&(status, _)| status);
    }
}
