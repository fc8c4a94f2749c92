//! Counters the loop keeps, and the one-line summary it logs at shutdown.
//!
//! Plain integers bumped on the one reactor thread: no atomics, no locks. They feed
//! the shutdown summary, `--stats-interval`, and [`Summary`], which
//! [`Server::run`](crate::Server::run) returns so tests can check what happened.

use std::fmt;

/// Statuses counted one by one; anything else lands in the last slot.
const STATUSES: [u16; 9] = [200, 400, 408, 413, 414, 431, 501, 505, 0];

/// What the server did over its run.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Summary {
    /// Connections accepted.
    pub connections: u64,
    /// Complete request heads parsed.
    pub requests: u64,
    /// Responses queued, by status: `(status, count)`, only statuses seen.
    pub responses: Vec<(u16, u64)>,
    /// Connections closed by a timeout.
    pub timeouts: u64,
    /// Connections closed by an I/O error other than a reset by the peer.
    pub io_errors: u64,
    /// Times `accept` failed for lack of file descriptors.
    pub accept_fd_exhausted: u64,
    /// Connections the peer reset (`ECONNRESET`, `EPIPE`, `ECONNABORTED`): an
    /// ordinary end for many clients (wrk, browsers), so not counted as errors.
    pub resets: u64,
    /// Connections still open when a shutdown ran out of time (or was cut short).
    pub cut_off: u64,
}

impl Summary {
    /// Responses sent with `status`.
    pub fn responses_with(&self, status: u16) -> u64 {
        self.responses
            .iter()
            .find(|(s, _)| *s == status)
            .map_or(0, |(_, n)| *n)
    }
}

impl fmt::Display for Summary {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "{} connections, {} requests, responses:",
            self.connections, self.requests
        )?;
        if self.responses.is_empty() {
            write!(f, " none")?;
        }
        for (status, count) in &self.responses {
            write!(f, " {status}={count}")?;
        }
        write!(
            f,
            ", {} timeouts, {} I/O errors, {} resets by peer, {} accept fd exhaustions",
            self.timeouts, self.io_errors, self.resets, self.accept_fd_exhausted
        )?;
        if self.cut_off > 0 {
            write!(f, ", {} cut off at shutdown", self.cut_off)?;
        }
        Ok(())
    }
}

/// Live counters, owned by the loop.
#[derive(Debug, Default)]
pub struct Stats {
    /// Connections accepted.
    pub connections: u64,
    /// Request heads parsed.
    pub requests: u64,
    responses: [u64; STATUSES.len()],
    /// Connections closed by a timeout.
    pub timeouts: u64,
    /// Connections closed by an I/O error other than a reset by the peer.
    pub io_errors: u64,
    /// `EMFILE`/`ENFILE` (and kin) from `accept`.
    pub accept_fd_exhausted: u64,
    /// Connections reset by the peer.
    pub resets: u64,
    /// Connections cut off when a shutdown ran out of time.
    pub cut_off: u64,
}

impl Stats {
    /// Count one response with `status`.
    #[inline]
    pub fn response(&mut self, status: u16) {
        let slot = STATUSES
            .iter()
            .position(|&s| s == status)
            .unwrap_or(STATUSES.len() - 1);
        self.responses[slot] += 1;
    }

    /// Responses that were not `200 OK`.
    pub fn error_responses(&self) -> u64 {
        self.responses[1..].iter().sum()
    }

    /// A snapshot for callers outside the loop.
    pub fn summary(&self) -> Summary {
        let responses = STATUSES
            .iter()
            .zip(self.responses)
            .filter(|(_, n)| *n > 0)
            .map(|(&s, n)| (s, n))
            .collect();
        Summary {
            connections: self.connections,
            requests: self.requests,
            responses,
            timeouts: self.timeouts,
            io_errors: self.io_errors,
            accept_fd_exhausted: self.accept_fd_exhausted,
            resets: self.resets,
            cut_off: self.cut_off,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn summary_lists_only_seen_statuses() {
        let mut stats = Stats {
            connections: 2,
            requests: 3,
            ..Stats::default()
        };
        stats.response(200);
        stats.response(200);
        stats.response(431);
        let summary = stats.summary();
        assert_eq!(summary.responses, vec![(200, 2), (431, 1)]);
        assert_eq!(summary.responses_with(431), 1);
        assert_eq!(summary.responses_with(400), 0);
        assert_eq!(stats.error_responses(), 1);
        assert_eq!(
            summary.to_string(),
            "2 connections, 3 requests, responses: 200=2 431=1, 0 timeouts, 0 I/O errors, 0 resets by peer, 0 accept fd exhaustions"
        );
        stats.cut_off = 4;
        assert!(
            stats
                .summary()
                .to_string()
                .ends_with(", 4 cut off at shutdown")
        );
    }
}
