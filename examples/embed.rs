//! hello-reactor as a library: start a server on a free port, send it one request with
//! a plain blocking `std::net::TcpStream`, print the response, shut down gracefully.
//! It finishes by itself.
//!
//! ```text
//! $ cargo run --example embed
//! $ RUST_LOG=hello_reactor=trace cargo run --example embed   # watch the reactor too
//! ```
//!
//! The server runs its loop on its own thread ([`Server::spawn`]); the returned
//! [`Running`](hello_reactor::Running) is the only way in from other threads: it knows
//! the bound address and asks the loop to shut down through a `mio::Waker`, the same
//! path SIGTERM takes in the binary.

use std::io::{self, Read, Write};
use std::net::TcpStream;

use hello_reactor::{Config, Server, Summary};

/// Start a server, ask it for `/` once, shut it down; the raw response and what the
/// server counted.
fn fetch_once() -> io::Result<(String, Summary)> {
    let config = Config {
        bind: "127.0.0.1:0".parse().unwrap(), // port 0: the kernel picks a free one
        ..Config::default()
    };
    let running = Server::bind(config)?.spawn()?;
    let mut stream = TcpStream::connect(running.addr())?;
    // `Connection: close` asks the server to close after answering, so reading to
    // the end of the stream reads exactly one response.
    stream.write_all(b"GET / HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n\r\n")?;
    let mut response = String::new();
    stream.read_to_string(&mut response)?;
    let summary = running.shutdown()?;
    Ok((response, summary))
}

fn main() -> io::Result<()> {
    env_logger::init();
    let (response, summary) = fetch_once()?;
    println!("{response}");
    println!("\nthe server says: {summary}");
    Ok(())
}

#[cfg(test)]
mod tests {
    #[test]
    fn one_request_one_response() {
        let (response, summary) = super::fetch_once().unwrap();
        assert!(response.starts_with("HTTP/1.1 200 OK\r\n"), "{response}");
        assert!(response.contains("\r\nConnection: close\r\n"), "{response}");
        assert!(response.ends_with("\r\n\r\nHello, World!"), "{response}");
        assert_eq!((summary.connections, summary.requests), (1, 1));
        assert_eq!(summary.responses_with(200), 1);
    }
}
