#!/usr/bin/env bash
# Render benchmark: `pattern render` vs `kubectl kustomize` on the same generated corpus
# (../shared/bench/gen_corpus.py), in the same run. Prints wall time (median of N runs), peak
# RSS, objects, and whether the object sets are identical.
#
#   Benchmarks/render.sh [APPS...]        default: 200 1000 (each app is 3 objects)
#   RUNS=5 Benchmarks/render.sh 200
#   KMAX=1000 Benchmarks/render.sh 1 200 1000 5000   skip kubectl above 1000 apps (it is quadratic:
#                                                    27 s at 3,000 objects, minutes at 15,000)
#   BEFORE=path/to/pattern Benchmarks/render.sh 200  also time an older build, alternating run by
#                                                    run with the new one so machine noise hits both
set -euo pipefail
cd "$(dirname "$0")/.."
. Benchmarks/lib.sh
RUNS=${RUNS:-5}
KRUNS=${KRUNS:-1}
build_tools pattern
BIN=$BIN/pattern
KMAX=${KMAX:-1000000}
BEFORE=${BEFORE:-}

# Process start: `pattern version` does no work beyond loading and parsing the command line.
for b in "$BIN" ${BEFORE:+"$BEFORE"}; do
  times=()
  for _ in $(seq "$RUNS"); do s=$(date +%s%N); "$b" version >/dev/null; e=$(date +%s%N); times+=("$(ms "$s" "$e")"); done
  echo "process start ($b version): $(printf "%s\n" "${times[@]}" | median) ms median of $RUNS"
done
echo "load average: $(cut -d' ' -f1-3 /proc/loadavg)"

# One object: a kustomization with one ConfigMap (the issue's "one-object render": nearly all
# process start). Alternated with BEFORE run by run; kubectl in the same run.
ONE="$WORK/one-object"
mkdir -p "$ONE"
printf 'resources:\n- cm.yaml\nnamePrefix: p-\n' > "$ONE/kustomization.yaml"
printf 'apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: one\ndata:\n  a: "1"\n' > "$ONE/cm.yaml"
times=(); btimes=(); ktimes=()
for _ in $(seq "$RUNS"); do
  s=$(date +%s%N); "$BIN" render "$ONE" > "$WORK/one-pattern.yaml"; e=$(date +%s%N); times+=("$(ms "$s" "$e")")
  if [ -n "$BEFORE" ]; then s=$(date +%s%N); "$BEFORE" render "$ONE" >/dev/null; e=$(date +%s%N); btimes+=("$(ms "$s" "$e")"); fi
  s=$(date +%s%N); kubectl kustomize "$ONE" > "$WORK/one-kustomize.yaml"; e=$(date +%s%N); ktimes+=("$(ms "$s" "$e")")
done
cmp -s "$WORK/one-pattern.yaml" "$WORK/one-kustomize.yaml" && one_same="byte-identical" || one_same="OUTPUT DIFFERS"
echo "one object: pattern $(printf "%s\n" "${times[@]}" | median) ms${BEFORE:+, BEFORE $(printf "%s\n" "${btimes[@]}" | median) ms}, kubectl kustomize $(printf "%s\n" "${ktimes[@]}" | median) ms (median of $RUNS; $one_same)"

printf "%-8s %-28s %10s %10s %9s\n" apps tool "ms(median)" "peakMiB" objects
for APPS in "${@:-200 1000}"; do
  for N in $APPS; do
    prepare_corpus "$N"
    times=(); btimes=()
    for _ in $(seq "$RUNS"); do
      s=$(date +%s%N); "$BIN" render "$C/overlays/site0" > "$WORK/pattern-$N.yaml"; e=$(date +%s%N); times+=("$(ms "$s" "$e")")
      if [ -n "$BEFORE" ]; then
        s=$(date +%s%N); "$BEFORE" render "$C/overlays/site0" > "$WORK/before-$N.yaml"; e=$(date +%s%N); btimes+=("$(ms "$s" "$e")")
      fi
    done
    pm=$(printf "%s\n" "${times[@]}" | median)
    if [ -n "$BEFORE" ]; then
      bm=$(printf "%s\n" "${btimes[@]}" | median)
      brss=$( { /usr/bin/time -f %M "$BEFORE" render "$C/overlays/site0" >/dev/null; } 2>&1 | tail -1)
      cmp -s "$WORK/pattern-$N.yaml" "$WORK/before-$N.yaml" && bsame="same output" || bsame="OUTPUT DIFFERS"
      printf "%-8s %-28s %10s %10s %9s\n" "$N" "BEFORE render <kustomize>" "$bm" "$((brss / 1024))" "$bsame"
    fi
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

    if [ "$N" -gt "$KMAX" ]; then echo "         kubectl kustomize skipped (KMAX=$KMAX)"; continue; fi
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
