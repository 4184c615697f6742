#!/usr/bin/env bash
# Argo CD expansion benchmark: an app-of-apps repository the size of industrial-edge (6 charts,
# 108 templates, ~200 objects; Benchmarks/gen_argocd_repo.py) rendered with its Applications
# expanded, beside the same six charts rendered as plain chart components and the site with
# its Applications kept, in the same run. Prints wall time (median of RUNS), CPU time (user +
# system, the least of RUNS: steadier than wall time on a shared machine), peak RSS, objects.
# (No Argo CD binary exists offline to compare with; argo-cd renders one Application per
# repo-server request.)
#
#   RUNS=7 Benchmarks/argocd.sh
set -euo pipefail
cd "$(dirname "$0")/.."
WORK=Benchmarks/work
SCRATCH=.build-bench
mkdir -p "$WORK"
RUNS=${RUNS:-7}
swift build -c release --static-swift-stdlib --scratch-path $SCRATCH --product pattern >/dev/null
BIN=$(swift build -c release --scratch-path $SCRATCH --show-bin-path)/pattern
R="$WORK/argocd-repo"
rm -rf "$R"; python3 Benchmarks/gen_argocd_repo.py "$R"
ms() { echo $(( ($2 - $1) / 1000000 )); }
median() { sort -n | awk '{a[NR]=$1} END {print a[int((NR+1)/2)]}'; }
printf "%-44s %10s %10s %10s %8s\n" case "ms(median)" "cpu-ms(min)" "peakMiB" objects
run() { # label args…
  local label=$1; shift
  local times=() cpus=()
  for _ in $(seq "$RUNS"); do
    s=$(date +%s%N); "$BIN" render -C "$R" "$@" > "$WORK/argocd-out.yaml"; e=$(date +%s%N); times+=("$(ms "$s" "$e")")
    cpus+=("$( { /usr/bin/time -f "%U %S" "$BIN" render -C "$R" "$@" >/dev/null; } 2>&1 | tail -1 | awk '{printf "%d", ($1 + $2) * 1000}')")
  done
  rss=$( { /usr/bin/time -f %M "$BIN" render -C "$R" "$@" >/dev/null; } 2>&1 | tail -1)
  printf "%-44s %10s %10s %10s %8s\n" "$label" "$(printf "%s\n" "${times[@]}" | median)" "$(printf "%s\n" "${cpus[@]}" | sort -n | head -1)" \
    "$((rss / 1024))" "$(grep -c '^kind:' "$WORK/argocd-out.yaml" || true)"
}
run "apps: 7 Applications expanded (app of apps)" apps
run "charts: the 6 charts as chart components" charts
run "apps: Applications kept (not expanded)" apps --no-expand-applications
