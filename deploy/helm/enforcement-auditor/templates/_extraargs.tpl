{{/*
extraArgs, refusing the serving security flags: --insecure-serving, --metrics-auth and
--tls-* are the chart's values (insecureServing, tls.secretName), which also set the probes'
scheme and the scrape configuration. Passed here they could turn authentication off
behind HTTPS while every probe stays green.
*/}}
{{- define "ea.extraArgs" -}}
{{- range . }}
{{- if regexMatch "^--(insecure-serving|metrics-auth|tls-)" (toString .) }}
{{- fail (printf "extraArgs: %s is a serving security flag: the chart sets serving from insecureServing and tls.secretName" .) }}
{{- end }}
{{- end }}
{{- toYaml . }}
{{- end }}
