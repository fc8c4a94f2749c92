//! `--bind unix:PATH`: the binary on a Unix domain socket, driven by curl
//! (`--unix-socket`) and by plain `UnixStream` clients.

mod common;

use std::io::{Read, Write};
use std::os::unix::net::UnixStream;
use std::path::Path;
use std::process::Command;
use std::time::Duration;

use common::{Daemon, PROMPTLY, binary, run_bounded, temp_path, tool_available};

/// The binary on `path`, after its first stdout line has been checked.
fn serve_unix(path: &Path) -> Daemon {
    let mut command = binary();
    command
        .arg("--bind")
        .arg(format!("unix:{}", path.display()));
    let mut server = Daemon::start(command);
    let line = server.line();
    assert_eq!(line, format!("Serving HTTP on unix:{} ...", path.display()));
    server
}

fn get_over(path: &Path) -> String {
    let mut client = UnixStream::connect(path).unwrap();
    client.set_read_timeout(Some(common::IO_TIMEOUT)).unwrap();
    client
        .write_all(b"GET / HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
        .unwrap();
    let mut response = String::new();
    client.read_to_string(&mut response).unwrap();
    response
}

#[test]
fn curl_over_a_unix_socket_reuses_one_connection() {
    if !tool_available("curl") {
        return;
    }
    let path = temp_path("curl.sock");
    let server = serve_unix(&path);
    let sock = path.to_str().unwrap();
    let out = run_bounded(
        Command::new("curl").args([
            "-sv",
            "--max-time",
            "10",
            "--unix-socket",
            sock,
            "http://localhost/a",
            "http://localhost/b",
        ]),
        Duration::from_secs(20),
    );
    let stdout = String::from_utf8_lossy(&out.stdout);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "curl failed: {stderr}");
    assert_eq!(stdout, "Hello, World!".repeat(2), "{stderr}");
    assert_eq!(stderr.matches("< HTTP/1.1 200 OK").count(), 2, "{stderr}");
    assert_eq!(stderr.matches("Connected to ").count(), 1, "{stderr}");
    let (status, log) = server.terminate();
    assert!(status.success(), "{log}");
    assert!(log.contains("2 requests"), "{log}");
}

#[test]
fn a_clean_exit_removes_the_socket_file() {
    let path = temp_path("clean.sock");
    let server = serve_unix(&path);
    assert!(get_over(&path).ends_with("\r\n\r\nHello, World!"));
    assert!(path.exists());
    let (status, log) = server.terminate();
    assert!(status.success(), "{log}");
    assert!(
        !path.exists(),
        "the socket file is still there after a clean exit"
    );
}

#[test]
fn a_stale_socket_file_is_replaced() {
    let path = temp_path("stale.sock");
    // What a killed server leaves: a socket file nobody listens on. Closing our
    // listener is not enough to get there: a child that another test thread forked
    // while it was open holds a copy until its `exec` closes it, and a connect in
    // that window succeeds. No child can inherit it once ours is closed, so wait
    // (bounded) for the first refused connect: from then on the file is stale.
    drop(std::os::unix::net::UnixListener::bind(&path).unwrap());
    let refused = || {
        UnixStream::connect(&path).is_err_and(|e| e.kind() == std::io::ErrorKind::ConnectionRefused)
    };
    assert!(
        common::eventually(PROMPTLY, refused),
        "{} still accepts connections after its listener was closed",
        path.display()
    );
    let server = serve_unix(&path);
    assert!(get_over(&path).starts_with("HTTP/1.1 200 OK\r\n"));
    let (status, log) = server.terminate();
    assert!(status.success(), "{log}");
    assert!(log.contains("replacing the stale socket file"), "{log}");
}

#[test]
fn a_live_socket_is_address_in_use_and_keeps_serving() {
    let path = temp_path("live.sock");
    let first = serve_unix(&path);
    let mut second = binary();
    second.arg("--bind").arg(format!("unix:{}", path.display()));
    let out = run_bounded(&mut second, PROMPTLY);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(1), "{stderr}");
    assert!(
        out.stdout.is_empty(),
        "{:?}",
        String::from_utf8_lossy(&out.stdout)
    );
    assert_eq!(stderr.lines().count(), 1, "{stderr}");
    assert!(
        stderr.contains(&format!("cannot listen on unix:{}", path.display()))
            && stderr.contains("in use"),
        "{stderr}"
    );
    // The failed start left the live server's socket file alone.
    assert!(get_over(&path).starts_with("HTTP/1.1 200 OK\r\n"));
    let (status, log) = first.terminate();
    assert!(status.success(), "{log}");
}

#[test]
fn an_empty_unix_path_exits_2_naming_the_flag() {
    let out = run_bounded(binary().args(["--bind", "unix:"]), PROMPTLY);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(2), "{stderr}");
    // As for every bad value (tests/cli.rs `bad_values_exit_2`): clap names the
    // flag and the value, and points to --help.
    assert!(
        stderr.contains("--bind") && stderr.contains("needs a path"),
        "{stderr}"
    );
    assert!(!stderr.contains("panicked"), "{stderr}");
}
