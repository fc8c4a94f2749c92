# Sourced by the bench scripts: start a server pinned to CPU 0 and wait for it, stop
# it, and read its CPU time.
# shellcheck shell=bash

SERVER_PID=

# wait_port PORT [SETTLE]: return once 127.0.0.1:PORT accepts a connection (or after
# 5 s), then SETTLE seconds more (default 0.2) for the server to close the probe.
wait_port() {
    local port=$1 settle=${2:-0.2} i
    for ((i = 0; i < 50; i++)); do
        (exec 3<>"/dev/tcp/127.0.0.1/$port") 2>/dev/null && break
        sleep 0.1
    done
    sleep "$settle"
}

# start_pinned "command" PORT: run the command on CPU 0 in the background, set
# SERVER_PID, and wait_port.
start_pinned() {
    local cmd=$1 port=$2
    # shellcheck disable=SC2086 # the command is meant to be split into words
    taskset -c 0 $cmd >/dev/null 2>&1 &
    SERVER_PID=$!
    wait_port "$port"
}

# stop_pinned: stop (SIGTERM, then wait for) the server in SERVER_PID, if it still runs.
stop_pinned() {
    [[ -z $SERVER_PID ]] && return
    kill "$SERVER_PID" 2>/dev/null || true
    wait "$SERVER_PID" 2>/dev/null || true
    SERVER_PID=
}

# cpu_ticks PID: CPU ticks (utime + stime, all threads) of process PID and of its
# children, so that a server that forks its workers (nginx with a master process)
# is measured with them. Fields after "pid (comm) ": state is 1, so utime (14) is
# 12 and stime (15) is 13.
cpu_ticks() {
    local pid
    for pid in "$1" $(pgrep -P "$1"); do
        sed 's/^.*) //' "/proc/$pid/stat" 2>/dev/null || true
    done | awk '{ ticks += $12 + $13 } END { print ticks }'
}
