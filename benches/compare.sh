#!/usr/bin/env bash
# Compare hello-reactor with nginx and the syscall floor, side by side, on this machine.
#
# Method (../shared/bench/README.md): each server runs pinned to CPU 0, wrk -t1 pinned
# to CPU 1; the servers run one after another within the same run, each freshly
# started for each load; for every (load, server) we report requests/s from wrk, the
# socket errors and non-2xx responses wrk saw, and the server's CPU time per request:
# (utime + stime of the server process over the wrk run, from /proc/PID/stat) divided
# by the requests wrk counted. Only ratios measured side by side mean anything: the
# absolute figures drift from run to run.
#
# Loads (each -d ${DURATION}s):
#   ka100   keep-alive, 100 connections          wrk -t1 -c100
#   hl-closed  the same with hello-load, closed loop: hello-load URL -c100 --json ...
#   hl-open    hello-load, open loop at RATE req/s over 100 connections: latency
#              timed from each request's intended send time (hello-load --rate)
#   ka10k   keep-alive, 10,000 connections       wrk -t1 -c10000
#   pipe16  pipelined x16, 256 connections       wrk -t1 -c256 -s pipeline.lua URL -- 16
#   close   Connection: close, 50 connections    wrk -t1 -c50 -H 'Connection: close'
#           (not for the floor, which does not close: shown as '–')
#   idle    idle memory: 10,000 keep-alive connections, one request served on each,
#           held open; the server's VmRSS before and after, in bytes per connection
# HTTPS loads (hello-reactor and nginx only; the same ECDSA P-256 certificate, made
# per run; TLS 1.3 with X25519, what wrk and Python's OpenSSL choose; nginx from
# $SHARED/nginx-tls-h2.conf):
#   tls-ka100     keep-alive over https, 100 connections       wrk -t1 -c100
#   tls-close     a new handshake per request: Connection: close, 50 connections
#   tls-idle      idle memory: 10,000 TLS connections after the handshake and one
#                 request each (benches/idle_tls.py), bytes per connection
#   tls-ka100-w2  tls-ka100 with hello-reactor --workers 2 (both on CPU 0), against
#                 tls-ka100's one worker (hello-reactor only)
# HTTP/2 loads (hello-reactor, nginx and h2o; h2load -t1 on CPU 1, -D DURATION; nginx
# from $SHARED/nginx-tls-h2.conf, h2o from $SHARED/h2o.conf; not in the default LOADS):
#   h2c-m100      h2c (prior knowledge), 100 connections, 100 streams each
#                 h2load -c100 -m100
#   h2c-m1        the same, one stream at a time: h2load -c100 -m1
#   tls-h2-m100   h2 over TLS (ALPN), 100 connections, 100 streams each
#   h2-idle       idle memory: IDLE_CONNS h2c connections, one request answered on
#                 each, held open (benches/idle.py --h2), bytes per connection
#
# Usage: benches/compare.sh            (from any directory)
#
# Results are kept, not deleted: every run writes into its own folder,
# benches/results/<UTC date>-<commit>/ (-2, -3, ... if that exists already):
# results.tsv (round, load, server, req/s, server CPU µs/req, errors, detail), idle.tsv,
# report.md (the tables printed at the end), env.txt, each wrk's output, and each
# hello-load run's JSON (<load>-<server>-r<round>.json, load hl-closed or hl-open: the
# input of benches/plot.py).
# Exit status: 0, or 1 if a server could not be built or did not start (the report is
# still printed), or if a tool is missing.
#
# Environment:
#   DURATION=5        seconds per wrk run
#   ROUNDS=1          repeat everything; tables then show min–max over rounds
#   LOADS="ka100 ka10k pipe16 close idle"   subset, in that order; also hl-closed, hl-open
#   RATE=20000        requests/s of the hl-open load
#   OUT=benches/results/<date>-<commit>   where the results go
#   SERVERS="hello-reactor nginx floor"     subset; add h2o for the h2 loads (it runs
#                     only those), and floor-hello for the floor sending
#                     hello-reactor's exact 153-byte response (same syscalls as the
#                     floor, hello-reactor's bytes): it separates what the longer
#                     response costs the client from what the server costs
#   IDLE_CONNS=10000  connections held by the idle load
#   HELLO_ARGS=""     extra flags for hello-reactor (e.g. "--backlog 4096")
#   SHARED=../shared/bench   where floor.c, nginx.conf and pipeline.lua live
#
# Needs wrk, nginx (nginx-light), gcc (for the floor), python3, taskset, cargo. As root
# it installs wrk and nginx-light with apt-get when missing; otherwise it says what to
# install and exits 1. A server that cannot be built or started is skipped with a
# message (and the exit status is 1). All servers and clients it started are stopped
# on exit.
set -euo pipefail

cd "$(dirname "${BASH_SOURCE[0]}")/.."
ROOT=$PWD
SHARED=${SHARED:-$ROOT/../shared/bench}
DURATION=${DURATION:-5}
ROUNDS=${ROUNDS:-1}
LOADS=${LOADS:-ka100 ka10k pipe16 close idle}
SERVERS=${SERVERS:-hello-reactor nginx floor}
IDLE_CONNS=${IDLE_CONNS:-10000}
HELLO_ARGS=${HELLO_ARGS:-}
RATE=${RATE:-20000}
FAILED=0 # set to 1 when a server could not be built or did not start

log() { printf '%s\n' "$*" >&2; }
die() {
    log "compare.sh: $*"
    exit 1
}

[[ $DURATION =~ ^[0-9]+$ && $DURATION -gt 0 ]] || die "DURATION must be a whole number of seconds"
[[ $ROUNDS =~ ^[0-9]+$ && $ROUNDS -gt 0 ]] || die "ROUNDS must be a positive integer"
[[ $IDLE_CONNS =~ ^[0-9]+$ && $IDLE_CONNS -gt 0 ]] || die "IDLE_CONNS must be a positive integer"
[[ $RATE =~ ^[0-9]+$ && $RATE -gt 0 ]] || die "RATE must be a positive integer"
for l in $LOADS; do
    case $l in ka100 | ka10k | pipe16 | close | idle | hl-closed | hl-open) ;;
    tls-ka100 | tls-close | tls-idle | tls-ka100-w2) ;;
    h2c-m100 | h2c-m1 | tls-h2-m100 | h2-idle) ;;
    *) die "unknown load '$l' (ka100 ka10k pipe16 close idle hl-closed hl-open tls-ka100 tls-close tls-idle tls-ka100-w2 h2c-m100 h2c-m1 tls-h2-m100 h2-idle)" ;;
    esac
done
for s in $SERVERS; do
    case $s in hello-reactor | nginx | h2o | floor | floor-hello) ;; *) die "unknown server '$s' (hello-reactor nginx h2o floor floor-hello)" ;; esac
done

# ---------------------------------------------------------------- tools
missing_pkgs=()
command -v wrk >/dev/null || missing_pkgs+=(wrk)
command -v nginx >/dev/null || [[ ! -x /usr/sbin/nginx ]] || PATH=$PATH:/usr/sbin
command -v nginx >/dev/null || missing_pkgs+=(nginx-light)
command -v python3 >/dev/null || missing_pkgs+=(python3)
command -v taskset >/dev/null || missing_pkgs+=(util-linux)
if [[ " $LOADS " == *" h2"* || " $LOADS " == *" tls-h2"* ]]; then
    command -v h2load >/dev/null || missing_pkgs+=(nghttp2-client)
fi
if [[ " $SERVERS " == *" h2o "* ]]; then
    command -v h2o >/dev/null || missing_pkgs+=(h2o)
fi
if ((${#missing_pkgs[@]})); then
    if [[ $(id -u) -eq 0 ]] && command -v apt-get >/dev/null; then
        log "installing ${missing_pkgs[*]} ..."
        apt-get update -qq >&2
        DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${missing_pkgs[@]}" >&2
        command -v nginx >/dev/null || PATH=$PATH:/usr/sbin
    else
        die "missing tools; install them first: sudo apt-get install -y ${missing_pkgs[*]}"
    fi
fi
CLK_TCK=$(getconf CLK_TCK)
if (($(nproc) < 2)); then
    die "needs 2 CPUs (server on CPU 0, wrk on CPU 1); this machine has $(nproc)"
fi

# wrk -c10000, the servers and the idle client each need over 10,000 descriptors.
ulimit -Hn 65536 2>/dev/null || true
ulimit -n "$(ulimit -Hn)" 2>/dev/null || true
if (($(ulimit -n) < 10100)); then
    log "warning: open-file limit is $(ulimit -n); the 10,000-connection loads will fail"
fi

TMP=$(mktemp -d "${TMPDIR:-/tmp}/hello-compare.XXXXXX")
COMMIT=$(git rev-parse --short HEAD 2>/dev/null || echo unknown) # what the run builds
if [[ -z ${OUT:-} ]]; then
    OUT=$ROOT/benches/results/$(date -u +%Y-%m-%d)-$COMMIT
    base=$OUT
    for ((n = 2; ; n++)); do
        [[ -e $OUT ]] || break
        OUT=$base-$n
    done
fi
mkdir -p "$OUT"
log "results go to $OUT"
PIDS=()
cleanup() {
    local pid
    for pid in "${PIDS[@]}"; do
        kill "$pid" 2>/dev/null || true
    done
    for pid in "${PIDS[@]}"; do
        wait "$pid" 2>/dev/null || true
    done
    rm -rf "$TMP"
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

free_port() {
    python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'
}

# ---------------------------------------------------------------- servers
declare -A AVAILABLE=() # server -> 1 if it can be run
HELLO_BIN=
LOAD_BIN= # hello-load, for the hl-* loads
BUILT=
build_release() { # cargo build --release, once: hello-reactor and hello-load
    [[ -z $BUILT ]] || return 0
    BUILT=1
    log "building hello-reactor and hello-load (cargo build --release) ..."
    if ! cargo build --release >"$TMP/hello-build.log" 2>&1; then
        log "'cargo build --release' failed:"
        tail -n 15 "$TMP/hello-build.log" | sed 's/^/    /' >&2
        return 0
    fi
    local target_dir
    target_dir=$(cargo metadata --format-version 1 --no-deps |
        python3 -c 'import json, sys; print(json.load(sys.stdin)["target_directory"])')
    if [[ -x $target_dir/release/hello-reactor ]]; then HELLO_BIN=$target_dir/release/hello-reactor; fi
    if [[ -x $target_dir/release/hello-load ]]; then LOAD_BIN=$target_dir/release/hello-load; fi
}
prepare_hello() {
    build_release
    if [[ -z $HELLO_BIN ]]; then
        log "SKIPPING hello-reactor: no release binary"
        FAILED=1
        return
    fi
    AVAILABLE[hello-reactor]=1
}

NGINX_TEMPLATE=
prepare_nginx() {
    if [[ -f $SHARED/nginx.conf ]]; then
        NGINX_TEMPLATE=$SHARED/nginx.conf
    else
        log "note: $SHARED/nginx.conf not found; using the built-in copy"
        NGINX_TEMPLATE=$TMP/nginx-template.conf
        cat >"$NGINX_TEMPLATE" <<'EOF'
master_process off;
worker_processes 1;
daemon off;
pid /tmp/anchor-nginx.pid;
error_log /dev/null crit;
events { worker_connections 20000; use epoll; multi_accept on; }
http {
    access_log off;
    keepalive_requests 1000000000;
    keepalive_timeout 75s;
    client_body_temp_path /tmp/anchor-nginx-body;
    server {
        listen 127.0.0.1:18081 backlog=4096 reuseport;
        location / { default_type text/plain; return 200 "Hello, World!"; }
    }
}
EOF
    fi
    AVAILABLE[nginx]=1
}

# The shared config with this run's port, pid file and temp paths.
nginx_conf() { # port -> path of the config
    local port=$1 conf=$TMP/nginx.conf
    mkdir -p "$TMP/nginx"
    sed -e "s|/tmp/anchor-nginx.pid|$TMP/nginx/nginx.pid|" \
        -e "s|/tmp/anchor-nginx-body|$TMP/nginx/body|" \
        -e "s|127\.0\.0\.1:[0-9]*|127.0.0.1:$port|" \
        -e "s|^\(\s*client_body_temp_path.*\)$|\1\n    proxy_temp_path $TMP/nginx/proxy;\n    fastcgi_temp_path $TMP/nginx/fastcgi;\n    uwsgi_temp_path $TMP/nginx/uwsgi;\n    scgi_temp_path $TMP/nginx/scgi;|" \
        "$NGINX_TEMPLATE" >"$conf"
    grep -q "127.0.0.1:$port" "$conf" || die "could not set the port in $NGINX_TEMPLATE"
    grep -q "$TMP/nginx/nginx.pid" "$conf" || die "could not set the pid path in $NGINX_TEMPLATE"
    echo "$conf"
}

# compile_floor NAME SOURCE: build a floor variant into $TMP/NAME, or say why not.
compile_floor() {
    local name=$1 source=$2
    if ! command -v gcc >/dev/null; then
        log "SKIPPING $name: gcc not found (apt-get install gcc)"
        FAILED=1
        return 1
    fi
    if ! gcc -O2 -D_GNU_SOURCE -o "$TMP/$name" "$source" 2>"$TMP/$name-build.log"; then
        log "SKIPPING $name: gcc failed:"
        sed 's/^/    /' "$TMP/$name-build.log" >&2
        FAILED=1
        return 1
    fi
    AVAILABLE[$name]=1
}

FLOOR_BIN=$TMP/floor
prepare_floor() {
    if [[ ! -f $SHARED/floor.c ]]; then
        log "SKIPPING floor: $SHARED/floor.c not found"
        FAILED=1
        return
    fi
    compile_floor floor "$SHARED/floor.c" || true
}

# hello-reactor's default response with the Date frozen, as a C string literal.
HELLO_RESPONSE='HTTP/1.1 200 OK\r\nServer: hello-reactor\r\nDate: Mon, 23 Nov 2026 21:50:00 GMT\r\nContent-Type: text/plain; charset=utf-8\r\nContent-Length: 13\r\n\r\nHello, World!'
FLOOR_HELLO_BIN=$TMP/floor-hello
prepare_floor_hello() {
    if [[ ! -f $SHARED/floor.c ]]; then
        log "SKIPPING floor-hello: $SHARED/floor.c not found"
        FAILED=1
        return
    fi
    # sed would turn the literal's \r\n escapes into bytes: double its backslashes.
    sed "s|^static const char RESP\[\] = .*|static const char RESP[] = \"${HELLO_RESPONSE//\\/\\\\}\";|" \
        "$SHARED/floor.c" >"$TMP/floor-hello.c"
    if ! grep -q 'Server: hello-reactor' "$TMP/floor-hello.c"; then
        log "SKIPPING floor-hello: floor.c has no 'static const char RESP[] = ...' line to replace"
        FAILED=1
        return
    fi
    compile_floor floor-hello "$TMP/floor-hello.c" || true
}

# SERVER_PID and cpu_ticks PID (utime + stime of it and its children, in clock ticks)
# come from pinned.sh; start_server and stop_server below are this script's own (they
# log, detect a server that exits at start, and kill one that does not stop).
# shellcheck source=benches/pinned.sh
source benches/pinned.sh
# TLS: set by the run loop for the tls-* loads; start_server then serves HTTPS with
# the run's certificate, and TLS_ARGS holds hello-reactor's extra flags.
TLS=
TLS_ARGS=
H2C= # set by the run loop for the h2c loads (nginx then serves h2c on the port)
make_cert() { # the run's ECDSA P-256 certificate, once: $TMP/cert.pem, $TMP/key.pem
    [[ -f $TMP/cert.pem ]] && return 0
    openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -days 30 -subj /CN=localhost \
        -addext "subjectAltName=DNS:localhost,IP:127.0.0.1" \
        -keyout "$TMP/key.pem" -out "$TMP/cert.pem" 2>/dev/null
}

# nginx's TLS config ($SHARED/nginx-tls-h2.conf) with this run's ports, certificate,
# pid file and temp paths: PORT is the TLS port, and the h2c server gets a port of its
# own; with H2C set, PORT is the h2c port and TLS gets a free one.
nginx_tls_conf() { # port -> path of the config
    local port=$1 conf=$TMP/nginx-tls.conf template=$SHARED/nginx-tls-h2.conf
    local tls_port=$port h2c_port
    h2c_port=$(free_port)
    if [[ -n $H2C ]]; then
        tls_port=$h2c_port h2c_port=$port
    fi
    [[ -f $template ]] || die "$template not found (the tls-* loads need it for nginx)"
    mkdir -p "$TMP/nginx"
    sed -e "s|/tmp/anchor-nginx-tls.pid|$TMP/nginx/nginx.pid|" \
        -e "s|/tmp/anchor-nginx-tls-body|$TMP/nginx/body|" \
        -e "s|/tmp/anchor-cert.pem|$TMP/cert.pem|" -e "s|/tmp/anchor-key.pem|$TMP/key.pem|" \
        -e "s|127\.0\.0\.1:18443|127.0.0.1:$tls_port|" -e "s|127\.0\.0\.1:18082|127.0.0.1:$h2c_port|" \
        -e "s|^\(\s*client_body_temp_path.*\)$|\1\n    proxy_temp_path $TMP/nginx/proxy;\n    fastcgi_temp_path $TMP/nginx/fastcgi;\n    uwsgi_temp_path $TMP/nginx/uwsgi;\n    scgi_temp_path $TMP/nginx/scgi;|" \
        "$template" >"$conf"
    grep -q "127.0.0.1:$port " "$conf" || die "could not set the port in $template"
    echo "$conf"
}

# h2o's config ($SHARED/h2o.conf) with this run's ports, certificate, body file, pid
# and log: PORT is the TLS port with TLS set, else the cleartext one.
h2o_conf() { # port -> path of the config
    local port=$1 conf=$TMP/h2o.conf template=$SHARED/h2o.conf
    [[ -f $template ]] || die "$template not found (the h2 loads need it for h2o)"
    local plain=$port tls
    tls=$(free_port)
    if [[ -n $TLS ]]; then
        plain=$tls tls=$port
    fi
    printf 'Hello, World!' >"$TMP/hello.txt"
    awk -v plain="$plain" -v tls="$tls" '
        /port: 18083/ { sub(/18083/, plain) } /port: 18444/ { sub(/18444/, tls) } { print }' "$template" |
        sed -e "s|/tmp/anchor-h2o.pid|$TMP/h2o.pid|" -e "s|/tmp/anchor-h2o.log|$TMP/h2o-error.log|" \
            -e "s|/tmp/anchor-cert.pem|$TMP/cert.pem|" -e "s|/tmp/anchor-key.pem|$TMP/key.pem|" \
            -e "s|/tmp/anchor-hello.txt|$TMP/hello.txt|" >"$conf"
    # As root h2o would switch to nobody, who cannot write in $TMP: stay who we are.
    sed -i "1i user: $(id -un)" "$conf"
    grep -q "port: $port\$" "$conf" || die "could not set the port in $template"
    echo "$conf"
}

start_server() { # name port -> sets SERVER_PID; returns 1 if it did not come up
    local name=$1 port=$2
    case $name in
    hello-reactor)
        # shellcheck disable=SC2086 # HELLO_ARGS and TLS_ARGS are lists of flags
        RUST_LOG=${RUST_LOG:-warn} taskset -c 0 "$HELLO_BIN" --bind "127.0.0.1:$port" $HELLO_ARGS $TLS_ARGS \
            >"$TMP/$name.log" 2>&1 &
        ;;
    nginx)
        local conf
        if [[ -n $TLS || -n $H2C ]]; then
            conf=$(nginx_tls_conf "$port") || return 1
        else
            conf=$(nginx_conf "$port") || return 1
        fi
        taskset -c 0 nginx -p "$TMP/nginx/" -e "$TMP/nginx/error.log" -c "$conf" \
            >"$TMP/$name.log" 2>&1 &
        ;;
    h2o)
        local conf
        conf=$(h2o_conf "$port") || return 1
        taskset -c 0 h2o -c "$conf" >"$TMP/$name.log" 2>&1 &
        ;;
    floor)
        taskset -c 0 "$FLOOR_BIN" "$port" >"$TMP/$name.log" 2>&1 &
        ;;
    floor-hello)
        taskset -c 0 "$FLOOR_HELLO_BIN" "$port" >"$TMP/$name.log" 2>&1 &
        ;;
    esac
    SERVER_PID=$!
    PIDS+=("$SERVER_PID")
    local i
    for ((i = 0; i < 100; i++)); do
        if ! kill -0 "$SERVER_PID" 2>/dev/null; then
            log "$name exited at start:"
            sed 's/^/    /' "$TMP/$name.log" >&2
            return 1
        fi
        if (exec 3<>"/dev/tcp/127.0.0.1/$port") 2>/dev/null; then
            sleep 0.2 # let it close the probe connection
            return 0
        fi
        sleep 0.1
    done
    log "$name did not listen on 127.0.0.1:$port within 10 s"
    stop_server
    return 1
}

stop_server() {
    [[ -n $SERVER_PID ]] || return 0
    kill -TERM "$SERVER_PID" 2>/dev/null || true
    local i
    for ((i = 0; i < 50; i++)); do
        kill -0 "$SERVER_PID" 2>/dev/null || break
        sleep 0.1
    done
    kill -KILL "$SERVER_PID" 2>/dev/null || true
    wait "$SERVER_PID" 2>/dev/null || true
    SERVER_PID=
}


rss_kb() { # pid -> VmRSS in kB
    awk '/^VmRSS:/ { print $2 }' "/proc/$1/status"
}

# ---------------------------------------------------------------- loads
PIPELINE_LUA=$SHARED/pipeline.lua
if [[ ! -f $PIPELINE_LUA ]]; then
    PIPELINE_LUA=$TMP/pipeline.lua
    cat >"$PIPELINE_LUA" <<'EOF'
init = function(args)
  local depth = tonumber(args[1]) or 16
  local r = {}
  for i = 1, depth do r[i] = wrk.format(nil) end
  req = table.concat(r)
end
request = function() return req end
EOF
fi

RESULTS=$OUT/results.tsv # round load server req/s cpu_us_per_req errors detail
IDLE=$OUT/idle.tsv       # round server rss_before_kb rss_after_kb held failed detail
: >"$RESULTS"
: >"$IDLE"

# measure ROUND LOAD NAME OUT COMMAND...: run the load generator COMMAND on CPU 1
# (its output to OUT) and set TICKS to the server's CPU ticks over the run. If the
# server died meanwhile, record that and return 1.
measure() {
    local round=$1 load=$2 name=$3 out=$4 t0
    shift 4
    t0=$(cpu_ticks "$SERVER_PID")
    taskset -c 1 "$@" >"$out" 2>&1 || true
    if ! kill -0 "$SERVER_PID" 2>/dev/null; then
        log "  $load $name: SERVER DIED during the run"
        printf '%s\t%s\t%s\t0\t-\t1\tserver_died\n' "$round" "$load" "$name" >>"$RESULTS"
        return 1
    fi
    TICKS=$(($(cpu_ticks "$SERVER_PID") - t0))
}

# record ROUND LOAD NAME LINE: add LINE (req/s, CPU µs/req, errors, detail, tab
# separated) to the results and log it.
record() {
    local round=$1 load=$2 name=$3 line=$4
    printf '%s\t%s\t%s\t%s\n' "$round" "$load" "$name" "$line" >>"$RESULTS"
    local rps cpu errs detail
    IFS=$'\t' read -r rps cpu errs detail <<<"$line"
    log "  $load $name: $rps req/s, $cpu µs CPU/req, errors $errs ($detail)"
}

# What run_wrk and run_h2load end their awk with: add(COUNT, WHAT) counts errors and
# names them in the detail; row() prints the results.tsv row (req/s, server CPU µs
# per request from its ticks, errors, detail; no request counted is an error too).
AWK_ROW='
function add(count, what) {
    if (count) { errs += count; detail = detail what "=" count "," }
}
function row() {
    if (req + 0 == 0) { errs += 1; detail = detail "no_requests," }
    sub(",$", "", detail)
    if (detail == "") detail = "-"
    printf "%.0f\t%.3f\t%d\t%s", rps, (req > 0 ? ticks * 1e6 / hz / req : -1), errs, detail
}'

run_wrk() { # round load server port
    local round=$1 load=$2 name=$3 port=$4 out=$OUT/wrk-$2-$3-r$1.txt
    local url=http://127.0.0.1:$port/
    [[ -z $TLS ]] || url=https://127.0.0.1:$port/
    local -a args
    case $load in
    ka100 | tls-ka100 | tls-ka100-w2) args=(-c100 "$url") ;;
    tls-close) args=(-c50 -H 'Connection: close' "$url") ;;
    ka10k) args=(-c10000 "$url") ;;
    pipe16) args=(-c256 -s "$PIPELINE_LUA" "$url" -- 16) ;;
    close) args=(-c50 -H 'Connection: close' "$url") ;;
    esac
    measure "$round" "$load" "$name" "$out" wrk -t1 -d"${DURATION}s" "${args[@]}" || return 0
    local line
    line=$(awk -v ticks="$TICKS" -v hz="$CLK_TCK" "$AWK_ROW"'
        / requests in / { req = $1 }
        /^Requests\/sec:/ { rps = $2 }
        /Socket errors:/ { gsub(",", ""); c = $4; r = $6; w = $8; t = $10 }
        /Non-2xx or 3xx responses:/ { n = $5 }
        END { add(c, "connect"); add(r, "read"); add(w, "write"); add(t, "timeout"); add(n, "non2xx"); row() }' "$out")
    record "$round" "$load" "$name" "$line"
}

run_h2load() { # round load server port: h2load -t1 on CPU 1 for DURATION seconds
    local round=$1 load=$2 name=$3 port=$4 out=$OUT/h2load-$2-$3-r$1.txt
    local url=http://127.0.0.1:$port/ streams=100
    [[ -z $TLS ]] || url=https://127.0.0.1:$port/
    [[ $load != h2c-m1 ]] || streams=1
    measure "$round" "$load" "$name" "$out" h2load -t1 -c100 -m"$streams" -D"$DURATION" "$url" || return 0
    local line
    line=$(awk -v ticks="$TICKS" -v hz="$CLK_TCK" "$AWK_ROW"'
        /^finished in/ { rps = $4 }
        /^requests:/ { req = $6; f = $10; e = $12; t = $14 }
        /^status codes:/ { n = $5 + $7 + $9 }
        END { add(f, "failed"); add(e, "errored"); add(t, "timeout"); add(n, "non2xx"); row() }' "$out")
    record "$round" "$load" "$name" "$line"
}

run_hello_load() { # round load server port: hello-load on CPU 1, its JSON kept in $OUT
    local round=$1 load=$2 name=$3 port=$4
    local json=$OUT/$2-$3-r$1.json out=$OUT/$2-$3-r$1.txt
    local -a args=("http://127.0.0.1:$port/" -c100 -d"$DURATION" -q --json "$json")
    if [[ $load == hl-open ]]; then args+=(--rate "$RATE"); fi
    measure "$round" "$load" "$name" "$out" "$LOAD_BIN" "${args[@]}" || return 0
    local line
    line=$(python3 - "$json" "$TICKS" "$CLK_TCK" <<'PY'
import json, sys
try:
    d = json.load(open(sys.argv[1]))
except (OSError, ValueError):
    print("0\t-1\t1\tno_json")
    sys.exit()
ticks, hz = int(sys.argv[2]), int(sys.argv[3])
req = d["requests"]
errs = sum(d["errors"].values()) + (0 if req else 1)
detail = ",".join("%s=%d" % kv for kv in d["errors"].items()) or ("-" if req else "no_requests")
cpu = ticks * 1e6 / hz / req if req else -1
print("%.0f\t%.3f\t%d\t%s" % (d["rate"]["achieved"], cpu, errs, detail))
PY
)
    record "$round" "$load" "$name" "$line"
}

run_idle() { # round server port
    local round=$1 name=$2 port=$3 out=$OUT/idle-$2-r$1.txt
    local before after client i ready= client_py=$ROOT/benches/idle.py
    local -a client_args=()
    if [[ -n $TLS ]]; then # TLS: recorded as server "NAME+tls"
        client_py=$ROOT/benches/idle_tls.py
        out=$OUT/tls-idle-$2-r$1.txt
        name=$name+tls
        taskset -c 1 python3 "$client_py" 127.0.0.1 "$port" 50 1 >/dev/null 2>&1 || true # warm up
    elif [[ -n $H2C ]]; then # h2c: recorded as server "NAME+h2"
        client_args=(--h2)
        out=$OUT/h2-idle-$2-r$1.txt
        name=$name+h2
    fi
    before=$(rss_kb "$SERVER_PID")
    taskset -c 1 python3 "$client_py" 127.0.0.1 "$port" "$IDLE_CONNS" "${client_args[@]}" >"$out" 2>&1 &
    client=$!
    PIDS+=("$client")
    for ((i = 0; i < 1500; i++)); do
        ready=$(grep '^READY' "$out" || true)
        [[ -n $ready ]] && break
        kill -0 "$client" 2>/dev/null || break
        sleep 0.1
    done
    if [[ -z $ready ]]; then
        log "  idle $name: client failed:"
        sed 's/^/    /' "$out" >&2
        kill "$client" 2>/dev/null || true
        wait "$client" 2>/dev/null || true
        printf '%s\t%s\t%s\t-\t0\t%s\tclient_failed\n' "$round" "$name" "$before" "$IDLE_CONNS" >>"$IDLE"
        return
    fi
    sleep 1 # let the server finish with the last responses
    after=$(rss_kb "$SERVER_PID")
    kill "$client" 2>/dev/null || true
    wait "$client" 2>/dev/null || true
    local held failed why
    read -r _ held failed why <<<"$ready"
    printf '%s\t%s\t%s\t%s\t%s\t%s\t%s\n' "$round" "$name" "$before" "$after" "$held" "$failed" "$why" >>"$IDLE"
    local per=-
    if ((held > 0)); then
        per=$(((after - before) * 1024 / held))
    fi
    log "  idle $name: VmRSS $before kB -> $after kB with $held connections held ($failed failed): $per bytes/connection"
}

# ---------------------------------------------------------------- run
for s in $SERVERS; do
    case $s in
    hello-reactor) prepare_hello ;;
    nginx) prepare_nginx ;;
    h2o) AVAILABLE[h2o]=1 ;;
    floor) prepare_floor ;;
    floor-hello) prepare_floor_hello ;;
    esac
done
RUN_SERVERS=()
for s in $SERVERS; do
    [[ -n ${AVAILABLE[$s]:-} ]] && RUN_SERVERS+=("$s")
done
((${#RUN_SERVERS[@]})) || die "no server to run"
if [[ " $LOADS " == *" hl-"* ]]; then
    build_release
    [[ -n $LOAD_BIN ]] || die "the hl-* loads need hello-load, and it did not build"
fi

log "servers: ${RUN_SERVERS[*]}; loads: $LOADS; ${DURATION}s each, $ROUNDS round(s); fd limit $(ulimit -n)"
for ((round = 1; round <= ROUNDS; round++)); do
    log "round $round/$ROUNDS"
    for load in $LOADS; do
        for name in "${RUN_SERVERS[@]}"; do
            if [[ $load == close && $name == floor* ]]; then
                continue # the floor never closes a connection
            fi
            TLS= TLS_ARGS= H2C=
            H2=
            [[ $load == h2* || $load == tls-h2* ]] && H2=1
            [[ -n $H2 && $name == floor* ]] && continue # the floor speaks no HTTP/2
            [[ -z $H2 && $name == h2o ]] && continue    # h2o is here for HTTP/2
            [[ $load == h2c-* || $load == h2-idle ]] && H2C=1 && make_cert # nginx's config has TLS too
            if [[ $load == tls-* ]]; then
                [[ $name == floor* ]] && continue # the floor speaks no TLS
                [[ $load == tls-ka100-w2 && $name != hello-reactor ]] && continue
                make_cert
                TLS=1 TLS_ARGS="--tls-cert $TMP/cert.pem --tls-key $TMP/key.pem"
                [[ $load == tls-ka100-w2 ]] && TLS_ARGS+=" --workers 2"
            fi
            port=$(free_port)
            if ! start_server "$name" "$port"; then
                printf '%s\t%s\t%s\t0\t-\t1\tdid_not_start\n' "$round" "$load" "$name" >>"$RESULTS"
                FAILED=1
                continue
            fi
            if [[ $load == idle || $load == tls-idle || $load == h2-idle ]]; then
                run_idle "$round" "$name" "$port"
            elif [[ -n $H2 ]]; then
                run_h2load "$round" "$load" "$name" "$port"
            elif [[ $load == hl-* ]]; then
                run_hello_load "$round" "$load" "$name" "$port"
            else
                run_wrk "$round" "$load" "$name" "$port"
            fi
            stop_server
            sleep 1
        done
    done
done

# ---------------------------------------------------------------- report
ENV_LINE="$(date -u '+%Y-%m-%d %H:%M UTC'), $(uname -r), $(nproc) CPUs; $(wrk -v 2>&1 | head -n 1 | cut -d' ' -f1-2 || true)"
if [[ " ${RUN_SERVERS[*]} " == *" nginx "* ]]; then
    ENV_LINE+=", $(nginx -v 2>&1 | sed 's/^nginx version: //')"
fi
ENV_LINE+="; server on CPU 0, wrk -t1 (or hello-load) on CPU 1; commit $COMMIT"
printf '%s\nLOADS=%s SERVERS=%s DURATION=%s ROUNDS=%s RATE=%s\n' "$ENV_LINE" "$LOADS" "${RUN_SERVERS[*]}" \
    "$DURATION" "$ROUNDS" "$RATE" >"$OUT/env.txt"
export DURATION ROUNDS IDLE_CONNS ENV_LINE RATE OUT
python3 - "$RESULTS" "$IDLE" "$LOADS" "${RUN_SERVERS[*]}" "$SERVERS" <<'EOF' | tee "$OUT/report.md"
import collections, os, sys

results_path, idle_path, loads, servers, wanted = sys.argv[1:6]
loads, servers, wanted = loads.split(), servers.split(), wanted.split()
NAMES = {
    "ka100": "keep-alive, 100 conns",
    "ka10k": "keep-alive, 10,000 conns",
    "pipe16": "pipelined ×16, 256 conns",
    "close": "Connection: close, 50 conns",
    "hl-closed": "hello-load closed loop, 100 conns",
    "hl-open": "hello-load open loop, %s req/s, 100 conns" % os.environ["RATE"],
    "tls-ka100": "HTTPS keep-alive, 100 conns",
    "tls-close": "HTTPS, a handshake per request, 50 conns",
    "tls-ka100-w2": "HTTPS keep-alive, 100 conns, --workers 2",
    "h2c-m100": "h2c, 100 conns × 100 streams",
    "h2c-m1": "h2c, 100 conns × 1 stream",
    "tls-h2-m100": "h2 over TLS, 100 conns × 100 streams",
}
DASH = "–"


def rows(path):
    with open(path) as f:
        return [line.rstrip("\n").split("\t") for line in f if line.strip()]


def si(x):
    if x >= 1e6:
        return "%.2fM" % (x / 1e6)
    if x >= 1e3:
        return "%.1fk" % (x / 1e3)
    return "%.0f" % x


def span(values, fmt):
    if not values:
        return DASH
    lo, hi = min(values), max(values)
    return fmt(lo) if fmt(lo) == fmt(hi) else "%s–%s" % (fmt(lo), fmt(hi))


def median_span(values, fmt):
    """The median first (one slow round must not decide a verdict), then the range."""
    if len(values) < 3:
        return span(values, fmt)
    ordered = sorted(values)
    mid = len(ordered) // 2
    median = ordered[mid] if len(ordered) % 2 else (ordered[mid - 1] + ordered[mid]) / 2
    return "%s (%s)" % (fmt(median), span(values, fmt))


rps = collections.defaultdict(dict)  # (load, server) -> {round: req/s}
cpu = collections.defaultdict(dict)  # (load, server) -> {round: µs/req}
errs = collections.defaultdict(int)
details = collections.defaultdict(list)
for rnd, load, server, r, c, e, d in rows(results_path):
    key = (load, server)
    errs[key] += int(e)
    if d != "-":
        details[key].append(d.replace("_", " "))
    if c != "-" and float(c) >= 0:
        rps[key][rnd] = float(r)
        cpu[key][rnd] = float(c)

print()
print("## %s — DURATION=%ss, ROUNDS=%s%s" % (
    " vs ".join(servers), os.environ["DURATION"], os.environ["ROUNDS"],
    " (ranges: min–max over rounds)" if int(os.environ["ROUNDS"]) > 1 else ""))
print()
print(os.environ["ENV_LINE"])
print()
skipped = [s for s in wanted if s not in servers]
if skipped:
    print("Skipped (could not be built or found): %s" % ", ".join(skipped))
    print()
wrk_loads = [l for l in loads if l in NAMES]
if wrk_loads:
    print("| load | server | req/s | CPU µs/req | errors |")
    print("|---|---|---|---|---|")
    for load in wrk_loads:
        for server in servers:
            key = (load, server)
            h2 = load.startswith(("h2", "tls-h2"))
            if (h2 and server.startswith("floor")) or (not h2 and server == "h2o"):
                continue
            if load == "close" and server.startswith("floor"):
                print("| %s | %s | %s | %s | %s |" % (NAMES[load], server, DASH, DASH, DASH))
                continue
            e = str(errs[key])
            if details[key]:
                e += " (" + "; ".join(sorted(set(details[key]))) + ")"
            print("| %s | %s | %s | %s | %s |" % (
                NAMES[load], server,
                span(list(rps[key].values()), si),
                span(list(cpu[key].values()), lambda v: "%.2f" % v),
                e))
    print()

    if "hello-reactor" in servers and len(servers) > 1:
        others = [s for s in ("floor", "floor-hello", "nginx", "h2o") if s in servers]
        print("Ratios, hello-reactor ÷ other, each from runs of the same round "
              "(CPU/req: lower is better, req/s: higher is better; "
              "from 3 rounds on: median (min–max)):")
        print()
        head = ["load"] + ["CPU/req ÷ %s" % o for o in others] + ["req/s ÷ %s" % o for o in others]
        print("| " + " | ".join(head) + " |")
        print("|" + "---|" * len(head))
        for load in wrk_loads:
            cells = [NAMES[load]]
            for table in (cpu, rps):
                for other in others:
                    mine, theirs = table[(load, "hello-reactor")], table[(load, other)]
                    ratios = [mine[r] / theirs[r] for r in mine if r in theirs and theirs[r] > 0]
                    cells.append(median_span(ratios, lambda v: "%.2f" % v))
            print("| " + " | ".join(cells) + " |")
        print()

idle = rows(idle_path)
if idle:
    per = collections.defaultdict(list)
    print("Idle memory: %s keep-alive connections, one request served on each, held open "
          "(VmRSS after − before):" % os.environ.get("IDLE_CONNS", "10000"))
    print()
    print("| server | connections held | failed | VmRSS before | VmRSS after | bytes/conn |")
    print("|---|---|---|---|---|---|")
    for rnd, server, before, after, held, failed, why in idle:
        b = "%d" % ((int(after) - int(before)) * 1024 / int(held)) if after != "-" and int(held) else DASH
        if b != DASH:
            per[server].append(int(b))
        note = "" if why == "-" else " (%s)" % why.replace("_", " ")
        print("| %s | %s | %s%s | %s kB | %s kB | %s |" % (server, held, failed, note, before, after, b))
    print()
    for tag in ("", "+tls", "+h2"):
        if "hello-reactor" + tag not in per:
            continue
        for other in ("floor", "floor-hello", "nginx", "h2o"):
            if per.get(other + tag):
                mine, theirs = per["hello-reactor" + tag], per[other + tag]
                if min(theirs) > 0:
                    print("Idle bytes/conn, hello-reactor%s ÷ %s%s: %s" % (
                        tag, other, tag, span([m / t for m, t in zip(mine, theirs)], lambda v: "%.2f" % v)))
        print()
one, two = cpu[("tls-ka100", "hello-reactor")], cpu[("tls-ka100-w2", "hello-reactor")]
if one and two:
    ratios = [two[r] / one[r] for r in two if r in one and one[r] > 0]
    print("HTTPS keep-alive CPU/req, hello-reactor --workers 2 ÷ 1 worker: %s" % median_span(ratios, lambda v: "%.2f" % v))
    print()
hl_loads = [l for l in loads if l.startswith("hl-")]
if hl_loads:
    import glob, json
    print("Latency from hello-load (µs; median over rounds, range in brackets if 3 or more):")
    print()
    print("| load | server | p50 | p90 | p99 | p99.9 | max |")
    print("|---|---|---|---|---|---|---|")
    for load in hl_loads:
        for server in servers:
            runs = []
            for path in sorted(glob.glob(os.path.join(os.environ["OUT"], "%s-%s-r*.json" % (load, server)))):
                with open(path) as f:
                    runs.append(json.load(f)["latency_us"])
            cells = []
            for k in ("p50", "p90", "p99", "p99_9", "max"):
                vals = [r[k] for r in runs if r[k] is not None]
                cells.append(median_span(vals, lambda v: "%.0f" % v))
            print("| %s | %s | %s |" % (NAMES[load], server, " | ".join(cells)))
    print()
total = sum(errs.values()) + sum(int(r[5]) for r in idle)
print("Total errors: %d" % total)
EOF
log "results kept in $OUT"
if ((FAILED)); then
    log "compare.sh: a server could not be built or did not start (see above)"
    exit 1
fi
