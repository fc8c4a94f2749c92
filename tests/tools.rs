//! Real HTTP clients against the server: curl, ab, wrk and h2load. Each test runs only
//! if its tool is installed (in CI a missing tool fails; see `common::tool_available`).

mod common;

use std::process::Command;
use std::time::Duration;

use common::{chromium_dump_dom, run_bounded, start_default};

fn text(bytes: &[u8]) -> String {
    String::from_utf8_lossy(bytes).into_owned()
}

/// The value of a `Name:   value` line in a tool's report.
fn field<'a>(report: &'a str, name: &str) -> Option<&'a str> {
    report.lines().find_map(|line| {
        let (key, value) = line.split_once(':')?;
        (key.trim() == name).then(|| value.trim())
    })
}

mod curl {
    use super::*;

    #[test]
    fn three_urls_reuse_one_connection() {
        if !common::tool_available("curl") {
            return;
        }
        let server = start_default();
        let url = format!("http://{}/", server.addr());
        let out = run_bounded(
            Command::new("curl").args(["-sv", "--max-time", "10", &url, &url, &url]),
            Duration::from_secs(20),
        );
        let (stdout, stderr) = (text(&out.stdout), text(&out.stderr));
        assert!(out.status.success(), "curl failed: {stderr}");
        assert_eq!(stdout, "Hello, World!".repeat(3), "{stderr}");
        // curl 7.88 wording: one "Connected to", then "Re-using existing connection
        // #0" for the second and third URL (curl 8 says "Reusing"), and each transfer
        // ends "Connection #0 to host ... left intact".
        assert_eq!(stderr.matches("Connected to ").count(), 1, "{stderr}");
        let reused = stderr
            .lines()
            .filter(|l| {
                l.contains("e-using existing connection")
                    || l.contains("Reusing existing connection")
            })
            .count();
        assert_eq!(reused, 2, "{stderr}");
        let intact = stderr
            .lines()
            .filter(|l| l.contains("Connection #0 to host") && l.ends_with("left intact"))
            .count();
        assert_eq!(intact, 3, "{stderr}");
        assert!(!stderr.contains("Connection #1"), "{stderr}");
        assert_eq!(stderr.matches("< HTTP/1.1 200 OK").count(), 3, "{stderr}");
        assert_eq!(stderr.matches("< Server: hello-reactor").count(), 3);
    }
}

mod ab {
    use super::*;

    #[test]
    fn keep_alive_benchmark_has_no_failures() {
        if !common::tool_available("ab") {
            return;
        }
        let server = start_default();
        let url = format!("http://{}/", server.addr());
        let out = run_bounded(
            Command::new("ab").args(["-k", "-q", "-s", "10", "-n", "2000", "-c", "50", &url]),
            Duration::from_secs(30),
        );
        let report = text(&out.stdout);
        assert!(
            out.status.success(),
            "ab failed: {report}{}",
            text(&out.stderr)
        );
        assert_eq!(
            field(&report, "Complete requests"),
            Some("2000"),
            "{report}"
        );
        assert_eq!(field(&report, "Failed requests"), Some("0"), "{report}");
        assert_eq!(
            field(&report, "Keep-Alive requests"),
            Some("2000"),
            "{report}"
        );
        assert_eq!(field(&report, "Non-2xx responses"), None, "{report}");
        assert_eq!(
            field(&report, "Document Length"),
            Some("13 bytes"),
            "{report}"
        );
    }
}

mod wrk {
    use super::*;

    #[test]
    fn a_thousand_connections_have_no_socket_errors() {
        if !common::tool_available("wrk") {
            return;
        }
        // 1000 client sockets (wrk inherits this limit) and 1000 server sockets here.
        let limit = rlimit::increase_nofile_limit(4096).unwrap();
        assert!(
            limit >= 2100,
            "the fd limit {limit} cannot hold 1000 connections on both sides"
        );
        let server = start_default();
        let url = format!("http://{}/", server.addr());
        let out = run_bounded(
            Command::new("wrk").args(["-t1", "-c1000", "-d2s", "--timeout", "5s", &url]),
            Duration::from_secs(30),
        );
        let report = text(&out.stdout);
        assert!(
            out.status.success(),
            "wrk failed: {report}{}",
            text(&out.stderr)
        );
        assert!(!report.contains("Socket errors"), "{report}");
        assert!(!report.contains("Non-2xx"), "{report}");
        let requests: u64 = report
            .lines()
            .find_map(|line| line.trim().split_once(" requests in "))
            .and_then(|(count, _)| count.parse().ok())
            .unwrap_or_else(|| panic!("no request count in {report}"));
        assert!(requests > 0, "{report}");
        // wrk closes its connections with responses still in flight, so the kernel
        // resets them: that is the peer's ordinary end, not an I/O error.
        let summary = server.shutdown().unwrap();
        assert_eq!(summary.io_errors, 0, "{summary}");
        eprintln!("after wrk: {summary}");
    }
}

mod h2load {
    use super::*;

    #[test]
    fn pipelined_http1_load_all_succeeds() {
        if !common::tool_available("h2load") {
            return;
        }
        let server = start_default();
        let url = format!("http://{}/", server.addr());
        let out = run_bounded(
            Command::new("h2load").args(["--h1", "-n", "5000", "-c", "50", "-m", "16", &url]),
            Duration::from_secs(30),
        );
        let report = text(&out.stdout);
        assert!(
            out.status.success(),
            "h2load failed: {report}{}",
            text(&out.stderr)
        );
        // h2load 1.52: "requests: 5000 total, 5000 started, 5000 done, 5000 succeeded,
        // 0 failed, 0 errored, 0 timeout"
        let requests = field(&report, "requests").unwrap_or_else(|| panic!("{report}"));
        assert!(
            requests.contains("5000 done, 5000 succeeded, 0 failed, 0 errored, 0 timeout"),
            "{report}"
        );
        assert!(
            field(&report, "status codes").is_some_and(|s| s.starts_with("5000 2xx,")),
            "{report}"
        );
    }
}

mod browser {
    use super::*;
    use common::tool_available;

    /// Headless Chromium loads the page and renders the body. Browsers send many
    /// headers, open speculative connections and ask for `/favicon.ico`; all of it
    /// must be answered.
    #[test]
    fn chromium_renders_the_body() {
        if !tool_available("chromium") {
            return;
        }
        let running = start_default();
        let url = format!("http://{}/hello", running.addr());
        let output = chromium_dump_dom(&url, &[]);
        let dom = text(&output.stdout);
        assert!(
            dom.contains(">Hello, World!</pre>"),
            "DOM: {dom}\nstderr: {}",
            text(&output.stderr)
        );
        let summary = running.stop().unwrap();
        assert!(summary.responses_with(200) >= 1, "{summary}");
        assert_eq!(summary.responses.len(), 1, "only 200s: {summary}");
    }
}
