#!/usr/bin/env bash
# Argo CD expansion benchmark: an app-of-apps repository the size of industrial-edge (6 charts,
# 108 templates, ~200 objects; Benchmarks/gen_argocd_repo.py) rendered with its Applications
# expanded, beside the same six charts rendered as plain chart components and the site with
# its Applications kept, in the same run. Prints wall time (median of RUNS), CPU time (perf
# stat task-clock, both cores summed: median and least; steadier than wall time on a shared
# machine), peak RSS, objects. BEFORE=path/to/pattern runs an older build alternately.
# (No Argo CD binary exists offline to compare with; argo-cd renders one Application per
# repo-server request.)
#
#   RUNS=7 Benchmarks/argocd.sh
#   BEFORE=path/to/old/pattern PATTERN=.build-bench/release/pattern Benchmarks/argocd.sh
set -euo pipefail
cd "$(dirname "$0")/.."
WORK=Benchmarks/work
SCRATCH=.build-bench
mkdir -p "$WORK"
RUNS=${RUNS:-7}
# PATTERN=path/to/pattern measures that binary instead of building one.
if [ -n "${PATTERN:-}" ]; then BIN=$PATTERN; else
  swift build -c release --static-swift-stdlib --scratch-path $SCRATCH --product pattern >/dev/null
  BIN=$(swift build -c release --scratch-path $SCRATCH --show-bin-path)/pattern
fi
R="$WORK/argocd-repo"
rm -rf "$R"; python3 Benchmarks/gen_argocd_repo.py "$R"
. Benchmarks/helmlib.sh
echo "load average: $(cut -d' ' -f1-3 /proc/loadavg)"
compare_header
compare "apps: 7 Applications expanded (app of apps)" "$WORK/argocd-apps" render -C "$R" apps
compare "charts: the 6 charts as chart components" "$WORK/argocd-charts" render -C "$R" charts
compare "apps: Applications kept (not expanded)" "$WORK/argocd-kept" render -C "$R" apps --no-expand-applications
compare "process start (pattern version)" "$WORK/argocd-version" version
echo "load average: $(cut -d' ' -f1-3 /proc/loadavg)"
