#!/usr/bin/env bash
# Apply/diff benchmark: `pattern apply` / `pattern diff` vs `kubectl apply --server-side` /
# `kubectl diff --server-side` on the same rendered corpus (../shared/bench/gen_corpus.py),
# each against its own fresh test API server (pattern-test-apiserver, simulated controllers),
# in the same run. Prints wall times and pattern's request counts.
#
#   Benchmarks/apply.sh [APPS]      default 200 (600 objects)
#   BEFORE=path/to/old/pattern Benchmarks/apply.sh 1000
#   LATENCY=0.02 Benchmarks/apply.sh 1000   every server answer 20 ms late (a remote API server's
#                                           round trip; pattern only: kubectl's 3,000 sequential
#                                           requests would take minutes per step)
#
# No-op diff and apply are timed as medians of REPS runs (kubectl: 3), each with the client's
# own CPU time (user+sys of the pattern or kubectl process, /usr/bin/time) and the test API
# server's CPU time for the same run (a real kube-apiserver spends its own CPU on LISTs, not
# the client's) beside the wall time, and the load average. BEFORE= runs an older `pattern`
# binary alternately with the new one, for a before/after in one run: against its own server,
# which it applied itself (the applied-hash annotation it compares is its own kind).
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
declare -A SERVER_PID
start_server() { # $1 = kubeconfig path
  "$BIN/pattern-test-apiserver" --port 0 --simulate-controllers ${LATENCY:+--latency "$LATENCY"} --kubeconfig-out "$1" > "$1.log" 2>&1 &
  PIDS+=($!); SERVER_PID[$1]=$!
  for _ in $(seq 100); do [ -s "$1" ] && break; sleep 0.05; done
  KUBECONFIG="$1" kubectl create namespace site0-apps >/dev/null
}

KP="$WORK/kc-pattern"; KK="$WORK/kc-kubectl"; KN="$WORK/kc-nowait"; KB="$WORK/kc-before"
rm -f "$KP" "$KK" "$KN" "$KB"
start_server "$KP"; start_server "$KK"; start_server "$KN"
if [ -n "${BEFORE:-}" ]; then
  start_server "$KB"
  KUBECONFIG="$KB" "$BEFORE" apply -C "$C" bench-site --context test --no-wait > /dev/null 2>&1
fi

printf "%-34s %10s %10s\n" "step ($OBJS objects)" "pattern" "kubectl"
s=$(now); KUBECONFIG="$KP" "$BIN/pattern" apply -C "$C" bench-site --context test -o json > "$WORK/apply1.json" 2> "$WORK/apply1.err"; e=$(now); p1=$(ms "$s" "$e")
k1=-
if [ -z "${LATENCY:-}" ]; then s=$(now); KUBECONFIG="$KK" kubectl apply --server-side -f "$WORK/bench-site.yaml" > /dev/null; e=$(now); k1=$(ms "$s" "$e"); fi
printf "%-34s %8sms %8sms\n" "first apply (pattern waits)" "$p1" "$k1"
# The same first apply without readiness waits, on its own fresh server: the readiness target
# is "first apply to ready <= 1.3x this".
s=$(now); KUBECONFIG="$KN" "$BIN/pattern" apply -C "$C" bench-site --context test --no-wait > /dev/null 2>&1; e=$(now); p0=$(ms "$s" "$e")
printf "%-34s %8sms %10s\n" "first apply --no-wait (pattern)" "$p0" "-"

REPS=${REPS:-5}
# CPU time (ms, user+sys) the process $1 has used so far.
cpu_ms() { awk -v hz="$(getconf CLK_TCK)" '{printf "%d", ($14 + $15) * 1000 / hz}' "/proc/$1/stat"; }
# run_median n kubeconfig command… → "median-wall-ms median-cpu-ms median-server-cpu-ms"
# (cpu: the command's user+sys; server: the test API server's CPU during the run)
run_median() {
  local n=$1 sp=${SERVER_PID[$2]}; shift 2; local w=() c=() v=()
  for _ in $(seq "$n"); do
    a=$(cpu_ms "$sp")
    s=$(now); /usr/bin/time -f "%U %S" -o "$WORK/time.out" "$@" > /dev/null 2>&1 || true; e=$(now)
    w+=("$(ms "$s" "$e")"); c+=("$(awk '{printf "%d", ($1 + $2) * 1000}' "$WORK/time.out")"); v+=($(( $(cpu_ms "$sp") - a )))
  done
  echo "$(printf "%s\n" "${w[@]}" | median) $(printf "%s\n" "${c[@]}" | median) $(printf "%s\n" "${v[@]}" | median)"
}
row() { # label "wall cpu server" ["wall cpu server"]
  local a=($2) b=(${3:-- - -})
  printf "%-34s %8sms (cpu %5sms, server %4sms) %8sms (cpu %5sms, server %4sms)\n" "$1" "${a[0]}" "${a[1]}" "${a[2]}" "${b[0]}" "${b[1]}" "${b[2]}"
}
echo "load average: $(cut -d' ' -f1-3 /proc/loadavg)"
printf "%-34s %34s %34s\n" "no-op step (median)" "pattern" "kubectl"
k2=""; k3=""
for round in 1 2; do
  [ -n "${BEFORE:-}" ] && row "no-op diff, BEFORE" "$(run_median "$REPS" "$KB" env KUBECONFIG="$KB" "$BEFORE" diff -C "$C" bench-site --context test)"
  p2=$(run_median "$REPS" "$KP" env KUBECONFIG="$KP" "$BIN/pattern" diff -C "$C" bench-site --context test)
  [ "$round" = 1 ] && [ -z "${LATENCY:-}" ] && k2=$(run_median 3 "$KK" env KUBECONFIG="$KK" kubectl diff --server-side -f "$WORK/bench-site.yaml")
  row "no-op diff" "$p2" "$k2"
  [ -n "${BEFORE:-}" ] && row "no-op apply, BEFORE" "$(run_median "$REPS" "$KB" env KUBECONFIG="$KB" "$BEFORE" apply -C "$C" bench-site --context test)"
  p3=$(run_median "$REPS" "$KP" env KUBECONFIG="$KP" "$BIN/pattern" apply -C "$C" bench-site --context test)
  [ "$round" = 1 ] && [ -z "${LATENCY:-}" ] && k3=$(run_median 3 "$KK" env KUBECONFIG="$KK" kubectl apply --server-side -f "$WORK/bench-site.yaml")
  row "no-op apply" "$p3" "$k3"
  [ -n "${BEFORE:-}" ] || break
done
echo "load average: $(cut -d' ' -f1-3 /proc/loadavg)"
p2=${p2%% *}; k2=${k2:-}; k2=${k2%% *}; p3=${p3%% *}; k3=${k3:-}; k3=${k3%% *}
KUBECONFIG="$KP" "$BIN/pattern" apply -C "$C" bench-site --context test -o json > "$WORK/apply2.json"

python3 - "$WORK/apply1.json" "$WORK/apply2.json" <<'PY'
import json, sys
a, b = (json.load(open(p)) for p in sys.argv[1:3])
print(f"pattern first apply: {a['writeRequests']} writes, {a['listRequests']} LISTs, {a['levels']} levels")
print(f"pattern no-op apply: {b['writeRequests']} writes, {b['listRequests']} LISTs")
PY
if [ -n "${LATENCY:-}" ]; then
  echo "every answer ${LATENCY} s late: kubectl not run"
else
  awk -v p="$p2" -v k="$k2" -v p3="$p3" -v k3="$k3" -v p1="$p1" -v k1="$k1" 'BEGIN {
    printf "ratios (kubectl/pattern): first apply %.1fx, no-op diff %.1fx, no-op apply %.1fx\n", k1/p1, k/p, k3/p3 }'
fi
awk -v p1="$p1" -v p0="$p0" 'BEGIN { printf "readiness cost: first apply to ready / --no-wait = %.2fx (target <= 1.3x)\n", p1/p0 }'
