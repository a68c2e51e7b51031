#!/bin/sh
# Runs the container's command; when reglab is told to train on Ray, it first joins the cluster as
# a node with no CPUs of its own, because a Ray driver needs a local raylet (Ray Client cannot
# stream a generator's results, which is how training events come back).
set -eu

# Ray nodes of one cluster share a token when the teacher sets RAY_AUTH_TOKEN in .env; without
# one, the cluster relies on its ports never leaving the compose network.
if [ -n "${RAY_AUTH_TOKEN:-}" ]; then
    export RAY_AUTH_MODE=token
else
    unset RAY_AUTH_TOKEN
    export RAY_AUTH_MODE="${RAY_AUTH_MODE:-disabled}"
fi

if [ "${1:-}" = "reglab" ] && [ "${REGLAB_EXECUTOR:-local}" = "ray" ]; then
    address="${REGLAB_RAY_ADDRESS:-}"
    if [ -z "$address" ]; then
        echo "reglab: REGLAB_EXECUTOR=ray needs REGLAB_RAY_ADDRESS (e.g. ray-head:6379)." >&2
        exit 2
    fi
    # `ray start` retries an unreachable head for minutes; a plain TCP connect says it in seconds.
    if ! python - "$address" "${RAY_HEAD_WAIT_S:-30}" <<'PY'
import socket, sys, time
host, _, port = sys.argv[1].rpartition(":")
deadline = time.monotonic() + float(sys.argv[2])
while True:
    try:
        socket.create_connection((host, int(port)), timeout=3).close()
        break
    except (OSError, ValueError):
        if time.monotonic() > deadline:
            sys.exit(1)
        time.sleep(1)
PY
    then
        echo "reglab: no Ray head answers at $address. Start the cluster with" \
             "'docker compose --profile cluster up -d', or set REGLAB_EXECUTOR=local." >&2
        exit 1
    fi
    ray start --address="$address" --num-cpus=0 --disable-usage-stats
fi

exec "$@"
