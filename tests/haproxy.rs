//! HAProxy in front of instances of the real binary, configured by the checked-in
//! `deploy/haproxy.cfg` (only its addresses and socket path rewritten): a steady load
//! goes through HAProxy while each instance in turn is restarted, and not one request
//! may fail. Needs `haproxy` (in CI a missing one fails; see `common::tool_available`).

mod common;

use std::io::{self, Read, Write};
use std::net::{SocketAddr, TcpStream};
use std::os::unix::net::UnixStream;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

use common::{Daemon, Reader, drain_text, first_line_addr};

/// The checked-in configuration.
fn config_path() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("deploy/haproxy.cfg")
}

/// `common::tool_available`, plus a line written past the test harness's capture, so
/// a skip shows in `cargo test` output even when the test passes.
fn available(tool: &str) -> bool {
    let found = common::tool_available(tool);
    if !found {
        let _ = writeln!(
            io::stderr(),
            "SKIPPED: {tool} is not installed; tests/haproxy.rs did not run"
        );
    }
    found
}

/// Longest wait for any one step (HAProxy up, a server UP or DOWN, a process exit).
const STEP: Duration = Duration::from_secs(20);

/// The `--shutdown-timeout` the instances get; their exit must come well within `STEP`.
const SHUTDOWN_TIMEOUT_SECS: &str = "5";

/// Run `command` to completion (bounded by `STEP`): its status and combined output.
fn run(command: &mut Command) -> (bool, String) {
    let out = common::run_bounded(command, STEP);
    let text = format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    (out.status.success(), text)
}

#[test]
fn the_checked_in_config_is_valid() {
    if !available("haproxy") {
        return;
    }
    let path = config_path();
    let (ok, out) = run(Command::new("haproxy").arg("-c").arg("-f").arg(&path));
    assert!(ok, "haproxy -c -f {} failed:\n{out}", path.display());
}

/// A config for this test: the checked-in one with `bind`, `server` and `stats socket`
/// addresses replaced, every other line as it is.
fn generate_config(template: &str, front: u16, backends: &[u16], socket: &Path) -> String {
    let (mut binds, mut servers, mut sockets) = (0, 0, 0);
    let mut out = String::new();
    for line in template.lines() {
        let body = line.trim_start();
        let indent = &line[..line.len() - body.len()];
        let mut words: Vec<String> = body.split_whitespace().map(String::from).collect();
        if body.starts_with("bind ") {
            words[1] = format!("127.0.0.1:{front}");
            binds += 1;
        } else if body.starts_with("server ") {
            let port = backends
                .get(servers)
                .expect("more `server` lines than instances");
            words[2] = format!("127.0.0.1:{port}");
            servers += 1;
        } else if body.starts_with("stats socket ") {
            words[2] = socket.display().to_string();
            sockets += 1;
        } else {
            out.push_str(line);
            out.push('\n');
            continue;
        }
        out.push_str(indent);
        out.push_str(&words.join(" "));
        out.push('\n');
    }
    assert_eq!(binds, 1, "expected one `bind` line");
    assert_eq!(servers, backends.len(), "one `server` line per instance");
    assert_eq!(sockets, 1, "expected one `stats socket` line");
    out
}

/// `server` lines in the checked-in config: the test starts one instance for each.
fn server_lines(template: &str) -> usize {
    template
        .lines()
        .filter(|l| l.trim_start().starts_with("server "))
        .count()
}

/// One hello-reactor process (the real binary), killed if still running when dropped.
struct Instance {
    daemon: Daemon,
    addr: SocketAddr,
}

impl Instance {
    fn start(bind: &str) -> Instance {
        let mut command = common::binary();
        command
            .args(["--bind", bind, "--shutdown-timeout", SHUTDOWN_TIMEOUT_SECS])
            .env_remove("RUST_LOG");
        let mut daemon = Daemon::spawn(command);
        let addr = first_line_addr(&mut daemon.child);
        Instance { daemon, addr }
    }

    /// SIGTERM, then the exit, which must be a clean one (status 0).
    fn terminate(&mut self) {
        self.daemon.signal("TERM");
        let (status, stderr) = self.daemon.wait(STEP);
        assert!(
            status.success(),
            "instance on {} exited with {status} after SIGTERM; stderr:\n{stderr}",
            self.addr
        );
    }
}

/// HAProxy in the foreground on a generated config, with its log (stdout) and
/// warnings (stderr) collected. Killed and its files removed when dropped.
struct Haproxy {
    child: Child,
    dir: PathBuf,
    socket: PathBuf,
    front: SocketAddr,
    stdout: Option<JoinHandle<String>>,
    stderr: Option<JoinHandle<String>>,
}

impl Haproxy {
    /// Start it and wait until every server is UP. The frontend port is picked free
    /// just before; if something else took it meanwhile, pick another (3 tries).
    fn start(template: &str, backends: &[u16], name: &str) -> Haproxy {
        let mut last = String::new();
        for _ in 0..3 {
            match Haproxy::try_start(template, backends, name) {
                Ok(haproxy) => return haproxy,
                Err(output) if output.contains("cannot bind socket") => last = output,
                Err(output) => panic!("HAProxy did not bring all servers UP:\n{output}"),
            }
        }
        panic!("HAProxy found no free port for its frontend:\n{last}");
    }

    fn try_start(template: &str, backends: &[u16], name: &str) -> Result<Haproxy, String> {
        let dir = std::env::temp_dir().join(format!(
            "hello-reactor-haproxy-{}-{name}",
            std::process::id()
        ));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir).unwrap();
        let socket = dir.join("admin.sock");
        let front_port = common::free_port();
        let config = dir.join("haproxy.cfg");
        std::fs::write(
            &config,
            generate_config(template, front_port, backends, &socket),
        )
        .unwrap();
        let mut child = Command::new("haproxy")
            .arg("-db")
            .arg("-f")
            .arg(&config)
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap();
        let stdout = Some(drain_text(child.stdout.take().unwrap()));
        let stderr = Some(drain_text(child.stderr.take().unwrap()));
        let mut haproxy = Haproxy {
            child,
            dir,
            socket,
            front: SocketAddr::from(([127, 0, 0, 1], front_port)),
            stdout,
            stderr,
        };
        let up = common::eventually(STEP, || {
            if haproxy.child.try_wait().unwrap().is_some() {
                return true;
            }
            let servers = haproxy.try_servers().unwrap_or_default();
            servers.len() == backends.len() && servers.iter().all(|s| s.status == "UP")
        });
        if !up || haproxy.child.try_wait().unwrap().is_some() {
            let (log, warnings) = haproxy.stop();
            return Err(format!("{warnings}\n{log}"));
        }
        Ok(haproxy)
    }

    /// One runtime-API command (`stats socket`), its whole answer.
    fn command(&self, line: &str) -> io::Result<String> {
        let mut stream = UnixStream::connect(&self.socket)?;
        stream.set_read_timeout(Some(common::IO_TIMEOUT))?;
        stream.set_write_timeout(Some(common::IO_TIMEOUT))?;
        stream.write_all(format!("{line}\n").as_bytes())?;
        let mut answer = String::new();
        stream.read_to_string(&mut answer)?;
        Ok(answer)
    }

    /// The servers of every backend, in config order, from `show stat`.
    fn try_servers(&self) -> io::Result<Vec<ServerState>> {
        let csv = self.command("show stat")?;
        let mut lines = csv.lines();
        let header: Vec<&str> = lines
            .next()
            .and_then(|l| l.strip_prefix("# "))
            .ok_or_else(|| io::Error::other(format!("not a stat CSV: {csv:?}")))?
            .split(',')
            .collect();
        let column = |name: &str| header.iter().position(|&c| c == name).unwrap();
        let (px, sv, status, addr, scur) = (
            column("pxname"),
            column("svname"),
            column("status"),
            column("addr"),
            column("scur"),
        );
        Ok(lines
            .map(|l| l.split(',').collect::<Vec<_>>())
            .filter(|f| f.len() > addr && f[sv] != "FRONTEND" && f[sv] != "BACKEND")
            .map(|f| ServerState {
                name: format!("{}/{}", f[px], f[sv]),
                status: f[status].to_string(),
                addr: f[addr].to_string(),
                sessions: f[scur].to_string(),
            })
            .collect())
    }

    /// The state of the server at `addr`.
    fn server(&self, addr: SocketAddr) -> ServerState {
        let servers = self.try_servers().expect("runtime API answers");
        servers
            .into_iter()
            .find(|s| s.addr == addr.to_string())
            .unwrap_or_else(|| panic!("no server at {addr} in show stat"))
    }

    /// Wait until the server at `addr` reports `status` (`UP`, `DOWN`, ...).
    fn wait_status(&self, addr: SocketAddr, status: &str) {
        assert!(
            common::eventually(STEP, || self.server(addr).status == status),
            "HAProxy never saw {addr} as {status}: {:?}",
            self.server(addr)
        );
    }

    /// Kill it and return (request log, warnings).
    fn stop(&mut self) -> (String, String) {
        let _ = self.child.kill();
        let _ = self.child.wait();
        let log = self
            .stdout
            .take()
            .map_or_else(String::new, |h| h.join().unwrap());
        let warnings = self
            .stderr
            .take()
            .map_or_else(String::new, |h| h.join().unwrap());
        (log, warnings)
    }
}

impl Drop for Haproxy {
    fn drop(&mut self) {
        self.stop();
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}

#[derive(Debug)]
struct ServerState {
    /// `backend/server`, as the runtime API wants it.
    name: String,
    status: String,
    addr: String,
    /// Current sessions (`scur`): requests it is serving now.
    sessions: String,
}

/// What the client threads saw.
#[derive(Default)]
struct Tally {
    ok: AtomicU64,
    failures: Mutex<Vec<String>>,
    stop: AtomicBool,
}

impl Tally {
    fn ok(&self) -> u64 {
        self.ok.load(Ordering::SeqCst)
    }

    /// Wait until `more` requests succeeded after `since` (a count from `ok`).
    fn wait_served(&self, since: u64, more: u64, what: &str) {
        assert!(
            common::eventually(STEP, || self.ok() >= since + more),
            "fewer than {more} requests were served {what} ({} failures so far)",
            self.failures.lock().unwrap().len()
        );
    }
}

/// Client threads: half keep one connection alive, half open one per request. Every
/// request must get a 200 with the body; anything else (a refused connect, a reset,
/// an error status, a short body) is a failure. Each thread stops when told, after
/// `MAX_REQUESTS`, or after `MAX_LOAD`, whichever comes first.
struct Load {
    tally: Arc<Tally>,
    threads: Vec<JoinHandle<()>>,
    started: Instant,
}

const CLIENTS: usize = 4;
const MAX_REQUESTS: u64 = 100_000;
const MAX_LOAD: Duration = Duration::from_secs(180);
/// Pause between a thread's requests: a steady load, not a flood that starves the
/// processes under test on a shared 2-core machine.
const PACE: Duration = Duration::from_millis(2);

impl Load {
    fn start(front: SocketAddr) -> Load {
        let tally = Arc::new(Tally::default());
        let started = Instant::now();
        let threads = (0..CLIENTS)
            .map(|i| {
                let tally = Arc::clone(&tally);
                let keep_alive = i % 2 == 0;
                std::thread::spawn(move || client(front, keep_alive, &tally, started))
            })
            .collect();
        Load {
            tally,
            threads,
            started,
        }
    }

    /// Stop the clients and wait for them.
    fn finish(&mut self) {
        self.tally.stop.store(true, Ordering::SeqCst);
        for thread in self.threads.drain(..) {
            thread.join().expect("a client thread panicked");
        }
    }
}

impl Drop for Load {
    fn drop(&mut self) {
        self.tally.stop.store(true, Ordering::SeqCst);
    }
}

fn client(front: SocketAddr, keep_alive: bool, tally: &Tally, started: Instant) {
    let request: &[u8] = if keep_alive {
        b"GET / HTTP/1.1\r\nHost: test\r\n\r\n"
    } else {
        b"GET / HTTP/1.1\r\nHost: test\r\nConnection: close\r\n\r\n"
    };
    let mut conn: Option<Reader> = None;
    for _ in 0..MAX_REQUESTS {
        if tally.stop.load(Ordering::SeqCst) || started.elapsed() > MAX_LOAD {
            return;
        }
        let at = started.elapsed();
        match one_request(front, &mut conn, request) {
            Ok(()) => {
                tally.ok.fetch_add(1, Ordering::SeqCst);
            }
            Err(e) => {
                conn = None;
                let kind = if keep_alive { "keep-alive" } else { "close" };
                tally
                    .failures
                    .lock()
                    .unwrap()
                    .push(format!("{at:.3?} ({kind} client): {e}"));
            }
        }
        if !keep_alive {
            conn = None;
        }
        std::thread::sleep(PACE);
    }
}

/// One request on `conn` (connecting first if there is none); `Err` says what failed.
fn one_request(front: SocketAddr, conn: &mut Option<Reader>, request: &[u8]) -> Result<(), String> {
    if conn.is_none() {
        let stream = TcpStream::connect(front).map_err(|e| format!("connect: {e}"))?;
        stream.set_read_timeout(Some(common::IO_TIMEOUT)).unwrap();
        stream.set_write_timeout(Some(common::IO_TIMEOUT)).unwrap();
        stream.set_nodelay(true).unwrap();
        *conn = Some(Reader::new(stream));
    }
    let reader = conn.as_mut().unwrap();
    reader
        .stream
        .write_all(request)
        .map_err(|e| format!("send: {e}"))?;
    let response = reader
        .try_response(false)
        .map_err(|e| format!("no response: {e}"))?;
    if response.status != 200 || response.body != b"Hello, World!" {
        return Err(format!(
            "got {} {:?}",
            response.status,
            String::from_utf8_lossy(&response.body)
        ));
    }
    if response
        .header("connection")
        .is_some_and(|v| v.eq_ignore_ascii_case("close"))
    {
        *conn = None; // HAProxy said it closes: reconnect for the next request
    }
    Ok(())
}

/// Log lines of requests HAProxy retried or redispatched: in the `option httplog`
/// line, the counters field just before `srv_queue/backend_queue` and the quoted
/// request ends in the retry count (`+N` when redispatched).
fn retried_requests(log: &str) -> Vec<&str> {
    log.lines()
        .filter(|line| {
            let words: Vec<&str> = line.split_whitespace().collect();
            let Some(request) = words.iter().position(|w| w.starts_with('"')) else {
                return false;
            };
            request >= 2
                && words[request - 2]
                    .rsplit('/')
                    .next()
                    .is_some_and(|retries| retries != "0")
        })
        .collect()
}

/// Steady load on all instances before each restart.
const SETTLE: Duration = Duration::from_secs(1);

/// Requests served while a step runs before the next one starts.
const SERVED_PER_STEP: u64 = 20;

/// The whole scenario. `drain_first`: do what an operator does (take the server out
/// through the runtime API first); otherwise SIGTERM it while HAProxy still sends it
/// traffic, and let health checks and retries cope. Returns (requests served,
/// requests HAProxy retried), or `None` when HAProxy is missing and the test skips.
fn rolling_restart(name: &str, drain_first: bool) -> Option<(u64, usize)> {
    if !available("haproxy") {
        return None;
    }
    let template = std::fs::read_to_string(config_path()).unwrap();
    let count = server_lines(&template);
    assert!(count >= 2, "the config needs two servers or more");
    let mut instances: Vec<Instance> = (0..count).map(|_| Instance::start("127.0.0.1:0")).collect();
    let ports: Vec<u16> = instances.iter().map(|i| i.addr.port()).collect();
    let mut haproxy = Haproxy::start(&template, &ports, name);

    let mut load = Load::start(haproxy.front);
    load.tally
        .wait_served(0, SERVED_PER_STEP, "before any restart");
    for instance in &mut instances {
        // Let the load run on all instances for a while first.
        std::thread::sleep(SETTLE);
        let addr = instance.addr;
        let server = haproxy.server(addr).name;
        if drain_first {
            // No new requests; then wait for the ones it has to finish; then out.
            haproxy
                .command(&format!("set server {server} state drain"))
                .unwrap();
            haproxy.wait_status(addr, "DRAIN");
            assert!(
                common::eventually(STEP, || haproxy.server(addr).sessions == "0"),
                "{server} still has sessions after draining: {:?}",
                haproxy.server(addr)
            );
            haproxy
                .command(&format!("set server {server} state maint"))
                .unwrap();
            haproxy.wait_status(addr, "MAINT");
        }
        instance.terminate();
        // While it is down, the other instances carry the load.
        let down_at = load.tally.ok();
        if !drain_first {
            haproxy.wait_status(addr, "DOWN");
        }
        load.tally.wait_served(
            down_at,
            SERVED_PER_STEP,
            &format!("while {server} was down"),
        );
        *instance = Instance::start(&addr.to_string());
        assert_eq!(instance.addr, addr);
        if drain_first {
            haproxy
                .command(&format!("set server {server} state ready"))
                .unwrap();
        }
        haproxy.wait_status(addr, "UP");
        let up_at = load.tally.ok();
        load.tally
            .wait_served(up_at, SERVED_PER_STEP, &format!("after {server} came back"));
    }
    // A steady load for about 10 s in all.
    let rest = Duration::from_secs(10).saturating_sub(load.started.elapsed());
    std::thread::sleep(rest);
    load.finish();

    let (log, warnings) = haproxy.stop();
    let failures = load.tally.failures.lock().unwrap().clone();
    let served = load.tally.ok();
    let retried = retried_requests(&log);
    let tail: Vec<&str> = log.lines().rev().take(40).collect();
    assert!(
        failures.is_empty(),
        "{} of {} requests failed:\n{}\nHAProxy warnings:\n{warnings}\nlast log lines (newest first):\n{}",
        failures.len(),
        failures.len() as u64 + served,
        failures.join("\n"),
        tail.join("\n")
    );
    assert!(served > 0);
    eprintln!(
        "{name}: {served} requests through HAProxy in {:.1?}, 0 failed, {} retried by HAProxy{}",
        load.started.elapsed(),
        retried.len(),
        retried
            .first()
            .map_or(String::new(), |line| format!(", e.g.\n  {line}"))
    );
    Some((served, retried.len()))
}

/// The bare case: SIGTERM while HAProxy still routes to the instance. Its listener
/// closes, its idle connections close, in-flight requests finish; the requests that
/// hit it before the health check notices are retried on another instance.
#[test]
fn sigterm_each_instance_in_turn_and_no_request_fails() {
    rolling_restart("sigterm", false);
}

/// What an operator does (docs/service.md): drain the server in HAProxy, put it in
/// maintenance, restart it, set it ready. No request should need a retry then.
#[test]
fn drain_in_haproxy_then_restart_and_no_request_fails() {
    if let Some((_, retried)) = rolling_restart("drained", true) {
        assert_eq!(retried, 0, "a drained server got requests");
    }
}
