import Testing
import Foundation
import PatternCore
import PatternController
import KubeClient
import KubeTestServer
import TestSupport

@Suite struct ShardTests {
    @Test func shardOfAKeyIsStableAcrossReplicasAndBuilds() {
        // FNV-1a 64 of "namespace/name": fixed values, so replicas of different builds agree.
        #expect(ShardManager.shard(of: "default/dev", shards: 8) == 2)
        #expect(ShardManager.shard(of: "team-a/edge-eu", shards: 8) == 3)
        #expect(ShardManager.shard(of: "default/dev", shards: 1) == 0)
    }

    @Test func twoReplicasShareTheShardsAndTheSurvivorTakesOverAStoppedOnesSyncs() async throws {
        let hub = try await ControllerCluster(tokens: ["admin": UserInfo(name: "admin"), "ta": UserInfo(name: "a"), "tb": UserInfo(name: "b")])
        defer { hub.stop() }
        let repo = try GitPatternRepo()
        defer { repo.remove() }
        // One PatternSync per shard (s0…s3 hash to shards 0, 3, 2, 1), each to its own cluster.
        var remotes: [RemoteCluster] = []
        defer { for r in remotes { r.stop() } }
        for i in 0..<4 {
            let r = try RemoteCluster(tokens: ["t": UserInfo(name: "ctl")], tls: false)
            remotes.append(r)
            _ = try await hub.client.create(argoClusterSecret("c\(i)", cluster: "edge-\(i)", server: r.server.url, token: "t", caPEM: nil))
            try await hub.createSync("s\(i)", url: repo.url, extra: ["cluster": ["name": .string("edge-\(i)")]])
        }
        let a = RunningController(try hub.controller(identity: "a", metrics: true, shards: 4, token: "ta"))
        let b = RunningController(try hub.controller(identity: "b", shards: 4, token: "tb"))
        defer { Task { await a.stop(); await b.stop() } }

        // Fair shares: two shards each, every shard held by exactly one replica.
        let balanced = await eventually(15) {
            let (ha, hb) = (a.controller.heldShards, b.controller.heldShards)
            return ha.count == 2 && hb.count == 2 && ha.union(hb) == [0, 1, 2, 3]
        }
        #expect(balanced, "a: \(a.controller.heldShards), b: \(b.controller.heldShards)")
        for i in 0..<4 {
            #expect(await eventually(20) { await hub.condition("s\(i)", "Ready")?["status"]?.string == "True" }, "s\(i)")
            #expect(remotes[i].deployment() != nil)
        }
        let bShards = b.controller.heldShards
        let bSyncs = (0..<4).map { "s\($0)" }.filter { bShards.contains(ShardManager.shard(of: "default/\($0)", shards: 4)) }
        #expect(bSyncs.count == 2)

        // b is cut off from the hub (as a crashed or partitioned pod): its Leases are not renewed.
        hub.server.authorize = { $0.user.name != "b" }
        var overlap = false
        let takenOver = await eventually(15) {
            let (ha, hb) = (a.controller.heldShards, b.controller.heldShards)
            if !ha.isDisjoint(with: hb) { overlap = true }
            return ha == [0, 1, 2, 3] && hb.isEmpty
        }
        #expect(takenOver, "a: \(a.controller.heldShards), b: \(b.controller.heldShards)")
        // b gave its shards up before a started on them (sampled while polling).
        #expect(!overlap)
        #expect(httpGet(port: a.controller.metricsPort ?? 0, path: "/metrics")?.body.contains("pattern_controller_shards_held 4") == true)

        // a now reconciles b's PatternSyncs: it answers a reconcile request (b cannot write).
        for name in bSyncs {
            _ = try await hub.client.patch(ControllerCluster.gvk, name: name, namespace: "default",
                                           patch: ["metadata": ["annotations": [.init(stringLiteral: ReconcileRequest.annotation): "after-takeover"]]], type: .merge)
        }
        for name in bSyncs {
            #expect(await eventually(15) { await hub.sync(name)?[path: ["status", ReconcileRequest.statusField]]?.string == "after-takeover" }, "\(name)")
        }
    }
}
