#!/usr/bin/env bash
# Validated Patterns benchmark: a generated repository the size of industrial-edge (6 charts under
# charts/all, 108 templates, a clustergroup chart with 6 Applications, 12 namespaces and 12
# Subscriptions) laid out as values-global.yaml + values-hub.yaml + facts, rendered offline.
#
# Times (median of RUNS runs of wall and CPU time, the perf stat task-clock of both cores, with
# peak RSS; BEFORE=path/to/pattern runs an older build alternately, PATTERN=path skips the build):
#   pattern render hub                         the site: the clustergroup chart (Applications kept)
#   pattern values hub --explain               the merged values with provenance
#   pattern render hub --expand-applications   the whole tree (the issue's target)
#   pattern render charts/all/appN -f …        each Application's chart alone (the tree's cost
#                                              until expansion is available), summed over the 6
#   cat <every file of the repo>               the cost of reading the input (the floor)
#   helm template                              beside it when a `helm` binary is on PATH
# Target: the expanded tree in ≤ 100 ms on 2 cores.
#
#   Benchmarks/vp.sh            RUNS=15 Benchmarks/vp.sh      BEFORE=path/to/old/pattern Benchmarks/vp.sh
set -euo pipefail
cd "$(dirname "$0")/.."
. Benchmarks/lib.sh
RUNS=${RUNS:-9}
# PATTERN=path/to/pattern measures that binary instead of building one.
if [ -n "${PATTERN:-}" ]; then BIN=$PATTERN; else build_tools pattern; BIN=$BIN/pattern; fi

R="$WORK/vp-repo"; G="$WORK/vp-gen"
rm -rf "$R" "$G"
python3 Benchmarks/gen_helm_charts.py "$G" 6 18
mkdir -p "$R/charts/all" "$R/common" "$R/overlays/hub"
for i in 0 1 2 3 4 5; do cp -r "$G/patterns/bench/charts/app$i" "$R/charts/all/app$i"; done
cp -r Tests/Fixtures/validated-patterns/vp-demo/common/clustergroup "$R/common/clustergroup"
cat > "$R/values-global.yaml" <<'YAML'
global:
  pattern: industrial-edge
  options: {syncPolicy: Automatic, installPlanApproval: Automatic}
main:
  clusterGroupName: hub
  git: {repoURL: https://git.example.com/me/industrial-edge.git, revision: main}
  multiSourceConfig: {enabled: false}
YAML
{
  echo "clusterGroup:"
  echo "  name: hub"
  echo "  sharedValueFiles: ['/overrides/values-{{ \$.Values.global.clusterPlatform }}.yaml']"
  echo "  namespaces:"
  for i in $(seq 0 11); do echo "    ns$i: {labels: {tier: t$((i % 3))}}"; done
  echo "  subscriptions:"
  for i in $(seq 0 11); do echo "    op$i: {name: operator-$i, namespace: ns$i, channel: stable}"; done
  echo "  applications:"
  for i in 0 1 2 3 4 5; do echo "    app$i: {name: app$i, namespace: ns$i, path: charts/all/app$i}"; done
} > "$R/values-hub.yaml"
mkdir -p "$R/overrides"
printf 'clusterGroup:\n  namespaces:\n    aws-storage: {operatorGroup: false}\n' > "$R/overrides/values-AWS.yaml"
cat > "$R/overlays/hub/facts.yaml" <<'YAML'
apiVersion: pattern.dev/v1alpha1
kind: SiteFacts
metadata: {name: hub}
spec:
  kubeVersion: v1.31.2
  global: {clusterPlatform: AWS, clusterVersion: "4.18", localClusterDomain: apps.hub.example.com, clusterDomain: hub.example.com, localClusterName: hub}
YAML

. Benchmarks/helmlib.sh
templates=$(find "$R/charts/all" -path '*/templates/*' -name '*.yaml' | wc -l)
echo "repository: 6 charts, $templates chart templates, clustergroup chart with 6 Applications"
echo "load average: $(cut -d' ' -f1-3 /proc/loadavg)"
compare_header
compare "pattern render hub" "$WORK/vp-hub" render -C "$R" hub
compare "pattern values hub --explain" "$WORK/vp-values" values -C "$R" hub --explain
compare "pattern render hub --expand-applications" "$WORK/vp-tree" render -C "$R" hub --expand-applications
compare "process start (pattern version)" "$WORK/vp-version" version
timeit() { # label outfile command…
  local label=$1 out=$2; shift 2
  local times=()
  for _ in $(seq "$RUNS"); do s=$(now); "$@" > "$out"; e=$(now); times+=("$(ms "$s" "$e")"); done
  printf "%-46s %9s\n" "$label" "$(printf "%s\n" "${times[@]}" | median)"
}
total=0; objs=0
for i in 0 1 2 3 4 5; do
  times=()
  for _ in $(seq "$RUNS"); do
    s=$(now); "$BIN" render "$R/charts/all/app$i" -f "$R/values-global.yaml" -f "$R/values-hub.yaml" > "$WORK/vp-app$i.yaml"; e=$(now)
    times+=("$(ms "$s" "$e")")
  done
  total=$((total + $(printf "%s\n" "${times[@]}" | median)))
  objs=$((objs + $(grep -c '^kind:' "$WORK/vp-app$i.yaml" || true)))
done
printf "%-46s %9s %9s %9s %8s %8s\n" "6 x pattern render <chart-dir> (sum, wall)" "$total" "" "" "" "$objs"
files=$(find "$R" -type f)
timeit "cat (every file of the repository)" "$WORK/vp-cat.txt" cat $files
if command -v helm >/dev/null; then
  timeit "helm template (clustergroup chart)" "$WORK/vp-helm.yaml" helm template industrial-edge-hub "$R/common/clustergroup" \
    -f "$R/values-global.yaml" -f "$R/values-hub.yaml" -f "$R/overrides/values-AWS.yaml"
fi
