#!/usr/bin/env bash
# Apply/diff benchmark: `pattern apply` / `pattern diff` vs `kubectl apply --server-side` /
# `kubectl diff --server-side` on the same rendered corpus (../shared/bench/gen_corpus.py),
# each against its own fresh test API server (pattern-test-apiserver, simulated controllers),
# in the same run. Prints wall times and pattern's request counts.
#
#   Benchmarks/apply.sh [APPS]      default 200 (600 objects)
set -euo pipefail
cd "$(dirname "$0")/.."
N=${1:-200}
. Benchmarks/lib.sh
build_tools pattern pattern-test-apiserver
prepare_corpus "$N"
"$BIN/pattern" render -C "$C" bench-site > "$WORK/bench-site.yaml"
OBJS=$(grep -c '^kind:' "$WORK/bench-site.yaml")

PIDS=()
cleanup() { for p in "${PIDS[@]}"; do kill "$p" 2>/dev/null || true; done; }
trap cleanup EXIT
start_server() { # $1 = kubeconfig path
  "$BIN/pattern-test-apiserver" --port 0 --simulate-controllers --kubeconfig-out "$1" > "$1.log" 2>&1 &
  PIDS+=($!)
  for _ in $(seq 100); do [ -s "$1" ] && break; sleep 0.05; done
  KUBECONFIG="$1" kubectl create namespace site0-apps >/dev/null
}

KP="$WORK/kc-pattern"; KK="$WORK/kc-kubectl"; KN="$WORK/kc-nowait"
rm -f "$KP" "$KK" "$KN"
start_server "$KP"; start_server "$KK"; start_server "$KN"

printf "%-34s %10s %10s\n" "step ($OBJS objects)" "pattern" "kubectl"
s=$(now); KUBECONFIG="$KP" "$BIN/pattern" apply -C "$C" bench-site --context test -o json > "$WORK/apply1.json"; e=$(now); p1=$(ms "$s" "$e")
s=$(now); KUBECONFIG="$KK" kubectl apply --server-side -f "$WORK/bench-site.yaml" > /dev/null; e=$(now); k1=$(ms "$s" "$e")
printf "%-34s %8sms %8sms\n" "first apply (pattern waits)" "$p1" "$k1"
# The same first apply without readiness waits, on its own fresh server: the readiness target
# is "first apply to ready <= 1.3x this".
s=$(now); KUBECONFIG="$KN" "$BIN/pattern" apply -C "$C" bench-site --context test --no-wait > /dev/null 2>&1; e=$(now); p0=$(ms "$s" "$e")
printf "%-34s %8sms %10s\n" "first apply --no-wait (pattern)" "$p0" "-"

REPS=${REPS:-5}
run_median() { # n command… → median ms
  local n=$1; shift; local t=()
  for _ in $(seq "$n"); do s=$(now); "$@" > /dev/null 2>&1 || true; e=$(now); t+=("$(ms "$s" "$e")"); done
  printf "%s\n" "${t[@]}" | median
}
p2=$(run_median "$REPS" env KUBECONFIG="$KP" "$BIN/pattern" diff -C "$C" bench-site --context test)
k2=$(run_median 3 env KUBECONFIG="$KK" kubectl diff --server-side -f "$WORK/bench-site.yaml")
printf "%-34s %8sms %8sms\n" "no-op diff (median)" "$p2" "$k2"

p3=$(run_median "$REPS" env KUBECONFIG="$KP" "$BIN/pattern" apply -C "$C" bench-site --context test)
KUBECONFIG="$KP" "$BIN/pattern" apply -C "$C" bench-site --context test -o json > "$WORK/apply2.json"
k3=$(run_median 3 env KUBECONFIG="$KK" kubectl apply --server-side -f "$WORK/bench-site.yaml")
printf "%-34s %8sms %8sms\n" "no-op apply (median)" "$p3" "$k3"

python3 - "$WORK/apply1.json" "$WORK/apply2.json" <<'PY'
import json, sys
a, b = (json.load(open(p)) for p in sys.argv[1:3])
print(f"pattern first apply: {a['writeRequests']} writes, {a['listRequests']} LISTs, {a['levels']} levels")
print(f"pattern no-op apply: {b['writeRequests']} writes, {b['listRequests']} LISTs")
PY
awk -v p="$p2" -v k="$k2" -v p3="$p3" -v k3="$k3" -v p1="$p1" -v k1="$k1" 'BEGIN {
  printf "ratios (kubectl/pattern): first apply %.1fx, no-op diff %.1fx, no-op apply %.1fx\n", k1/p1, k/p, k3/p3 }'
awk -v p1="$p1" -v p0="$p0" 'BEGIN { printf "readiness cost: first apply to ready / --no-wait = %.2fx (target <= 1.3x)\n", p1/p0 }'
