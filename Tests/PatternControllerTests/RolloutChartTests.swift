import Testing
import Foundation
import PatternCore
import PatternRecord
import PatternApply
import PatternRollout
import PatternController
import KubeClient
import KubeTestServer
import TestSupport

/// A `PatternRollout` and its sites' PatternSyncs agree on what a site renders to: a chart
/// site renders its chart as Helm would (an upgrade once the release's objects were applied),
/// exactly as its PatternSync does, and a PatternSync with another source is refused, so the
/// PatternSync is Ready after the rollout rather than waiting for it (or undoing it).
@Suite struct RolloutChartTests {
    static let rollout = """
        apiVersion: pattern.dev/v1alpha1
        kind: Rollout
        metadata: {name: r}
        spec:
          defaults: {maxParallel: 1, health: {timeout: 30s}}
          waves:
          - {name: one, sites: [s0]}

        """

    /// Adds chart component `rel` (ConfigMap `release-info` saying which `.Release` it rendered
    /// as) to site 0's pattern, at chart value `version`; commits.
    static func addChart(_ repo: SmallFleetRepo, version: String) throws {
        let p = repo.dir + "/patterns/p0"
        writeFile(p + "/charts/rel/Chart.yaml", "apiVersion: v2\nname: rel\nversion: 1.0.0\n")
        writeFile(p + "/charts/rel/values.yaml", "version: \(version)\n")
        writeFile(p + "/charts/rel/templates/cm.yaml", """
            apiVersion: v1
            kind: ConfigMap
            metadata: {name: release-info}
            data: {version: {{ .Values.version | quote }}, upgrade: "{{ .Release.IsUpgrade }}", install: "{{ .Release.IsInstall }}"}
            """)
        writeFile(p + "/pattern.yaml", """
            apiVersion: pattern.dev/v1alpha1
            kind: Pattern
            metadata: {name: p0}
            spec:
              components:
              - {name: app, path: app}
              - name: rel
                dependsOn: [app]
                chart: {path: charts/rel, namespace: bench-0}

            """)
        try git(["add", "-A"], in: repo.dir)
        try git(["commit", "-q", "-m", "chart \(version)"], in: repo.dir)
    }

    static func releaseInfo(_ hub: ControllerCluster) -> Value? {
        hub.server.store.get(resource: "configmaps", namespace: "bench-0", name: "release-info")?["data"]
    }

    @Test func aChartSiteIsRolledOutAsAnUpgradeAndItsPatternSyncAgrees() async throws {
        let hub = try await ControllerCluster()
        defer { hub.stop() }
        try await RolloutControllerTests.installRolloutCRD(hub)
        let repo = try SmallFleetRepo(sites: 1, rollout: RolloutChartTests.rollout)
        defer { repo.remove() }
        try RolloutChartTests.addChart(repo, version: "v1")
        try await hub.createSync("s0", url: repo.url, site: "s0")
        let running = RunningController(try hub.controller())
        defer { Task { await running.stop() } }

        // The PatternSync installs the chart.
        #expect(await eventually(20) { await hub.condition("s0", "Ready")?["status"]?.string == "True" })
        #expect(RolloutChartTests.releaseInfo(hub) == ["version": "v1", "upgrade": "false", "install": "true"])

        // The rollout of the current version, then of chart version v2.
        try await RolloutControllerTests.createRollout(hub, url: repo.url)
        #expect(await eventually(30) { (try? await RolloutControllerTests.state(hub))?.phase == .succeeded })
        let first = try #require(try await RolloutControllerTests.state(hub))
        writeFile(repo.dir + "/patterns/p0/charts/rel/values.yaml", "version: v2\n")
        try git(["commit", "-q", "-am", "chart v2"], in: repo.dir)
        try await RolloutControllerTests.request(hub, PatternRolloutResource.gvk, "platform", "v2")
        #expect(await eventually(60) {
            let s = try? await RolloutControllerTests.state(hub)
            return s?.phase == .succeeded && s?.revision != first.revision
        })
        let done = try #require(try await RolloutControllerTests.state(hub))
        #expect(done.waves.map(\.phase) == [.succeeded])

        // Helm's rule: the release exists, so the rollout's apply is an upgrade.
        #expect(RolloutChartTests.releaseInfo(hub) == ["version": "v2", "upgrade": "true", "install": "false"])
        let ledger = try await ApplyEngine(client: hub.client).records.loadLedger(SiteIdentity(pattern: "p0", site: "s0"))
        let last = try #require(ledger.entries.last)
        #expect(last.render?.upgraded == ["rel"])
        #expect(last.revision == done.waves[0].sites[0].appliedRevision)

        // The PatternSync renders the same revision: it finds the site up to date and is Ready
        // (an install render would differ and wait for the rollout forever).
        try await RolloutControllerTests.request(hub, ControllerCluster.gvk, "s0", "after")
        #expect(await eventually(20) {
            let s = await hub.sync("s0")
            return s?[path: ["status", "lastHandledReconcileAt"]]?.string == "after"
                && s?[path: ["status", "lastAppliedRevision"]]?.string == last.revision
        })
        let ready = await hub.condition("s0", "Ready")
        #expect(ready?["status"]?.string == "True", "\(ready ?? .null)")
        // It wrote nothing more: the rollout's entry is still the last.
        let after = try await ApplyEngine(client: hub.client).records.loadLedger(SiteIdentity(pattern: "p0", site: "s0"))
        #expect(after.entries.last?.seq == last.seq)
    }

    @Test func aPatternSyncWithAnotherSourceRefusesTheRolloutBeforeAnythingIsWritten() async throws {
        let hub = try await ControllerCluster()
        defer { hub.stop() }
        try await RolloutControllerTests.installRolloutCRD(hub)
        let repo = try SmallFleetRepo(sites: 1, rollout: RolloutChartTests.rollout)
        defer { repo.remove() }
        try git(["branch", "other"], in: repo.dir)
        try await hub.createSync("s0", url: repo.url, site: "s0")
        let running = RunningController(try hub.controller())
        defer { Task { await running.stop() } }
        #expect(await eventually(20) { await hub.condition("s0", "Ready")?["status"]?.string == "True" })
        let writes = hub.server.requestLog.writes.filter { $0.namespace == "bench-0" }.count
        // The rollout follows branch `other`; the site's PatternSync follows `main`.
        let o: Value = ["apiVersion": "pattern.dev/v1alpha1", "kind": "PatternRollout",
                        "metadata": ["name": "platform", "namespace": "default"],
                        "spec": ["source": ["git": ["url": .string(repo.url), "ref": "other"]], "rollout": "r", "interval": "1h",
                                 "stateNamespace": "default"]]
        _ = try await hub.client.create(o)
        #expect(await eventually(20) {
            let m = (try? await hub.client.get(PatternRolloutResource.gvk, name: "platform", namespace: "default"))?[path: ["status", "message"]]?.string
            return m?.contains("PatternSync default/s0 takes its source from ref main, not other") == true
        })
        #expect(try await RolloutControllerTests.state(hub) == nil)
        #expect(hub.server.requestLog.writes.filter { $0.namespace == "bench-0" }.count == writes)
    }
}
