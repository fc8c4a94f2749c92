#!/usr/bin/env bash
# A/B two servers on one wrk load, alternated A B, B A, A B, ... so that a drift of the
# machine's speed during the run falls on both sides alike. For a target that needs
# more rounds than compare.sh's all-loads run can afford, or for one change measured
# against the code without it (the same binary with a flag off, or two builds).
#
# Method as in compare.sh (../shared/bench/README.md): each server pinned to CPU 0 and
# started fresh for each run, wrk -t1 pinned to CPU 1; CPU per request = (utime + stime
# of the server and its child processes over the wrk run, from /proc/PID/stat) /
# responses wrk counted.
#
# Usage: benches/ab.sh "A command" A_PORT "B command" B_PORT
#   The commands start a server in the foreground listening on 127.0.0.1:PORT.
# Environment:
#   ROUNDS=10      A/B pairs
#   DURATION=5     seconds per wrk run
#   CONNS=100      wrk connections
#   HEADER=""      one extra request header, e.g. "Connection: close"
#   PIPELINE=""    pipeline depth (uses ../shared/bench/pipeline.lua)
#   SCHEME=http    https for servers started with --tls-cert/--tls-key (wrk does not
#                  check the certificate)
#   H2LOAD=""      HTTP/2 instead of wrk: h2load -t1 -cCONNS -mH2LOAD -DDURATION
#                  (h2c by prior knowledge; with SCHEME=https, h2 by ALPN)
#   SHARED=../shared/bench
#
# Prints one line per round and then the medians of A/B (CPU/request and req/s).
# Example: the deferred accept on the close load, one binary, the flag on and off:
#   HEADER="Connection: close" CONNS=50 ROUNDS=8 benches/ab.sh \
#     "target/release/hello-reactor --bind 127.0.0.1:18895" 18895 \
#     "target/release/hello-reactor --bind 127.0.0.1:18896 --defer-accept 0" 18896
set -euo pipefail

cd "$(dirname "${BASH_SOURCE[0]}")/.."
[[ $# -eq 4 ]] || {
    sed -n '/^# Usage/,/^# Example/p' "${BASH_SOURCE[0]}" >&2
    exit 2
}
A_CMD=$1 A_PORT=$2 B_CMD=$3 B_PORT=$4
ROUNDS=${ROUNDS:-10}
DURATION=${DURATION:-5}
CONNS=${CONNS:-100}
HEADER=${HEADER:-}
PIPELINE=${PIPELINE:-}
SCHEME=${SCHEME:-http}
SHARED=${SHARED:-$PWD/../shared/bench}
CLIENT=wrk
[[ -n ${H2LOAD:-} ]] && CLIENT=h2load
for tool in $CLIENT taskset python3; do
    command -v "$tool" >/dev/null || {
        echo "ab.sh: $tool not found (apt-get install wrk util-linux python3)" >&2
        exit 1
    }
done
WRK_ARGS=(-t1 "-d${DURATION}s" "-c$CONNS")
[[ -n $HEADER ]] && WRK_ARGS+=(-H "$HEADER")
[[ -n $PIPELINE ]] && WRK_ARGS+=(-s "$SHARED/pipeline.lua")

# shellcheck source=benches/pinned.sh
source benches/pinned.sh
trap stop_pinned EXIT

# run CMD PORT -> prints "cpu_us_per_request requests_per_second error_lines"
run() {
    local cmd=$1 port=$2
    start_pinned "$cmd" "$port"
    local before after out
    before=$(cpu_ticks "$SERVER_PID")
    if [[ -n ${H2LOAD:-} ]]; then
        out=$(taskset -c 1 h2load -t1 "-c$CONNS" "-m$H2LOAD" "-D$DURATION" "$SCHEME://127.0.0.1:$port/" 2>&1)
    elif [[ -n $PIPELINE ]]; then
        out=$(taskset -c 1 wrk "${WRK_ARGS[@]}" "$SCHEME://127.0.0.1:$port/" -- "$PIPELINE" 2>&1)
    else
        out=$(taskset -c 1 wrk "${WRK_ARGS[@]}" "$SCHEME://127.0.0.1:$port/" 2>&1)
    fi
    after=$(cpu_ticks "$SERVER_PID")
    stop_pinned
    sleep 0.3
    python3 - "$before" "$after" "$DURATION" "$out" <<'EOF'
import os, re, sys
before, after, duration, out = int(sys.argv[1]), int(sys.argv[2]), float(sys.argv[3]), sys.argv[4]
m = re.search(r"^\s*(\d+) requests in", out, re.M)  # wrk
h2 = re.search(r"^requests: .* (\d+) succeeded, (\d+) failed, (\d+) errored", out, re.M)
if h2:
    m = h2
if not m or int(m.group(1)) == 0:
    sys.exit("ab.sh: the client counted no responses:\n" + out)
responses = int(m.group(1))
tick = os.sysconf("SC_CLK_TCK")
errors = len(re.findall(r"Socket errors|Non-2xx", out))
if h2:
    errors = int(h2.group(2) != "0") + int(h2.group(3) != "0")
print("%.3f %.0f %d" % ((after - before) / tick * 1e6 / responses, responses / duration, errors))
EOF
}

results=()
for ((round = 1; round <= ROUNDS; round++)); do
    if ((round % 2)); then
        a=$(run "$A_CMD" "$A_PORT")
        b=$(run "$B_CMD" "$B_PORT")
    else
        b=$(run "$B_CMD" "$B_PORT")
        a=$(run "$A_CMD" "$A_PORT")
    fi
    read -r a_cpu a_rps a_err <<<"$a"
    read -r b_cpu b_rps b_err <<<"$b"
    line=$(python3 -c "print('round %2d  A %6.3f us/req %8.0f req/s | B %6.3f us/req %8.0f req/s | A/B cpu %.3f req/s %.3f | error lines %s/%s' % ($round, $a_cpu, $a_rps, $b_cpu, $b_rps, $a_cpu / $b_cpu, $a_rps / $b_rps, $a_err, $b_err))")
    echo "$line"
    results+=("$a_cpu $b_cpu $a_rps $b_rps")
done
printf '%s\n' "${results[@]}" | python3 -c '
import statistics, sys
rows = [list(map(float, l.split())) for l in sys.stdin if l.strip()]
cpu = [a / b for a, b, _, _ in rows]
rps = [a / b for _, _, a, b in rows]
print("A/B CPU/request: median %.3f (%.3f-%.3f), A cheaper in %d of %d rounds" % (
    statistics.median(cpu), min(cpu), max(cpu), sum(c < 1 for c in cpu), len(cpu)))
print("A/B req/s:       median %.3f (%.3f-%.3f)" % (statistics.median(rps), min(rps), max(rps)))'
