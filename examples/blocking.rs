//! The seed's `webserver1.py`, ported line by line to Rust's standard library, so that
//! its failure modes can be seen side by side with hello-reactor.
//!
//! ```text
//! $ cargo run --example blocking            # listens on 127.0.0.1:8888
//! $ cargo run --example blocking -- 18891   # or on another port
//! Serving HTTP on port 8888 ...
//! ```
//!
//! | `webserver1.py`                                    | here                                  |
//! |----------------------------------------------------|---------------------------------------|
//! | `socket.socket(AF_INET, SOCK_STREAM)`              | `Socket::new(Domain::IPV4, ...)`      |
//! | `setsockopt(SOL_SOCKET, SO_REUSEADDR, 1)`          | `set_reuse_address(true)`             |
//! | `bind((HOST, PORT))`, `listen(1)`                  | `bind(...)`, `listen(1)`              |
//! | `while True: accept()`                             | `loop { listener.accept()? }`         |
//! | `request = client_connection.recv(1024)`           | one `read` into a `[u8; 1024]`        |
//! | `print request`                                    | `println!`                            |
//! | `sendall(http_response)`                           | `write_all(RESPONSE)`                 |
//! | `client_connection.close()`                        | the stream is dropped                 |
//!
//! (The seed binds `''`, every interface; this port binds 127.0.0.1 only, since the
//! point is to try it locally.)
//!
//! Every socket call blocks, so the whole server waits on whichever client it is
//! serving. What goes wrong, each shown in `docs/walkthrough.md`:
//!
//! - **One client at a time.** A client that connects and sends nothing holds
//!   `read` forever; everyone else waits in the kernel's accept queue.
//! - **One `read` is taken for the whole request.** A request that arrives in two
//!   pieces is answered after the first; a request longer than 1024 bytes leaves bytes
//!   unread, and closing a socket with unread input makes the kernel send a reset.
//! - **No framing.** The request is never parsed: no `Content-Length`, no chunked
//!   bodies, no keep-alive, no pipelining. The response is
//!   `HTTP/1.1 200 OK\n\nHello, World!\n`: bare `\n` line ends, no headers, so the
//!   client can only find its end when the connection closes.
//! - **No limits, no timeouts.**
//! - **Errors kill it.** `?` in `main` ends the process on the first failed `accept`,
//!   `read` or `write`, as Python's uncaught exception does: one client that resets its
//!   connection at the wrong moment stops the server for everyone.
//! - **No shutdown.** Ctrl-C kills it wherever it is, mid-response or not.

use std::io::{self, Read, Write};
use std::net::{SocketAddr, TcpListener, TcpStream};

use socket2::{Domain, Socket, Type};

/// The seed's `http_response`: a status line, an empty line, the body. Python's
/// triple-quoted string ends with a newline, and so does this.
pub const RESPONSE: &[u8] = b"HTTP/1.1 200 OK\n\nHello, World!\n";

fn main() -> io::Result<()> {
    let port: u16 = match std::env::args().nth(1) {
        Some(arg) => arg
            .parse()
            .map_err(|_| io::Error::other(format!("`{arg}` is not a port number")))?,
        None => 8888,
    };
    let listener = listen(SocketAddr::from(([127, 0, 0, 1], port)))?;
    println!("Serving HTTP on port {port} ...");
    loop {
        let (client_connection, _client_address) = listener.accept()?;
        serve_one(client_connection)?;
    }
}

/// `socket()`, `setsockopt(SO_REUSEADDR)`, `bind()`, `listen(1)`: a backlog of one, as
/// in the seed. (`std::net::TcpListener::bind` would pick its own backlog.)
fn listen(addr: SocketAddr) -> io::Result<TcpListener> {
    let listen_socket = Socket::new(Domain::for_address(addr), Type::STREAM, None)?;
    listen_socket.set_reuse_address(true)?;
    listen_socket.bind(&addr.into())?;
    listen_socket.listen(1)?;
    Ok(listen_socket.into())
}

/// One connection, exactly as the seed handles it: one read of at most 1024 bytes,
/// print it, send the response, close.
fn serve_one(mut client_connection: TcpStream) -> io::Result<()> {
    let mut request = [0u8; 1024];
    let n = client_connection.read(&mut request)?;
    println!("{}", String::from_utf8_lossy(&request[..n]));
    client_connection.write_all(RESPONSE)?;
    Ok(()) // dropping the stream closes it
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::thread;

    /// A listener on a free port, and a thread that serves `clients` connections.
    fn server(clients: usize) -> (SocketAddr, thread::JoinHandle<io::Result<()>>) {
        let listener = listen("127.0.0.1:0".parse().unwrap()).unwrap();
        let addr = listener.local_addr().unwrap();
        let thread = thread::spawn(move || {
            for _ in 0..clients {
                serve_one(listener.accept()?.0)?;
            }
            Ok(())
        });
        (addr, thread)
    }

    #[test]
    fn answers_with_the_seed_response_and_closes() {
        let (addr, thread) = server(1);
        let mut client = TcpStream::connect(addr).unwrap();
        client.write_all(b"GET /hello HTTP/1.1\r\n\r\n").unwrap();
        let mut response = Vec::new();
        client.read_to_end(&mut response).unwrap(); // ends only because the server closes
        assert_eq!(response, RESPONSE);
        thread.join().unwrap().unwrap();
    }

    #[test]
    fn half_a_request_is_answered_as_if_it_were_whole() {
        let (addr, thread) = server(1);
        let mut client = TcpStream::connect(addr).unwrap();
        // The rest of the request is never sent, yet the whole response comes back:
        // the server took its one read for the whole request.
        client.write_all(b"GET /hel").unwrap();
        let mut response = Vec::new();
        client.read_to_end(&mut response).unwrap();
        assert_eq!(response, RESPONSE);
        thread.join().unwrap().unwrap();
    }
}
