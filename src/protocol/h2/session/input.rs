//! What each frame from the peer does (RFC 9113 §5.1, §6), by frame type.
//!
//! Each handler returns the error it calls for, if any, and `process` applies
//! it: a stream error resets one stream, a connection error ends the
//! connection. The order of checks follows the RFC's: a header block in
//! progress admits only its own CONTINUATION (§6.10); the first frame must be
//! SETTINGS (§3.4); then the stream's state decides (§5.1).

use super::super::budget::Cost;
use super::super::error::{ErrorCode, H2Error};
use super::super::frame::{self, Frame, MAX_WINDOW, setting};
use super::super::hpack::DecodeError;
use super::super::request::Fields;
use super::super::stream::{Closed, Lookup, State, Stream};
use super::{BlockStart, Cx, INITIAL_WINDOW, Session};

fn conn(code: ErrorCode) -> H2Error {
    H2Error::Connection(code)
}

impl Session {
    /// One well-formed frame.
    pub(super) fn on_frame(&mut self, cx: &mut Cx<'_>, frame: Frame<'_>) -> Result<(), H2Error> {
        if let Some(start) = self.continuation {
            return match frame {
                Frame::Continuation {
                    stream,
                    end_headers,
                    block,
                } if stream == start.stream => self.continue_block(cx, start, end_headers, block),
                _ => Err(conn(ErrorCode::PROTOCOL_ERROR)),
            };
        }
        if !self.peer_settings_seen && !matches!(frame, Frame::Settings { ack: false, .. }) {
            return Err(conn(ErrorCode::PROTOCOL_ERROR));
        }
        match frame {
            Frame::Data {
                stream,
                end_stream,
                data,
                flow_len,
            } => self.on_data(cx, stream, end_stream, data.len(), flow_len),
            Frame::Headers {
                stream,
                end_stream,
                end_headers,
                self_dependent,
                block,
            } => {
                let start = BlockStart {
                    stream,
                    end_stream,
                    self_dependent,
                };
                self.continuation = Some(start);
                self.continue_block(cx, start, end_headers, block)
            }
            Frame::Priority { .. } | Frame::Unknown { .. } => self.spend(cx, Cost::Empty),
            Frame::RstStream { stream, .. } => self.on_reset(cx, stream),
            Frame::Settings { ack, params } => self.on_settings(cx, ack, params),
            Frame::Ping { ack: true, .. } => Ok(()),
            Frame::Ping { ack: false, data } => {
                self.spend(cx, Cost::Control)?;
                frame::write::ping(cx.out, true, data);
                Ok(())
            }
            Frame::GoAway { .. } => {
                self.go_away(cx);
                Ok(())
            }
            Frame::WindowUpdate { stream, increment } => self.on_window(cx, stream, increment),
            Frame::Continuation { .. } => Err(conn(ErrorCode::PROTOCOL_ERROR)),
        }
    }

    /// A frame the parser found breaking a stream's rule (§5.4.2). On an idle
    /// stream any frame but HEADERS and PRIORITY is a connection error (§5.1).
    pub(super) fn frame_stream_error(
        &mut self,
        kind: u8,
        id: u32,
        code: ErrorCode,
    ) -> Result<(), H2Error> {
        if self.continuation.is_some() || !self.peer_settings_seen {
            return Err(conn(ErrorCode::PROTOCOL_ERROR));
        }
        match self.streams.lookup(id) {
            Lookup::Idle if kind != frame::kind::PRIORITY => Err(conn(ErrorCode::PROTOCOL_ERROR)),
            _ => Err(H2Error::Stream(id, code)),
        }
    }

    fn spend(&mut self, cx: &Cx<'_>, cost: Cost) -> Result<(), H2Error> {
        if self.spent.spend(&cx.limits.budgets, cost, cx.now) {
            Ok(())
        } else {
            Err(conn(ErrorCode::ENHANCE_YOUR_CALM))
        }
    }

    /// A fragment of a header block; refused before it is buffered once the
    /// block would pass `max_head` (the CONTINUATION flood, 2024).
    fn continue_block(
        &mut self,
        cx: &mut Cx<'_>,
        start: BlockStart,
        end_headers: bool,
        fragment: &[u8],
    ) -> Result<(), H2Error> {
        if self.block.len() + fragment.len() > cx.limits.max_head {
            return Err(conn(ErrorCode::ENHANCE_YOUR_CALM));
        }
        if !end_headers {
            if fragment.is_empty() {
                self.spend(cx, Cost::Empty)?;
            }
            self.block.extend_from_slice(fragment);
            return Ok(());
        }
        self.continuation = None;
        if self.block.is_empty() {
            return self.end_block(cx, start, fragment);
        }
        self.block.extend_from_slice(fragment);
        let block = std::mem::take(&mut self.block);
        let result = self.end_block(cx, start, &block);
        self.block = block;
        self.block.clear();
        result
    }

    /// Decode `block` (always: the HPACK state must follow every block) into
    /// checked fields. The outer error ends the connection; the inner one
    /// is the stream's.
    fn decode(
        &mut self,
        cx: &Cx<'_>,
        block: &[u8],
        mut fields: Fields,
    ) -> Result<Result<Fields, ErrorCode>, H2Error> {
        match self
            .decoder
            .decode(block, cx.limits.max_head, |n, v| fields.field(n, v))
        {
            Err(DecodeError::Compression) => Err(conn(ErrorCode::COMPRESSION_ERROR)),
            Err(DecodeError::TooLarge) => Ok(Err(ErrorCode::ENHANCE_YOUR_CALM)),
            Ok(()) if fields.finish() => Ok(Ok(fields)),
            Ok(()) => Ok(Err(ErrorCode::PROTOCOL_ERROR)),
        }
    }

    /// A whole header block: a new request, or trailers (§8.1).
    fn end_block(
        &mut self,
        cx: &mut Cx<'_>,
        start: BlockStart,
        block: &[u8],
    ) -> Result<(), H2Error> {
        let id = start.stream;
        match self.streams.lookup(id) {
            Lookup::Idle => self.new_request(cx, start, block),
            Lookup::Active(i) => {
                let checked = self.decode(cx, block, Fields::trailers())?;
                if self.streams.active[i].state == State::HalfClosedRemote {
                    return Err(H2Error::Stream(id, ErrorCode::STREAM_CLOSED));
                }
                checked.map_err(|code| H2Error::Stream(id, code))?;
                if !start.end_stream {
                    return Err(H2Error::Stream(id, ErrorCode::PROTOCOL_ERROR));
                }
                self.end_request(cx, i)
            }
            Lookup::Closed(how) => {
                // Decoded for the table's sake; the fields do not matter.
                let _fields = self.decode(cx, block, Fields::request())?;
                match how {
                    Some(Closed::ResetByUs) => Ok(()),
                    Some(Closed::Ended) => Err(conn(ErrorCode::STREAM_CLOSED)),
                    None => Err(conn(ErrorCode::PROTOCOL_ERROR)), // §5.1.1: ids only grow
                }
            }
        }
    }

    fn new_request(
        &mut self,
        cx: &mut Cx<'_>,
        start: BlockStart,
        block: &[u8],
    ) -> Result<(), H2Error> {
        let id = start.stream;
        if id.is_multiple_of(2) {
            return Err(conn(ErrorCode::PROTOCOL_ERROR)); // §5.1.1: clients use odd ids
        }
        let checked = self.decode(cx, block, Fields::request())?;
        if self.goaway_sent.is_some_and(|last| id > last) {
            self.streams.refuse(id); // §6.8: ignored after our GOAWAY
            return Ok(());
        }
        if self.streams.active.len() >= cx.limits.max_streams as usize {
            self.streams.refuse(id);
            return Err(H2Error::Stream(id, ErrorCode::REFUSED_STREAM));
        }
        cx.stats.requests += 1;
        cx.stats.h2.streams += 1;
        let fields = match checked {
            Ok(fields) if !start.self_dependent => Ok(fields),
            // §5.3.1: a stream cannot depend on itself.
            Ok(_) => Err(ErrorCode::PROTOCOL_ERROR),
            Err(code) => Err(code),
        }
        .map_err(|code| {
            self.streams.refuse(id);
            H2Error::Stream(id, code)
        })?;
        self.since.input = cx.now;
        self.streams.open(Stream {
            id,
            state: State::Open,
            send_window: self.peer_initial_window,
            recv_window: INITIAL_WINDOW,
            received: 0,
            content_length: fields.content_length,
            head: fields.head,
            body_sent: None,
            held_until: None,
            fail: false,
        });
        if start.end_stream {
            let i = self.streams.active.len() - 1;
            return self.end_request(cx, i);
        }
        Ok(())
    }

    /// DATA: counted against both windows, checked against `content-length`,
    /// discarded; the windows are given back as they empty (§6.9).
    fn on_data(
        &mut self,
        cx: &mut Cx<'_>,
        id: u32,
        end_stream: bool,
        len: usize,
        flow_len: u32,
    ) -> Result<(), H2Error> {
        self.recv_window -= i64::from(flow_len);
        if self.recv_window < 0 {
            return Err(conn(ErrorCode::FLOW_CONTROL_ERROR));
        }
        if self.recv_window <= INITIAL_WINDOW / 2 {
            let increment = (INITIAL_WINDOW - self.recv_window) as u32;
            frame::write::window_update(cx.out, 0, increment);
            self.recv_window = INITIAL_WINDOW;
        }
        if len == 0 && !end_stream {
            self.spend(cx, Cost::Empty)?;
        }
        let i = match self.streams.lookup(id) {
            Lookup::Idle => return Err(conn(ErrorCode::PROTOCOL_ERROR)),
            Lookup::Closed(Some(Closed::ResetByUs)) => return Ok(()),
            Lookup::Closed(_) => return Err(conn(ErrorCode::STREAM_CLOSED)),
            Lookup::Active(i) => i,
        };
        let stream = &mut self.streams.active[i];
        if stream.state == State::HalfClosedRemote {
            return Err(H2Error::Stream(id, ErrorCode::STREAM_CLOSED));
        }
        stream.recv_window -= i64::from(flow_len);
        if stream.recv_window < 0 {
            return Err(H2Error::Stream(id, ErrorCode::FLOW_CONTROL_ERROR));
        }
        stream.received += len as u64;
        self.since.input = cx.now; // a body's progress: PINGs and the like do not count
        if stream.content_length.is_some_and(|l| stream.received > l) {
            return Err(H2Error::Stream(id, ErrorCode::PROTOCOL_ERROR));
        }
        if stream.received > cx.limits.max_body {
            return Err(H2Error::Stream(id, ErrorCode::CANCEL));
        }
        if end_stream {
            if stream.content_length.is_some_and(|l| stream.received != l) {
                return Err(H2Error::Stream(id, ErrorCode::PROTOCOL_ERROR));
            }
            return self.end_request(cx, i);
        }
        if stream.recv_window <= INITIAL_WINDOW / 2 {
            let increment = (INITIAL_WINDOW - stream.recv_window) as u32;
            frame::write::window_update(cx.out, id, increment);
            stream.recv_window = INITIAL_WINDOW;
        }
        Ok(())
    }

    /// RST_STREAM: the stream ends; one reset before its answer was complete
    /// counts against the rapid-reset budget (CVE-2023-44487).
    fn on_reset(&mut self, cx: &mut Cx<'_>, id: u32) -> Result<(), H2Error> {
        match self.streams.lookup(id) {
            Lookup::Idle => Err(conn(ErrorCode::PROTOCOL_ERROR)),
            Lookup::Closed(_) => Ok(()),
            Lookup::Active(i) => {
                self.close_stream(cx, i, Closed::Ended);
                self.spend(cx, Cost::Reset)
            }
        }
    }

    /// SETTINGS: applied in order, then acknowledged (§6.5.3).
    fn on_settings(&mut self, cx: &mut Cx<'_>, ack: bool, params: &[u8]) -> Result<(), H2Error> {
        if ack {
            self.settings_sent = None;
            return Ok(());
        }
        self.peer_settings_seen = true;
        self.spend(cx, Cost::Control)?;
        for (id, value) in frame::settings_params(params) {
            match id {
                setting::HEADER_TABLE_SIZE => self.table_update = true,
                setting::MAX_FRAME_SIZE => self.peer_max_frame = value,
                setting::INITIAL_WINDOW_SIZE => {
                    let delta = i64::from(value) - self.peer_initial_window;
                    self.peer_initial_window = i64::from(value);
                    for stream in &mut self.streams.active {
                        stream.send_window += delta;
                        if stream.send_window > i64::from(MAX_WINDOW) {
                            return Err(conn(ErrorCode::FLOW_CONTROL_ERROR)); // §6.9.2
                        }
                    }
                }
                _ => {}
            }
        }
        frame::write::settings_ack(cx.out);
        self.flush(cx);
        Ok(())
    }

    /// WINDOW_UPDATE: more room for our DATA (§6.9.1).
    fn on_window(&mut self, cx: &mut Cx<'_>, id: u32, increment: u32) -> Result<(), H2Error> {
        self.spend(cx, Cost::WindowUpdate)?;
        let window = match (id, self.streams.lookup(id)) {
            (0, _) => &mut self.send_window,
            (_, Lookup::Idle) => return Err(conn(ErrorCode::PROTOCOL_ERROR)),
            (_, Lookup::Closed(_)) => return Ok(()),
            (_, Lookup::Active(i)) => &mut self.streams.active[i].send_window,
        };
        *window += i64::from(increment);
        if *window > i64::from(MAX_WINDOW) {
            return Err(match id {
                0 => conn(ErrorCode::FLOW_CONTROL_ERROR),
                _ => H2Error::Stream(id, ErrorCode::FLOW_CONTROL_ERROR),
            });
        }
        self.flush(cx);
        Ok(())
    }
}
