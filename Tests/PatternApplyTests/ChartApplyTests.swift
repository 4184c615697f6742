import Testing
import PatternCore
import PatternCompile
import PatternApply
import KubeTestServer

/// A site `s` of pattern `pattern`: a Namespace component and a chart component `web`
/// (release `shop` in namespace `web`) whose templates the caller writes.
func writeChartSite(_ root: String, pattern: String, replicas: Int) {
    writeFile(root + "/patterns/p/pattern.yaml", """
        apiVersion: pattern.dev/v1alpha1
        kind: Pattern
        metadata: {name: \(pattern)}
        spec:
          components:
          - {name: ns, path: components/ns}
          - {name: web, dependsOn: [ns], chart: {path: charts/web, namespace: web, releaseName: shop}}
        """)
    writeFile(root + "/patterns/p/components/ns/ns.yaml", "apiVersion: v1\nkind: Namespace\nmetadata: {name: web}\n")
    writeFile(root + "/patterns/p/charts/web/Chart.yaml", "apiVersion: v2\nname: web\nversion: 1.0.0\n")
    writeFile(root + "/patterns/p/charts/web/values.yaml", "replicas: \(replicas)\n")
    writeFile(root + "/overlays/s/overlay.yaml", """
        apiVersion: pattern.dev/v1alpha1
        kind: Site
        metadata: {name: s}
        spec:
          pattern: {path: patterns/p}
        """)
}

/// A chart component with Helm hooks, applied to the test API server: pre-install hooks by
/// weight, then the chart's objects, then post-install hooks; test hooks never.
@Suite struct ChartApplyTests {
    func repo() -> String {
        let root = makeTempDir()
        writeChartSite(root, pattern: "charts", replicas: 2)
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

/// `helm.sh/hook-delete-policy` during apply against the test API server.
@Suite struct HookDeletePolicyTests {
    func repo(replicas: Int) -> String {
        let root = makeTempDir()
        writeChartSite(root, pattern: "hooks", replicas: replicas)
        writeFile(root + "/patterns/p/charts/web/templates/app.yaml", """
            apiVersion: v1
            kind: ConfigMap
            metadata: {name: {{ .Release.Name }}-config}
            data: {replicas: "{{ .Values.replicas }}"}
            """)
        writeFile(root + "/patterns/p/charts/web/templates/hooks.yaml", """
            apiVersion: batch/v1
            kind: Job
            metadata:
              name: {{ .Release.Name }}-once
              annotations: {helm.sh/hook: "pre-install,pre-upgrade", helm.sh/hook-delete-policy: hook-succeeded}
            spec:
              template:
                spec: {restartPolicy: Never, containers: [{name: m, image: busybox}]}
            ---
            apiVersion: batch/v1
            kind: Job
            metadata:
              name: {{ .Release.Name }}-migrate
              annotations: {helm.sh/hook: "pre-install,pre-upgrade"}
            spec:
              template:
                spec: {restartPolicy: Never, containers: [{name: m, image: busybox}]}
            """)
        return root
    }

    func job(_ cluster: TestCluster, _ name: String) -> Value? {
        cluster.server.store.get(group: "batch", resource: "jobs", namespace: "web", name: name)
    }

    @Test func hookSucceededIsDeletedAndBeforeHookCreationIsRecreated() async throws {
        let cluster = try TestCluster(controllerDelay: 0.05)
        defer { cluster.server.stop() }
        let first = repo(replicas: 1)
        let site = try SiteCompiler(workspace: Workspace(tree: LocalTree(root: first))).compile(site: "s")
        let r1 = try await cluster.engine.apply(site, options: fastOptions())
        #expect(r1.succeeded, "\(r1.failed)")
        #expect(job(cluster, "shop-once") == nil)                        // hook-succeeded: gone after it completed
        let migrate1 = try #require(job(cluster, "shop-migrate"))        // default policy: stays until the next run
        let uid1 = try #require(migrate1[path: ["metadata", "uid"]]?.string)
        #expect(cluster.server.store.get(resource: "configmaps", namespace: "web", name: "shop-config") != nil)

        // The same render again: a no-op (the deleted hook's absence is not a change; no hook reruns).
        let r2 = try await cluster.engine.apply(site, options: fastOptions())
        #expect(r2.writeRequests == 0, "\(r2.outcomes)")
        #expect(job(cluster, "shop-migrate")?[path: ["metadata", "uid"]]?.string == uid1)

        // An upgrade: the before-hook-creation hook is deleted and created anew, the other runs and goes again.
        var upgraded = SiteCompiler(workspace: Workspace(tree: LocalTree(root: repo(replicas: 3))))
        upgraded.chartReleases = ChartReleases(upgraded: ["web"], revision: 2)
        let r3 = try await cluster.engine.apply(try upgraded.compile(site: "s"), options: fastOptions())
        #expect(r3.succeeded, "\(r3.failed)")
        let uid3 = try #require(job(cluster, "shop-migrate")?[path: ["metadata", "uid"]]?.string)
        #expect(uid3 != uid1)
        #expect(job(cluster, "shop-once") == nil)
        let deletes = cluster.server.requestLog.writes.filter { $0.verb == "delete" && $0.resource == "jobs" }.map(\.name)
        #expect(deletes.filter { $0 == "shop-once" }.count == 2)        // after each successful run
        #expect(deletes.filter { $0 == "shop-migrate" }.count == 1)     // before the second creation
    }

    @Test func hooksThatLeaveTheRenderAreNotPruned() async throws {
        let cluster = try TestCluster(controllerDelay: 0.05)
        defer { cluster.server.stop() }
        let root = repo(replicas: 1)
        let r1 = try await cluster.engine.apply(try SiteCompiler(workspace: Workspace(tree: LocalTree(root: root))).compile(site: "s"),
                                                options: fastOptions())
        #expect(r1.succeeded)
        // The chart drops its hooks: the kept hook Job leaves the inventory but stays in the cluster.
        writeFile(root + "/patterns/p/charts/web/templates/hooks.yaml", "")
        let r2 = try await cluster.engine.apply(try SiteCompiler(workspace: Workspace(tree: LocalTree(root: root))).compile(site: "s"),
                                                options: fastOptions())
        #expect(r2.succeeded, "\(r2.failed)")
        #expect(job(cluster, "shop-migrate") != nil)
        #expect(r2.outcomes.contains { $0.key.name == "shop-migrate" && $0.status == .kept })
        #expect(!r2.outcomes.contains { $0.status == .pruned })
    }
}
