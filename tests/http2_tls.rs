//! HTTP/2 over TLS, chosen by ALPN (`h2` offered first, then `http/1.1`), with
//! real clients: curl, h2load and headless Chromium. Certificates are made by
//! `openssl` for each test (`common::tls::Pki`); a missing tool skips (fails in CI).

#![cfg(target_os = "linux")]

mod common;

use std::process::{Command, Output};
use std::time::Duration;

use common::tls::Pki;
use common::{Serving, chromium_dump_dom, run_bounded, tool_available};

const LIMIT: Duration = Duration::from_secs(60);

fn text(bytes: &[u8]) -> String {
    String::from_utf8_lossy(bytes).into_owned()
}

fn setup(name: &str, tools: &[&str]) -> Option<Pki> {
    let all = ["openssl"].iter().chain(tools).all(|t| tool_available(t));
    all.then(|| Pki::new(name))
}

/// The server with the test PKI, `extra` flags and `RUST_LOG=rust_log`.
fn serve(pki: &Pki, extra: &[&str], rust_log: Option<&str>) -> Serving {
    let mut args: Vec<String> = pki.server_args();
    args.extend(extra.iter().map(|s| s.to_string()));
    let args: Vec<&str> = args.iter().map(String::as_str).collect();
    Serving::start(&args, rust_log)
}

fn curl_http2(pki: &Pki, serving: &Serving) -> Output {
    let port = serving.addr.port();
    let resolve = format!("localhost:{port}:127.0.0.1");
    let url = format!("https://localhost:{port}/");
    let ca = pki.path("ca.pem");
    let args = ["-sv", "--http2", "--max-time", "20", "--resolve", &resolve];
    run_bounded(
        Command::new("curl")
            .args(args)
            .args(["--cacert", &ca, &url]),
        LIMIT,
    )
}

#[test]
fn curl_negotiates_h2_by_alpn() {
    let Some(pki) = setup("h2-curl", &["curl"]) else {
        return;
    };
    let serving = serve(&pki, &[], None);
    let out = curl_http2(&pki, &serving);
    let log = text(&out.stderr);
    assert_eq!(text(&out.stdout), "Hello, World!", "{log}");
    assert!(log.contains("ALPN: server accepted h2"), "{log}");
    assert!(log.contains("< HTTP/2 200"), "{log}");
}

#[test]
fn with_http2_off_alpn_offers_http11_only() {
    let Some(pki) = setup("h2-off-curl", &["curl"]) else {
        return;
    };
    let serving = serve(&pki, &["--http2", "off"], None);
    let out = curl_http2(&pki, &serving);
    let log = text(&out.stderr);
    assert_eq!(text(&out.stdout), "Hello, World!", "{log}");
    assert!(log.contains("ALPN: server accepted http/1.1"), "{log}");
}

#[test]
fn h2load_over_tls_has_no_errors() {
    let Some(pki) = setup("h2-h2load", &["h2load"]) else {
        return;
    };
    let serving = serve(&pki, &[], None);
    let url = format!("https://127.0.0.1:{}/", serving.addr.port());
    let out = run_bounded(
        Command::new("h2load").args(["-c", "100", "-m", "100", "-n", "20000", &url]),
        LIMIT,
    );
    let report = text(&out.stdout);
    assert!(out.status.success(), "{report}{}", text(&out.stderr));
    assert!(report.contains("Application protocol: h2"), "{report}");
    let done = "20000 done, 20000 succeeded, 0 failed, 0 errored, 0 timeout";
    assert!(report.contains(done), "{report}");
}

#[test]
fn chromium_loads_the_page_over_h2() {
    let Some(pki) = setup("h2-chromium", &["chromium"]) else {
        return;
    };
    let serving = serve(&pki, &[], Some("hello_reactor=trace"));
    let url = format!("https://localhost:{}/hello", serving.addr.port());
    let output = chromium_dump_dom(&url, &[pki.chromium_trust()]);
    let dom = text(&output.stdout);
    let (_, log) = serving.terminate();
    assert!(dom.contains(">Hello, World!</pre>"), "DOM: {dom}\n{log}");
    assert!(log.contains("ALPN h2: HTTP/2"), "{log}");
    assert!(
        !log.contains("ALPN not h2"),
        "every connection spoke h2: {log}"
    );
}

#[test]
fn with_http2_only_alpn_offers_h2_alone() {
    let Some(pki) = setup("h2-only-curl", &["curl"]) else {
        return;
    };
    let serving = serve(&pki, &["--http2", "only"], None);
    let out = curl_http2(&pki, &serving);
    let log = text(&out.stderr);
    assert_eq!(text(&out.stdout), "Hello, World!", "{log}");
    assert!(log.contains("ALPN: server accepted h2"), "{log}");
    // A client that offers only http/1.1 has no protocol in common: refused.
    let port = serving.addr.port();
    let out = run_bounded(
        Command::new("curl").args([
            "-s",
            "--http1.1",
            "--max-time",
            "10",
            "--cacert",
            &pki.path("ca.pem"),
            "--resolve",
            &format!("localhost:{port}:127.0.0.1"),
            &format!("https://localhost:{port}/"),
        ]),
        LIMIT,
    );
    assert!(!out.status.success());
    assert!(out.stdout.is_empty());
}
