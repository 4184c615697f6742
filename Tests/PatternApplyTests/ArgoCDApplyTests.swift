import Testing
import TestSupport
import PatternCore
import PatternCompile
import PatternApply
import KubeClient
import KubeTestServer

/// The app-of-apps fixture (Tests/Fixtures/argocd/app-of-apps) expanded, applied to the test
/// API server in sync-wave order, then drifted: a change under an ignoreDifferences rule is not
/// drift (and is kept on the next apply), another change is.
@Suite struct ArgoCDApplyTests {
    func render() throws -> RenderedSite {
        let root = makeTempDir()
        copyTree(RepositoryPaths.fixtures + "/argocd/app-of-apps", to: root)
        return try SiteCompiler(workspace: Workspace(tree: LocalTree(root: root))).compile(site: "hub")
    }

    @Test func appOfAppsAppliedInWaveOrderAndDriftHonoursIgnoreRules() async throws {
        let site = try render()
        #expect(site.applications == .expand && site.expandedApplications == 3)
        #expect(site.ignoreDifferences.count == 2)  // the overlay's and the web Application's
        #expect(!site.objects.contains { $0.object.kindName == "Application" })

        let cluster = try TestCluster(controllerDelay: 0.05)
        defer { cluster.server.stop() }
        let result = try await cluster.engine.apply(site, options: fastOptions())
        #expect(result.succeeded, "\(result.failed)")
        let writes = cluster.server.requestLog.writes.filter { $0.verb == "apply" }
        func index(_ resource: String, _ name: String) -> Int? { writes.firstIndex { $0.resource == resource && $0.name == name } }
        let config = try #require(index("configmaps", "hub-platform"))  // app config, wave 0
        let migrate = try #require(index("jobs", "shop-migrate"))      // app web, wave 1, PreSync hook
        let settings = try #require(index("configmaps", "shop-settings"))
        let deploy = try #require(index("deployments", "shop"))
        #expect(config < migrate)
        #expect(migrate < settings && migrate < deploy)
        #expect(try await cluster.engine.drift(site).inSync)

        // Another manager changes three fields: two are covered by ignore rules.
        let cm = GroupVersionKind(group: "", version: "v1", kind: "ConfigMap")
        let dep = GroupVersionKind(group: "apps", version: "v1", kind: "Deployment")
        _ = try await cluster.client.patch(cm, name: "hub-platform", namespace: "web", patch: ["data": ["region": "us"]], fieldManager: "kubectl-edit")
        _ = try await cluster.client.patch(dep, name: "shop", namespace: "web", patch: ["spec": ["replicas": 5]], fieldManager: "hpa")
        _ = try await cluster.client.patch(cm, name: "shop-settings", namespace: "web", patch: ["data": ["greeting": "hi"]], fieldManager: "kubectl-edit")
        let report = try await cluster.engine.drift(site)
        #expect(report.items.map { "\($0.key.name) \($0.path)" } == ["shop-settings .data.greeting"])
        #expect(report.items.first?.applied == "hello from the hub" && report.items.first?.live == "hi")

        // Apply again: the drifted field is put back; ignored fields keep their live values.
        var heal = fastOptions()
        heal.forceConflicts = true
        let again = try await cluster.engine.apply(site, options: heal)
        #expect(again.succeeded, "\(again.failed)")
        let liveDeploy = cluster.server.store.get(group: "apps", resource: "deployments", namespace: "web", name: "shop")
        #expect(liveDeploy?[path: ["spec", "replicas"]] == 5)
        let liveConfig = cluster.server.store.get(group: "", resource: "configmaps", namespace: "web", name: "hub-platform")
        #expect(liveConfig?[path: ["data", "region"]] == "us")
        let liveSettings = cluster.server.store.get(group: "", resource: "configmaps", namespace: "web", name: "shop-settings")
        #expect(liveSettings?[path: ["data", "greeting"]] == "hello from the hub")
        #expect(try await cluster.engine.drift(site).inSync)
    }
}
