#!/usr/bin/env bash
# Build the project's images with buildah (no Docker engine needed):
#   1. the base image the Dockerfiles name, docker.io/library/debian:bookworm-slim, made locally with
#      debootstrap from the machine's Debian mirror (skipped when buildah already has it);
#   2. Dockerfile.operator and Dockerfile.renderer, tagged docker.io/library/preboarding-<name>:<version>
#      (the names a kubelet resolves `preboarding-<name>:<version>` to).
# With --archive DIR, also writes DIR/preboarding-<name>.tar (oci-archive) for `ctr images import`.
# Needs root, buildah and debootstrap (Debian packages). pip inside the build reaches PyPI through the
# host's CA bundle, mounted at a separate path with build/pip.conf (see that file).
set -euo pipefail

cd "$(dirname "$0")/.."
ARCHIVE_DIR=""
if [[ "${1:-}" == "--archive" ]]; then
  ARCHIVE_DIR="$(realpath -m "${2:?--archive needs a directory}")"
  mkdir -p "$ARCHIVE_DIR"
fi
VERSION="$(sed -n 's/^version = "\(.*\)"/\1/p' pyproject.toml | head -1)"
BASE="docker.io/library/debian:bookworm-slim"
HOST_CA="${HOST_CA:-/etc/ssl/certs/ca-certificates.crt}"
MIRROR="${DEBIAN_MIRROR:-$(sed -n 's/^URIs: *\([^ ]*debian\)$/\1/p' /etc/apt/sources.list.d/debian.sources 2>/dev/null \
  | head -1)}"
MIRROR="${MIRROR:-http://deb.debian.org/debian}"

for tool in buildah debootstrap; do
  command -v "$tool" >/dev/null || { echo "images: $tool is missing (apt-get install -y buildah debootstrap)" >&2; exit 1; }
done

if ! buildah inspect --type image "$BASE" >/dev/null 2>&1; then
  start=$SECONDS
  rootfs="$(mktemp -d /var/tmp/preboarding-rootfs.XXXXXX)"
  trap 'rm -rf "$rootfs"' EXIT
  echo "images: building $BASE with debootstrap from $MIRROR" >&2
  debootstrap --variant=minbase bookworm "$rootfs" "$MIRROR" >/dev/null
  # Slim it like the official image: no apt lists, caches or docs.
  rm -rf "$rootfs"/var/lib/apt/lists/* "$rootfs"/var/cache/apt/*.bin "$rootfs"/usr/share/doc/* \
    "$rootfs"/usr/share/man/* "$rootfs"/usr/share/locale/*
  ctr="$(buildah from scratch)"
  mnt="$(buildah mount "$ctr")"
  cp -a "$rootfs"/. "$mnt"/
  buildah umount "$ctr" >/dev/null
  buildah config --env PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin --cmd bash "$ctr"
  buildah commit --quiet "$ctr" "$BASE" >/dev/null
  buildah rm "$ctr" >/dev/null
  rm -rf "$rootfs"
  echo "images: $BASE built in $((SECONDS - start)) s" >&2
fi

for name in operator renderer; do
  image="docker.io/library/preboarding-$name:$VERSION"
  start=$SECONDS
  buildah bud --quiet --isolation chroot --pull=never --layers \
    --volume "$HOST_CA:/run/host-ca.crt:ro" --volume "$PWD/build/pip.conf:/etc/pip.conf:ro" \
    -f "Dockerfile.$name" -t "$image" . >/dev/null
  size="$(buildah images --format '{{.Size}}' "$image" 2>/dev/null | head -1)"
  echo "images: $image built in $((SECONDS - start)) s${size:+ ($size)}" >&2
  if [[ -n "$ARCHIVE_DIR" ]]; then
    rm -f "$ARCHIVE_DIR/preboarding-$name.tar"
    buildah push --quiet "$image" "oci-archive:$ARCHIVE_DIR/preboarding-$name.tar:$image"
  fi
  echo "$image"
done
