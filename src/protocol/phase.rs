//! The phases of a connection, and the one place it moves between them.
//!
//! A connection is always in exactly one [`Phase`], and every change goes through
//! [`Conn::set_phase`](super::Conn): it logs `conn 7: Idle => Head` at trace level
//! and sets the one deadline the new phase has. So a connection has one timer,
//! whatever it waits for, and the log shows every transition.
//!
//! Every transition and its trigger is drawn in `docs/architecture.md` ("The
//! protocol core"), derived from `conn.rs`.
//!
//! A final answer (an error, `Connection: close`, or any answer while draining)
//! ends the input: nothing after it is parsed. Deadlines, in [`Timeouts`]:
//! `Idle` keep-alive, `Head` header (from the head's first byte), `Body` body (reset
//! by progress), `Write` write (reset by progress), `Linger` linger; `Hold` has no
//! timeout: its deadline is when the next held answer is due (`conn/held.rs`).

use std::fmt;

/// What a connection waits for. Logged on every change as `conn 7: Idle => Head`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Phase {
    /// Between requests: waiting for the first byte of the next one (keep-alive timeout).
    Idle,
    /// Part of a head is buffered (header timeout, counted from its first byte).
    Head,
    /// Skipping a request body (body timeout, reset by progress).
    Body,
    /// Answers the socket has not taken yet; input waits (write timeout, reset by progress).
    Write,
    /// Answers held by `--delay` until they are due; input waits (the deadline is
    /// when the first of them is due, not a timeout).
    Hold,
    /// Final answer sent and the write side shut: input is read and dropped until
    /// EOF, so that unread input cannot turn the close into a reset (linger timeout).
    Linger,
    /// Done: the driver closes the socket.
    Closed,
}

impl fmt::Display for Phase {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Debug::fmt(self, f)
    }
}

/// Timeouts in milliseconds, the unit of the driver's clock.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Timeouts {
    /// [`Phase::Head`]: first byte to complete head.
    pub header: u64,
    /// [`Phase::Idle`].
    pub keep_alive: u64,
    /// [`Phase::Body`], per progress.
    pub body: u64,
    /// [`Phase::Write`], per progress.
    pub write: u64,
    /// [`Phase::Linger`].
    pub linger: u64,
}

impl Timeouts {
    /// The server's defaults (each is a flag: `--header-timeout` and kin): 30 s for
    /// a head, 75 s idle between requests, 30 s without body or write progress,
    /// 5 s of lingering.
    pub const DEFAULT: Timeouts = Timeouts {
        header: 30_000,
        keep_alive: 75_000,
        body: 30_000,
        write: 30_000,
        linger: 5_000,
    };

    /// How long `phase` may last; `None` for [`Phase::Closed`], and for
    /// [`Phase::Hold`], which lasts until its next held answer is due.
    pub fn of(&self, phase: Phase) -> Option<u64> {
        match phase {
            Phase::Idle => Some(self.keep_alive),
            Phase::Head => Some(self.header),
            Phase::Body => Some(self.body),
            Phase::Write => Some(self.write),
            Phase::Linger => Some(self.linger),
            Phase::Hold | Phase::Closed => None,
        }
    }

    /// The shortest of them.
    pub fn shortest(&self) -> u64 {
        [
            self.header,
            self.keep_alive,
            self.body,
            self.write,
            self.linger,
        ]
        .into_iter()
        .min()
        .unwrap_or(1000)
    }
}
