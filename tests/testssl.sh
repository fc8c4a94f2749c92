#!/usr/bin/env bash
# testssl.sh against hello-reactor over HTTPS: fails on any finding of severity
# MEDIUM or worse about TLS itself. Run by .ci/run after `cargo test`.
#
# Allowed, because they are about the test certificate or the fixed answer, not
# TLS: a chain that ends in the self-signed test CA (cert_chain_of_trust), no
# CRL or OCSP URI in that CA's certificates (cert_revocation), and HTTP header
# advice such as HSTS (security_headers, HSTS: `--header` lets a user add them).
#
# Usage: tests/testssl.sh [path/to/hello-reactor]   (default: target/release)
set -euo pipefail
cd "$(dirname "$0")/.."
server="${1:-target/release/hello-reactor}"
[ -x "$server" ] || cargo build --release --bin hello-reactor
testssl="$(command -v testssl || command -v testssl.sh)"

dir="$(mktemp -d)"
pid=""
cleanup() { [ -n "$pid" ] && kill "$pid" 2>/dev/null; rm -rf "$dir"; }
trap cleanup EXIT

# A test CA and an ECDSA P-256 server certificate for 127.0.0.1, made now.
ec=(-newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes)
openssl req -x509 "${ec[@]}" -days 365 -subj "/CN=hello-reactor testssl CA" \
    -keyout "$dir/ca.key" -out "$dir/ca.pem" 2>/dev/null
openssl req "${ec[@]}" -subj "/CN=localhost" -keyout "$dir/key.pem" -out "$dir/csr.pem" 2>/dev/null
printf 'subjectAltName=DNS:localhost,IP:127.0.0.1\n' > "$dir/ext"
openssl x509 -req -in "$dir/csr.pem" -CA "$dir/ca.pem" -CAkey "$dir/ca.key" -CAcreateserial \
    -days 365 -extfile "$dir/ext" -out "$dir/cert.pem" 2>/dev/null

"$server" --bind 127.0.0.1:0 --tls-cert "$dir/cert.pem" --tls-key "$dir/key.pem" \
    > "$dir/stdout" 2> "$dir/stderr" &
pid=$!
for _ in $(seq 50); do
    grep -q '^Serving HTTPS on' "$dir/stdout" 2>/dev/null && break
    sleep 0.1
done
addr="$(sed -n 's/^Serving HTTPS on \(.*\) \.\.\.$/\1/p' "$dir/stdout")"
[ -n "$addr" ] || { echo "testssl.sh: the server did not start" >&2; cat "$dir/stderr" >&2; exit 1; }

# All default checks (protocols, ciphers, server defaults and preferences,
# vulnerabilities); about a minute on a 2-core machine, bounded at five.
echo "testssl.sh: checking https://$addr/"
timeout 300 "$testssl" --quiet --color 0 --warnings batch --severity MEDIUM \
    --jsonfile "$dir/findings.json" "$addr" > "$dir/report.txt" 2>&1 || true
[ -s "$dir/findings.json" ] || { cat "$dir/report.txt"; echo "testssl.sh: no findings file" >&2; exit 1; }

python3 - "$dir/findings.json" <<'PY'
import json, sys
allowed = {"cert_chain_of_trust", "cert_revocation", "security_headers", "HSTS"}
serious = {"MEDIUM", "HIGH", "CRITICAL"}
findings = json.load(open(sys.argv[1]))
bad = [f for f in findings if f["severity"] in serious and f["id"] not in allowed]
for f in findings:
    if f["severity"] in serious:
        mark = "FAIL" if f in bad else "allowed"
        print(f"  {mark:8} {f['severity']:8} {f['id']}: {f['finding']}")
if bad:
    sys.exit(f"testssl.sh: {len(bad)} finding(s) of severity MEDIUM or worse about TLS")
print("testssl.sh: no finding of severity MEDIUM or worse about TLS itself")
PY
