#!/usr/bin/env bash
# Build Kubernetes control-plane and node binaries (and etcd) from the Go module proxy.
#
# k8s.io/kubernetes cannot be `go install`ed: its go.mod replaces the staging modules with local
# paths. We build through a tiny wrapper module that requires k8s.io/kubernetes and replaces each
# staging module with its published v0.Y.Z twin (the pattern kubernetes-sigs/scheduler-plugins uses).
# Results are cached under $PREBOARDING_CACHE/kube-v<version>/bin, so this runs once per machine.
set -euo pipefail

KUBE_VERSION="${KUBE_VERSION:-1.34.4}"
CACHE="${PREBOARDING_CACHE:-$HOME/.cache/preboarding}"
OUT="$CACHE/kube-v$KUBE_VERSION/bin"
COMPONENTS=(kube-apiserver kube-controller-manager kube-scheduler kubelet kubectl etcd)

missing=0
for c in "${COMPONENTS[@]}"; do [[ -x "$OUT/$c" ]] || missing=1; done
if [[ $missing == 0 ]]; then
  echo "kubernetes v$KUBE_VERSION: cached in $OUT"
  exit 0
fi

export GOFLAGS="-mod=mod -buildvcs=false" CGO_ENABLED=0 GOTOOLCHAIN=local
work="$(mktemp -d "${TMPDIR:-/tmp}/preboarding-kube-build.XXXXXX")"
trap 'rm -rf "$work"' EXIT
cd "$work"

minor="${KUBE_VERSION#*.}"; minor="${minor%%.*}"
staging_version="v0.${KUBE_VERSION#*.}"
echo "kubernetes v$KUBE_VERSION: downloading module source"
kdir="$(go mod download -json "k8s.io/kubernetes@v$KUBE_VERSION" | python3 -c 'import json,sys; print(json.load(sys.stdin)["Dir"])')"

{
  echo "module preboarding.dev/kube-build"
  echo
  grep -E '^go [0-9]' "$kdir/go.mod"
  grep -E '^godebug ' "$kdir/go.mod" || true
  echo
  echo "require k8s.io/kubernetes v$KUBE_VERSION"
  echo
  # Every `k8s.io/<name> => ./staging/src/k8s.io/<name>` becomes `=> k8s.io/<name> v0.Y.Z`.
  grep -oE 'k8s\.io/[a-z0-9-]+ => \./staging/src/k8s\.io/[a-z0-9-]+' "$kdir/go.mod" \
    | awk -v v="$staging_version" '{print "replace " $1 " => " $1 " " v}'
} > go.mod

# etcd's own submodules use relative replaces, so it is built from a one-line main against the
# etcd server version Kubernetes itself pins.
mkdir -p cmd/etcd
cat > cmd/etcd/main.go <<'GO'
package main

import (
	"os"

	"go.etcd.io/etcd/server/v3/etcdmain"
)

func main() { etcdmain.Main(os.Args) }
GO

# Blank imports under a build tag keep `go mod tidy` from dropping k8s.io/kubernetes.
cat > tools.go <<'GO'
//go:build tools

package tools

import (
	_ "k8s.io/kubernetes/cmd/kube-apiserver"
	_ "k8s.io/kubernetes/cmd/kube-controller-manager"
	_ "k8s.io/kubernetes/cmd/kube-scheduler"
	_ "k8s.io/kubernetes/cmd/kubectl"
	_ "k8s.io/kubernetes/cmd/kubelet"
)
GO

echo "kubernetes v$KUBE_VERSION: resolving modules"
# tidy resolves every dependency at the version k8s.io/kubernetes itself requires (no upgrades).
go mod tidy

ldflags="-s -w"
for pkg in k8s.io/component-base/version k8s.io/client-go/pkg/version; do
  ldflags+=" -X $pkg.gitVersion=v$KUBE_VERSION -X $pkg.gitMajor=1 -X $pkg.gitMinor=$minor"
  ldflags+=" -X $pkg.gitTreeState=clean -X $pkg.buildDate=1970-01-01T00:00:00Z"
done

mkdir -p "$OUT.partial"
echo "kubernetes v$KUBE_VERSION: building ${COMPONENTS[*]} (a cold build takes 15-30 minutes on 2 cores)"
start=$SECONDS
go build -trimpath -ldflags "$ldflags" -o "$OUT.partial/" \
  k8s.io/kubernetes/cmd/kube-apiserver \
  k8s.io/kubernetes/cmd/kube-controller-manager \
  k8s.io/kubernetes/cmd/kube-scheduler \
  k8s.io/kubernetes/cmd/kubelet \
  k8s.io/kubernetes/cmd/kubectl \
  ./cmd/etcd
rm -rf "$OUT"
mv "$OUT.partial" "$OUT"
echo "kubernetes v$KUBE_VERSION: built in $((SECONDS - start)) s into $OUT"
