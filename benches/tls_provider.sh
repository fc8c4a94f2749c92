#!/usr/bin/env bash
# TLS handshakes per CPU-second of the server, for each crypto provider: ring (the
# default build) and aws-lc-rs (`--features aws-lc-rs`). Each server runs pinned to
# CPU 0 with an ECDSA P-256 certificate; wrk -t1 on CPU 1 sends `Connection: close`
# over 50 connections, so every request is a new full TLS 1.3 handshake (wrk does not
# resume sessions). Handshakes per CPU-second = requests / server CPU seconds.
#
# Usage: benches/tls_provider.sh        ROUNDS=3 DURATION=5 by default
# Builds target/release (ring) and target/awslc/release (aws-lc-rs).
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
# shellcheck source=benches/pinned.sh
source benches/pinned.sh
ROUNDS=${ROUNDS:-3}
DURATION=${DURATION:-5}
CLK_TCK=$(getconf CLK_TCK)
TMP=$(mktemp -d)
trap 'stop_pinned; rm -rf "$TMP"' EXIT

cargo build --release --bin hello-reactor >/dev/null 2>&1
cargo build --release --bin hello-reactor --features aws-lc-rs --target-dir target/awslc >/dev/null 2>&1
openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -days 30 -subj /CN=localhost \
    -addext subjectAltName=DNS:localhost,IP:127.0.0.1 -keyout "$TMP/key.pem" -out "$TMP/cert.pem" 2>/dev/null

printf 'provider\tround\trequests\tcpu_s\thandshakes_per_cpu_s\n'
for ((round = 1; round <= ROUNDS; round++)); do
    for provider in ring aws-lc-rs; do
        bin=target/release/hello-reactor
        [[ $provider == aws-lc-rs ]] && bin=target/awslc/release/hello-reactor
        port=$(python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
        start_pinned "$bin --bind 127.0.0.1:$port --tls-cert $TMP/cert.pem --tls-key $TMP/key.pem" "$port"
        t0=$(cpu_ticks "$SERVER_PID")
        taskset -c 1 wrk -t1 -c50 -d"${DURATION}s" -H 'Connection: close' "https://127.0.0.1:$port/" >"$TMP/wrk.txt" 2>&1 || true
        ticks=$(($(cpu_ticks "$SERVER_PID") - t0))
        stop_pinned
        requests=$(awk '/ requests in / { print $1 }' "$TMP/wrk.txt")
        awk -v p="$provider" -v r="$round" -v n="$requests" -v t="$ticks" -v hz="$CLK_TCK" \
            'BEGIN { s = t / hz; printf "%s\t%d\t%d\t%.2f\t%.0f\n", p, r, n, s, (s > 0 ? n / s : 0) }'
    done
done
