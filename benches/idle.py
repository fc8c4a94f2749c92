"""Idle cleartext connections for benches/compare.sh's idle loads (idle, h2-idle).

Opens N connections (at most 512 connecting at once), sends one request on each
and reads its whole answer, then holds them all open and prints
`READY held failed first_error`. HTTP/1.1 by default; with --h2, HTTP/2 by prior
knowledge: the preface, an empty SETTINGS, the ack of the server's and one GET,
read until the answer's END_STREAM. Frames are written by hand (HPACK
static-table indices only): no library is needed and each connection costs the
client a few hundred bytes. (The TLS idle client is benches/idle_tls.py.)

Usage: python3 idle.py HOST PORT N [--h2]
"""

import errno
import resource
import selectors
import socket
import sys
import time

host, port, n = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])
h2 = "--h2" in sys.argv[4:]
soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
if soft < n + 64:
    want = n + 64 if hard == resource.RLIM_INFINITY else min(n + 64, hard)
    resource.setrlimit(resource.RLIMIT_NOFILE, (want, hard))

REQ = b"GET / HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n"
PREFACE = b"PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n"
SETTINGS = b"\x00\x00\x00\x04\x00\x00\x00\x00\x00"
SETTINGS_ACK = b"\x00\x00\x00\x04\x01\x00\x00\x00\x00"
# :method GET (2), :scheme http (6), :path / (4), :authority (1) "127.0.0.1"
BLOCK = b"\x82\x86\x84\x41\x09127.0.0.1"
HEADERS = len(BLOCK).to_bytes(3, "big") + b"\x01\x05\x00\x00\x00\x01" + BLOCK
# Under 100 bytes either way: one send into an empty send buffer takes all of it.
HELLO = PREFACE + SETTINGS + SETTINGS_ACK + HEADERS if h2 else REQ


def answered_http1(buf):
    """Whether `buf` holds a whole HTTP/1.1 answer (head and Content-Length body)."""
    end = buf.find(b"\r\n\r\n")
    if end < 0:
        return False
    length = 0
    for line in buf[:end].split(b"\r\n")[1:]:
        name, _, value = line.partition(b":")
        if name.strip().lower() == b"content-length":
            length = int(value.strip())
    return len(buf) >= end + 4 + length


def answered_h2(buf):
    """Whether the frames in `buf` include DATA (or HEADERS) with END_STREAM on
    stream 1."""
    pos = 0
    while pos + 9 <= len(buf):
        length = int.from_bytes(buf[pos:pos + 3], "big")
        kind, flags = buf[pos + 3], buf[pos + 4]
        stream = int.from_bytes(buf[pos + 5:pos + 9], "big") & 0x7FFFFFFF
        if stream == 1 and kind in (0, 1) and flags & 1:
            return True
        pos += 9 + length
    return False


answered = answered_h2 if h2 else answered_http1
sel = selectors.DefaultSelector()
held, failed, started, busy = [], 0, 0, 0
first_error = None
deadline = time.monotonic() + 120


def fail(s, why):
    global failed, busy, first_error
    failed += 1
    busy -= 1
    first_error = first_error or why
    try:
        sel.unregister(s)
    except (KeyError, ValueError):
        pass
    s.close()


def step(s, events, buf):
    global busy
    if events == selectors.EVENT_WRITE:
        err = s.getsockopt(socket.SOL_SOCKET, socket.SO_ERROR)
        if err:
            return fail(s, "connect: " + errno.errorcode.get(err, str(err)))
        try:
            s.send(HELLO)
        except OSError as e:
            return fail(s, "send: %s" % e)
        sel.modify(s, selectors.EVENT_READ, buf)
        return
    try:
        chunk = s.recv(65536)
    except BlockingIOError:
        return
    except OSError as e:
        return fail(s, "recv: %s" % e)
    if not chunk:
        return fail(s, "closed by server")
    buf += chunk
    if answered(buf):
        sel.unregister(s)
        held.append(s)
        busy -= 1


while (started < n or busy) and time.monotonic() < deadline:
    while started < n and busy < 512:
        started += 1
        s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        s.setblocking(False)
        err = s.connect_ex((host, port))
        busy += 1
        if err not in (0, errno.EINPROGRESS):
            fail(s, "connect: " + errno.errorcode.get(err, str(err)))
            continue
        sel.register(s, selectors.EVENT_WRITE, bytearray())
    for key, events in sel.select(timeout=0.5):
        step(key.fileobj, key.events, key.data)
for key in list(sel.get_map().values()):
    fail(key.fileobj, "timed out")
print("READY %d %d %s" % (len(held), failed, (first_error or "-").replace(" ", "_")), flush=True)
time.sleep(300)  # bounded: the script kills us long before
