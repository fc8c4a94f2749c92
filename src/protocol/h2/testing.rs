//! A driver for the HTTP/2 core with no socket and a clock that is a number,
//! and a client that writes frames by hand: for tests and fuzzing.
//!
//! [`Fixture`] plays the reactor's part as [`crate::protocol::testing::Fixture`]
//! does for HTTP/1.1: it keeps unconsumed input, collects output, and reports
//! writes as the test decides. The output is read back into [`Out`] frames,
//! with header blocks decoded, so a test states what the server sent; and
//! every DATA frame is checked against what the client allowed ([`Credit`]),
//! so every test and the fuzzer also check flow control.

use std::collections::HashMap;
use std::time::{Duration, UNIX_EPOCH};

use super::answer::H2Answer;
use super::error::ErrorCode;
use super::frame::{self, Frame, Parsed, flag, kind, setting};
use super::hpack::{BlockWriter, Decoder};
use super::session::{Cx, Limits, PREFACE, Session, Stage};
use crate::protocol::faults::{FaultSettings, Faults};
use crate::protocol::response::Answer;
use crate::protocol::stats::Stats;
use crate::protocol::testing::FIXED_DATE_SECS;
use crate::protocol::{ConnId, Stop, Timeouts};

/// A frame the server sent, as a test compares it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Out {
    /// SETTINGS.
    Settings(bool, Vec<(u16, u32)>),
    /// PING.
    Ping(bool, [u8; 8]),
    /// GOAWAY: last stream, code.
    GoAway(u32, ErrorCode),
    /// RST_STREAM.
    Reset(u32, ErrorCode),
    /// WINDOW_UPDATE: stream, increment.
    Window(u32, u32),
    /// HEADERS (with any CONTINUATION): stream, END_STREAM, `:status`.
    Headers(u32, bool, String),
    /// DATA: stream, length, END_STREAM.
    Data(u32, usize, bool),
}

pub mod client;

/// What the client allowed the server to send, from the input the server
/// consumed: an upper bound, as the order of input and output within one
/// call is not known (a WINDOW_UPDATE later in the same read counts already).
#[derive(Debug, Default)]
pub struct Credit {
    seen: Vec<u8>,
    parsed: usize,
    broken: bool,
    connection: i64,
    initial: i64,
    max_frame: u32,
    streams: HashMap<u32, i64>,
}

impl Credit {
    fn new() -> Credit {
        Credit {
            connection: 65_535,
            initial: 65_535,
            max_frame: frame::MIN_MAX_FRAME_SIZE,
            parsed: PREFACE.len(),
            ..Credit::default()
        }
    }

    /// The server consumed `bytes`.
    fn consumed(&mut self, bytes: &[u8]) {
        let mut seen = std::mem::take(&mut self.seen);
        seen.extend_from_slice(bytes);
        while !self.broken && seen.len() > self.parsed {
            match frame::parse(&seen[self.parsed..], frame::MAX_MAX_FRAME_SIZE) {
                Parsed::Frame(frame, len) => {
                    self.parsed += len;
                    self.allow(frame);
                }
                Parsed::StreamError(_, _, len) => self.parsed += len,
                Parsed::Partial => break,
                Parsed::ConnectionError(_) => self.broken = true,
            }
        }
        self.seen = seen;
    }

    fn allow(&mut self, frame: Frame<'_>) {
        match frame {
            Frame::WindowUpdate {
                stream: 0,
                increment,
            } => self.connection += i64::from(increment),
            Frame::WindowUpdate { stream, increment } => {
                *self.streams.entry(stream).or_insert(0) += i64::from(increment)
            }
            Frame::Settings { ack: false, params } => {
                for (id, value) in frame::settings_params(params) {
                    match id {
                        setting::INITIAL_WINDOW_SIZE => {
                            self.initial = self.initial.max(i64::from(value))
                        }
                        setting::MAX_FRAME_SIZE => self.max_frame = self.max_frame.max(value),
                        _ => {}
                    }
                }
            }
            _ => {}
        }
    }

    /// The server sent `len` bytes of DATA on `stream`.
    fn spend(&mut self, stream: u32, len: usize) {
        assert!(
            len <= self.max_frame as usize,
            "DATA of {len} over the frame size"
        );
        let len = len as i64;
        self.connection -= len;
        let window = self.streams.entry(stream).or_insert(0);
        *window -= len;
        assert!(self.connection >= 0, "DATA over the connection window");
        assert!(
            *window + self.initial >= 0,
            "DATA over stream {stream}'s window"
        );
    }
}

/// One session and everything it borrows, owned by the test.
pub struct Fixture {
    /// The core under test.
    pub session: Session,
    /// The clock, in milliseconds.
    pub now: u64,
    /// A graceful shutdown is under way.
    pub draining: bool,
    /// The answer.
    pub answer: H2Answer,
    /// The injected failure, with `--fail-rate`.
    pub failure: Option<H2Answer>,
    /// `--delay` and `--fail-rate` (none unless changed).
    pub faults: Faults,
    /// Limits (the defaults unless changed).
    pub limits: Limits,
    /// Timeouts (the defaults unless changed).
    pub timeouts: Timeouts,
    /// Counters.
    pub stats: Stats,
    /// Input the core has not consumed.
    pub pending: Vec<u8>,
    /// How the last `process` stopped.
    pub last_stop: Option<Stop>,
    /// The bytes of the last call's output.
    pub last_raw: Vec<u8>,
    /// What the client allowed the server to send.
    pub credit: Credit,
    decoder: Decoder,
    partial_block: Option<(u32, bool, Vec<u8>)>,
}

impl Default for Fixture {
    fn default() -> Fixture {
        Fixture::new()
    }
}

impl Fixture {
    /// A new connection at time 0 answering the default answer.
    pub fn new() -> Fixture {
        Fixture::with_answer(&Answer::DEFAULT)
    }

    /// A new connection answering `answer`.
    pub fn with_answer(answer: &Answer<'_>) -> Fixture {
        let date = UNIX_EPOCH + Duration::from_secs(FIXED_DATE_SECS);
        Fixture {
            session: Session::new(0, &Timeouts::DEFAULT),
            now: 0,
            draining: false,
            answer: H2Answer::new(answer, date),
            failure: None,
            faults: Faults::new(&FaultSettings::NONE),
            limits: Limits::DEFAULT,
            timeouts: Timeouts::DEFAULT,
            stats: Stats::default(),
            pending: Vec::new(),
            last_stop: None,
            last_raw: Vec::new(),
            credit: Credit::new(),
            decoder: Decoder::new(4096),
            partial_block: None,
        }
    }

    /// A new connection with faults injected as `settings` say.
    pub fn with_faults(settings: &FaultSettings) -> Fixture {
        let mut f = Fixture::new();
        f.faults = Faults::new(settings);
        let date = UNIX_EPOCH + Duration::from_secs(FIXED_DATE_SECS);
        f.failure = H2Answer::failure(settings, date);
        f
    }

    /// Run `call` with the session and a context; return the output as frames.
    fn call(&mut self, call: impl FnOnce(&mut Session, &mut Cx<'_>)) -> Vec<Out> {
        self.call_then(call, |_, ()| {})
    }

    /// As [`Fixture::call`], with `then` run before the output is read.
    fn call_then<R>(
        &mut self,
        call: impl FnOnce(&mut Session, &mut Cx<'_>) -> R,
        then: impl FnOnce(&mut Fixture, R),
    ) -> Vec<Out> {
        let mut out = Vec::new();
        let mut cx = Cx {
            id: ConnId {
                worker: None,
                key: 0,
            },
            now: self.now,
            draining: self.draining,
            answer: &self.answer,
            failure: self.failure.as_ref(),
            faults: &mut self.faults,
            limits: &self.limits,
            timeouts: &self.timeouts,
            stats: &mut self.stats,
            out: &mut out,
        };
        let result = call(&mut self.session, &mut cx);
        then(self, result);
        let frames = self.read(&out);
        self.last_raw = out;
        frames
    }

    /// Bytes arrive; returns what the server sent.
    pub fn input(&mut self, bytes: &[u8]) -> Vec<Out> {
        self.pending.extend_from_slice(bytes);
        let pending = std::mem::take(&mut self.pending);
        let before = self.session.stage();
        self.call_then(
            |s, cx| s.process(cx, &pending),
            |f, (used, stop)| {
                if matches!(before, Stage::Preface | Stage::Open) {
                    f.credit.consumed(&pending[..used]);
                }
                f.pending = pending[used..].to_vec();
                f.last_stop = Some(stop);
            },
        )
    }

    /// The preface, empty SETTINGS and the ack of ours: the server's SETTINGS
    /// and its ack of the client's are returned.
    pub fn handshake(&mut self) -> Vec<Out> {
        let mut bytes = client::preface();
        bytes.extend(client::settings_ack());
        self.input(&bytes)
    }

    /// Every output so far was written (may return more DATA).
    pub fn sent(&mut self) -> Vec<Out> {
        self.call(|s, cx| s.sent(cx))
    }

    /// The socket took only part of the output.
    pub fn blocked(&mut self) {
        self.call(|s, cx| s.write_blocked(cx));
    }

    /// The socket took some more of the output.
    pub fn progress(&mut self) {
        self.call(|s, cx| s.write_progress(cx));
    }

    /// The clock moves on by `ms` milliseconds.
    pub fn advance(&mut self, ms: u64) {
        self.now += ms;
    }

    /// The deadline check.
    pub fn expire(&mut self) -> Vec<Out> {
        self.call(|s, cx| s.expire(cx))
    }

    /// The peer shut its write side.
    pub fn eof(&mut self) {
        self.pending.clear();
        self.call(|s, cx| s.eof(cx));
    }

    /// A graceful shutdown begins.
    pub fn drain(&mut self) -> Vec<Out> {
        self.draining = true;
        self.call(|s, cx| s.drain(cx))
    }

    /// Read the server's bytes back as frames (the test's client side).
    fn read(&mut self, mut bytes: &[u8]) -> Vec<Out> {
        let mut frames = Vec::new();
        while !bytes.is_empty() {
            let Parsed::Frame(frame, len) = frame::parse(bytes, frame::MAX_MAX_FRAME_SIZE) else {
                panic!("the server sent a broken frame: {bytes:02x?}");
            };
            bytes = &bytes[len..];
            frames.extend(self.read_frame(frame));
        }
        frames
    }

    fn read_frame(&mut self, frame: Frame<'_>) -> Option<Out> {
        Some(match frame {
            Frame::Settings { ack, params } => {
                Out::Settings(ack, frame::settings_params(params).collect())
            }
            Frame::Ping { ack, data } => Out::Ping(ack, data),
            Frame::GoAway { last_stream, code } => Out::GoAway(last_stream, code),
            Frame::RstStream { stream, code } => Out::Reset(stream, code),
            Frame::WindowUpdate { stream, increment } => Out::Window(stream, increment),
            Frame::Data {
                stream,
                end_stream,
                data,
                ..
            } => {
                self.credit.spend(stream, data.len());
                Out::Data(stream, data.len(), end_stream)
            }
            Frame::Headers {
                stream,
                end_stream,
                end_headers,
                block,
                ..
            } => {
                self.partial_block = Some((stream, end_stream, block.to_vec()));
                return end_headers.then(|| self.status()).flatten();
            }
            Frame::Continuation {
                end_headers, block, ..
            } => {
                self.partial_block.as_mut()?.2.extend_from_slice(block);
                return end_headers.then(|| self.status()).flatten();
            }
            other => panic!("the server sent {other:?}"),
        })
    }

    fn status(&mut self) -> Option<Out> {
        let (stream, end_stream, block) = self.partial_block.take()?;
        let mut status = String::new();
        self.decoder
            .decode(&block, usize::MAX, |n, v| {
                if n == b":status" {
                    status = String::from_utf8_lossy(v).into_owned();
                }
            })
            .expect("the server's block decodes");
        Some(Out::Headers(stream, end_stream, status))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn credit_follows_window_updates_and_settings() {
        let mut credit = Credit::new();
        let mut bytes = client::preface();
        bytes.extend(client::settings(&[(setting::INITIAL_WINDOW_SIZE, 100_000)]));
        bytes.extend(client::window(0, 50_000));
        credit.consumed(&bytes[..30]);
        credit.consumed(&bytes[30..]);
        credit.spend(1, 16_384);
        for _ in 0..6 {
            credit.spend(3, 16_384);
        }
        assert_eq!(credit.connection, 65_535 + 50_000 - 7 * 16_384);
    }

    #[test]
    #[should_panic(expected = "over the connection window")]
    fn credit_catches_data_over_the_window() {
        let mut credit = Credit::new();
        credit.consumed(&client::preface());
        for stream in 0..5 {
            credit.spend(2 * stream + 1, 16_384);
        }
    }
}
