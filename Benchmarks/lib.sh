# Shared set-up for the benchmark scripts (sourced, not run).
# Builds a static-stdlib release of the tools into .build-bench and prepares corpus-N: the
# generated Kustomize tree plus the same overlay wrapped as a pattern site (bench-site).

# The corpus generator lives in shared/ beside the repository (set GEN to use another copy).
GEN=${GEN:-../shared/bench/gen_corpus.py}
[ -f "$GEN" ] || { echo "benchmarks: corpus generator not found at $GEN (set GEN=path/to/gen_corpus.py)" >&2; exit 1; }
WORK=Benchmarks/work
SCRATCH=.build-bench   # static stdlib: no dynamic-linking cost at every start
# As the Dockerfile links the shipped binary: position-dependent (no PIE), so the loader does not
# apply ~90,000 relative relocations at every start. Only valid with the static Swift runtime: a
# non-PIE executable against libswiftCore.so makes ld.so warn about protected symbols.
LINK_FLAGS=(-Xlinker -no-pie)
mkdir -p "$WORK"

build_tools() { # products…
  for p in "$@"; do swift build -c release --static-swift-stdlib "${LINK_FLAGS[@]}" --scratch-path $SCRATCH --product "$p" >/dev/null; done
  BIN=$(swift build -c release "${LINK_FLAGS[@]}" --scratch-path $SCRATCH --show-bin-path)
}

prepare_corpus() { # N → sets C
  C="$WORK/corpus-$1"
  [ -d "$C/base" ] || python3 "$GEN" "$C" "$1" 1 >/dev/null
  mkdir -p "$C/patterns/bench" "$C/overlays/bench-site"
  cat > "$C/patterns/bench/pattern.yaml" <<YAML
apiVersion: pattern.dev/v1alpha1
kind: Pattern
metadata: {name: bench}
spec:
  components:
  - {name: apps, path: ../../overlays/site0}
YAML
  cat > "$C/overlays/bench-site/overlay.yaml" <<YAML
apiVersion: pattern.dev/v1alpha1
kind: Site
metadata: {name: bench-site}
spec:
  pattern: {path: patterns/bench}
YAML
}

now() { date +%s%N; }
ms() { echo $(( ($2 - $1) / 1000000 )); }
median() { sort -n | awk '{a[NR]=$1} END {print a[int((NR+1)/2)]}'; }
