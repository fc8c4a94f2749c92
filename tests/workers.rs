//! `--workers N|auto`: N reactors in one process, over real sockets.
//!
//! Every worker must get connections (the kernel spreads them over per-worker
//! sockets), the port must still be checked, a signal must drain all workers
//! together, the connection cap is the process's, and the reports are totals.
//! Shares are checked loosely (each worker did some work): the machine is noisy.

mod common;

use std::io::{Read, Write};
use std::net::{SocketAddr, TcpListener, TcpStream};
use std::process::Stdio;
use std::thread;
use std::time::Duration;

#[cfg(target_os = "linux")]
use common::threads::{is_worker, policies, worker_cpu_lists};
use common::threads::{thread_names, worker_threads};
use common::{
    GET, PROMPTLY, Reader, Serving, binary, connect, eventually, read_until_eof, roundtrip,
    run_bounded, stats_lines_after_traffic, wait_exit,
};
use hello_reactor::{Config, ListenerMode, Workers};

const CLOSE: &[u8] = b"GET / HTTP/1.1\r\nHost: test\r\nConnection: close\r\n\r\n";
/// A POST whose head and half its body are sent; the rest is [`REST`].
const HALF: &[u8] = b"POST / HTTP/1.1\r\nHost: test\r\nContent-Length: 10\r\n\r\n01234";
const REST: &[u8] = b"56789";

fn ms(n: u64) -> Duration {
    Duration::from_millis(n)
}

/// The number right before `what` in `text` (`"12 requests"` -> 12).
fn number_before(text: &str, what: &str) -> u64 {
    let end = text
        .find(what)
        .unwrap_or_else(|| panic!("no {what:?} in {text:?}"));
    text[..end]
        .trim_end()
        .rsplit([' ', ',', '='])
        .next()
        .and_then(|n| n.parse().ok())
        .unwrap_or_else(|| panic!("no count before {what:?} in {text:?}"))
}

/// The process's `stopped: ...` info line; exactly one.
fn stopped_line(log: &str) -> &str {
    let lines: Vec<&str> = log
        .lines()
        .filter(|l| l.contains("INFO") && l.contains("stopped: "))
        .collect();
    assert_eq!(lines.len(), 1, "one total summary line expected:\n{log}");
    lines[0]
}

/// Requests per worker from the debug line `requests per worker: w0 12, w1 9, ...`.
fn requests_per_worker(log: &str) -> Vec<u64> {
    let line = log
        .lines()
        .find(|l| l.contains("requests per worker: "))
        .unwrap_or_else(|| panic!("no per-worker line in:\n{log}"));
    let list = &line[line.find("requests per worker: ").unwrap() + 21..];
    list.split(", ")
        .map(|item| item.split(' ').nth(1).unwrap().parse().unwrap())
        .collect()
}

/// `count` connections in batches of `batch`: each sends `request` and reads one
/// response, which must be a 200.
fn one_request_each(addr: SocketAddr, count: usize, batch: usize, request: &[u8]) {
    for _ in 0..count / batch {
        let mut readers: Vec<Reader> = (0..batch).map(|_| Reader::new(connect(addr))).collect();
        for reader in &mut readers {
            reader.send(request);
        }
        for reader in &mut readers {
            assert_eq!(reader.response(false).status, 200);
        }
    }
}

#[test]
fn four_workers_answer_2000_connections_and_each_serves_a_share() {
    let mut server = Serving::start(
        &["--workers", "4"],
        Some("info,hello_reactor::process=debug"),
    );
    let addr = server.addr;
    assert!(
        eventually(PROMPTLY, || worker_threads(server.pid()) == 4),
        "{:?}",
        thread_names(server.pid())
    );
    // 2,000 connections, one request each, 200 open at a time.
    one_request_each(addr, 2000, 200, GET);
    // Sustained: 40 keep-alive connections, 50 requests each, from 4 threads.
    let clients: Vec<_> = (0..4)
        .map(|_| {
            thread::spawn(move || {
                let mut readers: Vec<Reader> =
                    (0..10).map(|_| Reader::new(connect(addr))).collect();
                for _ in 0..50 {
                    for reader in &mut readers {
                        reader.send(GET);
                    }
                    for reader in &mut readers {
                        assert_eq!(reader.response(false).status, 200);
                    }
                }
            })
        })
        .collect();
    for client in clients {
        client.join().unwrap();
    }
    server.signal("TERM");
    let (status, log) = server.wait(PROMPTLY);
    assert!(status.success(), "{log}");
    let line = stopped_line(&log);
    assert_eq!(number_before(line, " connections"), 2040, "{line}");
    assert_eq!(number_before(line, " requests"), 4000, "{line}");
    assert_eq!(number_before(line, ", 0 timeouts"), 4000, "200= {line}");
    let shares = requests_per_worker(&log);
    assert_eq!(shares.len(), 4, "{log}");
    assert_eq!(shares.iter().sum::<u64>(), 4000, "{shares:?}");
    // A fair share is 1,000; ask only for a quarter of it.
    assert!(
        shares.iter().all(|&n| n >= 250),
        "a worker was left out: {shares:?}"
    );
}

#[test]
fn the_port_is_checked_against_a_plain_listener_and_another_server() {
    // A plain listener holds the port.
    let plain = TcpListener::bind("127.0.0.1:0").unwrap();
    let taken = plain.local_addr().unwrap().to_string();
    assert_refused(&taken, &["--workers", "2"]);
    drop(plain);

    // Another hello-reactor with workers holds it; a second one, with or without
    // workers, must not join its SO_REUSEPORT group.
    let first = Serving::start(&["--workers", "2"], None);
    let taken = first.addr.to_string();
    assert_refused(&taken, &["--workers", "2"]);
    assert_refused(&taken, &["--workers", "1"]);
    // The first serves every new connection: none went to a short-lived intruder.
    one_request_each(first.addr, 100, 50, CLOSE);
    let (status, log) = first.terminate();
    assert!(status.success(), "{log}");
}

/// `hello-reactor --bind addr args` exits 1 with one line naming the address.
fn assert_refused(addr: &str, args: &[&str]) {
    let out = run_bounded(
        binary()
            .args(["--bind", addr])
            .args(args)
            .env_remove("RUST_LOG"),
        PROMPTLY,
    );
    let (status, stdout, stderr) = (
        out.status,
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr),
    );
    assert_eq!(status.code(), Some(1), "{args:?}: {stderr}");
    assert_eq!(stderr.trim_end().lines().count(), 1, "{args:?}: {stderr}");
    assert!(
        stderr.starts_with(&format!(
            "hello-reactor: cannot listen on {addr}: Address already in use (os error "
        )),
        "{args:?}: {stderr}"
    );
    assert!(!stdout.contains("Serving HTTP"), "{stdout}");
}

#[test]
fn sigterm_drains_all_workers_together() {
    let mut server = Serving::start(
        &["--workers", "4", "--shutdown-timeout", "10"],
        Some("info"),
    );
    let addr = server.addr;
    // 24 requests in flight (hashed over the 4 workers), 24 idle connections.
    let mut busy: Vec<Reader> = (0..24).map(|_| Reader::new(connect(addr))).collect();
    for reader in &mut busy {
        reader.send(HALF);
    }
    let mut idle: Vec<Reader> = (0..24).map(|_| Reader::new(connect(addr))).collect();
    for reader in &mut idle {
        reader.send(GET);
        assert_eq!(reader.response(false).status, 200);
    }
    thread::sleep(ms(100)); // the halves have arrived
    server.signal("TERM");
    // Idle connections are closed at once, on every worker.
    for reader in &mut idle {
        let (rest, _) = read_until_eof(&mut reader.stream, PROMPTLY);
        assert!(rest.is_empty(), "{:?}", String::from_utf8_lossy(&rest));
    }
    // The server waits for the requests in flight.
    assert!(server.alive(), "exited early");
    // Each is closed once answered (dropped: the server lingers until the client
    // closes too).
    for mut reader in busy {
        reader.send(REST);
        let response = reader.response(false);
        assert_eq!(response.status, 200);
        assert_eq!(response.header("Connection"), Some("close"));
        assert!(reader.read_to_close().unwrap().is_empty());
    }
    let (status, log) = server.wait(Duration::from_secs(15));
    eprintln!("{log}");
    assert!(status.success(), "{log}");
    let line = stopped_line(&log);
    assert_eq!(number_before(line, " connections"), 48, "{line}");
    assert_eq!(number_before(line, " requests"), 48, "{line}");
    assert_eq!(number_before(line, ", 0 timeouts"), 48, "200= {line}");
}

#[test]
fn max_connections_is_the_process_total() {
    let server = Serving::start(&["--workers", "4", "--max-connections", "8"], None);
    let addr = server.addr;
    // 24 clients, each with its request sent; the server holds at most 8 at a time.
    let mut pending: Vec<TcpStream> = (0..24)
        .map(|_| {
            let mut stream = connect(addr);
            stream.write_all(GET).unwrap();
            stream.set_nonblocking(true).unwrap();
            stream
        })
        .collect();
    let mut most_at_once = 0;
    for _ in 0..50 {
        if pending.is_empty() {
            break;
        }
        thread::sleep(ms(200));
        // Answered clients stay open (keep-alive) until counted, so each one holds
        // a slot at the server while the others are checked.
        let (answered, waiting): (Vec<TcpStream>, Vec<TcpStream>) =
            pending.into_iter().partition(|stream| {
                let mut buf = [0u8; 512];
                match (&*stream).read(&mut buf) {
                    Ok(n) if n > 0 => {
                        assert!(buf.starts_with(b"HTTP/1.1 200 OK\r\n"));
                        true
                    }
                    Err(e) if common::is_timeout(&e) => false,
                    other => panic!("unexpected {other:?}"),
                }
            });
        assert!(
            answered.len() <= 8,
            "{} connections open at once with --max-connections 8",
            answered.len()
        );
        most_at_once = most_at_once.max(answered.len());
        drop(answered); // their slots free up
        pending = waiting;
    }
    assert!(
        pending.is_empty(),
        "{} clients never answered",
        pending.len()
    );
    assert!(most_at_once >= 1);
    let (status, log) = server.terminate();
    assert!(status.success(), "{log}");
}

#[test]
fn auto_starts_one_worker_per_cpu() {
    let cpus = thread::available_parallelism().unwrap().get();
    let server = Serving::start(&["--workers", "auto"], None);
    assert!(
        eventually(PROMPTLY, || worker_threads(server.pid()) == cpus),
        "{cpus} CPUs, threads {:?}",
        thread_names(server.pid())
    );
    thread::sleep(ms(100));
    assert_eq!(worker_threads(server.pid()), cpus);
    assert_eq!(roundtrip(server.addr, GET).status, 200);
    let (status, log) = server.terminate();
    assert!(status.success(), "{log}");
}

#[test]
fn zero_and_garbage_workers_exit_2() {
    for bad in ["0", "-3", "lots", "", "2.5", "99999999999999999999999"] {
        let out = run_bounded(
            binary().args(["--bind", "127.0.0.1:0", &format!("--workers={bad}")]),
            PROMPTLY,
        );
        let (status, stderr) = (out.status, String::from_utf8_lossy(&out.stderr));
        assert_eq!(status.code(), Some(2), "--workers={bad}: {stderr}");
        assert!(stderr.starts_with("error: "), "{stderr}");
        assert!(stderr.contains("--workers"), "{stderr}");
        assert!(!stderr.contains("panicked"), "{stderr}");
    }
    // A bad --listener mode is refused the same way.
    let mut child = binary()
        .args(["--bind", "127.0.0.1:0", "--listener", "both"])
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    assert_eq!(wait_exit(&mut child, PROMPTLY).code(), Some(2));
}

#[test]
fn a_shared_listener_serves_too_and_logs_name_the_worker() {
    let mut server = Serving::start(&["--workers", "3", "--listener", "shared"], Some("debug"));
    one_request_each(server.addr, 300, 100, CLOSE);
    server.signal("TERM");
    let (status, log) = server.wait(PROMPTLY);
    assert!(status.success(), "{log}");
    let line = stopped_line(&log);
    assert_eq!(number_before(line, " requests"), 300, "{line}");
    assert!(log.contains("one shared socket"), "{log}");
    // Which worker wins each race for the shared socket is up to the scheduler.
    assert!(
        (0..3).any(|w| log.contains(&format!("w{w} conn "))),
        "no line names a worker's connection:\n{log}"
    );
}

#[test]
fn stats_lines_are_process_totals() {
    let (stats, _) = stats_lines_after_traffic(&["--workers", "2"], CLOSE, ms(900));
    assert!(
        stats
            .iter()
            .all(|l| l.contains("INFO") && !l.contains(" w0 ")),
        "{stats:?}"
    );
}

#[test]
fn the_library_starts_and_drains_n_workers() {
    let config = Config {
        bind: "127.0.0.1:0".parse().unwrap(),
        workers: 3,
        listener: ListenerMode::default(),
        ..Config::default()
    };
    let workers = Workers::start(config).unwrap();
    assert_eq!(workers.len(), 3);
    assert_eq!(workers.handles().len(), 3);
    let addr = workers.addr();
    assert_ne!(addr.port(), 0);
    for _ in 0..30 {
        assert_eq!(roundtrip(addr, CLOSE).status, 200);
    }
    let summary = workers.shutdown().unwrap();
    assert_eq!((summary.connections, summary.requests), (30, 30));
    assert_eq!(summary.responses_with(200), 30);
    assert!(TcpStream::connect(addr).is_err(), "still listening");
}

#[cfg(target_os = "linux")]
#[test]
fn pinned_workers_each_run_on_one_cpu() {
    let server = Serving::start(&["--workers", "2", "--pin-workers"], None);
    // Pinning happens first thing on each worker thread.
    let pinned =
        |lists: &Vec<String>| lists.len() == 2 && lists.iter().all(|l| l.parse::<usize>().is_ok());
    assert!(
        eventually(PROMPTLY, || pinned(&worker_cpu_lists(server.pid()))),
        "{:?}",
        worker_cpu_lists(server.pid())
    );
    let lists = worker_cpu_lists(server.pid());
    if thread::available_parallelism().unwrap().get() >= 2 {
        assert_ne!(lists[0], lists[1], "both workers on one CPU: {lists:?}");
    }
    assert_eq!(roundtrip(server.addr, GET).status, 200);
    let (status, log) = server.terminate();
    assert!(status.success(), "{log}");
}

#[cfg(target_os = "linux")]
#[test]
fn workers_that_outnumber_the_cpus_run_under_sched_batch_and_no_others() {
    const SCHED_OTHER: u32 = 0;
    const SCHED_BATCH: u32 = 3;
    let cpus = hello_reactor::process::affinity::allowed_cpus()
        .unwrap()
        .len();
    let over = (cpus + 1).to_string();
    let server = Serving::start(&["--workers", &over], None);
    let batch = |pid| {
        let workers: Vec<_> = policies(pid)
            .into_iter()
            .filter(|(n, _)| is_worker(n))
            .collect();
        workers.len() == cpus + 1 && workers.iter().all(|&(_, p)| p == SCHED_BATCH)
    };
    assert!(
        eventually(PROMPTLY, || batch(server.pid())),
        "{:?}",
        policies(server.pid())
    );
    // The process's own threads keep the normal policy.
    let others = policies(server.pid())
        .into_iter()
        .filter(|(n, _)| !is_worker(n));
    assert!(
        others.clone().all(|(_, p)| p == SCHED_OTHER),
        "{:?}",
        others.collect::<Vec<_>>()
    );
    assert_eq!(roundtrip(server.addr, GET).status, 200);
    let (status, log) = server.terminate();
    assert!(status.success(), "{log}");
    assert!(
        log.contains(&format!(
            "{over} workers share {cpus} CPU(s): they run under SCHED_BATCH"
        )),
        "{log}"
    );

    // As many workers as CPUs (or one, the lone reactor): the normal policy.
    let fit = cpus.to_string();
    let server = Serving::start(&["--workers", &fit], None);
    assert!(eventually(PROMPTLY, || worker_threads(server.pid())
        == cpus
        || cpus == 1));
    thread::sleep(ms(100));
    let all = policies(server.pid());
    assert!(all.iter().all(|&(_, p)| p == SCHED_OTHER), "{all:?}");
    let (status, log) = server.terminate();
    assert!(status.success(), "{log}");
    assert!(!log.contains("SCHED_BATCH"), "{log}");
}
