"""Rounds of requests for benches/instructions.sh: CONNS keep-alive connections;
each round, with the server stopped (SIGSTOP), every connection sends DEPTH
pipelined requests in one write; then the server is resumed and every answer
read. Stopping the server while a round is sent makes every wake-up find all
the connections ready, so the server's instruction count repeats from run to
run (to about 0.01 %).

Usage: python3 rounds.py PORT SERVER_PID CONNS ROUNDS DEPTH
"""

import os
import selectors
import signal
import socket
import sys
import time

port, pid, conns, rounds, depth = map(int, sys.argv[1:6])
REQ = b"GET / HTTP/1.1\r\nHost: x\r\n\r\n"


def answer_len():
    """The length of one answer, from one request."""
    s = socket.create_connection(("127.0.0.1", port))
    s.sendall(REQ)
    buf = b""
    while b"\r\n\r\n" not in buf:
        buf += s.recv(65536)
    head = buf.split(b"\r\n\r\n")[0]
    length = next(int(line.split(b":")[1]) for line in head.split(b"\r\n")
                  if line.lower().startswith(b"content-length:"))
    s.close()
    return len(head) + 4 + length


expect = answer_len() * depth
socks = [socket.create_connection(("127.0.0.1", port)) for _ in range(conns)]
for s in socks:
    s.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
sel = selectors.DefaultSelector()
batch = REQ * depth
for _ in range(rounds):
    os.kill(pid, signal.SIGSTOP)
    time.sleep(0.002)
    got = {}
    for s in socks:
        s.sendall(batch)
        got[s] = 0
        sel.register(s, selectors.EVENT_READ)
    time.sleep(0.002)
    os.kill(pid, signal.SIGCONT)
    left = conns
    while left:
        for key, _ in sel.select(timeout=10):
            s = key.fileobj
            data = s.recv(1 << 20)
            if not data:
                sys.exit("closed by the server")
            got[s] += len(data)
            if got[s] >= expect:
                if got[s] != expect:
                    sys.exit("%d bytes, expected %d" % (got[s], expect))
                sel.unregister(s)
                left -= 1
for s in socks:
    s.close()
