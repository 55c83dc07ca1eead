{{/* Names ------------------------------------------------------------------------------------------ */}}

{{- define "preboarding.name" -}}
{{- default .Chart.Name .Values.nameOverride | trunc 63 | trimSuffix "-" }}
{{- end }}

{{/* "<release>-preboarding", or the release name when it already contains the chart name; 40 characters
at most, so that "<fullname>-<suffix>" stays a valid name. */}}
{{- define "preboarding.fullname" -}}
{{- if .Values.fullnameOverride }}
{{- .Values.fullnameOverride | trunc 40 | trimSuffix "-" }}
{{- else }}
{{- $name := default .Chart.Name .Values.nameOverride }}
{{- if contains $name .Release.Name }}
{{- .Release.Name | trunc 40 | trimSuffix "-" }}
{{- else }}
{{- printf "%s-%s" .Release.Name $name | trunc 40 | trimSuffix "-" }}
{{- end }}
{{- end }}
{{- end }}

{{- define "preboarding.chart" -}}
{{- printf "%s-%s" .Chart.Name .Chart.Version | replace "+" "_" | trunc 63 | trimSuffix "-" }}
{{- end }}

{{/* Labels: the standard app.kubernetes.io/* set. Call with (dict "ctx" $ "component" "operator"). */}}
{{- define "preboarding.labels" -}}
helm.sh/chart: {{ include "preboarding.chart" .ctx }}
{{ include "preboarding.selectorLabels" . }}
app.kubernetes.io/version: {{ .ctx.Chart.AppVersion | quote }}
app.kubernetes.io/managed-by: {{ .ctx.Release.Service }}
app.kubernetes.io/part-of: preboarding
{{- with .ctx.Values.commonLabels }}
{{ toYaml . }}
{{- end }}
{{- end }}

{{- define "preboarding.selectorLabels" -}}
app.kubernetes.io/name: {{ include "preboarding.name" .ctx }}
app.kubernetes.io/instance: {{ .ctx.Release.Name }}
app.kubernetes.io/component: {{ .component }}
{{- end }}

{{/* Object names ------------------------------------------------------------------------------------ */}}

{{- define "preboarding.operator.fullname" -}}{{ include "preboarding.fullname" . }}-operator{{- end }}
{{- define "preboarding.bridge.fullname" -}}{{ include "preboarding.fullname" . }}-bridge{{- end }}
{{- define "preboarding.renderer.fullname" -}}{{ include "preboarding.fullname" . }}-renderer{{- end }}
{{- define "preboarding.minio.fullname" -}}{{ include "preboarding.fullname" . }}-minio{{- end }}
{{- define "preboarding.google.fullname" -}}{{ include "preboarding.fullname" . }}-google{{- end }}
{{- define "preboarding.watch.fullname" -}}{{ include "preboarding.fullname" . }}-watch{{- end }}

{{/* Watch links: the base URL new hires open ("" without one), and the signing keys' text. */}}
{{- define "preboarding.watch.url" -}}
{{- $w := .Values.bridge.watch }}
{{- if and .Values.bridge.enabled $w.enabled }}{{ default .Values.bridge.publicUrl $w.url }}{{ end }}
{{- end }}
{{- define "preboarding.watch.keys" -}}
{{- $w := .Values.bridge.watch }}
{{- if $w.keys }}{{ join "," $w.keys }}{{ else }}{{ (include "preboarding.generated" . | fromJson).watchKeys }}{{ end }}
{{- end }}
{{- define "preboarding.store.fullname" -}}{{ include "preboarding.fullname" . }}-store{{- end }}

{{- define "preboarding.operator.serviceAccountName" -}}
{{- default (include "preboarding.operator.fullname" .) .Values.operator.serviceAccount.name }}
{{- end }}
{{- define "preboarding.bridge.serviceAccountName" -}}
{{- default (include "preboarding.bridge.fullname" .) .Values.bridge.serviceAccount.name }}
{{- end }}
{{- define "preboarding.renderer.serviceAccountName" -}}
{{- default (include "preboarding.renderer.fullname" .) .Values.renderer.serviceAccount.name }}
{{- end }}

{{/* Images ------------------------------------------------------------------------------------------ */}}

{{- define "preboarding.operator.image" -}}
{{- printf "%s:%s" .Values.image.operator.repository (default .Chart.AppVersion .Values.image.operator.tag) }}
{{- end }}
{{- define "preboarding.renderer.image" -}}
{{- printf "%s:%s" .Values.image.renderer.repository (default .Chart.AppVersion .Values.image.renderer.tag) }}
{{- end }}

{{/* Namespaces -------------------------------------------------------------------------------------- */}}

{{/* The namespaces the operator serves, as a JSON list (templates read it with fromJsonArray). */}}
{{- define "preboarding.watchNamespaces" -}}
{{- if .Values.operator.watchNamespaces }}
{{- .Values.operator.watchNamespaces | uniq | toJson }}
{{- else }}
{{- list .Release.Namespace | toJson }}
{{- end }}
{{- end }}

{{- define "preboarding.bridge.videoNamespace" -}}
{{- default .Release.Namespace .Values.bridge.videoNamespace }}
{{- end }}

{{/* Store ------------------------------------------------------------------------------------------- */}}

{{- define "preboarding.s3.endpoint" -}}
{{- if .Values.s3.endpoint }}
{{- .Values.s3.endpoint }}
{{- else if .Values.minio.enabled }}
{{- if .Values.network.hostNetwork }}
{{- printf "127.0.0.1:%d" (int .Values.minio.port) }}
{{- else }}
{{- printf "%s.%s.svc:%d" (include "preboarding.minio.fullname" .) .Release.Namespace (int .Values.minio.port) }}
{{- end }}
{{- else }}
{{- fail "s3.endpoint is required when minio.enabled is false: set it to the host:port of your S3 endpoint" }}
{{- end }}
{{- end }}

{{/* Name of the Secret with the store keys: the existing one, or the chart's. */}}
{{- define "preboarding.s3.secretName" -}}
{{- default (include "preboarding.store.fullname" .) .Values.s3.existingSecret }}
{{- end }}
{{- define "preboarding.s3.accessKeyKey" -}}
{{- if .Values.s3.existingSecret }}{{ .Values.s3.existingSecretKeys.accessKey }}{{ else }}PREBOARDING_S3_ACCESS_KEY{{ end }}
{{- end }}
{{- define "preboarding.s3.secretKeyKey" -}}
{{- if .Values.s3.existingSecret }}{{ .Values.s3.existingSecretKeys.secretKey }}{{ else }}PREBOARDING_S3_SECRET_KEY{{ end }}
{{- end }}

{{/* Non-secret store settings shared by every component's ConfigMap. */}}
{{- define "preboarding.s3.config" -}}
PREBOARDING_S3_ENDPOINT: {{ include "preboarding.s3.endpoint" . | quote }}
PREBOARDING_S3_BUCKET: {{ .Values.s3.bucket | quote }}
PREBOARDING_S3_SECURE: {{ .Values.s3.secure | quote }}
PREBOARDING_S3_REGION: {{ .Values.s3.region | quote }}
{{- with .Values.s3.publicEndpoint }}
PREBOARDING_S3_PUBLIC_ENDPOINT: {{ . | quote }}
{{- end }}
{{- end }}

{{/* Generated credentials -----------------------------------------------------------------------------
Computed once per render (memoized on the root context, so every template that includes this sees the
same values) and kept across upgrades by reading the Secrets of the previous release. Returns JSON:
{"s3AccessKey", "s3SecretKey", "webhookSecret"}. */}}
{{- define "preboarding.generated" -}}
{{- if not (hasKey . "preboardingGenerated") }}
{{- $generated := dict }}
{{- $store := lookup "v1" "Secret" .Release.Namespace (include "preboarding.store.fullname" .) | default dict }}
{{- $storeData := get $store "data" | default dict }}
{{- $_ := set $generated "s3AccessKey" (get $storeData "PREBOARDING_S3_ACCESS_KEY" | default "" | b64dec | default (randAlphaNum 20)) }}
{{- $_ := set $generated "s3SecretKey" (get $storeData "PREBOARDING_S3_SECRET_KEY" | default "" | b64dec | default (randAlphaNum 40)) }}
{{- $bridge := lookup "v1" "Secret" .Release.Namespace (include "preboarding.bridge.fullname" .) | default dict }}
{{- $bridgeData := get $bridge "data" | default dict }}
{{- $_ := set $generated "webhookSecret" (get $bridgeData "PREBOARDING_WEBHOOK_SECRETS" | default "" | b64dec | default (printf "whsec_%s" (randBytes 32))) }}
{{- $watch := lookup "v1" "Secret" .Release.Namespace (include "preboarding.watch.fullname" .) | default dict }}
{{- $watchData := get $watch "data" | default dict }}
{{- $_ := set $generated "watchKeys" (get $watchData "PREBOARDING_WATCH_KEYS" | default "" | b64dec | default (printf "k1:%s" (randAlphaNum 48))) }}
{{- $_ := set . "preboardingGenerated" $generated }}
{{- end }}
{{- get . "preboardingGenerated" | toJson }}
{{- end }}

{{/* The store keys the chart puts in its Secrets (values, or generated for the bundled MinIO). JSON. */}}
{{- define "preboarding.s3.keys" -}}
{{- $generated := include "preboarding.generated" . | fromJson }}
{{- $access := .Values.s3.accessKey }}
{{- $secret := .Values.s3.secretKey }}
{{- if and .Values.minio.enabled (not .Values.s3.endpoint) }}
{{- $access = default $generated.s3AccessKey $access }}
{{- $secret = default $generated.s3SecretKey $secret }}
{{- end }}
{{- dict "accessKey" $access "secretKey" $secret | toJson }}
{{- end }}

{{/* Renderer ---------------------------------------------------------------------------------------- */}}

{{/* Provider secrets the chart itself stores in the renderer Secret (env-var names as keys). JSON. */}}
{{- define "preboarding.renderer.secretData" -}}
{{- $data := dict }}
{{- $r := .Values.renderer }}
{{- if and $r.openai.apiKey (not $r.openai.existingSecret) }}
{{- $_ := set $data "OPENAI_API_KEY" $r.openai.apiKey }}
{{- end }}
{{- if and $r.sendgrid.apiKey (not $r.sendgrid.existingSecret) }}
{{- $_ := set $data "SENDGRID_API_KEY" $r.sendgrid.apiKey }}
{{- end }}
{{- if and $r.smtp.password (not $r.smtp.existingSecret) }}
{{- $_ := set $data "PREBOARDING_SMTP_PASSWORD" $r.smtp.password }}
{{- end }}
{{- if and .Values.bridge.watch.enabled (not .Values.bridge.watch.existingSecret) }}
{{- $_ := set $data "PREBOARDING_WATCH_KEYS" (include "preboarding.watch.keys" .) }}
{{- end }}
{{- if not .Values.s3.existingSecret }}
{{- $keys := include "preboarding.s3.keys" . | fromJson }}
{{- if $keys.accessKey }}
{{- $_ := set $data "PREBOARDING_S3_ACCESS_KEY" $keys.accessKey }}
{{- end }}
{{- if $keys.secretKey }}
{{- $_ := set $data "PREBOARDING_S3_SECRET_KEY" $keys.secretKey }}
{{- end }}
{{- end }}
{{- $data | toJson }}
{{- end }}

{{/* Secrets the stage Jobs must read from Secrets the chart does not own: {ENV: {name, key}}. JSON. */}}
{{- define "preboarding.renderer.secretRefs" -}}
{{- $refs := dict }}
{{- $r := .Values.renderer }}
{{- with $r.openai.existingSecret }}
{{- $_ := set $refs "OPENAI_API_KEY" (dict "name" . "key" $r.openai.existingSecretKey) }}
{{- end }}
{{- with $r.sendgrid.existingSecret }}
{{- $_ := set $refs "SENDGRID_API_KEY" (dict "name" . "key" $r.sendgrid.existingSecretKey) }}
{{- end }}
{{- with $r.smtp.existingSecret }}
{{- $_ := set $refs "PREBOARDING_SMTP_PASSWORD" (dict "name" . "key" $r.smtp.existingSecretKey) }}
{{- end }}
{{- if .Values.bridge.watch.enabled }}
{{- with .Values.bridge.watch.existingSecret }}
{{- $_ := set $refs "PREBOARDING_WATCH_KEYS" (dict "name" . "key" $.Values.bridge.watch.existingSecretKey) }}
{{- end }}
{{- end }}
{{- with .Values.s3.existingSecret }}
{{- $_ := set $refs "PREBOARDING_S3_ACCESS_KEY" (dict "name" . "key" $.Values.s3.existingSecretKeys.accessKey) }}
{{- $_ := set $refs "PREBOARDING_S3_SECRET_KEY" (dict "name" . "key" $.Values.s3.existingSecretKeys.secretKey) }}
{{- end }}
{{- $refs | toJson }}
{{- end }}

{{/* The Secret with Google's service-account JSON ({name, key}), or {} when Google TTS is not configured. */}}
{{- define "preboarding.renderer.googleCredentials" -}}
{{- $g := .Values.renderer.google }}
{{- if $g.existingSecret }}
{{- dict "name" $g.existingSecret "key" $g.existingSecretKey | toJson }}
{{- else if $g.credentialsJson }}
{{- dict "name" (include "preboarding.google.fullname" .) "key" "credentials.json" | toJson }}
{{- else }}
{{- dict | toJson }}
{{- end }}
{{- end }}

{{/* Pods -------------------------------------------------------------------------------------------- */}}

{{/* hostNetwork, DNS policy and pull secrets shared by every pod spec. */}}
{{- define "preboarding.podNetwork" -}}
{{- if .Values.network.hostNetwork }}
hostNetwork: true
dnsPolicy: ClusterFirstWithHostNet
{{- end }}
enableServiceLinks: false
{{- with .Values.imagePullSecrets }}
imagePullSecrets:
{{- range . }}
  - name: {{ . }}
{{- end }}
{{- end }}
{{- end }}

{{/* Explicit apiserver address for in-cluster clients (wins over what the kubelet injects). */}}
{{- define "preboarding.kubernetesServiceEnv" -}}
{{- with .Values.network.kubernetesServiceHost }}
- name: KUBERNETES_SERVICE_HOST
  value: {{ . | quote }}
{{- end }}
{{- with .Values.network.kubernetesServicePort | toString }}
- name: KUBERNETES_SERVICE_PORT
  value: {{ . | quote }}
- name: KUBERNETES_SERVICE_PORT_HTTPS
  value: {{ . | quote }}
{{- end }}
{{- end }}

{{/* The host the probes target: only set when pods share the node's network and listen on loopback. */}}
{{- define "preboarding.probeHost" -}}
{{- if and .Values.network.hostNetwork (ne .Values.network.listenHost "0.0.0.0") }}
host: {{ .Values.network.listenHost | quote }}
{{- end }}
{{- end }}

{{/* The address a URL in the pod uses to reach its own server. */}}
{{- define "preboarding.selfHost" -}}
{{- if eq .Values.network.listenHost "0.0.0.0" }}127.0.0.1{{ else }}{{ .Values.network.listenHost }}{{ end }}
{{- end }}

{{/* Validation ---------------------------------------------------------------------------------------- */}}

{{- define "preboarding.validate" -}}
{{- $namespaces := include "preboarding.watchNamespaces" . | fromJsonArray }}
{{- if and (not .Values.operator.peering.enabled) (gt (int .Values.operator.replicas) 1) }}
{{- fail "operator.replicas > 1 needs operator.peering.enabled=true: without peering, replicas would both act" }}
{{- end }}
{{- if and .Values.bridge.enabled (not (has (include "preboarding.bridge.videoNamespace" .) $namespaces)) }}
{{- fail (printf "bridge.videoNamespace %q is not watched by the operator: add it to operator.watchNamespaces" (include "preboarding.bridge.videoNamespace" .)) }}
{{- end }}
{{- if and .Values.s3.endpoint .Values.minio.enabled }}
{{- fail "s3.endpoint and minio.enabled are both set: use one store (set minio.enabled=false for an external S3)" }}
{{- end }}
{{- end }}
