//! Metrics: what the reactor counts beyond [`Stats`], and the Prometheus text it
//! renders when scraped.
//!
//! **Counting costs an increment.** Every counter is a plain `u64` owned by the
//! reactor's thread and bumped where the event already is: bytes after a `read` or
//! `write` returned, a close reason once per connection, when it is removed from the
//! slab. Nothing is formatted, locked or shared per request. The text is rendered
//! only when `/metrics` is scraped (see `scrape.rs`).
//!
//! **Summable snapshots.** [`render`] takes a list of [`Snapshot`]s and adds them up,
//! so several reactors (workers) can be reported as one process: each reactor can
//! take a snapshot of its own counters (a copy of a few hundred bytes), and every
//! metric is a counter or a gauge whose per-worker values sum to the process's.
//! The reactor that owns the metrics listener renders its own fresh snapshot plus
//! the ones the other reactors publish ([`Server::publish_metrics_to`](super::Server)):
//! each publishes once per tick (at most once a second, off the request path), so
//! their part of a scrape is at most a tick old.

use std::fmt::Write as _;

use crate::protocol::stats::{Stats, Summary};

/// Why a connection was closed. Recorded once per connection, counted when it
/// leaves the slab.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[repr(u8)]
pub enum CloseReason {
    /// The server closed after a final answer (`Connection: close`, HTTP/1.0, an
    /// error response), the client having read it.
    Done,
    /// The client closed (EOF).
    Peer,
    /// Idle between requests for the keep-alive timeout.
    IdleTimeout,
    /// A head took longer than the header timeout (answered 408).
    HeaderTimeout,
    /// No body progress within the body timeout (answered 408).
    BodyTimeout,
    /// The client took no output for the write timeout.
    WriteTimeout,
    /// The client reset the connection (`ECONNRESET`, `EPIPE`, `ECONNABORTED`).
    Reset,
    /// Any other I/O error.
    Error,
    /// Closed by a graceful shutdown (idle when it began).
    Shutdown,
    /// Still open when the shutdown timeout ran out, or at a second signal.
    CutOff,
}

impl CloseReason {
    /// Every reason, in label order.
    pub const ALL: [CloseReason; 10] = [
        CloseReason::Done,
        CloseReason::Peer,
        CloseReason::IdleTimeout,
        CloseReason::HeaderTimeout,
        CloseReason::BodyTimeout,
        CloseReason::WriteTimeout,
        CloseReason::Reset,
        CloseReason::Error,
        CloseReason::Shutdown,
        CloseReason::CutOff,
    ];

    /// The `reason` label.
    pub fn label(self) -> &'static str {
        match self {
            CloseReason::Done => "done",
            CloseReason::Peer => "peer",
            CloseReason::IdleTimeout => "idle_timeout",
            CloseReason::HeaderTimeout => "header_timeout",
            CloseReason::BodyTimeout => "body_timeout",
            CloseReason::WriteTimeout => "write_timeout",
            CloseReason::Reset => "reset",
            CloseReason::Error => "error",
            CloseReason::Shutdown => "shutdown",
            CloseReason::CutOff => "shutdown_cut_off",
        }
    }

    /// A reset by the peer, as opposed to some other I/O error.
    pub fn of_error(error: &std::io::Error) -> CloseReason {
        use std::io::ErrorKind::{BrokenPipe, ConnectionAborted, ConnectionReset};
        match error.kind() {
            ConnectionReset | BrokenPipe | ConnectionAborted => CloseReason::Reset,
            _ => CloseReason::Error,
        }
    }
}

/// The reactor's own counters (the protocol core's are in [`Stats`]).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct IoCounters {
    /// Bytes read from client sockets.
    pub bytes_received: u64,
    /// Bytes written to client sockets.
    pub bytes_sent: u64,
    /// Connections closed, by [`CloseReason`] (index: its discriminant).
    pub closed: [u64; CloseReason::ALL.len()],
}

impl IoCounters {
    /// Count one connection closed for `reason`.
    #[inline]
    pub fn close(&mut self, reason: CloseReason) {
        self.closed[reason as usize] += 1;
    }

    /// Connections closed for `reason` so far.
    pub fn closed(&self, reason: CloseReason) -> u64 {
        self.closed[reason as usize]
    }
}

/// One reactor's counters at one moment; [`render`] adds several up.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Snapshot {
    /// The protocol counters (requests, responses by status, ...).
    pub summary: Summary,
    /// Bytes and close reasons.
    pub io: IoCounters,
    /// Connections open at that moment.
    pub open: u64,
    /// Answers held by `--delay` at that moment.
    pub delayed: u64,
}

impl Snapshot {
    /// A snapshot of `stats` and `io` with `open` connections.
    pub fn take(stats: &Stats, io: &IoCounters, open: usize) -> Snapshot {
        Snapshot {
            summary: stats.summary(),
            io: io.clone(),
            open: open as u64,
            delayed: stats.held,
        }
    }
}

/// The Prometheus text exposition format (version 0.0.4) for the sum of
/// `snapshots`.
pub fn render(snapshots: &[Snapshot]) -> String {
    // Written out by hand: the format is a few lines of text, and a client library
    // would bring a registry, locks and atomics that the single-threaded counters
    // do not need.
    let sum = |f: &dyn Fn(&Snapshot) -> u64| snapshots.iter().map(f).sum::<u64>();
    let mut out = Text(String::with_capacity(2048));

    out.header("requests_total", "counter", "Request heads parsed.");
    out.sample("requests_total", "", sum(&|s| s.summary.requests));

    out.header(
        "responses_total",
        "counter",
        "Responses queued, by protocol (h1, h2) and status code (other: any status not listed).",
    );
    let mut statuses: Vec<u16> = snapshots
        .iter()
        .flat_map(|s| s.summary.responses.iter().map(|(status, _)| *status))
        .collect();
    statuses.sort_unstable();
    statuses.dedup();
    for status in statuses {
        let status_label = match status {
            0 => "other".to_string(),
            _ => status.to_string(),
        };
        let total = sum(&|s| s.summary.responses_with(status));
        let h2 = sum(&|s| s.summary.h2.responses_with(status));
        for (protocol, count) in [("h1", total - h2), ("h2", h2)] {
            let label = format!("{{protocol=\"{protocol}\",status=\"{status_label}\"}}");
            out.sample("responses_total", &label, count);
        }
    }

    out.header(
        "h2_streams_total",
        "counter",
        "HTTP/2 streams opened by a request.",
    );
    out.sample("h2_streams_total", "", sum(&|s| s.summary.h2.streams));

    out.header(
        "h2_goaways_total",
        "counter",
        "HTTP/2 GOAWAY frames sent, by error code (no_error: a shutdown or an idle close).",
    );
    let mut goaways = crate::protocol::h2::counts::H2Summary::default();
    for snapshot in snapshots {
        goaways += &snapshot.summary.h2;
    }
    for (reason, count) in goaways.goaways() {
        let label = format!("{{reason=\"{reason}\"}}");
        out.sample("h2_goaways_total", &label, count);
    }

    out.header(
        "connections_accepted_total",
        "counter",
        "Connections accepted.",
    );
    out.sample(
        "connections_accepted_total",
        "",
        sum(&|s| s.summary.connections),
    );

    out.header("connections_open", "gauge", "Connections open now.");
    out.sample("connections_open", "", sum(&|s| s.open));

    out.header(
        "delayed_answers",
        "gauge",
        "Answers held by --delay now, waiting to be sent.",
    );
    out.sample("delayed_answers", "", sum(&|s| s.delayed));

    out.header(
        "connections_closed_total",
        "counter",
        "Connections closed, by reason.",
    );
    for reason in CloseReason::ALL {
        let label = format!("{{reason=\"{}\"}}", reason.label());
        out.sample(
            "connections_closed_total",
            &label,
            sum(&|s| s.io.closed(reason)),
        );
    }

    out.header(
        "bytes_received_total",
        "counter",
        "Bytes read from client connections.",
    );
    out.sample("bytes_received_total", "", sum(&|s| s.io.bytes_received));

    out.header(
        "bytes_sent_total",
        "counter",
        "Bytes written to client connections.",
    );
    out.sample("bytes_sent_total", "", sum(&|s| s.io.bytes_sent));

    out.header(
        "accept_fd_exhausted_total",
        "counter",
        "Times accept failed for lack of file descriptors.",
    );
    let exhausted = sum(&|s| s.summary.accept_fd_exhausted);
    out.sample("accept_fd_exhausted_total", "", exhausted);
    out.0
}

/// The text being rendered.
struct Text(String);

impl Text {
    fn header(&mut self, name: &str, kind: &str, help: &str) {
        let _ = writeln!(self.0, "# HELP hello_reactor_{name} {help}");
        let _ = writeln!(self.0, "# TYPE hello_reactor_{name} {kind}");
    }

    fn sample(&mut self, name: &str, labels: &str, value: u64) {
        let _ = writeln!(self.0, "hello_reactor_{name}{labels} {value}");
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn snapshot(requests: u64, ok: u64, open: u64) -> Snapshot {
        let mut io = IoCounters {
            bytes_received: 100,
            bytes_sent: 200,
            ..IoCounters::default()
        };
        io.close(CloseReason::Peer);
        Snapshot {
            summary: Summary {
                connections: 3,
                requests,
                responses: vec![(200, ok), (0, 1)],
                ..Summary::default()
            },
            io,
            open,
            delayed: open * 10,
        }
    }

    #[test]
    fn snapshots_add_up() {
        let mut second = snapshot(7, 6, 2);
        second.summary.h2.streams = 3;
        second.summary.h2.responses = vec![(200, 3)];
        second.summary.h2.goaways[11] = 1;
        let text = render(&[snapshot(5, 4, 1), second]);
        for expected in [
            "hello_reactor_requests_total 12\n",
            "hello_reactor_responses_total{protocol=\"h1\",status=\"200\"} 7\n",
            "hello_reactor_responses_total{protocol=\"h2\",status=\"200\"} 3\n",
            "hello_reactor_responses_total{protocol=\"h1\",status=\"other\"} 2\n",
            "hello_reactor_h2_streams_total 3\n",
            "hello_reactor_h2_goaways_total{reason=\"enhance_your_calm\"} 1\n",
            "hello_reactor_h2_goaways_total{reason=\"no_error\"} 0\n",
            "hello_reactor_connections_accepted_total 6\n",
            "hello_reactor_connections_open 3\n",
            "hello_reactor_delayed_answers 30\n",
            "# TYPE hello_reactor_delayed_answers gauge\n",
            "hello_reactor_connections_closed_total{reason=\"peer\"} 2\n",
            "hello_reactor_connections_closed_total{reason=\"reset\"} 0\n",
            "hello_reactor_bytes_received_total 200\n",
            "hello_reactor_bytes_sent_total 400\n",
            "# TYPE hello_reactor_connections_open gauge\n",
        ] {
            assert!(text.contains(expected), "no {expected:?} in\n{text}");
        }
    }

    #[test]
    fn resets_are_told_from_other_errors() {
        use std::io::{Error, ErrorKind};
        for kind in [
            ErrorKind::ConnectionReset,
            ErrorKind::BrokenPipe,
            ErrorKind::ConnectionAborted,
        ] {
            assert_eq!(
                CloseReason::of_error(&Error::from(kind)),
                CloseReason::Reset
            );
        }
        let other = Error::from_raw_os_error(libc::EIO);
        assert_eq!(CloseReason::of_error(&other), CloseReason::Error);
    }
}
