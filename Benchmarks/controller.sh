#!/usr/bin/env bash
# One controller process reconciling SITES sites (60 objects each) from cold, in hub mode: the
# PatternSyncs live in a hub test cluster and point (spec.cluster) at CLUSTERS remote test
# clusters, all served by one `pattern-test-apiserver --clusters CLUSTERS` process and
# registered as Argo CD-format cluster Secrets. Reports the time until every PatternSync is
# Ready, the controller's peak RSS and CPU time (user+sys) for the cold start, then (after
# SETTLE seconds) its idle CPU per minute over STEADY seconds, and the CPU and wall time of one
# no-op pass over every site (a reconcile request on each PatternSync: what every spec.interval
# brings, so steady-state CPU per minute = idle + pass / interval), the controller and the two
# test API server processes separately; the connections it holds, reconciles by trigger (from
# its /metrics), and the load average (the machine is shared).
#
#   Benchmarks/controller.sh [SITES=1000] [CLUSTERS=10] [SHARDS=1]
#   STEADY=60 SETTLE=30 BEFORE=<dir with an older release pattern> APISERVER=<release pattern-test-apiserver> Benchmarks/controller.sh 1000 10
set -euo pipefail
cd "$(dirname "$0")/.."
SITES=${1:-1000}
CLUSTERS=${2:-10}
SHARDS=${3:-1}
STEADY=${STEADY:-60}
SETTLE=${SETTLE:-30}
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
HUB_PID=${PIDS[-1]}
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

# Metrics on a free loopback port: reconciles per trigger tell what the steady state spends on.
MPORT=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
triggers() { curl -s "http://127.0.0.1:$MPORT/metrics" | awk '/^pattern_reconcile_triggers_total/ {
  match($0, /trigger="[a-z]+"/); t = substr($0, RSTART + 9, RLENGTH - 10); n[t] += $NF }
  END { for (t in n) printf "%s=%d ", t, n[t] }'; }
# Connections to the fleet server (watches and requests to the remote clusters) and to the hub.
sockets_to() { ss -tnp 2>/dev/null | grep "pid=$CTL," | awk -v p=":$1\$" '$5 ~ p' | wc -l; }
FLEET_PORT=$(echo "$FLEET_URL" | sed 's|.*:||')
HUB_PORT=$(awk '/server:/ {print $2; exit}' "$HUB" | sed 's|.*:||; s|/.*||')

t0=$(date +%s%N)
"$PATTERN" controller --kubeconfig "$HUB" --lease-namespace default --metrics-addr "127.0.0.1:$MPORT" --shards "$SHARDS" \
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
conns=$(ls -l /proc/$CTL/fd 2>/dev/null | grep -c socket || true)
conns_fleet=$(sockets_to "$FLEET_PORT"); conns_hub=$(sockets_to "$HUB_PORT")
trig0=$(triggers)
cold_cpu=$(cpu_ticks "$CTL")
# Settle: the reconciles queued behind the last Ready ones (each apply's own watch events start
# one more, finding nothing to do) finish before the idle window.
sleep "$SETTLE"
# Idle: nothing changes and no interval is due.
c0=$(cpu_ticks "$CTL"); f0=$(cpu_ticks "$FLEET_PID"); h0=$(cpu_ticks "$HUB_PID")
sleep "$STEADY"
c1=$(cpu_ticks "$CTL"); f1=$(cpu_ticks "$FLEET_PID"); h1=$(cpu_ticks "$HUB_PID")
trig1=$(triggers)
# One pass over the fleet with nothing to change, as every `spec.interval` brings: a reconcile
# request on every PatternSync, timed until each answered it (status.lastHandledReconcileAt).
REQ="pass-$(date +%s)"
p0=$(date +%s%N); pc0=$(cpu_ticks "$CTL"); pf0=$(cpu_ticks "$FLEET_PID"); ph0=$(cpu_ticks "$HUB_PID")
K annotate patternsyncs --all "pattern.dev/reconcile-requested-at=$REQ" --overwrite >/dev/null
handled=0
while [ "$handled" -lt "$SITES" ]; do
  sleep 1
  handled=$(K get patternsyncs -o jsonpath='{range .items[*]}{.status.lastHandledReconcileAt}{"\n"}{end}' | grep -c "^$REQ\$" || true)
  [ $(( ($(date +%s%N) - p0) / 1000000000 )) -gt 900 ] && break
done
p1=$(date +%s%N); pc1=$(cpu_ticks "$CTL"); pf1=$(cpu_ticks "$FLEET_PID"); ph1=$(cpu_ticks "$HUB_PID")
trig2=$(triggers)
rss_kb=$(awk '/VmHWM/ {print $2}' "/proc/$CTL/status")
rss_now=$(awk '/VmRSS/ {print $2}' "/proc/$CTL/status")
per_min() { awk -v a="$1" -v b="$2" -v hz="$HZ" -v s="$STEADY" 'BEGIN {printf "%.2f", (b - a) / hz * 60 / s}'; }
secs() { awk -v a="$1" -v b="$2" -v hz="$HZ" 'BEGIN {printf "%.1f", (b - a) / hz}'; }
pass_ms=$(( (p1 - p0) / 1000000 ))
echo "controller ($LABEL): $SITES sites x 60 objects on $CLUSTERS clusters, shards $SHARDS"
echo "  cold start to all Ready: $((cold_ms / 1000)).$(( (cold_ms % 1000) / 100 )) s ($n/$SITES Ready); controller CPU (user+sys) $(secs 0 "$cold_cpu") s"
echo "  peak RSS: $((rss_kb / 1024)) MiB (at the end: $((rss_now / 1024)) MiB)"
echo "  idle (after ${SETTLE}s settling, over ${STEADY}s): controller $(per_min "$c0" "$c1") CPU-s/min; remote clusters' API server $(per_min "$f0" "$f1"); hub API server $(per_min "$h0" "$h1")"
echo "  one no-op pass over all $SITES sites (as each spec.interval brings): $((pass_ms / 1000)).$(( (pass_ms % 1000) / 100 )) s wall ($handled/$SITES answered); CPU: controller $(secs "$pc0" "$pc1") s, remote clusters' API server $(secs "$pf0" "$pf1") s, hub API server $(secs "$ph0" "$ph1") s"
echo "  sockets held by the controller at all-Ready: $conns ($conns_fleet to the $CLUSTERS remote clusters' server, $conns_hub to the hub)"
echo "  reconciles by trigger: at all-Ready $trig0; after the idle window $trig1; after the pass $trig2"
echo "  load average at all-Ready: $load_cold; now: $(cut -d' ' -f1-3 /proc/loadavg); cores: $(nproc)"
cleanup
}

run "$BIN/pattern" "this build"
# BEFORE=<dir with an older release `pattern`> runs the same benchmark with it, in the same run.
if [ -n "${BEFORE:-}" ]; then run "$BEFORE/pattern" "BEFORE=$BEFORE"; fi
