//! Hardening: every phase a connection can wait in has a deadline.
//!
//! Each phase's deadline is tested exactly, on simulated time, by the protocol
//! core's own tests (`src/protocol/tests.rs`): the header time that a trickle does
//! not extend, keep-alive counted from each answer, body and write time restarted
//! by progress, the linger time. What remains here are smoke tests over real
//! sockets and the real clock: that the reactor's coarse timer fires them, and
//! what a client observes.
//!
//! Timeouts are set to fractions of a second so the suite stays fast. The server
//! checks deadlines on a coarse tick of a quarter of its shortest timeout, so a
//! timeout may fire up to 25% late; the bounds below allow for that plus scheduling
//! slack, and they also check the other side: nothing is cut off early.

mod common;

use std::io::{self, Read, Write};
use std::net::{Shutdown, TcpStream};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, mpsc};
use std::thread;
use std::time::{Duration, Instant};

use common::{
    GET, Reader, Serving, connect, eventually, is_timeout, open_fds, read_until_eof, roundtrip,
    start,
};

/// Slack allowed past a deadline (tick granularity plus a loaded machine).
const SLACK: Duration = Duration::from_millis(1000);

fn ms(n: u64) -> Duration {
    Duration::from_millis(n)
}

/// The connection stays open and silent for `duration`: no byte, no EOF.
fn assert_open_for(stream: &mut TcpStream, duration: Duration, what: &str) {
    stream.set_read_timeout(Some(duration)).unwrap();
    let mut byte = [0u8; 1];
    match stream.read(&mut byte) {
        Err(e) if is_timeout(&e) => {}
        Ok(0) => panic!("{what}: closed within {duration:?}, too early"),
        Ok(_) => panic!("{what}: unexpected byte {byte:?}"),
        Err(e) => panic!("{what}: {e} within {duration:?}"),
    }
}

/// `elapsed` lies within `[low, high]`.
fn assert_between(elapsed: Duration, low: Duration, high: Duration, what: &str) {
    assert!(
        elapsed >= low && elapsed <= high,
        "{what} after {elapsed:?}, expected between {low:?} and {high:?}"
    );
}

#[test]
fn slowloris_is_cut_off_by_the_header_timeout() {
    let header_timeout = ms(500);
    let running = start(|c| c.header_timeout = header_timeout);
    let stream = connect(running.addr());
    let mut trickle = stream.try_clone().unwrap();
    let stop = Arc::new(AtomicBool::new(false));
    let stop_trickle = Arc::clone(&stop);
    let (first_tx, first_rx) = mpsc::channel();
    // A head that never ends: one byte every 100 ms, far below any per-byte timeout.
    let trickler = thread::spawn(move || {
        let head = format!(
            "GET / HTTP/1.1\r\nHost: test\r\nX-Slow: {}",
            "s".repeat(100)
        );
        for (i, byte) in head.bytes().enumerate() {
            if stop_trickle.load(Ordering::Relaxed) || trickle.write_all(&[byte]).is_err() {
                return i;
            }
            if i == 0 {
                first_tx.send(Instant::now()).unwrap();
            }
            thread::sleep(ms(100));
        }
        head.len()
    });
    let first_byte = first_rx.recv_timeout(ms(5000)).unwrap();
    let mut reader = Reader::new(stream);
    let response = reader.try_response(false);
    let rest = reader.read_to_close();
    let cut_off = Instant::now();
    stop.store(true, Ordering::Relaxed);
    let sent = trickler.join().unwrap();
    // 408 (the connection was mid-request) and then EOF.
    let response = response.expect("a 408 before EOF");
    assert_eq!(response.status, 408, "{}", response.head);
    assert_eq!(response.header("Connection"), Some("close"));
    assert!(rest.expect("EOF, not a reset").is_empty());
    assert_between(
        cut_off - first_byte,
        header_timeout - ms(100),
        header_timeout + SLACK,
        "slowloris cut off",
    );
    assert!(sent >= 4, "only {sent} bytes were trickled");
    assert_eq!(roundtrip(running.addr(), GET).status, 200);
}

#[test]
fn an_idle_keep_alive_connection_is_closed_after_the_keep_alive_timeout() {
    let keep_alive = ms(800);
    let running = start(|c| c.keep_alive_timeout = keep_alive);
    let mut reader = Reader::new(connect(running.addr()));
    // Some time passes before the first request: the idle clock starts at the
    // response, not at the connect.
    thread::sleep(ms(500));
    reader.send(GET);
    assert_eq!(reader.response(false).status, 200);
    let answered = Instant::now();
    assert_open_for(&mut reader.stream, keep_alive / 2, "idle keep-alive");
    let (got, eof) = read_until_eof(&mut reader.stream, keep_alive + SLACK * 2);
    assert!(got.is_empty(), "unexpected bytes {got:?}");
    assert_between(
        eof - answered,
        keep_alive - ms(100),
        keep_alive + SLACK,
        "idle connection closed",
    );
    let summary = running.stop().unwrap();
    assert_eq!(summary.timeouts, 1, "{summary}");
}

#[test]
fn a_connection_that_never_sends_is_closed_after_the_keep_alive_timeout() {
    let keep_alive = ms(600);
    // Without deferred accept, so the server holds the silent connection from the
    // start (with it, the kernel does; see the next test).
    let running = start(|c| {
        c.keep_alive_timeout = keep_alive;
        c.defer_accept = 0;
    });
    let mut stream = connect(running.addr());
    let connected = Instant::now();
    assert_open_for(&mut stream, keep_alive / 2, "fresh connection");
    let (got, eof) = read_until_eof(&mut stream, keep_alive + SLACK * 2);
    assert!(got.is_empty());
    assert_between(
        eof - connected,
        keep_alive - ms(100),
        keep_alive + SLACK,
        "silent connection closed",
    );
}

/// With deferred accept (the default) the kernel holds a silent connection for the
/// deferral period (1 s: until its first SYN-ACK retransmission is acknowledged),
/// then hands it over; from then on the keep-alive timeout applies as usual. A
/// request sent after that period is served like any other.
#[test]
fn a_silent_connection_under_deferred_accept_is_handed_over_then_timed_out() {
    let keep_alive = ms(600);
    let running = start(|c| {
        c.keep_alive_timeout = keep_alive;
        c.defer_accept = 1;
    });
    let mut silent = connect(running.addr());
    let mut late = Reader::new(connect(running.addr()));
    let connected = Instant::now();
    // Longer than keep-alive: without deferral the server would have closed it.
    assert_open_for(
        &mut silent,
        keep_alive + ms(300),
        "silent, deferred connection",
    );
    thread::sleep(ms(1500).saturating_sub(connected.elapsed()));
    late.send(GET);
    assert_eq!(late.response(false).status, 200);
    let (got, eof) = read_until_eof(&mut silent, ms(6000));
    assert!(got.is_empty());
    assert_between(
        eof - connected,
        keep_alive + ms(900),
        keep_alive + ms(3000) + SLACK,
        "silent connection closed",
    );
}

/// Write pipelined GETs on a non-blocking socket without ever reading, until the
/// connection fails (the server closed it) or `within` passes. Returns the time
/// of the last write that made progress, the time of the failure and bytes written.
fn flood_until_closed(stream: TcpStream, within: Duration) -> (Instant, Option<Instant>, usize) {
    let batch = GET.repeat(2048);
    stream.set_nonblocking(true).unwrap();
    let mut stream = stream;
    let start = Instant::now();
    let mut last_progress = start;
    let mut written = 0;
    while start.elapsed() < within {
        match stream.write(&batch) {
            Ok(n) => {
                written += n;
                last_progress = Instant::now();
            }
            Err(e) if e.kind() == io::ErrorKind::WouldBlock => thread::sleep(ms(2)),
            Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
            Err(_) => return (last_progress, Some(Instant::now()), written),
        }
    }
    (last_progress, None, written)
}

#[test]
fn a_client_that_never_reads_is_closed_by_the_write_timeout() {
    let write_timeout = ms(500);
    let running = start(|c| c.write_timeout = write_timeout);
    let addr = running.addr();
    let stop = Arc::new(AtomicBool::new(false));
    // Meanwhile, another client is served promptly.
    let other = {
        let stop = Arc::clone(&stop);
        thread::spawn(move || {
            let mut served = 0;
            while !stop.load(Ordering::Relaxed) && served < 200 {
                let started = Instant::now();
                let response = roundtrip(addr, GET);
                assert_eq!(response.status, 200);
                let took = started.elapsed();
                assert!(took < ms(1000), "another client waited {took:?}");
                served += 1;
                thread::sleep(ms(50));
            }
            served
        })
    };
    let stream = TcpStream::connect(addr).unwrap();
    let flood_started = Instant::now();
    let (last_progress, failed, written) = flood_until_closed(stream, ms(10_000));
    stop.store(true, Ordering::Relaxed);
    let served = other.join().unwrap();
    let failed = failed.unwrap_or_else(|| {
        panic!("a client that never reads was not closed within 10 s ({written} bytes written)")
    });
    // The server's clock starts at *its* last write progress, which the client
    // cannot see: the kernel buffers keep taking the client's bytes for a while
    // after the server's writes stopped, so the client's own last progress may
    // come later. Hence the lower bound counts from the start of the flood (the
    // server cannot time out before `write_timeout` has passed at all), and the
    // upper bound from the client's last progress (the server stopped writing
    // no later than the client stopped making progress).
    assert!(
        failed - flood_started >= write_timeout,
        "non-reading client closed {:?} after the flood started, before the {write_timeout:?} write timeout",
        failed - flood_started
    );
    assert_between(
        failed - last_progress,
        ms(0),
        write_timeout + SLACK * 2,
        "non-reading client closed",
    );
    assert!(served >= 2, "the other client was served {served} times");
    let summary = running.stop().unwrap();
    assert!(summary.timeouts >= 1, "{summary}");
}

// ---------------------------------------------------------------------------------
// Lingering close ends: observed through the binary's open file descriptors.

#[test]
fn a_lingering_client_that_closes_ends_the_linger_at_once() {
    let server = Serving::start(&["--linger-timeout", "30"], None);
    let (addr, pid) = (server.addr, server.pid());
    assert_eq!(roundtrip(addr, GET).status, 200);
    let mut baseline = open_fds(pid);
    assert!(eventually(ms(3000), || {
        baseline = open_fds(pid);
        thread::sleep(ms(50));
        baseline == open_fds(pid)
    }));
    let mut reader = Reader::new(connect(addr));
    reader.send(b"BAD REQUEST\r\n\r\n");
    assert_eq!(reader.response(false).status, 400);
    assert!(eventually(ms(2000), || open_fds(pid) == baseline + 1));
    reader.stream.shutdown(Shutdown::Write).unwrap();
    assert!(
        eventually(ms(3000), || open_fds(pid) == baseline),
        "the server kept lingering after the client's EOF"
    );
}
