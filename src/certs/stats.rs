//! Handshake counters: `hello_reactor_tls_handshakes_total{result}` and the
//! protocol versions negotiated.
//!
//! Unlike the per-request counters (plain `u64`s on the loop's thread, see
//! `metrics.rs`), these are atomics shared by every worker: they change once per
//! handshake, which costs thousands of times more than a relaxed increment, and
//! being one set per process they need no summing.

use std::fmt::Write as _;
use std::sync::atomic::{AtomicU64, Ordering};

/// How a handshake ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Outcome {
    /// Done: application data may flow.
    Ok,
    /// The first bytes were plain HTTP, not a TLS record.
    PlainHttp,
    /// No protocol version, cipher suite, group or ALPN protocol in common.
    Incompatible,
    /// A client certificate was missing or not signed by `--tls-client-ca`.
    ClientCertificate,
    /// The client sent an alert (it refused our certificate, say).
    Alert,
    /// Malformed or unexpected messages.
    Protocol,
    /// Closed, reset or timed out before the handshake finished.
    Incomplete,
}

impl Outcome {
    /// Every outcome, in label order.
    pub const ALL: [Outcome; 7] = [
        Outcome::Ok,
        Outcome::PlainHttp,
        Outcome::Incompatible,
        Outcome::ClientCertificate,
        Outcome::Alert,
        Outcome::Protocol,
        Outcome::Incomplete,
    ];

    /// The `result` label.
    pub fn label(self) -> &'static str {
        match self {
            Outcome::Ok => "ok",
            Outcome::PlainHttp => "plain_http",
            Outcome::Incompatible => "incompatible",
            Outcome::ClientCertificate => "client_certificate",
            Outcome::Alert => "alert",
            Outcome::Protocol => "protocol_error",
            Outcome::Incomplete => "incomplete",
        }
    }

    /// Why rustls refused a handshake.
    pub fn of_error(error: &rustls::Error) -> Outcome {
        use rustls::Error;
        match error {
            Error::PeerIncompatible(_) => Outcome::Incompatible,
            Error::NoCertificatesPresented | Error::InvalidCertificate(_) => {
                Outcome::ClientCertificate
            }
            Error::AlertReceived(_) => Outcome::Alert,
            _ => Outcome::Protocol,
        }
    }
}

/// Handshake counters, shared by the workers.
#[derive(Debug, Default)]
pub struct TlsStats {
    outcomes: [AtomicU64; Outcome::ALL.len()],
    tls12: AtomicU64,
    tls13: AtomicU64,
}

impl TlsStats {
    /// Count a handshake's end.
    pub fn count(&self, outcome: Outcome) {
        self.outcomes[outcome as usize].fetch_add(1, Ordering::Relaxed);
    }

    /// Count a version negotiated by a finished handshake.
    pub fn count_version(&self, version: rustls::ProtocolVersion) {
        let counter = match version {
            rustls::ProtocolVersion::TLSv1_3 => &self.tls13,
            _ => &self.tls12,
        };
        counter.fetch_add(1, Ordering::Relaxed);
    }

    /// Handshakes that ended with `outcome` so far.
    pub fn get(&self, outcome: Outcome) -> u64 {
        self.outcomes[outcome as usize].load(Ordering::Relaxed)
    }

    /// The Prometheus text of these counters.
    pub fn render(&self, out: &mut String) {
        let name = "hello_reactor_tls_handshakes_total";
        let _ = writeln!(
            out,
            "# HELP {name} TLS handshakes by result: ok, or why it failed.\n# TYPE {name} counter"
        );
        for outcome in Outcome::ALL {
            let _ = writeln!(
                out,
                "{name}{{result=\"{}\"}} {}",
                outcome.label(),
                self.get(outcome)
            );
        }
        let name = "hello_reactor_tls_versions_total";
        let _ = writeln!(
            out,
            "# HELP {name} Finished TLS handshakes by protocol version.\n# TYPE {name} counter"
        );
        for (version, counter) in [("TLSv1.2", &self.tls12), ("TLSv1.3", &self.tls13)] {
            let n = counter.load(Ordering::Relaxed);
            let _ = writeln!(out, "{name}{{version=\"{version}\"}} {n}");
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_outcome_is_rendered_with_its_label() {
        let stats = TlsStats::default();
        stats.count(Outcome::Ok);
        stats.count(Outcome::Ok);
        stats.count(Outcome::PlainHttp);
        stats.count_version(rustls::ProtocolVersion::TLSv1_3);
        let mut text = String::new();
        stats.render(&mut text);
        assert!(
            text.contains("hello_reactor_tls_handshakes_total{result=\"ok\"} 2\n"),
            "{text}"
        );
        assert!(text.contains("{result=\"plain_http\"} 1\n"), "{text}");
        assert!(text.contains("{result=\"incomplete\"} 0\n"), "{text}");
        assert!(
            text.contains("hello_reactor_tls_versions_total{version=\"TLSv1.3\"} 1\n"),
            "{text}"
        );
        assert_eq!(text.matches("# TYPE").count(), 2);
    }
}
