//! The event loop: one `mio::Poll`, every connection a `conn.rs` state machine
//! keyed by its token, run for the planned duration and drained (see the crate's
//! design notes in `main.rs`).

use std::io::{self, Write};
use std::net::SocketAddr;
use std::time::{Duration, Instant};

use mio::{Events, Interest, Poll, Token};

use crate::conn::{Conn, Context, Next, Schedule};
use crate::report::{self, Stats};

/// Size of the one read buffer all connections share.
const READ_BUF: usize = 64 * 1024;
/// Readiness events taken per `poll`.
const EVENTS: usize = 1024;
/// Longest wait, after the run, for the requests still in flight to be answered.
const DRAIN_MAX: Duration = Duration::from_secs(2);
const SECOND: Duration = Duration::from_secs(1);

/// How long `--connect-first` waits for the last connection.
const CONNECT_FIRST_MAX: Duration = Duration::from_secs(10);

/// Everything the event loop needs to know.
pub(crate) struct Plan {
    pub(crate) addr: SocketAddr,
    pub(crate) connections: usize,
    pub(crate) depth: usize,
    /// `depth` copies of the request.
    pub(crate) requests: Vec<u8>,
    pub(crate) request_len: usize,
    pub(crate) duration: Duration,
    pub(crate) rate: Option<f64>,
    /// Start the open-loop schedule once every connection is connected.
    pub(crate) connect_first: bool,
    pub(crate) progress: Progress,
}

/// The per-second progress line: refreshed in place on a terminal, one plain line
/// per second otherwise, or nothing with `--quiet`.
pub(crate) struct Progress {
    pub(crate) enabled: bool,
    pub(crate) terminal: bool,
    pub(crate) shown: bool,
}

impl Progress {
    fn show(&mut self, line: &str) {
        if !self.enabled {
            return;
        }
        let mut out = io::stdout().lock();
        // A closed stdout must not stop the load; the report will fail loudly.
        let _ = if self.terminal {
            write!(out, "\r\x1b[2K{line}").and_then(|()| out.flush())
        } else {
            writeln!(out, "{line}")
        };
        self.shown = true;
    }

    fn finish(&mut self) {
        if self.enabled && self.terminal && self.shown {
            println!();
        }
    }
}

/// The load itself: connect, then load until `duration` has passed; then drain (no
/// new requests; those in flight are answered and counted, for at most
/// [`DRAIN_MAX`]) and close every socket, so the server sees clean closes rather
/// than resets. Returns the counters, the time `requests` is divided by, and how
/// long the drain took.
pub(crate) fn run(mut plan: Plan) -> io::Result<(Stats, Duration, Duration)> {
    let mut poll = Poll::new()?;
    let mut events = Events::with_capacity(EVENTS);
    let mut conns: Vec<Option<Conn>> = Vec::with_capacity(plan.connections);
    let mut buf = vec![0u8; READ_BUF];
    let mut stats = Stats::new();

    let start = Instant::now();
    let mut deadline = start + plan.duration;
    for i in 0..plan.connections {
        match Conn::connect(plan.addr, plan.depth) {
            Ok(mut conn) => {
                poll.registry().register(
                    conn.stream_mut(),
                    Token(i),
                    Interest::READABLE | Interest::WRITABLE,
                )?;
                conns.push(Some(conn));
            }
            Err(e) => {
                stats.error("connect", &e);
                conns.push(None);
            }
        }
    }

    let mut schedule = plan.rate.map(|rate| Schedule {
        start,
        rate,
        total: (plan.duration.as_secs_f64() * rate).ceil() as u64,
    });
    let mut cx = Context {
        requests: &plan.requests,
        request_len: plan.request_len,
        depth: plan.depth,
        connections: plan.connections as u64,
        schedule,
        buf: &mut buf,
        stats: &mut stats,
        start,
        sending: true,
    };
    if plan.connect_first {
        // No request is due before the schedule starts, so none is sent.
        let limit = Instant::now() + CONNECT_FIRST_MAX;
        while Instant::now() < limit && conns.iter().flatten().any(|c| !c.is_connected()) {
            turn(&mut poll, &mut events, &mut conns, &mut cx, limit)?;
        }
        let now = Instant::now();
        if let Some(s) = schedule.as_mut() {
            s.start = now;
        }
        cx.schedule = schedule;
        deadline = now + plan.duration;
    }
    let mut next_due = 0u64; // open loop: index of the next request to fall due
    loop {
        let now = Instant::now();
        if let Some(s) = schedule {
            while next_due < s.total && s.intended(next_due) <= now {
                let i = (next_due % cx.connections) as usize;
                match conns[i].as_mut() {
                    Some(conn) => {
                        if conn.due(&mut cx, next_due) == Next::Close {
                            close(&mut poll, &mut conns, i, cx.stats);
                        }
                    }
                    None => cx.stats.unsent += 1,
                }
                next_due += 1;
            }
        }
        if now >= deadline {
            break;
        }
        // Close the seconds that are over, and show the last one.
        let over = usize::try_from((now - start).as_secs()).unwrap_or(usize::MAX);
        if cx.stats.timeline.len() < over {
            while cx.stats.timeline.len() < over {
                cx.stats.close_second();
            }
            plan.progress.show(&report::progress(cx.stats));
        }
        let mut wake = (start + SECOND * (over as u32 + 1)).min(deadline);
        if let Some(s) = schedule
            && next_due < s.total
        {
            wake = wake.min(s.intended(next_due));
        }
        turn(&mut poll, &mut events, &mut conns, &mut cx, wake)?;
    }
    let run_end = Instant::now();

    // Drain: no new requests; answers to those in flight are still counted.
    cx.sending = false;
    if let Some(s) = schedule {
        cx.stats.unsent += s.total.saturating_sub(next_due);
    }
    let drain_deadline = run_end + DRAIN_MAX.min(plan.duration);
    while Instant::now() < drain_deadline && conns.iter().flatten().any(|c| c.in_flight() > 0) {
        turn(&mut poll, &mut events, &mut conns, &mut cx, drain_deadline)?;
    }
    let drain = run_end.elapsed();
    let mut unfinished = 0;
    for conn in conns.iter().flatten() {
        cx.stats.unsent += conn.pending();
        cx.stats.count_error("unanswered", conn.in_flight() as u64);
        unfinished += u64::from(!conn.is_connected());
    }
    if unfinished > 0 {
        let e = io::Error::new(io::ErrorKind::TimedOut, "still connecting at the end");
        for _ in 0..unfinished {
            cx.stats.error("connect", &e);
        }
    }
    drop(conns);

    if cx.stats.second_has_data() || cx.stats.timeline.is_empty() {
        cx.stats.close_second();
        plan.progress.show(&report::progress(cx.stats));
    }
    plan.progress.finish();
    let end = stats.last_response.unwrap_or(run_end).max(run_end);
    Ok((stats, end - start, drain))
}

/// Close connection `i`: what was due on it will never be sent.
fn close(poll: &mut Poll, conns: &mut [Option<Conn>], i: usize, stats: &mut Stats) {
    if let Some(mut conn) = conns[i].take() {
        stats.unsent += conn.pending();
        // Closing the socket (drop) deregisters it too; this is tidiness.
        let _ = poll.registry().deregister(conn.stream_mut());
    }
}

/// One turn of the loop: wait for readiness (until `until` at most) and hand every
/// event to its connection, closing those that are done for.
fn turn(
    poll: &mut Poll,
    events: &mut Events,
    conns: &mut [Option<Conn>],
    cx: &mut Context<'_>,
    until: Instant,
) -> io::Result<()> {
    let timeout = until.saturating_duration_since(Instant::now());
    match poll.poll(events, Some(timeout)) {
        Ok(()) => {}
        Err(e) if e.kind() == io::ErrorKind::Interrupted => return Ok(()),
        Err(e) => return Err(e),
    }
    for event in events.iter() {
        let i = event.token().0;
        let Some(conn) = conns.get_mut(i).and_then(Option::as_mut) else {
            continue;
        };
        if conn.ready(cx, event) == Next::Close {
            close(poll, conns, i, cx.stats);
        }
    }
    Ok(())
}
