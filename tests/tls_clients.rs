//! HTTPS with real clients: curl (TLS 1.3, TLS 1.2, mTLS), openssl s_client
//! (and TLS 1.0/1.1 refused), wrk, h2load --h1, headless Chromium, Python's ssl,
//! and TLS with --workers 2. A missing tool says SKIPPED (and fails under CI).

#![cfg(target_os = "linux")]

mod common;

use std::process::{Command, Output};
use std::time::Duration;

use common::tls::Pki;
use common::{Serving, chromium_dump_dom, run_bounded, tool_available};

const LIMIT: Duration = Duration::from_secs(60);

fn serve(pki: &Pki, extra: &[&str]) -> Serving {
    let mut args: Vec<String> = pki.server_args();
    args.extend(extra.iter().map(|s| s.to_string()));
    let args: Vec<&str> = args.iter().map(String::as_str).collect();
    Serving::start(&args, None)
}

fn text(bytes: &[u8]) -> String {
    String::from_utf8_lossy(bytes).into_owned()
}

fn setup(name: &str, tools: &[&str]) -> Option<Pki> {
    let all = ["openssl"].iter().chain(tools).all(|t| tool_available(t));
    all.then(|| Pki::new(name))
}

fn curl(pki: &Pki, serving: &Serving, extra: &[&str]) -> Output {
    let url = format!("https://localhost:{}/", serving.addr.port());
    let resolve = format!("localhost:{}:127.0.0.1", serving.addr.port());
    let ca = pki.path("ca.pem");
    let mut command = Command::new("curl");
    command
        .args([
            "-sv",
            "--max-time",
            "20",
            "--resolve",
            &resolve,
            "--cacert",
            &ca,
        ])
        .args(extra)
        .arg(&url);
    run_bounded(&mut command, LIMIT)
}

#[test]
fn curl_speaks_tls_13_and_tls_12() {
    let Some(pki) = setup("curl", &["curl"]) else {
        return;
    };
    let serving = serve(&pki, &[]);
    // HTTP/1.1 asked for: h2 over TLS has its own tests (tests/http2.rs).
    let out = curl(&pki, &serving, &["--http1.1"]);
    let log = text(&out.stderr);
    assert_eq!(text(&out.stdout), "Hello, World!", "{log}");
    assert!(log.contains("SSL connection using TLSv1.3"), "{log}");
    assert!(log.contains("ALPN: server accepted http/1.1"), "{log}");
    let out = curl(&pki, &serving, &["--tlsv1.2", "--tls-max", "1.2"]);
    let log = text(&out.stderr);
    assert_eq!(text(&out.stdout), "Hello, World!", "{log}");
    assert!(log.contains("SSL connection using TLSv1.2"), "{log}");
}

#[test]
fn tls_10_and_11_are_refused() {
    let Some(pki) = setup("old", &[]) else { return };
    let serving = serve(&pki, &[]);
    let connect = format!("127.0.0.1:{}", serving.addr.port());
    for version in ["-tls1", "-tls1_1"] {
        // SECLEVEL=0 lets this OpenSSL offer them at all: the refusal is the server's.
        let out = run_bounded(
            Command::new("openssl").args([
                "s_client",
                "-connect",
                &connect,
                version,
                "-cipher",
                "DEFAULT:@SECLEVEL=0",
            ]),
            LIMIT,
        );
        let all = text(&out.stdout) + &text(&out.stderr);
        assert!(!out.status.success(), "{version} accepted:\n{all}");
        assert!(
            all.contains("alert protocol version") || all.contains("alert handshake failure"),
            "{version}:\n{all}"
        );
    }
}

#[test]
fn openssl_s_client_verifies_and_gets_hello() {
    let Some(pki) = setup("s_client", &[]) else {
        return;
    };
    let serving = serve(&pki, &[]);
    let connect = format!("127.0.0.1:{}", serving.addr.port());
    let script = format!(
        "printf 'GET / HTTP/1.1\\r\\nHost: localhost\\r\\nConnection: close\\r\\n\\r\\n' | \
         openssl s_client -connect {connect} -servername localhost -CAfile {} \
         -alpn http/1.1 -verify_return_error -ign_eof",
        pki.path("ca.pem")
    );
    let out = run_bounded(Command::new("sh").args(["-c", &script]), LIMIT);
    let all = text(&out.stdout);
    assert!(out.status.success(), "{all}{}", text(&out.stderr));
    assert!(all.contains("Verify return code: 0 (ok)"), "{all}");
    assert!(all.contains("ALPN protocol: http/1.1"), "{all}");
    assert!(all.contains("Hello, World!"), "{all}");
}

#[test]
fn wrk_over_https() {
    let Some(pki) = setup("wrk", &["wrk"]) else {
        return;
    };
    let serving = serve(&pki, &[]);
    let url = format!("https://127.0.0.1:{}/", serving.addr.port());
    let out = run_bounded(
        Command::new("wrk").args(["-t1", "-c10", "-d1s", &url]),
        LIMIT,
    );
    let report = text(&out.stdout);
    assert!(out.status.success(), "{report}");
    assert!(
        !report.contains("Socket errors") && !report.contains("Non-2xx"),
        "{report}"
    );
    assert!(report.contains("requests in"), "{report}");
}

#[test]
fn h2load_h1_over_https() {
    let Some(pki) = setup("h2load", &["h2load"]) else {
        return;
    };
    let serving = serve(&pki, &[]);
    let url = format!("https://127.0.0.1:{}/", serving.addr.port());
    let out = run_bounded(
        Command::new("h2load").args(["--h1", "-n", "2000", "-c", "10", &url]),
        LIMIT,
    );
    let report = text(&out.stdout);
    assert!(
        report.contains("2000 succeeded, 0 failed, 0 errored"),
        "{report}"
    );
    assert!(
        report.contains("Application protocol: http/1.1"),
        "{report}"
    );
}

#[test]
fn python_ssl_verifies_and_gets_hello() {
    let Some(pki) = setup("python", &["python3"]) else {
        return;
    };
    let serving = serve(&pki, &[]);
    let script = format!(
        "import socket, ssl\n\
         ctx = ssl.create_default_context(cafile='{}')\n\
         ctx.set_alpn_protocols(['http/1.1'])\n\
         with socket.create_connection(('127.0.0.1', {})) as raw:\n\
         \x20   with ctx.wrap_socket(raw, server_hostname='localhost') as s:\n\
         \x20       version = s.version()\n\
         \x20       s.sendall(b'GET / HTTP/1.1\\r\\nHost: localhost\\r\\nConnection: close\\r\\n\\r\\n')\n\
         \x20       data = b''\n\
         \x20       while chunk := s.recv(4096):\n\
         \x20           data += chunk\n\
         \x20       print(version, s.selected_alpn_protocol(), data.split(b'\\r\\n\\r\\n')[1].decode())\n",
        pki.path("ca.pem"),
        serving.addr.port()
    );
    let out = run_bounded(Command::new("python3").args(["-c", &script]), LIMIT);
    assert_eq!(
        text(&out.stdout).trim(),
        "TLSv1.3 http/1.1 Hello, World!",
        "{}",
        text(&out.stderr)
    );
}

#[test]
fn chromium_renders_the_body_over_https() {
    let Some(pki) = setup("chromium", &["chromium"]) else {
        return;
    };
    let serving = serve(&pki, &[]);
    let url = format!("https://localhost:{}/hello", serving.addr.port());
    let output = chromium_dump_dom(&url, &[pki.chromium_trust()]);
    let dom = text(&output.stdout);
    assert!(
        dom.contains(">Hello, World!</pre>"),
        "DOM: {dom}\nstderr: {}",
        text(&output.stderr)
    );
}

#[test]
fn curl_with_a_client_certificate_is_served_and_without_one_refused() {
    let Some(pki) = setup("mtls-curl", &["curl"]) else {
        return;
    };
    let ca = pki.path("ca.pem");
    let serving = serve(&pki, &["--tls-client-ca", &ca]);
    let (cert, key) = (pki.path("client.pem"), pki.path("client.key"));
    let out = curl(&pki, &serving, &["--cert", &cert, "--key", &key]);
    assert_eq!(text(&out.stdout), "Hello, World!", "{}", text(&out.stderr));
    let out = curl(&pki, &serving, &[]);
    assert!(!out.status.success(), "served without a client certificate");
    assert!(text(&out.stdout).is_empty());
}

#[test]
fn https_with_two_workers() {
    let Some(pki) = setup("workers", &["curl"]) else {
        return;
    };
    let serving = serve(&pki, &["--workers", "2"]);
    for _ in 0..4 {
        let out = curl(&pki, &serving, &[]);
        assert_eq!(text(&out.stdout), "Hello, World!", "{}", text(&out.stderr));
    }
    let (status, stderr) = serving.terminate();
    assert!(status.success(), "{stderr}");
}

/// Socket activation: systemd-socket-activate owns the port and starts the server
/// at the first connection, which the server then serves over TLS.
#[test]
fn https_on_a_socket_passed_by_the_service_manager() {
    let Some(pki) = setup("activation", &["curl", "systemd-socket-activate"]) else {
        return;
    };
    let port = common::free_port();
    let mut command = Command::new("systemd-socket-activate");
    command
        .args(["-l", &format!("127.0.0.1:{port}")])
        .arg(env!("CARGO_BIN_EXE_hello-reactor"))
        .args(["--bind", "127.0.0.1:1"]) // ignored: the passed socket is served
        .args(pki.server_args());
    let mut server = common::Daemon::start(command);
    let url = format!("https://localhost:{port}/");
    let resolve = format!("localhost:{port}:127.0.0.1");
    let ca = pki.path("ca.pem");
    // curl retries a refused connect until the tool listens.
    let out = run_bounded(
        Command::new("curl").args([
            "-s",
            "--retry",
            "20",
            "--retry-connrefused",
            "--retry-delay",
            "0",
            "--max-time",
            "20",
            "--resolve",
            &resolve,
            "--cacert",
            &ca,
            &url,
        ]),
        LIMIT,
    );
    assert_eq!(text(&out.stdout), "Hello, World!", "{}", text(&out.stderr));
    assert_eq!(
        server.line(),
        format!("Serving HTTPS on 127.0.0.1:{port} ...")
    );
    let (status, log) = server.terminate();
    assert!(status.success(), "{log}");
    assert!(log.contains("passed by the service manager"), "{log}");
}
