#!/usr/bin/env bash
# Build the container image (Containerfile) and check it: the static musl binary,
# the image's declared configuration, and its entry point serving and draining.
#
#   .ci/image.sh                  # as root (CI does), or under `podman unshare`
#   IMAGE=hello-reactor:0.1.0 .ci/image.sh
#
# podman can build images here but not run them (crun cannot set rlimits in this
# sandbox), so the entry point runs from the image's own files instead: the image
# is mounted (`podman image mount`) and the binary started in a chroot of it, as
# the user the image declares, on a free loopback port. It must answer
# `Hello, World!` and exit 0 on SIGTERM. Each step is bounded in time; any failure
# exits non-zero with a line saying what failed. Needs: cargo with rustup, musl-gcc
# (Debian: musl-tools), podman, curl, file, readelf (binutils). Leaves the image
# behind (podman image rm it), and nothing else.
set -euo pipefail
cd "$(dirname "$0")/.."

IMAGE="${IMAGE:-hello-reactor:ci}"
TARGET=x86_64-unknown-linux-musl
BINARY="target/$TARGET/release-image/hello-reactor"
# What the Containerfile declares; checked against the built image.
WANT_USER=65532:65532
WANT_ENTRYPOINT=/usr/local/bin/hello-reactor
WANT_CMD="--bind 0.0.0.0:8888"

fail() {
    echo "image check FAILED: $*" >&2
    exit 1
}

if [ "$(id -u)" -ne 0 ]; then
    fail "needs root to mount the image and chroot into it: run it as root, or as \`podman unshare $0\`"
fi
for tool in cargo podman curl file readelf chroot timeout musl-gcc; do
    command -v "$tool" >/dev/null 2>&1 || fail "$tool is not installed"
done
if [ -n "${CARGO_TARGET_DIR:-}" ] && [ "$(realpath -m "$CARGO_TARGET_DIR")" != "$(realpath -m target)" ]; then
    fail "the Containerfile copies $BINARY: unset CARGO_TARGET_DIR ($CARGO_TARGET_DIR)"
fi

scratch="$(mktemp -d)"
mounted=""
server=""
cleanup() {
    if [ -n "$server" ] && kill -0 "$server" 2>/dev/null; then
        kill -KILL "$server" 2>/dev/null || true
        wait "$server" 2>/dev/null || true
    fi
    if [ -n "$mounted" ]; then
        podman image umount "$IMAGE" >/dev/null || echo "warning: podman image umount $IMAGE failed" >&2
    fi
    rm -rf "$scratch"
}
trap cleanup EXIT

echo "== cargo build --profile release-image --target $TARGET"
if command -v rustup >/dev/null 2>&1; then
    rustup target add "$TARGET" >/dev/null
fi
timeout 1800 cargo build --profile release-image --target "$TARGET" --bin hello-reactor \
    || fail "cargo build for $TARGET"

echo "== the binary is static"
file "$BINARY"
ldd "$BINARY" 2>&1 || true
# No program interpreter (ld.so) and no shared libraries: it runs in an empty image.
if readelf -lW "$BINARY" | grep -q INTERP; then
    fail "$BINARY has a program interpreter: it is not static"
fi
if readelf -dW "$BINARY" | grep -q NEEDED; then
    fail "$BINARY needs shared libraries: $(readelf -dW "$BINARY" | grep NEEDED)"
fi

echo "== podman build -f Containerfile -t $IMAGE ."
timeout 300 podman build -f Containerfile -t "$IMAGE" . || fail "podman build"

echo "== the image's configuration"
inspect() {
    timeout 60 podman image inspect --format "$1" "$IMAGE"
}
user="$(inspect '{{.Config.User}}')"
entrypoint="$(inspect '{{range .Config.Entrypoint}}{{.}} {{end}}')"
cmd="$(inspect '{{range .Config.Cmd}}{{.}} {{end}}')"
stopsignal="$(inspect '{{.Config.StopSignal}}')"
ports="$(inspect '{{range $port, $_ := .Config.ExposedPorts}}{{$port}} {{end}}')"
echo "user $user, entrypoint ${entrypoint% }, cmd ${cmd% }, stop signal $stopsignal, exposed ${ports% }"
[ "$user" = "$WANT_USER" ] || fail "USER is '$user', not $WANT_USER"
[ "${entrypoint% }" = "$WANT_ENTRYPOINT" ] || fail "ENTRYPOINT is '$entrypoint'"
[ "${cmd% }" = "$WANT_CMD" ] || fail "CMD is '$cmd', not '$WANT_CMD'"
[ "$stopsignal" = SIGTERM ] || fail "STOPSIGNAL is '$stopsignal'"
[ "${ports% }" = 8888/tcp ] || fail "EXPOSE is '$ports', not 8888/tcp"

echo "== the entry point, run from the image's files as $user"
root="$(timeout 60 podman image mount "$IMAGE")" || fail "podman image mount $IMAGE"
mounted=yes
echo "files in the image:"
(cd "$root" && find . -mindepth 1 | sort)
# The image's own entry point and user; the CMD's 0.0.0.0:8888 becomes a free
# loopback port (the machine may be serving 8888 already).
env -i "$(command -v chroot)" --userspec="$user" "$root" "$WANT_ENTRYPOINT" --bind 127.0.0.1:0 \
    >"$scratch/stdout" 2>"$scratch/stderr" &
server=$!
port=""
for _ in $(seq 100); do
    port="$(sed -n 's/^Serving HTTP on 127\.0\.0\.1:\([0-9]*\) \.\.\.$/\1/p' "$scratch/stdout")"
    [ -n "$port" ] && break
    kill -0 "$server" 2>/dev/null || break
    sleep 0.1
done
if [ -z "$port" ]; then
    if ! kill -0 "$server" 2>/dev/null; then
        status=0
        wait "$server" || status=$?
        server=""
        fail "the server exited ($status) before serving: $(cat "$scratch/stdout" "$scratch/stderr")"
    fi
    fail "the server did not start within 10 s: $(cat "$scratch/stdout" "$scratch/stderr")"
fi
uid="$(awk '/^Uid:/ { print $2 }' "/proc/$server/status")"
gid="$(awk '/^Gid:/ { print $2 }' "/proc/$server/status")"
echo "serving on 127.0.0.1:$port as uid $uid, gid $gid (pid $server)"
[ "$uid:$gid" = "$WANT_USER" ] || fail "the server runs as $uid:$gid, not $WANT_USER"
body="$(curl -sS --max-time 5 "http://127.0.0.1:$port/")" || fail "curl http://127.0.0.1:$port/"
echo "curl: $body"
[ "$body" = "Hello, World!" ] || fail "the body is '$body', not 'Hello, World!'"

kill -TERM "$server"
# The drain has nothing in flight; --shutdown-timeout (10 s) bounds it anyway.
for _ in $(seq 150); do
    kill -0 "$server" 2>/dev/null || break
    sleep 0.1
done
if kill -0 "$server" 2>/dev/null; then
    fail "the server still runs 15 s after SIGTERM: $(cat "$scratch/stderr")"
fi
status=0
wait "$server" || status=$?
server=""
echo "server log:"
sed 's/^/  /' "$scratch/stderr"
[ "$status" -eq 0 ] || fail "the server exited $status after SIGTERM"
echo "SIGTERM: exit 0"

echo "== image size"
size="$(inspect '{{.Size}}')"
timeout 60 podman image save --quiet --format oci-archive -o "$scratch/image.tar" "$IMAGE" >/dev/null
compressed="$(gzip -c "$scratch/image.tar" | wc -c)"
echo "$IMAGE: $size bytes ($(numfmt --to=si "$size")B), $compressed bytes as a gzipped archive; goal: under 3 MB"
echo "image check passed"
