#!/usr/bin/env bash
# Render benchmark: `pattern render` vs `kubectl kustomize` on the same generated corpus
# (../shared/bench/gen_corpus.py), in the same run. Prints wall time (median of N runs), peak
# RSS, objects, and whether the object sets are identical.
#
#   Benchmarks/render.sh [APPS...]        default: 200 1000
#   RUNS=5 Benchmarks/render.sh 200
set -euo pipefail
cd "$(dirname "$0")/.."
. Benchmarks/lib.sh
RUNS=${RUNS:-5}
KRUNS=${KRUNS:-1}
build_tools pattern
BIN=$BIN/pattern

printf "%-8s %-28s %10s %10s %9s\n" apps tool "ms(median)" "peakMiB" objects
for APPS in "${@:-200 1000}"; do
  for N in $APPS; do
    prepare_corpus "$N"
    times=()
    for _ in $(seq "$RUNS"); do
      s=$(date +%s%N); "$BIN" render "$C/overlays/site0" > "$WORK/pattern-$N.yaml"; e=$(date +%s%N); times+=("$(ms "$s" "$e")")
    done
    pm=$(printf "%s\n" "${times[@]}" | median)
    prss=$( { /usr/bin/time -f %M "$BIN" render "$C/overlays/site0" >/dev/null; } 2>&1 | tail -1)
    objs=$(grep -c '^kind:' "$WORK/pattern-$N.yaml" || true)
    printf "%-8s %-28s %10s %10s %9s\n" "$N" "pattern render <kustomize>" "$pm" "$((prss / 1024))" "$objs"

    times=()
    for _ in $(seq "$RUNS"); do
      s=$(date +%s%N); "$BIN" render -C "$C" bench-site > "$WORK/pattern-site-$N.yaml"; e=$(date +%s%N); times+=("$(ms "$s" "$e")")
    done
    pm=$(printf "%s\n" "${times[@]}" | median)
    prss=$( { /usr/bin/time -f %M "$BIN" render -C "$C" bench-site >/dev/null; } 2>&1 | tail -1)
    printf "%-8s %-28s %10s %10s %9s\n" "$N" "pattern render <site>" "$pm" "$((prss / 1024))" "$objs"

    times=()
    for _ in $(seq "$KRUNS"); do
      s=$(date +%s%N); kubectl kustomize "$C/overlays/site0" > "$WORK/kustomize-$N.yaml"; e=$(date +%s%N); times+=("$(ms "$s" "$e")")
    done
    km=$(printf "%s\n" "${times[@]}" | median)
    krss=$( { /usr/bin/time -f %M kubectl kustomize "$C/overlays/site0" >/dev/null; } 2>&1 | tail -1)
    kobjs=$(grep -c '^kind:' "$WORK/kustomize-$N.yaml" || true)
    printf "%-8s %-28s %10s %10s %9s\n" "$N" "kubectl kustomize" "$km" "$((krss / 1024))" "$kobjs"
    if cmp -s "$WORK/pattern-$N.yaml" "$WORK/kustomize-$N.yaml"; then same="byte-identical"; else
      same=$(python3 - "$WORK/pattern-$N.yaml" "$WORK/kustomize-$N.yaml" <<'PY'
import sys, yaml, json
a = {json.dumps(d, sort_keys=True) for d in yaml.safe_load_all(open(sys.argv[1])) if d}
b = {json.dumps(d, sort_keys=True) for d in yaml.safe_load_all(open(sys.argv[2])) if d}
print("same object set" if a == b else f"DIFFERENT: {len(a - b)} only in pattern, {len(b - a)} only in kustomize")
PY
)
    fi
    echo "         output vs kustomize: $same; speedup $(awk -v k="$km" -v p="$pm" 'BEGIN{ if (p>0) printf "%.0fx", k/p; else print "n/a" }')"
  done
done
