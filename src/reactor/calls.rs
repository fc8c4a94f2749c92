//! Calling a connection's handler: the one way the loop calls into a
//! connection in the slab ([`Server::call`]), and what it does with the
//! [`Next`] the handler returned (`after_call`): have it closed, defer it, queue
//! its precise wake-up, watch it for writability. The rules behind these ("handlers
//! never close themselves", "writable interest only when needed", "registering
//! late loses no edge") are stated in `mod.rs`.

use log::warn;
use mio::{Interest, Poll, Token};

use super::Server;
use super::context::Context;
use super::driver::{Connection, Next};
use super::timers::Timers;

impl Server {
    /// Call one handler on connection `key` with the loop's state lent to it,
    /// then act on what it returned ([`after_call`]), closing the connection if
    /// it asked. Every handler call on a connection in the slab goes through
    /// here. Returns `false` if there is no connection `key` (a stale event).
    #[inline]
    pub(super) fn call(
        &mut self,
        key: usize,
        handler: impl FnOnce(&mut Connection, &mut Context<'_>) -> Next,
    ) -> bool {
        let Some(conn) = self.connections.get_mut(key) else {
            return false;
        };
        let next = handler(conn, &mut self.data.context(key));
        let token = Token(key);
        if after_call(
            &self.poll,
            &mut self.deferred,
            &mut self.timers,
            conn,
            token,
            next,
        ) {
            self.close(key);
        }
        true
    }
}

/// Act on what a handler returned, after it returned and while the connection is
/// still at hand (no second slab lookup): watch for writability if output waits,
/// put it on the deferred list once, or queue the precise wake-up its held answers
/// need. Every handler call ends here; `true` means the caller must close it (the
/// loop closes, never the handler).
pub(super) fn after_call(
    poll: &Poll,
    deferred: &mut Vec<Token>,
    timers: &mut Timers,
    conn: &mut Connection,
    token: Token,
    next: Next,
) -> bool {
    match next {
        Next::Close => return true,
        Next::Yield if conn.mark_queued() => deferred.push(token),
        Next::Yield | Next::Keep => {}
    }
    if let Some(due) = conn.new_wake_up() {
        timers.schedule(due, token.0);
    }
    watch_writable(poll, conn, token);
    false
}

/// Add writable interest the first time a connection has output the socket would
/// not take, and keep it from then on: edge-triggered, it costs nothing while the
/// socket has room. An edge that came before this call is not lost (see
/// "Registering late loses no edge" above).
fn watch_writable(poll: &Poll, conn: &mut Connection, token: Token) {
    if !conn.needs_writable_interest() {
        return;
    }
    let interest = Interest::READABLE | Interest::WRITABLE;
    match poll
        .registry()
        .reregister(conn.stream_mut(), token, interest)
    {
        Ok(()) => conn.writable_interest_added(),
        Err(e) => warn!("conn {}: cannot watch for writability: {e}", token.0),
    }
}
