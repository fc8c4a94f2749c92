"""Hold N idle HTTPS connections: connect (at most 256 at once), finish the TLS
handshake, send one request, read its whole response, then keep them all open
and print `READY held failed first_error`. For the idle-memory load of
benches/compare.sh (tls-idle) and docs/tls.md.

Usage: python3 benches/idle_tls.py HOST PORT N [SECONDS_TO_HOLD]
"""
import asyncio, resource, ssl, sys

host, port, n = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])
hold = float(sys.argv[4]) if len(sys.argv) > 4 else 300
soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
if soft < n + 64:
    resource.setrlimit(resource.RLIMIT_NOFILE, (min(n + 64, hard), hard))
REQ = b"GET / HTTP/1.1\r\nHost: localhost\r\n\r\n"
ctx = ssl.create_default_context()
ctx.check_hostname = False
ctx.verify_mode = ssl.CERT_NONE  # a benchmark: the server's test certificate
held, errors = [], []


async def one(gate):
    async with gate:
        try:
            reader, writer = await asyncio.wait_for(
                asyncio.open_connection(host, port, ssl=ctx, server_hostname="localhost"), 30)
            writer.write(REQ)
            head = await asyncio.wait_for(reader.readuntil(b"\r\n\r\n"), 30)
            length = 0
            for line in head.split(b"\r\n"):
                name, _, value = line.partition(b":")
                if name.strip().lower() == b"content-length":
                    length = int(value)
            await asyncio.wait_for(reader.readexactly(length), 30)
            held.append(writer)
        except Exception as e:  # counted, and the first one reported
            errors.append(repr(e).replace(" ", "_"))


async def main():
    gate = asyncio.Semaphore(256)
    await asyncio.wait_for(asyncio.gather(*(one(gate) for _ in range(n))), 300)
    print("READY %d %d %s" % (len(held), len(errors), errors[0] if errors else "-"), flush=True)
    await asyncio.sleep(hold)


asyncio.run(main())
