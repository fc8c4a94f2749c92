//! hello-reactor: a single-threaded, event-driven HTTP/1.1 server on [`mio`] that
//! answers every request with one fixed response.
//!
//! It grew from the blocking `webserver1.py` of "Let's Build A Web Server, Part 1":
//! accept one connection, one `recv(1024)`, send `HTTP/1.1 200 OK\n\nHello, World!`,
//! close. That server serves one client at a time and trusts one `recv` to hold a
//! whole request. This crate keeps its promise (one fixed answer, readable code) and
//! serves tens of thousands of clients from one thread. The guide below gives the
//! rules that make that work, each with its reason, in the order the code applies
//! them. `docs/walkthrough.md` shows each rule at a terminal, and
//! `docs/architecture.md` draws the loop and the state machine.
//!
//! # Quick start
//!
//! ```
//! use std::io::{Read, Write};
//! use hello_reactor::{Config, Server};
//!
//! let config = Config {
//!     bind: "127.0.0.1:0".parse().unwrap(), // port 0: any free port
//!     ..Config::default()
//! };
//! let running = Server::bind(config)?.spawn()?; // the loop runs on its own thread
//!
//! let mut client = std::net::TcpStream::connect(running.addr())?;
//! client.write_all(b"GET / HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")?;
//! let mut response = String::new();
//! client.read_to_string(&mut response)?; // the server closes: `Connection: close`
//! assert!(response.starts_with("HTTP/1.1 200 OK\r\n"));
//! assert!(response.ends_with("\r\n\r\nHello, World!"));
//!
//! let summary = running.shutdown()?; // graceful, exactly as on SIGTERM
//! assert_eq!((summary.connections, summary.requests), (1, 1));
//! # Ok::<(), std::io::Error>(())
//! ```
//!
//! The binary (`src/main.rs`) does the same with [`Server::run`] on the main thread,
//! after [`Cli::parse_config`], [`fdlimit::raise_to_hard_limit`] and
//! [`Server::handle_signals`].
//!
//! # The guide
//!
//! ## 1. The loop: one thread, one `Poll`
//!
//! [`Server::run`] is the whole server: `poll` sleeps until sockets are ready or the
//! next timer is due, then every event is dispatched on the same thread. The
//! listener, every connection, a [`mio::Waker`] and the signal pipe are all
//! registered with one [`mio::Poll`] (epoll on Linux, kqueue on BSD and macOS).
//!
//! - *One thread, so no locks.* The connections, the counters and the buffers belong
//!   to the loop. Other threads reach it only through a [`ServerHandle`], which sets
//!   a flag and wakes the loop (module [`handle`]).
//! - *The clock is read once per turn*, right after `poll` returns. Every handler in
//!   a turn agrees on "now", and none pays for a clock read (the loop reads it once
//!   more before `poll`, to know how long it may sleep). The `Date` header is
//!   patched at the same moment, when the second has changed ([`response`]). The
//!   clocks are the kernel's coarse ones, as fine as deadlines need ([`shared::Clock`]).
//! - *`poll` sleeps as long as it may.* Its timeout is the nearest of the next tick,
//!   the end of an accept back-off, the shutdown deadline and the next stats line.
//!   With no connections and none of those pending it is infinite (`epoll_wait(...,
//!   -1)`), and when a connection has deferred work (rule 6) it is zero.
//! - *A new connection is read at once if the kernel deferred its accept*, else on
//!   its first readable event. With `TCP_DEFER_ACCEPT` (Linux, `--defer-accept`)
//!   `accept` returns a connection only once its first bytes are there, so reading
//!   it at once saves a turn of the loop, and a `Connection: close` request is
//!   answered and closed before the socket is ever registered ([`listener`]).
//!   Without deferral the read at accept is skipped: under load it found nothing
//!   for 99.6% of connections, a failed `recvfrom` each.
//! - *A new connection is registered readable only.* A new socket has room to
//!   send, so asking for writable events at once would cost every connection an
//!   event that says nothing (on a `Connection: close` load, twice the
//!   `epoll_wait` calls per request). The first time output does not fit in the
//!   socket, the loop adds writable interest with one `reregister` and keeps it:
//!   edge-triggered, it costs nothing while there is room, and `reregister` reports
//!   readiness that is already there, so no edge is lost.
//!
//! ## 2. Tokens: a slab key, looked up again for every event
//!
//! A connection's [`mio::Token`] is its key in a [`slab::Slab`]. Three tokens at the
//! top of the range are reserved: `usize::MAX` for the listener, `usize::MAX - 1`
//! for the waker and `usize::MAX - 2` for the signals. Slab keys start at 0, and
//! the connection cap keeps them far below the reserved ones.
//!
//! - *Keys are reused.* A key freed by a close is handed to the next accepted
//!   connection, so an event still queued for the old connection can reach the new
//!   one. The loop therefore looks each token up again for every event. A token with
//!   no connection is ignored. A token whose key was reused costs the new
//!   connection one spurious call, which does no harm: handlers act only on what
//!   `read` and `write` report, and a spurious read just gets `WouldBlock`.
//! - *Handlers never close themselves.* [`Connection::ready`](connection::Connection::ready)
//!   returns a [`Next`](connection::Next): `Keep`, `Yield` or `Close`, and the loop
//!   acts on it after the handler has returned. A connection that removed itself from
//!   the slab mid-call would free the very `&mut self` it was running on. Returning
//!   `Next` keeps the slab's borrow rules simple and keeps every close in one place.
//! - *Closing is dropping.* Removing the connection from the slab drops its socket,
//!   and closing the fd also removes it from epoll and kqueue. No `deregister` call is
//!   needed.
//!
//! ```
//! let mut connections = slab::Slab::new();
//! let old = connections.insert("first client");
//! connections.remove(old); // closed early in this turn...
//! let new = connections.insert("second client"); // ...a new client accepted
//! assert_eq!(old, new); // a queued event for `old` now names `new`: look it up again
//! ```
//!
//! ## 3. Edge-triggered readiness: drain until `WouldBlock` or a short read
//!
//! mio registers every socket edge-triggered (`EPOLLET` on Linux, `EV_CLEAR` on
//! kqueue). An event says that something *changed*, and says it once. A socket that
//! still holds unread bytes after its event was handled gets no second event. So a
//! connection remembers, in its own `readable` and `writable` flags, whether the
//! socket may still have input or room for output. It clears a flag only when the
//! kernel says so:
//!
//! - `WouldBlock`: nothing more for now.
//! - A *short read* (fewer bytes than the 64 KiB buffer): `read` copies everything
//!   queued, up to the buffer's size, so the socket was empty at that instant. Any
//!   byte that arrives later queues a new edge. The `read` that would only return
//!   `WouldBlock` is skipped: one `recvfrom` per wake-up instead of two.
//! - A *short write*: the send buffer is full. The kernel raises a writable edge
//!   once it drains, and a connection's first short write is when the loop starts
//!   asking for that edge (rule 1).
//!
//! There is one exception. A FIN that arrived together with the last data used up
//! its edge in the same event (`read_closed`), and no new edge will announce it. So
//! once an event has reported `read_closed`, the connection reads on, past short
//! reads, until `read` returns `Ok(0)`. The listener has no such shortcut: it accepts
//! until `WouldBlock` ([`listener::accept`]).
//!
//! Events are hints, never facts: `is_error` and `is_read_closed` only send the
//! connection to its next `read`, which tells it what really happened.
//!
//! ```
//! use std::io::{Read, Write};
//! use std::time::Duration;
//! use mio::{Events, Interest, Poll, Token};
//!
//! let mut poll = Poll::new()?;
//! let mut events = Events::with_capacity(8);
//! let listener = std::net::TcpListener::bind("127.0.0.1:0")?;
//! let mut client = std::net::TcpStream::connect(listener.local_addr()?)?;
//! let (socket, _) = listener.accept()?;
//! socket.set_nonblocking(true)?;
//! let mut conn = mio::net::TcpStream::from_std(socket);
//! poll.registry().register(&mut conn, Token(0), Interest::READABLE)?;
//!
//! client.write_all(b"first")?;
//! poll.poll(&mut events, Some(Duration::from_secs(5)))?;
//! assert!(events.iter().any(|e| e.token() == Token(0) && e.is_readable()));
//! let mut buf = [0u8; 1024];
//! assert_eq!(conn.read(&mut buf)?, 5); // short: the socket is drained
//!
//! poll.poll(&mut events, Some(Duration::from_millis(50)))?;
//! assert!(events.is_empty()); // the edge was spent: no second event
//!
//! client.write_all(b"second")?; // new bytes are a new edge
//! poll.poll(&mut events, Some(Duration::from_secs(5)))?;
//! assert!(events.iter().any(|e| e.token() == Token(0) && e.is_readable()));
//! assert_eq!(conn.read(&mut buf)?, 6);
//! # Ok::<(), std::io::Error>(())
//! ```
//!
//! ## 4. One state machine per connection
//!
//! A [`Connection`](connection::Connection) owns its socket and its parsing state,
//! never the loop. Its [`State`](connection::State) is *derived* from what it holds
//! after each call, never set by hand. Output not taken yet means `Writing`. A body
//! being skipped means `ReadingBody`. Buffered bytes of an unfinished head mean
//! `ReadingHead`. Nothing at all means `Idle`. After a final response that needs a
//! lingering close the state is `Lingering`. Every change of state goes through one
//! function, which logs it (`conn 7: Idle => ReadingHead`) and sets the deadline of
//! the new state. So no transition can forget its timeout.
//!
//! ```
//! use std::io::{Read, Write};
//! use hello_reactor::Config;
//! use hello_reactor::connection::{Connection, Next, Readiness, State};
//! use hello_reactor::shared::Shared;
//! # fn arrived(conn: &mut Connection, bytes: usize) {
//! #     let start = std::time::Instant::now();
//! #     let mut buf = [0u8; 64];
//! #     while conn.stream_mut().peek(&mut buf).map_or(true, |n| n < bytes) {
//! #         assert!(start.elapsed().as_secs() < 10, "bytes never arrived");
//! #         std::thread::yield_now();
//! #     }
//! # }
//!
//! let listener = std::net::TcpListener::bind("127.0.0.1:0")?;
//! let mut client = std::net::TcpStream::connect(listener.local_addr()?)?;
//! let (socket, _) = listener.accept()?;
//! socket.set_nonblocking(true)?;
//!
//! // What the loop lends every handler: clock, limits, buffers, counters.
//! let mut shared = Shared::new(&Config::default());
//! let stream = mio::net::TcpStream::from_std(socket);
//! let mut conn = Connection::new(stream, shared.now, &shared.timeouts);
//! assert_eq!(conn.state(), State::Idle);
//! let readable = Readiness { readable: true, ..Readiness::default() };
//!
//! client.write_all(b"GET / HTTP/1.1\r\nHo")?; // half a head
//! # arrived(&mut conn, 18);
//! // The loop makes this call when epoll reports the socket readable.
//! assert_eq!(conn.ready(&mut shared.context(0), readable), Next::Keep);
//! assert_eq!(conn.state(), State::ReadingHead); // the 18 bytes wait in the spill
//!
//! client.write_all(b"st: x\r\n\r\n")?; // the rest
//! # arrived(&mut conn, 9);
//! assert_eq!(conn.ready(&mut shared.context(0), readable), Next::Keep);
//! assert_eq!(conn.state(), State::Idle); // answered; kept alive
//!
//! let mut answer = [0u8; 512];
//! let n = client.read(&mut answer)?;
//! assert!(answer[..n].starts_with(b"HTTP/1.1 200 OK\r\n"));
//! # Ok::<(), std::io::Error>(())
//! ```
//!
//! ## 5. Framing: `Partial` is not an error
//!
//! TCP delivers a byte stream in arbitrary pieces, so the prefix of a valid request is
//! *early*, not *wrong*. [`framing::parse_head`] returns
//! [`Parse::Partial`](framing::Parse::Partial) for every proper prefix of a valid
//! head. It rejects only bytes that no continuation could make valid, or a head over
//! the limit. Its answer depends on the bytes alone, never on how they were split
//! into reads. Where a request ends is the one thing the server must get right even
//! though it answers every request alike: a wrong guess reads one request's body as
//! the next one's head (request smuggling). So ambiguous framing is refused
//! (RFC 9112 §6). Bodies are skipped by [`BodyReader`](framing::BodyReader), never
//! stored.
//!
//! ```
//! use hello_reactor::protocol::framing::{parse_head, BodyLength, Limits, Parse, Persistence, Reject};
//!
//! let limits = Limits { max_head: 16 * 1024, max_body: 1 << 20 };
//! let request = b"POST /up HTTP/1.1\r\nHost: x\r\nContent-Length: 5\r\n\r\nhelloGET ";
//!
//! // Any prefix of the head: wait for more bytes.
//! assert_eq!(parse_head(&request[..20], &limits), Parse::Partial);
//! // The whole head, whatever follows it (the body, the next request):
//! let Parse::Complete(head) = parse_head(request, &limits) else { panic!() };
//! assert_eq!(head.len, 49); // the body starts at byte 49
//! assert_eq!(head.body, BodyLength::Length(5));
//! assert_eq!(head.persistence, Persistence::KeepAlive); // HTTP/1.1's default
//!
//! // Two lengths that disagree: no guessing.
//! let smuggle = b"POST / HTTP/1.1\r\nHost: x\r\nContent-Length: 5\r\nContent-Length: 6\r\n\r\n";
//! assert_eq!(parse_head(smuggle, &limits), Parse::Reject(Reject::ConflictingContentLength));
//! ```
//!
//! The chunked body decoder is a byte-level state machine, so a body split at any byte
//! reaches the same end:
//!
//! ```
//! use hello_reactor::protocol::framing::{BodyLength, BodyReader, Limits};
//!
//! let limits = Limits { max_head: 16 * 1024, max_body: 1 << 20 };
//! let mut body = BodyReader::new(BodyLength::Chunked);
//! let first = body.skip(b"5\r\nhel", &limits).unwrap(); // all consumed, not done
//! assert!(!first.done);
//! let rest = body.skip(b"lo\r\n0\r\n\r\nGET / HTTP/1.1", &limits).unwrap();
//! assert!(rest.done);
//! assert_eq!(rest.consumed, 9); // "GET / ..." is the next request's
//! ```
//!
//! ## 6. Buffers and backpressure
//!
//! Memory follows work, not connections:
//!
//! - *One read buffer for the whole reactor*
//!   ([`READ_BUF_SIZE`](connection::READ_BUF_SIZE), 64 KiB), and *one output batch*.
//!   Both live in [`Shared`](shared::Shared) and are lent to each handler in a
//!   [`Context`](connection::Context). Every request in one read is answered into the
//!   batch, and the batch goes out in one `write`. Three pipelined requests cost one
//!   `recvfrom` and one `sendto`. A lone answer is not even copied: the
//!   [`Batch`](connection::Batch) points at the rendered bytes. And a head the loop
//!   parsed last is recognised by one comparison
//!   ([`HeadMemo`](framing::HeadMemo)), not parsed again.
//! - *A per-connection spill, only while needed.* Bytes that cannot be handled yet
//!   (an unfinished head, output the socket did not take) are copied into a boxed
//!   `Spill`, which is freed once it is empty. An idle connection holds no buffer;
//!   a `Connection` is at most 64 bytes in a release build.
//! - *Backpressure.* While output waits, the connection reads nothing more: a client
//!   that sends but never reads fills its own socket buffers, not the server's memory.
//!   Once the batch reaches [`OUT_BATCH_LIMIT`](connection::OUT_BATCH_LIMIT), the
//!   requests left in the read wait in the spill until the batch is written.
//! - *Fairness.* A connection reads at most
//!   [`READS_PER_TURN`](connection::READS_PER_TURN) times per call, then returns
//!   `Next::Yield`. The loop calls it again once every other event of the turn has
//!   been handled, and `poll` does not sleep while any connection has yielded. A
//!   client that sends without pause cannot starve the others. The listener has
//!   a budget too: [`ACCEPTS_PER_TURN`](server::ACCEPTS_PER_TURN) connections at a
//!   time (each read and answered at once under deferred accept), then it waits on
//!   the same deferred list, so a crowd of new clients cannot hold up the open ones.
//!
//! ## 7. Timers: one deadline per connection, one coarse sweep
//!
//! Each state has a timeout ([`Timeouts`](connection::Timeouts)): `Idle` keep-alive,
//! `ReadingHead` header (from the head's first byte; a trickle does not extend it),
//! `ReadingBody` body and `Writing` write (both restarted by progress), `Lingering`
//! linger. A connection stores one `deadline`, in loop milliseconds. Setting it is one
//! store, with no timer wheel and no allocation. A few times a second, a *tick* walks
//! the slab and calls [`Connection::expire`](connection::Connection::expire) on
//! every connection past its deadline. The tick is a quarter of the shortest timeout,
//! between 10 ms and 1 s. An idle connection, or one whose client stopped reading,
//! just closes. A request under way gets `408 Request Timeout` first, then a
//! lingering close. Walking the slab costs a few nanoseconds per connection per tick.
//!
//! ```
//! # use std::io::{Read, Write};
//! # use hello_reactor::Config;
//! use hello_reactor::connection::{Connection, Next, Readiness, State};
//! use hello_reactor::shared::Shared;
//! # let listener = std::net::TcpListener::bind("127.0.0.1:0")?;
//! # let mut client = std::net::TcpStream::connect(listener.local_addr()?)?;
//! # let (socket, _) = listener.accept()?;
//! # socket.set_nonblocking(true)?;
//! # let mut shared = Shared::new(&Config::default());
//! # let mut conn = Connection::new(mio::net::TcpStream::from_std(socket), shared.now, &shared.timeouts);
//! # let readable = Readiness { readable: true, ..Readiness::default() };
//!
//! client.write_all(b"GET / HTTP/1.1\r\n")?; // a head that never completes
//! # let start = std::time::Instant::now();
//! # while conn.stream_mut().peek(&mut [0u8; 64]).map_or(true, |n| n < 16) {
//! #     assert!(start.elapsed().as_secs() < 10);
//! # }
//! conn.ready(&mut shared.context(0), readable);
//! assert_eq!(conn.state(), State::ReadingHead);
//! assert_eq!(conn.deadline(), shared.now + shared.timeouts.header); // 30 s
//!
//! shared.now = conn.deadline(); // 30 s later, the tick finds it expired
//! assert_eq!(conn.expire(&mut shared.context(0)), Next::Keep);
//! assert_eq!(conn.state(), State::Lingering); // 408 sent, write side shut
//!
//! let mut answer = String::new();
//! client.read_to_string(&mut answer)?; // ends: the server shut its write side
//! assert!(answer.starts_with("HTTP/1.1 408 Request Timeout\r\n"));
//! # Ok::<(), std::io::Error>(())
//! ```
//!
//! ## 8. Graceful shutdown
//!
//! SIGTERM or SIGINT (through `signal-hook`'s self-pipe), or
//! [`ServerHandle::shutdown`] (through the waker), starts a drain:
//!
//! 1. The listener is deregistered and closed, so new clients are refused by the
//!    kernel.
//! 2. Idle connections close at once.
//! 3. Busy ones finish the request under way. A response queued from now on says
//!    `Connection: close`, and the connection then closes with a lingering close. One
//!    whose response was already queued closes once it has been written.
//! 4. The loop returns once no connection is left, or when `shutdown_timeout` has
//!    passed (10 s by default), and reports a [`Summary`].
//!
//! A second signal, [`ServerHandle::stop`], or dropping a [`Running`] stops at once.
//!
//! ```
//! use std::io::{Read, Write};
//! use hello_reactor::{Config, Server};
//!
//! let config = Config { bind: "127.0.0.1:0".parse().unwrap(), ..Config::default() };
//! let running = Server::bind(config)?.spawn()?;
//! let mut client = std::net::TcpStream::connect(running.addr())?;
//! client.write_all(b"GET / HTTP/1.1\r\nHost: x\r\n\r\n")?; // keep-alive
//! let mut got = Vec::new();
//! while !got.ends_with(b"Hello, World!") {
//!     let mut buf = [0u8; 512];
//!     let n = client.read(&mut buf)?;
//!     got.extend_from_slice(&buf[..n]);
//! }
//! // The connection is now idle: a drain closes it at once, and the loop ends.
//! let summary = running.shutdown()?;
//! assert_eq!(client.read(&mut [0u8; 16])?, 0); // EOF: closed by the server
//! assert_eq!(summary.responses_with(200), 1);
//! # Ok::<(), std::io::Error>(())
//! ```
//!
//! ## 9. Logging
//!
//! The [`log`] facade, with `env_logger` in the binary. There are no per-request
//! lines at the default level:
//!
//! | `RUST_LOG`              | adds                                                   |
//! |-------------------------|--------------------------------------------------------|
//! | (unset: `info`)         | the listening line, shutdown, the final summary, stats |
//! | `debug`                 | a line per connection accepted, closed, timed out, rejected |
//! | `hello_reactor=trace`   | every event, read, short write, request head and state change |
//!
//! ```text
//! TRACE hello_reactor::connection::input] conn 0: read 23 bytes
//! TRACE hello_reactor::connection::state] conn 0: Idle => ReadingHead
//! TRACE hello_reactor::connection::input] conn 0: request head of 32 bytes, Empty
//! TRACE hello_reactor::connection::state] conn 0: ReadingHead => Idle
//! ```
//!
//! The messages are written to be grepped: `conn N:` starts every per-connection
//! line, and `A => B` is a state change.
//!
//! # Where things live
//!
//! | module | owns |
//! |--------|------|
//! | [`server`] | the loop: `poll`, dispatch, accept, deferred work, the tick, shutdown |
//! | [`connection`] | one client: the state machine, reading and answering, writing and closing |
//! | [`shared`] | what the loop lends a handler: clock, responses, limits, counters, buffers |
//! | [`framing`], [`chunked`] | where a request ends: heads, `Content-Length`, chunked bodies |
//! | [`response`] | every response, rendered at start-up; `Date` patched in place |
//! | [`listener`] | the listening socket and the three kinds of `accept` error |
//! | [`handle`] | control from other threads: [`ServerHandle`], [`Running`] |
//! | [`config`] | flags and [`Config`] |
//! | [`stats`] | counters and the [`Summary`] |
//! | [`fdlimit`] | raising `RLIMIT_NOFILE` |
#![deny(missing_docs)]

pub mod config;
pub mod connection;
pub mod fdlimit;
pub mod handle;
pub mod listener;
pub mod protocol;
pub mod server;
pub mod shared;

pub use config::{Cli, Config};
pub use handle::{Running, ServerHandle};
pub use protocol::stats::Summary;
pub use server::Server;
