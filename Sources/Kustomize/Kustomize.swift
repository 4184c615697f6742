// Kustomize: see Docs/kustomize.md.
import PatternCore
