//! What a run counted: totals, the latency histogram, one line per second, and the
//! closing report (text on stdout, and the `--json` document).

use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::io;
use std::time::{Duration, Instant};

use hdrhistogram::Histogram;
use serde_json::{Value, json};

/// Highest latency the histogram tracks exactly, in microseconds (one minute);
/// anything above is recorded as this value.
pub const MAX_LATENCY_US: u64 = 60_000_000;
/// Distinct error messages kept for the report.
const MAX_MESSAGES: usize = 8;
/// Growth factor between the upper bounds of the `histogram` buckets in the JSON:
/// ~40 buckets per factor of 1000, fine enough to plot, small enough to commit.
const JSON_BUCKET_RATIO: f64 = 1.2;

/// One second of the run, as it appears in `timeline`.
#[derive(Debug, Clone, Copy)]
pub struct Second {
    pub requests: u64,
    /// 99th percentile of the latencies recorded in that second (0 if none).
    pub p99_us: u64,
    pub errors: u64,
}

/// Counters bumped by the connections, on the one loop thread.
pub struct Stats {
    /// Latency of every response, in microseconds.
    pub latency: Histogram<u64>,
    /// Latencies of the second in progress; emptied when it is closed.
    second: Histogram<u64>,
    /// Complete final responses, any status.
    pub responses: u64,
    /// When the last response arrived.
    pub last_response: Option<Instant>,
    /// Errors by kind: connect, read, write, closed (by the server), parse,
    /// unanswered (still in flight when the drain gave up), status_NNN.
    pub errors: BTreeMap<String, u64>,
    errors_total: u64,
    /// First few distinct error messages, with how often each occurred.
    pub messages: Vec<(String, u64)>,
    /// Connections that completed their `connect`, and when the last one did.
    pub connected: u64,
    pub all_connected_after: Duration,
    /// Requests fully handed to the kernel.
    pub sent: u64,
    /// Open loop: requests sent [`LATE`](crate::conn::LATE) or more after their
    /// intended time, and the largest delay.
    pub late: u64,
    pub max_late: Duration,
    /// Open loop: requests that fell due but were never sent (the run ended, or
    /// their connection was gone).
    pub unsent: u64,
    /// Requests written whose answer was lost with a connection the server closed
    /// or that failed.
    pub lost_in_flight: u64,
    /// One entry per second closed so far.
    pub timeline: Vec<Second>,
    /// Totals when the last second was closed, to take differences.
    mark: (u64, u64),
}

impl Stats {
    pub fn new() -> Stats {
        let histogram =
            || Histogram::new_with_bounds(1, MAX_LATENCY_US, 3).expect("valid histogram bounds");
        Stats {
            latency: histogram(),
            second: histogram(),
            responses: 0,
            last_response: None,
            errors: BTreeMap::new(),
            errors_total: 0,
            messages: Vec::new(),
            connected: 0,
            all_connected_after: Duration::ZERO,
            sent: 0,
            late: 0,
            max_late: Duration::ZERO,
            unsent: 0,
            lost_in_flight: 0,
            timeline: Vec::new(),
            mark: (0, 0),
        }
    }

    /// Count one response. Allocation-free unless its status is not 200.
    pub fn record(&mut self, status: u16, latency_us: u64, arrived: Instant) {
        self.responses += 1;
        self.last_response = Some(arrived);
        let v = latency_us.clamp(1, MAX_LATENCY_US);
        self.latency.saturating_record(v);
        self.second.saturating_record(v);
        if status != 200 {
            self.count_error(&format!("status_{status}"), 1);
        }
    }

    /// Count `n` errors of `kind`, without a message.
    pub fn count_error(&mut self, kind: &str, n: u64) {
        if n == 0 {
            return;
        }
        *self.errors.entry(kind.to_string()).or_insert(0) += n;
        self.errors_total += n;
    }

    /// Count one error of `kind` and keep its message for the report.
    pub fn error(&mut self, kind: &str, error: &io::Error) {
        self.count_error(kind, 1);
        let message = format!("{kind}: {error}");
        if let Some((_, n)) = self.messages.iter_mut().find(|(m, _)| *m == message) {
            *n += 1;
        } else if self.messages.len() < MAX_MESSAGES {
            self.messages.push((message, 1));
        }
    }

    pub fn errors_total(&self) -> u64 {
        self.errors_total
    }

    /// Close the second in progress: what happened since the last close.
    pub fn close_second(&mut self) {
        let s = Second {
            requests: self.responses - self.mark.0,
            p99_us: if self.second.is_empty() {
                0
            } else {
                self.second.value_at_quantile(0.99)
            },
            errors: self.errors_total - self.mark.1,
        };
        self.second.reset();
        self.mark = (self.responses, self.errors_total);
        self.timeline.push(s);
    }

    /// True if something happened since the last second was closed.
    pub fn second_has_data(&self) -> bool {
        self.responses > self.mark.0 || self.errors_total > self.mark.1
    }
}

/// How the run was set up and how long it lasted.
pub struct Setup<'a> {
    pub url: &'a str,
    pub addr: String,
    pub in_process: bool,
    pub connections: usize,
    pub pipeline: usize,
    /// Open loop: target requests per second.
    pub rate: Option<f64>,
    /// `--duration`.
    pub duration: Duration,
    /// From the first `connect` to the end of the run or the last response,
    /// whichever is later: what `requests` is divided by.
    pub elapsed: Duration,
    /// How long the drain after the run took.
    pub drain: Duration,
}

impl Setup<'_> {
    fn mode(&self) -> &'static str {
        if self.rate.is_some() {
            "open"
        } else {
            "closed"
        }
    }

    fn achieved(&self, stats: &Stats) -> f64 {
        let secs = self.elapsed.as_secs_f64();
        if secs > 0.0 {
            stats.responses as f64 / secs
        } else {
            0.0
        }
    }
}

/// The closing report, as text: what was measured, and what was not.
pub fn text(setup: &Setup<'_>, stats: &Stats) -> String {
    let mut o = String::new();
    let secs = setup.elapsed.as_secs_f64();
    let server = if setup.in_process {
        "in-process hello-reactor"
    } else {
        "external server"
    };
    let _ = writeln!(
        o,
        "hello-load: {} loop, {} connections, pipeline {}, {:.2} s, {} = {} ({server})",
        setup.mode(),
        setup.connections,
        setup.pipeline,
        setup.duration.as_secs_f64(),
        setup.url,
        setup.addr,
    );
    let _ = writeln!(
        o,
        "  connected    {}/{} (the last {} after the start)",
        stats.connected,
        setup.connections,
        ms(stats.all_connected_after)
    );
    let achieved = setup.achieved(stats);
    let _ = writeln!(
        o,
        "  requests     {} answered in {secs:.3} s = {} req/s (sent {}; the {} drain after \
         the run is counted)",
        stats.responses,
        si(achieved),
        stats.sent,
        ms(setup.drain),
    );
    if let Some(target) = setup.rate {
        let due = stats.sent + stats.unsent;
        let _ = writeln!(
            o,
            "  rate         target {} req/s, achieved {} ({:.1} %); {} of {} due requests sent \
             late (≥ {} after their intended time, at most {}), {} never sent",
            si(target),
            si(achieved),
            achieved / target * 100.0,
            stats.late,
            due,
            ms(crate::conn::LATE),
            ms(stats.max_late),
            stats.unsent,
        );
    }
    let h = &stats.latency;
    if h.is_empty() {
        let _ = writeln!(o, "  latency      (no responses)");
    } else {
        let _ = writeln!(
            o,
            "  latency      p50 {}  p90 {}  p99 {}  p99.9 {}  max {}",
            us(h.value_at_quantile(0.50)),
            us(h.value_at_quantile(0.90)),
            us(h.value_at_quantile(0.99)),
            us(h.value_at_quantile(0.999)),
            us(h.max()),
        );
    }
    let what = if setup.rate.is_some() {
        "from each request's intended send time to the read that completed its response \
         (corrected for coordinated omission: a stalled server delays the schedule, not the clock)"
    } else if setup.pipeline > 1 {
        "from the write of each batch of requests to the read that completed each response; \
         closed loop: while the server stalls no new requests are sent, so a stall shows in \
         few samples (use --rate to see it)"
    } else {
        "from the write of each request to the read that completed its response; closed loop: \
         while the server stalls no new requests are sent, so a stall shows in few samples \
         (use --rate to see it)"
    };
    let _ = writeln!(o, "               {what}");
    if stats.errors.is_empty() {
        let _ = writeln!(o, "  errors       0");
    } else {
        let kinds: Vec<String> = stats
            .errors
            .iter()
            .map(|(k, n)| format!("{k} {n}"))
            .collect();
        let _ = writeln!(
            o,
            "  errors       {}: {} ({} requests lost in flight)",
            stats.errors_total,
            kinds.join(", "),
            stats.lost_in_flight
        );
        for (message, n) in &stats.messages {
            let _ = writeln!(o, "               {message} (x{n})");
        }
    }
    let _ = writeln!(
        o,
        "  not measured response bodies and headers beyond the status and framing; the \
         server's CPU time; the time to connect (it counts against the rate)"
    );
    o
}

/// The `--json` document.
pub fn json(setup: &Setup<'_>, stats: &Stats) -> Value {
    let h = &stats.latency;
    let q = |quantile: f64| {
        if h.is_empty() {
            Value::Null
        } else {
            json!(h.value_at_quantile(quantile))
        }
    };
    let histogram: Vec<Value> = if h.is_empty() {
        Vec::new()
    } else {
        h.iter_log(1, JSON_BUCKET_RATIO)
            .filter(|v| v.count_since_last_iteration() > 0)
            .map(|v| json!([v.value_iterated_to(), v.count_since_last_iteration()]))
            .collect()
    };
    let timeline: Vec<Value> = stats
        .timeline
        .iter()
        .enumerate()
        .map(|(i, s)| {
            json!({"second": i, "requests": s.requests, "p99_us": s.p99_us, "errors": s.errors})
        })
        .collect();
    json!({
        "url": setup.url,
        "mode": setup.mode(),
        "connections": setup.connections,
        "pipeline": setup.pipeline,
        "duration_s": setup.elapsed.as_secs_f64(),
        "requests": stats.responses,
        "errors": stats.errors,
        "rate": {"target": setup.rate, "achieved": setup.achieved(stats)},
        "latency_us": {
            "p50": q(0.50),
            "p90": q(0.90),
            "p99": q(0.99),
            "p99_9": q(0.999),
            "max": if h.is_empty() { Value::Null } else { json!(h.max()) },
        },
        "histogram": histogram,
        "timeline": timeline,
    })
}

/// `doc` as text, one top-level key per line, each value on one line: small and
/// still readable (pretty-printing puts every number of the histogram on its own
/// line).
pub fn json_text(doc: &Value) -> String {
    let Value::Object(map) = doc else {
        return format!("{doc}\n");
    };
    let lines: Vec<String> = map
        .iter()
        .map(|(k, v)| format!("  {}: {v}", Value::from(k.as_str())))
        .collect();
    format!("{{\n{}\n}}\n", lines.join(",\n"))
}

/// The progress line after a second has closed: that second's requests and p99,
/// the p99 of the whole run so far, and the errors so far.
pub fn progress(stats: &Stats) -> String {
    let Some(last) = stats.timeline.last() else {
        return String::new();
    };
    let p99 = |h: &Histogram<u64>, n: u64| {
        if n == 0 || h.is_empty() {
            "-".to_string()
        } else {
            us(h.value_at_quantile(0.99))
        }
    };
    format!(
        "{:>4} s  {:>8} req/s  p99 {:>9} (so far {})  errors {}",
        stats.timeline.len(),
        si(last.requests as f64),
        if last.requests == 0 {
            "-".to_string()
        } else {
            us(last.p99_us)
        },
        p99(&stats.latency, stats.responses),
        stats.errors_total,
    )
}

pub fn us(v: u64) -> String {
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

fn si(x: f64) -> String {
    if x >= 1e6 {
        format!("{:.2}M", x / 1e6)
    } else if x >= 1e4 {
        format!("{:.1}k", x / 1e3)
    } else {
        format!("{x:.0}")
    }
}
