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
  kubectl kustomize "$target" > "$d/expected.yaml" 2>/dev/null
  echo "regenerated $d/expected.yaml"
done
