import Testing
import TestSupport
import PatternCore
import PatternCompile
import PatternApply
import KubeClient
import KubeTestServer
import ValidatedPatterns

/// Issue 10 end to end: the Validated Patterns fixture rendered for the hub and a spoke with
/// `applications: expand` (the clustergroup chart's Applications point at charts in the same
/// repository through `global.repoURL`), applied to the test API server, then drifted with an
/// `ignoreDifferences` rule: an ignored live change is not drift, another change is.
@Suite struct ExpandedApplyTests {
    static let hubSpec = """
          applications: expand
          ignoreDifferences:
          - kind: ConfigMap
            name: config-demo
            jqPathExpressions: ['.data.platform']
        """

    @Test func hubAndSpokeExpandTheirApplicationsFromTheSameRepository() throws {
        let root = fixtureWithHubOverlay(Self.hubSpec)
        let spoke = root + "/overlays/factory-1/overlay.yaml"
        writeFile(spoke, """
            apiVersion: pattern.dev/v1alpha1
            kind: Site
            metadata: {name: factory-1}
            spec:
              extends: [factory]
              applications: expand
              values:
                global: {clusterPlatform: BareMetal, clusterVersion: "4.17", localClusterName: factory-1}
            """)
        let hub = try compile("hub", root: root)
        #expect(hub.applications == .expand && hub.expandedApplications == 2)
        #expect(hub.names("Application").isEmpty)
        let demo = try #require(hub.objects.first { $0.key.kind == "ConfigMap" && $0.key.name == "config-demo" })
        #expect(demo.key.namespace == "config-demo")                                   // the Application's destination
        #expect(demo.object["data"]?["platform"]?.string == "AWS")                     // global.clusterPlatform parameter
        #expect(hub.object("Service", "hello-world") != nil)
        #expect(hub.ignoreDifferences.count == 1)

        let factory = try compile("factory-1", root: root)
        #expect(factory.applications == .expand && factory.expandedApplications == 1)
        #expect(factory.names("Application").isEmpty)
        #expect(factory.object("ConfigMap", "hello-world")?["data"]?["replicas"]?.string == "2")   // the app's overrides
        #expect(factory.object("ConfigMap", "config-demo") == nil)
    }

    @Test func theExpandedHubAppliesAndDriftHonoursIgnoreDifferences() async throws {
        let c = try VPCluster()
        defer { c.server.stop() }
        try c.crd(group: "operators.coreos.com", kind: "Subscription", plural: "subscriptions", namespaced: true, version: "v1alpha1")
        try c.crd(group: "operators.coreos.com", kind: "OperatorGroup", plural: "operatorgroups", namespaced: true)
        let site = try compile("hub", root: fixtureWithHubOverlay(Self.hubSpec))
        var options = ApplyOptions()
        options.pollIntervalSeconds = 0.05
        options.waitTimeoutSeconds = 20
        let result = try await ApplyEngine(client: c.client).apply(site, options: options)
        #expect(result.succeeded, "\(result.failed)")
        // Namespaces before what lives in them.
        let writes = c.server.requestLog.writes.filter { $0.verb == "apply" }
        let ns = try #require(writes.firstIndex { $0.resource == "namespaces" && $0.name == "config-demo" })
        let cmWrite = try #require(writes.firstIndex { $0.resource == "configmaps" && $0.name == "config-demo" })
        #expect(ns < cmWrite)
        #expect(c.server.store.get(group: "argoproj.io", resource: "applications", namespace: "openshift-gitops", name: "config-demo") == nil)
        #expect(try await ApplyEngine(client: c.client).drift(site).inSync)

        let cm = GroupVersionKind(group: "", version: "v1", kind: "ConfigMap")
        _ = try await c.client.patch(cm, name: "config-demo", namespace: "config-demo", patch: ["data": ["platform": "GCP"]], fieldManager: "kubectl-edit")
        #expect(try await ApplyEngine(client: c.client).drift(site).inSync)             // ignored by the rule
        _ = try await c.client.patch(cm, name: "config-demo", namespace: "config-demo", patch: ["data": ["message": "edited"]], fieldManager: "kubectl-edit")
        let report = try await ApplyEngine(client: c.client).drift(site)
        #expect(report.items.map { "\($0.key.name) \($0.path)" } == ["config-demo .data.message"])
    }
}
