//! Scale: the binary holds 10,000 concurrent connections open and answers each.

mod common;

use std::net::{SocketAddr, TcpStream};
use std::time::{Duration, Instant};

use common::{GET, IO_TIMEOUT, Reader, Serving};

const CONNECTIONS: usize = 10_000;
/// Client sockets plus what the test process itself holds (binaries, pipes, std).
const FDS_NEEDED: u64 = CONNECTIONS as u64 + 256;
/// The whole test, start to SIGTERM.
const TIME_LIMIT: Duration = Duration::from_secs(60);

/// Raise this process's soft fd limit to hold every client socket; fail (never
/// skip) if the hard limit does not allow it.
fn raise_fd_limit() {
    let (_, hard) = rlimit::getrlimit(rlimit::Resource::NOFILE).unwrap();
    assert!(
        hard >= FDS_NEEDED,
        "the hard file-descriptor limit is {hard}, but this test needs {FDS_NEEDED} \
         to hold {CONNECTIONS} client sockets: raise it (e.g. `ulimit -Hn 20000` as root, \
         or LimitNOFILE= / nofile in limits.conf) and run again"
    );
    let soft = rlimit::increase_nofile_limit(FDS_NEEDED).unwrap();
    assert!(
        soft >= FDS_NEEDED,
        "could only raise the soft fd limit to {soft}, need {FDS_NEEDED}"
    );
}

/// A client socket; a connect the server never completes fails within the time
/// left instead of waiting out the kernel's SYN retries.
fn connect(addr: SocketAddr, began: Instant, i: usize) -> TcpStream {
    let left = TIME_LIMIT
        .saturating_sub(began.elapsed())
        .clamp(Duration::from_millis(1), IO_TIMEOUT);
    let stream = TcpStream::connect_timeout(&addr, left)
        .unwrap_or_else(|e| panic!("connection {i} of {CONNECTIONS}: connect failed: {e}"));
    stream.set_read_timeout(Some(IO_TIMEOUT)).unwrap();
    stream.set_write_timeout(Some(IO_TIMEOUT)).unwrap();
    stream.set_nodelay(true).unwrap();
    stream
}

fn check_time(began: Instant, doing: &str, done: usize) {
    assert!(
        began.elapsed() < TIME_LIMIT,
        "over {TIME_LIMIT:?} while {doing} ({done} of {CONNECTIONS} done)"
    );
}

#[test]
fn ten_thousand_concurrent_connections_are_all_answered() {
    raise_fd_limit();
    let began = Instant::now();
    let mut server = Serving::start(&[], None);
    let addr = server.addr;

    // Open every connection first and keep them all open.
    let mut clients: Vec<Reader> = Vec::with_capacity(CONNECTIONS);
    for i in 0..CONNECTIONS {
        if i % 500 == 0 {
            check_time(began, "connecting", i);
        }
        clients.push(Reader::new(connect(addr, began, i)));
    }

    // Then one request on each, all of them in flight at once.
    for (i, client) in clients.iter_mut().enumerate() {
        if i % 500 == 0 {
            check_time(began, "sending requests", i);
        }
        client.send(GET);
    }

    let mut ok = 0;
    for (i, client) in clients.iter_mut().enumerate() {
        if i % 500 == 0 {
            check_time(began, "reading responses", i);
        }
        let response = client
            .try_response(false)
            .unwrap_or_else(|e| panic!("connection {i} of {CONNECTIONS}: no response: {e}"));
        assert_eq!(response.status, 200, "connection {i}: {}", response.head);
        assert_eq!(response.body_text(), "Hello, World!", "connection {i}");
        ok += 1;
    }
    assert_eq!(ok, CONNECTIONS);

    // A graceful shutdown closes every idle connection and exits 0.
    server.signal("TERM");
    for (i, client) in clients.iter_mut().enumerate().step_by(997) {
        let rest = client
            .read_to_close()
            .unwrap_or_else(|e| panic!("connection {i} was not closed cleanly: {e}"));
        assert!(rest.is_empty(), "connection {i}: {rest:?}");
    }
    let (status, log) = server.wait(Duration::from_secs(20));
    assert_eq!(status.code(), Some(0), "{log}");
    assert!(!log.contains("panicked"), "{log}");
    drop(clients);
}
