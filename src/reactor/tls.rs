//! TLS as one more sans-I/O layer: a [`TlsStream`] sits between the socket and the
//! driver, which reads and writes it as it reads and writes a plain socket.
//!
//! ```text
//!   driver (driver.rs)     read(buf) -> plaintext     write(plaintext) -> n
//!      |                          ^                          |
//!   TlsStream (here)       rustls::ServerConnection: records in, records out
//!      |                          ^                          v
//!   Stream::Tcp / Unix     recv(2)                    send(2) / sendmsg(2)
//! ```
//!
//! rustls's `ServerConnection` does no I/O itself: it takes ciphertext, gives back
//! plaintext, and queues ciphertext to send. So the protocol core stays what it
//! was (bytes in, answers out, no TLS), and plain connections pay nothing: the
//! TLS state is one boxed variant of [`Stream`], and their `read` and `write` are
//! the system calls they always were.
//!
//! The seam keeps the driver's rules true over TLS; each rule answers a known trap
//! of TLS in an edge-triggered loop (`tests/tls.rs` has a test for each):
//! 1. **A short read still means "the socket is drained".** The driver stops
//!    reading after a short read (edge-triggered: the edge is spent). So `read`
//!    returns fewer bytes than asked only when the socket itself ran dry (a short
//!    `recv`, `WouldBlock` or EOF) *and* rustls holds no more plaintext: decrypted
//!    bytes never wait unseen for an edge that will not come (rustls#12), and a
//!    burst of pipelined requests in one record is all handed over.
//! 2. **Every record is processed once, right after it is read**, and the
//!    plaintext is taken out before the next `read_tls` (rustls#3217).
//! 3. **Ciphertext that the socket did not take is output still pending.**
//!    [`Stream::pending_output`] tells the driver, which then asks for writable
//!    edges and flushes it ([`TlsStream::flush`]) before anything newer, exactly
//!    as it does with its own spill (rustls#359). A handshake reply blocked in the
//!    middle of a `read` is flushed the same way.
//! 4. **Backpressure passes through.** `write` first flushes older ciphertext and
//!    refuses new plaintext (`WouldBlock`) while any waits, so what rustls buffers
//!    is bounded by one write (at most its 64 KiB limit at a time), and the
//!    driver stops reading when a client stops reading.
//! 5. **EOF is an end, never a spin.** A TCP FIN, with or without `close_notify`,
//!    reads as `Ok(0)` once the plaintext before it is taken; an error in a record
//!    is an `InvalidData` error that closes the connection (rustls#285).
//!
//! Plain HTTP sent to the TLS port is told so: the first byte of a TLS connection
//! is a record type (`0x16`, a handshake); an ASCII letter is an HTTP method, and
//! gets a `400` saying the port speaks HTTPS (nginx's 497), then a close.

use std::io::{self, Read, Write};
use std::net::Shutdown;
use std::sync::Arc;

use log::{debug, trace};
use rustls::ServerConnection;

use super::stream::Stream;
use crate::protocol::ConnId;

mod config;
mod stats;

pub use config::{ALPN, Tls, TlsFiles};
pub use stats::{Outcome, TlsStats};

/// Most `read_tls` calls in one `read`: a client sending records that hold no
/// plaintext (empty records, alerts) cannot keep one call busy forever.
const RECORD_READS_PER_READ: usize = 64;

/// The `400` plain HTTP gets on the TLS port.
const PLAIN_HTTP_ANSWER: &[u8] = b"HTTP/1.1 400 Bad Request\r\n\
Content-Type: text/plain; charset=utf-8\r\nContent-Length: 60\r\nConnection: close\r\n\r\n\
This port speaks HTTPS: the request was sent as plain HTTP.\n";

/// One TLS connection: the socket and rustls's state for it.
#[derive(Debug)]
pub struct TlsStream {
    /// The socket: `Stream::Tcp` or `Stream::Unix`, never `Stream::Tls`.
    sock: Stream,
    conn: ServerConnection,
    tls: Arc<Tls>,
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
        let conn = ServerConnection::new(tls.current()).map_err(io::Error::other)?;
        Ok(TlsStream {
            sock,
            conn,
            tls: Arc::clone(tls),
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

    /// Ciphertext waits for room in the socket.
    pub fn pending_output(&self) -> bool {
        self.conn.wants_write()
    }

    /// Plaintext into `buf`: see the module docs, rule 1, for when it is short.
    /// `Ok(0)` is the end of input; `Interrupted` asks to be called again.
    pub fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        let mut filled = 0;
        let mut drained = false;
        let mut reads = 0;
        loop {
            // Plaintext first, before any new record (rules 1 and 2).
            match self.conn.reader().read(&mut buf[filled..]) {
                Ok(0) => return Ok(filled), // close_notify: the end
                Ok(n) => filled += n,
                Err(e) if e.kind() == io::ErrorKind::WouldBlock => {}
                Err(e) if e.kind() == io::ErrorKind::UnexpectedEof => return Ok(filled),
                Err(e) => return Err(e),
            }
            if filled == buf.len() || drained {
                break;
            }
            if reads == RECORD_READS_PER_READ {
                if filled == 0 {
                    return Err(io::ErrorKind::Interrupted.into());
                }
                break;
            }
            reads += 1;
            drained = match self.read_records()? {
                // A short read with nothing decrypted: read once more, as a FIN
                // that came with the data may be waiting and its edge is spent
                // (the driver's rule 1: read on until `Ok(0)`).
                Socket::Short if filled == 0 => false,
                Socket::Short | Socket::Drained => true,
                Socket::More => false,
            };
        }
        if filled == 0 {
            return Err(io::ErrorKind::WouldBlock.into()); // drained, nothing decrypted
        }
        Ok(filled)
    }

    /// One `read_tls` from the socket, then process what came.
    fn read_records(&mut self) -> io::Result<Socket> {
        let mut source = SocketReader {
            sock: &mut self.sock,
            short: false,
            first: None,
        };
        let result = self.conn.read_tls(&mut source);
        let (short, first) = (source.short, source.first);
        if self.fresh && first.is_some() {
            self.fresh = false;
            if first.is_some_and(|b| b.is_ascii_uppercase()) {
                return Err(self.refuse_plain_http());
            }
        }
        let state = match result {
            Ok(0) => Socket::Drained, // EOF
            Ok(_) if short => Socket::Short,
            Ok(_) => Socket::More,
            Err(e) if e.kind() == io::ErrorKind::WouldBlock => Socket::Drained,
            Err(e) if e.kind() == io::ErrorKind::Interrupted => Socket::More,
            Err(e) => return Err(e),
        };
        self.process()?;
        Ok(state)
    }

    /// Process the records read, once; send what the handshake answers.
    fn process(&mut self) -> io::Result<()> {
        if let Err(e) = self.conn.process_new_packets() {
            let _ = self.flush(); // the alert rustls queued, if the socket takes it
            if !self.counted {
                self.counted = true;
                self.tls.stats.count(Outcome::of_error(&e));
            }
            return Err(io::Error::new(
                io::ErrorKind::InvalidData,
                format!("TLS: {e}"),
            ));
        }
        if !self.counted && !self.conn.is_handshaking() {
            self.handshake_done();
        }
        match self.flush() {
            Err(e) if e.kind() == io::ErrorKind::WouldBlock => Ok(()), // pending: rule 3
            other => other,
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

    /// Encrypt `buf` and send it. Older ciphertext goes first: while any waits,
    /// nothing new is taken (`WouldBlock`). Returns how much plaintext was taken;
    /// less than `buf.len()` only when the socket is full.
    pub fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        self.flush()?;
        let mut taken = 0;
        while taken < buf.len() {
            let n = self.conn.writer().write(&buf[taken..])?;
            taken += n;
            match self.flush() {
                Ok(()) if n > 0 => {}
                Ok(()) => break, // rustls holds plaintext until the handshake ends
                Err(e) if e.kind() == io::ErrorKind::WouldBlock => break,
                Err(e) => return Err(e),
            }
        }
        if taken == 0 {
            return Err(io::ErrorKind::WouldBlock.into());
        }
        Ok(taken)
    }

    /// Send the ciphertext waiting. `Err(WouldBlock)`: some still waits.
    pub fn flush(&mut self) -> io::Result<()> {
        while self.conn.wants_write() {
            match self.conn.write_tls(&mut SocketWriter(&mut self.sock)) {
                Ok(0) => return Err(io::ErrorKind::WriteZero.into()),
                Ok(_) => {}
                Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
                Err(e) => return Err(e),
            }
        }
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
        if !self.notified && !self.conn.is_handshaking() {
            self.notified = true;
            self.conn.send_close_notify();
            let _ = self.flush();
        }
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

/// What a read from the socket says about what is left in it.
enum Socket {
    /// The read filled rustls's buffer: more may wait.
    More,
    /// A short read: drained at that instant, but a FIN may follow.
    Short,
    /// `WouldBlock` or EOF.
    Drained,
}

/// The socket as rustls reads it: notes a short read (the socket is drained) and
/// the first byte.
struct SocketReader<'a> {
    sock: &'a mut Stream,
    short: bool,
    first: Option<u8>,
}

impl Read for SocketReader<'_> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        let n = self.sock.read(buf)?;
        self.short = n < buf.len();
        if n > 0 {
            self.first = Some(buf[0]);
        }
        Ok(n)
    }
}

/// The socket as rustls writes it: queued records go out in one `sendmsg` where
/// the platform has it.
struct SocketWriter<'a>(&'a mut Stream);

impl Write for SocketWriter<'_> {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        self.0.write(buf)
    }

    fn write_vectored(&mut self, bufs: &[io::IoSlice<'_>]) -> io::Result<usize> {
        self.0.write_vectored(bufs)
    }

    fn flush(&mut self) -> io::Result<()> {
        Ok(())
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
            "TlsStream is {} bytes, of which ServerConnection {}",
            std::mem::size_of::<TlsStream>(),
            std::mem::size_of::<ServerConnection>()
        );
    }
}
