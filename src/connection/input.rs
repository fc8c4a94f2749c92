//! Reading and answering: bytes from the socket become responses in the batch.
//!
//! Input goes through [`Connection::consume`], which parses heads with
//! [`parse_head`](crate::protocol::framing::parse_head) (through the loop's
//! [`HeadMemo`](crate::protocol::framing::HeadMemo), so a head the loop has just parsed is
//! recognised by one comparison), skips bodies with [`BodyReader`], and appends each
//! answer to the shared output batch. It stops at an incomplete head (wait for more bytes),
//! at a full batch (write first: backpressure), or after a final response.

use std::io::{self, Read};

use log::{debug, trace};

use super::{Connection, Context, OUT_BATCH_LIMIT};
use crate::protocol::framing::{BodyLength, BodyReader, Head, Parse, Persistence, Reject};
use crate::protocol::response::CONTINUE;

/// Why [`Connection::consume`] stopped.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Stop {
    /// Everything consumed.
    Done,
    /// The rest is an incomplete head: wait for more bytes.
    Partial,
    /// The output batch is full: answer the rest once it is written.
    Full,
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
        self.readable = self.more_input_after_read(n, cx.read_buf.len());
        trace!("conn {}: read {n} bytes", cx.id);
        let data = std::mem::take(&mut cx.read_buf);
        self.process_read(cx, &data[..n]);
        cx.read_buf = data;
        Ok(())
    }

    fn on_eof(&mut self, cx: &mut Context<'_>) {
        trace!("conn {}: peer closed its side", cx.id);
        self.peer_closed = true;
        self.readable = false;
        // An incomplete head or body can never complete now; what was complete is answered.
        self.in_body = false;
        if let Some(spill) = self.spill.as_mut() {
            spill.input = Vec::new();
        }
        self.await_input = false;
    }

    fn process_read(&mut self, cx: &mut Context<'_>, data: &[u8]) {
        let Some(spill) = self.spill.as_mut().filter(|s| !s.input.is_empty()) else {
            let (used, stop) = self.consume(cx, data);
            if used < data.len() {
                self.save_input(&data[used..], stop);
            }
            return;
        };
        spill.input.extend_from_slice(data);
        // An incomplete head can only complete with a new line: skip re-parsing the
        // whole head for every byte a slow client trickles in.
        if data.contains(&b'\n') || spill.input.len() >= cx.limits.max_head {
            self.await_input = false;
            self.process_saved(cx);
        }
    }

    /// Answer what the spill holds, keeping what is left.
    pub(super) fn process_saved(&mut self, cx: &mut Context<'_>) {
        let Some(spill) = self.spill.as_mut() else {
            return;
        };
        let mut input = std::mem::take(&mut spill.input);
        let (used, stop) = self.consume(cx, &input);
        input.drain(..used);
        self.await_input = stop == Stop::Partial;
        if let Some(spill) = self.spill.as_mut() {
            spill.input = input;
        }
        self.release_empty_spill();
    }

    fn save_input(&mut self, rest: &[u8], stop: Stop) {
        let spill = self.spill.get_or_insert_with(Box::default);
        spill.input.extend_from_slice(rest);
        self.await_input = stop == Stop::Partial;
    }

    /// Parse and answer requests from `data` into the output batch.
    fn consume(&mut self, cx: &mut Context<'_>, data: &[u8]) -> (usize, Stop) {
        let mut pos = 0;
        loop {
            if self.closing {
                // Nothing after a final response is processed; remember it was sent.
                self.linger |= pos < data.len();
                return (data.len(), Stop::Done);
            }
            if self.in_body {
                match self.body.skip(&data[pos..], cx.limits) {
                    Ok(skip) => {
                        pos += skip.consumed;
                        self.deadline = cx.now + cx.timeouts.body;
                        if !skip.done {
                            return (pos, Stop::Done);
                        }
                        self.in_body = false;
                        self.respond(cx);
                    }
                    Err(reject) => self.reject(cx, reject),
                }
                continue;
            }
            if pos == data.len() {
                return (pos, Stop::Done);
            }
            if cx.out.len() >= OUT_BATCH_LIMIT {
                return (pos, Stop::Full);
            }
            match cx.memo.parse(&data[pos..], cx.limits) {
                Parse::Partial => return (pos, Stop::Partial),
                Parse::Reject(reject) => self.reject(cx, reject),
                Parse::Complete(head) => {
                    pos += head.len;
                    self.begin_request(cx, head);
                }
            }
        }
    }

    fn begin_request(&mut self, cx: &mut Context<'_>, head: Head) {
        cx.stats.requests += 1;
        trace!(
            "conn {}: request head of {} bytes, {:?}",
            cx.id, head.len, head.body
        );
        self.head_completed = true;
        self.is_head = head.is_head;
        self.persistence = head.persistence;
        if head.body == BodyLength::Empty {
            self.respond(cx);
        } else {
            if head.expect_continue {
                cx.out.push(CONTINUE);
            }
            self.body = BodyReader::new(head.body);
            self.in_body = true;
        }
    }

    /// Queue the `200 OK` for the current request.
    fn respond(&mut self, cx: &mut Context<'_>) {
        if cx.draining {
            // The client did not choose this close and may be sending its next
            // request: drain it rather than answer it with a reset.
            self.persistence = Persistence::Close;
            self.linger = true;
        }
        let responses = cx.responses;
        cx.out.push(responses.ok(self.persistence, self.is_head));
        cx.stats.response(responses.ok_status());
        if self.persistence == Persistence::Close {
            self.closing = true;
            // Input still in the socket would turn our close into a reset.
            self.linger |= self.readable;
        }
    }

    /// Queue an error response; the connection closes (lingering) once it is written.
    pub(super) fn reject(&mut self, cx: &mut Context<'_>, reject: Reject) {
        debug!("conn {}: {reject}", cx.id);
        let responses = cx.responses;
        cx.out.push(responses.error(reject));
        cx.stats.response(reject.status());
        self.closing = true;
        self.linger = true;
        self.in_body = false;
        if let Some(spill) = self.spill.as_mut() {
            spill.input = Vec::new();
        }
    }
}
