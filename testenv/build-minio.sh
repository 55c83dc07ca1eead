#!/usr/bin/env bash
# Build the MinIO server from the Go module proxy (MinIO is not packaged in PyPI, npm or Debian).
# MinIO's tags are not semver, so we pin a pseudo-version of a commit. Cached per version.
set -euo pipefail

MINIO_VERSION="${MINIO_VERSION:-v0.0.0-20260212201848-7aac2a2c5b7c}"
CACHE="${PREBOARDING_CACHE:-$HOME/.cache/preboarding}"
OUT="$CACHE/minio-$MINIO_VERSION/bin"

if [[ -x "$OUT/minio" ]]; then
  echo "minio $MINIO_VERSION: cached in $OUT"
  exit 0
fi
echo "minio $MINIO_VERSION: building (a cold build takes several minutes on 2 cores)"
start=$SECONDS
mkdir -p "$OUT.partial"
GOBIN="$OUT.partial" CGO_ENABLED=0 GOTOOLCHAIN=local GOFLAGS="-buildvcs=false" \
  go install -trimpath -ldflags "-s -w" "github.com/minio/minio@$MINIO_VERSION"
rm -rf "$OUT"
mv "$OUT.partial" "$OUT"
echo "minio $MINIO_VERSION: built in $((SECONDS - start)) s into $OUT"
