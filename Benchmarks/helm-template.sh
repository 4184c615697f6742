#!/usr/bin/env bash
# HelmTemplate engine benchmark: parse a `helm create`-style chart's helpers and Deployment once,
# then execute the Deployment N times (default 10000) with values loaded as Helm loads them.
# Prints the rendered manifest (to eyeball against `helm template`), parse time, wall and CPU
# time per execution and the projection for 20 charts x 300 templates.
#
#   Benchmarks/helm-template.sh [N]
# There is no `helm` binary on the build machines; with one on PATH the script also times
# `helm template` on the same chart for comparison.
set -euo pipefail
cd "$(dirname "$0")/.."
N=${1:-10000}
swift build -c release --product helm-template-bench >/dev/null
.build/release/helm-template-bench "$N" | sed -n '/^---$/,$p'
if command -v helm >/dev/null; then
  WORK=$(mktemp -d); trap 'rm -rf "$WORK"' EXIT
  helm create "$WORK/demo" >/dev/null
  start=$(date +%s%N)
  for _ in $(seq 20); do helm template web "$WORK/demo" >/dev/null; done
  echo "helm template (whole chart) x20: $(( ($(date +%s%N) - start) / 20000000 )) ms each"
fi
