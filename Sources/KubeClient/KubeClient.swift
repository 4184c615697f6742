// KubeClient: see Docs/architecture.md.
import PatternCore
