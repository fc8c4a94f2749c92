#!/usr/bin/env bash
# HTTP/2 conformance: run h2spec (github.com/summerwind/h2spec, 146 cases) against
# hello-reactor, and against nginx and h2o with the anchors' configs, side by side.
#
# h2spec is a Go program that no registry this project's CI reaches packages (not
# Debian, PyPI, crates.io or npm), so it is not part of `.ci/run`: bring your own
# binary (a release from its GitHub page, or `go install
# github.com/summerwind/h2spec/cmd/h2spec@latest`) and point H2SPEC at it.
#
# Runs (each h2spec run against a freshly started server):
#   hello-reactor, h2c on a port with `--http2 on` (the default: HTTP/1.1 and h2c)
#   hello-reactor, h2c with `--http2 only`
#   hello-reactor, h2 over TLS (ALPN)
#   the same three with `h2spec --strict` (one more case: a RFC "SHOULD")
#   nginx (../shared/bench/nginx-tls-h2.conf: h2c-only port and TLS), if installed
#   h2o (../shared/bench/h2o.conf: h2c beside HTTP/1.1, and TLS), if installed
#
# Usage: H2SPEC=/path/to/h2spec benches/h2spec.sh   (after cargo build --release)
# Output: one line per run, "name: N tests, P passed, 0 skipped, F failed", and each
# run's full report (the failing cases with expected and actual) in
# benches/results/<UTC date>-<commit>-h2spec/<name>.txt.
set -u
cd "$(dirname "$0")/.."
H2SPEC="${H2SPEC:-h2spec}"
SHARED="${SHARED:-../shared/bench}"
command -v "$H2SPEC" >/dev/null || { echo "h2spec not found: set H2SPEC (see the header)" >&2; exit 1; }
BIN=target/release/hello-reactor
[ -x "$BIN" ] || { echo "build first: cargo build --release" >&2; exit 1; }

out="benches/results/$(date -u +%F)-$(git rev-parse --short HEAD)-h2spec"
mkdir -p "$out"
cert=/tmp/anchor-cert.pem key=/tmp/anchor-key.pem
[ -f "$cert" ] || openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -days 30 \
    -subj /CN=localhost -addext "subjectAltName=DNS:localhost,IP:127.0.0.1" \
    -keyout "$key" -out "$cert" 2>/dev/null

wait_port() { # PORT: wait up to 5 s for a listener
    for _ in $(seq 50); do
        (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null && return 0
        sleep 0.1
    done
    echo "nothing listens on $1" >&2
    return 1
}

check() { # NAME PORT [h2spec options...]: one h2spec run, its summary line printed
    local name=$1 port=$2
    shift 2
    wait_port "$port" || return
    timeout 300 "$H2SPEC" -h 127.0.0.1 -p "$port" -o 2 "$@" >"$out/$name.txt" 2>&1
    echo "$name: $(tail -n 1 "$out/$name.txt")"
}

serve() { # PORT ARGS...: start hello-reactor in the background
    local port=$1
    shift
    "$BIN" --bind "127.0.0.1:$port" "$@" >/dev/null 2>&1 &
    server=$!
}

for strict in "" "--strict"; do
    suffix=${strict:+-strict}
    serve 18971
    check "hello-reactor-h2c-on$suffix" 18971 $strict
    kill "$server"; wait "$server" 2>/dev/null
    serve 18972 --http2 only
    check "hello-reactor-h2c-only$suffix" 18972 $strict
    kill "$server"; wait "$server" 2>/dev/null
    serve 18973 --tls-cert "$cert" --tls-key "$key"
    check "hello-reactor-tls$suffix" 18973 -t -k $strict
    kill "$server"; wait "$server" 2>/dev/null
done

if command -v nginx >/dev/null; then
    nginx -c "$(realpath "$SHARED/nginx-tls-h2.conf")" &
    anchor=$!
    check nginx-h2c-only 18082
    check nginx-tls 18443 -t -k
    kill "$anchor"; wait "$anchor" 2>/dev/null
fi
if command -v h2o >/dev/null; then
    printf 'Hello, World!' >/tmp/anchor-hello.txt
    h2o -c "$(realpath "$SHARED/h2o.conf")" >/dev/null 2>&1 &
    anchor=$!
    check h2o-h2c-on 18083
    check h2o-tls 18444 -t -k
    kill "$anchor"; wait "$anchor" 2>/dev/null
fi
echo "reports: $out/"
