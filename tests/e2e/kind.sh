#!/usr/bin/env bash
# The scenario of `make e2e` (tests/e2e/test_chart_on_node.py) on a kind cluster, for a machine with Docker,
# kind, kubectl, helm, openssl, curl and ffprobe. It cannot run on the project's test machine (no Docker engine,
# nothing can be pulled there); it is kept equal in steps:
#   1. build the images            5. post a signed webhook of examples/new-hire.json to the bridge
#   2. start the cluster           6. wait for Succeeded; find the email (an SMTP sink) with the link
#   3. load the images             7. download the video through the link, check it with ffprobe
#   4. helm install the chart      8. delete the job: its stored objects go; helm uninstall
# Differences forced by the place: the bundled MinIO instead of the ground's (links signed for a port-forward),
# and an SMTP sink pod (Python's smtpd from the operator image) instead of the ground's aiosmtpd.
# Usage: tests/e2e/kind.sh [--keep]   (--keep leaves the cluster running)
set -euo pipefail

cd "$(dirname "$0")/../.."
CLUSTER=preboarding-e2e NS=preboarding-e2e RELEASE=preboarding
VERSION="$(sed -n 's/^version = "\(.*\)"/\1/p' pyproject.toml | head -1)"
BRIDGE_PORT=18080 S3_PORT=19000
KEEP="${1:-}"
work="$(mktemp -d)"
phase() { echo "e2e: $1 ($((SECONDS - t0)) s)"; t0=$SECONDS; }
cleanup() {
  jobs -p | xargs -r kill 2>/dev/null || true
  [[ "$KEEP" == --keep ]] || kind delete cluster --name "$CLUSTER" >/dev/null 2>&1 || true
  rm -rf "$work"
}
trap cleanup EXIT
t0=$SECONDS

# 1. Images, from the same Dockerfiles as build/images.sh.
for name in operator renderer; do
  docker build -q -f "Dockerfile.$name" -t "preboarding-$name:$VERSION" . >/dev/null
done
phase "images built"

# 2-3. The cluster, with our images loaded into its node.
kind create cluster --name "$CLUSTER" --wait 120s >/dev/null
kind load docker-image --name "$CLUSTER" "preboarding-operator:$VERSION" "preboarding-renderer:$VERSION" >/dev/null
phase "cluster started, images loaded"

# 4. An SMTP sink that prints every message, then the chart with offline providers and the bundled MinIO.
kubectl create namespace "$NS" >/dev/null
kubectl -n "$NS" apply -f - >/dev/null <<YAML
apiVersion: v1
kind: Pod
metadata: {name: smtp-sink, labels: {app: smtp-sink}}
spec:
  containers:
    - name: smtp
      image: preboarding-operator:$VERSION
      imagePullPolicy: Never
      command: [python3, -u, -W, ignore, -m, smtpd, -n, -c, DebuggingServer, "0.0.0.0:2525"]
---
apiVersion: v1
kind: Service
metadata: {name: smtp-sink}
spec: {selector: {app: smtp-sink}, ports: [{port: 2525}]}
YAML
SECRET="whsec_$(head -c 32 /dev/urandom | base64)"
helm install "$RELEASE" charts/preboarding --namespace "$NS" --wait --timeout 5m \
  --set image.pullPolicy=Never --set minio.persistence.enabled=false \
  --set s3.publicEndpoint="http://127.0.0.1:$S3_PORT" \
  --set renderer.providers.script=template --set renderer.providers.tts=flite --set renderer.providers.mail=smtp \
  --set renderer.smtp.host="smtp-sink.$NS.svc" --set renderer.smtp.port=2525 \
  --set bridge.replicas=1 --set "bridge.webhook.secrets={$SECRET}" >/dev/null
kubectl -n "$NS" wait pod/smtp-sink --for=condition=Ready --timeout=120s >/dev/null
kubectl -n "$NS" port-forward "svc/$RELEASE-bridge" "$BRIDGE_PORT:80" >/dev/null &
kubectl -n "$NS" port-forward "svc/$RELEASE-minio" "$S3_PORT:9000" >/dev/null &
sleep 3
curl -fsS "http://127.0.0.1:$BRIDGE_PORT/health" >/dev/null
phase "helm install"

# 5. A signed "new hire" webhook (Standard Webhooks: HMAC-SHA256 over "<id>.<timestamp>.<body>").
KEY="$(printf %s "${SECRET#whsec_}" | base64 -d | od -An -tx1 | tr -d ' \n')"
sign() {  # sign BODY -> curl header arguments
  local id ts
  id="msg_$(date +%s%N)" ts="$(date +%s)"
  printf -- '-H\nwebhook-id: %s\n-H\nwebhook-timestamp: %s\n-H\nwebhook-signature: v1,%s\n' "$id" "$ts" \
    "$(printf '%s.%s.%s' "$id" "$ts" "$1" | openssl dgst -sha256 -mac HMAC -macopt "hexkey:$KEY" -binary | base64)"
}
BODY="$(cat examples/new-hire.json)"
mapfile -t headers < <(sign "$BODY")
JOB="$(curl -fsS "http://127.0.0.1:$BRIDGE_PORT/webhooks/user-onboarding" -H 'content-type: application/json' \
  "${headers[@]}" --data-binary "$BODY" | python3 -c 'import json, sys; print(json.load(sys.stdin)["job_id"])')"

# 6. Succeeded, and the email with the link in the sink's output.
kubectl -n "$NS" wait "ov/$JOB" --for=jsonpath='{.status.phase}'=Succeeded --timeout=600s >/dev/null
phase "webhook -> Succeeded"
PREFIX="$(kubectl -n "$NS" get "ov/$JOB" -o jsonpath='{.status.storagePrefix}')"
LINK="$(kubectl -n "$NS" logs smtp-sink | python3 -c '
import ast, email, re, sys
for raw in sys.stdin.read().split("---------- MESSAGE FOLLOWS ----------")[1:]:
    lines = raw.split("------------ END MESSAGE ------------")[0].strip().splitlines()
    message = email.message_from_bytes(b"\n".join(ast.literal_eval(line) for line in lines))  # smtpd prints reprs
    for part in message.walk():
        if part.get_content_type() == "text/plain":
            found = re.search(r"(http://\S+video\.mp4\?\S+)", part.get_payload(decode=True).decode())
            if found and sys.argv[1] in found.group(1):
                print(found.group(1))
' "$PREFIX" | tail -1)"
[[ -n "$LINK" ]] || { echo "e2e: no email with a link to $PREFIX" >&2; exit 1; }

# 7. The new hire's link serves a playable 1080p H.264 + AAC video.
curl -fsS -o "$work/video.mp4" "$LINK"
ffprobe -v error -show_entries stream=codec_name,width,height -of csv=p=0 "$work/video.mp4" | tee "$work/streams"
grep -q '^h264,1920,1080' "$work/streams" && grep -q '^aac' "$work/streams"
phase "video downloaded and checked"

# 8. Deleting the job removes its stored objects (the operator's finalizer); then helm uninstall.
mapfile -t headers < <(sign "")
curl -fsS -X DELETE "http://127.0.0.1:$BRIDGE_PORT/jobs/$JOB" "${headers[@]}" >/dev/null
kubectl -n "$NS" wait "ov/$JOB" --for=delete --timeout=120s >/dev/null
left="$(kubectl -n "$NS" exec "deploy/$RELEASE-operator" -- python -c \
  'import sys; from preboarding.storage import S3Store, StoreSettings; print(len(S3Store(StoreSettings()).list(sys.argv[1])))' \
  "$PREFIX")"
[[ "$left" == 0 ]] || { echo "e2e: $left stored objects left under $PREFIX" >&2; exit 1; }
curl -s -o /dev/null -w '%{http_code}\n' "$LINK" | grep -q 404
helm uninstall "$RELEASE" --namespace "$NS" --wait >/dev/null
phase "deleted and uninstalled"
echo "e2e: passed"
