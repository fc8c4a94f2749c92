//! Hardening: graceful shutdown, in-process (`ServerHandle::shutdown`) and through
//! signals to the binary.
//!
//! Shutdown closes the listener at once (new clients are refused), closes idle
//! connections, lets requests in flight finish with `Connection: close`, and exits
//! when the last connection is gone or `shutdown_timeout` has passed, whichever
//! comes first. A second SIGTERM stops at once.

mod common;

use std::io;
use std::net::{SocketAddr, TcpStream};
use std::sync::mpsc::{self, Receiver, RecvTimeoutError};
use std::thread;
use std::time::{Duration, Instant};

use common::{GET, Reader, Serving, connect, eventually, read_until_eof, start};
use hello_reactor::{Config, Running, Summary};

fn ms(n: u64) -> Duration {
    Duration::from_millis(n)
}

/// A POST whose head and first half of the body are sent; the rest is [`REST`].
const HALF: &[u8] = b"POST / HTTP/1.1\r\nHost: test\r\nContent-Length: 10\r\n\r\n01234";
const REST: &[u8] = b"56789";

/// Connect is refused (the listener is closed) within `within`.
fn refused_within(addr: SocketAddr, within: Duration) -> bool {
    eventually(
        within,
        || matches!(TcpStream::connect(addr), Err(e) if e.kind() == io::ErrorKind::ConnectionRefused),
    )
}

/// Read until EOF within `within`: the bytes received before it. Panics on a reset
/// or when no EOF comes.
fn read_to_eof(stream: &mut TcpStream, within: Duration) -> Vec<u8> {
    read_until_eof(stream, within).0
}

/// The server thread's exit, watched from another thread so waiting is bounded.
struct Exit {
    rx: Receiver<io::Result<Summary>>,
}

impl Exit {
    fn watch(mut running: Running) -> Exit {
        let (tx, rx) = mpsc::channel();
        thread::spawn(move || {
            let _ = tx.send(running.join());
        });
        Exit { rx }
    }

    /// The server is still running `for_at_least` from now.
    fn assert_running(&self, for_at_least: Duration) {
        match self.rx.recv_timeout(for_at_least) {
            Err(RecvTimeoutError::Timeout) => {}
            Ok(result) => panic!("the server exited early: {result:?}"),
            Err(e) => panic!("{e}"),
        }
    }

    /// The summary, once the server exits within `within`.
    fn summary_within(self, within: Duration) -> Summary {
        self.rx
            .recv_timeout(within)
            .unwrap_or_else(|e| panic!("the server did not exit within {within:?}: {e}"))
            .expect("the loop returned an error")
    }
}

/// The fixture for a drain in progress: a server tuned by `tune` (always with a
/// long shutdown timeout), one request in flight (its head and half its body sent),
/// then a graceful shutdown, which must not end the server while the request waits.
fn draining_with_a_request_in_flight(tune: impl FnOnce(&mut Config)) -> (Reader, Exit) {
    let running = start(|c| {
        c.shutdown_timeout = Duration::from_secs(30);
        tune(c);
    });
    let mut busy = Reader::new(connect(running.addr()));
    busy.send(HALF);
    thread::sleep(ms(100));
    running.handle().shutdown().unwrap();
    let exit = Exit::watch(running);
    exit.assert_running(ms(100));
    (busy, exit)
}

/// Send the rest of the in-flight request's body: it is answered with a full 200 that
/// says `Connection: close`, and then the server half-closes (EOF, nothing more).
fn finish_in_flight(busy: &mut Reader) {
    busy.send(REST);
    let response = busy.response(false);
    assert_eq!(response.status, 200);
    assert_eq!(response.body_text(), "Hello, World!");
    assert_eq!(response.header("Connection"), Some("close"));
    assert!(read_to_eof(&mut busy.stream, ms(2000)).is_empty());
}

// ---------------------------------------------------------------------------------
// In-process.

#[test]
fn new_connections_are_refused_once_shutdown_begins() {
    let running = start(|_| {});
    let addr = running.addr();
    // A request in flight keeps the server draining (not exited) while we knock.
    let mut busy = Reader::new(connect(addr));
    busy.send(HALF);
    assert!(
        eventually(ms(2000), || TcpStream::connect(addr).is_ok()),
        "not listening"
    );
    thread::sleep(ms(100));
    running.handle().shutdown().unwrap();
    let exit = Exit::watch(running);
    assert!(
        refused_within(addr, ms(2000)),
        "connections were still accepted 2 s after shutdown began"
    );
    exit.assert_running(ms(200));
    // Still serving the request it already had.
    finish_in_flight(&mut busy);
    // The server drains what the client might still send (lingering close) until
    // the client closes too, as a client does on EOF; then it is done.
    drop(busy);
    let summary = exit.summary_within(ms(3000));
    // Knocks that came before the loop saw the request to shut down may have been
    // accepted too; they sent nothing.
    assert!(summary.connections >= 2, "{summary}");
    assert_eq!(
        (summary.requests, summary.responses_with(200)),
        (1, 1),
        "{summary}"
    );
}

#[test]
fn idle_keep_alive_connections_are_closed_at_shutdown() {
    // No deferred accept: the silent client below must be a connection the server
    // accepted, not one the kernel still holds for want of data.
    let running = start(|c| {
        c.shutdown_timeout = Duration::from_secs(30);
        c.defer_accept = 0;
    });
    let addr = running.addr();
    let mut idle: Vec<Reader> = (0..3).map(|_| Reader::new(connect(addr))).collect();
    for client in &mut idle {
        client.send(GET);
        assert_eq!(client.response(false).status, 200);
    }
    // And one that never sent anything.
    let mut silent = connect(addr);
    thread::sleep(ms(100));
    let began = Instant::now();
    running.handle().shutdown().unwrap();
    for client in &mut idle {
        assert!(read_to_eof(&mut client.stream, ms(2000)).is_empty());
    }
    assert!(read_to_eof(&mut silent, ms(2000)).is_empty());
    // Nothing was in flight: the server exits without waiting for its 30 s timeout.
    let summary = Exit::watch(running).summary_within(ms(3000));
    assert!(began.elapsed() < Duration::from_secs(5));
    assert_eq!((summary.connections, summary.requests), (4, 3), "{summary}");
}

#[test]
fn an_in_flight_request_finishes_then_the_server_exits() {
    let running = start(|c| c.shutdown_timeout = Duration::from_secs(30));
    let addr = running.addr();
    let mut busy = Reader::new(connect(addr));
    busy.send(HALF);
    let mut idle = Reader::new(connect(addr));
    idle.send(GET);
    assert_eq!(idle.response(false).status, 200);
    running.handle().shutdown().unwrap();
    let exit = Exit::watch(running);
    assert!(read_to_eof(&mut idle.stream, ms(2000)).is_empty());
    // The request is waited for, not cut off.
    exit.assert_running(ms(300));
    finish_in_flight(&mut busy);
    drop(busy);
    let summary = exit.summary_within(ms(3000));
    assert_eq!(summary.responses_with(200), 2, "{summary}");
    assert_eq!(summary.timeouts, 0, "{summary}");
}

#[test]
fn pipelined_requests_after_shutdown_get_one_answer_with_connection_close() {
    let (mut busy, exit) = draining_with_a_request_in_flight(|_| {});
    // The body completes with another request behind it: only the first is answered.
    let mut rest = REST.to_vec();
    rest.extend_from_slice(GET);
    busy.send(&rest);
    let response = busy.response(false);
    assert_eq!(response.status, 200);
    assert_eq!(response.header("Connection"), Some("close"));
    assert!(read_to_eof(&mut busy.stream, ms(2000)).is_empty());
    // The server drains the unanswered request (lingering close) until the client
    // closes too; then nothing is left and it exits.
    drop(busy);
    let summary = exit.summary_within(ms(3000));
    assert_eq!(summary.responses_with(200), 1, "{summary}");
}

#[test]
fn a_client_that_keeps_its_socket_open_delays_exit_only_by_the_linger_timeout() {
    let linger = ms(500);
    let (mut busy, exit) = draining_with_a_request_in_flight(|c| c.linger_timeout = linger);
    busy.send(REST);
    assert_eq!(busy.response(false).status, 200);
    let answered = Instant::now();
    assert!(read_to_eof(&mut busy.stream, ms(2000)).is_empty());
    // The client neither closes nor sends: the drain ends with the linger timeout,
    // long before the shutdown timeout.
    let summary = exit.summary_within(Duration::from_secs(5));
    let took = answered.elapsed();
    assert!(
        took >= linger - ms(100) && took <= linger + ms(1500),
        "exited {took:?} after the last response, expected about {linger:?}"
    );
    assert_eq!(summary.responses_with(200), 1, "{summary}");
    drop(busy);
}

#[test]
fn the_shutdown_timeout_cuts_off_a_stuck_request() {
    let shutdown_timeout = ms(500);
    let running = start(|c| {
        c.shutdown_timeout = shutdown_timeout;
        c.body_timeout = Duration::from_secs(30);
    });
    let addr = running.addr();
    let mut stuck = Reader::new(connect(addr));
    stuck.send(HALF);
    thread::sleep(ms(100));
    let began = Instant::now();
    running.handle().shutdown().unwrap();
    let summary = Exit::watch(running).summary_within(Duration::from_secs(5));
    let took = began.elapsed();
    assert!(
        took >= shutdown_timeout - ms(100) && took <= shutdown_timeout + ms(1500),
        "exited {took:?} after shutdown began, expected about {shutdown_timeout:?}"
    );
    assert_eq!(summary.responses_with(200), 0, "{summary}");
    // The stuck client is let go.
    read_to_eof(&mut stuck.stream, ms(2000));
}

// ---------------------------------------------------------------------------------
// The binary and its signals.

#[test]
fn sigterm_drains_gracefully_and_logs_a_summary() {
    let mut server = Serving::start(&["--shutdown-timeout", "30"], Some("info"));
    let addr = server.addr;
    let mut idle = Reader::new(connect(addr));
    for _ in 0..2 {
        idle.send(GET);
        assert_eq!(idle.response(false).status, 200);
    }
    let mut busy = Reader::new(connect(addr));
    busy.send(HALF);
    thread::sleep(ms(100));
    server.signal("TERM");
    assert!(
        refused_within(addr, ms(2000)),
        "still accepting 2 s after SIGTERM"
    );
    assert!(read_to_eof(&mut idle.stream, ms(2000)).is_empty());
    thread::sleep(ms(200));
    assert!(server.alive(), "exited with a request in flight");
    finish_in_flight(&mut busy);
    drop(busy);
    let (status, log) = server.wait(Duration::from_secs(5));
    assert!(status.success(), "exit status {status}");
    assert!(log.contains("SIGTERM"), "{log}");
    // 2 connections (and maybe knocks accepted before the signal was handled);
    // 3 request heads, the POST counting once its head was read; 3 answers.
    let (connections, requests, ok) = summary_line(&log);
    assert!(connections >= 2, "{log}");
    assert_eq!((requests, ok), (3, 3), "{log}");
}

/// `(connections, requests, 200 responses)` from the `stopped: ...` info line.
fn summary_line(log: &str) -> (u64, u64, u64) {
    let line = log
        .lines()
        .find(|l| l.contains("INFO") && l.contains("stopped: "))
        .unwrap_or_else(|| panic!("no summary line in:\n{log}"));
    let text = &line[line.find("stopped: ").unwrap() + "stopped: ".len()..];
    let number_before = |what: &str| -> u64 {
        let end = text
            .find(what)
            .unwrap_or_else(|| panic!("no {what:?} in {line:?}"));
        text[..end]
            .trim_end()
            .rsplit([' ', ','])
            .next()
            .and_then(|n| n.parse().ok())
            .unwrap_or_else(|| panic!("no count before {what:?} in {line:?}"))
    };
    let ok = text
        .split_whitespace()
        .find_map(|word| word.trim_end_matches(',').strip_prefix("200="))
        .map_or(0, |n| n.parse().unwrap());
    (
        number_before(" connections"),
        number_before(" requests"),
        ok,
    )
}

#[test]
fn a_second_sigterm_exits_at_once() {
    let mut server = Serving::start(&["--shutdown-timeout", "60"], Some("info"));
    let addr = server.addr;
    let mut stuck = Reader::new(connect(addr));
    stuck.send(HALF);
    thread::sleep(ms(100));
    server.signal("TERM");
    assert!(refused_within(addr, ms(2000)));
    thread::sleep(ms(300));
    assert!(
        server.alive(),
        "exited on the first SIGTERM with a request in flight"
    );
    let second = Instant::now();
    server.signal("TERM");
    let (status, log) = server.wait(Duration::from_secs(5));
    assert!(status.success(), "exit status {status}");
    assert!(
        second.elapsed() < Duration::from_secs(2),
        "the second SIGTERM took {:?}",
        second.elapsed()
    );
    read_to_eof(&mut stuck.stream, ms(2000));
    assert!(log.contains("again: stopping now"), "{log}");
    let (connections, requests, ok) = summary_line(&log);
    assert!(connections >= 1, "{log}");
    assert_eq!((requests, ok), (1, 0), "{log}");
}

#[test]
fn sigterm_with_a_stuck_request_exits_after_the_shutdown_timeout() {
    let mut server = Serving::start(&["--shutdown-timeout", "0.5"], Some("info"));
    let addr = server.addr;
    let mut stuck = Reader::new(connect(addr));
    stuck.send(HALF);
    thread::sleep(ms(100));
    let began = Instant::now();
    server.signal("TERM");
    let (status, log) = server.wait(Duration::from_secs(5));
    let took = began.elapsed();
    assert!(status.success(), "exit status {status}");
    assert!(
        took >= ms(400) && took <= ms(2000),
        "exited {took:?} after SIGTERM with --shutdown-timeout 0.5"
    );
    read_to_eof(&mut stuck.stream, ms(2000));
    let (_, requests, ok) = summary_line(&log);
    assert_eq!((requests, ok), (1, 0), "{log}");
    // The cut-off is said twice: a WARN when it happens, and in the summary.
    assert!(
        log.lines()
            .any(|l| l.contains("WARN") && l.contains("cutting off 1 connections")),
        "{log}"
    );
    let summary = log.lines().find(|l| l.contains("stopped: ")).unwrap();
    assert!(summary.ends_with(", 1 cut off at shutdown"), "{summary}");
}
