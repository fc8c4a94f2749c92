//! What every reactor's TLS layer shares, once per process: the certificate, key
//! and client CA (loaded from PEM files, checked, and swapped on SIGHUP) and the
//! handshake counters (`certs/stats.rs`).
//!
//! It sits beside `config.rs`, not in the reactor: a [`Config`](crate::Config)
//! carries the loaded [`Tls`] to every worker, and `config.rs` imports nothing from
//! the layers above it. The per-connection layer that uses it is `reactor/tls.rs`.
//!
//! **Loaded once, shared by every worker.** [`TlsFiles::load`] reads the files and
//! builds one `rustls::ServerConfig`; a [`Tls`] holds it behind an `RwLock` and is
//! shared (`Arc`) by every reactor of the process. A new connection takes a clone
//! of the current `Arc<ServerConfig>` (one read lock and one atomic increment per
//! accept, nothing per request), so a reload changes what new connections get and
//! leaves open ones with the configuration they started with.
//!
//! **A bad file never replaces a good one.** At startup a bad file is fatal (the
//! CLI exits 2 with a line naming the flag and the file); on [`Tls::reload`] it
//! costs one warning and the old certificate stays.
//!
//! **Parsing is rustls-pki-types'.** `CertificateDer::pem_file_iter` and
//! `PrivateKeyDer::from_pem_file` read PKCS#8, PKCS#1 (RSA) and SEC1 (EC) keys;
//! rustls checks that the key matches the certificate.

use std::path::{Path, PathBuf};
use std::sync::{Arc, PoisonError, RwLock};

use log::{info, warn};
use rustls::ServerConfig;
use rustls::crypto::CryptoProvider;
use rustls::server::WebPkiClientVerifier;
use rustls_pki_types::pem::PemObject;
use rustls_pki_types::{CertificateDer, PrivateKeyDer};

mod stats;

pub use stats::{Outcome, TlsStats};

/// The protocols ALPN offers, most preferred first (`--http2 on`).
pub const ALPN: &[&[u8]] = &[b"h2", b"http/1.1"];
/// With `--http2 off`.
pub const ALPN_HTTP1: &[&[u8]] = &[b"http/1.1"];
/// With `--http2 only`.
pub const ALPN_H2: &[&[u8]] = &[b"h2"];

/// `--tls-cert`, `--tls-key` and `--tls-client-ca`: where the PEM files are.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TlsFiles {
    /// The certificate chain, leaf first.
    pub cert: PathBuf,
    /// The private key of the leaf.
    pub key: PathBuf,
    /// Require client certificates signed by this CA (mTLS).
    pub client_ca: Option<PathBuf>,
    /// The protocols ALPN offers ([`ALPN`], or as `--http2` narrows it).
    pub alpn: &'static [&'static [u8]],
}

/// The crypto provider: ring by default (see `docs/tls.md` for the measurement),
/// aws-lc-rs with the `aws-lc-rs` feature.
fn provider() -> Arc<CryptoProvider> {
    #[cfg(feature = "aws-lc-rs")]
    return Arc::new(rustls::crypto::aws_lc_rs::default_provider());
    // Deprecated only because ring has no post-quantum key exchange; X25519 is
    // what clients fall back to.
    #[cfg(not(feature = "aws-lc-rs"))]
    #[allow(deprecated)]
    Arc::new(rustls::crypto::ring::default_provider())
}

fn ticketer() -> Result<Arc<dyn rustls::server::ProducesTickets>, rustls::Error> {
    #[cfg(feature = "aws-lc-rs")]
    return rustls::crypto::aws_lc_rs::Ticketer::new();
    #[cfg(not(feature = "aws-lc-rs"))]
    rustls::crypto::ring::Ticketer::new()
}

/// `--flag PATH: why`, the one line a bad file gets.
fn bad(flag: &str, path: &Path, why: impl std::fmt::Display) -> String {
    format!("{flag} {}: {why}", path.display())
}

impl TlsFiles {
    /// Read and check the files and build the server's TLS configuration. The
    /// error is one line naming the flag and the file.
    pub fn load(&self) -> Result<Arc<ServerConfig>, String> {
        let certs = read_certs("--tls-cert", &self.cert)?;
        let key = PrivateKeyDer::from_pem_file(&self.key)
            .map_err(|e| bad("--tls-key", &self.key, pem_error(e, "no private key")))?;
        let provider = provider();
        let builder = ServerConfig::builder_with_provider(provider.clone())
            .with_protocol_versions(&[&rustls::version::TLS13, &rustls::version::TLS12])
            .map_err(|e| format!("TLS: {e}"))?;
        let builder = match &self.client_ca {
            None => builder.with_no_client_auth(),
            Some(path) => {
                let mut roots = rustls::RootCertStore::empty();
                for cert in read_certs("--tls-client-ca", path)? {
                    roots
                        .add(cert)
                        .map_err(|e| bad("--tls-client-ca", path, e))?;
                }
                let verifier =
                    WebPkiClientVerifier::builder_with_provider(Arc::new(roots), provider)
                        .build()
                        .map_err(|e| bad("--tls-client-ca", path, e))?;
                builder.with_client_cert_verifier(verifier)
            }
        };
        let mut config = builder.with_single_cert(certs, key).map_err(|e| {
            let why = format!(
                "does not fit the certificate in {} ({e})",
                self.cert.display()
            );
            bad("--tls-key", &self.key, why)
        })?;
        config.alpn_protocols = self.alpn.iter().map(|p| p.to_vec()).collect();
        // The server's order (rustls's: AEADs, forward secrecy, strongest first),
        // not whatever a client prefers.
        config.ignore_client_order = true;
        config.ticketer = ticketer().map_err(|e| format!("TLS session tickets: {e}"))?;
        Ok(Arc::new(config))
    }
}

fn read_certs(flag: &str, path: &Path) -> Result<Vec<CertificateDer<'static>>, String> {
    let certs = CertificateDer::pem_file_iter(path)
        .and_then(|iter| iter.collect::<Result<Vec<_>, _>>())
        .map_err(|e| bad(flag, path, pem_error(e, "no certificate")))?;
    if certs.is_empty() {
        return Err(bad(flag, path, "no PEM certificate in the file"));
    }
    Ok(certs)
}

fn pem_error(e: rustls_pki_types::pem::Error, missing: &str) -> String {
    use rustls_pki_types::pem::Error;
    match e {
        Error::Io(e) => format!("cannot read: {e}"),
        Error::NoItemsFound => format!("{missing} in PEM form in the file"),
        other => format!("not valid PEM: {other:?}"),
    }
}

/// The process's TLS: the files, the configuration new connections get, and the
/// handshake counters. Shared by every worker; two are equal if they read the
/// same files.
#[derive(Debug)]
pub struct Tls {
    files: TlsFiles,
    current: RwLock<Arc<ServerConfig>>,
    /// Handshakes by outcome, for `/metrics`.
    pub stats: TlsStats,
}

impl PartialEq for Tls {
    fn eq(&self, other: &Tls) -> bool {
        self.files == other.files
    }
}

impl Tls {
    /// Load `files` (see [`TlsFiles::load`]).
    pub fn load(files: TlsFiles) -> Result<Arc<Tls>, String> {
        let config = files.load()?;
        Ok(Arc::new(Tls {
            files,
            current: RwLock::new(config),
            stats: TlsStats::default(),
        }))
    }

    /// Where the files are.
    pub fn files(&self) -> &TlsFiles {
        &self.files
    }

    /// What a new connection gets.
    pub fn current(&self) -> Arc<ServerConfig> {
        Arc::clone(&self.current.read().unwrap_or_else(PoisonError::into_inner))
    }

    /// Read the files again (SIGHUP). New connections get the new certificate;
    /// open ones keep theirs. A bad file keeps the old one, with one warning.
    pub fn reload(&self) {
        match self.files.load() {
            Ok(config) => {
                *self.current.write().unwrap_or_else(PoisonError::into_inner) = config;
                info!("SIGHUP: TLS certificate, key and client CA reloaded");
            }
            Err(e) => warn!("SIGHUP: keeping the old TLS certificate: {e}"),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn files(dir: &Path) -> TlsFiles {
        TlsFiles {
            cert: dir.join("cert.pem"),
            key: dir.join("key.pem"),
            client_ca: None,
            alpn: ALPN,
        }
    }

    #[test]
    fn a_bad_file_is_one_line_naming_the_flag_and_the_file() {
        let dir =
            std::env::temp_dir().join(format!("hello-reactor-tls-unit-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let files = files(&dir);
        let missing = files.load().unwrap_err();
        assert!(
            missing.starts_with("--tls-cert ") && missing.contains("cert.pem: cannot read"),
            "{missing}"
        );
        std::fs::write(&files.cert, "not PEM\n").unwrap();
        let garbage = files.load().unwrap_err();
        assert!(
            garbage.starts_with("--tls-cert ") && garbage.contains("no PEM certificate"),
            "{garbage}"
        );
        assert!(!garbage.contains('\n'), "{garbage}");
        let _ = std::fs::remove_dir_all(&dir);
    }
}
