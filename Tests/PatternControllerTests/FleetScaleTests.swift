import Testing
import Foundation
import PatternCore
import PatternApply
import PatternRecord
import PatternController
import KubeClient
import KubeTestServer
import TestSupport

/// A git repository of `count` small sites s0, s1, … (pattern p<i>: a Namespace bench-<i>, a
/// ConfigMap and a Service in it), so several sites share a cluster without sharing objects.
struct SmallFleetRepo {
    let dir: String
    var url: String { "file://" + dir }

    let count: Int

    /// `rollout`: the text of rollouts/r.yaml, when the repository has one.
    init(sites count: Int, rollout: String? = nil) throws {
        self.count = count
        dir = makeTempDir("pattern-ctl-fleet")
        if let rollout {
            try FileManager.default.createDirectory(atPath: dir + "/rollouts", withIntermediateDirectories: true)
            writeFile(dir + "/rollouts/r.yaml", rollout)
        }
        for i in 0..<count {
            let p = dir + "/patterns/p\(i)"
            try FileManager.default.createDirectory(atPath: p + "/app", withIntermediateDirectories: true)
            try FileManager.default.createDirectory(atPath: dir + "/overlays/s\(i)", withIntermediateDirectories: true)
            writeFile(p + "/pattern.yaml", "apiVersion: pattern.dev/v1alpha1\nkind: Pattern\nmetadata: {name: p\(i)}\nspec:\n  components:\n  - {name: app, path: app}\n")
            writeFile(p + "/app/all.yaml", """
                apiVersion: v1
                kind: Namespace
                metadata: {name: bench-\(i)}
                ---
                apiVersion: v1
                kind: ConfigMap
                metadata: {name: cfg, namespace: bench-\(i)}
                data: {site: s\(i)}
                ---
                apiVersion: v1
                kind: Service
                metadata: {name: svc, namespace: bench-\(i)}
                spec: {selector: {app: web}, ports: [{port: 80, targetPort: 8080}]}

                """)
            writeFile(dir + "/overlays/s\(i)/overlay.yaml", "apiVersion: pattern.dev/v1alpha1\nkind: Site\nmetadata: {name: s\(i)}\nspec:\n  pattern: {path: patterns/p\(i)}\n")
        }
        try git(["init", "-q", "-b", "main"], in: dir)
        try git(["add", "-A"], in: dir)
        try git(["commit", "-q", "-m", "initial"], in: dir)
    }

    func remove() { try? FileManager.default.removeItem(atPath: dir) }

    var head: String { (try? git(["rev-parse", "HEAD"], in: dir)) ?? "" }

    /// A new version of every site: ConfigMap cfg says `site: s<i>-<version>`; commits.
    @discardableResult
    func release(_ version: String) throws -> String {
        for i in 0..<count {
            let path = dir + "/patterns/p\(i)/app/all.yaml"
            let text = readFile(path)
            writeFile(path, text.replacingOccurrences(of: #"data: \{site: [^}]*\}"#, with: "data: {site: s\(i)-\(version)}", options: .regularExpression))
        }
        try git(["commit", "-q", "-am", "release \(version)"], in: dir)
        return head
    }
}

/// What keeps a hub with many sites per cluster cheap: one watch per cluster and kind, shared
/// by the PatternSyncs, and cluster Secret changes reaching the bound PatternSyncs at once.
@Suite struct FleetScaleTests {
    static let configMap = GroupVersionKind(group: "", version: "v1", kind: "ConfigMap")

    static func owned(_ name: String, owner: String, data: String = "1") -> Value {
        ["apiVersion": "v1", "kind": "ConfigMap",
         "metadata": ["name": .string(name), "namespace": "default", "labels": [.init(stringLiteral: Ownership.ownerLabel): .string(owner)]],
         "data": ["v": .string(data)]]
    }

    /// Collects what one subscriber received.
    final class Inbox: @unchecked Sendable {
        private let lock = NSLock()
        private var items: [InformerEvent] = []
        func add(_ e: InformerEvent) { lock.lock(); items.append(e); lock.unlock() }
        var all: [InformerEvent] { lock.lock(); defer { lock.unlock() }; return items }
        /// Names of the objects in events (not lists).
        var eventNames: [String] { all.compactMap { if case .event(let e) = $0 { return e.object.metadataName } else { return nil } } }
        var listedNames: [[String]] { all.compactMap { if case .listed(let l) = $0 { return l.items.compactMap(\.metadataName).sorted() } else { return nil } } }
    }

    @Test func oneWatchPerClusterAndKindIsSharedAndEventsGoOnlyToTheirSite() async throws {
        let server = try TestAPIServer.start(TestAPIServerOptions())
        defer { server.stop() }
        let client = KubeClient(config: ClientConfig(server: server.url))
        _ = try await client.create(FleetScaleTests.owned("a-1", owner: "p.a"))
        _ = try await client.create(FleetScaleTests.owned("b-1", owner: "p.b"))
        let watches = SharedWatches()
        let inboxes = (0..<3).map { _ in Inbox() }
        // Three sites on one cluster, two of them the same site seen by two subscribers.
        for (i, owner) in ["p.a", "p.b", "p.b"].enumerated() {
            let inbox = inboxes[i]
            watches.subscribe(cluster: "c1", client: client, gvk: FleetScaleTests.configMap, owner: owner, id: "sync-\(i)") { inbox.add($0) }
        }
        #expect(watches.watchCount == 1)
        // The first list reaches the subscribers that were there, each with only its objects.
        #expect(await eventually(5) { inboxes[0].listedNames == [["a-1"]] && inboxes[1].listedNames == [["b-1"]] })
        _ = try await client.create(FleetScaleTests.owned("a-2", owner: "p.a"))
        _ = try await client.create(FleetScaleTests.owned("c-1", owner: "p.c"))
        _ = try await client.create(FleetScaleTests.owned("b-2", owner: "p.b"))
        #expect(await eventually(5) { inboxes[2].eventNames == ["b-2"] })
        #expect(inboxes[0].eventNames == ["a-2"])
        #expect(inboxes[1].eventNames == ["b-2"])
        // One watch request for three subscribers.
        let watchRequests = server.requestLog.entries.filter { $0.verb == "watch" && $0.resource == "configmaps" }
        #expect(watchRequests.count == 1, "\(watchRequests.map(\.query))")
        #expect(watchRequests.first?.query["labelSelector"] == Ownership.ownerLabel)

        // The watch stays while anyone subscribes, and stops with the last one.
        watches.unsubscribe(cluster: "c1", gvk: FleetScaleTests.configMap, owner: "p.a", id: "sync-0")
        watches.unsubscribe(cluster: "c1", gvk: FleetScaleTests.configMap, owner: "p.b", id: "sync-1")
        #expect(watches.watchCount == 1)
        _ = try await client.create(FleetScaleTests.owned("a-3", owner: "p.a"))
        _ = try await client.create(FleetScaleTests.owned("b-3", owner: "p.b"))
        #expect(await eventually(5) { inboxes[2].eventNames == ["b-2", "b-3"] })
        #expect(inboxes[0].eventNames == ["a-2"])
        watches.unsubscribe(cluster: "c1", gvk: FleetScaleTests.configMap, owner: "p.b", id: "sync-2")
        #expect(watches.watchCount == 0)
        // Unsubscribing twice changes nothing.
        watches.unsubscribe(cluster: "c1", gvk: FleetScaleTests.configMap, owner: "p.b", id: "sync-2")
        #expect(watches.watchCount == 0)
    }

    @Test func theLimiterBoundsReconcilesAtOnceAndACancelledWaiterHoldsNothing() async throws {
        let limiter = ReconcileLimiter(limit: 2)
        #expect(await limiter.acquire())
        #expect(await limiter.acquire())
        #expect(limiter.running == 2)
        // A third waits; cancelled while waiting, it gets no slot and leaves none taken.
        let waiter = Task { await limiter.acquire() }
        #expect(await eventually(5) { limiter.waiting == 1 })
        waiter.cancel()
        #expect(await waiter.value == false)
        #expect(limiter.waiting == 0 && limiter.running == 2)
        // A waiter gets the slot a release gives back, in arrival order.
        let first = Task { await limiter.acquire() }
        #expect(await eventually(5) { limiter.waiting == 1 })
        limiter.release()
        #expect(await first.value == true)
        #expect(limiter.running == 2)
        limiter.release(); limiter.release()
        #expect(limiter.running == 0)
        // Many at once never exceed the limit.
        final class Gauge: @unchecked Sendable {
            let lock = NSLock()
            var now = 0, peak = 0
            func enter() { lock.lock(); now += 1; peak = max(peak, now); lock.unlock() }
            func leave() { lock.lock(); now -= 1; lock.unlock() }
        }
        let gauge = Gauge()
        await withTaskGroup(of: Void.self) { group in
            for _ in 0..<20 {
                group.addTask {
                    guard await limiter.acquire() else { return }
                    gauge.enter()
                    await Task.yield()
                    gauge.leave()
                    limiter.release()
                }
            }
        }
        #expect(gauge.peak <= 2 && gauge.peak >= 1)
        #expect(limiter.running == 0)
    }

    @Test func patternSyncsOnOneClusterShareTheWatchesOfTheirKinds() async throws {
        let hub = try await ControllerCluster()
        defer { hub.stop() }
        let remote = try RemoteCluster(tokens: ["t": UserInfo(name: "ctl")], tls: false)
        defer { remote.stop() }
        let repo = try SmallFleetRepo(sites: 3)
        defer { repo.remove() }
        _ = try await hub.client.create(argoClusterSecret("c1", cluster: "edge-1", server: remote.server.url, token: "t", caPEM: nil))
        // Three sites of the same kinds on the one cluster.
        for i in 0..<3 { try await hub.createSync("s\(i)", url: repo.url, site: "s\(i)", extra: ["cluster": ["name": "edge-1"]]) }
        let running = RunningController(try hub.controller())
        defer { Task { await running.stop() } }
        var ready = true
        for i in 0..<3 { ready = await eventually(20) { await hub.condition("s\(i)", "Ready")?["status"]?.string == "True" } && ready }
        let shown = await hub.sync("s2")?["status"] ?? .null
        #expect(ready, "\(shown)")
        // One watch per kind however many sites render it.
        // (Readiness waits during applies watch with the site's own selector; these are the drift watches.)
        let drift = remote.server.requestLog.entries.filter { $0.verb == "watch" && $0.query["labelSelector"] == Ownership.ownerLabel }
        let perKind = Dictionary(grouping: drift, by: \.resource).mapValues(\.count)
        #expect(!perKind.isEmpty)
        #expect(perKind.values.allSatisfy { $0 == 1 }, "\(perKind)")
        #expect(perKind.keys.sorted() == ["configmaps", "namespaces", "services"])
        #expect(running.controller.watches.watchCount == perKind.count)

        // A hand deletion of one site's object reaches that site through the shared watch (the
        // interval is an hour): it reports the object deleted; the others stay in sync.
        var auth = ClientConfig.Auth()
        auth.token = "t"
        let remoteClient = KubeClient(config: ClientConfig(server: remote.server.url, auth: auth))
        try await remoteClient.delete(FleetScaleTests.configMap, name: "cfg", namespace: "bench-1")
        #expect(await eventually(10) { await hub.condition("s1", "Drifted")?["status"]?.string == "True" })
        #expect(await hub.condition("s1", "Drifted")?["message"]?.string?.contains("bench-1/cfg deleted") == true)
        #expect(await hub.condition("s0", "Drifted")?["status"]?.string == "False")
        #expect(await hub.condition("s2", "Drifted")?["status"]?.string == "False")
    }

    /// A controller whose retries are far apart: only the Secret watch can make it act soon.
    static func slowRetryController(_ hub: ControllerCluster) throws -> RunningController {
        RunningController(try hub.controller(minBackoff: 3600, maxBackoff: 3600))
    }

    @Test func aClusterRegisteredLaterIsReconciledAtOnce() async throws {
        let hub = try await ControllerCluster()
        defer { hub.stop() }
        let remote = try RemoteCluster(tokens: ["t": UserInfo(name: "ctl")], tls: false)
        defer { remote.stop() }
        let repo = try SmallFleetRepo(sites: 1)
        defer { repo.remove() }
        try await hub.createSync(url: repo.url, site: "s0", extra: ["cluster": ["name": "edge-1"]])
        let running = try FleetScaleTests.slowRetryController(hub)
        defer { Task { await running.stop() } }
        #expect(await eventually(10) { await hub.condition("dev", "ClusterReady")?["reason"]?.string == "ClusterNotFound" })
        // The next retry is an hour away; the new Secret starts the reconcile.
        _ = try await hub.client.create(argoClusterSecret("c1", cluster: "edge-1", server: remote.server.url, token: "t", caPEM: nil))
        #expect(await eventually(10) { await hub.condition("dev", "Ready")?["status"]?.string == "True" })
        #expect(remote.server.store.get(group: "", resource: "configmaps", namespace: "bench-0", name: "cfg") != nil)
        let m = running.controller.metrics.value(ControllerMetrics.triggers, [("namespace", "default"), ("name", "dev"), ("trigger", "cluster")]) ?? 0
        #expect(m >= 1)
    }

    @Test func rotatedCredentialsAndARemovedClusterReachTheBoundPatternSyncAtOnce() async throws {
        let hub = try await ControllerCluster()
        defer { hub.stop() }
        let remote = try RemoteCluster(tokens: ["tok-old-SECRET": UserInfo(name: "old"), "tok-new-SECRET": UserInfo(name: "new")], tls: false)
        defer { remote.stop() }
        let remote2 = try RemoteCluster(tokens: ["t2": UserInfo(name: "ctl")], tls: false)
        defer { remote2.stop() }
        let repo = try SmallFleetRepo(sites: 2)
        defer { repo.remove() }
        _ = try await hub.client.create(argoClusterSecret("c1", cluster: "edge-1", server: remote.server.url, token: "tok-old-SECRET", caPEM: nil))
        // Bound to another cluster: must not be reconciled by edge-1's changes.
        _ = try await hub.client.create(argoClusterSecret("c2", cluster: "edge-2", server: remote2.server.url, token: "t2", caPEM: nil))
        try await hub.createSync(url: repo.url, site: "s0", extra: ["cluster": ["name": "edge-1"]])
        try await hub.createSync("other", url: repo.url, site: "s1", extra: ["cluster": ["name": "edge-2"]])
        let running = try FleetScaleTests.slowRetryController(hub)
        defer { Task { await running.stop() } }
        #expect(await eventually(20) {
            let dev = await hub.condition("dev", "Ready")?["status"]?.string, other = await hub.condition("other", "Ready")?["status"]?.string
            return dev == "True" && other == "True"
        })
        // The old token is revoked and a reconcile fails; its retry is an hour away.
        remote.server.authorize = { $0.user.name != "old" }
        _ = try await hub.client.patch(ControllerCluster.gvk, name: "dev", namespace: "default",
                                       patch: ["metadata": ["annotations": [.init(stringLiteral: ReconcileRequest.annotation): "r1"]]], type: .merge)
        #expect(await eventually(10) { await hub.condition("dev", "ClusterReady")?["reason"]?.string == "ClusterUnreachable" })
        // The rotated Secret reconciles it at once.
        var secret = try await hub.client.get(HubTests.secretGVK, name: "c1", namespace: "default")
        secret["data"] = argoClusterSecret("c1", cluster: "edge-1", server: remote.server.url, token: "tok-new-SECRET", caPEM: nil)["data"]
        _ = try await hub.client.update(secret)
        #expect(await eventually(10) { await hub.condition("dev", "Ready")?["status"]?.string == "True" })

        // The cluster is removed: the bound PatternSync says so at once (interval is an hour).
        try await hub.client.delete(HubTests.secretGVK, name: "c1", namespace: "default")
        #expect(await eventually(10) { await hub.condition("dev", "ClusterReady")?["reason"]?.string == "ClusterNotFound" })
        // The PatternSync on edge-2 was not reconciled for edge-1's changes.
        let other = running.controller.metrics.value(ControllerMetrics.triggers, [("namespace", "default"), ("name", "other"), ("trigger", "cluster")]) ?? 0
        #expect(other == 0)
        #expect(await hub.condition("other", "Ready")?["status"]?.string == "True")
    }
}
