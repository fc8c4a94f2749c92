//! Shared helpers for the integration tests: start a server on a free port, talk to
//! it over real sockets, and read responses without trusting the server's framing.
#![allow(dead_code)] // each test crate uses a different subset

use std::io::{self, Read, Write};
use std::net::{SocketAddr, TcpStream};
use std::process::{Child, Command, ExitStatus, Output, Stdio};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

use hello_reactor::{Config, Running, Server};

pub mod haproxy;
pub mod threads;
pub mod tls;

/// Longest any single read in a test waits before the test fails.
pub const IO_TIMEOUT: Duration = Duration::from_secs(10);

/// A server on 127.0.0.1, free port, with `tune` applied to the default config.
pub fn start(tune: impl FnOnce(&mut Config)) -> Running {
    let mut config = Config {
        bind: "127.0.0.1:0".parse().unwrap(),
        ..Config::default()
    };
    tune(&mut config);
    Server::bind(config).unwrap().spawn().unwrap()
}

/// A server with the default config.
pub fn start_default() -> Running {
    start(|_| {})
}

/// A blocking client socket with read/write timeouts.
pub fn connect(addr: SocketAddr) -> TcpStream {
    let stream = TcpStream::connect(addr).unwrap();
    stream.set_read_timeout(Some(IO_TIMEOUT)).unwrap();
    stream.set_write_timeout(Some(IO_TIMEOUT)).unwrap();
    stream.set_nodelay(true).unwrap();
    stream
}

/// A parsed response.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Response {
    pub status: u16,
    pub head: String,
    pub headers: Vec<(String, String)>,
    pub body: Vec<u8>,
}

impl Response {
    /// The first header with this name (case-insensitive).
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(n, _)| n.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    }

    pub fn body_text(&self) -> &str {
        std::str::from_utf8(&self.body).unwrap()
    }
}

/// Reads responses off a stream, keeping bytes that belong to the next one.
pub struct Reader {
    pub stream: TcpStream,
    buf: Vec<u8>,
}

impl Reader {
    pub fn new(stream: TcpStream) -> Reader {
        Reader {
            stream,
            buf: Vec::new(),
        }
    }

    pub fn send(&mut self, bytes: &[u8]) {
        self.stream.write_all(bytes).unwrap();
    }

    /// One read into the buffer. A read interrupted by a signal (EINTR) is retried,
    /// as `read_exact` does: it says nothing about the server.
    fn fill(&mut self) -> io::Result<usize> {
        let mut chunk = [0u8; 8192];
        let n = loop {
            match self.stream.read(&mut chunk) {
                Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
                result => break result?,
            }
        };
        self.buf.extend_from_slice(&chunk[..n]);
        Ok(n)
    }

    /// Read one response. `head_request`: it answers a HEAD, so it has no body.
    pub fn response(&mut self, head_request: bool) -> Response {
        self.try_response(head_request).unwrap_or_else(|e| {
            panic!(
                "no complete response: {e}; got {:?}",
                String::from_utf8_lossy(&self.buf)
            )
        })
    }

    pub fn try_response(&mut self, head_request: bool) -> io::Result<Response> {
        let head_end = loop {
            if let Some(at) = find(&self.buf, b"\r\n\r\n") {
                break at + 4;
            }
            if self.fill()? == 0 {
                return Err(io::ErrorKind::UnexpectedEof.into());
            }
        };
        let head = String::from_utf8(self.buf[..head_end].to_vec()).expect("head is UTF-8");
        let mut lines = head.split("\r\n");
        let status_line = lines.next().unwrap();
        assert!(
            status_line.starts_with("HTTP/1.1 "),
            "status line {status_line:?}"
        );
        let status: u16 = status_line[9..12].parse().unwrap();
        let headers: Vec<(String, String)> = lines
            .filter(|l| !l.is_empty())
            .map(|l| {
                let (n, v) = l.split_once(':').expect("header has a colon");
                (n.to_string(), v.trim().to_string())
            })
            .collect();
        let length: usize = headers
            .iter()
            .find(|(n, _)| n.eq_ignore_ascii_case("content-length"))
            .map_or(0, |(_, v)| v.parse().unwrap());
        let body_len = if head_request || status == 100 {
            0
        } else {
            length
        };
        while self.buf.len() < head_end + body_len {
            if self.fill()? == 0 {
                return Err(io::ErrorKind::UnexpectedEof.into());
            }
        }
        let body = self.buf[head_end..head_end + body_len].to_vec();
        self.buf.drain(..head_end + body_len);
        Ok(Response {
            status,
            head,
            headers,
            body,
        })
    }

    /// Bytes buffered past the responses read so far.
    pub fn leftover(&self) -> &[u8] {
        &self.buf
    }

    /// Wait for the server to close: Ok(bytes received before EOF). A reset is an error.
    pub fn read_to_close(&mut self) -> io::Result<Vec<u8>> {
        while self.fill()? > 0 {}
        Ok(std::mem::take(&mut self.buf))
    }
}

/// Read until EOF or `within`: what arrived before EOF, and when EOF came. Fails the
/// test on a reset or when no EOF comes in time. A read interrupted by a signal is
/// retried.
pub fn read_until_eof(stream: &mut TcpStream, within: Duration) -> (Vec<u8>, Instant) {
    let deadline = Instant::now() + within;
    let mut got = Vec::new();
    let mut chunk = [0u8; 4096];
    loop {
        let left = deadline.saturating_duration_since(Instant::now());
        assert!(
            !left.is_zero(),
            "no EOF within {within:?}; got {:?}",
            String::from_utf8_lossy(&got)
        );
        stream.set_read_timeout(Some(left)).unwrap();
        match stream.read(&mut chunk) {
            Ok(0) => return (got, Instant::now()),
            Ok(n) => got.extend_from_slice(&chunk[..n]),
            Err(e) if is_timeout(&e) || e.kind() == io::ErrorKind::Interrupted => {}
            Err(e) => panic!("expected EOF, got {e}"),
        }
    }
}

/// A read timeout: `WouldBlock` or `TimedOut`, depending on the platform.
pub fn is_timeout(e: &io::Error) -> bool {
    matches!(
        e.kind(),
        io::ErrorKind::WouldBlock | io::ErrorKind::TimedOut
    )
}

/// How many times `needle` occurs in `haystack`.
pub fn count(haystack: &[u8], needle: &[u8]) -> usize {
    haystack
        .windows(needle.len())
        .filter(|w| *w == needle)
        .count()
}

pub fn find(haystack: &[u8], needle: &[u8]) -> Option<usize> {
    haystack.windows(needle.len()).position(|w| w == needle)
}

/// A minimal valid HTTP/1.1 GET.
pub const GET: &[u8] = b"GET / HTTP/1.1\r\nHost: test\r\n\r\n";

/// Send `request` on a new connection and read one response.
pub fn roundtrip(addr: SocketAddr, request: &[u8]) -> Response {
    let mut reader = Reader::new(connect(addr));
    reader.send(request);
    reader.response(request.starts_with(b"HEAD "))
}

/// Poll `check` until it holds or `within` passes.
pub fn eventually(within: Duration, mut check: impl FnMut() -> bool) -> bool {
    let deadline = Instant::now() + within;
    loop {
        if check() {
            return true;
        }
        if Instant::now() >= deadline {
            return false;
        }
        std::thread::sleep(Duration::from_millis(10));
    }
}

/// The built binary.
pub fn binary() -> Command {
    Command::new(env!("CARGO_BIN_EXE_hello-reactor"))
}

/// Read one line of a child's piped stdout, byte by byte (nothing is read past it).
pub fn stdout_line(child: &mut Child) -> String {
    let stdout = child.stdout.as_mut().unwrap();
    let mut line = Vec::new();
    let mut byte = [0u8; 1];
    while stdout.read(&mut byte).unwrap() == 1 && byte[0] != b'\n' {
        line.push(byte[0]);
    }
    String::from_utf8(line).unwrap()
}

/// Read the `Serving HTTP on ...` (or `HTTPS`) line and return its address.
pub fn first_line_addr(child: &mut Child) -> SocketAddr {
    let line = stdout_line(child);
    let addr = line
        .strip_prefix("Serving HTTP on ")
        .or_else(|| line.strip_prefix("Serving HTTPS on "))
        .and_then(|rest| rest.strip_suffix(" ..."))
        .unwrap_or_else(|| panic!("unexpected first line {line:?}"));
    addr.parse().unwrap()
}

/// Send a signal to a child process.
pub fn signal(child: &Child, name: &str) {
    let status = Command::new("kill")
        .args([&format!("-{name}"), &child.id().to_string()])
        .status()
        .unwrap();
    assert!(status.success());
}

/// Wait for a child to exit, at most `within`; kills it and panics on time-out.
pub fn wait_exit(child: &mut Child, within: Duration) -> std::process::ExitStatus {
    let deadline = Instant::now() + within;
    loop {
        if let Some(status) = child.try_wait().unwrap() {
            return status;
        }
        if Instant::now() >= deadline {
            let _ = child.kill();
            panic!("process did not exit within {within:?}");
        }
        std::thread::sleep(Duration::from_millis(20));
    }
}

/// Whether an external tool is installed. In CI (`CI` set) a missing tool fails the
/// test; elsewhere the test says loudly that it skipped.
pub fn tool_available(name: &str) -> bool {
    let found = Command::new("sh")
        .args(["-c", &format!("command -v {name}")])
        .stdout(Stdio::null())
        .status()
        .is_ok_and(|s| s.success());
    if !found {
        assert!(
            std::env::var_os("CI").is_none(),
            "{name} is not installed, and CI requires it (.ci/run installs it)"
        );
        // Straight to stderr: libtest captures `eprintln!` of a passing test, and a
        // skip must show in `cargo test`'s output.
        let _ = writeln!(
            io::stderr(),
            "SKIPPED: {name} is not installed; install it to run this test"
        );
    }
    found
}

/// `tests/h2_client.py`: hand-made HTTP/2 frame sequences (`python3 SCRIPT CASE PORT`).
pub fn h2_client_script() -> String {
    format!("{}/tests/h2_client.py", env!("CARGO_MANIFEST_DIR"))
}

/// `python3` with `module` importable (its pip name is the same). As with
/// [`tool_available`], a missing one prints SKIPPED where `cargo test` shows it,
/// and fails under `CI`.
pub fn python_module_available(module: &str) -> bool {
    if !tool_available("python3") {
        return false;
    }
    let found = Command::new("python3")
        .args(["-c", &format!("import {module}")])
        .stderr(Stdio::null())
        .status()
        .is_ok_and(|s| s.success());
    if !found {
        assert!(
            std::env::var_os("CI").is_none(),
            "the Python module {module} is not installed, and CI requires it (.ci/run installs it)"
        );
        let _ = writeln!(
            io::stderr(),
            "SKIPPED: python3 -m pip install {module} to run this test"
        );
    }
    found
}

/// A path for a test's socket or file under the temporary directory, unique to
/// this process and `name`, with nothing at it yet.
pub fn temp_path(name: &str) -> std::path::PathBuf {
    let path = std::env::temp_dir().join(format!("hello-reactor-{}-{name}", std::process::id()));
    let _ = std::fs::remove_file(&path);
    path
}

/// How long a process asked to exit may take before a test fails.
pub const PROMPTLY: Duration = Duration::from_secs(5);

/// The binary serving on a free port, with `RUST_LOG` set to `rust_log` or unset: a
/// [`Daemon`] (stderr drained on a thread, killed when dropped, so a failed
/// assertion leaves no process behind) and the address from its first line.
pub struct Serving {
    daemon: Daemon,
    pub addr: SocketAddr,
}

impl Serving {
    pub fn start(args: &[&str], rust_log: Option<&str>) -> Serving {
        Serving::start_limited(args, rust_log, None)
    }

    /// As [`Serving::start`], under a `nofile` limit (soft and hard) if given.
    pub fn start_limited(args: &[&str], rust_log: Option<&str>, nofile: Option<u32>) -> Serving {
        let bin = env!("CARGO_BIN_EXE_hello-reactor");
        let mut command = match nofile {
            Some(limit) => {
                let mut c = Command::new("sh");
                c.arg("-c")
                    .arg(format!("ulimit -n {limit} && exec \"$0\" \"$@\""))
                    .arg(bin);
                c
            }
            None => Command::new(bin),
        };
        command.args(["--bind", "127.0.0.1:0"]).args(args);
        match rust_log {
            Some(filter) => command.env("RUST_LOG", filter),
            None => command.env_remove("RUST_LOG"),
        };
        let mut daemon = Daemon::spawn(command);
        let addr = first_line_addr(&mut daemon.child);
        Serving { daemon, addr }
    }

    pub fn pid(&self) -> u32 {
        self.daemon.child.id()
    }

    /// The next line of stdout (after the `Serving HTTP on` line).
    pub fn line(&mut self) -> String {
        self.daemon.line()
    }

    /// Send a signal (`"TERM"`, `"INT"`, ...).
    pub fn signal(&self, name: &str) {
        self.daemon.signal(name);
    }

    /// As [`Daemon::wait`].
    pub fn wait(&mut self, within: Duration) -> (ExitStatus, String) {
        self.daemon.wait(within)
    }

    /// SIGTERM, then [`Serving::wait`] up to [`PROMPTLY`].
    pub fn terminate(self) -> (ExitStatus, String) {
        self.terminate_within(PROMPTLY)
    }

    /// SIGTERM, then [`Serving::wait`] up to `within`.
    pub fn terminate_within(mut self, within: Duration) -> (ExitStatus, String) {
        self.signal("TERM");
        self.wait(within)
    }

    /// File descriptors the process holds (the listener, poll, connections, ...).
    pub fn open_fds(&self) -> usize {
        open_fds(self.pid())
    }

    /// The process has not exited.
    pub fn alive(&mut self) -> bool {
        self.daemon.child.try_wait().unwrap().is_none()
    }
}

/// Serve with `args` and `--stats-interval 0.2`: five `request`s (each answered
/// 200), one without a Host (400), a pause of `pause`, SIGTERM and a clean exit.
/// Checks what every `stats:` line must say (at least two of them, with a rate and
/// the open connections, and the 400 counted) and returns them with all of stderr.
pub fn stats_lines_after_traffic(
    args: &[&str],
    request: &[u8],
    pause: Duration,
) -> (Vec<String>, String) {
    let mut all = args.to_vec();
    all.extend_from_slice(&["--stats-interval", "0.2"]);
    let serving = Serving::start(&all, None);
    for _ in 0..5 {
        assert_eq!(roundtrip(serving.addr, request).status, 200);
    }
    let bad = roundtrip(serving.addr, b"GET / HTTP/1.1\r\n\r\n"); // no Host
    assert_eq!(bad.status, 400);
    std::thread::sleep(pause);
    let (status, stderr) = serving.terminate();
    assert!(status.success(), "{stderr}");
    let stats: Vec<String> = stderr
        .lines()
        .filter(|l| l.contains("stats: "))
        .map(str::to_string)
        .collect();
    assert!(
        stats.len() >= 2,
        "expected a stats line every 0.2 s:\n{stderr}"
    );
    assert!(
        stats
            .iter()
            .all(|l| l.contains(" req/s, ") && l.contains(" open connections, ")),
        "{stats:?}"
    );
    assert!(
        stats.iter().any(|l| l.contains("1 error responses")),
        "the 400 is not counted:\n{stderr}"
    );
    (stats, stderr)
}

/// File descriptors process `pid` holds, from `/proc/PID/fd`.
pub fn open_fds(pid: u32) -> usize {
    std::fs::read_dir(format!("/proc/{pid}/fd"))
        .unwrap()
        .count()
}

/// A loopback port that was free a moment ago (bound, then released for another
/// program to bind).
///
/// Released means closed in every process, not only in this one. Other test threads
/// spawn programs all the time, and a child forked while the listener was open holds
/// a copy of it until its `exec` closes it (`CLOEXEC`): until then the port is still
/// listening, and a program that binds it fails with "address in use". Once this
/// process has closed its copy no new child can inherit one, so the port is free for
/// good from the first connect that is refused.
pub fn free_port() -> u16 {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let port = listener.local_addr().unwrap().port();
    drop(listener);
    let addr = SocketAddr::from(([127, 0, 0, 1], port));
    assert!(
        eventually(PROMPTLY, || TcpStream::connect(addr)
            .is_err_and(|e| e.kind() == io::ErrorKind::ConnectionRefused)),
        "port {port} still listening {PROMPTLY:?} after it was closed"
    );
    port
}

/// Headless Chromium's rendering of `url` (`--dump-dom`), with the flags that keep it
/// off the network (this machine has none but loopback) and alive in a container;
/// `extra` adds flags, such as a pinned key for HTTPS (`tls::Pki::chromium_trust`).
/// Its profile is a fresh directory, removed afterwards.
pub fn chromium_dump_dom(url: &str, extra: &[String]) -> Output {
    static RUNS: std::sync::atomic::AtomicUsize = std::sync::atomic::AtomicUsize::new(0);
    let run = RUNS.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
    let profile = std::env::temp_dir().join(format!(
        "hello-reactor-chromium-{}-{run}",
        std::process::id()
    ));
    let mut command = Command::new("chromium");
    command.args([
        "--headless",
        "--no-sandbox",
        "--disable-gpu",
        // A container's small /dev/shm would otherwise crash the renderer.
        "--disable-dev-shm-usage",
        "--disable-quic",
        "--no-first-run",
        "--disable-background-networking",
        "--disable-component-update",
        "--disable-sync",
    ]);
    command
        .args(extra)
        .arg(format!("--user-data-dir={}", profile.display()))
        .args(["--dump-dom", url]);
    let output = run_bounded(&mut command, Duration::from_secs(60));
    let _ = std::fs::remove_dir_all(&profile);
    output
}

/// Run `command` to completion, killing it (and failing) after `within`.
pub fn run_bounded(command: &mut Command, within: Duration) -> Output {
    let mut child = command
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap_or_else(|e| panic!("cannot run {command:?}: {e}"));
    let drain = |mut pipe: Box<dyn Read + Send>| {
        std::thread::spawn(move || {
            let mut bytes = Vec::new();
            let _ = pipe.read_to_end(&mut bytes);
            bytes
        })
    };
    let stdout = drain(Box::new(child.stdout.take().unwrap()));
    let stderr = drain(Box::new(child.stderr.take().unwrap()));
    let deadline = Instant::now() + within;
    let status = loop {
        if let Some(status) = child.try_wait().unwrap() {
            break status;
        }
        if Instant::now() >= deadline {
            let _ = child.kill();
            let _ = child.wait();
            panic!("{command:?} did not finish within {within:?}");
        }
        std::thread::sleep(Duration::from_millis(20));
    };
    Output {
        status,
        stdout: stdout.join().unwrap(),
        stderr: stderr.join().unwrap(),
    }
}

/// Read a pipe to its end on a thread (a full pipe would block the writer), as text.
pub fn drain_text(mut pipe: impl Read + Send + 'static) -> JoinHandle<String> {
    std::thread::spawn(move || {
        let mut bytes = Vec::new();
        let _ = pipe.read_to_end(&mut bytes);
        String::from_utf8_lossy(&bytes).into_owned()
    })
}

/// Any program run for a test (the server with its own `--bind`, or a wrapper
/// such as `systemd-socket-activate`): stdout is read line by line on demand,
/// stderr is drained on a thread, and the process is killed when dropped.
pub struct Daemon {
    pub child: Child,
    stderr: Option<JoinHandle<String>>,
}

impl Daemon {
    /// Start `command` with piped stdout and stderr, `RUST_LOG=info`.
    pub fn start(mut command: Command) -> Daemon {
        command.env("RUST_LOG", "info");
        Daemon::spawn(command)
    }

    /// Start `command` as it is (environment included) with piped stdout and stderr.
    pub fn spawn(mut command: Command) -> Daemon {
        command
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped());
        let mut child = command
            .spawn()
            .unwrap_or_else(|e| panic!("cannot run {command:?}: {e}"));
        let stderr = drain_text(child.stderr.take().unwrap());
        Daemon {
            child,
            stderr: Some(stderr),
        }
    }

    /// The next line of stdout.
    pub fn line(&mut self) -> String {
        stdout_line(&mut self.child)
    }

    /// Send a signal (`"TERM"`, `"INT"`, ...).
    pub fn signal(&self, name: &str) {
        signal(&self.child, name);
    }

    /// Wait for the exit (it must come within `within`): the status and all of stderr.
    pub fn wait(&mut self, within: Duration) -> (ExitStatus, String) {
        let status = wait_exit(&mut self.child, within);
        let stderr = self.stderr.take().expect("waited once").join().unwrap();
        (status, stderr)
    }

    /// SIGTERM, then [`Daemon::wait`] up to [`PROMPTLY`].
    pub fn terminate(mut self) -> (ExitStatus, String) {
        self.signal("TERM");
        self.wait(PROMPTLY)
    }
}

impl Drop for Daemon {
    fn drop(&mut self) {
        if self.child.try_wait().ok().flatten().is_none() {
            let _ = self.child.kill();
            let _ = self.child.wait();
        }
    }
}
