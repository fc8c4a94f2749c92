//! HAProxy in front of instances of the real binary: the checked-in
//! `deploy/haproxy.cfg` with its addresses rewritten, its runtime API, and the
//! instances it balances. Shared by the tests that put HAProxy in front
//! (`tests/haproxy.rs`).

use std::io::{self, Read, Write};
use std::net::SocketAddr;
use std::os::unix::net::UnixStream;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::thread::JoinHandle;
use std::time::Duration;

use super::{Daemon, drain_text, first_line_addr};

/// The checked-in configuration.
pub fn config_path() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("deploy/haproxy.cfg")
}

/// `common::tool_available`, plus a line written past the test harness's capture, so
/// a skip shows in `cargo test` output even when the test passes.
pub fn available(tool: &str) -> bool {
    let found = super::tool_available(tool);
    if !found {
        let _ = writeln!(
            io::stderr(),
            "SKIPPED: {tool} is not installed; tests/haproxy.rs did not run"
        );
    }
    found
}

/// Longest wait for any one step (HAProxy up, a server UP or DOWN, a process exit).
pub const STEP: Duration = Duration::from_secs(20);

/// The `--shutdown-timeout` the instances get; their exit must come well within `STEP`.
pub const SHUTDOWN_TIMEOUT_SECS: &str = "5";

/// Run `command` to completion (bounded by `STEP`): its status and combined output.
pub fn run(command: &mut Command) -> (bool, String) {
    let out = super::run_bounded(command, STEP);
    let text = format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    (out.status.success(), text)
}

/// A config for this test: the checked-in one with `bind`, `server` and `stats socket`
/// addresses replaced, every other line as it is.
pub fn generate_config(template: &str, front: u16, backends: &[u16], socket: &Path) -> String {
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
pub fn server_lines(template: &str) -> usize {
    template
        .lines()
        .filter(|l| l.trim_start().starts_with("server "))
        .count()
}

/// One hello-reactor process (the real binary), killed if still running when dropped.
pub struct Instance {
    pub daemon: Daemon,
    pub addr: SocketAddr,
}

impl Instance {
    pub fn start(bind: &str) -> Instance {
        Instance::start_with(bind, &[])
    }

    /// With `extra` flags.
    pub fn start_with(bind: &str, extra: &[&str]) -> Instance {
        let mut command = super::binary();
        command
            .args(["--bind", bind, "--shutdown-timeout", SHUTDOWN_TIMEOUT_SECS])
            .args(extra)
            .env_remove("RUST_LOG");
        let mut daemon = Daemon::spawn(command);
        let addr = first_line_addr(&mut daemon.child);
        Instance { daemon, addr }
    }

    /// SIGTERM, then the exit, which must be a clean one (status 0).
    pub fn terminate(&mut self) {
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
pub struct Haproxy {
    pub child: Child,
    pub dir: PathBuf,
    pub socket: PathBuf,
    pub front: SocketAddr,
    pub stdout: Option<JoinHandle<String>>,
    pub stderr: Option<JoinHandle<String>>,
}

impl Haproxy {
    /// Start it and wait until every server is UP. The frontend port is picked free
    /// just before; if something else took it meanwhile, pick another (3 tries).
    pub fn start(template: &str, backends: &[u16], name: &str) -> Haproxy {
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

    pub fn try_start(template: &str, backends: &[u16], name: &str) -> Result<Haproxy, String> {
        let dir = std::env::temp_dir().join(format!(
            "hello-reactor-haproxy-{}-{name}",
            std::process::id()
        ));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir).unwrap();
        let socket = dir.join("admin.sock");
        let front_port = super::free_port();
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
        let up = super::eventually(STEP, || {
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
    pub fn command(&self, line: &str) -> io::Result<String> {
        let mut stream = UnixStream::connect(&self.socket)?;
        stream.set_read_timeout(Some(super::IO_TIMEOUT))?;
        stream.set_write_timeout(Some(super::IO_TIMEOUT))?;
        stream.write_all(format!("{line}\n").as_bytes())?;
        let mut answer = String::new();
        stream.read_to_string(&mut answer)?;
        Ok(answer)
    }

    /// The servers of every backend, in config order, from `show stat`.
    pub fn try_servers(&self) -> io::Result<Vec<ServerState>> {
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
    pub fn server(&self, addr: SocketAddr) -> ServerState {
        let servers = self.try_servers().expect("runtime API answers");
        servers
            .into_iter()
            .find(|s| s.addr == addr.to_string())
            .unwrap_or_else(|| panic!("no server at {addr} in show stat"))
    }

    /// Wait until the server at `addr` reports `status` (`UP`, `DOWN`, ...).
    pub fn wait_status(&self, addr: SocketAddr, status: &str) {
        assert!(
            super::eventually(STEP, || self.server(addr).status == status),
            "HAProxy never saw {addr} as {status}: {:?}",
            self.server(addr)
        );
    }

    /// Kill it and return (request log, warnings).
    pub fn stop(&mut self) -> (String, String) {
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
pub struct ServerState {
    /// `backend/server`, as the runtime API wants it.
    pub name: String,
    pub status: String,
    pub addr: String,
    /// Current sessions (`scur`): requests it is serving now.
    pub sessions: String,
}

/// Log lines of requests HAProxy retried or redispatched: in the `option httplog`
/// line, the counters field just before `srv_queue/backend_queue` and the quoted
/// request ends in the retry count (`+N` when redispatched).
pub fn retried_requests(log: &str) -> Vec<&str> {
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
