//! Hardening: memory, fairness, connection slots and file descriptors stay bounded
//! whatever clients do.
//!
//! Several tests run the binary so they can watch the server process from outside
//! (`/proc/PID/status`, `/proc/PID/stat`, `/proc/PID/fd`). The tests of this file
//! are heavy and some bound latencies, so they run one at a time.

mod common;

use std::io::{self, Read, Write};
use std::net::{Shutdown, SocketAddr, TcpStream};
use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::{Arc, Barrier, Mutex, MutexGuard};
use std::thread;
use std::time::{Duration, Instant};

use common::{GET, Reader, Serving, connect, eventually, roundtrip, start};
use hello_reactor::reactor::ACCEPTS_PER_TURN;
use socket2::SockRef;

const CLOSE_GET: &[u8] = b"GET / HTTP/1.1\r\nHost: test\r\nConnection: close\r\n\r\n";

fn ms(n: u64) -> Duration {
    Duration::from_millis(n)
}

/// One test of this file at a time.
fn serial() -> MutexGuard<'static, ()> {
    static LOCK: Mutex<()> = Mutex::new(());
    LOCK.lock().unwrap_or_else(|poisoned| poisoned.into_inner())
}

// ---------------------------------------------------------------------------------
// The binary, watched from outside (`common::Serving`, plus what only this file reads).

fn spawn(args: &[&str], nofile: Option<u32>) -> Serving {
    Serving::start_limited(args, Some("info"), nofile)
}

/// SIGTERM, wait for a clean exit, and return everything it logged.
fn terminate(server: Serving) -> String {
    let (status, log) = server.terminate_within(Duration::from_secs(15));
    assert!(status.success(), "exit status {status}");
    log
}

/// Resident memory in bytes.
fn rss(server: &Serving) -> u64 {
    let status = std::fs::read_to_string(proc_path(server.pid(), "status")).unwrap();
    let line = status
        .lines()
        .find(|l| l.starts_with("VmRSS:"))
        .expect("VmRSS in /proc/PID/status");
    let kib: u64 = line.split_whitespace().nth(1).unwrap().parse().unwrap();
    kib * 1024
}

/// CPU time used so far (user + system).
fn cpu_time(server: &Serving) -> Duration {
    let stat = std::fs::read_to_string(proc_path(server.pid(), "stat")).unwrap();
    // Fields after the command name, which is in parentheses: state is field 3,
    // utime field 14, stime field 15.
    let after = &stat[stat.rfind(')').unwrap() + 2..];
    let fields: Vec<&str> = after.split_whitespace().collect();
    let ticks: u64 = fields[11].parse::<u64>().unwrap() + fields[12].parse::<u64>().unwrap();
    Duration::from_secs_f64(ticks as f64 / clock_ticks_per_second())
}

/// The fd count once it stops changing (no client connected).
fn settled_fds(server: &Serving) -> usize {
    let mut count = server.open_fds();
    let settled = eventually(Duration::from_secs(5), || {
        count = server.open_fds();
        thread::sleep(ms(100));
        count == server.open_fds()
    });
    assert!(settled, "the fd count never settled");
    count
}

fn proc_path(pid: u32, what: &str) -> PathBuf {
    Path::new("/proc").join(pid.to_string()).join(what)
}

fn clock_ticks_per_second() -> f64 {
    Command::new("getconf")
        .arg("CLK_TCK")
        .output()
        .ok()
        .and_then(|out| String::from_utf8(out.stdout).ok())
        .and_then(|text| text.trim().parse().ok())
        .unwrap_or(100.0)
}

/// A blocking GET on a new connection with `timeout` for every step.
fn try_get(addr: SocketAddr, timeout: Duration) -> io::Result<u16> {
    let stream = TcpStream::connect_timeout(&addr, timeout)?;
    stream.set_read_timeout(Some(timeout))?;
    stream.set_write_timeout(Some(timeout))?;
    let mut reader = Reader::new(stream);
    reader.stream.write_all(GET)?;
    Ok(reader.try_response(false)?.status)
}

/// Close with a reset: `SO_LINGER` 0, then drop.
fn reset(stream: TcpStream) {
    SockRef::from(&stream)
        .set_linger(Some(Duration::ZERO))
        .unwrap();
    drop(stream);
}

// ---------------------------------------------------------------------------------

/// A client that pipelines without reading stops being read from: the server's
/// memory stays bounded, and other clients are served meanwhile.
#[test]
fn backpressure_bounds_memory_of_a_client_that_never_reads() {
    let _serial = serial();
    let mut server = spawn(&[], None);
    let addr = server.addr;
    for _ in 0..50 {
        assert_eq!(roundtrip(addr, GET).status, 200);
    }
    let rss_before = rss(&server);

    let flooding = Arc::new(AtomicBool::new(true));
    let other = {
        let flooding = Arc::clone(&flooding);
        thread::spawn(move || {
            let mut latencies = Vec::new();
            while flooding.load(Ordering::Relaxed) && latencies.len() < 500 {
                let started = Instant::now();
                let status = try_get(addr, Duration::from_secs(5));
                latencies.push((status.map_err(|e| e.to_string()), started.elapsed()));
                thread::sleep(ms(20));
            }
            latencies
        })
    };

    // Up to 50 MB of pipelined GETs, never reading, until the writes block for 1 s.
    let target = 50 * 1024 * 1024;
    let batch = GET.repeat(2048);
    let mut flood = TcpStream::connect(addr).unwrap();
    flood.set_nonblocking(true).unwrap();
    let started = Instant::now();
    let mut last_progress = Instant::now();
    let mut written = 0usize;
    let mut max_rss = rss_before;
    while written < target
        && last_progress.elapsed() < Duration::from_secs(1)
        && started.elapsed() < Duration::from_secs(20)
    {
        match flood.write(&batch) {
            Ok(n) => {
                written += n;
                last_progress = Instant::now();
            }
            Err(e) if e.kind() == io::ErrorKind::WouldBlock => {
                max_rss = max_rss.max(rss(&server));
                thread::sleep(ms(10));
            }
            Err(e) => panic!("the flooding connection failed: {e}"),
        }
    }
    for _ in 0..5 {
        max_rss = max_rss.max(rss(&server));
        thread::sleep(ms(50));
    }
    flooding.store(false, Ordering::Relaxed);
    let latencies = other.join().unwrap();

    assert!(
        written < target,
        "the server read all {written} bytes from a client that never reads its responses"
    );
    let growth = max_rss.saturating_sub(rss_before);
    assert!(
        growth < 16 * 1024 * 1024,
        "RSS grew by {growth} bytes (from {rss_before}) while a client sent {written} bytes without reading"
    );
    assert!(latencies.len() >= 3, "other client: {latencies:?}");
    for (status, took) in &latencies {
        assert_eq!(status, &Ok(200), "other client: {latencies:?}");
        assert!(
            *took < Duration::from_secs(1),
            "other client waited {took:?}"
        );
    }
    assert!(server.alive());
    drop(flood);
    assert_eq!(roundtrip(addr, GET).status, 200);
}

/// A connection flooding pipelined requests cannot starve a client that asks one
/// request at a time.
#[test]
fn a_flooding_connection_does_not_starve_others() {
    let _serial = serial();
    let running = start(|_| {});
    let addr = running.addr();
    let flood = connect(addr);
    let mut flood_writer = flood.try_clone().unwrap();
    let mut flood_reader = flood.try_clone().unwrap();
    let stop = Arc::new(AtomicBool::new(false));
    let received = Arc::new(AtomicUsize::new(0));

    let writer = {
        let stop = Arc::clone(&stop);
        thread::spawn(move || {
            // Large heads: parsing, not writing responses, is the server's work, so
            // the flood's input never runs dry and it always has more to give.
            let request = format!(
                "GET / HTTP/1.1\r\nHost: test\r\nX-Pad: {}\r\n\r\n",
                "p".repeat(1000)
            );
            let batch = request.repeat(64).into_bytes();
            let started = Instant::now();
            while !stop.load(Ordering::Relaxed) && started.elapsed() < Duration::from_secs(15) {
                if flood_writer.write_all(&batch).is_err() {
                    break;
                }
            }
        })
    };
    let reader = {
        let received = Arc::clone(&received);
        thread::spawn(move || {
            let mut chunk = vec![0u8; 64 * 1024];
            while let Ok(n) = flood_reader.read(&mut chunk) {
                if n == 0 {
                    break;
                }
                received.fetch_add(n, Ordering::Relaxed);
            }
        })
    };
    // The flood is under way before the other client starts.
    assert!(
        eventually(Duration::from_secs(5), || received.load(Ordering::Relaxed)
            > 1 << 20),
        "the flood never got going"
    );
    let before = received.load(Ordering::Relaxed);
    let mut other = Reader::new(connect(addr));
    other
        .stream
        .set_read_timeout(Some(Duration::from_secs(2)))
        .unwrap();
    let mut latencies = Vec::new();
    for i in 0..20 {
        let started = Instant::now();
        other.send(GET);
        let response = other.try_response(false).unwrap_or_else(|e| {
            panic!("request {i} starved behind the flood: {e}; before it: {latencies:?}")
        });
        assert_eq!(response.status, 200);
        latencies.push(started.elapsed());
    }
    let during = received.load(Ordering::Relaxed) - before;

    stop.store(true, Ordering::Relaxed);
    let _ = flood.shutdown(Shutdown::Both);
    writer.join().unwrap();
    reader.join().unwrap();
    let slowest = latencies.iter().max().unwrap();
    assert!(
        *slowest < ms(500),
        "a request waited {slowest:?} behind the flood: {latencies:?}"
    );
    assert!(
        during > 0,
        "the flood was not being served while the other client was"
    );
    running.stop().unwrap();
}

/// A crowd of new clients cannot hold up the connections the server already has:
/// accepting stops after `ACCEPTS_PER_TURN` connections and goes on after the events
/// that are waiting. The binary is stopped (SIGSTOP) while a crowd connects and sends
/// `Connection: close` requests, then an established client sends a request; when the
/// binary resumes, the established client must be answered before the crowd is, and
/// the whole crowd must be answered too.
#[test]
fn a_crowd_of_new_clients_does_not_hold_up_an_established_one() {
    let _serial = serial();
    const CROWD: usize = 1000;
    const _: () = assert!(
        ACCEPTS_PER_TURN * 4 <= CROWD,
        "the crowd is several batches"
    );
    let _ = rlimit::increase_nofile_limit(CROWD as u64 + 200);
    let server = spawn(&["--backlog", "2048"], None);
    let addr = server.addr;
    let mut established = Reader::new(connect(addr));
    established.send(GET);
    assert_eq!(established.response(false).status, 200);

    server.signal("STOP");
    // The kernel completes the handshakes and queues the requests while the server
    // is stopped.
    let crowd: Vec<TcpStream> = (0..CROWD)
        .map(|_| {
            let mut client = TcpStream::connect(addr).unwrap();
            client.write_all(CLOSE_GET).unwrap();
            client.set_nonblocking(true).unwrap();
            client
        })
        .collect();
    established.send(GET);
    thread::sleep(ms(200));
    server.signal("CONT");

    assert_eq!(established.response(false).status, 200);
    let answered_before = crowd
        .iter()
        .filter(|client| client.peek(&mut [0u8; 1]).is_ok_and(|n| n > 0))
        .count();
    // Which events a turn sees first is the kernel's business, so a few batches of
    // ACCEPTS_PER_TURN new clients may come first (128 or 384 were seen); without
    // the budget it is the whole crowd.
    assert!(
        answered_before <= CROWD * 3 / 4,
        "{answered_before} of {CROWD} new clients were answered before the established one"
    );
    for (i, mut client) in crowd.into_iter().enumerate() {
        client.set_nonblocking(false).unwrap();
        client
            .set_read_timeout(Some(Duration::from_secs(10)))
            .unwrap();
        let mut response = Vec::new();
        client.read_to_end(&mut response).unwrap();
        assert!(
            response.starts_with(b"HTTP/1.1 200 OK"),
            "client {i} of the crowd got {:?}",
            String::from_utf8_lossy(&response)
        );
    }
}

/// At the connection cap, a new client waits in the backlog (not refused, not
/// dropped) and is served as soon as a slot frees.
#[test]
fn the_connection_cap_queues_new_clients_until_a_slot_frees() {
    let _serial = serial();
    let running = start(|c| c.max_connections = Some(2));
    let addr = running.addr();
    let mut first = Reader::new(connect(addr));
    let mut second = Reader::new(connect(addr));
    for client in [&mut first, &mut second] {
        client.send(GET);
        assert_eq!(client.response(false).status, 200);
    }
    // The third connects (the kernel completes the handshake) and asks.
    let mut third = Reader::new(TcpStream::connect(addr).expect("not refused at the cap"));
    third.send(GET);
    third.stream.set_read_timeout(Some(ms(300))).unwrap();
    let mut byte = [0u8; 1];
    match third.stream.read(&mut byte) {
        Err(e)
            if matches!(
                e.kind(),
                io::ErrorKind::WouldBlock | io::ErrorKind::TimedOut
            ) => {}
        Ok(0) => panic!("the third client was dropped at the cap"),
        Ok(_) => panic!("the third client was answered while two connections were open"),
        Err(e) => panic!("the third client failed at the cap: {e}"),
    }
    // The first two still work.
    second.send(GET);
    assert_eq!(second.response(false).status, 200);
    drop(first);
    third
        .stream
        .set_read_timeout(Some(Duration::from_secs(5)))
        .unwrap();
    let response = third
        .try_response(false)
        .expect("the third client is answered once a slot frees");
    assert_eq!(response.status, 200);
    let summary = running.stop().unwrap();
    assert_eq!(summary.connections, 3, "{summary}");
}

/// Out of file descriptors: accepts pause (with a warning) instead of spinning, the
/// process survives, and every client is served in the end.
#[test]
fn fd_exhaustion_pauses_accepts_without_spinning() {
    let _serial = serial();
    const CLIENTS: usize = 300;
    // A cap far above the fd limit, so accept itself runs out of descriptors.
    // No deferred accept: the clients below connect and stay silent on purpose, and
    // the server must accept them (and run out of descriptors) while they do.
    let mut server = spawn(
        &["--max-connections", "1000", "--defer-accept", "0"],
        Some(64),
    );
    let addr = server.addr;
    assert_eq!(roundtrip(addr, GET).status, 200);
    let cpu_before = cpu_time(&server);
    let started = Instant::now();
    let deadline = started + Duration::from_secs(30);

    // Every client connects first: the server accepts until it runs out of
    // descriptors, the rest wait in the backlog. All hold their connections, idle,
    // for a second (the server is out of descriptors the whole time: it must sleep,
    // not spin), then all send their GET together.
    let connected = Arc::new(Barrier::new(CLIENTS + 1));
    let go = Arc::new(Barrier::new(CLIENTS + 1));
    let retries = Arc::new(AtomicUsize::new(0));
    let clients: Vec<_> = (0..CLIENTS)
        .map(|_| {
            let connected = Arc::clone(&connected);
            let go = Arc::clone(&go);
            let retries = Arc::clone(&retries);
            thread::Builder::new()
                .stack_size(256 * 1024)
                .spawn(move || {
                    let first = TcpStream::connect_timeout(&addr, Duration::from_secs(10));
                    connected.wait();
                    go.wait();
                    let mut attempt = first.map(Reader::new);
                    let mut last_error = String::new();
                    while Instant::now() < deadline {
                        match attempt.and_then(|mut reader| {
                            reader
                                .stream
                                .set_read_timeout(Some(Duration::from_secs(10)))?;
                            reader.stream.write_all(GET)?;
                            Ok(reader.try_response(false)?.status)
                        }) {
                            Ok(status) => return Ok(status),
                            Err(e) => last_error = e.to_string(),
                        }
                        retries.fetch_add(1, Ordering::Relaxed);
                        thread::sleep(ms(100));
                        attempt = TcpStream::connect_timeout(&addr, Duration::from_secs(5))
                            .map(Reader::new);
                    }
                    Err(last_error)
                })
                .unwrap()
        })
        .collect();
    connected.wait();
    let hold_cpu_before = cpu_time(&server);
    let hold_started = Instant::now();
    thread::sleep(Duration::from_secs(1));
    let hold_cpu = cpu_time(&server).saturating_sub(hold_cpu_before);
    let hold = hold_started.elapsed();
    let open_while_held = server.open_fds();
    go.wait();
    let results: Vec<Result<u16, String>> =
        clients.into_iter().map(|c| c.join().unwrap()).collect();
    let wall = started.elapsed();
    let cpu = cpu_time(&server).saturating_sub(cpu_before);

    assert!(server.alive(), "the server died out of file descriptors");
    assert!(
        open_while_held >= 60,
        "only {open_while_held} fds open while {CLIENTS} clients waited: the limit was not reached"
    );
    let failed: Vec<_> = results.iter().filter(|r| r != &&Ok(200)).collect();
    assert!(
        failed.is_empty(),
        "{} of {CLIENTS} clients were not served: {:?}",
        failed.len(),
        &failed[..failed.len().min(5)]
    );
    assert!(
        hold_cpu.as_secs_f64() < hold.as_secs_f64() * 0.5,
        "out of descriptors, the server used {hold_cpu:?} of CPU in {hold:?}: busy-looping on accept errors?"
    );
    assert!(
        cpu.as_secs_f64() < wall.as_secs_f64() * 0.5,
        "the server used {cpu:?} of CPU in {wall:?}"
    );
    // Served again once the clients are gone.
    assert_eq!(roundtrip(addr, GET).status, 200);
    let log = terminate(server);
    let warning = log
        .lines()
        .find(|l| l.contains("WARN") && l.contains("accept: ") && l.contains("os error 24"))
        .unwrap_or_else(|| panic!("no warning about the accept error (EMFILE) in:\n{log}"));
    assert!(warning.contains("pausing accepts"), "{warning}");
    // The back-off bounds how often accept fails: at most once per 100 ms pause.
    let exhaustions = summary_count(&log, "accept fd exhaustions");
    let most = wall.as_millis() as u64 / 50 + 5;
    assert!(
        (1..=most).contains(&exhaustions),
        "{exhaustions} accept fd exhaustions in {wall:?} (retries {})\n{log}",
        retries.load(Ordering::Relaxed)
    );
    let served = summary_count(&log, "requests");
    assert!(served > CLIENTS as u64, "{log}");
}

/// The number before `what` in the shutdown summary line (`stopped: ...`).
fn summary_count(log: &str, what: &str) -> u64 {
    let line = log
        .lines()
        .find(|l| l.contains("stopped: "))
        .unwrap_or_else(|| panic!("no summary line in:\n{log}"));
    let before = &line[..line
        .find(what)
        .unwrap_or_else(|| panic!("no {what:?} in {line:?}"))];
    before
        .trim_end()
        .rsplit([' ', ','])
        .next()
        .and_then(|n| n.parse().ok())
        .unwrap_or_else(|| panic!("no count before {what:?} in {line:?}"))
}

/// Clients that vanish mid-request or mid-response (resets, half-closes) leave no
/// connection behind: the server's open fds return to their baseline long before
/// any timeout could have closed them.
#[test]
fn abrupt_clients_leave_no_connection_behind() {
    let _serial = serial();
    // A 1 MiB body, so a response is still being written when its client resets.
    let body_path = std::env::temp_dir().join(format!("hello-reactor-body-{}", std::process::id()));
    std::fs::write(&body_path, vec![b'z'; 1024 * 1024]).unwrap();
    let long = "60";
    let server = spawn(
        &[
            "--body-file",
            body_path.to_str().unwrap(),
            "--header-timeout",
            long,
            "--body-timeout",
            long,
            "--write-timeout",
            long,
            "--keep-alive-timeout",
            long,
            "--linger-timeout",
            long,
        ],
        None,
    );
    let addr = server.addr;
    let warm = roundtrip(addr, GET);
    assert_eq!((warm.status, warm.body.len()), (200, 1024 * 1024));
    let baseline = settled_fds(&server);

    let workers: Vec<_> = (0..4)
        .map(|worker| {
            thread::spawn(move || {
                for i in 0..50 {
                    abrupt_client(addr, (worker * 50 + i) % 6);
                }
            })
        })
        .collect();
    for worker in workers {
        worker.join().unwrap();
    }
    let mut open = 0;
    let back = eventually(Duration::from_secs(5), || {
        open = server.open_fds();
        open == baseline
    });
    assert!(
        back,
        "{} connections still open 5 s after 200 abrupt clients left",
        open.saturating_sub(baseline)
    );
    let again = roundtrip(addr, GET);
    assert_eq!(again.status, 200);
    let log = terminate(server);
    std::fs::remove_file(&body_path).unwrap();
    assert!(summary_count(&log, "connections") >= 201, "{log}");
    // Resets by these clients are theirs to make: counted as such, not as errors.
    assert!(summary_count(&log, "resets by peer") > 0, "{log}");
    assert_eq!(summary_count(&log, "I/O errors"), 0, "{log}");
}

/// At the connection cap with clients waiting in the backlog, one WARN line says so
/// at the default log level (no RUST_LOG), and no more than one per 10 s.
#[test]
fn waiting_at_the_connection_cap_is_warned_about_once() {
    let _serial = serial();
    let server = common::Serving::start(&["--max-connections", "1"], None);
    let addr = server.addr;
    let mut first = Reader::new(connect(addr));
    first.send(GET);
    assert_eq!(first.response(false).status, 200);
    // Three more clients wait in the backlog, one after another.
    let waiting: Vec<Reader> = (0..3)
        .map(|_| {
            let mut client = Reader::new(connect(addr));
            client.send(GET);
            thread::sleep(ms(100));
            client
        })
        .collect();
    drop(first);
    for mut client in waiting {
        assert_eq!(client.response(false).status, 200);
        drop(client); // frees the slot for the next one
    }
    let (status, log) = server.terminate();
    assert!(status.success(), "{log}");
    let warnings: Vec<&str> = log
        .lines()
        .filter(|l| l.contains("at the connection cap"))
        .collect();
    assert_eq!(warnings.len(), 1, "{log}");
    assert!(warnings[0].contains("WARN"), "{log}");
}

fn abrupt_client(addr: SocketAddr, kind: usize) {
    let mut stream = connect(addr);
    match kind {
        // Half a request head, then a reset.
        0 => {
            stream.write_all(b"GET / HTTP/1.1\r\nHo").unwrap();
            thread::sleep(ms(2));
            reset(stream);
        }
        // A head and part of its body, then a reset.
        1 => {
            stream
                .write_all(b"POST / HTTP/1.1\r\nHost: t\r\nContent-Length: 1000\r\n\r\n")
                .unwrap();
            stream.write_all(&[b'b'; 300]).unwrap();
            thread::sleep(ms(2));
            reset(stream);
        }
        // A full request, part of the response read, then a reset.
        2 => {
            stream.write_all(GET).unwrap();
            let mut some = [0u8; 1000];
            stream.read_exact(&mut some).unwrap();
            reset(stream);
        }
        // A full request, then a reset at once, mid-response.
        3 => {
            stream.write_all(GET).unwrap();
            reset(stream);
        }
        // Many pipelined requests, a little read, then a reset.
        4 => {
            stream.write_all(&GET.repeat(50)).unwrap();
            let mut some = [0u8; 10_000];
            stream.read_exact(&mut some).unwrap();
            reset(stream);
        }
        // Half a request, then a normal half-close and close.
        _ => {
            stream.write_all(b"GET / HTTP/1.1\r\nHost: t\r\n").unwrap();
            stream.shutdown(Shutdown::Write).unwrap();
            drop(stream);
        }
    }
}

/// A client that half-closes right after its request (as `nc -N` does) gets its
/// answer and then the server's EOF at once, not after the keep-alive timeout.
#[test]
fn a_half_closing_client_gets_its_answer_and_eof_promptly() {
    let _serial = serial();
    let running = start(|c| c.keep_alive_timeout = Duration::from_secs(60));
    let addr = running.addr();
    // Whether the FIN lands before the server's read is a race: try it many times.
    for i in 0..50 {
        let mut reader = Reader::new(connect(addr));
        reader.send(GET);
        reader.stream.shutdown(Shutdown::Write).unwrap();
        let started = Instant::now();
        reader
            .stream
            .set_read_timeout(Some(Duration::from_secs(2)))
            .unwrap();
        let response = reader.try_response(false).expect("an answer");
        assert_eq!(response.status, 200);
        let rest = reader.read_to_close().unwrap_or_else(|e| {
            panic!(
                "client {i}: no EOF {:?} after its half-close: {e}",
                started.elapsed()
            )
        });
        assert!(rest.is_empty());
    }
    let summary = running.stop().unwrap();
    assert_eq!(summary.timeouts, 0, "{summary}");
}
