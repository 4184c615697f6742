#!/usr/bin/env bash
# Benchmark: git sources through `pattern source fetch` (libgit2) vs the git CLI, same run.
#
# Builds a repository with $FILES YAML files (default 3000) across 100 directories plus 20
# commits of history, serves it with `git daemon` on 127.0.0.1, and times (median of $RUNS):
#   cold    — first fetch into an empty cache     vs  git clone --bare
#   noop    — fetch again, nothing changed        vs  git fetch (same refspecs, --prune)
#   small   — fetch after one upstream commit     vs  git fetch
#   read    — fetch (no-op) + read every file     vs  git archive HEAD (reads every blob)
#
# Usage: Benchmarks/git-source.sh            (builds `pattern` in release mode)
#        PATTERN_BIN=.build/debug/pattern FILES=5000 RUNS=7 Benchmarks/git-source.sh
#        TRANSPORT=local Benchmarks/git-source.sh   (a local path URL: libgit2's local transport
#                                                    vs git clone --bare --no-local)
# Needs `pattern source fetch` to be registered in the CLI.
set -euo pipefail
FILES=${FILES:-3000}
RUNS=${RUNS:-5}
ROOT=$(cd "$(dirname "$0")/.." && pwd)
if [[ -z "${PATTERN_BIN:-}" ]]; then
  (cd "$ROOT" && swift build -c release --product pattern >/dev/null)
  PATTERN_BIN="$ROOT/.build/release/pattern"
fi
T=$(mktemp -d -t pattern-bench-git.XXXXXX)
DAEMON_PID=
cleanup() { [[ -n "$DAEMON_PID" ]] && kill "$DAEMON_PID" 2>/dev/null; rm -rf "$T"; }
trap cleanup EXIT
export GIT_AUTHOR_NAME=bench GIT_AUTHOR_EMAIL=bench@localhost GIT_COMMITTER_NAME=bench GIT_COMMITTER_EMAIL=bench@localhost
export GIT_CONFIG_NOSYSTEM=1 HOME="$T"

# --- fixture -------------------------------------------------------------------------------
mkdir -p "$T/checkout" "$T/srv"
git -C "$T/checkout" init -q -b main
for ((i = 0; i < FILES; i++)); do
  d="$T/checkout/components/c$((i % 100))"
  mkdir -p "$d"
  printf 'apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: cm-%d\n  namespace: ns-%d\ndata:\n  key: "value-%d"\n  blob: "%0200d"\n' "$i" $((i % 100)) "$i" "$i" > "$d/cm-$i.yaml"
done
git -C "$T/checkout" add -A && git -C "$T/checkout" commit -q -m initial
for ((c = 0; c < 20; c++)); do
  echo "rev: $c" > "$T/checkout/components/c$c/rev.yaml"
  git -C "$T/checkout" add -A && git -C "$T/checkout" commit -q -m "change $c"
done
git -C "$T/checkout" tag v1
git clone -q --bare "$T/checkout" "$T/srv/pattern.git"
PORT=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
/usr/lib/git-core/git-daemon --reuseaddr --base-path="$T/srv" --export-all --port="$PORT" --listen=127.0.0.1 "$T/srv" 2>/dev/null &
DAEMON_PID=$!
for _ in $(seq 100); do (echo > /dev/tcp/127.0.0.1/$PORT) 2>/dev/null && break; sleep 0.05; done
URL="git://127.0.0.1:$PORT/pattern.git"
NOLOCAL=()
if [[ "${TRANSPORT:-git}" == local ]]; then URL="$T/srv/pattern.git"; NOLOCAL=(--no-local); fi

now() { date +%s%N; }
median() { sort -n | awk '{a[NR]=$1} END {print a[int((NR+1)/2)]}'; }
ms() { awk -v ns="$1" 'BEGIN {printf "%.1f", ns/1e6}'; }
declare -A R
measure() { # name command...
  local name=$1; shift
  local t0 t1; t0=$(now); "$@" >/dev/null 2>&1; t1=$(now)
  R[$name]+="$((t1 - t0))"$'\n'
}

for ((r = 0; r < RUNS; r++)); do
  rm -rf "$T/cache" "$T/clone.git"
  measure pattern_cold "$PATTERN_BIN" source fetch "$URL" --ref main --cache-dir "$T/cache"
  measure git_cold git clone -q --bare "${NOLOCAL[@]}" "$URL" "$T/clone.git"
  measure pattern_noop "$PATTERN_BIN" source fetch "$URL" --ref main --cache-dir "$T/cache"
  measure git_noop git -C "$T/clone.git" fetch -q --prune "$URL" '+refs/heads/*:refs/heads/*' '+refs/tags/*:refs/tags/*'
  echo "x: $r" > "$T/checkout/components/c0/bump.yaml"
  git -C "$T/checkout" add -A && git -C "$T/checkout" commit -q -m "bump $r" && git -C "$T/checkout" push -q "$T/srv/pattern.git" main
  measure pattern_small "$PATTERN_BIN" source fetch "$URL" --ref main --cache-dir "$T/cache"
  measure git_small git -C "$T/clone.git" fetch -q --prune "$URL" '+refs/heads/*:refs/heads/*' '+refs/tags/*:refs/tags/*'
  measure pattern_read "$PATTERN_BIN" source fetch "$URL" --ref main --cache-dir "$T/cache" --read-all
  measure git_read sh -c "git -C '$T/clone.git' archive main > /dev/null"
done

# sanity: both ended at the same commit
P=$("$PATTERN_BIN" source fetch "$URL" --ref main --cache-dir "$T/cache" | awk '/^commit:/ {print $2}')
G=$(git -C "$T/clone.git" rev-parse main)
[[ "$P" == "$G" ]] || { echo "MISMATCH: pattern $P vs git $G" >&2; exit 1; }

echo "git sources: $FILES files + history, ${TRANSPORT:-git} transport, median of $RUNS runs (ms)"
printf '%-8s %10s %10s\n' case pattern git
for c in cold noop small read; do
  p=$(printf '%s' "${R[pattern_$c]}" | median); g=$(printf '%s' "${R[git_$c]}" | median)
  printf '%-8s %10s %10s\n' "$c" "$(ms "$p")" "$(ms "$g")"
done
