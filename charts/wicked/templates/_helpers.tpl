{{/* Names, labels and shared snippets of the wicked chart. */}}

{{- define "wicked.name" -}}
{{- default .Chart.Name .Values.nameOverride | trunc 63 | trimSuffix "-" }}
{{- end }}

{{/* The release's base name: the release name, unless it already contains the chart name. */}}
{{- define "wicked.fullname" -}}
{{- if .Values.fullnameOverride }}
{{- .Values.fullnameOverride | trunc 63 | trimSuffix "-" }}
{{- else }}
{{- $name := default .Chart.Name .Values.nameOverride }}
{{- if contains $name .Release.Name }}
{{- .Release.Name | trunc 63 | trimSuffix "-" }}
{{- else }}
{{- printf "%s-%s" .Release.Name $name | trunc 63 | trimSuffix "-" }}
{{- end }}
{{- end }}
{{- end }}

{{- define "wicked.chart" -}}
{{- printf "%s-%s" .Chart.Name .Chart.Version | replace "+" "_" | trunc 63 | trimSuffix "-" }}
{{- end }}

{{- define "wicked.labels" -}}
helm.sh/chart: {{ include "wicked.chart" . }}
app.kubernetes.io/name: {{ include "wicked.name" . }}
app.kubernetes.io/instance: {{ .Release.Name }}
app.kubernetes.io/version: {{ .Chart.AppVersion | quote }}
app.kubernetes.io/managed-by: {{ .Release.Service }}
app.kubernetes.io/part-of: wicked
{{- with .Values.commonLabels }}
{{ toYaml . }}
{{- end }}
{{- end }}

{{/* Selector labels of one component: call with (dict "root" $ "component" "operator"). */}}
{{- define "wicked.selectorLabels" -}}
app.kubernetes.io/name: {{ include "wicked.name" .root }}
app.kubernetes.io/instance: {{ .root.Release.Name }}
app.kubernetes.io/component: {{ .component }}
{{- end }}

{{- define "wicked.componentLabels" -}}
{{ include "wicked.labels" .root }}
app.kubernetes.io/component: {{ .component }}
{{- end }}

{{- define "wicked.image" -}}
{{- if .Values.image.digest -}}
{{ .Values.image.repository }}@{{ .Values.image.digest }}
{{- else -}}
{{ .Values.image.repository }}:{{ .Values.image.tag | default .Chart.AppVersion }}
{{- end }}
{{- end }}

{{- define "wicked.operator.name" -}}{{ include "wicked.fullname" . }}-operator{{- end }}
{{- define "wicked.webhooks.name" -}}{{ include "wicked.fullname" . }}-webhooks{{- end }}
{{- define "wicked.webhooks.tlsSecret" -}}{{ include "wicked.fullname" . }}-webhooks-tls{{- end }}
{{- define "wicked.webhooks.caSecret" -}}{{ include "wicked.fullname" . }}-webhooks-ca{{- end }}
{{- define "wicked.postgres.name" -}}{{ include "wicked.fullname" . }}-postgres{{- end }}

{{/* The user name the operator authenticates as: its writes skip the webhooks (see webhook configurations). */}}
{{- define "wicked.operator.username" -}}
system:serviceaccount:{{ .Release.Namespace }}:{{ include "wicked.operator.name" . }}
{{- end }}

{{/* DNS names of the webhook Service, which the serving certificate must cover. */}}
{{- define "wicked.webhooks.dnsNames" -}}
{{- $svc := include "wicked.webhooks.name" . -}}
{{- $ns := .Release.Namespace -}}
{{- $names := list $svc (printf "%s.%s" $svc $ns) (printf "%s.%s.svc" $svc $ns) (printf "%s.%s.svc.cluster.local" $svc $ns) -}}
{{- concat $names .Values.webhooks.certificate.extraDNSNames | toJson -}}
{{- end }}

{{/* Pod-level scheduling shared by the Deployments: call with (dict "root" $ "values" .Values.operator "component" "operator"). */}}
{{- define "wicked.scheduling" -}}
{{- with .values.nodeSelector }}
nodeSelector:
  {{- toYaml . | nindent 2 }}
{{- end }}
{{- with .values.tolerations }}
tolerations:
  {{- toYaml . | nindent 2 }}
{{- end }}
{{- with .values.priorityClassName }}
priorityClassName: {{ . }}
{{- end }}
affinity:
{{- if .values.affinity }}
  {{- toYaml .values.affinity | nindent 2 }}
{{- else }}
  podAntiAffinity:
    preferredDuringSchedulingIgnoredDuringExecution:
      - weight: 100
        podAffinityTerm:
          topologyKey: kubernetes.io/hostname
          labelSelector:
            matchLabels:
              {{- include "wicked.selectorLabels" (dict "root" .root "component" .component) | nindent 14 }}
{{- end }}
{{- end }}

{{/* The fields every webhook shares: call with (dict "root" $ "path" "/validate/x" "resource" "x" "caBundle" $ca). */}}
{{- define "wicked.webhooks.common" -}}
admissionReviewVersions: ["v1"]
sideEffects: None
matchPolicy: Equivalent
timeoutSeconds: {{ .root.Values.webhooks.timeoutSeconds }}
{{- $selector := deepCopy .root.Values.webhooks.namespaceSelector }}
{{- with .root.Values.operator.watchNamespaces }}
{{- $only := dict "key" "kubernetes.io/metadata.name" "operator" "In" "values" . }}
{{- $_ := set $selector "matchExpressions" (append ($selector.matchExpressions | default list) $only) }}
{{- end }}
namespaceSelector:
  {{- toYaml $selector | nindent 2 }}
{{- /*
  The operator never changes a spec (it writes finalizers and status), so its writes skip the webhooks and
  keep working while the webhook server is down; so do objects being deleted.
*/}}
matchConditions:
  - name: not-the-operator
    expression: "request.userInfo.username != '{{ include "wicked.operator.username" .root }}'"
  - name: not-being-deleted
    expression: "!has(object.metadata.deletionTimestamp)"
clientConfig:
  {{- if .root.Values.webhooks.url }}
  url: {{ printf "%s%s" (trimSuffix "/" .root.Values.webhooks.url) .path | quote }}
  {{- else }}
  service:
    name: {{ include "wicked.webhooks.name" .root }}
    namespace: {{ .root.Release.Namespace }}
    path: {{ .path | quote }}
    port: 443
  {{- end }}
  {{- if .caBundle }}
  caBundle: {{ .caBundle }}
  {{- end }}
rules:
  - apiGroups: ["wicked.dev"]
    apiVersions: ["*"]
    operations: ["CREATE", "UPDATE"]
    resources: [{{ .resource | quote }}]
    scope: Namespaced
{{- end }}

{{/*
  Binds a ClusterRole to one of the chart's ServiceAccounts where the operator works: cluster-wide, or with
  operator.watchNamespaces a RoleBinding in each of those namespaces, so the role grants nothing elsewhere.
  Call with (dict "root" $ "name" "binding-name" "role" "cluster-role" "serviceAccount" "sa" "component" "operator").
*/}}
{{- define "wicked.binding" -}}
{{- $root := .root -}}
{{- $namespaces := $root.Values.operator.watchNamespaces | default (list "") -}}
{{- range $i, $namespace := $namespaces }}
{{- if $i }}
---
{{- end }}
apiVersion: rbac.authorization.k8s.io/v1
kind: {{ if $namespace }}RoleBinding{{ else }}ClusterRoleBinding{{ end }}
metadata:
  name: {{ $.name }}
  {{- with $namespace }}
  namespace: {{ . }}
  {{- end }}
  labels:
    {{- include "wicked.componentLabels" (dict "root" $root "component" $.component) | nindent 4 }}
roleRef:
  apiGroup: rbac.authorization.k8s.io
  kind: ClusterRole
  name: {{ $.role }}
subjects:
  - kind: ServiceAccount
    name: {{ $.serviceAccount }}
    namespace: {{ $root.Release.Namespace }}
{{- end }}
{{- end }}
