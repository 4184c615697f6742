#!/usr/bin/env bash
# One controller process reconciling SITES sites (60 objects each) from cold, in hub mode: the
# PatternSyncs live in a hub test cluster and point (spec.cluster) at CLUSTERS remote test
# clusters, all served by one `pattern-test-apiserver --clusters CLUSTERS` process and
# registered as Argo CD-format cluster Secrets. Reports the time until every PatternSync is
# Ready, the controller's peak RSS and CPU time (user+sys) for the cold start, its steady-state
# CPU per minute after that, the watch connections it holds, and the load average (the machine
# is shared).
#
#   Benchmarks/controller.sh [SITES=1000] [CLUSTERS=10] [SHARDS=1]
#   STEADY=120 BEFORE=<dir with an older release pattern> APISERVER=<release pattern-test-apiserver> Benchmarks/controller.sh 1000 100
set -euo pipefail
cd "$(dirname "$0")/.."
SITES=${1:-1000}
CLUSTERS=${2:-10}
SHARDS=${3:-1}
STEADY=${STEADY:-60}
WORK=Benchmarks/work
SCRATCH=.build-bench
mkdir -p "$WORK"
# BIN=<dir> uses the release `pattern` there instead of building one.
if [ -z "${BIN:-}" ]; then
  swift build -c release --static-swift-stdlib --scratch-path $SCRATCH --product pattern >/dev/null
  BIN=$(swift build -c release --scratch-path $SCRATCH --show-bin-path)
fi
# APISERVER=<path> uses another release pattern-test-apiserver (any build with --clusters).
APISERVER=${APISERVER:-}
if [ -z "$APISERVER" ]; then
  swift build -c release --static-swift-stdlib --scratch-path $SCRATCH --product pattern-test-apiserver >/dev/null
  APISERVER=$BIN/pattern-test-apiserver
fi

# The pattern repository: one pattern and one site per PatternSync, each in its own namespace:
# a Namespace, 4 Deployments, 10 Services, 45 ConfigMaps (60 objects).
R="$WORK/controller-repo-$SITES"
if [ ! -f "$R/.done" ]; then
  rm -rf "$R"
  python3 - "$R" "$SITES" <<'PY'
import os, sys
root, n = sys.argv[1], int(sys.argv[2])
for i in range(n):
    ns = f"bench-{i}"
    p = f"{root}/patterns/p{i}"
    os.makedirs(f"{p}/components/app", exist_ok=True)
    open(f"{p}/pattern.yaml", "w").write(
        f"apiVersion: pattern.dev/v1alpha1\nkind: Pattern\nmetadata: {{name: p{i}}}\nspec:\n  components:\n  - {{name: app, path: components/app}}\n")
    docs = [f"apiVersion: v1\nkind: Namespace\nmetadata: {{name: {ns}}}\n"]
    for d in range(4):
        docs.append(f"""apiVersion: apps/v1
kind: Deployment
metadata: {{name: web-{d}, namespace: {ns}}}
spec:
  replicas: 1
  selector: {{matchLabels: {{app: web-{d}}}}}
  template:
    metadata: {{labels: {{app: web-{d}}}}}
    spec: {{containers: [{{name: web, image: "registry.example/web:1.{d}"}}]}}
""")
    for s in range(10):
        docs.append(f"apiVersion: v1\nkind: Service\nmetadata: {{name: svc-{s}, namespace: {ns}}}\nspec:\n  selector: {{app: web-{s % 4}}}\n  ports: [{{port: 80, targetPort: 8080}}]\n")
    for c in range(45):
        docs.append(f"apiVersion: v1\nkind: ConfigMap\nmetadata: {{name: cfg-{c}, namespace: {ns}}}\ndata: {{key: value-{c}, site: s{i}}}\n")
    open(f"{p}/components/app/all.yaml", "w").write("---\n".join(docs))
    o = f"{root}/overlays/s{i}"
    os.makedirs(o, exist_ok=True)
    open(f"{o}/overlay.yaml", "w").write(
        f"apiVersion: pattern.dev/v1alpha1\nkind: Site\nmetadata: {{name: s{i}}}\nspec:\n  pattern: {{path: patterns/p{i}}}\n")
open(f"{root}/.done", "w").write("ok\n")
PY
fi
REPO=$(cd "$R" && pwd)

PIDS=()
TMPS=()
cleanup() { for p in "${PIDS[@]}"; do kill "$p" 2>/dev/null || true; done; PIDS=(); for d in "${TMPS[@]}"; do rm -rf "$d"; done; TMPS=(); }
trap cleanup EXIT

# One run: fresh test servers, the objects, then the controller PATTERN (a `pattern` binary) from cold.
run() { # PATTERN LABEL
PATTERN=$1
LABEL=$2
T=$(mktemp -d)
TMPS+=("$T")

start_server() { # name, extra args → kubeconfig in $T/<name>.kubeconfig
  local name=$1; shift
  "$APISERVER" --port 0 --simulate-controllers --kubeconfig-out "$T/$name.kubeconfig" "$@" >"$T/$name.log" 2>&1 &
  PIDS+=($!)
  for _ in $(seq 400); do [ -s "$T/$name.kubeconfig" ] && return; sleep 0.05; done
  echo "test API server $name did not start" >&2; return 1
}
start_server hub
# The remote clusters: one process, each cluster under URL/clusters/cNNN.
start_server fleet --clusters "$CLUSTERS" --cluster-prefix c
FLEET_PID=${PIDS[-1]}
WIDTH=$(( ${#CLUSTERS} < 3 ? 3 : ${#CLUSTERS} ))
cname() { printf "c%0${WIDTH}d" "$(( $1 + 1 ))"; }
FLEET_URL=$(awk '/server:/ {print $2; exit}' "$T/fleet.kubeconfig" | sed 's|/clusters/.*||')
HUB="$T/hub.kubeconfig"
K() { kubectl --kubeconfig "$HUB" "$@"; }
K apply -f patterns/pattern-controller/components/crd/patternsync-crd.yaml >/dev/null
for _ in $(seq 100); do K get patternsyncs >/dev/null 2>&1 && break; sleep 0.1; done

# Cluster Secrets (Argo CD format) and the PatternSyncs, as one stream each.
{
  for c in $(seq 0 $((CLUSTERS - 1))); do
    server="$FLEET_URL/clusters/$(cname "$c")"
    cat <<YAML
---
apiVersion: v1
kind: Secret
metadata:
  name: cluster-$(cname "$c")
  namespace: default
  labels: {argocd.argoproj.io/secret-type: cluster}
stringData:
  name: $(cname "$c")
  server: $server
  config: '{"tlsClientConfig": {"insecure": false}}'
YAML
  done
  for i in $(seq 0 $((SITES - 1))); do
    cat <<YAML
---
apiVersion: pattern.dev/v1alpha1
kind: PatternSync
metadata: {name: s$i, namespace: default}
spec:
  source: {path: $REPO}
  site: s$i
  cluster: {name: $(cname $((i % CLUSTERS)))}
  interval: 10m
  timeout: 2m
YAML
  done
} > "$T/objects.yaml"
K apply -f "$T/objects.yaml" >/dev/null

ready() { K get patternsyncs -o jsonpath='{range .items[*]}{.status.conditions[?(@.type=="Ready")].status}{"\n"}{end}' | grep -c '^True$' || true; }
cpu_ticks() { awk '{print $14 + $15}' "/proc/$1/stat"; }
HZ=$(getconf CLK_TCK)

t0=$(date +%s%N)
"$PATTERN" controller --kubeconfig "$HUB" --lease-namespace default --metrics-addr "" --shards "$SHARDS" \
  --poll-interval 0.5 --log-level warning >"$T/controller.log" 2>&1 &
CTL=$!
PIDS+=($CTL)
n=0
while [ "$n" -lt "$SITES" ]; do
  sleep 2
  kill -0 "$CTL" 2>/dev/null || { echo "controller exited:"; tail -20 "$T/controller.log"; return 1; }
  n=$(ready)
  el=$(( ($(date +%s%N) - t0) / 1000000000 ))
  if [ "$el" -gt 900 ]; then echo "timeout after ${el}s: $n/$SITES Ready"; break; fi
done
t1=$(date +%s%N)
cold_ms=$(( (t1 - t0) / 1000000 ))
load_cold=$(cut -d' ' -f1-3 /proc/loadavg)
c0=$(cpu_ticks "$CTL")
f0=$(cpu_ticks "$FLEET_PID")
conns=$(ls -l /proc/$CTL/fd 2>/dev/null | grep -c socket || true)
sleep "$STEADY"
c1=$(cpu_ticks "$CTL")
f1=$(cpu_ticks "$FLEET_PID")
rss_kb=$(awk '/VmHWM/ {print $2}' "/proc/$CTL/status")
steady=$(awk -v a="$c0" -v b="$c1" -v hz="$HZ" -v s="$STEADY" 'BEGIN {printf "%.2f", (b - a) / hz * 60 / s}')
echo "controller ($LABEL): $SITES sites x 60 objects on $CLUSTERS clusters, shards $SHARDS"
echo "  cold start to all Ready: $((cold_ms / 1000)).$(( (cold_ms % 1000) / 100 )) s ($n/$SITES Ready); controller CPU (user+sys) $(awk -v a="$c0" -v hz="$HZ" 'BEGIN {printf "%.1f", a / hz}') s"
echo "  peak RSS: $((rss_kb / 1024)) MiB"
echo "  steady state: ${steady} CPU-seconds per minute (over ${STEADY}s); API server process: $(awk -v a="$f0" -v b="$f1" -v hz="$HZ" -v s="$STEADY" 'BEGIN {printf "%.2f", (b - a) / hz * 60 / s}')"
echo "  sockets held by the controller at all-Ready: $conns"
echo "  load average at all-Ready: $load_cold; now: $(cut -d' ' -f1-3 /proc/loadavg); cores: $(nproc)"
cleanup
}

run "$BIN/pattern" "this build"
# BEFORE=<dir with an older release `pattern`> runs the same benchmark with it, in the same run.
if [ -n "${BEFORE:-}" ]; then run "$BEFORE/pattern" "BEFORE=$BEFORE"; fi
