#!/usr/bin/env python3
"""Generates a pattern repository with N Helm chart components for Benchmarks/helm.sh.

    gen_helm_charts.py OUT CHARTS [TEMPLATES_PER_CHART]

Each chart has a _helpers.tpl (include, printf, trunc, toYaml | nindent), and templates that
use include, default, quote, toYaml | nindent and range over values: Deployments, Services,
ConfigMaps. 20 charts x 15 templates = 300 templates (the default benchmark size).
"""
import os, sys

out, charts = sys.argv[1], int(sys.argv[2])
per = int(sys.argv[3]) if len(sys.argv) > 3 else 15

HELPERS = """{{- define "app.fullname" -}}
{{- printf "%s-%s" .Release.Name .Chart.Name | trunc 63 | trimSuffix "-" -}}
{{- end -}}
{{- define "app.labels" -}}
app.kubernetes.io/name: {{ .Chart.Name }}
app.kubernetes.io/instance: {{ .Release.Name }}
app.kubernetes.io/version: {{ .Chart.AppVersion | quote }}
helm.sh/chart: {{ printf "%s-%s" .Chart.Name .Chart.Version | replace "+" "_" }}
{{- with .Values.extraLabels }}
{{ toYaml . }}
{{- end }}
{{- end -}}
{{- define "app.selector" -}}
app.kubernetes.io/name: {{ .Chart.Name }}
app.kubernetes.io/instance: {{ .Release.Name }}
{{- end -}}
"""

DEPLOY = """apiVersion: apps/v1
kind: Deployment
metadata:
  name: {{ include "app.fullname" . }}-w%(i)d
  labels:
    {{- include "app.labels" . | nindent 4 }}
spec:
  replicas: {{ .Values.replicas | default 1 }}
  selector:
    matchLabels:
      {{- include "app.selector" . | nindent 6 }}
  template:
    metadata:
      labels:
        {{- include "app.selector" . | nindent 8 }}
      annotations:
        checksum/config: {{ .Values.image.tag | sha256sum | trunc 16 | quote }}
    spec:
      containers:
      - name: main
        image: "{{ .Values.image.repository }}:{{ .Values.image.tag | default .Chart.AppVersion }}"
        ports:
        {{- range .Values.ports }}
        - name: {{ .name }}
          containerPort: {{ .port }}
        {{- end }}
        env:
        {{- range $k, $v := .Values.env }}
        - name: {{ $k | upper }}
          value: {{ $v | quote }}
        {{- end }}
        resources:
          {{- toYaml .Values.resources | nindent 10 }}
"""

SERVICE = """apiVersion: v1
kind: Service
metadata:
  name: {{ include "app.fullname" . }}-s%(i)d
  labels:
    {{- include "app.labels" . | nindent 4 }}
spec:
  type: {{ .Values.service.type | default "ClusterIP" }}
  selector:
    {{- include "app.selector" . | nindent 4 }}
  ports:
  {{- range .Values.ports }}
  - name: {{ .name }}
    port: {{ .port }}
    targetPort: {{ .name }}
  {{- end }}
"""

CONFIGMAP = """apiVersion: v1
kind: ConfigMap
metadata:
  name: {{ include "app.fullname" . }}-c%(i)d
  labels:
    {{- include "app.labels" . | nindent 4 }}
data:
  {{- range $k, $v := .Values.settings }}
  {{ $k }}: {{ $v | quote }}
  {{- end }}
  region: {{ .Values.global.region | default "none" | quote }}
"""

VALUES = """replicas: 2
image:
  repository: example/%(name)s
  tag: ""
service:
  type: ClusterIP
ports:
- {name: http, port: 8080}
- {name: metrics, port: 9090}
env:
  log_level: info
  mode: production
  feature_x: "on"
resources:
  limits: {cpu: 500m, memory: 256Mi}
  requests: {cpu: 100m, memory: 128Mi}
settings:
  a: "1"
  b: two
  c: "3.0"
extraLabels:
  team: platform
global:
  region: eu-west
"""

kinds = [DEPLOY, SERVICE, CONFIGMAP]
components = []
for c in range(charts):
    name = "app%d" % c
    d = os.path.join(out, "patterns", "bench", "charts", name)
    os.makedirs(os.path.join(d, "templates"), exist_ok=True)
    with open(os.path.join(d, "Chart.yaml"), "w") as f:
        f.write("apiVersion: v2\nname: %s\nversion: 1.0.%d\nappVersion: \"2.%d\"\n" % (name, c, c))
    with open(os.path.join(d, "values.yaml"), "w") as f:
        f.write(VALUES % {"name": name})
    with open(os.path.join(d, "templates", "_helpers.tpl"), "w") as f:
        f.write(HELPERS)
    for i in range(per):
        with open(os.path.join(d, "templates", "t%02d.yaml" % i), "w") as f:
            f.write(kinds[i % 3] % {"i": i})
    components.append("  - {name: %s, chart: {path: charts/%s, namespace: apps, values: {replicas: 3}}}" % (name, name))

os.makedirs(os.path.join(out, "overlays", "bench-helm"), exist_ok=True)
with open(os.path.join(out, "patterns", "bench", "pattern.yaml"), "w") as f:
    f.write("apiVersion: pattern.dev/v1alpha1\nkind: Pattern\nmetadata: {name: bench}\nspec:\n  components:\n" + "\n".join(components) + "\n")
with open(os.path.join(out, "overlays", "bench-helm", "overlay.yaml"), "w") as f:
    f.write("apiVersion: pattern.dev/v1alpha1\nkind: Site\nmetadata: {name: bench-helm}\nspec:\n  pattern: {path: patterns/bench}\n  cluster: {kubeVersion: '1.31'}\n")
