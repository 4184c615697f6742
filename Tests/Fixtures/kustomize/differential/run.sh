#!/bin/sh
# Differential testing: builds random kustomization trees (gen.py) with `kubectl kustomize`
# and with this engine (the DebugDump test) and compares the YAML byte for byte.
# usage: Tests/Fixtures/kustomize/differential/run.sh FIRST_SEED LAST_SEED [WORKDIR]
# Needs kubectl, python3, and a built test bundle (`swift build --build-tests`).
set -u
here=$(cd "$(dirname "$0")" && pwd)
repo=$(cd "$here/../../../.." && pwd)
work=${3:-/tmp/kustomize-differential}
mkdir -p "$work"
cd "$repo"
pass=0; fail=0; bothfail=0
for s in $(seq "$1" "$2"); do
  d=$work/case$s
  b=$(python3 "$here/gen.py" "$s" "$d")
  kubectl kustomize "$d/$b" > "$d/theirs.yaml" 2> "$d/theirs.err"; krc=$?
  rm -f "$d/ours.yaml"
  KUSTOMIZE_DUMP_OUT=$d/ours.yaml KUSTOMIZE_DUMP_ROOT=$d KUSTOMIZE_DUMP=$d/$b \
    swift test --skip-build --filter DebugDump > "$d/ours.log" 2>&1
  if [ $krc -ne 0 ]; then
    # Both must fail (the messages differ).
    if [ -f "$d/ours.yaml" ]; then echo "case $s: kubectl failed, we did not"; fail=$((fail+1)); else bothfail=$((bothfail+1)); fi
    continue
  fi
  if cmp -s "$d/ours.yaml" "$d/theirs.yaml"; then pass=$((pass+1)); else echo "case $s: differs (diff $d/ours.yaml $d/theirs.yaml)"; fail=$((fail+1)); fi
done
echo "pass=$pass fail=$fail bothfail=$bothfail"
