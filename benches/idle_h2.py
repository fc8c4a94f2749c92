"""Idle HTTP/2 connections for benches/compare.sh's h2-idle load.

Opens N cleartext connections (prior knowledge; at most 512 connecting at
once), on each sends the preface, an empty SETTINGS, the ack of the server's
and one GET, reads until the answer's END_STREAM, then holds them all open and
prints `READY held failed first_error`, as the HTTP/1.1 idle client does.
Frames are written by hand (HPACK static-table indices only): no library is
needed and each connection costs the client a few hundred bytes.

Usage: python3 idle_h2.py HOST PORT N
"""

import errno
import resource
import selectors
import socket
import sys
import time

host, port, n = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])
soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
if soft < n + 64:
    want = n + 64 if hard == resource.RLIM_INFINITY else min(n + 64, hard)
    resource.setrlimit(resource.RLIMIT_NOFILE, (want, hard))

PREFACE = b"PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n"
SETTINGS = b"\x00\x00\x00\x04\x00\x00\x00\x00\x00"
SETTINGS_ACK = b"\x00\x00\x00\x04\x01\x00\x00\x00\x00"
# :method GET (2), :scheme http (6), :path / (4), :authority (1) "127.0.0.1"
BLOCK = b"\x82\x86\x84\x41\x09127.0.0.1"
HEADERS = len(BLOCK).to_bytes(3, "big") + b"\x01\x05\x00\x00\x00\x01" + BLOCK
HELLO = PREFACE + SETTINGS + SETTINGS_ACK + HEADERS


def answered(buf):
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
            s.send(HELLO)  # under 100 bytes into an empty send buffer: all of it
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
