#!/usr/bin/env python3
"""Write the checked-in seed corpus: fuzz/corpus/{head,chunked}/.

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

for target, seeds in (("head", HEAD), ("chunked", CHUNKED)):
    folder = os.path.join(HERE, "corpus", target)
    os.makedirs(folder, exist_ok=True)
    for name, data in seeds.items():
        with open(os.path.join(folder, name), "wb") as f:
            f.write(data)
    print(f"{folder}: {len(seeds)} seeds")
