"""Hand-made HTTP/2 frame sequences for tests/http2.rs.

Requests are built with the `h2` library (hpack, framing); what the server
sends back is read frame by frame here, so that frames the library would refuse
to surface (a GOAWAY after our own misbehaviour) are still seen. Each case
prints one line per frame that matters (`GOAWAY last=N code=NAME`,
`RST_STREAM stream=N code=NAME`, `HEADERS stream=N`, `DATA stream=N END`,
`EOF`), and the Rust test reads the lines.

Usage: python3 h2_client.py CASE PORT
"""

import socket
import sys
import time

import h2.config
import h2.connection
import hpack
from h2.settings import SettingCodes
from hyperframe.frame import (ContinuationFrame, DataFrame, HeadersFrame,
                              PingFrame, PriorityFrame, WindowUpdateFrame)

CODES = {0: "NO_ERROR", 1: "PROTOCOL_ERROR", 7: "REFUSED_STREAM",
         8: "CANCEL", 11: "ENHANCE_YOUR_CALM", 14: "FRAME_SIZE_ERROR"}
TYPES = {0: "DATA", 1: "HEADERS", 3: "RST_STREAM", 4: "SETTINGS", 6: "PING",
         7: "GOAWAY", 8: "WINDOW_UPDATE"}
REQUEST = [(":method", "GET"), (":scheme", "http"), (":path", "/"),
           (":authority", "localhost")]


def client(port):
    sock = socket.create_connection(("127.0.0.1", port))
    sock.settimeout(5)
    config = h2.config.H2Configuration(client_side=True)
    conn = h2.connection.H2Connection(config=config)
    conn.initiate_connection()
    sock.sendall(conn.data_to_send())
    return sock, conn


def frames(sock, until=None, within=5.0):
    """Print the frames that arrive until EOF, `until` (a line prefix) or
    `within` seconds."""
    buf = b""
    end = time.time() + within
    while time.time() < end:
        while len(buf) >= 9:
            length = int.from_bytes(buf[:3], "big")
            if len(buf) < 9 + length:
                break
            kind, flags = buf[3], buf[4]
            stream = int.from_bytes(buf[5:9], "big") & 0x7FFFFFFF
            payload = buf[9:9 + length]
            buf = buf[9 + length:]
            line = describe(kind, flags, stream, payload)
            if line:
                print(line, flush=True)
                if until and line.startswith(until):
                    return
        try:
            data = sock.recv(65536)
        except socket.timeout:
            print("TIMEOUT", flush=True)
            return
        except ConnectionResetError:
            print("EOF reset", flush=True)
            return
        if not data:
            print("EOF", flush=True)
            return
        buf += data


def describe(kind, flags, stream, payload):
    name = TYPES.get(kind)
    if name == "GOAWAY":
        last = int.from_bytes(payload[:4], "big") & 0x7FFFFFFF
        code = int.from_bytes(payload[4:8], "big")
        return f"GOAWAY last={last} code={CODES.get(code, code)}"
    if name == "RST_STREAM":
        code = int.from_bytes(payload[:4], "big")
        return f"RST_STREAM stream={stream} code={CODES.get(code, code)}"
    if name == "HEADERS":
        return f"HEADERS stream={stream}"
    if name == "DATA":
        return f"DATA stream={stream}" + (" END" if flags & 1 else "")
    return None


def rapid_reset(port):
    """CVE-2023-44487: streams opened and reset at once, without end."""
    sock, conn = client(port)
    try:
        for i in range(500):
            sid = 1 + 2 * i
            # Open for its body, so that the reset comes before the answer.
            conn.send_headers(sid, REQUEST, end_stream=False)
            conn.reset_stream(sid)
        sock.sendall(conn.data_to_send())
    except OSError:
        pass
    frames(sock, until="GOAWAY")


def continuation_flood(port):
    """A header block that never ends: CONTINUATION after CONTINUATION."""
    sock, _ = client(port)
    block = h2.connection.Encoder().encode(REQUEST)
    first = HeadersFrame(1, data=block)  # no END_HEADERS
    try:
        sock.sendall(first.serialize())
        for _ in range(2000):
            more = ContinuationFrame(1, data=b"x-junk" * 100)
            sock.sendall(more.serialize())
    except OSError:
        print("SEND_FAILED", flush=True)
    frames(sock, until="GOAWAY")
    frames(sock)  # then the close


def too_many_streams(port):
    """Three streams kept open (no END_STREAM) when the server allows two."""
    sock, conn = client(port)
    for sid in (1, 3, 5):
        conn.send_headers(sid, REQUEST, end_stream=False)
    sock.sendall(conn.data_to_send())
    frames(sock, until="RST_STREAM", within=3)


def settings_flood(port):
    """SETTINGS without end: each one asks for an acknowledgement."""
    sock, _ = client(port)
    try:
        sock.sendall(b"\x00\x00\x00\x04\x00\x00\x00\x00\x00" * 1000)
    except OSError:
        pass
    frames(sock, until="GOAWAY")


def made_you_reset(port):
    """CVE-2025-8671: malformed requests (`te: gzip`), each of which the server
    must reset itself, without end."""
    sock, _ = client(port)
    encoder = hpack.Encoder()
    try:
        for i in range(500):
            block = encoder.encode(REQUEST + [("te", "gzip")])
            bad = HeadersFrame(1 + 2 * i, data=block,
                               flags=["END_HEADERS", "END_STREAM"])
            sock.sendall(bad.serialize())
    except OSError:
        pass
    frames(sock, until="GOAWAY")


def hpack_bomb(port):
    """A 4 KB block that decodes to 40 KB: a 4000-byte field added to the
    table, then named ten times. Then a request naming it once."""
    sock, _ = client(port)
    request = hpack.Encoder().encode([(n, v, True) for n, v in REQUEST])
    # Literal with indexing, name "x", a value of 4000 (127 + 33 + 30 * 128).
    bomb = request + b"\x40\x01x" + b"\x7f\xa1\x1e"
    bomb += b"v" * 4000 + b"\xbe" * 10
    flags = ["END_HEADERS", "END_STREAM"]
    sock.sendall(HeadersFrame(1, data=bomb, flags=flags).serialize())
    sock.sendall(HeadersFrame(3, data=request + b"\xbe", flags=flags).serialize())
    frames(sock, until="DATA stream=3")


def ping_flood(port):
    """PING without end: each one asks for an acknowledgement."""
    sock, _ = client(port)
    try:
        sock.sendall(PingFrame(0, opaque_data=b"12345678").serialize() * 1000)
    except OSError:
        pass
    frames(sock, until="GOAWAY")


def flood(port, frame, count, opening=b""):
    """`count` copies of `frame` (after `opening`), then what the server says."""
    sock, _ = client(port)
    try:
        sock.sendall(opening + frame * count)
    except OSError:
        pass
    frames(sock, until="GOAWAY")


def empty_data_flood(port):
    """Stream 1 opened for a body that comes as empty DATA frames, without end
    (CVE-2019-9518)."""
    opening = HeadersFrame(1, data=hpack.Encoder().encode(REQUEST),
                           flags=["END_HEADERS"]).serialize()
    flood(port, DataFrame(1, data=b"").serialize(), 1000, opening)


def window_update_flood(port):
    """WINDOW_UPDATE of 1 on the connection, without end."""
    flood(port, WindowUpdateFrame(0, window_increment=1).serialize(), 5000)


def priority_flood(port):
    """PRIORITY on idle streams, without end (parsed and ignored, but counted)."""
    frame = PriorityFrame(3, depends_on=0, stream_weight=16).serialize()
    flood(port, frame, 1000)


def closed_window(port):
    """SETTINGS_INITIAL_WINDOW_SIZE 0, then a request: the answer's DATA never
    fits, and the write timeout ends the connection."""
    sock, conn = client(port)
    conn.update_settings({SettingCodes.INITIAL_WINDOW_SIZE: 0})
    conn.send_headers(1, REQUEST, end_stream=True)
    sock.sendall(conn.data_to_send())
    frames(sock)


def unfinished_block(port):
    """A HEADERS frame without END_HEADERS, and no CONTINUATION: the header
    timeout."""
    sock, _ = client(port)
    block = hpack.Encoder().encode(REQUEST)
    sock.sendall(HeadersFrame(1, data=block).serialize())
    frames(sock)


def idle(port):
    """One request answered, then nothing: the keep-alive timeout."""
    sock, conn = client(port)
    conn.send_headers(1, REQUEST, end_stream=True)
    sock.sendall(conn.data_to_send())
    frames(sock)


def graceful(port):
    """Stream 1 waits for its body; the test sends SIGTERM on `OPEN`; the
    GOAWAY must name stream 1, which is then still answered."""
    sock, conn = client(port)
    conn.send_headers(1, [(":method", "POST")] + REQUEST[1:], end_stream=False)
    sock.sendall(conn.data_to_send())
    sock.settimeout(0.3)
    frames(sock, until="NOTHING")  # the server's SETTINGS and ack, then a pause
    sock.settimeout(5)
    print("OPEN", flush=True)
    sys.stdin.readline()  # the signal was sent
    frames(sock, until="GOAWAY")
    conn.send_data(1, b"body", end_stream=True)
    sock.sendall(conn.data_to_send())
    frames(sock)


def main():
    case, port = sys.argv[1], int(sys.argv[2])
    {"rapid_reset": rapid_reset, "continuation_flood": continuation_flood,
     "too_many_streams": too_many_streams, "settings_flood": settings_flood,
     "graceful": graceful, "made_you_reset": made_you_reset,
     "hpack_bomb": hpack_bomb, "ping_flood": ping_flood,
     "idle": idle, "empty_data_flood": empty_data_flood,
     "window_update_flood": window_update_flood,
     "priority_flood": priority_flood, "closed_window": closed_window,
     "unfinished_block": unfinished_block}[case](port)


if __name__ == "__main__":
    main()
