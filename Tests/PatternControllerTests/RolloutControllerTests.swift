import Testing
import Foundation
import PatternCore
import PatternApply
import PatternRollout
import PatternController
import KubeClient
import KubeTestServer
import TestSupport

/// The controller drives a rollout from a `PatternRollout` resource with the state machine of
/// `pattern rollout` (state in the hub ConfigMap), holds the sites' PatternSyncs meanwhile, and
/// a replica that dies mid-rollout hands it (with its shards) to another that finishes it.
@Suite struct RolloutControllerTests {
    static let rollout = """
        apiVersion: pattern.dev/v1alpha1
        kind: Rollout
        metadata: {name: r}
        spec:
          defaults: {maxParallel: 1, soak: 1s, health: {timeout: 30s}}
          waves:
          - {name: one, sites: [s0]}
          - {name: two, sites: [s1], soak: 3s}
          - {name: three, sites: [s2]}

        """

    /// A hub whose tokens tell replicas a and b apart (`tok-a`, `tok-b`), the PatternRollout
    /// CRD, three sites and their PatternSyncs.
    static func twoReplicaFleet() async throws -> (ControllerCluster, SmallFleetRepo) {
        let tokens = ["admin": UserInfo(name: "admin", groups: ["system:masters"]),
                      "tok-a": UserInfo(name: "a", groups: ["system:masters"]), "tok-b": UserInfo(name: "b", groups: ["system:masters"])]
        let hub = try await ControllerCluster(tokens: tokens)
        try await installRolloutCRD(hub)
        let repo = try SmallFleetRepo(sites: 3, rollout: rollout)
        for i in 0..<3 { try await hub.createSync("s\(i)", url: repo.url, site: "s\(i)") }
        return (hub, repo)
    }

    static func installRolloutCRD(_ hub: ControllerCluster) async throws {
        let crd = try YAMLParser.parse(readFile(repoRoot + "/patterns/pattern-controller/components/crd/patternrollout-crd.yaml"))
        _ = try await hub.client.apply(crd, fieldManager: "test")
        await hub.client.invalidateDiscovery()
    }

    static func createRollout(_ hub: ControllerCluster, url: String) async throws {
        let o: Value = ["apiVersion": "pattern.dev/v1alpha1", "kind": "PatternRollout",
                        "metadata": ["name": "platform", "namespace": "default"],
                        "spec": ["source": ["git": ["url": .string(url), "ref": "main"]], "rollout": "r", "interval": "1h",
                                 "stateNamespace": "default"]]
        _ = try await hub.client.create(o)
    }

    static func request(_ hub: ControllerCluster, _ gvk: GroupVersionKind, _ name: String, _ value: String) async throws {
        _ = try await hub.client.patch(gvk, name: name, namespace: "default",
                                       patch: ["metadata": ["annotations": [.init(stringLiteral: ReconcileRequest.annotation): .string(value)]]], type: .merge)
    }

    static func cfg(_ hub: ControllerCluster, _ i: Int) -> String? {
        hub.server.store.get(resource: "configmaps", namespace: "bench-\(i)", name: "cfg")?[path: ["data", "site"]]?.string
    }

    static func state(_ hub: ControllerCluster) async throws -> RolloutState? {
        try await ConfigMapRolloutStore(client: hub.client, namespace: "default").load("r")
    }

    @Test func aPatternRolloutDrivesTheWavesAndHoldsThePatternSyncsMeanwhile() async throws {
        let hub = try await ControllerCluster()
        defer { hub.stop() }
        try await RolloutControllerTests.installRolloutCRD(hub)
        let repo = try SmallFleetRepo(sites: 3, rollout: RolloutControllerTests.rollout)
        defer { repo.remove() }
        for i in 0..<3 { try await hub.createSync("s\(i)", url: repo.url, site: "s\(i)") }
        let running = RunningController(try hub.controller())
        defer { Task { await running.stop() } }
        var ready = true
        for i in 0..<3 { ready = await eventually(20) { await hub.condition("s\(i)", "Ready")?["status"]?.string == "True" } && ready }
        #expect(ready)
        #expect(RolloutControllerTests.cfg(hub, 2) == "s2")

        // The rollout of the current version: nothing changes, every wave passes.
        try await RolloutControllerTests.createRollout(hub, url: repo.url)
        #expect(await eventually(30) { (try? await RolloutControllerTests.state(hub))?.phase == .succeeded })
        let first = try #require(try await RolloutControllerTests.state(hub))

        // Version 2 is pushed. A PatternSync that looks first waits for the rollout.
        let v2 = try repo.release("v2")
        try await RolloutControllerTests.request(hub, ControllerCluster.gvk, "s2", "look")
        #expect(await eventually(15) { await hub.condition("s2", "Ready")?["reason"]?.string == "WaitingForRollout" })
        #expect(RolloutControllerTests.cfg(hub, 2) == "s2")
        #expect(await hub.condition("s2", "Ready")?["message"]?.string?.contains("default/platform") == true)

        // The rollout sees the new version: wave by wave, every site reaches v2.
        try await RolloutControllerTests.request(hub, PatternRolloutResource.gvk, "platform", "v2")
        #expect(await eventually(60) {
            let s = try? await RolloutControllerTests.state(hub)
            return s?.phase == .succeeded && s?.revision != first.revision
        })
        let done = try #require(try await RolloutControllerTests.state(hub))
        #expect(done.waves.map(\.phase) == [.succeeded, .succeeded, .succeeded])
        #expect(done.driver == nil || done.driver?.id == "pattern-controller/a")
        // Waves ran in order: each soaked after the one before it finished.
        for w in 1..<3 {
            let prev = try #require(done.waves[w - 1].finishedAt), soaked = try #require(done.waves[w].soakStartedAt)
            #expect(soaked >= prev)
        }
        for i in 0..<3 { #expect(RolloutControllerTests.cfg(hub, i) == "s\(i)-v2") }
        // The PatternSyncs find their site at the rolled-out revision and are Ready again.
        #expect(await eventually(20) { await hub.condition("s2", "Ready")?["status"]?.string == "True" })
        // s2 waited for the rollout: as the PatternRollout advanced (its status), it looked again,
        // besides what its watch saw of the driver's apply.
        let rolloutTriggers = running.controller.metrics.value(ControllerMetrics.triggers,
                                                               [("namespace", "default"), ("name", "s2"), ("trigger", "rollout")]) ?? 0
        #expect(rolloutTriggers >= 1)
        #expect(await hub.sync("s2")?[path: ["status", "lastAppliedCommit"]]?.string == v2)
        // The resource's status is compact and says the same as the state.
        let st = try #require(try await hub.client.get(PatternRolloutResource.gvk, name: "platform", namespace: "default")["status"])
        #expect(st["phase"]?.string == "succeeded")
        #expect(st["commit"]?.string == v2)
        #expect(st["sites"]?.array?.count == 3)
        #expect(st["state"]?.string == "default/pattern-rollout-r")
        // The view `pattern rollout status` prints is the state's.
        #expect(RolloutStatusView.text(done, now: done.updatedAt).contains("three"))
    }

    @Test func aReplicaKilledMidRolloutHandsItOverAndTheRolloutFinishes() async throws {
        let (hub, repo) = try await RolloutControllerTests.twoReplicaFleet()
        defer { hub.stop(); repo.remove() }
        let a = RunningController(try hub.controller(identity: "a", leaseDuration: 2, shards: 2, token: "tok-a"))
        let b = RunningController(try hub.controller(identity: "b", leaseDuration: 2, shards: 2, token: "tok-b"))
        defer { Task { await a.stop(); await b.stop() } }
        var ready = true
        for i in 0..<3 { ready = await eventually(20) { await hub.condition("s\(i)", "Ready")?["status"]?.string == "True" } && ready }
        #expect(ready)
        try repo.release("v2")
        try await RolloutControllerTests.createRollout(hub, url: repo.url)

        // Mid-rollout: wave two soaking.
        #expect(await eventually(30) {
            let s = try? await RolloutControllerTests.state(hub)
            return s?.waves[1].soakStartedAt != nil && s?.phase == .running
        })
        let mid = try #require(try await RolloutControllerTests.state(hub))
        let driver = try #require(mid.driver?.id)
        let (dead, survivor, survivorName) = driver.hasSuffix("/a") ? ("a", b, "b") : ("b", a, "a")
        // The driving replica dies: from now on nothing it sends reaches the hub (no release).
        hub.server.authorize = { $0.user.name != dead }
        let killedAt = Date()

        // The survivor takes the shards over and finishes the rollout with the same result.
        #expect(await eventually(30) { (try? await RolloutControllerTests.state(hub))?.driver?.id == "pattern-controller/\(survivorName)" })
        let tookOver = Date().timeIntervalSince(killedAt)
        #expect(await eventually(60) { (try? await RolloutControllerTests.state(hub))?.phase == .succeeded })
        let done = try #require(try await RolloutControllerTests.state(hub))
        #expect(done.waves.map(\.phase) == [.succeeded, .succeeded, .succeeded])
        #expect(done.revision == mid.revision)
        for i in 0..<3 { #expect(RolloutControllerTests.cfg(hub, i) == "s\(i)-v2") }
        // Wave one was not applied again: its site kept its single apply.
        #expect(done.waves[0].sites[0].attempts == mid.waves[0].sites[0].attempts)
        #expect(survivor.controller.heldShards == [0, 1], "took over after \(tookOver)s")
    }
}
