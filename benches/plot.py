#!/usr/bin/env python3
"""Plot a benches/compare.sh results folder as two SVG files, with no dependencies.

Usage:
    python3 benches/plot.py benches/results/<date>-<commit> [OUT_DIR]
    python3 benches/plot.py --cpu-only OUT.svg FOLDER [FOLDER ...]

OUT_DIR defaults to docs/. It writes:

- bench-latency.svg: latency percentile curves (p0 ... p99.99 and the max) per
  server, from the hello-load JSON files of the hl-open and hl-closed loads, all
  rounds of a server pooled (their histograms added up). x: the percentile on a
  "nines" scale (50, 90, 99, 99.9, ...); y: latency, log scale.
- bench-cpu.svg: server CPU time per request for each load (results.tsv), one bar
  per server: the median over rounds, with a line from the lowest to the highest.

--cpu-only writes that CPU plot alone, from the results.tsv of one or more folders
(runs without hello-load loads: HTTPS, HTTP/2), to OUT.svg; LOADS="a b ..." keeps
those loads only (one bar scale for all: leave out loads 100 times costlier).

To look at them as PNG: chromium --headless --screenshot=out.png --window-size=900,1000 file.svg
(or `convert file.svg file.png`).
"""

import collections
import glob
import html
import json
import math
import os
import sys

COLORS = {"hello-reactor": "#d62728", "nginx": "#1f77b4", "floor": "#7f7f7f", "floor-hello": "#2ca02c",
          "h2o": "#9467bd"}
LOAD_NAMES = {
    "ka100": "wrk keep-alive, 100 conns",
    "ka10k": "wrk keep-alive, 10,000 conns",
    "pipe16": "wrk pipelined ×16, 256 conns",
    "close": "wrk Connection: close, 50 conns",
    "hl-closed": "hello-load closed loop, 100 conns",
    "hl-open": "hello-load open loop, {rate} req/s, 100 conns",
    "tls-ka100": "HTTPS keep-alive, 100 conns",
    "tls-close": "HTTPS, a handshake per request",
    "tls-ka100-w2": "HTTPS keep-alive, --workers 2",
    "h2c-m100": "h2c, h2load -c100 -m100",
    "h2c-m1": "h2c, h2load -c100 -m1",
    "tls-h2-m100": "h2 over TLS, h2load -c100 -m100",
}
FONT = 'font-family="DejaVu Sans, Helvetica, Arial, sans-serif"'


def median(values):
    s = sorted(values)
    n = len(s)
    return s[n // 2] if n % 2 else (s[n // 2 - 1] + s[n // 2]) / 2


def text(x, y, s, size=12, anchor="start", weight="normal", color="#222"):
    return '<text x="%.1f" y="%.1f" font-size="%d" text-anchor="%s" font-weight="%s" fill="%s" %s>%s</text>' % (
        x, y, size, anchor, weight, color, FONT, html.escape(s))


def fmt_us(v):
    if v >= 1e6:
        return "%g s" % (v / 1e6)
    if v >= 1e3:
        return "%g ms" % (v / 1e3)
    return "%g µs" % v


def pooled_histograms(folder, load):
    """server -> (sorted [(upper_us, count)], rounds, total requests)"""
    out = {}
    for path in sorted(glob.glob(os.path.join(folder, "%s-*-r*.json" % load))):
        server = os.path.basename(path)[len(load) + 1:].rsplit("-r", 1)[0]
        with open(path) as f:
            d = json.load(f)
        counts, rounds, total = out.get(server, (collections.Counter(), 0, 0))
        for upper, count in d["histogram"]:
            counts[upper] += count
        out[server] = (counts, rounds + 1, total + d["requests"])
    return {s: (sorted(c.items()), r, t) for s, (c, r, t) in out.items()}


def percentile_curve(buckets, total):
    """[(nines, latency_us)]: the latency below which a fraction q of requests fell,
    for q = 1 - 10^-nines, at each bucket boundary."""
    points, seen = [], 0
    for upper, count in buckets:
        seen += count
        q = seen / total
        nines = 6.0 if q >= 1 else -math.log10(1 - q)
        points.append((nines, upper))
    return points


def latency_panel(folder, load, title, x0, y0, w, h):
    hist = pooled_histograms(folder, load)
    parts = [text(x0, y0 - 12, title, 14, weight="bold")]
    if not hist:
        return parts + [text(x0 + 10, y0 + 20, "no %s runs in this folder" % load)]
    lo = min(b[0][0] for b, _, _ in hist.values())
    hi = max(b[-1][0] for b, _, _ in hist.values())
    ylo, yhi = 10 ** math.floor(math.log10(max(lo, 1))), 10 ** math.ceil(math.log10(hi))
    max_nines = 5.0  # p99.999; the max is drawn at the right edge

    def px(nines):
        return x0 + min(nines, max_nines + 0.5) / (max_nines + 0.5) * w

    def py(us):
        return y0 + h - (math.log10(max(us, ylo)) - math.log10(ylo)) / (math.log10(yhi) - math.log10(ylo)) * h

    parts.append('<rect x="%d" y="%d" width="%d" height="%d" fill="none" stroke="#999"/>' % (x0, y0, w, h))
    decade = ylo
    while decade <= yhi:
        y = py(decade)
        parts.append('<line x1="%d" x2="%d" y1="%.1f" y2="%.1f" stroke="#ddd"/>' % (x0, x0 + w, y, y))
        parts.append(text(x0 - 6, y + 4, fmt_us(decade), 11, "end"))
        decade *= 10
    for nines, label in [(0.301, "p50"), (1, "p90"), (2, "p99"), (3, "p99.9"), (4, "p99.99"), (5, "p99.999"), (5.5, "max")]:
        x = px(nines)
        parts.append('<line x1="%.1f" x2="%.1f" y1="%d" y2="%d" stroke="#ddd"/>' % (x, x, y0, y0 + h))
        parts.append(text(x, y0 + h + 16, label, 11, "middle"))
    legend_y = y0 + 16
    for server in ["hello-reactor", "nginx", "floor", "floor-hello"]:
        if server not in hist:
            continue
        buckets, rounds, total = hist[server]
        curve = percentile_curve(buckets, total)
        pts = [(px(n), py(v)) for n, v in curve if n <= max_nines]
        pts.append((px(5.5), py(buckets[-1][0])))
        color = COLORS.get(server, "#000")
        parts.append('<polyline fill="none" stroke="%s" stroke-width="2" points="%s"/>' % (
            color, " ".join("%.1f,%.1f" % p for p in pts)))
        lx = x0 + w + 16
        parts.append('<line x1="%d" x2="%d" y1="%d" y2="%d" stroke="%s" stroke-width="3"/>' % (
            lx, lx + 20, legend_y - 4, legend_y - 4, color))
        parts.append(text(lx + 26, legend_y, server, 12, weight="bold"))
        parts.append(text(lx + 26, legend_y + 15, "%d runs, %s requests" % (rounds, format(total, ",")), 11))
        legend_y += 40
    return parts


def latency_svg(folder, rate):
    w, h = 600, 300
    parts = ['<svg xmlns="http://www.w3.org/2000/svg" width="900" height="800" viewBox="0 0 900 800">',
             '<rect width="100%" height="100%" fill="white"/>',
             text(450, 28, "Latency percentiles under hello-load (server on CPU 0, hello-load on CPU 1)", 16, "middle", "bold")]
    parts += latency_panel(folder, "hl-open", "Open loop, %s req/s over 100 connections: latency from each request's intended send time" % rate, 80, 70, w, h)
    parts += latency_panel(folder, "hl-closed", "Closed loop, 100 connections (as fast as the server answers): latency from each write", 80, 450, w, h)
    parts.append("</svg>")
    return "\n".join(parts) + "\n"


def cpu_svg(folders, rate):
    rows = collections.defaultdict(list)  # (load, server) -> [µs/req]
    loads, servers = [], []
    only = os.environ.get("LOADS", "").split()
    for folder in folders:
        with open(os.path.join(folder, "results.tsv")) as f:
            for line in f:
                rnd, load, server, rps, cpu, errs, detail = line.rstrip("\n").split("\t")
                if cpu == "-" or float(cpu) < 0 or (only and load not in only):
                    continue
                rows[(load, server)].append(float(cpu))
                if load not in loads:
                    loads.append(load)
                if server not in servers:
                    servers.append(server)
    order = [s for s in ["hello-reactor", "nginx", "h2o", "floor", "floor-hello"] if s in servers]
    bar, gap, left, top, width = 16, 18, 300, 60, 520
    height = top + len(loads) * (len(order) * bar + gap) + 60
    hi = max(max(v) for v in rows.values())
    scale = width / hi
    parts = ['<svg xmlns="http://www.w3.org/2000/svg" width="900" height="%d" viewBox="0 0 900 %d">' % (height, height),
             '<rect width="100%" height="100%" fill="white"/>',
             text(450, 28, "Server CPU time per request (µs; bar: median over rounds, line: min–max)", 16, "middle", "bold")]
    y = top
    for load in loads:
        name = LOAD_NAMES.get(load, load).format(rate=rate)
        parts.append(text(left - 10, y + len(order) * bar / 2 + 4, name, 12, "end"))
        for server in order:
            vals = rows.get((load, server))
            if vals:
                m = median(vals)
                color = COLORS.get(server, "#000")
                parts.append('<rect x="%d" y="%.1f" width="%.1f" height="%d" fill="%s" opacity="0.85"/>' % (
                    left, y + 2, m * scale, bar - 4, color))
                parts.append('<line x1="%.1f" x2="%.1f" y1="%.1f" y2="%.1f" stroke="#222"/>' % (
                    left + min(vals) * scale, left + max(vals) * scale, y + bar / 2, y + bar / 2))
                parts.append(text(left + max(vals) * scale + 6, y + bar / 2 + 4, "%.2f" % m, 11))
            else:
                parts.append(text(left + 6, y + bar / 2 + 4, "%s: not run on this load" % server, 11, color="#777"))
            y += bar
        y += gap
    parts.append('<line x1="%d" x2="%d" y1="%d" y2="%d" stroke="#999"/>' % (left, left, top - 4, y - gap + 4))
    lx = left
    for server in order:
        parts.append('<rect x="%d" y="%d" width="14" height="10" fill="%s"/>' % (lx, y + 10, COLORS.get(server, "#000")))
        parts.append(text(lx + 20, y + 19, server, 12))
        lx += 150
    parts.append("</svg>")
    return "\n".join(parts) + "\n"


def main():
    if len(sys.argv) >= 4 and sys.argv[1] == "--cpu-only":
        with open(sys.argv[2], "w") as f:
            f.write(cpu_svg(sys.argv[3:], "?"))
        print("wrote", os.path.normpath(sys.argv[2]))
        return
    if len(sys.argv) not in (2, 3):
        sys.exit(__doc__)
    folder = sys.argv[1]
    out = sys.argv[2] if len(sys.argv) == 3 else os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "docs")
    rate = "?"
    env = os.path.join(folder, "env.txt")
    if os.path.exists(env):
        for word in open(env).read().split():
            if word.startswith("RATE="):
                rate = format(int(word[5:]), ",")
    for name, svg in [("bench-latency.svg", latency_svg(folder, rate)), ("bench-cpu.svg", cpu_svg([folder], rate))]:
        path = os.path.join(out, name)
        with open(path, "w") as f:
            f.write(svg)
        print("wrote", os.path.normpath(path))


if __name__ == "__main__":
    main()
