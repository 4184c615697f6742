#!/bin/sh
# Regenerates expected.yaml in every conformance fixture with the oracle, `kubectl kustomize`
# (Kustomize v5.5.0). Fixtures under errors/ are expected to fail and have no expected.yaml.
# The build root is the fixture directory itself (a fixture's `build/` subdirectory when it
# has one, so that a fixture can hold bases beside its overlay).
set -eu
cd "$(dirname "$0")"
for d in */; do
  d=${d%/}
  [ "$d" = errors ] && continue
  target=$d
  [ -f "$d/BUILD_DIR" ] && target="$d/$(cat "$d/BUILD_DIR")"
  # Not a fixture (e.g. differential/): no kustomization to build.
  [ -f "$target/kustomization.yaml" ] || [ -f "$target/kustomization.yml" ] || [ -f "$target/Kustomization" ] || continue
  if kubectl kustomize "$target" > "$d/expected.yaml.tmp" 2> "$d/expected.err"; then
    mv "$d/expected.yaml.tmp" "$d/expected.yaml"; rm -f "$d/expected.err"
    echo "regenerated $d/expected.yaml"
  else
    rm -f "$d/expected.yaml.tmp"; echo "FAILED $d:" >&2; cat "$d/expected.err" >&2; rm -f "$d/expected.err"; exit 1
  fi
done
