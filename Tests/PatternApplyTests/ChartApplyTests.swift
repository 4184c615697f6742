import Testing
import PatternCore
import PatternCompile
import PatternApply
import KubeTestServer

/// A chart component with Helm hooks, applied to the test API server: pre-install hooks by
/// weight, then the chart's objects, then post-install hooks; test hooks never.
@Suite struct ChartApplyTests {
    func repo() -> String {
        let root = makeTempDir()
        writeFile(root + "/patterns/p/pattern.yaml", """
            apiVersion: pattern.dev/v1alpha1
            kind: Pattern
            metadata: {name: charts}
            spec:
              components:
              - {name: ns, path: components/ns}
              - {name: web, dependsOn: [ns], chart: {path: charts/web, namespace: web, releaseName: shop}}
            """)
        writeFile(root + "/patterns/p/components/ns/ns.yaml", "apiVersion: v1\nkind: Namespace\nmetadata: {name: web}\n")
        writeFile(root + "/patterns/p/charts/web/Chart.yaml", "apiVersion: v2\nname: web\nversion: 1.0.0\n")
        writeFile(root + "/patterns/p/charts/web/values.yaml", "replicas: 2\n")
        writeFile(root + "/patterns/p/charts/web/templates/app.yaml", """
            apiVersion: v1
            kind: ConfigMap
            metadata: {name: {{ .Release.Name }}-config}
            data: {replicas: "{{ .Values.replicas }}"}
            ---
            apiVersion: apps/v1
            kind: Deployment
            metadata: {name: {{ .Release.Name }}}
            spec:
              replicas: {{ .Values.replicas }}
              selector: {matchLabels: {app: web}}
              template:
                metadata: {labels: {app: web}}
                spec: {containers: [{name: web, image: nginx}]}
            """)
        writeFile(root + "/patterns/p/charts/web/templates/hooks.yaml", """
            apiVersion: v1
            kind: ServiceAccount
            metadata:
              name: {{ .Release.Name }}-migrator
              annotations: {helm.sh/hook: pre-install, helm.sh/hook-weight: "-1"}
            ---
            apiVersion: batch/v1
            kind: Job
            metadata:
              name: {{ .Release.Name }}-migrate
              annotations: {helm.sh/hook: "pre-install,pre-upgrade", helm.sh/hook-weight: "2"}
            spec:
              template:
                spec: {restartPolicy: Never, serviceAccountName: {{ .Release.Name }}-migrator, containers: [{name: m, image: busybox}]}
            ---
            apiVersion: batch/v1
            kind: Job
            metadata:
              name: {{ .Release.Name }}-smoke
              annotations: {helm.sh/hook: post-install}
            spec:
              template:
                spec: {restartPolicy: Never, containers: [{name: s, image: busybox}]}
            ---
            apiVersion: v1
            kind: Pod
            metadata:
              name: {{ .Release.Name }}-test
              annotations: {helm.sh/hook: test}
            spec: {containers: [{name: t, image: busybox}]}
            """)
        writeFile(root + "/overlays/s/overlay.yaml", """
            apiVersion: pattern.dev/v1alpha1
            kind: Site
            metadata: {name: s}
            spec:
              pattern: {path: patterns/p}
            """)
        return root
    }

    @Test func hooksAreAppliedAroundTheChartAndWaitedFor() async throws {
        let cluster = try TestCluster(controllerDelay: 0.1)
        defer { cluster.server.stop() }
        let root = repo()
        let site = try SiteCompiler(workspace: Workspace(tree: LocalTree(root: root))).compile(site: "s")
        let result = try await cluster.engine.apply(site, options: fastOptions())
        #expect(result.succeeded, "\(result.failed)")
        let writes = cluster.server.requestLog.writes.filter { $0.verb == "apply" }
        func index(_ resource: String, _ name: String) -> Int? { writes.firstIndex { $0.resource == resource && $0.name == name } }
        let sa = try #require(index("serviceaccounts", "shop-migrator"))
        let migrate = try #require(index("jobs", "shop-migrate"))
        let config = try #require(index("configmaps", "shop-config"))
        let deploy = try #require(index("deployments", "shop"))
        let smoke = try #require(index("jobs", "shop-smoke"))
        #expect(sa < migrate)                        // hook weights
        #expect(migrate < config && migrate < deploy) // pre-install before the chart
        #expect(deploy < smoke && config < smoke)     // post-install after it
        #expect(index("pods", "shop-test") == nil)    // test hooks are not applied
        // The migrate Job completed before the chart's objects were written (levels wait for readiness).
        let job = try #require(cluster.server.store.get(group: "batch", resource: "jobs", namespace: "web", name: "shop-migrate"))
        #expect(job[path: ["status", "succeeded"]] != nil || job[path: ["status", "conditions"]] != nil)
    }
}
