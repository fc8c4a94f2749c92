//! `--metrics-bind`: Prometheus metrics on a second listener, checked against exact
//! counts, the reference parser (`prometheus_client`) and a real Prometheus server.

mod common;

use std::io::{Read, Write};
use std::net::{SocketAddr, TcpStream};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use common::{Daemon, GET, IO_TIMEOUT, Reader, Serving, connect, temp_path};

/// The binary with a metrics listener: the server and the metrics address from the
/// second stdout line.
fn serve_with_metrics() -> (Serving, SocketAddr) {
    serve_with_metrics_and(&[])
}

/// As [`serve_with_metrics`], with more flags.
fn serve_with_metrics_and(args: &[&str]) -> (Serving, SocketAddr) {
    let mut all = vec!["--metrics-bind", "127.0.0.1:0"];
    all.extend_from_slice(args);
    let mut server = Serving::start(&all, Some("info"));
    let line = server.line();
    let addr = line
        .strip_prefix("Metrics on http://")
        .and_then(|rest| rest.strip_suffix("/metrics"))
        .unwrap_or_else(|| panic!("unexpected second line {line:?}"));
    (server, addr.parse().unwrap())
}

/// One request on a new connection; the whole response (the server closes).
fn fetch(addr: SocketAddr, request: &str) -> String {
    let mut stream = TcpStream::connect(addr).unwrap();
    stream.set_read_timeout(Some(IO_TIMEOUT)).unwrap();
    stream.write_all(request.as_bytes()).unwrap();
    let mut response = String::new();
    stream.read_to_string(&mut response).unwrap();
    response
}

fn scrape(addr: SocketAddr) -> String {
    let response = fetch(addr, "GET /metrics HTTP/1.1\r\nHost: m\r\n\r\n");
    let (head, body) = response.split_once("\r\n\r\n").unwrap();
    assert!(head.starts_with("HTTP/1.1 200 OK\r\n"), "{head}");
    assert!(
        head.contains("Content-Type: text/plain; version=0.0.4"),
        "{head}"
    );
    body.to_string()
}

/// The value of the sample `name` (with its labels, exactly as written).
fn sample(text: &str, name: &str) -> u64 {
    text.lines()
        .find_map(|line| line.strip_prefix(name)?.strip_prefix(' '))
        .unwrap_or_else(|| panic!("no {name} in\n{text}"))
        .parse()
        .unwrap()
}

#[test]
fn counts_are_exact_and_scrapes_are_not_requests() {
    let (server, metrics) = serve_with_metrics();
    // Five requests on one connection, and one for /metrics on the main listener,
    // which answers every path with the fixed response.
    let mut client = Reader::new(connect(server.addr));
    let mut sent = 0;
    let mut received = 0;
    for _ in 0..5 {
        client.send(GET);
        sent += GET.len();
        let response = client.response(false);
        received += response.head.len() + response.body.len();
    }
    let on_main = b"GET /metrics HTTP/1.1\r\nHost: x\r\n\r\n";
    client.send(on_main);
    sent += on_main.len();
    let response = client.response(false);
    assert_eq!(response.body_text(), "Hello, World!");
    received += response.head.len() + response.body.len();
    drop(client);

    // The close is counted when the server sees the EOF.
    let mut text = scrape(metrics);
    let closed_by_peer = "hello_reactor_connections_closed_total{reason=\"peer\"}";
    assert!(
        common::eventually(Duration::from_secs(5), || {
            text = scrape(metrics);
            sample(&text, closed_by_peer) == 1
        }),
        "{text}"
    );
    assert_eq!(sample(&text, "hello_reactor_requests_total"), 6, "{text}");
    assert_eq!(
        sample(
            &text,
            "hello_reactor_responses_total{protocol=\"h1\",status=\"200\"}"
        ),
        6
    );
    assert_eq!(sample(&text, "hello_reactor_connections_accepted_total"), 1);
    assert_eq!(sample(&text, "hello_reactor_connections_open"), 0);
    assert_eq!(
        sample(&text, "hello_reactor_bytes_received_total"),
        sent as u64
    );
    assert_eq!(
        sample(&text, "hello_reactor_bytes_sent_total"),
        received as u64
    );
    assert_eq!(
        sample(
            &text,
            "hello_reactor_connections_closed_total{reason=\"reset\"}"
        ),
        0
    );

    // Every connection accepted is open or was closed for exactly one reason.
    let closed: u64 = text
        .lines()
        .filter(|l| l.starts_with("hello_reactor_connections_closed_total{"))
        .map(|l| l.rsplit(' ').next().unwrap().parse::<u64>().unwrap())
        .sum();
    assert_eq!(closed, 1, "{text}");

    // HEAD gets the head alone.
    let head = fetch(metrics, "HEAD /metrics HTTP/1.1\r\nHost: m\r\n\r\n");
    assert!(head.starts_with("HTTP/1.1 200 OK\r\n"), "{head}");
    assert!(head.ends_with("\r\n\r\n"), "{head}");

    // Other paths and methods on the metrics listener, and no count moved.
    let not_found = fetch(metrics, "GET / HTTP/1.1\r\nHost: m\r\n\r\n");
    assert!(not_found.starts_with("HTTP/1.1 404 "), "{not_found}");
    let post = fetch(
        metrics,
        "POST /metrics HTTP/1.1\r\nContent-Length: 0\r\n\r\n",
    );
    assert!(post.starts_with("HTTP/1.1 405 "), "{post}");
    let garbage = fetch(metrics, "\x01\x02 nonsense\r\n\r\n");
    assert!(garbage.starts_with("HTTP/1.1 400 "), "{garbage}");
    let text = scrape(metrics);
    assert_eq!(sample(&text, "hello_reactor_requests_total"), 6, "{text}");
    assert_eq!(sample(&text, "hello_reactor_connections_accepted_total"), 1);

    let (status, log) = server.terminate();
    assert!(status.success(), "{log}");
    assert!(log.contains("1 connections, 6 requests"), "{log}");
}

#[test]
fn the_reference_parser_reads_every_family() {
    if !common::python_module_available("prometheus_client") {
        return;
    }
    let (server, metrics) = serve_with_metrics();
    let _ = common::roundtrip(server.addr, GET);
    let text = scrape(metrics);
    let script = "import sys\n\
        from prometheus_client.parser import text_string_to_metric_families\n\
        for f in text_string_to_metric_families(sys.stdin.read()):\n\
        \x20   for s in f.samples:\n\
        \x20       print(f.type, s.name, sorted(s.labels.items()), float(s.value))\n";
    let mut python = Command::new("python3")
        .args(["-c", script])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    python
        .stdin
        .take()
        .unwrap()
        .write_all(text.as_bytes())
        .unwrap();
    let out = python.wait_with_output().unwrap();
    let parsed = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success(),
        "the parser rejected:\n{text}\n{}",
        String::from_utf8_lossy(&out.stderr)
    );
    for expected in [
        "counter hello_reactor_requests_total [] 1.0",
        "counter hello_reactor_responses_total [('protocol', 'h1'), ('status', '200')] 1.0",
        "counter hello_reactor_connections_accepted_total [] 1.0",
        "gauge hello_reactor_connections_open [] ",
        "counter hello_reactor_connections_closed_total [('reason', 'idle_timeout')] 0.0",
        "counter hello_reactor_bytes_received_total [] ",
        "counter hello_reactor_bytes_sent_total [] ",
    ] {
        assert!(parsed.contains(expected), "no {expected:?} in\n{parsed}");
    }
    let _ = server.terminate();
}

/// `GET path` against a plain HTTP server; the body.
fn http_get(addr: SocketAddr, path: &str) -> std::io::Result<String> {
    let mut stream = TcpStream::connect(addr)?;
    stream.set_read_timeout(Some(IO_TIMEOUT))?;
    write!(
        stream,
        "GET {path} HTTP/1.1\r\nHost: {addr}\r\nConnection: close\r\n\r\n"
    )?;
    let mut response = String::new();
    stream.read_to_string(&mut response)?;
    Ok(response
        .split_once("\r\n\r\n")
        .map_or(String::new(), |(_, b)| b.to_string()))
}

/// The value of an instant query's only result, as Prometheus's JSON writes it:
/// `"value":[<time>,"<value>"]`.
fn query_value(prometheus: SocketAddr, query: &str) -> Option<String> {
    let body = http_get(prometheus, &format!("/api/v1/query?query={query}")).ok()?;
    let after = &body[body.find("\"value\":[")? + "\"value\":[".len()..];
    let value = after.split_once(",\"")?.1.split_once('"')?.0;
    Some(value.to_string())
}

#[test]
fn a_real_prometheus_scrapes_the_counts() {
    if !common::tool_available("prometheus") {
        return;
    }
    let (server, metrics) = serve_with_metrics();
    const REQUESTS: u64 = 9;
    let mut client = Reader::new(connect(server.addr));
    for _ in 0..REQUESTS {
        client.send(GET);
        assert_eq!(client.response(false).status, 200);
    }

    let dir = temp_path("prometheus");
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    let config = dir.join("prometheus.yml");
    std::fs::write(
        &config,
        format!(
            "global:\n  scrape_interval: 1s\n  evaluation_interval: 1s\n\
             scrape_configs:\n  - job_name: hello-reactor\n    static_configs:\n\
             \x20     - targets: ['{metrics}']\n"
        ),
    )
    .unwrap();
    let web = SocketAddr::from(([127, 0, 0, 1], common::free_port()));
    let mut command = Command::new("prometheus");
    command
        .arg(format!("--config.file={}", config.display()))
        .arg(format!(
            "--storage.tsdb.path={}",
            dir.join("data").display()
        ))
        .arg(format!("--web.listen-address={web}"));
    let mut prometheus = Daemon::start(command);

    let deadline = Instant::now() + Duration::from_secs(60);
    let (mut up, mut requests) = (None, None);
    while Instant::now() < deadline {
        up = query_value(web, "up");
        requests = query_value(web, "hello_reactor_requests_total");
        if up.as_deref() == Some("1") && requests.as_deref() == Some("9") {
            break;
        }
        std::thread::sleep(Duration::from_millis(250));
    }
    let exited = prometheus.child.try_wait().unwrap();
    drop(client);
    prometheus.signal("TERM");
    let (_, prometheus_log) = prometheus.wait(Duration::from_secs(20));
    let _ = std::fs::remove_dir_all(&dir);
    assert_eq!(
        (up.as_deref(), requests.as_deref()),
        (Some("1"), Some(REQUESTS.to_string().as_str())),
        "Prometheus (exited: {exited:?}) did not see the counts; its log:\n{prometheus_log}"
    );
    let (status, log) = server.terminate();
    assert!(status.success(), "{log}");
    assert!(log.contains("9 requests"), "{log}");
}

/// Two reactors in one process, as workers will be: one serves the metrics and
/// renders the other's published snapshot with its own, so the counts add up.
#[test]
fn published_snapshots_of_other_reactors_add_up() {
    use hello_reactor::{Config, MetricsSlot, Server};
    let config = |metrics: bool| Config {
        bind: "127.0.0.1:0".parse().unwrap(),
        metrics_bind: metrics.then(|| "127.0.0.1:0".parse().unwrap()),
        linger_timeout: Duration::from_millis(100), // a 25 ms tick: publishes soon
        ..Config::default()
    };
    let slot = MetricsSlot::default();
    let mut worker = Server::bind(config(false)).unwrap();
    worker.publish_metrics_to(slot.clone());
    let mut owner = Server::bind(config(true)).unwrap();
    owner.add_metrics_peer(slot);
    let metrics = owner.metrics_addr().unwrap();
    let (owner, worker) = (owner.spawn().unwrap(), worker.spawn().unwrap());
    for _ in 0..3 {
        assert_eq!(common::roundtrip(owner.addr(), GET).status, 200);
    }
    for _ in 0..4 {
        assert_eq!(common::roundtrip(worker.addr(), GET).status, 200);
    }
    let mut text = String::new();
    let added_up = common::eventually(Duration::from_secs(5), || {
        text = scrape(metrics);
        sample(&text, "hello_reactor_requests_total") == 7
    });
    assert!(added_up, "{text}");
    assert_eq!(sample(&text, "hello_reactor_connections_accepted_total"), 7);
    assert_eq!(owner.shutdown().unwrap().requests, 3);
    assert_eq!(worker.shutdown().unwrap().requests, 4);
}

#[test]
fn a_taken_metrics_port_fails_with_one_line_naming_it() {
    let taken = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let addr = taken.local_addr().unwrap();
    let out = common::run_bounded(
        common::binary().args(["--bind", "127.0.0.1:0", "--metrics-bind", &addr.to_string()]),
        common::PROMPTLY,
    );
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(1), "{stderr}");
    assert!(out.stdout.is_empty(), "announced before failing");
    assert_eq!(stderr.lines().count(), 1, "{stderr}");
    assert!(
        stderr.contains(&format!("cannot listen on {addr} (--metrics-bind)")),
        "{stderr}"
    );
}

/// With `--workers 4`, the first worker serves the metrics port and the others
/// publish to it at each tick: a scrape adds up every worker's requests.
#[test]
fn metrics_add_up_every_worker() {
    let (server, metrics) = serve_with_metrics_and(&["--workers", "4"]);
    let sent = 200;
    for _ in 0..sent {
        let response = fetch(
            server.addr,
            "GET / HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n",
        );
        assert!(response.starts_with("HTTP/1.1 200 OK\r\n"), "{response}");
    }
    // Other workers' counts reach the scrape within a tick (at most a second).
    let deadline = Instant::now() + Duration::from_secs(10);
    let mut last = String::new();
    while Instant::now() < deadline {
        last = scrape(metrics);
        if sample(&last, "hello_reactor_requests_total") == sent {
            break;
        }
        std::thread::sleep(Duration::from_millis(100));
    }
    assert_eq!(
        sample(&last, "hello_reactor_requests_total"),
        sent,
        "{last}"
    );
    assert_eq!(
        sample(&last, "hello_reactor_connections_accepted_total"),
        sent,
        "{last}"
    );
    let (status, log) = server.terminate();
    assert!(status.success(), "{log}");
}
