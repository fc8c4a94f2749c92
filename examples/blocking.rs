//! The seed's blocking server made correct: the same accept loop as `webserver1.py`,
//! but every connection is driven by hello-reactor's protocol core
//! ([`hello_reactor::protocol::Conn`]), the very state machine the reactor drives.
//!
//! ```text
//! $ cargo run --example blocking                       # one connection at a time
//! Serving HTTP on 127.0.0.1:8888 ...
//! $ cargo run --example blocking -- 18891 --threads    # another port, a thread each
//! $ RUST_LOG=trace cargo run --example blocking        # the core's trace lines
//! ```
//!
//! The seed read once, answered, closed. Here the core decides, and this driver only
//! does what the core's [`wants`](Conn::wants) says:
//!
//! | the core wants | the blocking driver                                           |
//! |----------------|---------------------------------------------------------------|
//! | `Input`        | `read` (with a read timeout up to [`Conn::poll_at`]), then `process`, `write_all` the answers, `sent` |
//! | `Drain`        | the final answer is out: shut the write side, read and drop input until EOF |
//! | `Close`        | drop the socket                                               |
//! | `Room`         | never: `write_all` blocks until everything is written         |
//!
//! A read that times out means the core's deadline passed: `expire` (a `408`, or
//! a close). A write that times out means the client stopped reading for the
//! whole write timeout: the connection is dropped.
//!
//! **HTTP/2 by the same interface.** A connection whose first bytes are the HTTP/2
//! preface (prior knowledge, RFC 9113 §3.3) is driven the same way by the HTTP/2
//! core ([`hello_reactor::protocol::h2::Session`]), handed those bytes unconsumed;
//! its `sent` may queue more (DATA held back), so it is written until nothing is.
//!
//! What is still the seed's: **one client at a time.** A client that connects and
//! sends nothing holds the server until its keep-alive timeout (75 s by default);
//! everyone else waits in the accept queue. `--threads` gives each connection its
//! own thread instead, which costs a stack per client: that is what the reactor
//! avoids, with the same core.

use std::io::{self, ErrorKind, Read, Write};
use std::net::{Shutdown, SocketAddr, TcpListener, TcpStream};
use std::time::{Duration, Instant, SystemTime};

use hello_reactor::Config;
use hello_reactor::protocol::h2::answer::H2Answer;
use hello_reactor::protocol::h2::session::PREFACE;
use hello_reactor::protocol::h2::{self, Session};
use hello_reactor::protocol::{Common, Conn, ConnId, Cx, Stop, Want};

/// What every connection's core borrows ([`Common`]: answers, limits, timeouts,
/// counters), the answers' buffer, and the clock the core runs on.
struct Shared {
    common: Common,
    out: Vec<u8>,
    start: Instant,
    /// What the HTTP/2 core borrows beyond that: its encoded answer and limits.
    h2_answer: H2Answer,
    h2_limits: h2::Limits,
}

impl Shared {
    fn new(config: &Config) -> Shared {
        Shared {
            common: Common::new(&config.protocol(), SystemTime::now()),
            out: Vec::new(),
            start: Instant::now(),
            h2_answer: H2Answer::new(&config.protocol().answer, SystemTime::now()),
            h2_limits: config.h2_limits(),
        }
    }

    /// The clock the core runs on: milliseconds since start.
    fn now(&self) -> u64 {
        self.start.elapsed().as_millis() as u64
    }

    /// Lend everything to one call of the core.
    fn cx(&mut self, key: usize) -> Cx<'_> {
        self.out.clear();
        self.common.responses.refresh_date(SystemTime::now());
        let now = self.now();
        let id = ConnId { worker: None, key };
        self.common.cx(id, now, false, &mut self.out)
    }

    /// Lend everything to one call of the HTTP/2 core.
    fn h2_cx(&mut self, key: usize) -> h2::Cx<'_> {
        self.out.clear();
        self.h2_answer.refresh_date(SystemTime::now());
        h2::Cx {
            id: ConnId { worker: None, key },
            now: self.now(),
            draining: false,
            answer: &self.h2_answer,
            failure: None, // the example takes no --fail-rate
            faults: &mut self.common.faults,
            limits: &self.h2_limits,
            timeouts: &self.common.timeouts,
            stats: &mut self.common.stats,
            out: &mut self.out,
        }
    }
}

/// The first bytes choose the core: read until they are the whole HTTP/2
/// preface (`true`) or stray from it; they are returned unconsumed. A client
/// that stops mid-way is left to HTTP/1.1, whose header timeout answers it.
fn sniff(stream: &mut TcpStream, shared: &Shared) -> io::Result<(Vec<u8>, bool)> {
    let mut first = Vec::new();
    let mut buf = [0u8; 4096];
    let timeout = shared
        .common
        .timeouts
        .keep_alive
        .min(shared.common.timeouts.header);
    stream.set_read_timeout(Some(Duration::from_millis(timeout)))?;
    loop {
        let n = first.len().min(PREFACE.len());
        if first[..n] != PREFACE[..n] || n == PREFACE.len() {
            let whole = n == PREFACE.len() && first[..n] == PREFACE[..];
            return Ok((first, whole));
        }
        match stream.read(&mut buf) {
            Ok(0) => return Ok((first, false)),
            Ok(k) => first.extend_from_slice(&buf[..k]),
            Err(e) if matches!(e.kind(), ErrorKind::WouldBlock | ErrorKind::TimedOut) => {
                return Ok((first, false));
            }
            Err(e) if e.kind() == ErrorKind::Interrupted => {}
            Err(e) => return Err(e),
        }
    }
}

/// Drive one connection with the core its first bytes chose.
fn serve(mut stream: TcpStream, shared: &mut Shared, key: usize) -> io::Result<()> {
    let (first, h2) = sniff(&mut stream, shared)?;
    if h2 {
        serve_h2(stream, shared, key, first)
    } else {
        serve_http1(stream, shared, key, first)
    }
}

/// Drive one HTTP/1.1 connection to its end with blocking calls; `pending` holds
/// its first bytes.
fn serve_http1(
    mut stream: TcpStream,
    shared: &mut Shared,
    key: usize,
    mut pending: Vec<u8>,
) -> io::Result<()> {
    let mut conn = Conn::new(shared.now(), &shared.common.timeouts);
    stream.set_write_timeout(Some(Duration::from_millis(shared.common.timeouts.write)))?;
    let mut buf = vec![0u8; 64 * 1024];
    // Bytes already read are answered before anything else is read (as after a full batch).
    let mut stop = if pending.is_empty() {
        Stop::Done
    } else {
        Stop::Full
    };
    let mut filled = false; // the last read filled `buf`: more input may wait
    loop {
        let want = conn.wants();
        if want == Want::Close || want == Want::Room {
            return Ok(()); // dropping the stream closes it
        }
        // After a full batch, answer what waits before reading more.
        let read = if want == Want::Input && stop == Stop::Full {
            None
        } else {
            let left = conn.poll_at().saturating_sub(shared.now()).max(1);
            stream.set_read_timeout(Some(Duration::from_millis(left)))?;
            Some(stream.read(&mut buf))
        };
        let mut cx = shared.cx(key); // "now" is read after the blocking call
        let fresh = match read {
            None => true,
            Some(Ok(0)) => {
                pending.clear();
                conn.eof(&mut cx);
                false
            }
            Some(Ok(n)) => {
                filled = n == buf.len();
                if want == Want::Drain {
                    continue; // lingering: input is read and dropped until EOF
                }
                pending.extend_from_slice(&buf[..n]);
                true
            }
            Some(Err(e)) if matches!(e.kind(), ErrorKind::WouldBlock | ErrorKind::TimedOut) => {
                if cx.now >= conn.poll_at() {
                    conn.expire(&mut cx); // the deadline passed: a 408, or a close
                }
                false
            }
            Some(Err(e)) if e.kind() == ErrorKind::Interrupted => false,
            Some(Err(e)) => return Err(e),
        };
        if fresh {
            let (used, why) = conn.process(&mut cx, &pending);
            pending.drain(..used);
            stop = why;
        }
        if !cx.out.is_empty() {
            stream.write_all(cx.out.as_slice())?;
            conn.sent(&mut cx, filled);
            if conn.wants() == Want::Drain {
                pending.clear();
                let _ = stream.shutdown(Shutdown::Write); // lingering close: FIN, then drain
            }
        }
    }
}

/// Drive one HTTP/2 connection to its end: the same calls, and `pending` starts
/// with the preface, which the session reads itself.
fn serve_h2(
    mut stream: TcpStream,
    shared: &mut Shared,
    key: usize,
    mut pending: Vec<u8>,
) -> io::Result<()> {
    let mut session = Session::new(shared.now(), &shared.common.timeouts);
    stream.set_write_timeout(Some(Duration::from_millis(shared.common.timeouts.write)))?;
    let mut buf = vec![0u8; 64 * 1024];
    let mut fresh = true; // input waits in `pending`: process it before reading
    loop {
        let want = session.wants();
        if want == Want::Close || want == Want::Room {
            return Ok(());
        }
        let read = if fresh {
            None
        } else {
            let left = session.poll_at().saturating_sub(shared.now()).max(1);
            stream.set_read_timeout(Some(Duration::from_millis(left)))?;
            Some(stream.read(&mut buf))
        };
        let mut cx = shared.h2_cx(key);
        match read {
            None => {}
            Some(Ok(0)) => session.eof(&mut cx),
            Some(Ok(_)) if want == Want::Drain => continue,
            Some(Ok(n)) => {
                pending.extend_from_slice(&buf[..n]);
                fresh = true;
            }
            Some(Err(e)) if matches!(e.kind(), ErrorKind::WouldBlock | ErrorKind::TimedOut) => {
                session.expire(&mut cx);
            }
            Some(Err(e)) if e.kind() == ErrorKind::Interrupted => {}
            Some(Err(e)) => return Err(e),
        }
        if fresh {
            let (used, stop) = session.process(&mut cx, &pending);
            pending.drain(..used);
            fresh = stop == Stop::Full;
        }
        while !cx.out.is_empty() {
            stream.write_all(cx.out)?;
            cx.out.clear();
            session.sent(&mut cx); // may queue DATA held back: write again
        }
        if session.wants() == Want::Drain {
            let _ = stream.shutdown(Shutdown::Write);
        }
    }
}

fn main() -> io::Result<()> {
    env_logger::init();
    let args: Vec<String> = std::env::args().skip(1).collect();
    let threads = args.iter().any(|a| a == "--threads");
    let port = match args.iter().find(|a| *a != "--threads") {
        Some(arg) => arg
            .parse()
            .map_err(|_| io::Error::other(format!("`{arg}` is not a port number")))?,
        None => 8888,
    };
    let listener = TcpListener::bind(SocketAddr::from(([127, 0, 0, 1], port)))?;
    println!("Serving HTTP on {} ...", listener.local_addr()?);
    run(listener, &Config::default(), threads, usize::MAX)
}

/// Accept `clients` connections (or forever) and serve each: in turn, as the seed
/// did, or on a thread of its own.
fn run(listener: TcpListener, config: &Config, threads: bool, clients: usize) -> io::Result<()> {
    let mut shared = Shared::new(config);
    let mut spawned = Vec::new();
    for key in 0..clients {
        let (stream, _) = listener.accept()?;
        if threads {
            let mut own = Shared::new(config);
            spawned.push(std::thread::spawn(move || serve(stream, &mut own, key)));
        } else if let Err(e) = serve(stream, &mut shared, key) {
            eprintln!("conn {key}: {e}"); // an error ends this connection, not the server
        }
    }
    for thread in spawned {
        let _ = thread.join();
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::thread;

    /// A server on a free port that serves `clients` connections, and its address.
    fn server(
        config: Config,
        threads: bool,
        clients: usize,
    ) -> (SocketAddr, thread::JoinHandle<()>) {
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        let addr = listener.local_addr().unwrap();
        let thread = thread::spawn(move || run(listener, &config, threads, clients).unwrap());
        (addr, thread)
    }

    fn exchange(addr: SocketAddr, pieces: &[&[u8]]) -> String {
        let mut client = TcpStream::connect(addr).unwrap();
        client
            .set_read_timeout(Some(Duration::from_secs(10)))
            .unwrap();
        for piece in pieces {
            client.write_all(piece).unwrap();
            thread::sleep(Duration::from_millis(50));
        }
        let mut response = String::new();
        client.read_to_string(&mut response).unwrap();
        response
    }

    #[test]
    fn a_request_in_pieces_and_pipelined_requests_are_answered_in_order() {
        let (addr, thread) = server(Config::default(), false, 1);
        let response = exchange(
            addr,
            &[
                b"GET /a HTTP/1.1\r\nHo",
                b"st: x\r\n\r\nGET /b HTTP/1.1\r\nHost: x\r\n\r\n",
                b"GET /c HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n",
            ],
        );
        assert_eq!(
            response.matches("HTTP/1.1 200 OK\r\n").count(),
            3,
            "{response}"
        );
        assert!(response.ends_with("Connection: close\r\nContent-Length: 13\r\n\r\nHello, World!"));
        thread.join().unwrap();
    }

    #[test]
    fn the_seeds_telnet_request_is_refused_then_served_with_a_host() {
        let (addr, thread) = server(Config::default(), true, 2);
        let refused = exchange(addr, &[b"GET /hello HTTP/1.1\r\n\r\n"]);
        assert!(
            refused.starts_with("HTTP/1.1 400 Bad Request\r\n"),
            "{refused}"
        );
        assert!(
            refused.contains("request without a Host header"),
            "{refused}"
        );
        let served = exchange(
            addr,
            &[b"GET /hello HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n\r\n"],
        );
        assert!(served.starts_with("HTTP/1.1 200 OK\r\n"), "{served}");
        thread.join().unwrap();
    }

    #[test]
    fn the_http2_preface_chooses_the_http2_core() {
        let (addr, thread) = server(Config::default(), false, 1);
        let mut client = TcpStream::connect(addr).unwrap();
        client
            .set_read_timeout(Some(Duration::from_secs(10)))
            .unwrap();
        // The preface in two pieces, an empty SETTINGS, then HEADERS (END_STREAM |
        // END_HEADERS) for GET http://x/ in HPACK static-table indices.
        let block = b"\x82\x86\x84\x41\x01x";
        let mut headers = vec![0, 0, block.len() as u8, 1, 5, 0, 0, 0, 1];
        headers.extend_from_slice(block);
        for piece in [
            &PREFACE[..10],
            &PREFACE[10..],
            b"\0\0\0\x04\0\0\0\0\0",
            &headers,
        ] {
            client.write_all(piece).unwrap();
            thread::sleep(Duration::from_millis(20));
        }
        let mut got = Vec::new();
        let mut chunk = [0u8; 4096];
        while !got.ends_with(b"Hello, World!") {
            let n = client.read(&mut chunk).unwrap();
            assert!(n > 0, "closed early: {got:?}");
            got.extend_from_slice(&chunk[..n]);
        }
        assert_eq!(got[3], 4, "the server's SETTINGS come first: {got:?}");
        drop(client);
        thread.join().unwrap();
    }

    #[test]
    fn an_incomplete_head_gets_408_at_its_deadline() {
        let config = Config {
            header_timeout: Duration::from_millis(200),
            ..Config::default()
        };
        let (addr, thread) = server(config, false, 1);
        let started = Instant::now();
        let response = exchange(addr, &[b"GET / HTTP/1.1\r\n"]);
        assert!(
            response.starts_with("HTTP/1.1 408 Request Timeout\r\n"),
            "{response}"
        );
        assert!(started.elapsed() < Duration::from_secs(5));
        thread.join().unwrap();
    }
}
