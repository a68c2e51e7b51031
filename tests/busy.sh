#!/bin/sh
# Runs a command beside N busy processes, as on a loaded laptop or a shared server, and stops
# them when the command ends: `sh tests/busy.sh N command...` (what `make test-busy` does).
set -u
n=$1
shift
pids=""
i=0
while [ "$i" -lt "$n" ]; do
    sh -c 'while :; do :; done' &
    pids="$pids $!"
    i=$((i + 1))
done
trap 'kill $pids 2>/dev/null' EXIT INT TERM
"$@"
