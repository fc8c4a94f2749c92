#!/usr/bin/env bash
# How precisely --delay holds answers: 10,000 connections, one request each, every
# answer held --delay by the server's precise timer queue (src/reactor/timers.rs).
# Target: p99 <= delay + 10 ms, max <= delay + 50 ms.
#
# hello-load runs open loop (--rate) and times each request from its *intended* send
# time, so a late answer cannot hide; --connect-first opens all 10,000 connections
# before the first request falls due, so what is measured is the server's hold,
# not the client's connects. Two shapes:
#   steady: RATE requests/s for 10000/RATE s (a few hundred held at any moment)
#   burst:  all 10,000 due within BURST_S s (thousands held at once; hello-load
#           waits for answers at most as long as the run, so BURST_S > the delay)
# A control run of each shape without --delay shows the client's own latency on this
# machine, and each run prints how many requests the client itself sent late.
#
# Usage: benches/delay.sh            (needs `ulimit -n` of 20000: it raises it)
# Environment: DELAY=0.1  RATE=5000  BURST_S=0.25  PORT=18897  OUT=target/delay
set -euo pipefail

cd "$(dirname "${BASH_SOURCE[0]}")/.."
# shellcheck source=pinned.sh
source benches/pinned.sh

DELAY=${DELAY:-0.1}
RATE=${RATE:-5000}
BURST_S=${BURST_S:-0.25}
PORT=${PORT:-18897}
OUT=${OUT:-target/delay}
CONNS=10000
ulimit -n 20000
mkdir -p "$OUT"
trap stop_pinned EXIT

run() { # run NAME SERVER_FLAGS RATE DURATION
    local name=$1 flags=$2 rate=$3 duration=$4
    start_pinned "target/release/hello-reactor --bind 127.0.0.1:$PORT $flags" "$PORT"
    taskset -c 1 target/release/hello-load "http://127.0.0.1:$PORT/" -q \
        --connections "$CONNS" --rate "$rate" --duration "$duration" --connect-first \
        --json "$OUT/$name.json" >"$OUT/$name.txt" || true
    stop_pinned
    python3 - "$name" "$OUT/$name.json" <<'PY'
import json, sys
name, path = sys.argv[1], sys.argv[2]
r = json.load(open(path))
ms = {k: v / 1000 for k, v in r["latency_us"].items()}
errors = sum(r["errors"].values()) if r["errors"] else 0
print(f"{name:<14} {r['requests']:>6} answered, {errors} errors   "
      f"p50 {ms['p50']:7.2f} ms  p99 {ms['p99']:7.2f} ms  max {ms['max']:7.2f} ms")
PY
    # The client's own lag: requests it could not send on time count in the latency.
    sed -nE 's/.*; ([0-9]+ of [0-9]+ due requests sent late.*\)),.*/               client: \1/p' "$OUT/$name.txt"
}

steady=$(python3 -c "print($CONNS / $RATE)")
burst_rate=$(python3 -c "print(int($CONNS / $BURST_S))")
echo "10000 connections, one request each; --delay $DELAY (hello-load --rate, --connect-first)"
run control "" "$RATE" "$steady"
run steady "--delay $DELAY" "$RATE" "$steady"
run control-burst "" "$burst_rate" "$BURST_S"
run burst "--delay $DELAY" "$burst_rate" "$BURST_S"
