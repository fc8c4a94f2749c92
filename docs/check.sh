#!/usr/bin/env bash
# Check that README.md and the docs/ pages agree with the code and the terminal.
#
# On the pages' text (docs/check-pages.py, whose docstring states each rule):
# - every ```rust block names the file it is taken from, and its lines are there;
# - each page's table of contents names its ## headings, in order;
# - every `identifier` the pages name exists in src/ or examples/, and
#   architecture.md's file table lists every file under src/;
# - a log block leaves no line out between its first and last unless a `...` line
#   marks the place (what a script can check of that: open-connection counts, a
#   registration before each connection's first event, and the start and drain
#   compared with real runs' logs below);
# - the walkthrough's strace has a real run's system calls, in order, with the
#   same line prefix, and architecture.md's epoll_ctl examples the same epoll fd.
# Then it runs the commands the pages show and checks the shape of what they print:
# status lines, headers, the `Serving HTTP on ...` line, and the RUST_LOG=trace
# lines the walkthrough quotes (targets and messages such as `conn 0: Idle => Head`).
# Exits non-zero, naming each drift, when the docs no longer match the code.
#
#   docs/check.sh              build (release binary and examples), then check
#   CHECK_NO_BUILD=1 docs/check.sh   check what target/release already holds
#
# Everything talks to 127.0.0.1 only, on ports the kernel picks (--bind 127.0.0.1:0),
# except the strace run, which needs the page's port 8888 free (it is skipped if
# not), and every wait is bounded: the checks take about fifteen seconds after the
# build. Needs bash, curl and python3; strace for the system-call check (skipped,
# saying so, where it is missing or cannot trace).
set -uo pipefail
cd "$(dirname "$0")/.."

BIN=target/release/hello-reactor
EXAMPLES=target/release/examples
WORK=$(mktemp -d)
PIDS=()
FAILED=0

cleanup() {
    for pid in "${PIDS[@]}"; do
        kill -KILL "$pid" 2>/dev/null
    done
    rm -rf "$WORK"
}
trap cleanup EXIT

fail() {
    echo "DRIFT: $*" >&2
    FAILED=1
}

pass() {
    echo "ok: $*"
}

# expect_match FILE REGEX WHAT: FILE has a line matching the extended REGEX.
expect_match() {
    if grep -Eq -- "$2" "$1"; then
        pass "$3"
    else
        fail "$3: no line matches /$2/ in:"
        sed 's/^/    | /' "$1" | head -40 >&2
    fi
}

# start NAME ANNOUNCE COMMAND...: run COMMAND in the background with stdout and
# stderr in $WORK/NAME.out and $WORK/NAME.err, wait (at most 10 s) for its stdout line
# `ANNOUNCE 127.0.0.1:PORT ...`, and set ADDR to 127.0.0.1:PORT.
start() {
    local name=$1 announce=$2
    shift 2
    : >"$WORK/$name.out"
    "$@" >>"$WORK/$name.out" 2>"$WORK/$name.err" &
    PIDS+=($!)
    PID=$!
    ADDR=
    for _ in $(seq 100); do
        ADDR=$(sed -nE "s/^$announce (127\.0\.0\.1:[0-9]+) \.\.\.$/\1/p" "$WORK/$name.out" | head -1)
        [ -n "$ADDR" ] && return 0
        kill -0 "$PID" 2>/dev/null || break
        sleep 0.1
    done
    fail "$name: no \`$announce 127.0.0.1:PORT ...\` line on stdout"
    sed 's/^/    | /' "$WORK/$name.out" "$WORK/$name.err" | head -20 >&2
    return 1
}

# stop: SIGTERM the server start started, and wait (up to 15 s) until it has exited.
stop() {
    kill -TERM "$PID"
    timeout 15 tail --pid="$PID" -f /dev/null || fail "the server did not stop within 15 s of SIGTERM"
}

# raw ADDR NAME REQUEST: send REQUEST (printf format) like telnet does, over bash's
# /dev/tcp, and save the response to $WORK/NAME: the head, then Content-Length bytes
# of body. Does not wait for the server to close (a kept-alive connection stays open).
raw() {
    local host=${1%:*} port=${1##*:} name=$2 request=$3 line length=0 body=
    exec 3<>"/dev/tcp/$host/$port" || { fail "$name: cannot connect to $1"; return; }
    # shellcheck disable=SC2059  # the request is a printf format on purpose
    printf "$request" >&3
    : >"$WORK/$name"
    while IFS= read -r -t 5 line <&3; do
        printf '%s\n' "$line" >>"$WORK/$name"
        case $line in
            [Cc]ontent-[Ll]ength:*) length=${line#*: }; length=${length%$'\r'} ;;
            $'\r') break ;;
        esac
    done
    if [ "$length" -gt 0 ]; then
        IFS= read -r -N "$length" -t 5 body <&3
        printf '%s\n' "$body" >>"$WORK/$name"
    fi
    exec 3<&-
}

if [ -z "${CHECK_NO_BUILD:-}" ]; then
    echo "== cargo build --release; cargo build --release --examples"
    timeout 1800 cargo build --release || exit 1
    timeout 1800 cargo build --release --examples || exit 1
fi

echo "== architecture.md: its file table names every file under src/"
unlisted=0
while IFS= read -r file; do
    if ! grep -qF -- "\`$file\`" docs/architecture.md; then
        fail "docs/architecture.md does not list src/$file"
        unlisted=1
    fi
done < <(cd src && find . -name '*.rs' | sed 's|^\./||' | sort)
[ "$unlisted" -eq 0 ] && pass "architecture.md: every file under src/ is in the table"

echo "== the docs name only what exists: every \`identifier\` is in src/ or examples/"
# Kernel and tool names (EPOLLIN, EAGAIN, accept4, curl, ...) are not ours to check.
not_ours='^(E[A-Z_]+|EPOLL[A-Z_]*|EV[A-Z_]*|MSG_[A-Z]+|SOCK_[A-Z]+|SO_[A-Z]+|MOD|eventfd|strace|accept4|recvfrom|sendto|epoll_wait|cat|curl|printf|http_response|reregistering)$'
unknown=0
for doc in docs/architecture.md docs/walkthrough.md; do
    while IFS= read -r id; do
        last=${id##*::}
        [[ $last =~ $not_ours ]] && continue
        if ! grep -rqw -- "$last" src examples; then
            fail "$doc names \`$id\`, which src/ and examples/ do not"
            unknown=1
        fi
    done < <(grep -o '`[^`]*`' "$doc" | tr -d '`' |
        grep -E '^[A-Za-z_][A-Za-z0-9_]*(::[A-Za-z_][A-Za-z0-9_]*)*(\(\))?$' | sed 's/()$//' | sort -u)
done
[ "$unknown" -eq 0 ] && pass "architecture.md, walkthrough.md: every identifier they name exists"

echo "== the pages' text: snippets, tables of contents, epoll fds (docs/check-pages.py)"
python3 docs/check-pages.py static || FAILED=1

echo "== walkthrough, lesson 1: RUST_LOG=trace hello-reactor --defer-accept 0"
if start server 'Serving HTTP on' env RUST_LOG=trace "$BIN" --defer-accept 0 --bind 127.0.0.1:0; then
    # README: curl -i
    timeout 10 curl -si "http://$ADDR/" >"$WORK/curl-i" || fail "curl -i http://$ADDR/ failed"
    expect_match "$WORK/curl-i" $'^HTTP/1.1 200 OK\r$' "curl -i: status line"
    expect_match "$WORK/curl-i" $'^Server: hello-reactor\r$' "curl -i: Server"
    expect_match "$WORK/curl-i" $'^Date: [A-Z][a-z]{2}, [0-9]{2} [A-Z][a-z]{2} [0-9]{4} [0-9:]{8} GMT\r$' "curl -i: Date"
    expect_match "$WORK/curl-i" $'^Content-Type: text/plain; charset=utf-8\r$' "curl -i: Content-Type"
    expect_match "$WORK/curl-i" $'^Content-Length: 13\r$' "curl -i: Content-Length"
    expect_match "$WORK/curl-i" '^Hello, World!$' "curl -i: body"

    # README: one connection, three requests
    timeout 10 curl -sv "http://$ADDR/a" "http://$ADDR/b" "http://$ADDR/c" >"$WORK/curl-v" 2>&1 ||
        fail "curl -sv (three URLs) failed"
    [ "$(grep -Ec 'Re-?using existing connection' "$WORK/curl-v")" -eq 2 ] &&
        pass "curl -sv: three requests on one connection" ||
        fail "curl -sv: curl did not re-use its connection twice"

    # The seed's telnet experiment: no Host line, then with one.
    raw "$ADDR" telnet-nohost 'GET /hello HTTP/1.1\r\n\r\n'
    expect_match "$WORK/telnet-nohost" $'^HTTP/1.1 400 Bad Request\r$' "telnet, no Host: 400"
    expect_match "$WORK/telnet-nohost" $'^Connection: close\r$' "telnet, no Host: Connection: close"
    expect_match "$WORK/telnet-nohost" $'^400 Bad Request: HTTP/1.1 request without a Host header\r$' "telnet, no Host: the body says why"
    raw "$ADDR" telnet-host 'GET /hello HTTP/1.1\r\nHost: localhost\r\n\r\n'
    expect_match "$WORK/telnet-host" $'^HTTP/1.1 200 OK\r$' "telnet, Host: 200"
    expect_match "$WORK/telnet-host" '^Hello, World!$' "telnet, Host: body"

    # A request in two pieces (walkthrough lesson 2).
    timeout 10 python3 -c '
import socket, sys, time
s = socket.create_connection(("127.0.0.1", int(sys.argv[1])))
s.sendall(b"GET /hello HTTP/1.1\r\nHo")
time.sleep(0.3)
s.sendall(b"st: x\r\n\r\n")
print(s.recv(4096).decode())' "${ADDR##*:}" >"$WORK/pieces" || fail "the request in two pieces failed"
    expect_match "$WORK/pieces" $'^HTTP/1.1 200 OK\r$' "a request in two pieces: 200"

    # A head over --max-request-head (walkthrough lesson 5).
    code=$(timeout 10 curl -s -o /dev/null -w '%{http_code}' \
        -H "X-Big: $(head -c 20000 /dev/zero | tr '\0' a)" "http://$ADDR/")
    [ "$code" = 431 ] && pass "a 20000-byte header: 431" || fail "a 20000-byte header: got $code, not 431"

    stop
    wait "$PID" && pass "SIGTERM: exit status 0" || fail "SIGTERM: exit status $?"

    # The trace lines the walkthrough quotes, with their targets.
    log=$WORK/server.err
    id='(w[0-9]+ )?conn [0-9]+'
    expect_match "$log" 'INFO  hello_reactor::reactor\] listening on 127\.0\.0\.1:[0-9]+, up to [0-9]+ connections$' "log: listening on"
    expect_match "$log" 'TRACE hello_reactor::reactor\] listener: readable$' "log: listener: readable"
    expect_match "$log" "DEBUG hello_reactor::reactor::accept\] $id: accepted from 127\.0\.0\.1:[0-9]+ \([0-9]+ open\)$" "log: accepted from"
    expect_match "$log" "TRACE hello_reactor::reactor\] $id: event: readable$" "log: event: readable"
    expect_match "$log" "TRACE hello_reactor::reactor\] $id: event: readable read-closed$" "log: event: readable read-closed"
    expect_match "$log" "TRACE hello_reactor::reactor::driver::input\] $id: read [0-9]+ bytes$" "log: read N bytes"
    expect_match "$log" "TRACE hello_reactor::protocol::conn\] $id: request head of [0-9]+ bytes, Empty$" "log: request head"
    expect_match "$log" "TRACE hello_reactor::protocol::conn\] $id: Idle => Head$" "log: Idle => Head"
    expect_match "$log" "TRACE hello_reactor::protocol::conn\] $id: Head => Idle$" "log: Head => Idle"
    expect_match "$log" "DEBUG hello_reactor::protocol::conn\] $id: 400 Bad Request: HTTP/1.1 request without a Host header$" "log: the 400 and its reason"
    expect_match "$log" "TRACE hello_reactor::protocol::conn\] $id: (Idle|Head) => Linger$" "log: => Linger after the 400"
    expect_match "$log" "TRACE hello_reactor::protocol::conn\] $id: peer closed its side$" "log: peer closed its side"
    expect_match "$log" "DEBUG hello_reactor::reactor\] $id: closed \([0-9]+ open\)$" "log: closed (N open)"
    expect_match "$log" 'INFO  hello_reactor::process::signals\] SIGTERM: draining$' "log: SIGTERM: draining"
    expect_match "$log" 'INFO  hello_reactor::reactor\] stopped: [0-9]+ connections, [0-9]+ requests' "log: stopped summary"
    if grep -q 'reading at accept' "$log"; then
        fail "log: --defer-accept 0 still reads at accept"
    else
        pass "log: --defer-accept 0: nothing read at accept"
    fi
fi

echo "== walkthrough, lesson 5: --header-timeout 1"
if start timeouts 'Serving HTTP on' env RUST_LOG=trace "$BIN" --header-timeout 1 --bind 127.0.0.1:0; then
    timeout 10 python3 -c '
import socket, sys
s = socket.create_connection(("127.0.0.1", int(sys.argv[1])))
s.sendall(b"GET / HTTP/1.1\r\n")
print(s.recv(4096).decode())
print("then", s.recv(4096))' "${ADDR##*:}" >"$WORK/408" || fail "the incomplete head failed"
    expect_match "$WORK/408" $'^HTTP/1.1 408 Request Timeout\r$' "an incomplete head: 408"
    expect_match "$WORK/408" "^then b''$" "after the 408: end of stream"
    stop
    log=$WORK/timeouts.err
    expect_match "$log" 'TRACE hello_reactor::reactor::accept\] (w[0-9]+ )?conn [0-9]+: reading at accept$' "log: reading at accept (deferred accept, the default)"
    expect_match "$log" 'TRACE hello_reactor::reactor::ticker\] (w[0-9]+ )?conn [0-9]+: deadline passed in Head$' "log: deadline passed in Head"
    expect_match "$log" 'DEBUG hello_reactor::protocol::conn\] (w[0-9]+ )?conn [0-9]+: Head timed out$' "log: Head timed out"
    expect_match "$log" 'TRACE hello_reactor::protocol::conn\] (w[0-9]+ )?conn [0-9]+: Head => Linger$' "log: Head => Linger"
fi

echo "== walkthrough, lesson 8: --workers 2"
if start workers 'Serving HTTP on' env RUST_LOG=debug "$BIN" --workers 2 --bind 127.0.0.1:0; then
    for _ in 1 2 3 4; do
        timeout 10 curl -s -H 'Connection: close' "http://$ADDR/" >>"$WORK/workers-curl" || fail "curl against --workers 2 failed"
    done
    [ "$(grep -o 'Hello, World!' "$WORK/workers-curl" | wc -l)" -eq 4 ] && pass "--workers 2: four answers" ||
        fail "--workers 2: not four answers"
    stop
    log=$WORK/workers.err
    expect_match "$log" 'INFO  hello_reactor::process::workers\] 2 workers on 127\.0\.0\.1:[0-9]+ \(.*\), up to [0-9]+ connections in all$' "log: 2 workers on ADDR"
    expect_match "$log" 'DEBUG hello_reactor::reactor::accept\] w[01] conn [0-9]+: accepted from 127\.0\.0\.1:[0-9]+ \([0-9]+ open\)$' "log: w0/w1 conn N: accepted from"
    expect_match "$log" 'INFO  hello_reactor::process::workers\] stopped: 4 connections, 4 requests' "log: one stopped line with the totals"
fi

echo "== walkthrough: log blocks are excerpts of one run, or mark what they leave out"
if [ -s "$WORK/server.err" ] && [ -s "$WORK/workers.err" ]; then
    python3 docs/check-pages.py logs "$WORK/server.err" "$WORK/workers.err" || FAILED=1
else
    fail "no server logs to compare the walkthrough's log blocks with"
fi
echo "== README: --delay 0.1, --fail-rate 0.2 --fail-status 503 --seed 7"
if start delay 'Serving HTTP on' "$BIN" --delay 0.1 --bind 127.0.0.1:0; then
    timeout 10 curl -s -o /dev/null -w '%{http_code} after %{time_total} s\n' "http://$ADDR/" >"$WORK/delay-curl" ||
        fail "curl against --delay 0.1 failed"
    expect_match "$WORK/delay-curl" '^200 after 0\.1[0-9]+ s$' "--delay 0.1: 200 after 0.1x s"
    stop
    expect_match "$WORK/delay.err" 'INFO  hello_reactor::process\] --delay: every answer is held 100ms$' "log: --delay at start"
fi
if start fail 'Serving HTTP on' "$BIN" --fail-rate 0.2 --fail-status 503 --seed 7 --bind 127.0.0.1:0; then
    timeout 10 curl -s "http://$ADDR/" >"$WORK/fail-curl" || fail "curl against --fail-rate failed"
    expect_match "$WORK/fail-curl" '^503 Service Unavailable: injected by hello-reactor --fail-rate, not a real failure' "--fail-rate, seed 7: the first answer is injected"
    stop
fi

echo "== walkthrough, lesson 8: two workers on one CPU"
if start onecpu 'Serving HTTP on' taskset -c 0 "$BIN" --workers 2 --bind 127.0.0.1:0; then
    stop
    expect_match "$WORK/onecpu.err" 'INFO  hello_reactor::process::workers\] 2 workers share 1 CPU\(s\): they run under SCHED_BATCH, so that a worker waking up does not preempt another in the middle of its batch$' "log: 2 workers share 1 CPU(s): SCHED_BATCH"
fi

echo "== examples/blocking.rs: the same core, blocking sockets"
if start blocking 'Serving HTTP on' env RUST_LOG=trace "$EXAMPLES/blocking" 0; then
    timeout 10 curl -si "http://$ADDR/" >"$WORK/blocking-curl" || fail "curl against the blocking example failed"
    expect_match "$WORK/blocking-curl" $'^HTTP/1.1 200 OK\r$' "blocking: curl: 200"
    expect_match "$WORK/blocking-curl" '^Hello, World!$' "blocking: curl: body"
    raw "$ADDR" blocking-nohost 'GET /hello HTTP/1.1\r\n\r\n'
    expect_match "$WORK/blocking-nohost" $'^HTTP/1.1 400 Bad Request\r$' "blocking: telnet, no Host: 400"
    kill -TERM "$PID"
    wait "$PID" 2>/dev/null
    # A blocking read may return the request line before the empty line: Head => Linger.
    expect_match "$WORK/blocking.err" 'TRACE hello_reactor::protocol::conn\] conn [0-9]+: (Idle|Head) => Linger$' "blocking: log: => Linger after the 400"
fi

echo "== examples/echo_reactor.rs"
if start echo 'Echoing on' "$EXAMPLES/echo_reactor" 0; then
    timeout 10 python3 -c '
import socket, sys
s = socket.create_connection(("127.0.0.1", int(sys.argv[1])))
s.sendall(b"hi\n")
print(s.recv(100))' "${ADDR##*:}" >"$WORK/echo" || fail "the echo client failed"
    expect_match "$WORK/echo" "^b'hi\\\\n'$" "echo: b'hi\\n'"
    kill -TERM "$PID"
fi

echo "== walkthrough, Watch the system calls: strace -o FILE -e trace=network,epoll_wait,epoll_ctl"
# The page's command as it is, port 8888 included: the trace shows the port.
if ! command -v strace >/dev/null 2>&1; then
    echo "SKIPPED: strace is not installed"
elif ! strace -o /dev/null true 2>/dev/null; then
    echo "SKIPPED: strace cannot trace here (ptrace not permitted)"
elif (exec 3<>/dev/tcp/127.0.0.1/8888) 2>/dev/null; then
    echo "SKIPPED: 127.0.0.1:8888 is in use"
elif start strace 'Serving HTTP on' strace -o "$WORK/trace.txt" -e trace=network,epoll_wait,epoll_ctl "$BIN"; then
    timeout 10 curl -s "http://$ADDR/a" "http://$ADDR/b" >/dev/null || fail "strace: curl /a /b failed"
    timeout 10 python3 -c '
import socket, sys, time
s = socket.create_connection(("127.0.0.1", 8888))
time.sleep(0.2)
s.sendall(b"GET /1 HTTP/1.1\r\nHost: x\r\n\r\n" * 3)
time.sleep(0.2)
print(s.recv(65536).count(b"200 OK"), "responses")' >"$WORK/strace-pipelined" || fail "strace: the pipelined client failed"
    timeout 10 curl -s -H 'Connection: close' "http://$ADDR/c" >/dev/null || fail "strace: curl /c failed"
    sleep 0.3
    server=$(cat "/proc/$PID/task/$PID/children" 2>/dev/null)
    if [ -n "$server" ]; then
        kill -TERM $server
    fi
    timeout 15 tail --pid="$PID" -f /dev/null || fail "strace: the server did not stop within 15 s of SIGTERM"
    python3 docs/check-pages.py strace "$WORK/trace.txt" || FAILED=1
fi

if [ "$FAILED" -ne 0 ]; then
    echo "docs/check.sh: the docs have drifted from what the programs do (see DRIFT above)" >&2
    exit 1
fi
echo "docs/check.sh: all checks passed"
