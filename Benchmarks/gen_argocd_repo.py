#!/usr/bin/env python3
"""Generates an app-of-apps pattern repository the size of Validated Patterns' industrial-edge:
6 charts, 108 templates, ~200 objects. Site `apps` expands a root Application whose six child
Applications render the charts (value files + parameters); site `charts` renders the same six
charts as pattern chart components, for comparison.

    gen_argocd_repo.py DIR
"""
import os, sys

root = sys.argv[1]
URL = "https://git.example.com/bench/industrial-edge.git"

def w(rel, text):
    p = os.path.join(root, rel)
    os.makedirs(os.path.dirname(p), exist_ok=True)
    with open(p, "w") as f:
        f.write(text)

CHARTS = 6
TEMPLATES = 18  # 6 × 18 = 108
for c in range(CHARTS):
    name = f"chart{c}"
    w(f"charts/{name}/Chart.yaml", f"apiVersion: v2\nname: {name}\nversion: 1.0.{c}\n")
    w(f"charts/{name}/values.yaml", "replicas: 1\nimage: {repository: quay.io/example/app, tag: '1.0'}\nlabels: {tier: backend}\nports: [8080, 8443]\n")
    w(f"charts/{name}/values-hub.yaml", "replicas: 2\nlabels: {tier: edge, site: hub}\n")
    w(f"charts/{name}/templates/_helpers.tpl",
      '{{- define "app.labels" -}}\napp.kubernetes.io/name: {{ .Chart.Name }}\napp.kubernetes.io/instance: {{ .Release.Name }}\n'
      '{{- range $k, $v := .Values.labels }}\n{{ $k }}: {{ $v | quote }}\n{{- end }}\n{{- end }}\n')
    for t in range(TEMPLATES - 1):
        kind = t % 3
        if kind == 0:
            body = f"""apiVersion: apps/v1
kind: Deployment
metadata:
  name: {{{{ .Release.Name }}}}-svc{t}
  labels:
{{{{ include "app.labels" . | indent 4 }}}}
spec:
  replicas: {{{{ .Values.replicas }}}}
  selector: {{matchLabels: {{app: {{{{ .Release.Name }}}}-svc{t}}}}}
  template:
    metadata: {{labels: {{app: {{{{ .Release.Name }}}}-svc{t}}}}}
    spec:
      containers:
      - name: app
        image: "{{{{ .Values.image.repository }}}}:{{{{ .Values.image.tag }}}}"
        ports:
        {{{{- range .Values.ports }}}}
        - containerPort: {{{{ . }}}}
        {{{{- end }}}}
---
apiVersion: v1
kind: Service
metadata:
  name: {{{{ .Release.Name }}}}-svc{t}
spec:
  selector: {{app: {{{{ .Release.Name }}}}-svc{t}}}
  ports:
  {{{{- range .Values.ports }}}}
  - {{port: {{{{ . }}}}, name: p{{{{ . }}}}}}
  {{{{- end }}}}
"""
        elif kind == 1:
            body = f"""apiVersion: v1
kind: ConfigMap
metadata:
  name: {{{{ .Release.Name }}}}-config{t}
  labels:
{{{{ include "app.labels" . | indent 4 }}}}
data:
  settings.yaml: |
{{{{ toYaml .Values | indent 4 }}}}
"""
        else:
            body = f"""apiVersion: v1
kind: ServiceAccount
metadata:
  name: {{{{ .Release.Name }}}}-sa{t}
  annotations:
    argocd.argoproj.io/sync-wave: "-1"
---
apiVersion: rbac.authorization.k8s.io/v1
kind: Role
metadata: {{name: {{{{ .Release.Name }}}}-reader{t}}}
rules: [{{apiGroups: [""], resources: [configmaps], verbs: [get, list, watch]}}]
---
apiVersion: rbac.authorization.k8s.io/v1
kind: RoleBinding
metadata: {{name: {{{{ .Release.Name }}}}-reader{t}}}
roleRef: {{apiGroup: rbac.authorization.k8s.io, kind: Role, name: {{{{ .Release.Name }}}}-reader{t}}}
subjects: [{{kind: ServiceAccount, name: {{{{ .Release.Name }}}}-sa{t}}}]
"""
        w(f"charts/{name}/templates/t{t}.yaml", body)
    apps = f"""apiVersion: argoproj.io/v1alpha1
kind: Application
metadata:
  name: {name}
  namespace: openshift-gitops
  annotations: {{argocd.argoproj.io/sync-wave: "{c % 3}"}}
spec:
  project: default
  source:
    repoURL: {URL}
    path: charts/{name}
    helm:
      valueFiles: [values-hub.yaml]
      parameters: [{{name: image.tag, value: "1.{c}"}}]
  destination: {{server: https://kubernetes.default.svc, namespace: edge-{c}}}
  syncPolicy: {{syncOptions: [CreateNamespace=true]}}
"""
    w(f"apps/{name}.yaml", apps)

w("patterns/apps/pattern.yaml", "apiVersion: pattern.dev/v1alpha1\nkind: Pattern\nmetadata: {name: apps}\nspec:\n  components: [{name: root, path: components/app-of-apps}]\n")
w("patterns/apps/components/app-of-apps/app-of-apps.yaml", f"""apiVersion: argoproj.io/v1alpha1
kind: Application
metadata: {{name: root, namespace: openshift-gitops}}
spec:
  source: {{repoURL: {URL}, path: apps}}
  destination: {{server: https://kubernetes.default.svc, namespace: openshift-gitops}}
""")
comps = "".join(f"  - {{name: chart{c}, chart: {{path: ../../charts/chart{c}, namespace: edge-{c}, releaseName: chart{c}, valueFiles: [../../charts/chart{c}/values-hub.yaml], values: {{image: {{tag: '1.{c}'}}}}}}}}\n" for c in range(CHARTS))
w("patterns/charts/pattern.yaml", "apiVersion: pattern.dev/v1alpha1\nkind: Pattern\nmetadata: {name: charts}\nspec:\n  components:\n" + comps)
w("overlays/apps/overlay.yaml", f"apiVersion: pattern.dev/v1alpha1\nkind: Site\nmetadata: {{name: apps}}\nspec:\n  pattern: {{path: patterns/apps}}\n  applications: expand\n  values: {{global: {{repoURL: '{URL}'}}}}\n")
w("overlays/charts/overlay.yaml", "apiVersion: pattern.dev/v1alpha1\nkind: Site\nmetadata: {name: charts}\nspec:\n  pattern: {path: patterns/charts}\n")
