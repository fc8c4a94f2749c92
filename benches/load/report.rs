//! What a run counted, and the report printed at its end.

use std::io;
use std::time::Duration;

use hdrhistogram::Histogram;

/// Highest latency the histogram tracks exactly, in microseconds (one minute);
/// anything above is recorded as this value.
const MAX_LATENCY_US: u64 = 60_000_000;
/// Distinct error messages kept for the report.
const MAX_ERROR_KINDS: usize = 8;

/// Counters bumped by the connections, on the one loop thread.
pub struct Stats {
    /// Latency of every response, batch write → response read, in microseconds.
    pub latency: Histogram<u64>,
    /// Complete final responses, any status.
    pub responses: u64,
    /// Responses with a status other than 200, by status.
    pub other_statuses: Vec<(u16, u64)>,
    /// Connections that completed their `connect`.
    pub connected: u64,
    /// Time from the start until the last connection so far completed its connect.
    pub all_connected_after: Duration,
    /// `connect` refused or failed (including `connect` calls that failed at once).
    pub connect_errors: u64,
    /// Connections still connecting when the run ended (also in `connect_errors`).
    pub connect_unfinished: u64,
    /// `read` failed (reset and the like).
    pub read_errors: u64,
    /// `write` failed (broken pipe and the like).
    pub write_errors: u64,
    /// The server closed a connection (EOF) during the run.
    pub closed_by_server: u64,
    /// Requests lost in flight on those connections.
    pub in_flight_lost: u64,
    /// Responses that could not be framed, or more responses than requests.
    pub protocol_errors: u64,
    /// First few distinct error messages, with how often each occurred.
    pub messages: Vec<(String, u64)>,
}

impl Stats {
    pub fn new() -> Stats {
        Stats {
            latency: Histogram::new_with_bounds(1, MAX_LATENCY_US, 3)
                .expect("valid histogram bounds"),
            responses: 0,
            other_statuses: Vec::new(),
            connected: 0,
            all_connected_after: Duration::ZERO,
            connect_errors: 0,
            connect_unfinished: 0,
            read_errors: 0,
            write_errors: 0,
            closed_by_server: 0,
            in_flight_lost: 0,
            protocol_errors: 0,
            messages: Vec::new(),
        }
    }

    /// Count one response. Allocation-free except the first time a non-200 status
    /// is seen.
    pub fn record(&mut self, status: u16, latency_us: u64) {
        self.responses += 1;
        self.latency
            .saturating_record(latency_us.clamp(1, MAX_LATENCY_US));
        if status != 200 {
            match self.other_statuses.iter_mut().find(|(s, _)| *s == status) {
                Some((_, n)) => *n += 1,
                None => self.other_statuses.push((status, 1)),
            }
        }
    }

    /// Keep an error's message for the report (the first few kinds only).
    pub fn note_error(&mut self, what: &str, error: &io::Error) {
        let message = format!("{what}: {error}");
        if let Some((_, n)) = self.messages.iter_mut().find(|(m, _)| *m == message) {
            *n += 1;
        } else if self.messages.len() < MAX_ERROR_KINDS {
            self.messages.push((message, 1));
        }
    }

    pub fn non_200(&self) -> u64 {
        self.other_statuses.iter().map(|(_, n)| n).sum()
    }

    /// Every failure the run saw; non-zero makes the bench exit non-zero.
    pub fn errors(&self) -> u64 {
        self.connect_errors
            + self.read_errors
            + self.write_errors
            + self.closed_by_server
            + self.protocol_errors
            + self.non_200()
    }
}

/// How the run was set up, for the report's first line.
pub struct Setup<'a> {
    pub connections: usize,
    pub depth: u32,
    pub url: &'a str,
    pub in_process: bool,
}

/// Print the report to stdout.
pub fn print(setup: &Setup<'_>, stats: &Stats, elapsed: Duration, open_at_end: usize) {
    let secs = elapsed.as_secs_f64();
    let server = if setup.in_process {
        "in-process hello-reactor"
    } else {
        "external server"
    };
    println!(
        "load: {} connections, pipeline depth {}, {:.2} s, {} ({server})",
        setup.connections, setup.depth, secs, setup.url
    );
    println!(
        "  connected    {}/{} (last after {})",
        stats.connected,
        setup.connections,
        ms(stats.all_connected_after)
    );
    let rate = if secs > 0.0 {
        stats.responses as f64 / secs
    } else {
        0.0
    };
    println!(
        "  requests     {} responses in {secs:.2} s = {rate:.0} req/s",
        stats.responses
    );
    let h = &stats.latency;
    if h.is_empty() {
        println!("  latency      (no responses)");
    } else {
        println!(
            "  latency      p50 {}  p99 {}  p99.9 {}  max {}  (mean {})",
            us(h.value_at_quantile(0.50)),
            us(h.value_at_quantile(0.99)),
            us(h.value_at_quantile(0.999)),
            us(h.max()),
            us(h.mean().round() as u64),
        );
    }
    println!(
        "  errors       {} total: connect {} ({} unfinished at end), read {}, write {}, \
         closed by server {} ({} requests in flight lost), protocol {}, non-200 responses {}",
        stats.errors(),
        stats.connect_errors,
        stats.connect_unfinished,
        stats.read_errors,
        stats.write_errors,
        stats.closed_by_server,
        stats.in_flight_lost,
        stats.protocol_errors,
        stats.non_200(),
    );
    for (status, n) in &stats.other_statuses {
        println!("               status {status}: {n}");
    }
    for (message, n) in &stats.messages {
        println!("               {message} (x{n})");
    }
    println!("  open at end  {open_at_end}/{}", setup.connections);
}

fn us(v: u64) -> String {
    if v < 1000 {
        format!("{v} µs")
    } else if v < 1_000_000 {
        format!("{:.2} ms", v as f64 / 1e3)
    } else {
        format!("{:.3} s", v as f64 / 1e6)
    }
}

fn ms(d: Duration) -> String {
    format!("{:.1} ms", d.as_secs_f64() * 1e3)
}
