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
    /// Connections closed by an I/O error (resets, broken pipes).
    pub io_errors: u64,
    /// Times `accept` failed for lack of file descriptors.
    pub accept_fd_exhausted: u64,
}

impl Summary {
    /// Responses sent with `status`.
    pub fn responses_with(&self, status: u16) -> u64 {
        self.responses
            .iter()
            .find(|(s, _)| *s == status)
            .map_or(0, |(_, n)| *n)
    }

    /// Responses that were not `200 OK`.
    pub fn error_responses(&self) -> u64 {
        self.responses
            .iter()
            .filter(|(status, _)| *status != 200)
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
        for &(status, count) in &other.responses {
            match self.responses.iter_mut().find(|(s, _)| *s == status) {
                Some((_, n)) => *n += count,
                None => self.responses.push((status, count)),
            }
        }
        self.responses.sort_by_key(|&(status, _)| slot(status));
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
        "stats: {rate:.0} req/s, {open} open connections, {} error responses, {} I/O errors, {} timeouts",
        summary.error_responses(),
        summary.io_errors,
        summary.timeouts
    )
}

/// Where `status` is counted: its place in [`STATUSES`], or the last slot.
fn slot(status: u16) -> usize {
    STATUSES
        .iter()
        .position(|&s| s == status)
        .unwrap_or(STATUSES.len() - 1)
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
            ", {} timeouts, {} I/O errors, {} accept fd exhaustions",
            self.timeouts, self.io_errors, self.accept_fd_exhausted
        )
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
    /// Connections closed by an I/O error.
    pub io_errors: u64,
    /// `EMFILE`/`ENFILE` (and kin) from `accept`.
    pub accept_fd_exhausted: u64,
}

impl Stats {
    /// Count one response with `status`.
    #[inline]
    pub fn response(&mut self, status: u16) {
        self.responses[slot(status)] += 1;
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
            "2 connections, 3 requests, responses: 200=2 431=1, 0 timeouts, 0 I/O errors, 0 accept fd exhaustions"
        );
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
