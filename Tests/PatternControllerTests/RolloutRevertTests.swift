import Testing
import Foundation
import PatternCore
import PatternApply
import PatternRecord
import PatternRollout
import PatternController
import KubeClient
import KubeTestServer

/// A PatternRollout whose second wave breaks its health gate: the controller returns that wave's
/// sites to the revision each had before, from its ledger (`PatternController.revert`: the
/// entry rendered again from the source cache and applied as a rollback), leaves the first wave
/// at the new version and never touches the third; the resource ends `failed`, naming the site.
@Suite struct RolloutRevertTests {
    static let rollout = """
        apiVersion: pattern.dev/v1alpha1
        kind: Rollout
        metadata: {name: r}
        spec:
          defaults: {maxParallel: 2, soak: 1s, health: {timeout: 5s}}
          waves:
          - {name: one, sites: [s0]}
          - {name: two, sites: [s1, s2]}
          - {name: three, sites: [s3]}

        """

    /// A Deployment for site 2 in the next commit; the hub's simulated controllers report
    /// workloads ready only after an hour, so it never becomes ready in the test.
    static let deployment = """
        ---
        apiVersion: apps/v1
        kind: Deployment
        metadata: {name: web, namespace: bench-2}
        spec:
          replicas: 1
          selector: {matchLabels: {app: web}}
          template:
            metadata: {labels: {app: web}}
            spec: {containers: [{name: web, image: registry.example/web:2}]}

        """

    static func ledger(_ hub: ControllerCluster, _ i: Int) async throws -> [LedgerEntry] {
        let records = RecordStore(client: hub.client, namespace: Inventory.defaultNamespace)
        return try await records.loadLedger(SiteIdentity(pattern: "p\(i)", site: "s\(i)")).entries
    }

    @Test func aFailedWaveIsRevertedFromTheLedgerAndLaterWavesAreNeverTouched() async throws {
        let hub = try await ControllerCluster(controllerDelay: 3600)
        defer { hub.stop() }
        try await RolloutControllerTests.installRolloutCRD(hub)
        let repo = try SmallFleetRepo(sites: 4, rollout: RolloutRevertTests.rollout)
        defer { repo.remove() }
        for i in 0..<4 { try await hub.createSync("s\(i)", url: repo.url, site: "s\(i)", extra: ["timeout": "3s"]) }
        let running = RunningController(try hub.controller())
        defer { Task { await running.stop() } }
        var ready = true
        for i in 0..<4 { ready = await eventually(30) { await hub.condition("s\(i)", "Ready")?["status"]?.string == "True" } && ready }
        try #require(ready)
        var v1: [String] = []
        for i in 0..<4 { v1.append(try #require(await hub.sync("s\(i)")?[path: ["status", "lastAppliedRevision"]]?.string)) }

        // The PatternRollout holds the sites from the start (its first rollout changes nothing).
        try await RolloutControllerTests.createRollout(hub, url: repo.url)
        #expect(await eventually(30) { (try? await RolloutControllerTests.state(hub))?.phase == .succeeded })
        let first = try #require(try await RolloutControllerTests.state(hub))
        let before3 = try await RolloutRevertTests.ledger(hub, 3).count

        // Version 2: every site's ConfigMap changes, and site 2 gains a Deployment that never gets ready.
        writeFile(repo.dir + "/patterns/p2/app/all.yaml", readFile(repo.dir + "/patterns/p2/app/all.yaml") + RolloutRevertTests.deployment)
        try repo.release("v2")
        try await RolloutControllerTests.request(hub, PatternRolloutResource.gvk, "platform", "v2")

        let failed = await eventually(90) {
            let s = try? await RolloutControllerTests.state(hub)
            return s?.revision != first.revision && s?.phase == .failed
        }
        let done = try #require(try await RolloutControllerTests.state(hub))
        #expect(failed, "\(done.phase): \(done.waves.map { "\($0.name) \($0.phase): \($0.sites.map { "\($0.name) \($0.status) \($0.reason ?? "")" })" })")
        #expect(done.waves.map(\.phase) == [.succeeded, .failed, .pending])
        let two = done.waves[1].sites
        #expect(two.map(\.status) == [.rolledBack, .rolledBack], "\(two.map { "\($0.name): \($0.reason ?? "-")" })")
        #expect(two.first { $0.name == "s2" }?.reason?.contains("Deployment") == true, "\(two.map { $0.reason ?? "-" })")
        #expect(done.waves[2].sites.allSatisfy { $0.status == .pending && $0.attempts == 0 })

        // Live objects: wave one at v2; wave two back at v1 (the Deployment pruned); wave three at v1.
        #expect(RolloutControllerTests.cfg(hub, 0) == "s0-v2")
        #expect(RolloutControllerTests.cfg(hub, 1) == "s1")
        #expect(RolloutControllerTests.cfg(hub, 2) == "s2")
        #expect(hub.server.store.get(group: "apps", resource: "deployments", namespace: "bench-2", name: "web") == nil)
        #expect(RolloutControllerTests.cfg(hub, 3) == "s3")

        // The ledgers: wave two's last entries are rollbacks to the entries of v1 they re-applied.
        for i in 1...2 {
            let entries = try await RolloutRevertTests.ledger(hub, i)
            let last = try #require(entries.last)
            #expect(last.revision == v1[i])
            #expect(last.result == .succeeded)
            let target = try #require(last.rollbackOf)
            #expect(entries.first { $0.seq == target }?.revision == v1[i])
            // Before the rollback: the rollout's own apply of v2.
            #expect(entries.dropLast().last?.revision != v1[i])
        }
        #expect(try await RolloutRevertTests.ledger(hub, 0).last?.revision != v1[0])
        // Wave three: not one ledger entry more.
        #expect(try await RolloutRevertTests.ledger(hub, 3).count == before3)

        // The resource says so, naming the site that broke the wave.
        let st = try #require(try await hub.client.get(PatternRolloutResource.gvk, name: "platform", namespace: "default")["status"])
        #expect(st["phase"]?.string == "failed")
        #expect(st["message"]?.string?.contains("wave two failed") == true, "\(st)")
        #expect(st["message"]?.string?.contains("s2") == true, "\(st)")
        #expect(st["waves"]?.array?[1]["sites"]?["rolledBack"]?.int == 2)
    }
}
