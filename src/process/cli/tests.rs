//! Flags, their defaults and their checks.
use super::*;
use crate::protocol::response::check_field_value;

#[test]
fn the_defaults_are_the_documented_ones() {
    let config = Config::default();
    assert_eq!(config.bind, SocketAddr::from(([127, 0, 0, 1], 8888)));
    assert_eq!(config.body, b"Hello, World!");
    assert_eq!(config.status, Status::OK);
    assert_eq!(
        (config.max_request_head, config.max_body),
        (16 * 1024, 1 << 20)
    );
    assert_eq!(config.keep_alive_timeout, Duration::from_secs(75));
    assert_eq!((config.workers, config.max_connections), (1, None));
}

#[test]
fn an_empty_command_line_gives_the_default_config() {
    // The flags take their defaults from the data (`config.rs`); this holds the
    // two together.
    let cli = Cli::try_parse_from(["hello-reactor"]).unwrap();
    assert_eq!(cli.into_config().unwrap(), Config::default());
}

#[test]
fn seconds_accept_fractions_and_reject_nonsense() {
    assert_eq!(parse_secs("0.5"), Ok(Duration::from_millis(500)));
    assert_eq!(parse_secs("75"), Ok(Duration::from_secs(75)));
    assert!(parse_secs("0").is_err());
    assert!(parse_secs("-1").is_err());
    assert!(parse_secs("soon").is_err());
    assert!(parse_secs("1e9").is_err());
}

#[test]
fn flags_reach_the_config() {
    let cli = Cli::try_parse_from([
        "hello-reactor",
        "--bind",
        "127.0.0.1:0",
        "--body",
        "hi",
        "--max-connections",
        "7",
        "--header-timeout",
        "1.5",
    ])
    .unwrap();
    let config = cli.into_config().unwrap();
    assert_eq!(config.bind.port(), 0);
    assert_eq!(config.body, b"hi");
    assert_eq!(config.max_connections, Some(7));
    assert_eq!(config.header_timeout, Duration::from_millis(1500));
}

// Workers (issue #11).
#[test]
fn workers_are_a_count_or_auto() {
    assert_eq!(parse_workers("4"), Ok(4));
    let cpus = std::thread::available_parallelism().unwrap().get();
    assert_eq!(parse_workers("auto"), Ok(cpus));
    assert!(parse_workers("0").is_err());
    assert!(parse_workers("-1").is_err());
    assert!(parse_workers("many").is_err());
    assert!(parse_workers("100000").is_err());
    let cli = Cli::try_parse_from([
        "hello-reactor",
        "--workers",
        "3",
        "--listener",
        "shared",
        "--pin-workers",
    ])
    .unwrap();
    let config = cli.into_config().unwrap();
    assert_eq!(config.workers, 3);
    assert_eq!(config.listener, ListenerMode::Shared);
    assert!(config.pin_workers);
    assert!(Cli::try_parse_from(["hello-reactor", "--listener", "both"]).is_err());
}

#[test]
fn bind_takes_addresses_and_host_names() {
    let tcp = |text| match parse_bind(text).unwrap() {
        Bind::Tcp { addr, resolution } => (addr, resolution),
        other => panic!("{other:?}"),
    };
    assert_eq!(tcp("[::1]:8888"), ("[::1]:8888".parse().unwrap(), None));
    let (addr, resolution) = tcp("localhost:8888");
    assert!(addr.ip().is_loopback(), "{addr}");
    assert_eq!(addr.port(), 8888);
    let note = resolution.unwrap();
    assert!(
        note.starts_with("--bind localhost:8888 resolved to "),
        "{note}"
    );
    for bad in [
        "localhost",
        "127.0.0.1",
        "1.2.3.4:99999",
        ":80",
        "",
        "a b:80",
    ] {
        let message = parse_bind(bad).unwrap_err();
        assert!(message.contains("127.0.0.1:8888"), "{bad}: {message}");
        assert!(message.contains("[::1]:8888"), "{bad}: {message}");
        assert!(message.contains("localhost:8888"), "{bad}: {message}");
    }
}

#[test]
fn field_values_are_checked_like_a_clients() {
    #[rustfmt::skip]
    let table = [
        ("text/plain", true),
        ("text/plain; charset=utf-8", true),
        ("a\tb", true),
        ("caf\u{e9}", true),
        ("", true),
        ("a\r\nSet-Cookie: x=1", false),
        ("a\nb", false),
        ("a\rb", false),
        ("a\0b", false),
        ("a\x7fb", false),
        ("a\x01b", false),
        (" a", false),
        ("a\t", false),
    ];
    for (value, ok) in table {
        assert_eq!(check_field_value(value).is_ok(), ok, "{value:?}");
    }
    assert!(parse_content_type("").is_err());
    assert!(parse_content_type("a\0b").is_err());
    assert!(parse_content_type("text/html\r\n").is_err());
    assert_eq!(parse_content_type("text/html"), Ok("text/html".to_string()));
}

#[test]
fn headers_are_a_token_and_a_field_value() {
    #[rustfmt::skip]
    let table: &[(&str, Option<(&str, &str)>)] = &[
        ("X-A: b", Some(("X-A", "b"))),
        ("X-A:b", Some(("X-A", "b"))),
        ("X-A: \t b c \t", Some(("X-A", "b c"))),
        ("X-Empty:", Some(("X-Empty", ""))),
        ("Cache-Control: max-age=60, public", Some(("Cache-Control", "max-age=60, public"))),
        ("X-A: b: c", Some(("X-A", "b: c"))),
        ("!#$%&'*+-.^_`|~: x", Some(("!#$%&'*+-.^_`|~", "x"))),
        ("X-A", None),
        (": b", None),
        ("X A: b", None),
        ("X-A : b", None),
        ("X(A): b", None),
        ("X-\u{e9}: b", None),
        ("X-A: b\r\nSet-Cookie: c", None),
        ("X-A: b\nc", None),
        ("X-A: b\0", None),
        ("X-A: b\x7f", None),
        ("content-length: 5", None),
        ("Transfer-Encoding: chunked", None),
        ("CONNECTION: close", None),
        ("Date: today", None),
        ("Server: other", None),
        ("Content-Type: text/html", None),
    ];
    for &(text, expected) in table {
        let got = parse_header(text);
        let expected = expected.map(|(n, v)| (n.to_string(), v.to_string()));
        assert_eq!(got.clone().ok(), expected, "{text:?}: {got:?}");
    }
}

#[test]
fn status_and_headers_reach_the_config() {
    let cli = Cli::try_parse_from([
        "hello-reactor",
        "--status",
        "404",
        "--header",
        "X-One: 1",
        "--header",
        "X-Two: 2",
    ])
    .unwrap();
    let config = cli.into_config().unwrap();
    assert_eq!(config.status.code(), 404);
    assert_eq!(
        config.headers,
        [("X-One".into(), "1".into()), ("X-Two".into(), "2".into())]
    );
    for bad in ["199", "600", "99", "x", "-1", "2000"] {
        let err = Cli::try_parse_from(["hello-reactor", "--status", bad]);
        assert!(err.is_err(), "{bad}");
    }
}

#[test]
fn bind_takes_an_address_or_a_unix_path() {
    let parse = |arg: &str| Cli::try_parse_from(["hello-reactor", "--bind", arg]);
    let config = parse("unix:/tmp/h.sock").unwrap().into_config().unwrap();
    assert_eq!(config.unix, Some(PathBuf::from("/tmp/h.sock")));
    let config = parse("[::1]:0").unwrap().into_config().unwrap();
    assert_eq!(
        (config.bind, config.unix),
        ("[::1]:0".parse().unwrap(), None)
    );
    for bad in ["unix:", "localhost", "/tmp/h.sock", "1.2.3.4"] {
        let err = parse(bad).unwrap_err();
        assert_eq!(err.kind(), ErrorKind::ValueValidation, "{bad}");
    }
}

#[test]
fn body_and_body_file_conflict() {
    let err = Cli::try_parse_from(["hello-reactor", "--body", "a", "--body-file", "b"]);
    assert_eq!(err.unwrap_err().kind(), ErrorKind::ArgumentConflict);
}

#[test]
fn a_missing_body_file_is_a_clear_error() {
    let cli = Cli::try_parse_from(["hello-reactor", "--body-file", "/nonexistent/body"]).unwrap();
    let message = cli.into_config().unwrap_err();
    assert!(
        message.contains("cannot read --body-file /nonexistent/body"),
        "{message}"
    );
}
