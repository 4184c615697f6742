import Testing
import Foundation
import PatternCore
import PatternApply
import PatternRollout
import PatternController
import KubeClient
import KubeTestServer

/// Two `pattern controller` processes share the PatternSyncs and a PatternRollout through shard
/// Leases; the one driving the rollout is killed with SIGKILL mid-wave (no release, no goodbye)
/// and the other takes over its shards and the rollout within one Lease period and finishes it
/// with the result a rollout without the kill has: every wave succeeded, every site at the new
/// version, the finished wave not applied again.
@Suite struct RolloutKillTests {
    static let leaseDuration = 2.0
    static let leaseRetry = 0.2

    /// A `pattern controller` process on the hub, authenticating as `identity`'s token.
    static func start(_ hub: ControllerCluster, identity: String) throws -> (Subprocess.Child, String) {
        let dir = makeTempDir("pattern-ctl-kill")
        let kubeconfig = dir + "/kubeconfig"
        writeFile(kubeconfig, hub.server.kubeconfig(token: "tok-\(identity)"))
        let errPath = dir + "/stderr"
        _ = FileManager.default.createFile(atPath: errPath, contents: nil)
        // Subprocess (posix_spawn), not Foundation's Process: see PatternCore's Subprocess.
        let p = try Subprocess.spawn(patternBinary, [
            "controller", "--kubeconfig", kubeconfig, "--context", "test", "--namespace", "default",
            "--identity", identity, "--shards", "2", "--metrics-addr", "", "--cache-dir", dir + "/cache",
            "--lease-duration", "\(leaseDuration)", "--lease-retry", "\(leaseRetry)",
            "--poll-interval", "0.05", "--rollout-poll", "0.1", "--min-backoff", "0.2", "--max-backoff", "1",
        ], stderr: .file(errPath))
        return (p, errPath)
    }

    /// Shard holders and each PatternSync's Ready condition, for failure messages.
    static func describe(_ hub: ControllerCluster) async -> String {
        var out = (0..<2).map { "shard \($0): \(shardLease(hub, $0)?["holderIdentity"]?.string ?? "-")" }
        for i in 0..<3 { out.append("s\(i): \(await hub.condition("s\(i)", "Ready") ?? .null)") }
        return out.joined(separator: "\n")
    }

    /// When the shard's current holder took its Lease (`spec.acquireTime`, MicroTime).
    static func acquireTime(_ hub: ControllerCluster, _ i: Int) -> Date? {
        guard let t = shardLease(hub, i)?["acquireTime"]?.string, t.hasSuffix("Z") else { return nil }
        // `2026-11-28T17:49:29.840856Z`: whole seconds, then the fraction (any number of digits).
        let parts = t.dropLast().split(separator: ".", maxSplits: 1)
        guard let whole = ISO8601DateFormatter().date(from: parts[0] + "Z") else { return nil }
        return whole.addingTimeInterval(parts.count > 1 ? Double("0." + parts[1]) ?? 0 : 0)
    }

    static func shardLease(_ hub: ControllerCluster, _ i: Int) -> Value? {
        hub.server.store.get(group: "coordination.k8s.io", resource: "leases", namespace: "default", name: "pattern-controller-shard-\(i)")?["spec"]
    }

    // It found a bug (fixed): a site of wave one applied by the driver kept `WaitingForRollout`
    // on the replica holding its PatternSync when that replica's own apply of the site was less
    // than 5 s old, because the own-write filter then took any `Apply` by the controller's field
    // manager for the worker's own. Own writes are now known by the resourceVersions the
    // worker's apply returned (OwnWriteTests).
    @Test
    func aReplicaKilledWithSIGKILLMidRolloutHandsItsShardsAndTheRolloutOverWithinOneLease() async throws {
        let (hub, repo) = try await RolloutControllerTests.twoReplicaFleet()
        defer { hub.stop(); repo.remove() }
        let (a, aErr) = try RolloutKillTests.start(hub, identity: "a")
        defer { a.kill(SIGKILL); a.wait() }
        let (b, bErr) = try RolloutKillTests.start(hub, identity: "b")
        defer { b.kill(SIGKILL); b.wait() }
        var ready = true
        for i in 0..<3 { ready = await eventually(20) { await hub.condition("s\(i)", "Ready")?["status"]?.string == "True" } && ready }
        #expect(ready, "\(readFile(aErr))\n\(readFile(bErr))")
        // Each replica holds one of the two shards (its fair share).
        #expect(await eventually(10) {
            Set((0..<2).compactMap { RolloutKillTests.shardLease(hub, $0)?["holderIdentity"]?.string }) == ["a", "b"]
        })
        try repo.release("v2")
        try await RolloutControllerTests.createRollout(hub, url: repo.url)

        // Mid-rollout: wave two soaking (wave one done).
        #expect(await eventually(30) {
            let s = try? await RolloutControllerTests.state(hub)
            return s?.waves[1].soakStartedAt != nil && s?.phase == .running
        }, "\(readFile(aErr))\n\(readFile(bErr))")
        let mid = try #require(try await RolloutControllerTests.state(hub))
        let driver = try #require(mid.driver?.id)
        let (victim, survivor, survivorName) = driver.hasSuffix("/a") ? (a, b, "b") : (b, a, "a")
        let deadShards = (0..<2).filter { RolloutKillTests.shardLease(hub, $0)?["holderIdentity"]?.string != survivorName }
        #expect(!deadShards.isEmpty)

        // SIGKILL: the process ends at once, renewing and releasing nothing.
        victim.kill(SIGKILL)
        let killedAt = Date()
        #expect(await eventually(5) { !victim.isRunning })
        #expect(victim.wait() == 128 + SIGKILL)

        // The survivor takes the dead replica's shards over, and the rollout: it drives it now,
        // or it already finished it (a finished rollout names no driver: the state alone is
        // transient, so the survivor's log says it drove).
        let survivorErr = survivorName == "a" ? aErr : bErr
        #expect(await eventually(30) {
            deadShards.allSatisfy { RolloutKillTests.shardLease(hub, $0)?["holderIdentity"]?.string == survivorName }
        }, "\(readFile(aErr))\n\(readFile(bErr))")
        #expect(await eventually(30) {
            let s = try? await RolloutControllerTests.state(hub)
            return s?.driver?.id == "pattern-controller/\(survivorName)" || (s?.phase == .succeeded && readFile(survivorErr).contains("driving the rollout"))
        }, "\(readFile(survivorErr))")
        // When: the acquireTime the survivor wrote into the dead shards' Leases (not when a poll
        // of this test, slow on a loaded machine, happened to see it).
        let acquired = deadShards.compactMap { RolloutKillTests.acquireTime(hub, $0) }.max()
        let tookOver = try #require(acquired).timeIntervalSince(killedAt)
        // Not before the Lease expired (nobody may take a live holder's shard), and within one
        // Lease duration plus a renew round (×4 slack for a loaded test machine, as `eventually`).
        #expect(tookOver >= RolloutKillTests.leaseDuration * 0.9, "took over after \(tookOver)s")
        #expect(tookOver <= (RolloutKillTests.leaseDuration + RolloutKillTests.leaseRetry) * 4, "took over after \(tookOver)s")

        // The rollout finishes with the result of one without the kill.
        #expect(await eventually(60) { (try? await RolloutControllerTests.state(hub))?.phase == .succeeded },
                "\(readFile(survivorName == "a" ? aErr : bErr))")
        let done = try #require(try await RolloutControllerTests.state(hub))
        #expect(done.waves.map(\.phase) == [.succeeded, .succeeded, .succeeded])
        #expect(done.revision == mid.revision)
        for i in 0..<3 { #expect(RolloutControllerTests.cfg(hub, i) == "s\(i)-v2") }
        // Wave one was not applied again.
        #expect(done.waves[0].sites[0].attempts == mid.waves[0].sites[0].attempts)
        #expect(done.waves[0].sites[0].appliedRevision == mid.waves[0].sites[0].appliedRevision)
        // The survivor holds every shard, and every PatternSync is Ready at the new version.
        let settled = await eventually(20) {
            var ok = (0..<2).allSatisfy { RolloutKillTests.shardLease(hub, $0)?["holderIdentity"]?.string == survivorName }
            for i in 0..<3 { ok = await hub.condition("s\(i)", "Ready")?["status"]?.string == "True" && ok }
            return ok
        }
        let state = await RolloutKillTests.describe(hub)
        #expect(settled, "\(state)\n\(readFile(survivorName == "a" ? aErr : bErr).suffix(4000))")
        #expect(survivor.isRunning)
        survivor.kill(SIGTERM)
        #expect(await eventually(20) { !survivor.isRunning })
    }
}
