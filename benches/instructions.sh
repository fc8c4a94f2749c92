#!/usr/bin/env bash
# The server's user-space instructions per request, counted by callgrind: repeatable
# to about 0.01 % whatever else the machine is doing, so a change of a few
# instructions per request shows, where CPU-time A/Bs (benches/ab.sh) need dozens of
# rounds to resolve 1 %. Kernel time is not counted: compare like with like.
#
# Method: 100 connections (benches/rounds.py), rounds sent while the server is
# stopped; a short run and a long run, and their difference divided by the extra
# requests, so start-up and shutdown cancel out. Pipelined x16 (10 and 60 rounds) and
# keep-alive, one request per connection per round (50 and 300 rounds).
#
# The binary must be built with `--features callgrind` (the clock read through the
# standard library: rustix's vDSO lookup crashes under valgrind).
#
# Usage: benches/instructions.sh [BINARY]   (default: builds this tree into
#        target/callgrind/release/hello-reactor)
# Prints: "pipelined x16: N Ir/req, keep-alive: M Ir/req"; callgrind's files stay
# in $OUT (default /tmp/instructions) for callgrind_annotate.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
command -v valgrind >/dev/null || { echo "instructions.sh: valgrind not found (apt-get install valgrind)" >&2; exit 1; }
BIN=${1:-}
if [[ -z $BIN ]]; then
    CARGO_TARGET_DIR=target/callgrind cargo build -q --release --features callgrind
    BIN=target/callgrind/release/hello-reactor
fi
OUT=${OUT:-/tmp/instructions}
mkdir -p "$OUT"

count() { # NAME PORT ROUNDS DEPTH -> total instructions of one run
    local name=$1 port=$2 rounds=$3 depth=$4 pid
    valgrind --tool=callgrind --callgrind-out-file="$OUT/callgrind.out.$name" \
        "$BIN" --bind "127.0.0.1:$port" >"$OUT/$name.log" 2>&1 &
    pid=$!
    for _ in $(seq 100); do
        (exec 3<>"/dev/tcp/127.0.0.1/$port") 2>/dev/null && break
        sleep 0.2
    done
    python3 benches/rounds.py "$port" "$pid" 100 "$rounds" "$depth"
    kill -TERM "$pid"
    wait "$pid" || true
    awk '/^summary:/ { print $2 }' "$OUT/callgrind.out.$name"
}

p10=$(count p10 19401 10 16)
p60=$(count p60 19402 60 16)
k50=$(count k50 19403 50 1)
k300=$(count k300 19404 300 1)
python3 -c "print('pipelined x16: %.1f Ir/req, keep-alive: %.1f Ir/req' % (($p60 - $p10) / (50 * 100 * 16), ($k300 - $k50) / (250 * 100)))"
