{{/* The value files every Application passes to its chart, as the Validated Patterns framework lists them. */}}
{{- define "clustergroup.valueFiles" -}}
- "/values-global.yaml"
- "/values-{{ .Values.clusterGroup.name }}.yaml"
{{- if .Values.global.clusterPlatform }}
- "/values-{{ .Values.global.clusterPlatform }}.yaml"
{{- if .Values.global.clusterVersion }}
- "/values-{{ .Values.global.clusterPlatform }}-{{ .Values.global.clusterVersion }}.yaml"
{{- end }}
- "/values-{{ .Values.global.clusterPlatform }}-{{ .Values.clusterGroup.name }}.yaml"
{{- end }}
{{- if .Values.global.clusterVersion }}
- "/values-{{ .Values.global.clusterVersion }}-{{ .Values.clusterGroup.name }}.yaml"
{{- end }}
{{- range .Values.clusterGroup.sharedValueFiles }}
- {{ tpl . $ | quote }}
{{- end }}
{{- end }}
