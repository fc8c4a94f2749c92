//! The built binary: its first line, flags, exit codes, errors, signals and logs.

mod common;

use std::io::Read;
use std::net::TcpListener;
use std::path::PathBuf;
use std::process::{ExitStatus, Stdio};
use std::time::{Duration, Instant};

use common::{
    GET, PROMPTLY, Reader, Serving, binary, connect, first_line_addr, roundtrip, run_bounded,
    stats_lines_after_traffic, wait_exit,
};

/// Run the binary with `args` (never on the default port) and collect its output;
/// it must exit by itself within [`PROMPTLY`].
fn run(args: &[&str]) -> (ExitStatus, String, String) {
    let out = run_bounded(binary().args(args).env_remove("RUST_LOG"), PROMPTLY);
    (
        out.status,
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

/// A file in the temp directory, removed when dropped.
struct TempFile(PathBuf);

impl TempFile {
    fn new(name: &str, contents: &[u8]) -> TempFile {
        let path =
            std::env::temp_dir().join(format!("hello-reactor-cli-{}-{name}", std::process::id()));
        std::fs::write(&path, contents).unwrap();
        TempFile(path)
    }

    fn path(&self) -> &str {
        self.0.to_str().unwrap()
    }
}

impl Drop for TempFile {
    fn drop(&mut self) {
        let _ = std::fs::remove_file(&self.0);
    }
}

mod serving {
    use super::*;

    #[test]
    fn first_line_names_a_real_port_and_stderr_stays_quiet_per_request() {
        let serving = Serving::start(&[], None);
        assert!(serving.addr.ip().is_loopback(), "{}", serving.addr);
        assert_ne!(serving.addr.port(), 0, "the first line shows port 0");
        for _ in 0..25 {
            let mut reader = Reader::new(connect(serving.addr));
            for _ in 0..2 {
                reader.send(GET);
                let response = reader.response(false);
                assert_eq!(response.status, 200);
                assert_eq!(response.body_text(), "Hello, World!");
            }
        }
        let (status, stderr) = serving.terminate();
        assert!(status.success(), "{status:?}\n{stderr}");
        assert!(
            stderr.lines().count() <= 4,
            "50 requests should not log per request without RUST_LOG:\n{stderr}"
        );
        assert!(!stderr.contains("panicked"), "{stderr}");
    }

    #[test]
    fn body_and_content_type_flags_are_served() {
        let serving = Serving::start(
            &[
                "--body",
                "Bonjour, le monde",
                "--content-type",
                "text/x-greeting",
            ],
            None,
        );
        let response = roundtrip(serving.addr, GET);
        assert_eq!(response.status, 200);
        assert_eq!(response.body_text(), "Bonjour, le monde");
        assert_eq!(response.header("Content-Type"), Some("text/x-greeting"));
        assert_eq!(response.header("Content-Length"), Some("17"));
    }

    /// `--status` and `--header` reach every answer, GET and HEAD alike.
    #[test]
    fn status_and_header_flags_are_served() {
        let serving = Serving::start(
            &[
                "--status",
                "404",
                "--header",
                "Cache-Control: no-store",
                "--header",
                "X-Served-By:  hello ",
            ],
            None,
        );
        let mut reader = Reader::new(connect(serving.addr));
        for (request, is_head) in [
            (GET, false),
            (&b"HEAD / HTTP/1.1\r\nHost: t\r\n\r\n"[..], true),
        ] {
            reader.send(request);
            let response = reader.response(is_head);
            assert!(
                response.head.starts_with("HTTP/1.1 404 Not Found\r\n"),
                "{}",
                response.head
            );
            assert_eq!(response.header("Cache-Control"), Some("no-store"));
            assert_eq!(response.header("X-Served-By"), Some("hello"));
            assert_eq!(response.header("Content-Length"), Some("13"));
            let body = if is_head { "" } else { "Hello, World!" };
            assert_eq!(response.body_text(), body);
        }
        let (status, stderr) = serving.terminate();
        assert!(status.success(), "{status:?}\n{stderr}");
        assert!(
            stderr.contains("404=2"),
            "the summary counts the 404s: {stderr}"
        );
    }

    /// `--status 204`: no body and no Content-Length (RFC 9110 §8.6), so the
    /// next answer on the connection starts right after the blank line.
    #[test]
    fn status_204_has_no_body_and_no_content_length() {
        let serving = Serving::start(&["--status", "204"], None);
        let mut reader = Reader::new(connect(serving.addr));
        reader.send(&[GET, GET].concat());
        for _ in 0..2 {
            let response = reader.response(false);
            assert!(
                response.head.starts_with("HTTP/1.1 204 No Content\r\n"),
                "{}",
                response.head
            );
            assert_eq!(response.header("Content-Length"), None, "{}", response.head);
            assert_eq!(response.header("Content-Type"), None, "{}", response.head);
        }
        assert!(reader.leftover().is_empty(), "{:?}", reader.leftover());
        let (status, stderr) = serving.terminate();
        assert!(status.success(), "{status:?}\n{stderr}");
    }

    #[test]
    fn body_file_bytes_are_served() {
        let contents: Vec<u8> = b"line one\nline two\n\x00\x01\xfe\xff end"
            .iter()
            .copied()
            .cycle()
            .take(5000)
            .collect();
        let file = TempFile::new("body", &contents);
        let serving = Serving::start(&["--body-file", file.path()], None);
        let response = roundtrip(serving.addr, GET);
        assert_eq!(response.status, 200);
        assert_eq!(response.header("Content-Length"), Some("5000"));
        assert_eq!(response.body, contents);
    }
}

mod flags {
    use super::*;

    #[test]
    fn help_lists_the_flags_and_exits_0() {
        let (status, stdout, stderr) = run(&["--help"]);
        assert_eq!(status.code(), Some(0), "{stderr}");
        for flag in [
            "--bind",
            "--body",
            "--body-file",
            "--content-type",
            "--max-connections",
            "--backlog",
            "--defer-accept",
        ] {
            assert!(
                stdout.contains(flag),
                "--help does not mention {flag}:\n{stdout}"
            );
        }
    }

    #[test]
    fn version_exits_0_with_the_version() {
        let (status, stdout, stderr) = run(&["--version"]);
        assert_eq!(status.code(), Some(0), "{stderr}");
        assert!(
            stdout.contains(env!("CARGO_PKG_VERSION")),
            "--version printed {stdout:?}"
        );
    }

    #[test]
    fn an_unknown_flag_exits_2_with_usage() {
        let (status, _, stderr) = run(&["--bind", "127.0.0.1:0", "--frobnicate"]);
        assert_eq!(status.code(), Some(2), "{stderr}");
        assert!(stderr.contains("Usage:"), "{stderr}");
        assert!(stderr.contains("--frobnicate"), "{stderr}");
    }

    #[test]
    fn bad_values_exit_2() {
        for args in [
            &["--backlog", "x"][..],
            &["--backlog", "0"],
            &["--defer-accept", "-1"],
            &["--defer-accept", "3601"],
            &["--defer-accept", "0.5"],
            &["--header-timeout", "-1"],
            &["--header-timeout=-1"],
            &["--keep-alive-timeout", "soon"],
            &["--max-connections", "0"],
            &["--bind", "not-an-address"],
            &["--bind", "localhost"],
            &["--content-type", "text/plain\r\nSet-Cookie: a=b"],
            &["--content-type", "text/plain\n"],
            &["--content-type", "a\x01b"],
            &["--content-type", ""],
            &["--content-type", " text/plain"],
            &["--status", "199"],
            &["--status", "600"],
            &["--status", "OK"],
            &["--header", "X-A"],
            &["--header", "X A: b"],
            &["--header", "X-A: b\r\nSet-Cookie: c"],
            &["--header", "X-A: \x01"],
            &["--header", "Content-Length: 5"],
            &["--header", "transfer-encoding: chunked"],
            &["--header", "Connection: close"],
            &["--header", "DATE: x"],
            &["--delay", "0.5..0.1"],
            &["--delay", "soon"],
            &["--delay", "0"],
            &["--fail-rate", "1.5"],
            &["--fail-rate", "much"],
            &["--fail-status", "99"],
            &["--body-size", "0"],
            &["--body-size", "1073741825"],
            &["--http2", "maybe"],
            &["--http2", ""],
            &["--h2-max-streams", "0"],
            &["--h2-max-streams", "many"],
        ] {
            let mut all = vec!["--bind", "127.0.0.1:0"];
            all.extend_from_slice(args);
            let (status, _, stderr) = run(&all);
            assert_eq!(status.code(), Some(2), "{args:?}: {stderr}");
            // The error names the flag or the offending value (clap reads a value
            // starting with `-` as an unexpected argument).
            let (flag, value) = match args {
                [joined] => joined.split_once('=').unwrap(),
                [flag, value] => (*flag, *value),
                _ => unreachable!(),
            };
            assert!(stderr.starts_with("error: "), "{args:?}: {stderr}");
            assert!(
                stderr.contains("\nUsage: "),
                "{args:?}: no usage line: {stderr}"
            );
            assert!(
                stderr.contains(flag) || stderr.contains(&format!("'{value}'")),
                "{args:?}: the error names neither the flag nor the value: {stderr}"
            );
            assert!(!stderr.contains("panicked"), "{args:?}: {stderr}");
        }
    }

    /// A `--bind` that is no address says which forms are.
    #[test]
    fn a_bad_bind_names_the_expected_forms() {
        let (status, _, stderr) = run(&["--bind", "nowhere"]);
        assert_eq!(status.code(), Some(2), "{stderr}");
        for form in ["127.0.0.1:8888", "[::1]:8888", "localhost:8888"] {
            assert!(stderr.contains(form), "{form} not in {stderr}");
        }
    }

    /// `--bind localhost:0` is resolved, the first address is used, and the
    /// choice is logged at info.
    #[test]
    fn bind_takes_a_host_name_and_logs_what_it_resolved_to() {
        let mut child = binary()
            .args(["--bind", "localhost:0"])
            .env_remove("RUST_LOG")
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap();
        let addr = first_line_addr(&mut child);
        assert!(addr.ip().is_loopback(), "{addr}");
        assert_eq!(roundtrip(addr, GET).status, 200);
        common::signal(&child, "TERM");
        let status = wait_exit(&mut child, PROMPTLY);
        let mut stderr = String::new();
        child
            .stderr
            .take()
            .unwrap()
            .read_to_string(&mut stderr)
            .unwrap();
        assert!(status.success(), "{status:?}\n{stderr}");
        let ip = addr.ip().to_string();
        assert!(
            stderr.lines().any(|l| l.contains("INFO")
                && l.contains("--bind localhost:0 resolved to")
                && l.contains(&ip)),
            "{stderr}"
        );
    }

    #[test]
    fn a_missing_body_file_exits_2_with_a_clear_message() {
        let missing = std::env::temp_dir().join(format!(
            "hello-reactor-cli-{}-does-not-exist",
            std::process::id()
        ));
        let missing = missing.to_str().unwrap();
        let (status, _, stderr) = run(&["--bind", "127.0.0.1:0", "--body-file", missing]);
        assert_eq!(status.code(), Some(2), "{stderr}");
        assert!(stderr.contains("--body-file"), "{stderr}");
        assert!(stderr.contains(missing), "{stderr}");
        assert!(!stderr.contains("panicked"), "{stderr}");
    }

    #[test]
    fn a_taken_port_exits_1_with_one_clear_line() {
        let taken = TcpListener::bind("127.0.0.1:0").unwrap();
        let addr = taken.local_addr().unwrap().to_string();
        let (status, stdout, stderr) = run(&["--bind", &addr]);
        assert_eq!(status.code(), Some(1), "{stderr}");
        assert_eq!(stderr.trim_end().lines().count(), 1, "{stderr}");
        assert!(stderr.contains(&addr), "{stderr}");
        assert!(stderr.contains("Address already in use"), "{stderr}");
        assert!(!stderr.contains("panicked"), "{stderr}");
        assert!(!stdout.contains("Serving HTTP"), "{stdout}");
    }
}

mod signals {
    use super::*;

    #[test]
    fn sigterm_with_no_connections_exits_0_promptly() {
        let serving = Serving::start(&[], None);
        let began = Instant::now();
        let (status, stderr) = serving.terminate();
        assert_eq!(status.code(), Some(0), "{stderr}");
        assert!(began.elapsed() < PROMPTLY);
    }

    #[test]
    fn sigterm_closes_an_idle_keep_alive_connection_and_exits_0() {
        // A shutdown timeout far beyond PROMPTLY: the exit must come from closing
        // the idle connection, not from waiting the drain out.
        let mut serving = Serving::start(&["--shutdown-timeout", "60"], None);
        let mut reader = Reader::new(connect(serving.addr));
        reader.send(GET);
        assert_eq!(reader.response(false).status, 200);
        serving.signal("TERM");
        let rest = reader
            .read_to_close()
            .expect("the idle connection should be closed with a FIN");
        assert!(rest.is_empty(), "{:?}", String::from_utf8_lossy(&rest));
        let (status, stderr) = serving.wait(PROMPTLY);
        assert_eq!(status.code(), Some(0), "{stderr}");
    }

    /// SIGHUP (a closed terminal, or an operator's reload habit) must not kill
    /// the server: it is logged and ignored, and the same connection keeps being
    /// served. SIGPIPE is ignored by every Rust program.
    #[test]
    fn sighup_is_logged_and_ignored() {
        let serving = Serving::start(&[], None);
        let mut reader = Reader::new(connect(serving.addr));
        reader.send(GET);
        assert_eq!(reader.response(false).status, 200);
        serving.signal("HUP");
        std::thread::sleep(Duration::from_millis(200));
        reader.send(GET);
        assert_eq!(
            reader.response(false).status,
            200,
            "not served after SIGHUP"
        );
        drop(reader);
        let (status, stderr) = serving.terminate();
        assert_eq!(status.code(), Some(0), "{stderr}");
        assert!(stderr.contains("SIGHUP: ignored"), "{stderr}");
    }
}

mod logging {
    use super::*;

    #[test]
    fn debug_logs_each_connection_opened_and_closed() {
        let serving = Serving::start(&[], Some("debug"));
        let mut clients = Vec::new();
        for _ in 0..3 {
            let mut reader = Reader::new(connect(serving.addr));
            reader.send(b"GET / HTTP/1.1\r\nHost: t\r\nConnection: close\r\n\r\n");
            assert_eq!(reader.response(false).status, 200);
            reader.read_to_close().unwrap();
            clients.push(reader.stream.local_addr().unwrap());
        }
        let (status, stderr) = serving.terminate();
        assert!(status.success(), "{stderr}");
        for client in clients {
            let opened = stderr
                .lines()
                .filter(|line| line.contains(&client.to_string()))
                .count();
            assert!(opened >= 1, "no line for {client} opening:\n{stderr}");
        }
        let closed = stderr.lines().filter(|l| l.contains("closed")).count();
        assert!(closed >= 3, "{closed} lines about closing:\n{stderr}");
    }

    #[test]
    fn trace_logs_state_transitions() {
        let serving = Serving::start(&[], Some("hello_reactor=trace"));
        let mut reader = Reader::new(connect(serving.addr));
        // A head in two pieces: the connection must pass through ReadingHead.
        reader.send(b"GET / HTTP/1.1\r\n");
        std::thread::sleep(Duration::from_millis(50));
        reader.send(b"Host: t\r\n\r\n");
        assert_eq!(reader.response(false).status, 200);
        drop(reader);
        let (status, stderr) = serving.terminate();
        assert!(status.success(), "{stderr}");
        assert!(
            stderr.lines().any(|l| l.contains(" => ")),
            "no state transition line:\n{stderr}"
        );
    }

    #[test]
    fn stats_interval_logs_rates_connections_and_errors() {
        // The helper checks what every stats line says; a lone reactor adds nothing.
        stats_lines_after_traffic(&[], GET, Duration::from_millis(700));
    }
}
