#!/usr/bin/env bash
# Render benchmark: `pattern render` vs `kubectl kustomize` on the same generated corpus
# (../shared/bench/gen_corpus.py), in the same run. Prints wall time and CPU time (user+sys; the
# steadier figure on a loaded machine), medians of N runs, peak RSS, objects, and whether the
# object sets are identical.
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

# timed OUT CMD… : runs CMD with stdout to OUT; appends wall ms to $WALL and CPU ms (user+sys of
# the process; the steadier figure on a loaded machine) to $CPU. Nothing but CMD runs inside the
# interval: the clock is bash's $EPOCHREALTIME (no process is started to read it), and CPU time
# is the shell's children's rusage before and after (`times`, a builtin, written to a file so
# it runs in this shell and not in a subshell).
timed() {
  local out=$1; shift
  local s e
  times > "$WORK/times0.txt"
  s=${EPOCHREALTIME/./}; "$@" > "$out"; e=${EPOCHREALTIME/./}
  times > "$WORK/times1.txt"
  WALL+=("$(( (e - s) / 1000 ))")
  CPU+=("$(awk 'FNR == 2 { n = split($0, f, " "); t = 0; for (i = 1; i <= n; i++) { split(f[i], p, "m"); sub("s", "", p[2]); t += p[1] * 60 + p[2] }
                           c[FILENAME] = t }
                END { printf "%d", (c[ARGV[2]] - c[ARGV[1]]) * 1000 }' "$WORK/times0.txt" "$WORK/times1.txt")")
}
med() { printf "%s\n" "$@" | median; }

# What starting any process costs here (fork and exec of /bin/true from this shell): the floor
# under every row below.
WALL=(); CPU=()
for _ in $(seq "$RUNS"); do timed /dev/null /bin/true; done
echo "harness (/bin/true): wall $(med "${WALL[@]}") ms, CPU $(med "${CPU[@]}") ms (medians of $RUNS)"
# Process start: `pattern version` does no work beyond loading and parsing the command line.
for b in "$BIN" ${BEFORE:+"$BEFORE"}; do
  WALL=(); CPU=()
  for _ in $(seq "$RUNS"); do timed /dev/null "$b" version; done
  echo "process start ($b version): wall $(med "${WALL[@]}") ms, CPU $(med "${CPU[@]}") ms (medians of $RUNS)"
done
echo "load average: $(cut -d' ' -f1-3 /proc/loadavg)"

# One object: a kustomization with one ConfigMap (the issue's "one-object render": nearly all
# process start). Alternated with BEFORE run by run; kubectl in the same run.
ONE="$WORK/one-object"
mkdir -p "$ONE"
printf 'resources:\n- cm.yaml\nnamePrefix: p-\n' > "$ONE/kustomization.yaml"
printf 'apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: one\ndata:\n  a: "1"\n' > "$ONE/cm.yaml"
pw=(); pc=(); bw=(); bc=(); kw=(); kc=()
for _ in $(seq "$RUNS"); do
  WALL=(); CPU=(); timed "$WORK/one-pattern.yaml" "$BIN" render "$ONE"; pw+=("${WALL[0]}"); pc+=("${CPU[0]}")
  if [ -n "$BEFORE" ]; then WALL=(); CPU=(); timed /dev/null "$BEFORE" render "$ONE"; bw+=("${WALL[0]}"); bc+=("${CPU[0]}"); fi
  WALL=(); CPU=(); timed "$WORK/one-kustomize.yaml" kubectl kustomize "$ONE"; kw+=("${WALL[0]}"); kc+=("${CPU[0]}")
done
cmp -s "$WORK/one-pattern.yaml" "$WORK/one-kustomize.yaml" && one_same="byte-identical" || one_same="OUTPUT DIFFERS"
echo "one object (wall/CPU ms, medians of $RUNS): pattern $(med "${pw[@]}")/$(med "${pc[@]}")${BEFORE:+, BEFORE $(med "${bw[@]}")/$(med "${bc[@]}")}, kubectl kustomize $(med "${kw[@]}")/$(med "${kc[@]}") ($one_same)"

printf "%-8s %-28s %10s %10s %10s %9s\n" apps tool "wall(ms)" "CPU(ms)" "peakMiB" objects
for APPS in "${@:-200 1000}"; do
  for N in $APPS; do
    prepare_corpus "$N"
    pw=(); pc=(); bw=(); bc=()
    for _ in $(seq "$RUNS"); do
      WALL=(); CPU=(); timed "$WORK/pattern-$N.yaml" "$BIN" render "$C/overlays/site0"; pw+=("${WALL[0]}"); pc+=("${CPU[0]}")
      if [ -n "$BEFORE" ]; then
        WALL=(); CPU=(); timed "$WORK/before-$N.yaml" "$BEFORE" render "$C/overlays/site0"; bw+=("${WALL[0]}"); bc+=("${CPU[0]}")
      fi
    done
    if [ -n "$BEFORE" ]; then
      brss=$( { /usr/bin/time -f %M "$BEFORE" render "$C/overlays/site0" >/dev/null; } 2>&1 | tail -1)
      cmp -s "$WORK/pattern-$N.yaml" "$WORK/before-$N.yaml" && bsame="same output" || bsame="OUTPUT DIFFERS"
      printf "%-8s %-28s %10s %10s %10s %9s\n" "$N" "BEFORE render <kustomize>" "$(med "${bw[@]}")" "$(med "${bc[@]}")" "$((brss / 1024))" "$bsame"
    fi
    pm=$(med "${pw[@]}")
    prss=$( { /usr/bin/time -f %M "$BIN" render "$C/overlays/site0" >/dev/null; } 2>&1 | tail -1)
    objs=$(grep -c '^kind:' "$WORK/pattern-$N.yaml" || true)
    printf "%-8s %-28s %10s %10s %10s %9s\n" "$N" "pattern render <kustomize>" "$pm" "$(med "${pc[@]}")" "$((prss / 1024))" "$objs"

    WALL=(); CPU=()
    for _ in $(seq "$RUNS"); do timed "$WORK/pattern-site-$N.yaml" "$BIN" render -C "$C" bench-site; done
    prss=$( { /usr/bin/time -f %M "$BIN" render -C "$C" bench-site >/dev/null; } 2>&1 | tail -1)
    printf "%-8s %-28s %10s %10s %10s %9s\n" "$N" "pattern render <site>" "$(med "${WALL[@]}")" "$(med "${CPU[@]}")" "$((prss / 1024))" "$objs"

    if [ "$N" -gt "$KMAX" ]; then echo "         kubectl kustomize skipped (KMAX=$KMAX)"; continue; fi
    WALL=(); CPU=()
    for _ in $(seq "$KRUNS"); do timed "$WORK/kustomize-$N.yaml" kubectl kustomize "$C/overlays/site0"; done
    km=$(med "${WALL[@]}")
    krss=$( { /usr/bin/time -f %M kubectl kustomize "$C/overlays/site0" >/dev/null; } 2>&1 | tail -1)
    kobjs=$(grep -c '^kind:' "$WORK/kustomize-$N.yaml" || true)
    printf "%-8s %-28s %10s %10s %10s %9s\n" "$N" "kubectl kustomize" "$km" "$(med "${CPU[@]}")" "$((krss / 1024))" "$kobjs"
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
