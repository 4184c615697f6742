// KubeTestServer: a Kubernetes API server model over real HTTP on loopback, for tests and
// benchmarks. Entry point: `TestAPIServer.start(_:)`. See Docs/test-api-server.md.
import PatternCore
