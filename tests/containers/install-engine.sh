#!/bin/sh
# What `make test-deploy` needs from Debian's packages: podman with Debian's runc (the default crun
# refuses this kind of host's hybrid cgroups), catatonit for `init: true`, netavark and
# aardvark-dns so that containers find each other by service name, iptables (netavark sets up
# every bridge network with it; without it even a build's RUN step fails with "netavark: No such
# file or directory"), and debootstrap for the base image. podman-compose comes from PyPI (the Makefile pins it): Debian 12's 1.0.3 reads neither
# profiles nor `env_file: {path, required}`.
set -eu
missing=""
for cmd in podman runc debootstrap catatonit iptables; do
    command -v "$cmd" >/dev/null 2>&1 || missing="$missing $cmd"
done
for file in /usr/lib/podman/netavark /usr/lib/podman/aardvark-dns; do
    [ -x "$file" ] || missing="$missing $(basename "$file")"
done
[ -z "$missing" ] && exit 0

if [ "$(id -u)" != 0 ] || ! command -v apt-get >/dev/null 2>&1; then
    echo "The deployment tests need:$missing. Install them (Debian: apt-get install podman runc" \
         "debootstrap catatonit netavark aardvark-dns iptables) and rerun 'make test-deploy'." >&2
    exit 1
fi
echo "installing from Debian's packages:$missing"
if command -v fuser >/dev/null 2>&1; then
    while fuser /var/lib/dpkg/lock-frontend >/dev/null 2>&1; do sleep 5; done
fi
apt-get update -q >/dev/null
DEBIAN_FRONTEND=noninteractive apt-get install -y -q \
    podman runc debootstrap catatonit netavark aardvark-dns iptables >/dev/null
