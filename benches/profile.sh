#!/usr/bin/env bash
# Where a server's CPU time goes under one wrk load: the share of its perf samples in
# the kernel, in its own code, in libc and in the vDSO. For changes to user-space
# work that are too small for a CPU-per-request ratio to resolve on a noisy machine:
# the shares come from one run, so drift of the machine's speed cancels out.
#
# Method: the server pinned to CPU 0 and started fresh, wrk -t1 pinned to CPU 1 (as in
# compare.sh); `perf record -e cpu-clock` (no hardware counters needed) samples the
# server for the length of the wrk run. A sample taken just after a syscall returns is
# charged to the user-space instruction after it (the interrupt is taken on the way
# out), so "own code" includes a little kernel time for every server alike.
#
# Usage: benches/profile.sh NAME "command" PORT [wrk options...] [-- script arguments...]
#   The command starts a server in the foreground listening on 127.0.0.1:PORT.
#   Pipelined: ... PORT -s ../shared/bench/pipeline.lua -- 16
#   perf data is kept in $OUT/perf.NAME.data for `perf report -i`.
# Environment:
#   CONNS=100  DURATION=8  OUT=/tmp
# Example, the build and the floor alternated:
#   for i in 1 2 3; do
#     benches/profile.sh hello "target/release/hello-reactor --bind 127.0.0.1:18895" 18895
#     benches/profile.sh floor "/tmp/floor 18896" 18896
#   done
set -euo pipefail

cd "$(dirname "${BASH_SOURCE[0]}")/.."
[[ $# -ge 3 ]] || {
    sed -n '/^# Usage/,/^# Example/p' "${BASH_SOURCE[0]}" >&2
    exit 2
}
NAME=$1 CMD=$2 PORT=$3
shift 3
WRK_OPTS=()
while [[ $# -gt 0 && $1 != -- ]]; do
    WRK_OPTS+=("$1")
    shift
done
CONNS=${CONNS:-100}
DURATION=${DURATION:-8}
OUT=${OUT:-/tmp}
for tool in perf wrk taskset; do
    command -v "$tool" >/dev/null || {
        echo "profile.sh: $tool not found (apt-get install linux-perf wrk util-linux)" >&2
        exit 1
    }
done

# shellcheck source=benches/pinned.sh
source benches/pinned.sh
trap stop_pinned EXIT

start_pinned "$CMD" "$PORT"
DATA="$OUT/perf.$NAME.data"
perf record -q -e cpu-clock -F 4999 -p "$SERVER_PID" -o "$DATA" -- sleep "$DURATION" \
    >/dev/null 2>&1 &
PERF_PID=$!
WRK_OUT=$(taskset -c 1 wrk -t1 "-c$CONNS" "-d${DURATION}s" "${WRK_OPTS[@]}" \
    "http://127.0.0.1:$PORT/" "$@" 2>&1)
wait "$PERF_PID"
stop_pinned

RPS=$(awk '/Requests\/sec/ { print $2 }' <<<"$WRK_OUT")
perf report -i "$DATA" --no-children --sort dso 2>/dev/null | awk -v name="$NAME" -v rps="$RPS" '
    /^#/ || NF < 2 { next }
    { share[$2] = $1 + 0 }
    END {
        kernel = share["[kernel.kallsyms]"]; libc = share["libc.so.6"]; vdso = share["[vdso]"]
        own = 100 - kernel - libc - vdso
        printf "%-12s %9s req/s | kernel %5.2f%% | own code %5.2f%% | libc %5.2f%% | vdso %5.2f%%\n",
            name, rps, kernel, own, libc, vdso
    }'
