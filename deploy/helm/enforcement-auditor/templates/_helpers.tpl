{{/* The labels every object carries: the kustomize base's, plus Helm's own. */}}
{{- define "ea.labels" -}}
app.kubernetes.io/name: enforcement-auditor
app.kubernetes.io/part-of: llm-platform
app.kubernetes.io/instance: {{ .Release.Name }}
app.kubernetes.io/version: {{ .Chart.AppVersion | quote }}
app.kubernetes.io/managed-by: {{ .Release.Service }}
helm.sh/chart: {{ printf "%s-%s" .Chart.Name .Chart.Version | replace "+" "_" }}
{{- end }}

{{/* The pod selector: fixed, as in deploy/base (a Deployment's selector is immutable). */}}
{{- define "ea.selector" -}}
app.kubernetes.io/name: enforcement-auditor
app.kubernetes.io/component: auditor
{{- end }}

{{/* The auditor's ServiceAccount name (fixed, as in deploy/base; its namespace is the release's). */}}
{{- define "ea.serviceAccountName" -}}
enforcement-auditor
{{- end }}

{{/* The auditor's ServiceAccount as a binding subject. */}}
{{- define "ea.subject" -}}
- kind: ServiceAccount
  name: {{ include "ea.serviceAccountName" . }}
  namespace: {{ .Release.Namespace }}
{{- end }}

{{/* GOMEMLIMIT: goMemLimit, else 90% of resources.limits.memory in MiB. */}}
{{- define "ea.goMemLimit" -}}
{{- if .Values.goMemLimit -}}
{{ .Values.goMemLimit }}
{{- else -}}
{{- $m := toString .Values.resources.limits.memory -}}
{{- if hasSuffix "Gi" $m -}}
{{ div (mul (trimSuffix "Gi" $m | atoi) 1024 9) 10 }}MiB
{{- else if hasSuffix "Mi" $m -}}
{{ div (mul (trimSuffix "Mi" $m | atoi) 9) 10 }}MiB
{{- else -}}
{{ fail (printf "resources.limits.memory %q is not in Mi or Gi: set goMemLimit" $m) }}
{{- end -}}
{{- end -}}
{{- end }}
