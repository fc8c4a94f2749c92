//! Driving rustls's unbuffered state machine: the records in the read buffer are
//! processed in place, handshake messages and application data are encoded into
//! the output buffer, and nothing stays allocated once it is done with.
//!
//! rustls's `UnbufferedServerConnection` owns no I/O buffer: each call is given
//! the bytes received so far and answers with one state (plaintext to take, a
//! message to encode, output to send, more input needed, or ready to encrypt).
//! That is why an idle TLS connection here costs no buffer: the records are read
//! into the loop's shared buffer, and only the start of an incomplete record is
//! kept between reads (`TlsStream::incoming`).

use std::io;

use rustls::unbuffered::{ConnectionState, EncodeError, EncryptError, InsufficientSizeError};

use super::{Outcome, TlsStream};

/// The largest plaintext of one record (2^14 bytes, RFC 8446 §5.1).
const MAX_PLAINTEXT: usize = 16 * 1024;

pub(super) fn invalid(why: impl std::fmt::Display) -> io::Error {
    io::Error::new(io::ErrorKind::InvalidData, format!("TLS: {why}"))
}

impl TlsStream {
    /// Process the complete records in `buf[*start..end]`: their plaintext goes to
    /// `buf[*filled..]` (behind them: a record is longer than its plaintext), what
    /// the handshake answers is encoded and sent.
    pub(super) fn process(
        &mut self,
        buf: &mut [u8],
        start: &mut usize,
        end: usize,
        filled: &mut usize,
    ) -> io::Result<()> {
        let mut plain = [0u8; MAX_PLAINTEXT];
        loop {
            let status = self.conn.process_tls_records(&mut buf[*start..end]);
            let discard = status.discard;
            let (mut got, mut again) = (0, true);
            match status.state {
                Err(e) => {
                    *start += discard;
                    return Err(self.failed(e, &mut buf[*start..end]));
                }
                Ok(ConnectionState::ReadTraffic(mut traffic)) => {
                    if let Some(record) = traffic.next_record() {
                        let payload = record.map_err(invalid)?.payload;
                        got = payload.len().min(MAX_PLAINTEXT);
                        plain[..got].copy_from_slice(&payload[..got]);
                    }
                }
                Ok(ConnectionState::EncodeTlsData(mut message)) => {
                    encode_into(&mut self.out, 4096, |out| message.encode(out).map_err(room))?;
                }
                Ok(ConnectionState::TransmitTlsData(transmit)) => transmit.done(), // flushed below
                Ok(ConnectionState::PeerClosed | ConnectionState::Closed) => {
                    self.ended = true;
                    again = false;
                }
                Ok(ConnectionState::BlockedHandshake | ConnectionState::WriteTraffic(_)) => {
                    again = false; // every complete record is processed
                }
                Ok(_) => return Err(invalid("early data")), // not enabled
            }
            *start += discard;
            if got > 0 {
                if *filled + got > *start {
                    return Err(invalid("plaintext longer than its record"));
                }
                buf[*filled..*filled + got].copy_from_slice(&plain[..got]);
                *filled += got;
            }
            if !self.counted && !self.conn.is_handshaking() {
                self.handshake_done();
            }
            if !again {
                break;
            }
        }
        match self.flush() {
            Err(e) if e.kind() == io::ErrorKind::WouldBlock => Ok(()), // pending: rule 3
            other => other,
        }
    }

    /// Encrypt `data` (or, for `None`, a close_notify) into the output buffer.
    pub(super) fn encrypt(&mut self, data: Option<&[u8]>) -> io::Result<()> {
        if self.broken {
            return Err(invalid("the session failed"));
        }
        let mut incoming = std::mem::take(&mut self.incoming);
        let result = self.encrypt_with(&mut incoming, data);
        self.incoming = incoming;
        if result
            .as_ref()
            .is_err_and(|e| e.kind() == io::ErrorKind::InvalidData)
        {
            self.broken = true;
        }
        result
    }

    fn encrypt_with(&mut self, incoming: &mut Vec<u8>, data: Option<&[u8]>) -> io::Result<()> {
        for _ in 0..16 {
            let status = self.conn.process_tls_records(incoming);
            let discard = status.discard;
            let done = match status.state {
                Err(e) => return Err(invalid(e)),
                Ok(ConnectionState::EncodeTlsData(mut message)) => {
                    encode_into(&mut self.out, 4096, |out| message.encode(out).map_err(room))?;
                    false
                }
                Ok(ConnectionState::TransmitTlsData(transmit)) => {
                    transmit.done(); // the caller flushes
                    false
                }
                Ok(ConnectionState::PeerClosed) => false, // we may still answer
                Ok(ConnectionState::WriteTraffic(mut traffic)) => {
                    match data {
                        Some(data) => {
                            let guess = data.len() + 64 * (data.len() / MAX_PLAINTEXT + 1);
                            encode_into(&mut self.out, guess, |out| {
                                traffic.encrypt(data, out).map_err(room_encrypt)
                            })?
                        }
                        None => encode_into(&mut self.out, 64, |out| {
                            traffic.queue_close_notify(out).map_err(room_encrypt)
                        })?,
                    }
                    true
                }
                Ok(ConnectionState::BlockedHandshake) => {
                    return Err(io::ErrorKind::WouldBlock.into());
                }
                Ok(ConnectionState::Closed) => return Err(io::ErrorKind::BrokenPipe.into()),
                Ok(_) => return Err(invalid("plaintext left unread")),
            };
            incoming.drain(..discard);
            if done {
                return Ok(());
            }
        }
        Err(invalid("no state to write in"))
    }

    /// A handshake or record failed: count it, send the alert rustls queued (if
    /// the socket takes it), and close. `rest`: the bytes after the failed record
    /// (rustls must be shown the same buffer, less what it said to discard).
    fn failed(&mut self, error: rustls::Error, rest: &mut [u8]) -> io::Error {
        self.broken = true;
        if !self.counted {
            self.counted = true;
            self.tls.stats.count(Outcome::of_error(&error));
        }
        // Only while an alert is queued: such a call hands it out before it reads
        // any record, and reading on after an error is not allowed.
        for _ in 0..4 {
            if !self.conn.wants_write() {
                break;
            }
            let status = self.conn.process_tls_records(rest);
            match status.state {
                Ok(ConnectionState::EncodeTlsData(mut message)) => {
                    let encoded =
                        encode_into(&mut self.out, 64, |out| message.encode(out).map_err(room));
                    if encoded.is_err() {
                        break;
                    }
                }
                Ok(ConnectionState::TransmitTlsData(transmit)) => transmit.done(),
                _ => break,
            }
        }
        let _ = self.flush();
        invalid(error)
    }
}

/// Append to `out` what `encode` writes, growing the room from `guess` to what it
/// says it needs (`Err(Some(bytes))`).
fn encode_into(
    out: &mut Vec<u8>,
    guess: usize,
    mut encode: impl FnMut(&mut [u8]) -> Result<usize, Option<usize>>,
) -> io::Result<()> {
    let at = out.len();
    let mut room = guess;
    for _ in 0..4 {
        out.resize(at + room, 0);
        match encode(&mut out[at..]) {
            Ok(n) => {
                out.truncate(at + n);
                return Ok(());
            }
            Err(Some(needed)) if needed > room => room = needed,
            Err(_) => break,
        }
    }
    out.truncate(at);
    Err(invalid("cannot encode a record"))
}

fn room(error: EncodeError) -> Option<usize> {
    match error {
        EncodeError::InsufficientSize(InsufficientSizeError { required_size }) => {
            Some(required_size)
        }
        _ => None,
    }
}

fn room_encrypt(error: EncryptError) -> Option<usize> {
    match error {
        EncryptError::InsufficientSize(InsufficientSizeError { required_size }) => {
            Some(required_size)
        }
        _ => None,
    }
}
