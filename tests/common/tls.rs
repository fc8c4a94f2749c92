//! Test certificates, made by the `openssl` CLI for each test in a fresh
//! directory (never checked in), and a rustls client over a blocking socket that
//! controls exactly what goes into each TLS record.

use std::io::{self, Read, Write};
use std::net::{SocketAddr, TcpStream};
use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::Arc;
use std::time::Duration;

use rustls::pki_types::pem::PemObject;
use rustls::pki_types::{CertificateDer, PrivateKeyDer, ServerName};

use super::{IO_TIMEOUT, connect, run_bounded};

/// A CA, a server certificate for `localhost` and 127.0.0.1 signed by it, and a
/// client certificate signed by it, as PEM files in a directory of their own.
pub struct Pki {
    pub dir: PathBuf,
}

fn openssl(dir: &Path, args: &[&str]) {
    let output = run_bounded(
        Command::new("openssl").current_dir(dir).args(args),
        Duration::from_secs(30),
    );
    assert!(
        output.status.success(),
        "openssl {args:?}: {}",
        String::from_utf8_lossy(&output.stderr)
    );
}

impl Pki {
    /// Make the files under a new directory named for `name`.
    pub fn new(name: &str) -> Pki {
        let dir =
            std::env::temp_dir().join(format!("hello-reactor-tls-{}-{name}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir).unwrap();
        let ec = [
            "-newkey",
            "ec",
            "-pkeyopt",
            "ec_paramgen_curve:P-256",
            "-nodes",
        ];
        let mut ca = vec![
            "req",
            "-x509",
            "-days",
            "2",
            "-subj",
            "/CN=hello-reactor test CA",
        ];
        ca.extend(ec);
        ca.extend(["-keyout", "ca.key", "-out", "ca.pem"]);
        openssl(&dir, &ca);
        let pki = Pki { dir };
        pki.issue(
            "server",
            "localhost",
            "subjectAltName=DNS:localhost,IP:127.0.0.1",
        );
        pki.issue("client", "test client", "extendedKeyUsage=clientAuth");
        pki
    }

    /// Issue `{stem}.pem` and `{stem}.key` for `cn`, signed by the CA.
    pub fn issue(&self, stem: &str, cn: &str, ext: &str) {
        let ext_file = format!("{stem}.ext");
        std::fs::write(self.dir.join(&ext_file), format!("{ext}\n")).unwrap();
        let (key, csr, pem) = (
            format!("{stem}.key"),
            format!("{stem}.csr"),
            format!("{stem}.pem"),
        );
        let subj = format!("/CN={cn}");
        let ec = [
            "-newkey",
            "ec",
            "-pkeyopt",
            "ec_paramgen_curve:P-256",
            "-nodes",
        ];
        let mut req = vec!["req", "-subj", &subj];
        req.extend(ec);
        req.extend(["-keyout", &key, "-out", &csr]);
        openssl(&self.dir, &req);
        openssl(
            &self.dir,
            &[
                "x509",
                "-req",
                "-in",
                &csr,
                "-CA",
                "ca.pem",
                "-CAkey",
                "ca.key",
                "-CAcreateserial",
                "-days",
                "2",
                "-extfile",
                &ext_file,
                "-out",
                &pem,
            ],
        );
    }

    pub fn path(&self, file: &str) -> String {
        self.dir.join(file).display().to_string()
    }

    /// The flag that makes Chromium trust the server certificate's key. Chromium on
    /// Linux trusts CAs from an NSS database; without `certutil` to fill one, it is
    /// told the key's SPKI hash instead.
    pub fn chromium_trust(&self) -> String {
        let script = format!(
            "openssl x509 -in {} -pubkey -noout | openssl pkey -pubin -outform der | \
             openssl dgst -sha256 -binary | base64",
            self.path("server.pem")
        );
        let mut command = std::process::Command::new("sh");
        command.args(["-c", &script]);
        let out = super::run_bounded(&mut command, std::time::Duration::from_secs(30));
        let spki = String::from_utf8_lossy(&out.stdout).trim().to_string();
        format!("--ignore-certificate-errors-spki-list={spki}")
    }

    /// `--tls-cert ... --tls-key ...` for the server certificate.
    pub fn server_args(&self) -> Vec<String> {
        vec![
            "--tls-cert".into(),
            self.path("server.pem"),
            "--tls-key".into(),
            self.path("server.key"),
        ]
    }

    /// A rustls client configuration that trusts this CA, offering `http/1.1`.
    pub fn client_config(&self, client_cert: bool) -> Arc<rustls::ClientConfig> {
        let mut roots = rustls::RootCertStore::empty();
        for cert in CertificateDer::pem_file_iter(self.path("ca.pem")).unwrap() {
            roots.add(cert.unwrap()).unwrap();
        }
        let provider = Arc::new(provider());
        let builder = rustls::ClientConfig::builder_with_provider(provider)
            .with_safe_default_protocol_versions()
            .unwrap()
            .with_root_certificates(roots);
        let mut config = if client_cert {
            let certs = CertificateDer::pem_file_iter(self.path("client.pem"))
                .unwrap()
                .map(Result::unwrap)
                .collect();
            let key = PrivateKeyDer::from_pem_file(self.path("client.key")).unwrap();
            builder.with_client_auth_cert(certs, key).unwrap()
        } else {
            builder.with_no_client_auth()
        };
        config.alpn_protocols = vec![b"http/1.1".to_vec()];
        Arc::new(config)
    }

    /// A finished handshake with the server at `addr`.
    pub fn connect(&self, addr: SocketAddr) -> Client {
        Client::connect(addr, self.client_config(false))
    }
}

impl Drop for Pki {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}

#[allow(deprecated)] // ring without post-quantum groups: what the server offers too
fn provider() -> rustls::crypto::CryptoProvider {
    rustls::crypto::ring::default_provider()
}

/// A TLS client over a blocking socket (timeouts: [`IO_TIMEOUT`]).
pub type Client = rustls::StreamOwned<rustls::ClientConnection, TcpStream>;

/// Connect to `addr` (as `localhost`) and finish the handshake.
pub fn client(addr: SocketAddr, config: Arc<rustls::ClientConfig>) -> io::Result<Client> {
    let name = ServerName::try_from("localhost").unwrap();
    let conn = rustls::ClientConnection::new(config, name).map_err(io::Error::other)?;
    let mut stream = rustls::StreamOwned::new(conn, connect(addr));
    while stream.conn.is_handshaking() {
        stream.conn.complete_io(&mut stream.sock)?;
    }
    Ok(stream)
}

/// Helpers on a connected [`Client`].
pub trait ClientExt {
    fn connect(addr: SocketAddr, config: Arc<rustls::ClientConfig>) -> Client;
    /// `bytes` in one `write` of plaintext: one record if under 16 KiB.
    fn send(&mut self, bytes: &[u8]);
    /// Read until `count` whole responses with body `body` ended, or fail after
    /// [`IO_TIMEOUT`]. Returns everything read.
    fn read_responses(&mut self, count: usize, body: &[u8]) -> Vec<u8>;
}

impl ClientExt for Client {
    fn connect(addr: SocketAddr, config: Arc<rustls::ClientConfig>) -> Client {
        client(addr, config).expect("TLS handshake")
    }

    fn send(&mut self, bytes: &[u8]) {
        self.write_all(bytes).unwrap();
        self.flush().unwrap();
    }

    fn read_responses(&mut self, count: usize, body: &[u8]) -> Vec<u8> {
        let mut all = Vec::new();
        let mut chunk = vec![0u8; 64 * 1024];
        let deadline = std::time::Instant::now() + IO_TIMEOUT;
        while super::count(&all, b"HTTP/1.1 200 OK\r\n") < count || !all.ends_with(body) {
            assert!(
                std::time::Instant::now() < deadline,
                "only {} of {count} responses in {IO_TIMEOUT:?}",
                super::count(&all, b"HTTP/1.1 200 OK\r\n")
            );
            match self.read(&mut chunk) {
                Ok(0) => break,
                Ok(n) => all.extend_from_slice(&chunk[..n]),
                Err(e) => panic!(
                    "after {} of {count} responses: {e}",
                    super::count(&all, b"HTTP/1.1 200 OK\r\n")
                ),
            }
        }
        all
    }
}
