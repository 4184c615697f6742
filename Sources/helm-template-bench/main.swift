// Times HelmTemplate on a `helm create`-style chart: parse the templates once, then execute the
// Deployment template N times (default 10000) with values loaded as Helm loads them.
//
//   swift run -c release helm-template-bench [N]
#if canImport(Glibc)
import Glibc
#endif
import HelmTemplate
import PatternCore

let helpers = #"""
{{/* Expand the name of the chart. */}}
{{- define "demo.name" -}}
{{- default .Chart.Name .Values.nameOverride | trunc 63 | trimSuffix "-" }}
{{- end }}

{{- define "demo.fullname" -}}
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

{{- define "demo.chart" -}}
{{- printf "%s-%s" .Chart.Name .Chart.Version | replace "+" "_" | trunc 63 | trimSuffix "-" }}
{{- end }}

{{- define "demo.labels" -}}
helm.sh/chart: {{ include "demo.chart" . }}
{{ include "demo.selectorLabels" . }}
{{- if .Chart.AppVersion }}
app.kubernetes.io/version: {{ .Chart.AppVersion | quote }}
{{- end }}
app.kubernetes.io/managed-by: {{ .Release.Service }}
{{- end }}

{{- define "demo.selectorLabels" -}}
app.kubernetes.io/name: {{ include "demo.name" . }}
app.kubernetes.io/instance: {{ .Release.Name }}
{{- end }}

{{- define "demo.serviceAccountName" -}}
{{- if .Values.serviceAccount.create }}
{{- default (include "demo.fullname" .) .Values.serviceAccount.name }}
{{- else }}
{{- default "default" .Values.serviceAccount.name }}
{{- end }}
{{- end }}
"""#

let deployment = #"""
apiVersion: apps/v1
kind: Deployment
metadata:
  name: {{ include "demo.fullname" . }}
  labels:
    {{- include "demo.labels" . | nindent 4 }}
spec:
  {{- if not .Values.autoscaling.enabled }}
  replicas: {{ .Values.replicaCount }}
  {{- end }}
  selector:
    matchLabels:
      {{- include "demo.selectorLabels" . | nindent 6 }}
  template:
    metadata:
      {{- with .Values.podAnnotations }}
      annotations:
        {{- toYaml . | nindent 8 }}
      {{- end }}
      labels:
        {{- include "demo.labels" . | nindent 8 }}
        {{- with .Values.podLabels }}
        {{- toYaml . | nindent 8 }}
        {{- end }}
    spec:
      {{- with .Values.imagePullSecrets }}
      imagePullSecrets:
        {{- toYaml . | nindent 8 }}
      {{- end }}
      serviceAccountName: {{ include "demo.serviceAccountName" . }}
      securityContext:
        {{- toYaml .Values.podSecurityContext | nindent 8 }}
      containers:
        - name: {{ .Chart.Name }}
          securityContext:
            {{- toYaml .Values.securityContext | nindent 12 }}
          image: "{{ .Values.image.repository }}:{{ .Values.image.tag | default .Chart.AppVersion }}"
          imagePullPolicy: {{ .Values.image.pullPolicy }}
          ports:
            - name: http
              containerPort: {{ .Values.service.port }}
              protocol: TCP
          livenessProbe:
            {{- toYaml .Values.livenessProbe | nindent 12 }}
          readinessProbe:
            {{- toYaml .Values.readinessProbe | nindent 12 }}
          resources:
            {{- toYaml .Values.resources | nindent 12 }}
          {{- with .Values.volumeMounts }}
          volumeMounts:
            {{- toYaml . | nindent 12 }}
          {{- end }}
      {{- with .Values.nodeSelector }}
      nodeSelector:
        {{- toYaml . | nindent 8 }}
      {{- end }}
      {{- with .Values.tolerations }}
      tolerations:
        {{- toYaml . | nindent 8 }}
      {{- end }}
"""#

let valuesYAML = """
replicaCount: 1
image:
  repository: nginx
  pullPolicy: IfNotPresent
  tag: ""
imagePullSecrets: []
nameOverride: ""
fullnameOverride: ""
serviceAccount:
  create: true
  annotations: {}
  name: ""
podAnnotations: {}
podLabels: {}
podSecurityContext: {}
securityContext:
  capabilities:
    drop: [ALL]
  readOnlyRootFilesystem: true
  runAsNonRoot: true
  runAsUser: 1000
service:
  type: ClusterIP
  port: 80
resources:
  limits: {cpu: 100m, memory: 128Mi}
  requests: {cpu: 100m, memory: 128Mi}
livenessProbe:
  httpGet: {path: /, port: http}
readinessProbe:
  httpGet: {path: /, port: http}
autoscaling:
  enabled: false
nodeSelector: {}
tolerations:
- key: dedicated
  operator: Equal
  value: web
  effect: NoSchedule
volumeMounts: []
"""

func now() -> Double {
    var ts = timespec()
    clock_gettime(CLOCK_MONOTONIC, &ts)
    return Double(ts.tv_sec) + Double(ts.tv_nsec) / 1e9
}

func cpu() -> Double {
    var ts = timespec()
    clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &ts)
    return Double(ts.tv_sec) + Double(ts.tv_nsec) / 1e9
}

let n = CommandLine.arguments.count > 1 ? Int(CommandLine.arguments[1]) ?? 10000 : 10000
let parses = CommandLine.arguments.count > 2 ? Int(CommandLine.arguments[2]) ?? 100 : 100
let values = TemplateValue(helmValues: try YAMLParser.parse(valuesYAML))
let data: TemplateValue = .dict([
    "Values": values,
    "Release": .dict(["Name": "web", "Namespace": "default", "Service": "Helm", "IsInstall": true, "Revision": 1]),
    "Chart": .dict(["Name": "demo", "Version": "0.1.0", "AppVersion": "1.16.0"]),
    "Capabilities": .dict([:]),
    "Template": .dict(["Name": "demo/templates/deployment.yaml", "BasePath": "demo/templates"]),
])

let t0 = now()
var set = TemplateSet()
for _ in 0..<parses {
    set = TemplateSet()
    try set.parse(name: "demo/templates/_helpers.tpl", text: helpers)
    try set.parse(name: "demo/templates/deployment.yaml", text: deployment)
}
let parseTime = (now() - t0) / Double(parses)
let renderer = TemplateRenderer(templates: set)
var bytes = 0
let t1 = now()
let c1 = cpu()
for _ in 0..<n {
    bytes += try renderer.execute("demo/templates/deployment.yaml", data: data).utf8.count
}
let total = now() - t1
let cpuTotal = cpu() - c1
let out = try renderer.execute("demo/templates/deployment.yaml", data: data)
print(out)
print("---")
print("parse (helpers + deployment): \(Int(parseTime * 1e6)) µs")
print("execute deployment x\(n): wall \(Int(total * 1000)) ms, CPU \(Int(cpuTotal * 1000)) ms, \(Int(cpuTotal / Double(n) * 1e6)) µs CPU each, \(bytes / n) bytes each")
print("projection: 20 charts x 300 such templates = 6000 executions ≈ \(Int(cpuTotal / Double(n) * 6000 * 1000)) ms CPU (÷2 on two cores)")
