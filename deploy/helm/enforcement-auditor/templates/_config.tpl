{{/* The AuditorConfig (values: config), apart from _helpers.tpl: these call Sprig functions. */}}
{{/* The inline AuditorConfig as YAML, apiVersion and kind first. */}}
{{- define "ea.config" -}}
apiVersion: enforcement-auditor.llm-platform.io/v1alpha1
kind: AuditorConfig
{{ omit .Values.config.inline "apiVersion" "kind" | toYaml }}
{{- end }}

{{/* The ConfigMap holding the AuditorConfig, "" when there is none. */}}
{{- define "ea.configMap" -}}
{{- if .Values.config.inline }}enforcement-auditor-config{{ else }}{{ .Values.config.existingConfigMap }}{{ end }}
{{- end }}
