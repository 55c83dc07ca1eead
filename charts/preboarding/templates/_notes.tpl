{{- define "preboarding.notes" -}}
{{- $ns := .Release.Namespace }}
{{- $bridge := include "preboarding.bridge.fullname" . }}
{{- $videoNs := include "preboarding.bridge.videoNamespace" . }}
Preboarding {{ .Chart.AppVersion }} is installed as "{{ .Release.Name }}" in namespace {{ $ns }}.

The operator serves: {{ include "preboarding.watchNamespaces" . | fromJsonArray | join ", " }}
{{- if .Values.operator.peering.enabled }} (peering "{{ .Values.operator.peering.name }}"){{ end }}.
Store: {{ include "preboarding.s3.endpoint" . }}, bucket {{ .Values.s3.bucket }}
{{- if and .Values.minio.enabled (not .Values.s3.endpoint) }} (the bundled MinIO: a quick start, not for production){{ end }}.
{{- if .Values.bridge.enabled }}

1. Reach the bridge:
{{- if .Values.network.hostNetwork }}

     BRIDGE=http://{{ include "preboarding.selfHost" . }}:{{ .Values.bridge.port }}    # on the node (hostNetwork)
{{- else if .Values.bridge.ingress.enabled }}

     BRIDGE=http{{ if .Values.bridge.ingress.tls }}s{{ end }}://{{ (first .Values.bridge.ingress.hosts).host }}
{{- else }}

     kubectl -n {{ $ns }} port-forward svc/{{ $bridge }} 8080:{{ .Values.bridge.service.port }} &
     BRIDGE=http://127.0.0.1:8080
{{- end }}
     curl -s $BRIDGE/health
     helm test {{ .Release.Name }} -n {{ $ns }}    # a pod checks the bridge, the apiserver and the store

2. Send a first signed webhook (Standard Webhooks: HMAC-SHA256 over "<id>.<timestamp>.<body>"):
{{- if .Values.bridge.webhook.existingSecret }}

     SECRET=$(kubectl -n {{ $ns }} get secret {{ .Values.bridge.webhook.existingSecret }} \
       -o jsonpath='{.data.{{ .Values.bridge.webhook.existingSecretKeys.secrets }}}' | base64 -d | cut -d, -f1)
{{- else }}
{{- if and (not .Values.bridge.webhook.secrets) (not .Values.bridge.webhook.bearerTokens) }}

   No webhook secret was given, so one was generated (and is kept across upgrades).
{{- end }}

     SECRET=$(kubectl -n {{ $ns }} get secret {{ $bridge }} \
       -o jsonpath='{.data.PREBOARDING_WEBHOOK_SECRETS}' | base64 -d | cut -d, -f1)
{{- end }}
     KEY=$(printf %s "${SECRET#whsec_}" | base64 -d | od -An -tx1 | tr -d ' \n')
     ID=msg_$(date +%s%N); TS=$(date +%s); BODY=$(cat examples/new-hire.json)
     SIG=$(printf '%s.%s.%s' "$ID" "$TS" "$BODY" \
       | openssl dgst -sha256 -mac HMAC -macopt "hexkey:$KEY" -binary | base64)
     curl -s $BRIDGE/webhooks/user-onboarding -H 'content-type: application/json' \
       -H "webhook-id: $ID" -H "webhook-timestamp: $TS" -H "webhook-signature: v1,$SIG" \
       --data-binary "$BODY"

   (An HR system that cannot sign sends "Authorization: Bearer <token>" with one of bridge.webhook.bearerTokens.)
{{- if and .Values.bridge.sources.enabled .Values.bridge.sources.items }}

   Your HR systems' webhook URLs (paste each into the vendor's admin UI; docs/hr-vendors.md):
{{- range .Values.bridge.sources.items }}

     {{ .vendor | printf "%-10s" }} $BRIDGE/webhooks/sources/{{ .name }}
{{- end }}

     kubectl -n {{ $videoNs }} get obs    # NAME  VENDOR  READY  LAST DELIVERY  AGE
{{- end }}
{{- else }}

The bridge is disabled: create OnboardingVideos directly (see examples/onboardingvideo.yaml).
{{- end }}

3. Watch the video being rendered, one Job per stage:

     kubectl -n {{ $videoNs }} get ov -w              # NAME  EMPLOYEE  PHASE  STAGE  PROGRESS  AGE
     kubectl -n {{ $videoNs }} get jobs -l app.kubernetes.io/component=renderer
     kubectl -n {{ $videoNs }} describe ov <name>     # conditions per stage, events

   A Failed video is retried from the failed stage with:
     kubectl -n {{ $videoNs }} annotate ov <name> preboarding.dev/retry="$(date +%s)" --overwrite
{{- if .Values.crds.install }}

The CRDs are {{ if .Values.crds.keep }}kept on `helm uninstall` (helm.sh/resource-policy: keep){{ else }}deleted on `helm uninstall`, and every OnboardingVideo with them{{ end }}.
{{- end }}
{{- end }}
