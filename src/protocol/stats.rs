//! Counters the loop keeps, and the one-line summary it logs at shutdown.
//!
//! Plain integers bumped on the one reactor thread: no atomics, no locks. They feed
//! the shutdown summary, `--stats-interval`, and [`Summary`], which
//! [`Server::run`](crate::Server::run) returns so tests can check what happened.
//!
//! With several workers (`--workers`) each reactor keeps its own counters, still
//! without sharing: summaries are added up only when a worker stops, or when it
//! publishes a snapshot at its stats tick. `Summary` therefore adds (`+=`, `sum()`),
//! and that sum is what the process reports.

use std::fmt;
use std::iter::Sum;
use std::ops::AddAssign;

use crate::protocol::h2::counts::{H2Counts, H2Summary};
use crate::protocol::status::Status;

/// Counters, one per possible code: counting a response is one indexed add,
/// whatever status `--status` configured, and no status is ever lumped with others.
const SLOTS: usize = Status::MAX as usize + 1;

/// What the server did over its run.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Summary {
    /// Connections accepted.
    pub connections: u64,
    /// Complete request heads parsed.
    pub requests: u64,
    /// Responses queued, by status: `(status, count)`, only statuses seen, in
    /// ascending order of status.
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
    /// What HTTP/2 counted (its requests and responses are in the totals above too).
    pub h2: H2Summary,
}

impl Summary {
    /// Responses sent with `status`.
    pub fn responses_with(&self, status: u16) -> u64 {
        self.responses
            .iter()
            .find(|(s, _)| *s == status)
            .map_or(0, |(_, n)| *n)
    }

    /// Responses with a 4xx or 5xx status (as [`Stats::error_responses`]).
    pub fn error_responses(&self) -> u64 {
        self.responses
            .iter()
            .filter(|(status, _)| *status >= 400)
            .map(|(_, n)| n)
            .sum()
    }
}

impl AddAssign<&Summary> for Summary {
    /// Add another worker's counters; responses are merged by status and kept in
    /// the order a single reactor lists them.
    fn add_assign(&mut self, other: &Summary) {
        self.connections += other.connections;
        self.requests += other.requests;
        self.timeouts += other.timeouts;
        self.io_errors += other.io_errors;
        self.accept_fd_exhausted += other.accept_fd_exhausted;
        self.resets += other.resets;
        self.cut_off += other.cut_off;
        for &(status, count) in &other.responses {
            match self.responses.iter_mut().find(|(s, _)| *s == status) {
                Some((_, n)) => *n += count,
                None => self.responses.push((status, count)),
            }
        }
        self.responses.sort_by_key(|&(status, _)| status);
        self.h2 += &other.h2;
    }
}

impl<'a> Sum<&'a Summary> for Summary {
    fn sum<I: Iterator<Item = &'a Summary>>(summaries: I) -> Summary {
        summaries.fold(Summary::default(), |mut total, one| {
            total += one;
            total
        })
    }
}

impl Sum for Summary {
    fn sum<I: Iterator<Item = Summary>>(summaries: I) -> Summary {
        summaries.fold(Summary::default(), |mut total, one| {
            total += &one;
            total
        })
    }
}

/// The `--stats-interval` line: `rate` requests per second, `open` connections,
/// and `summary`'s error counters. One reactor and the sum of several log the same.
pub fn stats_line(rate: f64, open: usize, summary: &Summary) -> String {
    format!(
        "stats: {rate:.0} req/s, {open} open connections, {} error responses, {} I/O errors, {} timeouts, {} resets by peer",
        summary.error_responses(),
        summary.io_errors,
        summary.timeouts,
        summary.resets
    )
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
#[derive(Debug)]
pub struct Stats {
    /// Connections accepted.
    pub connections: u64,
    /// Request heads parsed.
    pub requests: u64,
    /// Indexed by status code; [`SLOTS`] long.
    responses: Box<[u64]>,
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
    /// Answers held now by `--delay` (a gauge).
    pub held: u64,
    /// HTTP/2's own counters.
    pub h2: H2Counts,
}

impl Default for Stats {
    fn default() -> Stats {
        Stats {
            connections: 0,
            requests: 0,
            responses: vec![0; SLOTS].into_boxed_slice(),
            timeouts: 0,
            io_errors: 0,
            accept_fd_exhausted: 0,
            resets: 0,
            cut_off: 0,
            held: 0,
            h2: H2Counts::default(),
        }
    }
}

impl Stats {
    /// Count one response with `status`.
    #[inline]
    pub fn response(&mut self, status: Status) {
        // A Status is at most Status::MAX, so the slot exists.
        if let Some(count) = self.responses.get_mut(usize::from(status.code())) {
            *count += 1;
        }
    }

    /// Responses with a 4xx or 5xx status: refused requests, timeouts, and every
    /// answer if `--status` itself is an error status.
    pub fn error_responses(&self) -> u64 {
        self.responses[usize::from(Status::BAD_REQUEST.code())..]
            .iter()
            .sum()
    }

    /// A snapshot for callers outside the loop.
    pub fn summary(&self) -> Summary {
        let responses = (0u16..)
            .zip(self.responses.iter())
            .filter(|(_, n)| **n > 0)
            .map(|(s, n)| (s, *n))
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
            h2: self.h2.summary(),
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
        stats.response(Status::OK);
        stats.response(Status::OK);
        stats.response(Status::HEADER_FIELDS_TOO_LARGE);
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

    #[test]
    fn every_status_has_its_own_count() {
        let mut stats = Stats::default();
        for code in Status::MIN..=Status::MAX {
            for _ in 0..code % 3 {
                stats.response(Status::new(code).unwrap());
            }
        }
        let summary = stats.summary();
        for code in Status::MIN..=Status::MAX {
            assert_eq!(summary.responses_with(code), u64::from(code % 3), "{code}");
        }
        let errors: u64 = (400u16..=599).map(|code| u64::from(code % 3)).sum();
        assert_eq!(stats.error_responses(), errors);
    }

    #[test]
    fn summaries_add_up_by_status_in_order() {
        let a = Summary {
            connections: 2,
            requests: 3,
            responses: vec![(200, 2), (431, 1)],
            timeouts: 1,
            ..Summary::default()
        };
        let b = Summary {
            connections: 5,
            requests: 5,
            responses: vec![(200, 4), (400, 1)],
            io_errors: 2,
            accept_fd_exhausted: 1,
            ..Summary::default()
        };
        let total: Summary = [&a, &b].into_iter().sum();
        assert_eq!(total.connections, 7);
        assert_eq!(total.requests, 8);
        assert_eq!(total.responses, vec![(200, 6), (400, 1), (431, 1)]);
        assert_eq!(
            (total.timeouts, total.io_errors, total.accept_fd_exhausted),
            (1, 2, 1)
        );
        assert_eq!(vec![a.clone(), b].into_iter().sum::<Summary>(), total);
        assert_eq!(
            std::iter::empty::<Summary>().sum::<Summary>(),
            Summary::default()
        );
    }
}
