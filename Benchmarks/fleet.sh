#!/usr/bin/env bash
# Fleet benchmark: 100 sites × 60 objects, each site on its own test cluster, all clusters
# served by one pattern-test-apiserver process (--clusters). Times `pattern apply --all`
# (first apply) and `pattern diff --all` (no-op), and beside them, in the same run, a loop of
# `kubectl apply --server-side` / `kubectl diff --server-side` over the contexts of a second,
# fresh server process (KUBECTL_SITES of them, extrapolated to all sites).
#
#   Benchmarks/fleet.sh [SITES] [OBJECTS]     default 100 sites, 60 objects per site
#   KUBECTL_SITES=10 PARALLEL=8 REPS=3 Benchmarks/fleet.sh
set -euo pipefail
cd "$(dirname "$0")/.."
SITES=${1:-100}
OBJECTS=${2:-60}
KSITES=${KUBECTL_SITES:-10}
PARALLEL=${PARALLEL:-8}
REPS=${REPS:-3}
WORK=Benchmarks/work
SCRATCH=.build-bench
mkdir -p "$WORK"
build_tools() { for p in "$@"; do swift build -c release --static-swift-stdlib --scratch-path $SCRATCH --product "$p" >/dev/null; done
  BIN=$(swift build -c release --scratch-path $SCRATCH --show-bin-path); }
now() { date +%s%N; }
ms() { echo $(( ($2 - $1) / 1000000 )); }
median() { sort -n | awk '{a[NR]=$1} END {print a[int((NR+1)/2)]}'; }
build_tools pattern pattern-test-apiserver

# The repository: one pattern (a Namespace, ConfigMaps, Services, ServiceAccounts: OBJECTS in
# all), group `edge`, SITES sites site-001… on contexts cluster-001….
R="$WORK/fleet-repo"
rm -rf "$R"; mkdir -p "$R/patterns/fleet/app" "$R/overlays/edge"
python3 - "$R" "$SITES" "$OBJECTS" <<'PY'
import os, sys
root, sites, objects = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])
open(f"{root}/patterns/fleet/pattern.yaml", "w").write(
  "apiVersion: pattern.dev/v1alpha1\nkind: Pattern\nmetadata: {name: fleet}\nspec:\n  version: 1.0.0\n"
  "  components:\n  - {name: app, path: app}\n")
docs = ["apiVersion: v1\nkind: Namespace\nmetadata: {name: fleet-app}\n"]
n = objects - 1
for i in range(n):
    kind = i % 4
    if kind in (0, 1):
        docs.append(f"apiVersion: v1\nkind: ConfigMap\nmetadata: {{name: config-{i}, namespace: fleet-app}}\n"
                    f"data: {{site: '${{site.name}}', index: '{i}', payload: '{'x' * 64}'}}\n")
    elif kind == 2:
        docs.append(f"apiVersion: v1\nkind: Service\nmetadata: {{name: svc-{i}, namespace: fleet-app}}\n"
                    f"spec: {{selector: {{app: a{i}}}, ports: [{{port: 80, targetPort: 8080}}]}}\n")
    else:
        docs.append(f"apiVersion: v1\nkind: ServiceAccount\nmetadata: {{name: sa-{i}, namespace: fleet-app}}\n")
open(f"{root}/patterns/fleet/app/objects.yaml", "w").write("---\n".join(docs))
open(f"{root}/overlays/edge/overlay.yaml", "w").write(
  "apiVersion: pattern.dev/v1alpha1\nkind: Group\nmetadata: {name: edge}\nspec:\n  pattern: {path: patterns/fleet}\n"
  "  cluster: {labels: {tier: edge}}\n")
width = max(3, len(str(sites)))
for s in range(1, sites + 1):
    name = f"site-{s:0{width}d}"; ctx = f"cluster-{s:0{width}d}"
    os.makedirs(f"{root}/overlays/{name}")
    open(f"{root}/overlays/{name}/overlay.yaml", "w").write(
      f"apiVersion: pattern.dev/v1alpha1\nkind: Site\nmetadata: {{name: {name}}}\nspec:\n  extends: [edge]\n"
      f"  cluster: {{context: {ctx}, labels: {{region: r{s % 4}}}}}\n")
PY

PIDS=()
cleanup() { for p in "${PIDS[@]}"; do kill "$p" 2>/dev/null || true; done; }
trap cleanup EXIT
start_fleet() { # $1 = kubeconfig path
  rm -f "$1"
  "$BIN/pattern-test-apiserver" --clusters "$SITES" --kubeconfig-out "$1" > "$1.log" 2>&1 &
  PIDS+=($!)
  for _ in $(seq 200); do [ -s "$1" ] && break; sleep 0.05; done
}
KP="$WORK/kc-fleet-pattern"; KK="$WORK/kc-fleet-kubectl"
start_fleet "$KP"; start_fleet "$KK"
SERVER_PID=${PIDS[0]}

echo "fleet: $SITES sites x $OBJECTS objects, one test API server process per tool, --parallel $PARALLEL"
echo "load average before: $(cut -d' ' -f1-3 /proc/loadavg)"
s=$(now); "$BIN/pattern" apply -C "$R" --all --yes --parallel "$PARALLEL" --kubeconfig "$KP" -o json > "$WORK/fleet-apply.json"; e=$(now); p1=$(ms "$s" "$e")
python3 - "$WORK/fleet-apply.json" <<'PY'
import json, sys
d = json.load(open(sys.argv[1]))
t = d["totals"]
print(f"pattern first apply: {t['sites']} sites, {t['changed']} changed, {t['failed']} failed, {t['unreachable']} unreachable, {t['objects']['created']} objects created")
PY
t=()
for _ in $(seq "$REPS"); do s=$(now); "$BIN/pattern" diff -C "$R" --all --parallel "$PARALLEL" --kubeconfig "$KP" > "$WORK/fleet-diff.txt" || rc=$?; e=$(now); t+=("$(ms "$s" "$e")"); done
p2=$(printf "%s\n" "${t[@]}" | median)
tail -1 "$WORK/fleet-diff.txt"
RSS=$(awk '/VmHWM/ {print $2}' /proc/$SERVER_PID/status 2>/dev/null || echo "?")

# kubectl: the same objects, rendered per site beforehand (not timed), then one
# `kubectl apply --server-side` and one `kubectl diff --server-side` per context.
width=$(( ${#SITES} > 3 ? ${#SITES} : 3 ))
for i in $(seq 1 "$KSITES"); do
  n=$(printf "%0${width}d" "$i")
  "$BIN/pattern" render -C "$R" "site-$n" > "$WORK/fleet-site-$n.yaml"
done
s=$(now)
for i in $(seq 1 "$KSITES"); do n=$(printf "%0${width}d" "$i"); kubectl --kubeconfig "$KK" --context "cluster-$n" apply --server-side -f "$WORK/fleet-site-$n.yaml" > /dev/null; done
e=$(now); k1=$(( $(ms "$s" "$e") * SITES / KSITES ))
s=$(now)
for i in $(seq 1 "$KSITES"); do n=$(printf "%0${width}d" "$i"); kubectl --kubeconfig "$KK" --context "cluster-$n" diff --server-side -f "$WORK/fleet-site-$n.yaml" > /dev/null || true; done
e=$(now); k2=$(( $(ms "$s" "$e") * SITES / KSITES ))

printf "%-36s %10s %16s\n" "step ($SITES sites x $OBJECTS objects)" "pattern" "kubectl loop"
printf "%-36s %8sms %14sms   (target <= 20000ms)\n" "first apply (--all)" "$p1" "$k1"
printf "%-36s %8sms %14sms   (target <= 2000ms)\n" "no-op diff (--all, median of $REPS)" "$p2" "$k2"
echo "kubectl figures: $KSITES sites timed sequentially, extrapolated x$(( SITES / KSITES ))"
echo "test server (pattern's) peak RSS: ${RSS} kB"
echo "load average after: $(cut -d' ' -f1-3 /proc/loadavg)"
