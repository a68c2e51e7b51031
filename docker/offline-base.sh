#!/bin/sh
# A base image for the Dockerfile's PYTHON_IMAGE made from Debian's packages alone, for hosts that
# reach Debian's archive but no image registry: Debian 12 with its Python 3.11, venv and CA
# certificates, a `python` command, and no apt lists, caches, manuals or translations.
#   sh docker/offline-base.sh [IMAGE]        as root, with debootstrap and podman installed
# IMAGE defaults to localhost/reglab-base:bookworm; DEBIAN_MIRROR picks the archive.
set -eu
image="${1:-localhost/reglab-base:bookworm}"
mirror="${DEBIAN_MIRROR:-http://deb.debian.org/debian}"
root="$(mktemp -d "${TMPDIR:-/var/tmp}/reglab-base.XXXXXX")"
trap 'rm -rf "$root"' EXIT INT TERM

debootstrap --variant=minbase --include=python3,python3-venv,ca-certificates \
    bookworm "$root" "$mirror" >"$root.log" 2>&1 || { cat "$root.log" >&2; rm -f "$root.log"; exit 1; }
rm -f "$root.log"
ln -s python3 "$root/usr/bin/python"
# What apt downloaded and indexed, and what no server reads; the Dockerfile's builder runs
# `apt-get update` itself before it installs anything.
rm -rf "$root"/var/cache/apt/* "$root"/var/lib/apt/lists/* "$root"/usr/share/doc/* \
    "$root"/usr/share/man/* "$root"/usr/share/info/* "$root"/usr/share/locale/* \
    "$root"/var/log/* "$root"/tmp/*
tar -C "$root" -c . | podman import --quiet --change 'CMD ["python3"]' - "$image" >/dev/null
echo "$image: $(podman image inspect --format '{{.Size}}' "$image") bytes"
