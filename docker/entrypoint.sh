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
    if ! ray start --address="$address" --num-cpus=0 --disable-usage-stats; then
        echo "reglab: cannot join the Ray cluster at $address. Start it with" \
             "'docker compose --profile cluster up -d', or set REGLAB_EXECUTOR=local." >&2
        exit 1
    fi
fi

exec "$@"
