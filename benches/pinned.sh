# Sourced by ab.sh and profile.sh: start a server pinned to CPU 0 and wait for it.
# shellcheck shell=bash

SERVER_PID=

# start_pinned "command" PORT: run the command on CPU 0 in the background, set
# SERVER_PID, and return once 127.0.0.1:PORT accepts a connection (or after 5 s).
start_pinned() {
    local cmd=$1 port=$2 i
    # shellcheck disable=SC2086 # the command is meant to be split into words
    taskset -c 0 $cmd >/dev/null 2>&1 &
    SERVER_PID=$!
    for ((i = 0; i < 50; i++)); do
        (exec 3<>"/dev/tcp/127.0.0.1/$port") 2>/dev/null && break
        sleep 0.1
    done
    sleep 0.2
}

# stop_pinned: stop the server start_pinned started, if it still runs.
stop_pinned() {
    [[ -z $SERVER_PID ]] && return
    kill "$SERVER_PID" 2>/dev/null || true
    wait "$SERVER_PID" 2>/dev/null || true
    SERVER_PID=
}
