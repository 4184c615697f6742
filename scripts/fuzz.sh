#!/usr/bin/env bash
# Builds the libFuzzer targets in Fuzz/ and runs each for a bounded time (default 30 s).
#   scripts/fuzz.sh [seconds] [target…]     targets: FuzzYAML FuzzJSON FuzzKustomize
# New inputs go to a scratch corpus under ${FUZZ_WORK:-/tmp/pattern-fuzz}; crashes, timeouts
# and out-of-memory inputs are written there as crash-*/timeout-*/oom-* and fail the script.
set -euo pipefail
cd "$(dirname "$0")/.."
seconds="${1:-30}"; shift || true
targets=("$@"); [ ${#targets[@]} -gt 0 ] || targets=(FuzzYAML FuzzJSON FuzzKustomize)
# lld: gold crashes (internal error in format_file_lineno) linking the sanitized binaries.
swift build --package-path Fuzz -c release -Xswiftc -sanitize=fuzzer,address -Xswiftc -use-ld=lld
work="${FUZZ_WORK:-/tmp/pattern-fuzz}"
for t in "${targets[@]}"; do
  case "$t" in FuzzYAML) seeds=yaml;; FuzzJSON) seeds=json;; FuzzKustomize) seeds=kustomize;; *) echo "unknown target $t" >&2; exit 2;; esac
  mkdir -p "$work/$seeds"
  echo "== $t for ${seconds}s"
  Fuzz/.build/release/"$t" "$work/$seeds" "Fuzz/corpus/$seeds" -max_total_time="$seconds" \
      -rss_limit_mb=2048 -timeout=10 -artifact_prefix="$work/$seeds-" -print_final_stats=1 2>&1 | tail -n 12
done
