//! The bare reactor pattern, with nothing HTTP about it: a mio echo server in under
//! 100 lines of code.
//!
//! ```text
//! $ cargo run --example echo_reactor            # listens on 127.0.0.1:8889
//! Echoing on 127.0.0.1:8889 ...
//! $ cargo run --example echo_reactor -- 18892   # or on another port
//! $ python3 -c 'import socket; s = socket.create_connection(("127.0.0.1", 8889)); s.sendall(b"hi\n"); print(s.recv(100))'
//! b'hi\n'
//! ```
//!
//! Everything hello-reactor does rests on these five moves:
//!
//! 1. **One `Poll`, one thread.** Every socket is non-blocking and registered with the
//!    poll under a [`Token`]; `poll` sleeps until some of them are ready.
//! 2. **Tokens map events back to state.** A connection's token is its key in a
//!    [`Slab`]. Keys are reused once freed, so an event may name a connection that is
//!    gone, or a newer one with the same key: handlers treat readiness as a hint (a
//!    spurious call just gets `WouldBlock`), so neither does harm.
//! 3. **Drain until `WouldBlock`.** mio's readiness is edge-triggered: an event says
//!    "something changed", once. Whoever stops reading or accepting before the kernel
//!    says `WouldBlock` may never hear about that socket again. (hello-reactor also
//!    stops at a short read; rule 1 in `src/reactor/driver.rs` says why that is safe.)
//! 4. **Partial writes are kept.** `write` may take fewer bytes than offered; the rest
//!    waits in the connection's `out` buffer until a writable event.
//! 5. **Backpressure.** While `out` is not empty the connection reads nothing more, so
//!    a client that sends but never reads costs one buffer, not unbounded memory. The
//!    writable event that follows a full socket also resumes the reading.
//!
//! **Both directions at once, here; writable only when needed, in hello-reactor.**
//! This server registers every socket for `READABLE | WRITABLE` when it accepts it,
//! and never changes that. It is the simplest correct choice: no code path can forget
//! to ask for the writable edge that a full send buffer will need, and with edge
//! triggering a socket that always has room costs no events after the first. That
//! first one is the price: a new socket has room at once, so the registration itself
//! reports it writable, and every connection starts with one event (and one wake-up
//! of `poll`) that says nothing. An echo client speaks first, so that event finds
//! nothing to read and nothing to write.
//!
//! hello-reactor answers most requests with one `write` that fits the socket, and
//! many of its clients (`Connection: close`) leave after one answer, so that empty
//! event would be a large share of its work (measured in `docs/bench-http1.md`). It
//! registers readable only, and adds writable interest with one `reregister` the
//! first time a write comes up short, keeping it from then on. That costs a flag, and
//! a rule that every handler return goes through one place that checks it; the rule
//! and its reason live in `src/reactor/mod.rs`.
//!
//! The tests at the bottom step the reactor by hand, one `turn` at a time.

use std::io::{self, ErrorKind::WouldBlock, Read, Write};
use std::net::SocketAddr;
use std::time::Duration;

use mio::net::{TcpListener, TcpStream};
use mio::{Events, Interest, Poll, Token};
use slab::Slab;

const LISTENER: Token = Token(usize::MAX);

struct Echo {
    poll: Poll,
    listener: TcpListener,
    /// Slab key = token. A connection: its socket and the bytes not yet echoed back.
    conns: Slab<(TcpStream, Vec<u8>)>,
}

impl Echo {
    fn bind(addr: SocketAddr) -> io::Result<Echo> {
        let poll = Poll::new()?;
        let mut listener = TcpListener::bind(addr)?;
        poll.registry()
            .register(&mut listener, LISTENER, Interest::READABLE)?;
        let conns = Slab::new();
        Ok(Echo {
            poll,
            listener,
            conns,
        })
    }

    /// One turn of the loop: wait for events, then handle each.
    fn turn(&mut self, events: &mut Events, timeout: Option<Duration>) -> io::Result<()> {
        match self.poll.poll(events, timeout) {
            Err(e) if e.kind() == io::ErrorKind::Interrupted => return Ok(()),
            result => result?,
        }
        for event in events.iter() {
            let key = event.token().0;
            if event.token() == LISTENER {
                self.accept_all()?;
            } else if let Some((stream, out)) = self.conns.get_mut(key) {
                // An error closes the connection too. Dropping the socket closes it,
                // which also removes it from the poll.
                if echo(stream, out).unwrap_or(true) {
                    self.conns.remove(key);
                }
            } // else: a stale event for a connection already closed; ignore it
        }
        Ok(())
    }

    fn accept_all(&mut self) -> io::Result<()> {
        loop {
            let (mut stream, _) = match self.listener.accept() {
                Ok(accepted) => accepted,
                Err(e) if e.kind() == WouldBlock => return Ok(()),
                Err(e) => return Err(e),
            };
            let entry = self.conns.vacant_entry();
            let interest = Interest::READABLE | Interest::WRITABLE; // once, for good
            let token = Token(entry.key());
            self.poll
                .registry()
                .register(&mut stream, token, interest)?;
            entry.insert((stream, Vec::new()));
        }
    }
}

/// Echo all that can be echoed now. `Ok(true)`: the client is gone, close.
fn echo(stream: &mut TcpStream, out: &mut Vec<u8>) -> io::Result<bool> {
    let mut buf = [0u8; 4096];
    loop {
        while !out.is_empty() {
            match stream.write(out) {
                Ok(0) => return Err(io::ErrorKind::WriteZero.into()),
                Ok(n) => drop(out.drain(..n)), // a partial write keeps the rest
                Err(e) if e.kind() == WouldBlock => return Ok(false), // wait: writable
                Err(e) => return Err(e),
            }
        }
        match stream.read(&mut buf) {
            Ok(0) => return Ok(true),
            Ok(n) => out.extend_from_slice(&buf[..n]),
            Err(e) if e.kind() == WouldBlock => return Ok(false), // wait: readable
            Err(e) => return Err(e),
        }
    }
}

fn main() -> io::Result<()> {
    let arg = std::env::args().nth(1);
    let port = arg.map_or(8889, |p| p.parse().expect("the argument is a port number"));
    let mut echo = Echo::bind(SocketAddr::from(([127, 0, 0, 1], port)))?;
    println!("Echoing on {} ...", echo.listener.local_addr()?);
    let mut events = Events::with_capacity(1024);
    loop {
        echo.turn(&mut events, None)?;
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::net::TcpStream as Client;
    use std::thread;

    fn start() -> (Echo, SocketAddr) {
        let echo = Echo::bind("127.0.0.1:0".parse().unwrap()).unwrap();
        let addr = echo.listener.local_addr().unwrap();
        (echo, addr)
    }

    /// Turn the loop until `done` says so (at most ten seconds).
    fn turn_until(echo: &mut Echo, mut done: impl FnMut(&Echo) -> bool) {
        let mut events = Events::with_capacity(64);
        for _ in 0..1000 {
            if done(echo) {
                return;
            }
            echo.turn(&mut events, Some(Duration::from_millis(10)))
                .unwrap();
        }
        panic!("the echo server made no progress");
    }

    #[test]
    fn echoes_and_closes_when_the_client_does() {
        let (mut echo, addr) = start();
        let mut client = Client::connect(addr).unwrap();
        client.write_all(b"hello").unwrap();
        client.set_nonblocking(true).unwrap();
        let mut got = Vec::new();
        turn_until(&mut echo, |_| {
            let mut buf = [0u8; 16];
            if let Ok(n) = client.read(&mut buf) {
                got.extend_from_slice(&buf[..n]);
            }
            got == b"hello"
        });
        client.shutdown(std::net::Shutdown::Write).unwrap();
        assert_eq!(echo.conns.len(), 1);
        turn_until(&mut echo, |echo| echo.conns.is_empty());
    }

    #[test]
    fn a_client_that_reads_slowly_gets_every_byte_back() {
        // Four MiB is more than the two sockets' buffers hold: the server's writes come
        // up short, the rest waits in `out`, and reading pauses until the client reads.
        let (mut echo, addr) = start();
        let sent: Vec<u8> = (0..4 << 20).map(|i: u32| (i % 251) as u8).collect();
        let mut writer = Client::connect(addr).unwrap();
        let mut reader = writer.try_clone().unwrap();
        let expected = sent.clone();
        let client = thread::spawn(move || {
            let write = thread::spawn(move || writer.write_all(&sent));
            thread::sleep(Duration::from_millis(200)); // let the server's output back up
            let mut got = vec![0u8; expected.len()];
            reader.read_exact(&mut got).unwrap();
            write.join().unwrap().unwrap();
            assert!(got == expected, "the echo differs");
        });
        turn_until(&mut echo, |_| client.is_finished());
        client.join().unwrap();
    }
}
