//! Socket activation (systemd's `LISTEN_FDS`/`LISTEN_PID`).
//!
//! Two things are checked, each with what it really shows:
//! - With `systemd-socket-activate` (systemd's own tool): the server serves the
//!   socket it is handed, TCP and Unix. That tool binds the socket, waits for the
//!   first connection, then *execs* the server in its own process, so the socket
//!   dies with the server: it cannot show a restart.
//! - A restart without refusals: this test plays the service manager. It holds
//!   the listening socket, as systemd does for a `.socket` unit, and starts the
//!   server on it twice, the second time right after SIGTERM made the first exit,
//!   while a client keeps connecting. The handover follows the strict protocol: a
//!   shell puts the socket on fd 3 and sets `LISTEN_PID` to its own pid, then execs
//!   the server (so the pid matches), exactly what systemd does before `exec`.

mod common;

use std::io::{Read, Write};
use std::net::{SocketAddr, TcpListener, TcpStream};
use std::os::fd::AsRawFd;
use std::process::Command;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use common::{Daemon, IO_TIMEOUT, PROMPTLY, binary, run_bounded, temp_path, tool_available};

fn get(addr: SocketAddr) -> std::io::Result<String> {
    let mut client = TcpStream::connect(addr)?;
    client.set_read_timeout(Some(IO_TIMEOUT))?;
    client.write_all(b"GET / HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")?;
    let mut response = String::new();
    client.read_to_string(&mut response)?;
    Ok(response)
}

/// `(connections, requests)` from the `stopped: ...` summary line.
fn summary(log: &str) -> (u64, u64) {
    let line = log
        .lines()
        .find(|l| l.contains("stopped: "))
        .unwrap_or_else(|| panic!("no summary line in:\n{log}"));
    let count = |what: &str| -> u64 {
        let end = line.find(what).unwrap();
        line[..end]
            .rsplit([' ', ','])
            .next()
            .unwrap()
            .parse()
            .unwrap()
    };
    (count(" connections"), count(" requests"))
}

#[test]
fn systemd_socket_activate_hands_over_a_tcp_socket() {
    if !tool_available("systemd-socket-activate") {
        return;
    }
    let addr = SocketAddr::from(([127, 0, 0, 1], common::free_port()));
    let mut command = Command::new("systemd-socket-activate");
    command
        .args(["-l", &addr.to_string()])
        .arg(env!("CARGO_BIN_EXE_hello-reactor"))
        .args(["--bind", "127.0.0.1:1"]); // ignored: the passed socket is served
    let mut server = Daemon::start(command);
    // The tool starts the server at the first connection, which then waits in
    // the backlog until the server accepts it.
    let deadline = Instant::now() + PROMPTLY;
    let first = loop {
        match get(addr) {
            Ok(response) => break response,
            Err(e) if Instant::now() < deadline => {
                assert_eq!(e.kind(), std::io::ErrorKind::ConnectionRefused, "{e}");
                std::thread::sleep(Duration::from_millis(20));
            }
            Err(e) => panic!("systemd-socket-activate never listened: {e}"),
        }
    };
    assert!(first.starts_with("HTTP/1.1 200 OK\r\n"), "{first}");
    assert_eq!(server.line(), format!("Serving HTTP on {addr} ..."));
    for _ in 0..3 {
        assert!(get(addr).unwrap().ends_with("\r\n\r\nHello, World!"));
    }
    let (status, log) = server.terminate();
    assert!(status.success(), "{log}");
    assert!(log.contains("passed by the service manager"), "{log}");
    assert_eq!(summary(&log).1, 4, "{log}");
    // The tool had exec'd the server: with it, the socket is gone.
    assert!(TcpStream::connect(addr).is_err());
}

#[test]
fn systemd_socket_activate_hands_over_a_unix_socket() {
    if !tool_available("systemd-socket-activate") || !tool_available("curl") {
        return;
    }
    let path = temp_path("activated.sock");
    let mut command = Command::new("systemd-socket-activate");
    command
        .arg("-l")
        .arg(&path)
        .arg(env!("CARGO_BIN_EXE_hello-reactor"));
    let mut server = Daemon::start(command);
    assert!(
        common::eventually(PROMPTLY, || path.exists()),
        "no socket at {path:?}"
    );
    let out = run_bounded(
        Command::new("curl")
            .args(["-s", "--max-time", "10", "--unix-socket"])
            .arg(&path)
            .arg("http://localhost/"),
        Duration::from_secs(15),
    );
    assert!(out.status.success(), "{out:?}");
    assert_eq!(out.stdout, b"Hello, World!");
    assert_eq!(
        server.line(),
        format!("Serving HTTP on unix:{} ...", path.display())
    );
    let (status, log) = server.terminate();
    assert!(status.success(), "{log}");
    // The socket file is the service manager's: the server leaves it.
    assert!(
        path.exists(),
        "the server removed a socket file it did not create"
    );
    let _ = std::fs::remove_file(&path);
}

/// Start the server on `listener` the way systemd does: fd 3, `LISTEN_FDS=1`,
/// `LISTEN_PID` = the pid that then execs the server.
fn activate(listener: &TcpListener, args: &[&str]) -> Daemon {
    let fd = listener.as_raw_fd().to_string();
    let mut command = Command::new("sh");
    command
        .arg("-c")
        .arg(
            r#"fd=$1; shift
               if [ "$fd" != 3 ]; then eval "exec 3<&$fd $fd<&-"; fi
               LISTEN_PID=$$ LISTEN_FDS=1 exec "$@""#,
        )
        .args(["sh", &fd, env!("CARGO_BIN_EXE_hello-reactor")])
        .args(args)
        .env_remove("LISTEN_FDS_FIRST_FD");
    Daemon::start(command)
}

#[test]
fn a_restart_on_a_held_socket_refuses_no_client() {
    // The service manager's socket. It must survive exec into the shell, so it is
    // not close-on-exec; the server's copy is (listenfd marks it).
    let socket = socket2::Socket::new(socket2::Domain::IPV4, socket2::Type::STREAM, None).unwrap();
    socket
        .bind(&SocketAddr::from(([127, 0, 0, 1], 0)).into())
        .unwrap();
    socket.listen(128).unwrap();
    socket.set_cloexec(false).unwrap();
    let listener: TcpListener = socket.into();
    let addr = listener.local_addr().unwrap();

    let mut first = activate(&listener, &[]);
    assert_eq!(first.line(), format!("Serving HTTP on {addr} ..."));

    // A client connecting again and again, each request on a new connection, so
    // that some arrive while no server runs at all.
    const REQUESTS: usize = 300;
    let done = Arc::new(AtomicUsize::new(0));
    let client = {
        let done = Arc::clone(&done);
        std::thread::spawn(move || {
            let mut failures = Vec::new();
            for i in 0..REQUESTS {
                match get(addr) {
                    Ok(r) if r.starts_with("HTTP/1.1 200 OK\r\n") => {}
                    Ok(r) => failures.push(format!("request {i}: {r:?}")),
                    Err(e) => failures.push(format!("request {i}: {e}")),
                }
                done.fetch_add(1, Ordering::Relaxed);
                std::thread::sleep(Duration::from_millis(3));
            }
            failures
        })
    };
    assert!(common::eventually(PROMPTLY, || done
        .load(Ordering::Relaxed)
        >= 50));
    let (status, first_log) = first.terminate();
    assert!(status.success(), "{first_log}");
    let during_gap = done.load(Ordering::Relaxed);
    let mut second = activate(&listener, &[]);
    assert_eq!(second.line(), format!("Serving HTTP on {addr} ..."));
    let failures = client.join().unwrap();
    let (status, second_log) = second.terminate();
    assert!(status.success(), "{second_log}");

    assert!(
        failures.is_empty(),
        "{} failed: {failures:#?}",
        failures.len()
    );
    let (first_served, second_served) = (summary(&first_log).1, summary(&second_log).1);
    assert_eq!(
        first_served + second_served,
        REQUESTS as u64,
        "first: {first_log}\nsecond: {second_log}"
    );
    assert!(
        first_served >= 50 && second_served > 0 && during_gap < REQUESTS,
        "the restart did not fall inside the run: {first_served} + {second_served}"
    );
    eprintln!("restart: {first_served} requests before, {second_served} after, none refused");
}

#[test]
fn a_passed_fd_that_is_not_a_socket_fails_with_one_line() {
    // fd 0 is /dev/null here: not a socket.
    let out = run_bounded(
        binary()
            .env("LISTEN_FDS", "1")
            .env("LISTEN_FDS_FIRST_FD", "0")
            .env_remove("LISTEN_PID"),
        PROMPTLY,
    );
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(1), "{stderr}");
    assert_eq!(stderr.lines().count(), 1, "{stderr}");
    assert!(
        stderr.contains("LISTEN_FDS") && stderr.contains("not a socket"),
        "{stderr}"
    );
}
