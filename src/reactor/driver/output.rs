//! Writing and closing: the output batch, the spill, and the lingering close.
//!
//! Every answer produced from one read goes out in one `write` of the shared batch.
//! A large `--body-size` body is the exception: the batch ends at its head, and the
//! body is written from the loop's one shared block of the pattern; a connection
//! that could not take it all keeps only how far it got (`stream_at`), never a copy.
//! What the socket does not take (a short write: the send buffer is full, and a
//! writable edge will follow) is copied into the connection's spill and written,
//! unchanged and in order, before anything newer. When the core lingers, only the
//! write side is shut and input is drained, because closing a socket with unread
//! input sends RST, and an RST can destroy the answer in flight.

use std::io::{self, Read, Write};
use std::net::Shutdown;

use log::trace;

use super::{Connection, Next, READS_PER_TURN, Setup};
use crate::protocol::{Want, pattern};
use crate::reactor::context::Context;
use crate::reactor::stream::Stream;

impl Connection {
    /// Write the output batch; what the socket does not take goes to the spill.
    /// Once all is out, HTTP/2 may have queued more (DATA a full batch held
    /// back): that is written too, until nothing new is queued or the socket is full.
    pub(super) fn write_out(&mut self, cx: &mut Context<'_>) -> io::Result<()> {
        while !cx.shared.out.is_empty() {
            if !self.write_batch(cx)? {
                break;
            }
        }
        Ok(())
    }

    /// Write the output batch once. `Ok(true)`: all of it went out.
    fn write_batch(&mut self, cx: &mut Context<'_>) -> io::Result<bool> {
        if !self.core.input_ended() {
            self.set_nodelay();
        }
        let out = cx.shared.out.as_slice();
        let tail = cx.shared.out.tail();
        let (mut written, mut streamed) = (0, 0);
        let result = if self.output_pending() {
            Ok(()) // keep order: older output goes first
        } else {
            write_some(&mut self.stream, out, &mut written, &mut self.writable).and_then(|()| {
                if written < out.len() || tail == 0 {
                    return Ok(()); // no streamed body: no call (rule of the hot path)
                }
                let block = cx.shared.responses.block();
                write_streamed(
                    &mut self.stream,
                    block,
                    &mut streamed,
                    tail,
                    &mut self.writable,
                )
            })
        };
        cx.io.bytes_sent += written as u64 + streamed;
        let all = written == out.len() && streamed == tail;
        if !all && result.is_ok() {
            trace!("{}: wrote {written} of {} bytes", cx.shared.id, out.len());
            self.set_nodelay();
            let spill = self.spill.get_or_insert_with(Box::default);
            debug_assert!(
                spill.stream_at == spill.stream_end,
                "nothing follows a body"
            );
            spill.output.extend_from_slice(&out[written..]);
            (spill.stream_at, spill.stream_end) = (streamed, tail);
        }
        cx.shared.out.clear();
        result?;
        if all && !self.stream.pending_output() {
            self.on_sent(cx);
        } else {
            self.core.write_blocked(cx);
        }
        Ok(all)
    }

    /// Turn Nagle's algorithm off, once per connection, when it could matter.
    ///
    /// Nagle holds back a small segment while earlier data is unacknowledged. The
    /// first write on a connection has nothing in flight, so a client answered with
    /// one write and then closed (`Connection: close`) never needs the
    /// `setsockopt`; a kept-alive connection or a response that did not go out whole
    /// does, before its next segment, or a pipelined answer could wait for the
    /// client's delayed ACK (up to 40 ms). nginx makes the same choice.
    fn set_nodelay(&mut self) {
        if self.setup != Setup::NoDelay {
            self.setup = Setup::NoDelay;
            let _ = self.stream.set_nodelay(true);
        }
    }

    /// Write spilled output. `Ok(true)`: all of it is out.
    pub(super) fn flush_spill(&mut self, cx: &mut Context<'_>) -> io::Result<bool> {
        if !self.writable {
            return Ok(false);
        }
        // TLS records the socket did not take are older than the spill: first.
        match self.stream.flush() {
            Ok(()) => {}
            Err(e) if e.kind() == io::ErrorKind::WouldBlock => {
                self.writable = false;
                return Ok(false);
            }
            Err(e) => return Err(e),
        }
        let Some(spill) = self.spill.as_mut() else {
            self.on_sent(cx);
            return Ok(true);
        };
        let (before, streamed_before) = (spill.written, spill.stream_at);
        write_some(
            &mut self.stream,
            &spill.output,
            &mut spill.written,
            &mut self.writable,
        )?;
        if spill.written == spill.output.len() && spill.stream_at < spill.stream_end {
            let block = cx.shared.responses.block();
            let end = spill.stream_end;
            write_streamed(
                &mut self.stream,
                block,
                &mut spill.stream_at,
                end,
                &mut self.writable,
            )?;
        }
        let progress = (spill.written - before) as u64 + (spill.stream_at - streamed_before);
        cx.io.bytes_sent += progress;
        if progress > 0 {
            trace!("{}: flushed {progress} bytes", cx.shared.id);
            self.core.write_progress(cx);
        }
        if spill.written < spill.output.len() || spill.stream_at < spill.stream_end {
            return Ok(false);
        }
        spill.output = Vec::new();
        spill.written = 0;
        (spill.stream_at, spill.stream_end) = (0, 0);
        self.release_empty_spill();
        self.on_sent(cx);
        if !cx.shared.out.is_empty() {
            self.write_out(cx)?; // HTTP/2's held-back DATA
        }
        Ok(true)
    }

    /// Every answer is out: the core decides what follows. If it lingers, shut the
    /// write side now (once: the core enters `Linger` only from here).
    fn on_sent(&mut self, cx: &mut Context<'_>) {
        self.core.sent(cx, self.readable);
        if self.core.wants() == Want::Drain {
            let _ = self.stream.shutdown(Shutdown::Write);
            self.spill = None;
            self.head_waits = false;
        }
    }

    /// Lingering: read and drop input until EOF, an error or the deadline.
    pub(super) fn discard_input(&mut self, cx: &mut Context<'_>) -> Next {
        for _ in 0..READS_PER_TURN {
            if !self.readable {
                return Next::Keep;
            }
            match self.stream.read(cx.read_buf) {
                Ok(0) => return Next::Close,
                Ok(n) => {
                    cx.io.bytes_received += n as u64;
                    self.readable = self.more_input_after_read(n, cx.read_buf.len());
                }
                Err(e) if e.kind() == io::ErrorKind::WouldBlock => self.readable = false,
                Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
                Err(_) => return Next::Close,
            }
        }
        Next::Yield
    }
}

/// Write the streamed body (`--body-size`) from byte `*at` to `end`, from the
/// shared `block` (see `protocol/pattern.rs`), until done or the socket is full.
/// Only the offset is kept between calls: nothing is copied per connection.
#[inline(never)] // only with a streamed body: off the path of every other answer
fn write_streamed(
    stream: &mut Stream,
    block: &[u8],
    at: &mut u64,
    end: u64,
    writable: &mut bool,
) -> io::Result<()> {
    while *at < end {
        let piece = pattern::slice_at(block, *at, end - *at);
        let mut written = 0;
        write_some(stream, piece, &mut written, writable)?;
        *at += written as u64;
        if written < piece.len() {
            return Ok(());
        }
    }
    Ok(())
}

/// Write `buf[*written..]` until done or the socket is full. A short write means the
/// send buffer is full; the kernel will raise a writable edge when it drains.
#[inline(always)]
fn write_some(
    stream: &mut Stream,
    buf: &[u8],
    written: &mut usize,
    writable: &mut bool,
) -> io::Result<()> {
    while *written < buf.len() {
        match stream.write(&buf[*written..]) {
            Ok(0) => return Err(io::ErrorKind::WriteZero.into()),
            Ok(n) => {
                *written += n;
                if *written < buf.len() {
                    *writable = false;
                    return Ok(());
                }
            }
            Err(e) if e.kind() == io::ErrorKind::WouldBlock => {
                *writable = false;
                return Ok(());
            }
            Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
            Err(e) => return Err(e),
        }
    }
    Ok(())
}
