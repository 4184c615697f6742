#!/usr/bin/env bash
# Helm chart rendering benchmark: a pattern site of generated chart components
# (Benchmarks/gen_helm_charts.py: each chart a _helpers.tpl plus Deployments, Services and
# ConfigMaps using include, toYaml | nindent, default, quote and range), rendered by
# `pattern render <site>`, and one chart by `pattern render <chart-dir>`. For each size it
# prints the median wall time of RUNS runs, the median CPU time (user+sys, both cores summed),
# peak RSS and templates per second of wall time, so scaling shows. `helm template` runs beside
# it when a `helm` binary is on PATH; BEFORE=path/to/pattern runs an older build beside it,
# alternating run by run, for before/after figures from one run.
#
#   Benchmarks/helm.sh                          default sizes: 5 10 20 40 charts x 15 templates
#   RUNS=9 Benchmarks/helm.sh 20                only the 300-template size (the issue's target)
#   BEFORE=path/to/old/pattern Benchmarks/helm.sh 20
set -euo pipefail
cd "$(dirname "$0")/.."
. Benchmarks/lib.sh
RUNS=${RUNS:-7}
PER=${PER:-15}
# PATTERN=path/to/pattern measures that binary instead of building one.
if [ -n "${PATTERN:-}" ]; then BIN=$PATTERN; else build_tools pattern; BIN=$BIN/pattern; fi

# One run of "$@" (output to $OUT): appends wall ms, CPU ms and peak KiB to the arrays. The
# clock is bash's $EPOCHREALTIME (no process is started to read it) and /usr/bin/time writes
# to a file (no pipe), so the wall time holds only the command and one exec of /usr/bin/time
# (the "harness" row below measures that with /bin/true).
TIMES=$(mktemp); trap 'rm -f "$TIMES"' EXIT
measure() {
  local s e t
  s=${EPOCHREALTIME/./}
  /usr/bin/time -o "$TIMES" -f "%U %S %M" "$@" > "$OUT"
  e=${EPOCHREALTIME/./}
  t=$(tail -1 "$TIMES")
  walls+=("$(( (e - s) / 1000 ))")
  cpus+=("$(echo "$t" | awk '{printf "%d", ($1 + $2) * 1000}')")
  rss+=("$(echo "$t" | awk '{print $3}')")
}

row() { # charts templates label
  local w c r
  w=$(printf "%s\n" "${walls[@]}" | median); c=$(printf "%s\n" "${cpus[@]}" | median); r=$(printf "%s\n" "${rss[@]}" | median)
  printf "%-7s %-10s %-40s %10s %10s %9s %12s %8s\n" "$1" "$2" "$3" "$w" "$c" "$((r / 1024))" \
    "$(( $2 * 1000 / (w > 0 ? w : 1) ))" "$(grep -c '^kind:' "$OUT" || true)"
}

printf "%-7s %-10s %-40s %10s %10s %9s %12s %8s\n" charts templates tool "wall ms" "CPU ms" "peak MiB" "templates/s" objects
for N in ${@:-5 10 20 40}; do
  H="$WORK/helm-$N"
  rm -rf "$H"; python3 Benchmarks/gen_helm_charts.py "$H" "$N" "$PER"
  T=$((N * PER))
  declare -a w_a c_a r_a w_b c_b r_b
  w_a=(); c_a=(); r_a=(); w_b=(); c_b=(); r_b=()
  for _ in $(seq "$RUNS"); do
    walls=(); cpus=(); rss=(); OUT="$WORK/helm-site-$N.yaml"
    measure "$BIN" render -C "$H" bench-helm
    w_a+=("${walls[0]}"); c_a+=("${cpus[0]}"); r_a+=("${rss[0]}")
    if [ -n "${BEFORE:-}" ]; then
      walls=(); cpus=(); rss=(); OUT="$WORK/helm-site-before-$N.yaml"
      measure "$BEFORE" render -C "$H" bench-helm
      w_b+=("${walls[0]}"); c_b+=("${cpus[0]}"); r_b+=("${rss[0]}")
    fi
  done
  walls=("${w_a[@]}"); cpus=("${c_a[@]}"); rss=("${r_a[@]}"); OUT="$WORK/helm-site-$N.yaml"
  row "$N" "$T" "pattern render <site>"
  if [ -n "${BEFORE:-}" ]; then
    walls=("${w_b[@]}"); cpus=("${c_b[@]}"); rss=("${r_b[@]}"); OUT="$WORK/helm-site-before-$N.yaml"
    row "$N" "$T" "pattern render <site> (BEFORE)"
    cmp -s "$WORK/helm-site-$N.yaml" "$WORK/helm-site-before-$N.yaml" || echo "  note: output differs from BEFORE's"
  fi

  walls=(); cpus=(); rss=(); OUT="$WORK/helm-one-$N.yaml"
  for _ in $(seq "$RUNS"); do measure "$BIN" render "$H/patterns/bench/charts/app0"; done
  row 1 "$PER" "pattern render <chart-dir>"
  if command -v helm >/dev/null; then
    walls=(); cpus=(); rss=(); OUT="$WORK/helm-helm-$N.yaml"
    for _ in $(seq "$RUNS"); do measure helm template release-name "$H/patterns/bench/charts/app0"; done
    row 1 "$PER" "helm template"
  fi
done
echo "harness alone (/usr/bin/time /bin/true), then process start (pattern --help):"
walls=(); cpus=(); rss=(); OUT=/dev/null
for _ in $(seq "$RUNS"); do measure /bin/true; done
row - 0 "harness (/bin/true)"
walls=(); cpus=(); rss=(); OUT=/dev/null
for _ in $(seq "$RUNS"); do measure "$BIN" --help; done
row - 0 "pattern --help"
