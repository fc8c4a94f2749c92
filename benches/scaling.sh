#!/usr/bin/env bash
# Scaling with cores: hello-reactor with 1, 2, 4 ... workers against nginx with the
# same worker_processes, the server on the first W cores and wrk on the rest.
#
# For each worker count W: the server runs on CPUs 0..W-1 (taskset; hello-reactor
# with --workers W --pin-workers, nginx with worker_processes W and
# worker_cpu_affinity auto), wrk -t(N-W) on CPUs W..N-1, one keep-alive run of
# DURATION seconds. Prints req/s, server CPU per request (utime + stime of all the
# server's threads or processes over the run, over the responses wrk counted), and
# for hello-reactor the balance: the busiest worker's requests over the mean (from
# its `requests per worker` debug line at SIGTERM; 1.00 is perfect).
#
# Usage: benches/scaling.sh
# Environment:
#   WORKERS="1 2 4"   worker counts (default: 1, 2, 4 ... up to half the CPUs, so
#                     that wrk has at least as many cores as the server)
#   CONNS=100         wrk connections (try 1000 and 10000 too)
#   DURATION=10       seconds per run
#   ROUNDS=1          runs per worker count and server (medians printed)
#   SERVERS="hello nginx"
#   BIN=target/release/hello-reactor
#   LISTENER=per-worker   or shared (hello-reactor's --listener)
# Needs wrk, taskset, python3, and nginx for the nginx rows. A machine with 2 CPUs
# can only run W=1; measure scaling on 8 or more (see docs/workers.md).
# Example, a 16-core machine: WORKERS="1 2 4 8" CONNS=1000 ROUNDS=3 benches/scaling.sh
set -euo pipefail

cd "$(dirname "${BASH_SOURCE[0]}")/.."
CPUS=$(nproc)
if [[ -z ${WORKERS:-} ]]; then
    WORKERS=""
    for ((w = 1; w <= CPUS / 2 || w == 1; w *= 2)); do WORKERS+="$w "; done
fi
CONNS=${CONNS:-100}
DURATION=${DURATION:-10}
ROUNDS=${ROUNDS:-1}
SERVERS=${SERVERS:-hello nginx}
BIN=${BIN:-target/release/hello-reactor}
LISTENER=${LISTENER:-per-worker}
PORT=18931
for tool in wrk taskset python3; do
    command -v "$tool" >/dev/null || {
        echo "scaling.sh: $tool not found (apt-get install wrk util-linux python3)" >&2
        exit 1
    }
done
[[ -x $BIN ]] || {
    echo "scaling.sh: $BIN not found (cargo build --release)" >&2
    exit 1
}
WORK=$(mktemp -d)
# shellcheck source=benches/pinned.sh
source benches/pinned.sh
trap 'stop_pinned; rm -rf "$WORK"' EXIT

nginx_conf() { # W -> path of a config with W workers
    local conf="$WORK/nginx-$1.conf"
    sed -e "s/^worker_processes 1;/worker_processes $1;\nworker_cpu_affinity auto;/" \
        -e 's/^master_process off;/master_process on;/' \
        -e "s/18081/$PORT/" -e "s#/tmp/anchor-nginx#$WORK/nginx#g" \
        ../shared/bench/nginx.conf >"$conf"
    echo "$conf"
}

# run SERVER W -> "req_per_s cpu_us_per_request balance"
run() {
    local server=$1 w=$2 server_cpus wrk_cpus before after out log="$WORK/log"
    server_cpus="0-$((w - 1))"
    wrk_cpus="$w-$((CPUS - 1))"
    ((w < CPUS)) || wrk_cpus="0-$((CPUS - 1))" # no core left: share them all
    if [[ $server == hello ]]; then
        RUST_LOG=info,hello_reactor::process=debug taskset -c "$server_cpus" \
            "$BIN" --bind "127.0.0.1:$PORT" --workers "$w" --pin-workers \
            --listener "$LISTENER" >/dev/null 2>"$log" &
    else
        taskset -c "$server_cpus" nginx -c "$(nginx_conf "$w")" >/dev/null 2>&1 &
    fi
    SERVER_PID=$!
    wait_port "$PORT" 0.3
    before=$(cpu_ticks "$SERVER_PID")
    out=$(taskset -c "$wrk_cpus" wrk "-t$(((CPUS - w) > 0 ? CPUS - w : 1))" "-c$CONNS" \
        "-d${DURATION}s" "http://127.0.0.1:$PORT/" 2>&1)
    after=$(cpu_ticks "$SERVER_PID")
    stop_pinned
    sleep 0.5
    python3 - "$before" "$after" "$DURATION" "$out" "$server" "$log" <<'EOF'
import os, re, sys
before, after, duration, out, server, log = int(sys.argv[1]), int(sys.argv[2]), float(sys.argv[3]), sys.argv[4], sys.argv[5], sys.argv[6]
m = re.search(r"^\s*(\d+) requests in", out, re.M)
if not m or int(m.group(1)) == 0:
    sys.exit("scaling.sh: wrk counted no responses:\n" + out)
if re.search(r"Socket errors|Non-2xx", out):
    print("scaling.sh: wrk reported errors:\n" + out, file=sys.stderr)
responses = int(m.group(1))
cpu = (after - before) / os.sysconf("SC_CLK_TCK") * 1e6 / responses
balance = float("nan")
if server == "hello":
    line = [l for l in open(log) if "requests per worker: " in l]
    if line:
        shares = [int(x.split()[1]) for x in line[0].split("requests per worker: ")[1].split(", ")]
        balance = max(shares) / (sum(shares) / len(shares))
    else:
        balance = 1.0  # one worker logs no per-worker line
print("%.0f %.3f %.3f" % (responses / duration, cpu, balance))
EOF
}

echo "CPUs $CPUS, wrk -c$CONNS -d${DURATION}s, $ROUNDS round(s), hello-reactor --listener $LISTENER"
echo "server  workers     req/s   CPU us/req  busiest/mean"
for w in $WORKERS; do
    for server in $SERVERS; do
        if [[ $server == nginx ]] && ! command -v nginx >/dev/null; then
            echo "scaling.sh: nginx not found, skipping its rows" >&2
            continue
        fi
        rows=()
        for ((round = 1; round <= ROUNDS; round++)); do
            rows+=("$(run "$server" "$w")")
        done
        printf '%s\n' "${rows[@]}" | python3 -c '
import statistics, sys
rows = [list(map(float, l.split())) for l in sys.stdin if l.strip()]
med = [statistics.median(c) for c in zip(*rows)]
print("%-7s %7s %9.0f %12.3f %13s" % (sys.argv[1], sys.argv[2], med[0], med[1],
      "-" if med[2] != med[2] else "%.2f" % med[2]))' "$server" "$w"
    done
done
