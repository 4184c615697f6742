#!/usr/bin/env bash
# Helm chart rendering benchmark: a pattern site of generated chart components
# (Benchmarks/gen_helm_charts.py: each chart a _helpers.tpl plus Deployments, Services and
# ConfigMaps using include, toYaml | nindent, default, quote and range), rendered by
# `pattern render <site>`, and one chart by `pattern render <chart-dir>`. Prints the median wall
# time of RUNS runs and peak RSS for several sizes, to show how it scales; `helm template`
# is run beside it when a `helm` binary is on PATH.
#
#   Benchmarks/helm.sh                 default sizes: 5 10 20 40 charts x 15 templates
#   RUNS=9 Benchmarks/helm.sh 20       only the 300-template size
set -euo pipefail
cd "$(dirname "$0")/.."
. Benchmarks/lib.sh
RUNS=${RUNS:-7}
PER=${PER:-15}
build_tools pattern
BIN=$BIN/pattern

printf "%-7s %-10s %-34s %10s %10s %8s\n" charts templates tool "ms(median)" "peakMiB" objects
for N in "${@:-5 10 20 40}"; do
  H="$WORK/helm-$N"
  rm -rf "$H"; python3 Benchmarks/gen_helm_charts.py "$H" "$N" "$PER"
  T=$((N * PER))
  times=()
  for _ in $(seq "$RUNS"); do
    s=$(now); "$BIN" render -C "$H" bench-helm > "$WORK/helm-site-$N.yaml"; e=$(now); times+=("$(ms "$s" "$e")")
  done
  rss=$( { /usr/bin/time -f %M "$BIN" render -C "$H" bench-helm >/dev/null; } 2>&1 | tail -1)
  objs=$(grep -c '^kind:' "$WORK/helm-site-$N.yaml" || true)
  printf "%-7s %-10s %-34s %10s %10s %8s\n" "$N" "$T" "pattern render <site>" "$(printf "%s\n" "${times[@]}" | median)" "$((rss / 1024))" "$objs"

  times=()
  for _ in $(seq "$RUNS"); do
    s=$(now); "$BIN" render "$H/patterns/bench/charts/app0" > "$WORK/helm-one-$N.yaml"; e=$(now); times+=("$(ms "$s" "$e")")
  done
  printf "%-7s %-10s %-34s %10s %10s %8s\n" 1 "$PER" "pattern render <chart-dir>" "$(printf "%s\n" "${times[@]}" | median)" "" "$(grep -c '^kind:' "$WORK/helm-one-$N.yaml" || true)"
  if command -v helm >/dev/null; then
    times=()
    for _ in $(seq "$RUNS"); do
      s=$(now); helm template release-name "$H/patterns/bench/charts/app0" > "$WORK/helm-helm-$N.yaml"; e=$(now); times+=("$(ms "$s" "$e")")
    done
    printf "%-7s %-10s %-34s %10s %10s %8s\n" 1 "$PER" "helm template" "$(printf "%s\n" "${times[@]}" | median)" "" "$(grep -c '^kind:' "$WORK/helm-helm-$N.yaml" || true)"
  fi
done
