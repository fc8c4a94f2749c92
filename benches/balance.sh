#!/usr/bin/env bash
# Balance across workers: does every worker get its share of a keep-alive load?
#
# For each listener mode and connection count: hello-reactor --workers W on CPU 0
# (taskset), wrk -t1 on CPU 1 for DURATION seconds, then SIGTERM; the server's
# `requests per worker` debug line gives each worker's requests. Prints them and the
# busiest worker's requests over the mean (1.00 is perfect; a worker with nothing
# gives W.00).
#
# Usage: benches/balance.sh
# Environment:
#   W=2  DURATION=5  ROUNDS=3  CONNS="100 1000"  MODES="per-worker shared"
#   BIN=target/release/hello-reactor
set -euo pipefail

cd "$(dirname "${BASH_SOURCE[0]}")/.."
W=${W:-2}
DURATION=${DURATION:-5}
ROUNDS=${ROUNDS:-3}
CONNS=${CONNS:-100 1000}
MODES=${MODES:-per-worker shared}
BIN=${BIN:-target/release/hello-reactor}
PORT=18941
LOG=$(mktemp)
# shellcheck source=benches/pinned.sh
source benches/pinned.sh
trap 'stop_pinned; rm -f "$LOG"' EXIT

for mode in $MODES; do
    for conns in $CONNS; do
        for ((round = 1; round <= ROUNDS; round++)); do
            RUST_LOG=info,hello_reactor::process=debug taskset -c 0 "$BIN" \
                --bind "127.0.0.1:$PORT" --workers "$W" --listener "$mode" >/dev/null 2>"$LOG" &
            SERVER_PID=$!
            wait_port "$PORT"
            out=$(taskset -c 1 wrk -t1 "-c$conns" "-d${DURATION}s" "http://127.0.0.1:$PORT/" 2>&1)
            stop_pinned # SIGTERM: the server drains and logs the shares
            sleep 0.3
            python3 - "$mode" "$conns" "$round" "$out" "$LOG" <<'PY'
import re, sys
mode, conns, round_, out, log = sys.argv[1:]
line = [l for l in open(log) if "requests per worker: " in l]
if not line:
    sys.exit("balance.sh: no per-worker line (W=1?) in " + open(log).read())
shares = [int(x.split()[1]) for x in line[0].split("requests per worker: ")[1].split(", ")]
rps = re.search(r"Requests/sec:\s*([\d.]+)", out)
print("%-10s %5s conns  round %s  %s  busiest/mean %.3f  %s req/s" % (
    mode, conns, round_, shares, max(shares) / (sum(shares) / len(shares)),
    rps.group(1) if rps else "?"))
PY
        done
    done
done
