//! Reading: bytes from the socket go to the protocol core, and what it could not
//! answer yet waits in the spill.

use std::io::{self, Read};

use log::trace;

use super::Connection;
use crate::config::Http2Mode;
use crate::protocol::Stop;
use crate::protocol::h2::session::PREFACE;
use crate::reactor::context::Context;
use crate::reactor::cores::Core;
use crate::reactor::metrics::CloseReason;

/// Two one-time steps of a connection, in the order they happen, kept in one
/// byte (the slab entry has none to spare): its first bytes choose the core,
/// then, once output needs it, `TCP_NODELAY` is set. No output is made before
/// the choice (sniffed bytes are only held), so the order always holds.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Setup {
    /// The first bytes may still choose HTTP/2 (`--http2 on`).
    Sniff,
    /// The core is chosen; Nagle's algorithm is on.
    Chosen,
    /// `TCP_NODELAY` is set.
    NoDelay,
}

impl Connection {
    /// One `read` into the shared buffer, and everything that can be answered from it.
    pub(super) fn read_and_process(&mut self, cx: &mut Context<'_>) -> io::Result<()> {
        let n = match self.stream.read(cx.read_buf) {
            Ok(0) => {
                self.on_eof(cx);
                return Ok(());
            }
            Ok(n) => n,
            Err(e) if e.kind() == io::ErrorKind::WouldBlock => {
                self.readable = false;
                return Ok(());
            }
            Err(e) if e.kind() == io::ErrorKind::Interrupted => return Ok(()),
            Err(e) => return Err(e),
        };
        cx.io.bytes_received += n as u64;
        self.readable = self.more_input_after_read(n, cx.read_buf.len());
        trace!("{}: read {n} bytes", cx.shared.id);
        let data = std::mem::take(&mut cx.read_buf);
        self.process_read(cx, &data[..n]);
        cx.read_buf = data;
        Ok(())
    }

    fn on_eof(&mut self, cx: &mut Context<'_>) {
        self.readable = false;
        self.note_close(CloseReason::Peer);
        // An incomplete head or body can never complete now.
        if let Some(spill) = self.spill.as_mut() {
            spill.input = Vec::new();
        }
        self.head_waits = false;
        self.release_empty_spill();
        self.core.eof(cx);
    }

    fn process_read(&mut self, cx: &mut Context<'_>, data: &[u8]) {
        if self.setup == Setup::Sniff && !self.choose_core(cx, data) {
            return;
        }
        let Some(spill) = self.spill.as_mut().filter(|s| !s.input.is_empty()) else {
            let (used, stop) = self.core.process(cx, data);
            if used < data.len() {
                self.save_input(&data[used..], stop);
            }
            return;
        };
        spill.input.extend_from_slice(data);
        // An incomplete head can only complete with a new line: skip re-parsing the
        // whole head for every byte a slow client trickles in. (An HTTP/2 frame
        // has no lines: its session is given every byte.)
        if data.contains(&b'\n')
            || spill.input.len() >= cx.shared.limits.max_head
            || matches!(self.core, Core::Http2(_))
        {
            self.head_waits = false;
            self.process_saved(cx);
        }
    }

    /// Answer what the spill holds, keeping what is left.
    pub(super) fn process_saved(&mut self, cx: &mut Context<'_>) {
        let Some(spill) = self.spill.as_mut() else {
            return;
        };
        let mut input = std::mem::take(&mut spill.input);
        let (used, stop) = self.core.process(cx, &input);
        input.drain(..used);
        self.head_waits = stop == Stop::Partial;
        if let Some(spill) = self.spill.as_mut() {
            spill.input = input;
        }
        self.release_empty_spill();
    }

    /// The connection's first bytes choose its core (RFC 9113 §3.3, prior
    /// knowledge): the whole HTTP/2 preface starts a session, which reads the
    /// preface itself; anything else is HTTP/1.1. A proper prefix of the
    /// preface decides nothing yet: it is kept, and `false` says so.
    /// Over TLS, ALPN has chosen already (the handshake is done before any
    /// plaintext): `h2`, or HTTP/1.1.
    fn choose_core(&mut self, cx: &mut Context<'_>, data: &[u8]) -> bool {
        if let Some(tls) = self.stream.tls() {
            let h2 = match tls.alpn() {
                Some(protocol) => protocol == b"h2",
                None => cx.h2.mode == Http2Mode::Only,
            };
            self.setup = Setup::Chosen;
            if h2 {
                trace!("{}: ALPN h2: HTTP/2", cx.shared.id);
                self.core = Core::http2(cx);
            } else {
                trace!("{}: ALPN not h2: HTTP/1.1", cx.shared.id);
            }
            return true;
        }
        let held = self.spill.as_ref().map_or(0, |s| s.input.len());
        let end = (held + data.len()).min(PREFACE.len());
        let agrees = held <= end && data[..end - held] == PREFACE[held..end];
        if agrees && end < PREFACE.len() {
            trace!(
                "{}: HTTP/2 preface so far ({end} bytes): waiting",
                cx.shared.id
            );
            if held == 0 {
                // Shown a head's first byte, HTTP/1.1 waits for the rest under its
                // header timeout: the wait for the preface is bounded alike.
                let (used, _) = self.core.process(cx, &PREFACE[..1]);
                debug_assert_eq!(used, 0, "one byte is never a whole head");
            }
            self.save_input(data, Stop::Partial);
            return false;
        }
        self.setup = Setup::Chosen;
        if agrees {
            trace!("{}: HTTP/2 preface: h2", cx.shared.id);
            self.core = Core::http2(cx);
        } else {
            trace!("{}: no HTTP/2 preface: HTTP/1.1", cx.shared.id);
        }
        true
    }

    fn save_input(&mut self, rest: &[u8], stop: Stop) {
        let spill = self.spill.get_or_insert_with(Box::default);
        spill.input.extend_from_slice(rest);
        self.head_waits = stop == Stop::Partial;
    }
}
