//! HTTP/2's defences over real sockets: hand-made frame sequences from the Python
//! `h2` library (`h2_client.py` builds them and prints the frames the server sends
//! back), one test per defence, each checked to fail with its defence disabled.
//! The same defences are tested on simulated time in
//! `src/protocol/h2/session/tests/defences.rs`. Each test runs only if Python `h2`
//! is installed (in CI a missing module fails); loopback only, bounded in time.

mod common;

use std::io::{BufRead, BufReader, Write};
use std::process::{Command, Stdio};
use std::time::Duration;

use common::{Serving, run_bounded};

fn text(bytes: &[u8]) -> String {
    String::from_utf8_lossy(bytes).into_owned()
}

/// Run `case` of `h2_client.py` against a server started with `args`; its lines.
fn frames_seen(case: &str, args: &[&str]) -> Option<String> {
    if !common::python_module_available("h2") {
        return None;
    }
    let server = Serving::start(args, None);
    let port = server.addr.port().to_string();
    let out = run_bounded(
        Command::new("python3").args([&common::h2_client_script(), case, &port]),
        Duration::from_secs(20),
    );
    let stdout = text(&out.stdout);
    assert!(out.status.success(), "{stdout}{}", text(&out.stderr));
    Some(stdout)
}

#[test]
fn a_rapid_reset_burst_gets_enhance_your_calm() {
    let Some(seen) = frames_seen("rapid_reset", &[]) else {
        return;
    };
    assert!(seen.contains("code=ENHANCE_YOUR_CALM"), "{seen}");
}

#[test]
fn a_continuation_flood_ends_the_connection() {
    let Some(seen) = frames_seen("continuation_flood", &["--max-request-head", "1024"]) else {
        return;
    };
    assert!(seen.contains("GOAWAY"), "{seen}");
    assert!(
        seen.trim_end().ends_with("EOF") || seen.contains("EOF reset"),
        "{seen}"
    );
}

#[test]
fn streams_over_the_limit_are_refused() {
    let Some(seen) = frames_seen("too_many_streams", &["--h2-max-streams", "2"]) else {
        return;
    };
    assert!(
        seen.contains("RST_STREAM stream=5 code=REFUSED_STREAM"),
        "{seen}"
    );
    assert!(
        !seen.contains("stream=1 code") && !seen.contains("GOAWAY"),
        "{seen}"
    );
}

#[test]
fn a_settings_flood_gets_enhance_your_calm() {
    let Some(seen) = frames_seen("settings_flood", &[]) else {
        return;
    };
    assert!(
        seen.contains("GOAWAY last=0 code=ENHANCE_YOUR_CALM"),
        "{seen}"
    );
}

#[test]
fn resets_the_server_is_made_to_send_get_enhance_your_calm() {
    let Some(seen) = frames_seen("made_you_reset", &[]) else {
        return;
    };
    assert!(
        seen.contains("RST_STREAM stream=1 code=PROTOCOL_ERROR"),
        "{seen}"
    );
    assert!(seen.contains("code=ENHANCE_YOUR_CALM"), "{seen}");
}

#[test]
fn an_hpack_bomb_resets_its_stream_and_the_next_is_answered() {
    let Some(seen) = frames_seen("hpack_bomb", &[]) else {
        return;
    };
    let expected =
        "RST_STREAM stream=1 code=ENHANCE_YOUR_CALM\nHEADERS stream=3\nDATA stream=3 END\n";
    assert_eq!(seen, expected, "{seen}");
}

#[test]
fn a_ping_flood_gets_enhance_your_calm() {
    let Some(seen) = frames_seen("ping_flood", &[]) else {
        return;
    };
    assert!(
        seen.contains("GOAWAY last=0 code=ENHANCE_YOUR_CALM"),
        "{seen}"
    );
}

/// The floods that cost the server nothing to answer but must still be
/// counted: each ends in GOAWAY `ENHANCE_YOUR_CALM`.
#[test]
fn empty_data_window_update_and_priority_floods_get_enhance_your_calm() {
    for case in ["empty_data_flood", "window_update_flood", "priority_flood"] {
        let Some(seen) = frames_seen(case, &[]) else {
            return;
        };
        assert!(seen.contains("code=ENHANCE_YOUR_CALM"), "{case}: {seen}");
    }
}

#[test]
fn a_window_that_never_opens_ends_at_the_write_timeout() {
    let args = ["--write-timeout", "0.3", "--linger-timeout", "0.3"];
    let Some(seen) = frames_seen("closed_window", &args) else {
        return;
    };
    let expected = "HEADERS stream=1\nGOAWAY last=1 code=NO_ERROR\nEOF\n";
    assert_eq!(seen, expected, "{seen}");
}

#[test]
fn an_unfinished_header_block_ends_at_the_header_timeout() {
    let args = ["--header-timeout", "0.3", "--linger-timeout", "0.3"];
    let Some(seen) = frames_seen("unfinished_block", &args) else {
        return;
    };
    assert!(seen.contains("code=NO_ERROR\nEOF"), "{seen}");
}

#[test]
fn an_idle_connection_gets_goaway_after_keep_alive() {
    let args = ["--keep-alive-timeout", "0.3", "--linger-timeout", "0.3"];
    let Some(seen) = frames_seen("idle", &args) else {
        return;
    };
    let expected = "HEADERS stream=1\nDATA stream=1 END\nGOAWAY last=1 code=NO_ERROR\nEOF\n";
    assert_eq!(seen, expected, "{seen}");
}

#[test]
fn sigterm_sends_goaway_and_finishes_the_open_stream() {
    if !common::python_module_available("h2") {
        return;
    }
    let mut server = Serving::start(&[], None);
    let port = server.addr.port().to_string();
    let mut python = Command::new("python3")
        .args([&common::h2_client_script(), "graceful", &port])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .spawn()
        .unwrap();
    let mut lines = BufReader::new(python.stdout.take().unwrap()).lines();
    let mut seen = String::new();
    for line in lines.by_ref() {
        let line = line.unwrap();
        seen.push_str(&line);
        seen.push('\n');
        if line == "OPEN" {
            break;
        }
    }
    server.signal("TERM");
    writeln!(python.stdin.take().unwrap()).unwrap();
    for line in lines {
        seen.push_str(&line.unwrap());
        seen.push('\n');
    }
    assert!(python.wait().unwrap().success(), "{seen}");
    let after = seen.split("OPEN\n").nth(1).unwrap_or_default();
    let expected = "GOAWAY last=1 code=NO_ERROR\nHEADERS stream=1\nDATA stream=1 END\nEOF\n";
    assert_eq!(after, expected, "{seen}");
    let (status, _) = server.wait(Duration::from_secs(5));
    assert!(status.success());
}
