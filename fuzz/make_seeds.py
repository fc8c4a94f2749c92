#!/usr/bin/env python3
"""Write the checked-in seed corpus: fuzz/corpus/{head,chunked,h2_frame,hpack,h2_session}/.

Run from anywhere: python3 fuzz/make_seeds.py. The files are small and
committed; this script only documents how they were made (the input layouts
are described at the top of each fuzz target).
"""
import os
import struct

HERE = os.path.dirname(os.path.abspath(__file__))

# head: byte 0 -> max_head = 1 + 32*b, byte 1 -> max_body = (b & 0x3f) << (16*(b >> 6)).
# "~~" = max_head 4033, max_body 62 << 16. b"\x02\x05" = max_head 65, max_body 5.
ROOMY = b"~~"
TIGHT = b"\x02\x05"

HEAD = {
    "get": ROOMY + b"GET / HTTP/1.1\r\nHost: a\r\n\r\n",
    "get-http10-keepalive": ROOMY + b"GET /x?y=1 HTTP/1.0\r\nConnection: keep-alive\r\n\r\n",
    "head-close": ROOMY + b"HEAD / HTTP/1.1\r\nHost: a\r\nConnection: close\r\n\r\n",
    "pipelined-pair": ROOMY
    + b"GET /1 HTTP/1.1\r\nHost: a\r\n\r\nGET /2 HTTP/1.1\r\nHost: a\r\n\r\n",
    "pipelined-same": ROOMY
    + b"GET / HTTP/1.1\r\nHost: a\r\n\r\nGET / HTTP/1.1\r\nHost: a\r\n\r\n",
    "post-content-length": ROOMY
    + b"POST /up HTTP/1.1\r\nHost: x\r\nContent-Length: 5\r\nExpect: 100-continue\r\n\r\nhelloGET ",
    "post-chunked": ROOMY
    + b"POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: gzip, chunked\r\n\r\n5;ext=1\r\nhello\r\n0\r\nT: v\r\n\r\n",
    "smuggle-te-and-cl": ROOMY
    + b"POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\nContent-Length: 4\r\n\r\n0\r\n\r\n",
    "smuggle-two-cl": ROOMY
    + b"POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 5\r\nContent-Length: 6\r\n\r\n",
    "smuggle-te-chunked-twice": ROOMY
    + b"POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\nTransfer-Encoding: chunked\r\n\r\n",
    "smuggle-te-not-last": ROOMY
    + b"POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked, identity\r\n\r\n",
    "obs-fold": ROOMY + b"GET / HTTP/1.1\r\nHost: a\r\nX-Folded: one\r\n two\r\n\r\n",
    "bare-lf": ROOMY + b"\nGET / HTTP/1.1\nHost: a\nContent-Length: 3\n\nabc",
    "leading-empty-lines": ROOMY + b"\r\n\r\nGET / HTTP/1.1\r\nHost: a\r\n\r\n",
    "http-1-7": ROOMY + b"GET / HTTP/1.7\r\nHost: a\r\n\r\n",
    "http-2-0": ROOMY + b"GET / HTTP/2.0\r\nHost: a\r\n\r\n",
    "space-before-colon": ROOMY + b"GET / HTTP/1.1\r\nHost : a\r\n\r\n",
    "over-limits": TIGHT
    + b"POST /a/rather/long/target HTTP/1.1\r\nHost: a\r\nContent-Length: 6\r\n\r\n",
    "absolute-form": ROOMY + b"GET http://a:80/p?q#f HTTP/1.1\r\nHost: a:80\r\n\r\n",
}


def chunked(body, max_head=64, mantissa=100, shift=0, framing=0, length=0, splits=b""):
    """The chunked target's layout (see fuzz_targets/chunked.rs)."""
    header = struct.pack("<HHBBIB", max_head, mantissa, shift, framing, length, len(splits))
    return header + splits + body


CHUNKED = {
    "simple": chunked(b"5\r\nhello\r\n0\r\n\r\n"),
    "split-everywhere": chunked(b"5\r\nhello\r\n6\r\n world\r\n0\r\n\r\n", splits=bytes([1, 2, 3, 5, 0, 7, 1])),
    "extensions-and-trailers": chunked(
        b"5;name=value;q=\"a;b\"\r\nhello\r\n0;last\r\nTrailer-A: 1\r\nB: two\r\n\r\nGET / ",
        splits=bytes([4, 9, 9]),
    ),
    "size-whitespace-then-ext": chunked(b"a \t;x\r\n0123456789\r\n0\r\n\r\n"),
    "hex-uppercase-leading-zeros": chunked(b"000000000000000A\r\n0123456789\r\n00\r\n\r\n"),
    "seventeen-digits": chunked(b"00000000000000001\r\nx\r\n0\r\n\r\n"),
    "bare-lf": chunked(b"5\nhello\n0\n\n"),
    "missing-crlf-after-data": chunked(b"5\r\nhelloX0\r\n\r\n"),
    "over-max-body": chunked(b"ffffffff\r\n", mantissa=100),
    "trailer-over-max-head": chunked(b"0\r\nA: " + b"v" * 40 + b"\r\n\r\n", max_head=16),
    "smuggled-request-after-zero": chunked(b"0\r\n\r\nPOST /admin HTTP/1.1\r\nHost: a\r\n\r\n"),
    "content-length": chunked(b"helloGET / HTTP/1.1\r\n", framing=255, length=5, splits=bytes([2, 2])),
    "content-length-over-limit": chunked(b"hello", mantissa=3, framing=255, length=5),
}

# --- HTTP/2 ---------------------------------------------------------------
# Client byte streams come from the Python `h2` library (pip install h2), so
# the seeds are what a real client sends; without it the h2 seeds are skipped.

SETTINGS_ACK = bytes.fromhex("000000040100000000")


def h2_client(script):
    """Bytes a real HTTP/2 client sends for `script(conn)`."""
    import h2.config
    import h2.connection

    conn = h2.connection.H2Connection(h2.config.H2Configuration(client_side=True, header_encoding="utf-8"))
    conn.initiate_connection()
    script(conn)
    return conn.data_to_send()


GET = [(":method", "GET"), (":scheme", "http"), (":path", "/"), (":authority", "a")]


def get_one(conn):
    conn.send_headers(1, GET, end_stream=True)


def post_with_trailers(conn):
    conn.send_headers(1, [(":method", "POST"), (":scheme", "http"), (":path", "/up"), (":authority", "a"), ("content-length", "5")])
    conn.send_data(1, b"hel")
    conn.send_data(1, b"lo")
    conn.send_headers(1, [("x-checksum", "1")], end_stream=True)


def many_streams(conn):
    for i in range(8):
        conn.send_headers(2 * i + 1, GET + [("x-n", str(i)), ("cookie", "a=" + "b" * 40)], end_stream=True)
    conn.ping(b"12345678")
    conn.increment_flow_control_window(1 << 20)


def reset_streams(conn):
    for i in range(6):
        conn.send_headers(2 * i + 1, GET)
        conn.reset_stream(2 * i + 1)


def big_headers(conn):
    conn.update_settings({4: 1 << 20, 5: 1 << 14, 1: 0})
    conn.send_headers(1, GET + [("x-big", "v" * 20000)], end_stream=True)


def ops(stream, chunk=0xEF):
    """The h2_session layout: pieces of at most `chunk` bytes."""
    out = bytearray()
    for i in range(0, len(stream), chunk):
        piece = stream[i : i + chunk]
        out.append(len(piece))
        out += piece
    return bytes(out)


def h2_seeds():
    try:
        clients = {
            "get": h2_client(get_one),
            "post-trailers": h2_client(post_with_trailers),
            "many-streams": h2_client(many_streams),
            "reset-streams": h2_client(reset_streams),
            "big-headers": h2_client(big_headers),
        }
    except ImportError:
        print("no Python h2 library: h2 seeds skipped (pip install h2)")
        return {}, {}, {}
    session = {}
    for name, stream in clients.items():
        session[name] = b"\x00" + ops(stream + SETTINGS_ACK)
        session[name + "-small-limits"] = b"\x02" + ops(stream + SETTINGS_ACK, 7)
    session["get-then-idle"] = b"\x00" + ops(clients["get"]) + b"\xf0\xff\xf2\xf0\xff\xf2"
    session["get-stalled-then-drain"] = b"\x00\xf1\x03" + ops(clients["many-streams"]) + b"\xf4\xf3"
    # Faults (setup bit 2): streams held, then the clock moves past their delays.
    later = b"\xf0\x01\xf2\xf0\x02\xf2"
    session["many-streams-held"] = b"\x04" + ops(clients["many-streams"] + SETTINGS_ACK) + later
    session["reset-streams-held"] = b"\x04" + ops(clients["reset-streams"] + SETTINGS_ACK) + later
    session["held-then-drain"] = b"\x04" + ops(clients["many-streams"]) + b"\xf4" + later
    frames = {}
    for name, stream in clients.items():
        rest = stream[24:]
        n = 0
        while len(rest) >= 9:
            length = int.from_bytes(rest[:3], "big")
            frames[f"{name}-{n}"] = b"\x00" + rest[: 9 + length]
            rest = rest[9 + length :]
            n += 1
    hpack = {}
    c3 = ["828684410f7777772e6578616d706c652e636f6d", "828684be58086e6f2d6361636865",
          "828785bf400a637573746f6d2d6b65790c637573746f6d2d76616c7565"]
    c4 = ["828684418cf1e3c2e5f23a6ba0ab90f4ff", "828684be5886a8eb10649cbf",
          "828785bf408825a849e95ba97d7f8925a849e95bb8e8b4bf"]
    c6 = ["488264025885aec3771a4b6196d07abe941054d444a8200595040b8166e082a62d1bff6e919d29ad171863c78f0b97c8e9ae82ae43d3",
          "4883640effc1c0bf"]
    for name, blocks, limit in (("rfc7541-c3", c3, 4096), ("rfc7541-c4", c4, 4096), ("rfc7541-c6", c6, 256)):
        data = struct.pack("<HH", limit, 0xFFFF)
        for block in blocks:
            raw = bytes.fromhex(block)
            data += bytes([len(raw)]) + raw
        hpack[name] = data
    hpack["size-update-then-bomb"] = struct.pack("<HH", 4096, 300) + bytes([8]) + bytes.fromhex("3fe11f40017883787878") + bytes([40]) + b"\xbe" * 40
    hpack["hpack-rs-11"] = struct.pack("<HH", 4096, 4096) + b"\x01\x3f"
    return frames, hpack, session


H2_FRAME, HPACK, H2_SESSION = h2_seeds()

for target, seeds in (("head", HEAD), ("chunked", CHUNKED), ("h2_frame", H2_FRAME), ("hpack", HPACK), ("h2_session", H2_SESSION)):
    folder = os.path.join(HERE, "corpus", target)
    os.makedirs(folder, exist_ok=True)
    for name, data in seeds.items():
        with open(os.path.join(folder, name), "wb") as f:
            f.write(data)
    print(f"{folder}: {len(seeds)} seeds")
