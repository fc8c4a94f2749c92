//! TLS as one more sans-I/O layer: a [`TlsStream`] sits between the socket and the
//! driver, which reads and writes it as it reads and writes a plain socket.
//!
//! ```text
//!   driver (driver.rs)     read(buf) -> plaintext     write(plaintext) -> n
//!      |                          ^                          |
//!   TlsStream (here)       rustls: records in, records out (tls/records.rs)
//!      |                          ^                          v
//!   Stream::Tcp / Unix     recv(2) into buf           send(2) from `out`
//! ```
//!
//! rustls's `UnbufferedServerConnection` does no I/O and owns no I/O buffer: it is
//! shown the records received and answers with plaintext, records to send, or "more
//! input". So the protocol core stays what it was (bytes in, answers out, no TLS),
//! and plain connections pay nothing: the TLS state is one boxed variant of
//! [`Stream`], and their `read` and `write` are the system calls they always were.
//! Records are read into the loop's shared buffer, and an idle TLS connection keeps
//! no buffer at all (rustls's buffered `ServerConnection` keeps 4 KiB each).
//!
//! The seam keeps the driver's rules true over TLS; each rule answers a known trap
//! of TLS in an edge-triggered loop (`tests/tls.rs` has a test for each):
//! 1. **"The socket is drained" is said, not guessed.** The driver stops reading
//!    after a short read (edge-triggered: the edge is spent). Plaintext is shorter
//!    than its records, so a TLS read is short even when a full buffer of records
//!    was read; then [`Stream::input_waits`] tells the driver to read again, and
//!    input never waits unseen for an edge that will not come (rustls#12).
//! 2. **Every record is processed once, as soon as it is complete**, and its
//!    plaintext is taken before the next one (rustls#3217); the start of an
//!    incomplete record is kept for the next read.
//! 3. **Records that the socket did not take are output still pending.**
//!    [`Stream::pending_output`] tells the driver, which then asks for writable
//!    edges and flushes them ([`TlsStream::flush`]) before anything newer, exactly
//!    as it does with its own spill (rustls#359). A handshake reply blocked in the
//!    middle of a `read` is flushed the same way.
//! 4. **Backpressure passes through.** `write` first flushes older records and
//!    refuses new plaintext (`WouldBlock`) while any wait, so what waits is bounded
//!    by one write (64 KiB of plaintext at a time), and the driver stops reading
//!    when a client stops reading.
//! 5. **EOF is an end, never a spin.** A TCP FIN, with or without `close_notify`,
//!    reads as `Ok(0)` once the plaintext before it is taken; an error in a record
//!    is an `InvalidData` error that closes the connection (rustls#285), and rustls
//!    is not called again after one.
//!
//! Plain HTTP sent to the TLS port is told so: the first byte of a TLS connection
//! is a record type (`0x16`, a handshake); an ASCII letter is an HTTP method, and
//! gets a `400` saying the port speaks HTTPS (nginx's 497), then a close.

use std::io::{self, Read, Write};
use std::net::Shutdown;
use std::sync::Arc;

use log::{debug, trace};
use rustls::server::UnbufferedServerConnection;

use super::stream::Stream;
use crate::certs::{Outcome, Tls};
use crate::protocol::ConnId;
use records::invalid;

mod records;

/// Most socket reads in one `read`: a client sending records that hold no
/// plaintext (empty records, alerts) cannot keep one call busy forever.
const RECORD_READS_PER_READ: usize = 64;
/// Most plaintext encrypted at once: what an output buffer holds at most.
const WRITE_CHUNK: usize = 64 * 1024;

/// The `400` plain HTTP gets on the TLS port.
const PLAIN_HTTP_ANSWER: &[u8] = b"HTTP/1.1 400 Bad Request\r\n\
Content-Type: text/plain; charset=utf-8\r\nContent-Length: 60\r\nConnection: close\r\n\r\n\
This port speaks HTTPS: the request was sent as plain HTTP.\n";

/// One TLS connection: the socket, rustls's state for it, and the bytes the two
/// could not agree on yet (each allocated only while non-empty).
pub struct TlsStream {
    /// The socket: `Stream::Tcp` or `Stream::Unix`, never `Stream::Tls`.
    sock: Stream,
    conn: UnbufferedServerConnection,
    tls: Arc<Tls>,
    /// The start of a record (or of a handshake message) whose rest has not
    /// arrived: kept between reads, empty when idle.
    incoming: Vec<u8>,
    /// Records to send; `out[sent..]` is what the socket has not taken yet.
    out: Vec<u8>,
    sent: usize,
    /// The last read stopped with the socket not drained: call `read` again.
    more: bool,
    /// The client's close_notify or FIN has been read: no more input.
    ended: bool,
    /// An error ended the session: rustls is not called again (its state may
    /// point into bytes that are gone).
    broken: bool,
    /// The handshake's outcome has been counted.
    counted: bool,
    /// No byte has been read yet: the first one tells TLS from plain HTTP.
    fresh: bool,
    /// The handshake must be done by then (loop ms: accepted + header timeout).
    deadline: u64,
    /// `close_notify` has been queued.
    notified: bool,
    /// Its name in logs (`conn 7`).
    id: ConnId,
}

impl TlsStream {
    /// Start the server side of a handshake on `sock` (connection `id`), with the
    /// current certificate, to be done by `deadline` (the loop's milliseconds).
    pub fn new(sock: Stream, tls: &Arc<Tls>, deadline: u64, id: ConnId) -> io::Result<TlsStream> {
        let conn = UnbufferedServerConnection::new(tls.current()).map_err(io::Error::other)?;
        Ok(TlsStream {
            sock,
            conn,
            tls: Arc::clone(tls),
            incoming: Vec::new(),
            out: Vec::new(),
            sent: 0,
            more: false,
            ended: false,
            broken: false,
            counted: false,
            fresh: true,
            deadline,
            notified: false,
            id,
        })
    }

    /// The socket underneath.
    pub fn socket(&self) -> &Stream {
        &self.sock
    }

    /// The socket underneath, for (de)registration.
    pub fn socket_mut(&mut self) -> &mut Stream {
        &mut self.sock
    }

    /// The protocol ALPN chose (`http/1.1`), once the handshake is done; `None` if
    /// the client offered none. A core for HTTP/2 would be chosen by this.
    pub fn alpn(&self) -> Option<&[u8]> {
        self.conn.alpn_protocol()
    }

    /// The handshake is done: application data flows.
    pub fn is_established(&self) -> bool {
        !self.conn.is_handshaking()
    }

    /// While the handshake is under way, when it must be done: the core sees no
    /// byte before it ends, so its own deadline would be the keep-alive timeout.
    pub fn handshake_deadline(&self) -> Option<u64> {
        self.conn.is_handshaking().then_some(self.deadline)
    }

    /// Records wait for room in the socket.
    pub fn pending_output(&self) -> bool {
        self.sent < self.out.len()
    }

    /// The last `read` left input in the socket although it returned less than a
    /// full buffer (plaintext is shorter than its records): read again.
    pub fn input_waits(&self) -> bool {
        self.more
    }

    /// Plaintext into `buf`: see the module docs, rule 1, for when it is short.
    /// `Ok(0)` is the end of input; `Interrupted` asks to be called again.
    ///
    /// Records are read into `buf` itself, behind the plaintext already taken from
    /// it: `buf[..filled]` is plaintext, `buf[start..end]` records not processed
    /// yet, and `filled <= start` always (a record is longer than its plaintext).
    #[inline(never)] // off the plain sockets' path: `Stream::read` stays small
    pub fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        if self.broken {
            return Err(invalid("the session failed"));
        }
        let result = self.read_records(buf);
        if let Err(e) = &result
            && !matches!(
                e.kind(),
                io::ErrorKind::WouldBlock | io::ErrorKind::Interrupted
            )
        {
            self.broken = true;
        }
        result
    }

    fn read_records(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        self.more = false;
        let mut end = self.incoming.len();
        if end >= buf.len() {
            return Err(invalid("record too large"));
        }
        buf[..end].copy_from_slice(&self.incoming);
        self.incoming = Vec::new();
        let (mut start, mut filled, mut drained) = (0, 0, false);
        for _ in 0..RECORD_READS_PER_READ {
            self.process(buf, &mut start, end, &mut filled)?;
            if self.ended || drained {
                break;
            }
            if start > filled {
                buf.copy_within(start..end, filled); // room for more records
                end -= start - filled;
                start = filled;
            }
            if end == buf.len() {
                self.more = true; // full: the driver comes back for the rest
                break;
            }
            match self.sock.read(&mut buf[end..]) {
                Ok(0) => self.ended = true,
                Ok(n) => {
                    if self.fresh {
                        self.fresh = false;
                        if buf[end].is_ascii_uppercase() {
                            return Err(self.refuse_plain_http());
                        }
                    }
                    // A short read drained the socket; with nothing decrypted yet,
                    // read once more: a FIN that came with the data may be waiting.
                    drained = end + n < buf.len() && filled > 0;
                    end += n;
                }
                Err(e) if e.kind() == io::ErrorKind::WouldBlock => drained = true,
                Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
                Err(e) => return Err(e),
            }
        }
        if start < end {
            self.incoming = buf[start..end].to_vec();
        }
        if filled > 0 || self.ended {
            return Ok(filled);
        }
        match drained {
            true => Err(io::ErrorKind::WouldBlock.into()),
            false => Err(io::ErrorKind::Interrupted.into()),
        }
    }

    fn handshake_done(&mut self) {
        self.counted = true;
        self.tls.stats.count(Outcome::Ok);
        if let Some(version) = self.conn.protocol_version() {
            self.tls.stats.count_version(version);
        }
        let none = || "none".to_string();
        trace!(
            "{}: TLS handshake done: {}, {}, ALPN {}, {}",
            self.id,
            self.conn
                .protocol_version()
                .map_or_else(none, |v| format!("{v:?}")),
            (self.conn.negotiated_cipher_suite()).map_or_else(none, |s| format!("{:?}", s.suite())),
            self.alpn()
                .map_or_else(none, |p| String::from_utf8_lossy(p).into_owned()),
            match self.conn.handshake_kind() {
                Some(rustls::HandshakeKind::Resumed) => "resumed",
                _ => "full",
            },
        );
    }

    /// Answer plain HTTP with a `400` and shut the write side. The request was
    /// read whole (it is a few hundred bytes), so the close sends no reset.
    fn refuse_plain_http(&mut self) -> io::Error {
        self.counted = true;
        self.tls.stats.count(Outcome::PlainHttp);
        let _ = self.sock.write(PLAIN_HTTP_ANSWER); // an empty send buffer takes it
        let _ = self.sock.shutdown(Shutdown::Write);
        io::Error::new(
            io::ErrorKind::InvalidData,
            "plain HTTP on the HTTPS port: answered 400",
        )
    }

    /// Encrypt `buf` and send it. Older records go first: while any wait, nothing
    /// new is taken (`WouldBlock`). Returns how much plaintext was taken; less
    /// than `buf.len()` only when the socket is full.
    #[inline(never)] // off the plain sockets' path: `Stream::write` stays small
    pub fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        self.flush()?;
        let mut taken = 0;
        while taken < buf.len() {
            let chunk = &buf[taken..buf.len().min(taken + WRITE_CHUNK)];
            self.encrypt(Some(chunk))?;
            taken += chunk.len();
            match self.flush() {
                Ok(()) => {}
                Err(e) if e.kind() == io::ErrorKind::WouldBlock => break,
                Err(e) => return Err(e),
            }
        }
        Ok(taken)
    }

    /// Send the records waiting. `Err(WouldBlock)`: some still wait.
    pub fn flush(&mut self) -> io::Result<()> {
        while self.sent < self.out.len() {
            match self.sock.write(&self.out[self.sent..]) {
                Ok(0) => return Err(io::ErrorKind::WriteZero.into()),
                Ok(n) => self.sent += n,
                Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
                Err(e) => return Err(e),
            }
        }
        self.out = Vec::new(); // an idle connection keeps no output buffer
        self.sent = 0;
        Ok(())
    }

    /// Shut down one or both directions; the write side says `close_notify` first.
    pub fn shutdown(&mut self, how: Shutdown) -> io::Result<()> {
        if how != Shutdown::Read {
            self.close_notify();
        }
        self.sock.shutdown(how)
    }

    /// Tell the client that no more data follows (once), if the socket takes it:
    /// a client that sees a FIN without it may report a truncation attack.
    fn close_notify(&mut self) {
        if !self.notified && !self.broken && !self.conn.is_handshaking() {
            self.notified = true;
            if self.encrypt(None).is_ok() {
                let _ = self.flush();
            }
        }
    }
}

impl std::fmt::Debug for TlsStream {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("TlsStream")
            .field("sock", &self.sock)
            .field("id", &self.id)
            .field("handshaking", &self.conn.is_handshaking())
            .field("incoming", &self.incoming.len())
            .field("pending", &(self.out.len() - self.sent))
            .finish_non_exhaustive()
    }
}

impl Drop for TlsStream {
    /// A close ends with `close_notify`; a connection closed before its handshake
    /// ended (EOF, reset, timeout) is counted as incomplete.
    fn drop(&mut self) {
        self.close_notify();
        if !self.counted {
            self.tls.stats.count(Outcome::Incomplete);
            debug!("{}: closed before the TLS handshake finished", self.id);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tls_costs_a_plain_connection_one_pointer() {
        // The variant is a Box: the enum is a tag and a pointer, whatever rustls's
        // state weighs (it is allocated only for a TLS connection).
        // (mio's TcpStream carries a selector id in debug builds: 8 more.)
        let budget = if cfg!(debug_assertions) { 24 } else { 16 };
        assert!(std::mem::size_of::<Stream>() <= budget);
        eprintln!(
            "TlsStream is {} bytes, of which UnbufferedServerConnection {}",
            std::mem::size_of::<TlsStream>(),
            std::mem::size_of::<UnbufferedServerConnection>()
        );
    }
}
