#!/usr/bin/env bash
# Build the test node's sandbox (pause) image: pause.c compiled static with gcc, packed by a few lines of
# Python into a one-layer OCI image archive that `ctr images import` takes. Nothing can be pulled here.
# Cached as $PREBOARDING_CACHE/pause-<version>/pause.tar; prints the archive's path.
set -euo pipefail

PAUSE_VERSION="${PAUSE_VERSION:-1}"
IMAGE="${PAUSE_IMAGE:-localhost/preboarding-pause:$PAUSE_VERSION}"
CACHE="${PREBOARDING_CACHE:-$HOME/.cache/preboarding}"
OUT="$CACHE/pause-$PAUSE_VERSION"
if [[ -s "$OUT/pause.tar" ]]; then
  echo "$OUT/pause.tar"
  exit 0
fi
command -v gcc >/dev/null || { echo "build-pause: gcc is missing (apt-get install -y gcc libc6-dev)" >&2; exit 1; }

work="$(mktemp -d "${TMPDIR:-/tmp}/preboarding-pause.XXXXXX")"
trap 'rm -rf "$work"' EXIT
gcc -static -Os -s -Wall -Werror -o "$work/pause" "$(dirname "$0")/pause.c"
case "$(uname -m)" in x86_64) arch=amd64 ;; aarch64) arch=arm64 ;; *) arch="$(uname -m)" ;; esac

python3 - "$work/pause" "$work/pause.tar" "$IMAGE" "$arch" <<'PY'
import gzip, hashlib, io, json, sys, tarfile

binary, archive, image, arch = sys.argv[1:]

def tar_bytes(files):
    buf = io.BytesIO()
    with tarfile.open(fileobj=buf, mode="w", format=tarfile.PAX_FORMAT) as tar:
        for name, data, mode in files:
            info = tarfile.TarInfo(name)
            info.size, info.mode, info.mtime = len(data), mode, 0
            tar.addfile(info, io.BytesIO(data))
    return buf.getvalue()

layer = tar_bytes([("pause", open(binary, "rb").read(), 0o755)])
layer_gz = gzip.compress(layer, mtime=0)
config = json.dumps({
    "architecture": arch, "os": "linux",
    "config": {"Entrypoint": ["/pause"], "User": "65535:65535"},
    "rootfs": {"type": "layers", "diff_ids": ["sha256:" + hashlib.sha256(layer).hexdigest()]},
}).encode()

def descriptor(media_type, data, **extra):
    return {"mediaType": media_type, "digest": "sha256:" + hashlib.sha256(data).hexdigest(), "size": len(data), **extra}

manifest = json.dumps({
    "schemaVersion": 2, "mediaType": "application/vnd.oci.image.manifest.v1+json",
    "config": descriptor("application/vnd.oci.image.config.v1+json", config),
    "layers": [descriptor("application/vnd.oci.image.layer.v1.tar+gzip", layer_gz)],
}).encode()
index = json.dumps({"schemaVersion": 2, "manifests": [descriptor(
    "application/vnd.oci.image.manifest.v1+json", manifest,
    platform={"architecture": arch, "os": "linux"},
    annotations={"io.containerd.image.name": image, "org.opencontainers.image.ref.name": image})]}).encode()

files = [("oci-layout", b'{"imageLayoutVersion":"1.0.0"}', 0o644), ("index.json", index, 0o644)]
files += [("blobs/sha256/" + hashlib.sha256(b).hexdigest(), b, 0o644) for b in (layer_gz, config, manifest)]
open(archive, "wb").write(tar_bytes(files))
PY
mkdir -p "$OUT"
mv "$work/pause.tar" "$OUT/pause.tar.partial"
mv "$OUT/pause.tar.partial" "$OUT/pause.tar"
echo "$OUT/pause.tar"
