import Foundation
import Testing
import PatternCore
import TestSupport
import KubeTestServer
@testable import KubeClient

/// A kubeconfig `server:` URL may carry a path (clusters behind one proxy, Rancher, the fleet
/// test server): every request URL is that path plus the API path.
@Suite struct PathPrefixTests {
    @Test func requestsGoUnderTheServerURLsPathAndReachOnlyThatCluster() async throws {
        let clusters = try TestClusters(["a", "b"])
        defer { clusters.stop() }
        var cfg = try ClientConfig.load(kubeconfig: clusters.kubeconfigPath, context: "b", environment: [:])
        #expect(cfg.server.hasSuffix("/clusters/b"))
        cfg.retry = RetryPolicy(maxAttempts: 1)
        let client = KubeClient(config: cfg)
        let cm: Value = ["apiVersion": "v1", "kind": "ConfigMap", "metadata": ["name": "via-prefix", "namespace": "default"], "data": ["x": "1"]]
        _ = try await client.apply(cm, fieldManager: "pattern")
        let listed = try await client.list(GroupVersionKind(apiVersion: "v1", kind: "ConfigMap"), namespace: "default")
        #expect(listed.items.contains { $0.metadataName == "via-prefix" })
        #expect(clusters["b"].store.get(resource: "configmaps", namespace: "default", name: "via-prefix") != nil)
        #expect(clusters["a"].store.get(resource: "configmaps", namespace: "default", name: "via-prefix") == nil)
        // Discovery and the apply went to b with the prefix stripped; a saw nothing.
        #expect(clusters["b"].requestLog.entries.contains { $0.verb == "apply" && $0.path == "/api/v1/namespaces/default/configmaps/via-prefix" })
        #expect(clusters["b"].requestLog.entries.contains { $0.path == "/api" || $0.path == "/api/v1" })
        #expect(clusters["a"].requestLog.entries.isEmpty)
        #expect(clusters.fleet.unroutedLog.entries.isEmpty)
    }

    @Test func aRefusedContextIsAConnectTransportError() async throws {
        let clusters = try TestClusters(["a"], refused: ["gone"])
        defer { clusters.stop() }
        var cfg = try ClientConfig.load(kubeconfig: clusters.kubeconfigPath, context: "gone", environment: [:])
        cfg.retry = RetryPolicy(maxAttempts: 1)
        do {
            _ = try await KubeClient(config: cfg).serverVersion()
            Issue.record("a refused connection succeeded")
        } catch {
            guard case .transport(let t) = error else { Issue.record("expected a transport error, got \(error)"); return }
            #expect(t.kind == .connect)
        }
    }
}
