# Measuring helpers for the Helm, Argo CD and Validated Patterns benchmarks (sourced, not run).
#
# cpu_run OUT command…   one run: output to OUT; sets WALL_MS and CPU_MS (task-clock of
#                        `perf stat`, both cores summed; user+sys of /usr/bin/time without perf)
# compare LABEL OUT command…
#                        RUNS runs of the command with $BIN, alternated run by run with $BEFORE
#                        (an older build) when set; prints one row per build: wall median,
#                        CPU median and least, peak RSS, objects; notes differing output.

# perf is probed once: the probe (a `perf stat true`, ~25 ms) must not land in every wall time.
if command -v perf >/dev/null && perf stat -x, -e task-clock true >/dev/null 2>&1; then PERF_OK=1; else PERF_OK=; fi
cpu_run() {
  local out=$1; shift
  local s e t
  if [ -n "$PERF_OK" ]; then
    # Wall is perf's duration_time of the command itself (perf's own start-up, ~20 ms, is not
    # the measured program's); CPU is its task-clock, both cores summed.
    t=$( { perf stat -x, -e task-clock,duration_time "$@" > "$out"; } 2>&1 | grep -E 'task-clock|duration_time' | tail -2)
    CPU_MS=$(printf "%.0f" "$(echo "$t" | grep task-clock | cut -d, -f1)")
    WALL_MS=$(( $(echo "$t" | grep duration_time | cut -d, -f1) / 1000000 ))
  else
    s=$(date +%s%N)
    t=$( { /usr/bin/time -f "%U %S" "$@" > "$out"; } 2>&1 | tail -1)
    e=$(date +%s%N)
    CPU_MS=$(echo "$t" | awk '{printf "%d", ($1 + $2) * 1000}')
    WALL_MS=$(( (e - s) / 1000000 ))
  fi
}

_median() { sort -n | awk '{a[NR]=$1} END {print a[int((NR+1)/2)]}'; }

_row() { # label walls cpus out
  local rss
  printf "%-46s %9s %9s %9s %8s %8s\n" "$1" "$(printf "%s\n" $2 | _median)" "$(printf "%s\n" $3 | _median)" \
    "$(printf "%s\n" $3 | sort -n | head -1)" "$4" "$(grep -c '^kind:' "$5" || true)"
}

compare_header() { printf "%-46s %9s %9s %9s %8s %8s\n" case "wall-ms" "cpu-ms" "cpu-min" "peakMiB" objects; }

compare() { # label out-prefix args… (the command is "$BIN" args…)
  local label=$1 out=$2; shift 2
  local wa="" ca="" wb="" cb="" rss_a rss_b
  for _ in $(seq "${RUNS:-9}"); do
    cpu_run "$out.yaml" "$BIN" "$@"; wa="$wa $WALL_MS"; ca="$ca $CPU_MS"
    if [ -n "${BEFORE:-}" ]; then cpu_run "$out.before.yaml" "$BEFORE" "$@"; wb="$wb $WALL_MS"; cb="$cb $CPU_MS"; fi
  done
  rss_a=$( { /usr/bin/time -f %M "$BIN" "$@" >/dev/null; } 2>&1 | tail -1)
  _row "$label" "$wa" "$ca" "$((rss_a / 1024))" "$out.yaml"
  if [ -n "${BEFORE:-}" ]; then
    rss_b=$( { /usr/bin/time -f %M "$BEFORE" "$@" >/dev/null; } 2>&1 | tail -1)
    _row "  (BEFORE)" "$wb" "$cb" "$((rss_b / 1024))" "$out.before.yaml"
    cmp -s "$out.yaml" "$out.before.yaml" || echo "  note: output differs from BEFORE's"
  fi
}
