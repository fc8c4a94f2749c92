//! HTTPS over real sockets: the flags, the known traps of TLS in an edge-triggered
//! loop (one test each), faults, and the reload. Real clients (curl, openssl,
//! wrk, h2load, Chromium, Python) are in `tests/tls_clients.rs`.
//!
//! Certificates are made by `openssl` for each test (`common::tls::Pki`).

#![cfg(target_os = "linux")] // /proc, FIONREAD through rustix (a Linux-only dependency)

mod common;

use std::io::{Read, Write};
use std::net::{Shutdown, SocketAddr};
use std::os::unix::net::UnixStream;
use std::time::{Duration, Instant};

use common::tls::{ClientExt, Pki, client};
use common::{PROMPTLY, Serving, connect, count, eventually, run_bounded, tool_available};

/// A TLS server with the test PKI and `extra` flags, and its metrics address.
fn serve(pki: &Pki, extra: &[&str], rust_log: Option<&str>) -> (Serving, SocketAddr) {
    let mut args: Vec<String> = pki.server_args();
    args.extend(["--metrics-bind".into(), "127.0.0.1:0".into()]);
    args.extend(extra.iter().map(|s| s.to_string()));
    let args: Vec<&str> = args.iter().map(String::as_str).collect();
    let mut serving = Serving::start(&args, rust_log);
    let line = serving.line();
    let metrics = line
        .strip_prefix("Metrics on http://")
        .and_then(|rest| rest.strip_suffix("/metrics"))
        .unwrap_or_else(|| panic!("second line {line:?}"))
        .parse()
        .unwrap();
    (serving, metrics)
}

/// The value of the metrics sample that starts with `name`.
fn metric(addr: SocketAddr, name: &str) -> u64 {
    let mut stream = connect(addr);
    stream
        .write_all(b"GET /metrics HTTP/1.1\r\nHost: m\r\n\r\n")
        .unwrap();
    let mut text = String::new();
    stream.read_to_string(&mut text).unwrap();
    text.lines()
        .find_map(|l| l.strip_prefix(name)?.trim().parse().ok())
        .unwrap_or_else(|| panic!("no {name} in:\n{text}"))
}

fn handshakes(metrics: SocketAddr, result: &str) -> u64 {
    metric(
        metrics,
        &format!("hello_reactor_tls_handshakes_total{{result=\"{result}\"}}"),
    )
}

fn setup(name: &str) -> Option<Pki> {
    tool_available("openssl").then(|| Pki::new(name))
}

const GET: &[u8] = b"GET / HTTP/1.1\r\nHost: localhost\r\n\r\n";
const HELLO: &[u8] = b"Hello, World!";

#[test]
fn a_request_over_tls_13_gets_hello_with_alpn_http11() {
    let Some(pki) = setup("hello") else { return };
    let (serving, metrics) = serve(&pki, &[], None);
    let mut tls = pki.connect(serving.addr);
    assert_eq!(tls.conn.alpn_protocol(), Some(&b"http/1.1"[..]));
    assert_eq!(
        tls.conn.protocol_version(),
        Some(rustls::ProtocolVersion::TLSv1_3)
    );
    tls.send(GET);
    tls.read_responses(1, HELLO);
    assert_eq!(handshakes(metrics, "ok"), 1);
    let (status, stderr) = serving.terminate();
    assert!(status.success(), "{stderr}");
}

/// rustls#12: input waits while no edge will come for it. Bursts of pipelined
/// requests larger than the loop's 64 KiB read buffer: a TLS read returns less
/// than a full buffer even when more waits (plaintext is shorter than its
/// records, and a read stops when the buffer is full), so the stream must say
/// that more input waits. Every request must be answered.
#[test]
fn a_pipelined_burst_larger_than_the_read_buffer_is_all_answered() {
    let Some(pki) = setup("burst") else { return };
    let (serving, _) = serve(&pki, &[], None);
    let mut tls = pki.connect(serving.addr);
    let n = 3000; // 3000 * 36 bytes = 105 KiB of plaintext
    tls.send(&GET.repeat(n));
    let all = tls.read_responses(n, HELLO);
    assert_eq!(count(&all, b"HTTP/1.1 200 OK\r\n"), n);
    // 1.5 MB of requests padded to 3 kB (small answers, so nothing blocks on
    // output): the socket holds more than a buffer's worth when it is read.
    let pad = "x".repeat(3000);
    let padded = format!("GET / HTTP/1.1\r\nHost: localhost\r\nX-Pad: {pad}\r\n\r\n");
    for _ in 0..3 {
        tls.send(&padded.as_bytes().repeat(500));
        tls.read_responses(500, HELLO);
    }
}

/// rustls#3217 and "a pipelined burst in one record": several requests in one TLS
/// record, and one request split over many records that arrive in one segment.
/// Each record is processed once and its plaintext taken before the next read.
#[test]
fn requests_in_one_record_and_one_request_in_many_records_are_answered() {
    let Some(pki) = setup("records") else { return };
    let (serving, _) = serve(&pki, &[], None);
    let mut tls = pki.connect(serving.addr);
    tls.send(&GET.repeat(16)); // 16 requests, one record
    tls.read_responses(16, HELLO);
    // One request, one byte per record, all sent in one TCP write.
    for &byte in GET {
        tls.conn.writer().write_all(&[byte]).unwrap();
    }
    let mut records = Vec::new();
    while tls.conn.wants_write() {
        tls.conn.write_tls(&mut records).unwrap();
    }
    tls.sock.write_all(&records).unwrap();
    tls.read_responses(1, HELLO);
}

/// rustls#3217 (plaintext lost around a second `process_new_packets`): the
/// client's Finished and its first request in one TCP segment, and a request and
/// `close_notify` in one: each record is processed once, and its plaintext is
/// taken before anything else.
#[test]
fn a_request_that_shares_a_segment_with_finished_or_close_notify_is_answered() {
    let Some(pki) = setup("segments") else { return };
    let (serving, _) = serve(&pki, &[], None);
    let name = rustls::pki_types::ServerName::try_from("localhost").unwrap();
    let mut conn = rustls::ClientConnection::new(pki.client_config(false), name).unwrap();
    let mut sock = connect(serving.addr);
    conn.write_tls(&mut sock).unwrap(); // ClientHello
    for _ in 0..100 {
        if !conn.is_handshaking() {
            break;
        }
        conn.read_tls(&mut sock).unwrap();
        conn.process_new_packets().unwrap();
    }
    conn.writer().write_all(GET).unwrap(); // queued behind the Finished
    let mut segment = Vec::new();
    while conn.wants_write() {
        conn.write_tls(&mut segment).unwrap();
    }
    sock.write_all(&segment).unwrap();
    let mut tls = rustls::StreamOwned::new(conn, sock);
    tls.read_responses(1, HELLO);
    // A last request and close_notify together: answered, then closed.
    tls.conn
        .writer()
        .write_all(b"GET / HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n\r\n")
        .unwrap();
    tls.conn.send_close_notify();
    let mut segment = Vec::new();
    while tls.conn.wants_write() {
        tls.conn.write_tls(&mut segment).unwrap();
    }
    tls.sock.write_all(&segment).unwrap();
    tls.read_responses(1, HELLO);
}

/// A TLS server on a Unix socket (`--bind unix:PATH`, which TLS serves too)
/// and a client connected to it, handshake done. A Unix socket's buffers do not
/// grow as loopback TCP's do (to megabytes), so a few answers fill them.
fn unix_pair(pki: &Pki, extra: &[&str]) -> (common::Daemon, UnixClient) {
    let path = pki.dir.join("hello.sock");
    let mut command = common::binary();
    command
        .args(pki.server_args())
        .arg("--bind")
        .arg(format!("unix:{}", path.display()))
        .args(extra);
    let mut daemon = common::Daemon::start(command);
    let line = daemon.line();
    assert_eq!(
        line,
        format!("Serving HTTPS on unix:{} ...", path.display())
    );
    let sock = UnixStream::connect(&path).unwrap();
    sock.set_read_timeout(Some(Duration::from_secs(10)))
        .unwrap();
    let name = rustls::pki_types::ServerName::try_from("localhost").unwrap();
    let conn = rustls::ClientConnection::new(pki.client_config(false), name).unwrap();
    let mut tls = rustls::StreamOwned::new(conn, sock);
    while tls.conn.is_handshaking() {
        tls.conn.complete_io(&mut tls.sock).unwrap();
    }
    (daemon, tls)
}

type UnixClient = rustls::StreamOwned<rustls::ClientConnection, UnixStream>;

/// Requests for a 60 kB answer, one at a time, nothing read, until one answer
/// does not fit in the socket's buffers (the bytes queued for the client stop
/// growing by a whole answer). That last answer was taken whole by one TLS write
/// (it is under rustls's 64 KiB limit) and waits there as records, with the
/// driver's own spill empty: only `Stream::pending_output` says output waits.
/// Returns how many requests were sent.
fn fill_then_block(tls: &mut UnixClient) -> usize {
    let mut queued = 0;
    for sent in 1..=64 {
        tls.write_all(GET).unwrap();
        tls.flush().unwrap();
        std::thread::sleep(Duration::from_millis(50));
        let now = rustix::io::ioctl_fionread(&tls.sock).unwrap() as usize;
        if now < queued + 60_000 {
            return sent;
        }
        queued = now;
    }
    panic!("64 answers of 60 kB fit in a Unix socket's buffers");
}

/// rustls#359: a write that hit `WouldBlock` must be flushed when the socket
/// drains. Answers larger than the socket buffers, to a client that pauses
/// before reading: the rest waits as records in rustls, and only a writable edge
/// (asked for because TLS output is pending) gets it out.
#[test]
fn a_large_response_to_a_slow_reader_arrives_whole() {
    let Some(pki) = setup("slow") else { return };
    let body_file = pki.dir.join("body");
    let mut body = vec![b'x'; 60_000];
    body.extend_from_slice(b"the end\n");
    std::fs::write(&body_file, &body).unwrap();
    let body_arg = body_file.display().to_string();
    let (_daemon, mut tls) = unix_pair(&pki, &["--body-file", &body_arg]);
    let sent = fill_then_block(&mut tls);
    let mut all = Vec::new();
    let deadline = Instant::now() + Duration::from_secs(10);
    let mut chunk = vec![0u8; 64 * 1024];
    while count(&all, b"the end\n") < sent {
        assert!(
            Instant::now() < deadline,
            "{} answers",
            count(&all, b"the end\n")
        );
        let n = tls.read(&mut chunk).expect("the rest of the answers");
        assert!(n > 0, "closed after {} answers", count(&all, b"the end\n"));
        all.extend_from_slice(&chunk[..n]);
    }
}

/// A client that stops reading mid-response: backpressure goes through the TLS
/// buffer. TLS output that waits for the socket counts as unsent, so the write
/// timeout applies (not the keep-alive timeout) and the server closes.
#[test]
fn a_client_that_stops_reading_meets_the_write_timeout() {
    let Some(pki) = setup("stop") else { return };
    let body_file = pki.dir.join("body");
    std::fs::write(&body_file, vec![b'y'; 60_000]).unwrap();
    let body_arg = body_file.display().to_string();
    let args = [
        "--body-file",
        &body_arg,
        "--write-timeout",
        "1",
        "--keep-alive-timeout",
        "60",
    ];
    let (daemon, mut tls) = unix_pair(&pki, &args);
    fill_then_block(&mut tls); // and never read
    let fds = || common::open_fds(daemon.child.id());
    let with_client = fds();
    let closed = eventually(Duration::from_secs(5), || fds() < with_client);
    assert!(closed, "not closed by the write timeout");
}

/// rustls#285 (and the mio example's CVE-2019-15541): a close must end the
/// connection, not spin. Clients that close before, during and after the
/// handshake: every descriptor returns, and the server burns no CPU meanwhile.
#[test]
fn clients_that_close_at_any_point_cost_nothing_after() {
    let Some(pki) = setup("close") else { return };
    let (serving, metrics) = serve(&pki, &[], None);
    let baseline = serving.open_fds();
    let (mut held, mut socks) = (Vec::new(), Vec::new());
    // After the handshake, without close_notify: FIN only.
    for _ in 0..5 {
        let tls = pki.connect(serving.addr);
        tls.sock.shutdown(Shutdown::Write).unwrap();
        held.push(tls);
    }
    // Half a ClientHello, then FIN.
    let hello = client_hello(&pki);
    for _ in 0..5 {
        let mut sock = connect(serving.addr);
        sock.write_all(&hello[..hello.len() / 2]).unwrap();
        sock.shutdown(Shutdown::Write).unwrap();
        socks.push(sock);
    }
    // With close_notify.
    for _ in 0..5 {
        let mut tls = pki.connect(serving.addr);
        tls.conn.send_close_notify();
        tls.flush().unwrap();
        tls.sock.shutdown(Shutdown::Write).unwrap();
        held.push(tls);
    }
    let back = eventually(PROMPTLY, || serving.open_fds() <= baseline);
    assert!(back, "fds: {} > baseline {baseline}", serving.open_fds());
    let cpu = cpu_ticks(serving.pid());
    std::thread::sleep(Duration::from_secs(1));
    let spent = cpu_ticks(serving.pid()) - cpu;
    assert!(
        spent <= 5,
        "{spent} ticks of CPU in a second with nothing to do"
    );
    assert_eq!(handshakes(metrics, "ok"), 10);
    assert_eq!(handshakes(metrics, "incomplete"), 5);
}

/// utime + stime of `pid`, in clock ticks.
fn cpu_ticks(pid: u32) -> u64 {
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).unwrap();
    let after = &stat[stat.rfind(')').unwrap() + 2..];
    let fields: Vec<&str> = after.split(' ').collect();
    fields[11].parse::<u64>().unwrap() + fields[12].parse::<u64>().unwrap()
}

/// The records of a client's first flight (its ClientHello).
fn client_hello(pki: &Pki) -> Vec<u8> {
    let name = rustls::pki_types::ServerName::try_from("localhost").unwrap();
    let mut conn = rustls::ClientConnection::new(pki.client_config(false), name).unwrap();
    let mut hello = Vec::new();
    conn.write_tls(&mut hello).unwrap();
    hello
}

/// A client that connects and says nothing, or half a ClientHello: closed at the
/// header timeout, the handshake counted as incomplete.
#[test]
fn a_handshake_must_finish_within_the_header_timeout() {
    let Some(pki) = setup("slowloris") else {
        return;
    };
    let (serving, metrics) = serve(
        &pki,
        &["--header-timeout", "0.5", "--defer-accept", "0"],
        None,
    );
    let hello = client_hello(&pki);
    let mut silent = connect(serving.addr);
    let mut half = connect(serving.addr);
    half.write_all(&hello[..hello.len() / 2]).unwrap();
    let started = Instant::now();
    for sock in [&mut silent, &mut half] {
        let mut buf = [0u8; 64];
        let n = sock.read(&mut buf).unwrap_or(0);
        assert_eq!(n, 0, "expected a close, got {:?}", &buf[..n]);
    }
    let took = started.elapsed();
    assert!(took < Duration::from_secs(3), "closed after {took:?}");
    assert!(eventually(PROMPTLY, || handshakes(metrics, "incomplete") == 2));
}

/// Plain HTTP on the TLS port: a 400 that says so, then a close. Garbage and a
/// reset mid-handshake cost only their own connection.
#[test]
fn plain_http_garbage_and_resets_on_the_tls_port() {
    let Some(pki) = setup("plain") else { return };
    let (serving, metrics) = serve(&pki, &[], None);
    let baseline = serving.open_fds();
    let mut sock = connect(serving.addr);
    sock.write_all(b"GET / HTTP/1.1\r\nHost: x\r\n\r\n")
        .unwrap();
    let mut answer = String::new();
    sock.read_to_string(&mut answer).unwrap();
    assert!(
        answer.starts_with("HTTP/1.1 400 Bad Request\r\n"),
        "{answer}"
    );
    assert!(answer.contains("speaks HTTPS"), "{answer}");
    assert_eq!(handshakes(metrics, "plain_http"), 1);

    let mut garbage = connect(serving.addr);
    garbage
        .write_all(&[0x16, 3, 1, 0, 5, 1, 2, 3, 4, 5])
        .unwrap();
    let mut buf = Vec::new();
    let _ = garbage.read_to_end(&mut buf); // an alert, then the close
    let reset = connect(serving.addr);
    let hello = client_hello(&pki);
    (&reset).write_all(&hello[..20]).unwrap();
    socket2::SockRef::from(&reset)
        .set_linger(Some(Duration::ZERO))
        .unwrap();
    drop(reset); // RST
    // The server still serves, and every descriptor came back.
    let mut tls = pki.connect(serving.addr);
    tls.send(GET);
    tls.read_responses(1, HELLO);
    drop(tls);
    assert!(eventually(PROMPTLY, || serving.open_fds() <= baseline));
    assert_eq!(handshakes(metrics, "protocol_error"), 1);
}

/// Session resumption: a second connection with the same client config resumes.
#[test]
fn sessions_resume_with_tickets() {
    let Some(pki) = setup("resume") else { return };
    let (serving, _) = serve(&pki, &[], None);
    let config = pki.client_config(false);
    let mut first = client(serving.addr, config.clone()).unwrap();
    first.send(GET);
    first.read_responses(1, HELLO); // the tickets arrive with the first answer
    let second = client(serving.addr, config).unwrap();
    assert_eq!(
        second.conn.handshake_kind(),
        Some(rustls::HandshakeKind::Resumed)
    );
}

/// mTLS: a client certificate signed by --tls-client-ca is accepted; none is refused.
#[test]
fn client_certificates_are_required_with_a_client_ca() {
    let Some(pki) = setup("mtls") else { return };
    let ca = pki.path("ca.pem");
    let (serving, metrics) = serve(&pki, &["--tls-client-ca", &ca], None);
    let mut tls = client(serving.addr, pki.client_config(true)).unwrap();
    tls.send(GET);
    tls.read_responses(1, HELLO);
    // Without a certificate: TLS 1.3 clients learn it at their first read.
    let refused = client(serving.addr, pki.client_config(false)).and_then(|mut tls| {
        tls.write_all(GET)?;
        let mut buf = [0u8; 256];
        tls.read(&mut buf)
    });
    assert!(refused.is_err(), "{refused:?}");
    assert!(eventually(PROMPTLY, || handshakes(
        metrics,
        "client_certificate"
    ) == 1));
}

/// SIGHUP: new connections get the new certificate, open ones keep working; a bad
/// file keeps the old certificate with one warning naming the file.
#[test]
fn sighup_reloads_the_certificate_and_a_bad_file_keeps_the_old() {
    let Some(pki) = setup("reload") else { return };
    let (mut serving, _) = serve(&pki, &[], Some("info"));
    let mut open = pki.connect(serving.addr);
    let serial = |tls: &common::tls::Client| tls.conn.peer_certificates().unwrap()[0].to_vec();
    let before = serial(&open);
    pki.issue(
        "server",
        "localhost",
        "subjectAltName=DNS:localhost,IP:127.0.0.1",
    );
    serving.signal("HUP");
    assert!(eventually(PROMPTLY, || serial(&pki.connect(serving.addr)) != before));
    open.send(GET);
    open.read_responses(1, HELLO);
    let after = serial(&pki.connect(serving.addr));
    std::fs::write(pki.dir.join("server.key"), "not a key\n").unwrap();
    serving.signal("HUP");
    std::thread::sleep(Duration::from_millis(300));
    assert_eq!(serial(&pki.connect(serving.addr)), after);
    assert!(serving.alive());
    let (status, stderr) = serving.terminate();
    assert!(status.success(), "{stderr}");
    let warnings: Vec<&str> = stderr.lines().filter(|l| l.contains("WARN")).collect();
    assert_eq!(warnings.len(), 1, "{stderr}");
    assert!(warnings[0].contains("server.key"), "{stderr}");
    assert!(stderr.contains("reloaded"), "{stderr}");
}

/// Bad flags: exit 2, one line naming the flag and the file.
#[test]
fn bad_tls_flags_exit_2_naming_the_flag_and_the_file() {
    let Some(pki) = setup("flags") else { return };
    std::fs::write(pki.dir.join("garbage.pem"), "garbage\n").unwrap();
    pki.issue("other", "other", "subjectAltName=DNS:other");
    let (cert, key) = (pki.path("server.pem"), pki.path("server.key"));
    let (missing, garbage) = (pki.path("missing.pem"), pki.path("garbage.pem"));
    let other_key = pki.path("other.key");
    let cases: [(&[&str], &str, &str); 6] = [
        (
            &["--tls-cert", &missing, "--tls-key", &key],
            "--tls-cert",
            "missing.pem",
        ),
        (
            &["--tls-cert", &garbage, "--tls-key", &key],
            "--tls-cert",
            "garbage.pem",
        ),
        (
            &["--tls-cert", &cert, "--tls-key", &garbage],
            "--tls-key",
            "garbage.pem",
        ),
        (
            &["--tls-cert", &cert, "--tls-key", &other_key],
            "--tls-key",
            "other.key",
        ),
        (&["--tls-cert", &cert], "--tls-cert needs --tls-key", ""),
        (
            &[
                "--tls-cert",
                &cert,
                "--tls-key",
                &key,
                "--tls-client-ca",
                &garbage,
            ],
            "--tls-client-ca",
            "garbage.pem",
        ),
    ];
    for (args, flag, file) in cases {
        let output = run_bounded(
            common::binary().args(["--bind", "127.0.0.1:0"]).args(args),
            Duration::from_secs(10),
        );
        let stderr = String::from_utf8_lossy(&output.stderr);
        assert_eq!(output.status.code(), Some(2), "{args:?}: {stderr}");
        let line = stderr.lines().next().unwrap_or("");
        assert!(
            line.contains(flag) && line.contains(file),
            "{args:?}: {stderr}"
        );
    }
}

/// The TLS passthrough example in deploy/haproxy.cfg, uncommented, is a valid
/// HAProxy configuration (with the rest of the file).
#[test]
fn the_haproxy_passthrough_example_is_valid() {
    if !tool_available("haproxy") {
        return;
    }
    let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("deploy/haproxy.cfg");
    let text = std::fs::read_to_string(path).unwrap();
    let (before, rest) = text.split_once("# BEGIN tls-passthrough\n").unwrap();
    let (block, _) = rest.split_once("# END tls-passthrough").unwrap();
    let uncommented: String = block
        .lines()
        .map(|l| l.strip_prefix('#').unwrap_or(l))
        .map(|l| format!("{l}\n"))
        .collect();
    // The stats socket's directory may not exist here: it is not what is tested.
    let config = format!("{before}{uncommented}").replace(
        "stats socket /run/haproxy/admin.sock",
        "stats socket /tmp/hello-reactor-haproxy-check.sock",
    );
    let file = common::temp_path("haproxy-tls.cfg");
    std::fs::write(&file, config).unwrap();
    let out = run_bounded(
        std::process::Command::new("haproxy")
            .arg("-c")
            .arg("-f")
            .arg(&file),
        Duration::from_secs(30),
    );
    let _ = std::fs::remove_file(&file);
    assert!(
        out.status.success(),
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
}
