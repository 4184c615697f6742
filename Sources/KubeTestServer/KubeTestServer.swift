// KubeTestServer: see Docs/architecture.md.
import PatternCore
