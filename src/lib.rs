//! hello-reactor: an event-driven HTTP/1.1 and HTTP/2 server on [`mio`] that
//! answers every request with one fixed response.
//!
//! It grew from the blocking `webserver1.py` of ["Let's Build A Web Server. Part
//! 1."](https://ruslanspivak.com/lsbaws-part1/) by Ruslan Spivak: accept one
//! connection, one `recv(1024)`, send `HTTP/1.1 200 OK`, close. That server serves
//! one client at a time and trusts one `recv` to hold a whole request.
//! This crate keeps its promise (one fixed answer, readable code) and serves tens of
//! thousands of clients from one thread per core.
//!
//! # Three layers
//!
//! ```text
//!   process   process/   CLI -> Config, the fd limit, signals, the reactors
//!      |                 (once per process; `--workers N` runs N of them)
//!      v
//!   reactor   reactor/   one thread, one mio::Poll: the listener, the slab of
//!      |                 connections, socket reads and writes, the timer
//!      v
//!   (data)    config.rs  Config: what the server is told, with the defaults
//!      |      certs.rs   that are not the core's; Config::protocol() makes the
//!      |                 core's protocol::Settings. certs.rs: the TLS certificate
//!      v                 and key, loaded once, carried by the Config
//!   protocol  protocol/  one HTTP/1.1 connection (or, in protocol/h2/, one
//!                        HTTP/2 connection) as a state machine: bytes and "now"
//!                        in, answers and "what I wait for, until when" out; no
//!                        sockets, no clocks, no mio
//! ```
//!
//! Imports run one way, down the drawing: a layer uses those below it (the process
//! also uses the protocol's types, such as its `Summary`), never one above. The
//! protocol core imports nothing outside `protocol/`: it is handed its
//! [`protocol::Settings`], never the [`Config`], so it does not grow when another
//! layer gains a setting. The core ([`protocol::Conn`]) can be driven by anything
//! that reads and writes bytes: the reactor ([`reactor::Connection`], which holds
//! it, or an HTTP/2 [`protocol::h2::Session`], in its field `core`) does it with
//! non-blocking sockets and readiness events,
//! `examples/blocking.rs` with blocking sockets, and the tests with plain byte
//! strings and a clock that is just a number.
//!
//! # Where each rule lives
//!
//! Every rule is stated once, with its reason, on the code it governs:
//!
//! | rule | home |
//! |------|------|
//! | the loop's order: clock once per turn, every event looked up again, handlers never close themselves, writable interest only when needed | [`reactor`] (the rules), `reactor/calls.rs` (every handler call and what follows it) |
//! | edge-triggered reads and writes, the spill, one read one write, fairness, the lingering close | [`reactor::driver`] |
//! | accepting: deferred accept, the read at accept, the accept budget, fd back-off | `reactor/accept.rs`, [`reactor::listener`] |
//! | the coarse timer | `reactor/ticker.rs` |
//! | the precise timer queue: "call connection `key` at time `T`" | [`reactor::timers`] |
//! | faults on purpose: held answers (`--delay`), injected failures, the seeded generator | `protocol/conn/held.rs`, `protocol/h2/session/held.rs`, [`protocol::faults`] |
//! | a large `--body-size` written from one shared block | [`protocol::pattern`], `reactor/driver/output.rs` |
//! | phases and deadlines | [`protocol::phase`] |
//! | what happens to input and answers | [`protocol::conn`] |
//! | framing: `Partial` is not an error, smuggling defences | [`protocol::framing`], [`protocol::chunked`] |
//! | pre-rendered answers, the `Date` patch | [`protocol::response`] |
//! | HTTP/2, the second core: frames, HPACK, stream states, flow control, flood budgets, GOAWAY | [`protocol::h2`] |
//! | one reactor, two cores: the `Core` enum, what HTTP/2 borrows, its counters | [`reactor::cores`], [`protocol::h2::counts`] |
//! | the first bytes choose the core: the preface (h2c prior knowledge) or ALPN over TLS; `--http2 on\|off\|only` | `reactor/driver/input.rs` (`choose_core`), [`certs`] (`ALPN`) |
//! | signals, the fd limit, the connection budget | [`process`] |
//! | several reactors in one process: listening, splitting the cap, totals | [`process::Workers`] |
//! | TCP, Unix or TLS streams: an enum, the stale socket file | `reactor/stream.rs`, [`reactor::listener`] |
//! | TLS as one more sans-I/O layer under the driver's reads and writes; the traps of TLS in an edge-triggered loop | [`reactor::tls`] |
//! | the certificate, key and client CA: loaded once, checked, swapped on SIGHUP; handshake counters | [`certs`] |
//! | socket activation (`LISTEN_FDS`) | [`process::activation`] |
//! | metrics: increments on the loop's thread, rendered when scraped, summable | [`reactor::metrics`], `reactor/scrape.rs` |
//! | every limit and its flag; each default written once, beside the data it defaults | [`config`] (`DEFAULT_*`), the protocol's types (`Answer::DEFAULT`, `Limits::DEFAULT`, `Timeouts::DEFAULT`), [`process::cli`] (the flags), `docs/limits.md` |
//!
//! `docs/architecture.md` draws the layers, and `docs/walkthrough.md` shows each
//! rule at a terminal.
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
//! The binary (`src/main.rs`) parses [`Cli`] into a [`Config`] and hands it to
//! [`process::serve`].
//!
//! # The protocol core without a socket
//!
//! ```
//! use hello_reactor::protocol::{Phase, Want};
//! use hello_reactor::protocol::testing::Fixture;
//!
//! let mut f = Fixture::new(); // a core, its config, and a clock at 0 ms
//! let answers = f.input(b"GET / HTTP/1.1\r\n"); // half a head: nothing to say yet
//! assert!(answers.is_empty());
//! assert_eq!(f.conn.phase(), Phase::Head);
//! f.advance(f.common.timeouts.header); // 30 s later, the head is still incomplete
//! assert!(f.expire().starts_with(b"HTTP/1.1 408 Request Timeout\r\n"));
//! f.all_sent();
//! assert_eq!(f.conn.wants(), Want::Drain); // linger: the client may still send
//! ```

pub mod certs;
pub mod config;
pub mod process;
pub mod protocol;
pub mod reactor;

pub use config::{Config, ListenerMode};
pub use process::Workers;
pub use process::cli::Cli;
pub use protocol::stats::Summary;
pub use reactor::{Endpoint, MetricsSlot, Running, Server, ServerHandle, Snapshot};
