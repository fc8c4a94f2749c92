//! The files in `deploy/`, checked offline with the real tools and the real binary:
//! the Kubernetes manifest against the API schema (`kubernetes-validate`, from PyPI;
//! its schemas ship in the package, no cluster or network needed), the systemd units
//! with `systemd-analyze verify` and `systemd-analyze security --offline`, and the
//! command line each file runs, started for real. HAProxy has its own test file.
//! A missing tool skips its test with a message, and fails it when `CI` is set.

mod common;

use std::io::{self, Write};
use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::Duration;

use common::{GET, Serving, roundtrip};

fn deploy_file(name: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("deploy")
        .join(name)
}

fn read(name: &str) -> String {
    std::fs::read_to_string(deploy_file(name)).unwrap()
}

/// `common::tool_available`, plus a line written past the test harness's capture, so
/// a skip shows in `cargo test` output even when the test passes.
fn available(tool: &str, test: &str) -> bool {
    let found = common::tool_available(tool);
    if !found {
        let _ = writeln!(io::stderr(), "SKIPPED: {test}: {tool} is not installed");
    }
    found
}

/// Run `command` (at most 60 s): whether it succeeded, and stdout then stderr.
fn run(command: &mut Command) -> (bool, String) {
    let out = common::run_bounded(command, Duration::from_secs(60));
    (
        out.status.success(),
        format!(
            "{}{}",
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        ),
    )
}

/// Start the real binary with `args` (a `--bind` among them replaced by a free
/// loopback port), get the body from it, SIGTERM it and expect exit 0.
fn serves_and_drains(args: &[String]) {
    let mut rest: Vec<&str> = Vec::new();
    let mut words = args.iter();
    while let Some(word) = words.next() {
        if word == "--bind" {
            words.next();
        } else {
            rest.push(word);
        }
    }
    let server = Serving::start(&rest, None);
    let response = roundtrip(server.addr, GET);
    assert_eq!(response.status, 200);
    assert_eq!(response.body_text(), "Hello, World!");
    let (status, stderr) = server.terminate();
    assert!(status.success(), "exit {status} after SIGTERM: {stderr}");
}

/// The value after `flag` in a command line.
fn flag_value<'a>(args: &'a [String], flag: &str) -> &'a str {
    let at = args
        .iter()
        .position(|a| a == flag)
        .unwrap_or_else(|| panic!("no {flag} in {args:?}"));
    &args[at + 1]
}

fn seconds(text: &str) -> f64 {
    text.trim()
        .trim_matches('"')
        .parse()
        .unwrap_or_else(|_| panic!("{text:?} is not a number of seconds"))
}

mod kubernetes {
    use super::*;

    const FILE: &str = "kubernetes.yaml";

    /// The number after the first `key:` in the manifest (after `after`, if given).
    fn number(manifest: &str, after: &str, key: &str) -> f64 {
        let from = manifest.find(after).expect(after);
        let line = manifest[from..]
            .lines()
            .find_map(|l| l.trim().strip_prefix(key))
            .unwrap_or_else(|| panic!("no {key} after {after}"));
        seconds(line)
    }

    /// The container's `command:` list.
    fn command(manifest: &str) -> Vec<String> {
        manifest
            .lines()
            .skip_while(|l| l.trim() != "command:")
            .skip(1)
            .map_while(|l| l.trim().strip_prefix("- "))
            .map(|w| w.trim_matches('"').to_string())
            .collect()
    }

    /// Strict schema validation (no unknown fields) against Kubernetes 1.30, the
    /// first release with the preStop `sleep` action on by default, and against the
    /// newest schema the validator ships.
    #[test]
    fn the_manifest_matches_the_api_schema() {
        if !available(
            "kubernetes-validate",
            "kubernetes::the_manifest_matches_the_api_schema",
        ) {
            return;
        }
        let path = deploy_file(FILE);
        for version in [Some("1.30.0"), None] {
            let mut command = Command::new("kubernetes-validate");
            command.arg("--strict");
            if let Some(version) = version {
                command.args(["--kubernetes-version", version]);
            }
            let (ok, out) = run(command.arg(&path));
            assert!(ok, "kubernetes-validate {version:?} failed:\n{out}");
            for resource in [
                "deployment/hello-reactor",
                "service/hello-reactor",
                "poddisruptionbudget/hello-reactor",
            ] {
                assert!(
                    out.contains(&format!("passed for resource {resource}")),
                    "{resource} was not validated:\n{out}"
                );
            }
        }
    }

    /// The kubelet sends SIGKILL `terminationGracePeriodSeconds` after the pod
    /// starts terminating; that time must cover the preStop sleep and the drain.
    #[test]
    fn the_grace_period_covers_the_prestop_sleep_and_the_drain() {
        let manifest = read(FILE);
        let grace = number(
            &manifest,
            "kind: Deployment",
            "terminationGracePeriodSeconds:",
        );
        let sleep = number(&manifest, "preStop:", "seconds:");
        let drain = seconds(flag_value(&command(&manifest), "--shutdown-timeout"));
        assert!(
            grace > sleep + drain,
            "grace period {grace} s <= preStop {sleep} s + --shutdown-timeout {drain} s"
        );
    }

    /// The container's command is one the binary accepts: it serves, and drains on
    /// SIGTERM with exit 0. It binds all interfaces on the port the probes, the
    /// container port and the Service's target use.
    #[test]
    fn the_container_command_runs_the_real_binary() {
        let manifest = read(FILE);
        let command = command(&manifest);
        assert_eq!(command[0], "/usr/local/bin/hello-reactor");
        assert_eq!(flag_value(&command, "--bind"), "0.0.0.0:8888");
        assert!(manifest.contains("containerPort: 8888"));
        serves_and_drains(&command[1..]);
    }
}

mod systemd {
    use super::*;

    const SOCKET: &str = "hello-reactor.socket";
    const SERVICE: &str = "hello-reactor.service";

    /// `ExecStart=`, split into words.
    fn exec_start(service: &str) -> Vec<String> {
        service
            .lines()
            .find_map(|l| l.strip_prefix("ExecStart="))
            .expect("ExecStart=")
            .split_whitespace()
            .map(String::from)
            .collect()
    }

    /// The two units in a fresh directory, as installed, except that `ExecStart=`
    /// names the binary just built: `verify` checks the program exists, and
    /// /usr/local/bin/hello-reactor is not installed here.
    fn units_dir(name: &str) -> PathBuf {
        let dir =
            std::env::temp_dir().join(format!("hello-reactor-units-{}-{name}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir).unwrap();
        std::fs::write(dir.join(SOCKET), read(SOCKET)).unwrap();
        let service = read(SERVICE).replace(
            "ExecStart=/usr/local/bin/hello-reactor",
            &format!("ExecStart={}", env!("CARGO_BIN_EXE_hello-reactor")),
        );
        std::fs::write(dir.join(SERVICE), service).unwrap();
        dir
    }

    /// `systemd-analyze verify` loads both units the way systemd does (every key
    /// known, every value parsed, the socket's service found, the program present)
    /// without a running systemd. It reports bad keys and values as warnings and
    /// still exits 0, so any output at all fails the test.
    #[test]
    fn the_units_pass_systemd_analyze_verify() {
        if !available(
            "systemd-analyze",
            "systemd::the_units_pass_systemd_analyze_verify",
        ) {
            return;
        }
        let dir = units_dir("verify");
        let (ok, out) = run(Command::new("systemd-analyze")
            .args(["verify", "--man=no", "--generators=no"])
            .arg(dir.join(SOCKET))
            .arg(dir.join(SERVICE)));
        let _ = std::fs::remove_dir_all(&dir);
        assert!(ok, "systemd-analyze verify failed:\n{out}");
        assert_eq!(out.trim(), "", "systemd-analyze verify warned");
    }

    /// `systemd-analyze security --offline` scores the sandboxing of the service
    /// unit file; it must stay in the "OK" band (exposure 2.0 or less of 10).
    #[test]
    fn the_service_sandbox_rates_ok() {
        if !available("systemd-analyze", "systemd::the_service_sandbox_rates_ok") {
            return;
        }
        let dir = units_dir("security");
        let (ok, out) = run(Command::new("systemd-analyze")
            .args(["security", "--offline=true", "--threshold=20"])
            .arg(dir.join(SERVICE)));
        let _ = std::fs::remove_dir_all(&dir);
        assert!(ok, "systemd-analyze security: exposure above 2.0:\n{out}");
        assert!(out.contains("Overall exposure level"), "{out}");
    }

    /// systemd sends SIGKILL `TimeoutStopSec` after SIGTERM; the drain must end first.
    #[test]
    fn the_stop_timeout_covers_the_drain() {
        let service = read(SERVICE);
        assert!(service.lines().any(|l| l == "KillSignal=SIGTERM"));
        let stop = service
            .lines()
            .find_map(|l| l.strip_prefix("TimeoutStopSec="))
            .map(seconds)
            .expect("TimeoutStopSec=");
        let drain = seconds(flag_value(&exec_start(&service), "--shutdown-timeout"));
        assert!(
            stop > drain,
            "TimeoutStopSec {stop} s <= --shutdown-timeout {drain} s"
        );
    }

    /// `ExecStart=` is a command line the binary accepts: it serves, and exits 0 on
    /// SIGTERM (so `Restart=on-failure` leaves a clean stop alone).
    #[test]
    fn exec_start_runs_the_real_binary() {
        let command = exec_start(&read(SERVICE));
        assert_eq!(command[0], "/usr/local/bin/hello-reactor");
        serves_and_drains(&command[1..]);
    }
}
