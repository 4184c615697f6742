import Testing
import Synchronization
import TestSupport
import PatternCore
import PatternCompile
import PatternApply
import PatternRecord
import PatternRollout
import KubeClient
import KubeTestServer
#if canImport(Glibc)
import Glibc
#endif

/// A test cluster: a test API server and a client for it.
struct Cluster {
    let server: TestAPIServer
    let client: KubeClient

    init(controllers: Bool = true) throws {
        var o = TestAPIServerOptions()
        o.simulateControllers = controllers
        server = try TestAPIServer.start(o)
        client = try Cluster.client(server.kubeconfig())
    }

    static func client(_ kubeconfig: String) throws -> KubeClient {
        let dir = TemporaryDirectories.make("rollout")
        defer { TemporaryDirectories.remove(dir) }
        let path = dir + "/kubeconfig"
        write(path, kubeconfig)
        var config = try ClientConfig.load(kubeconfig: path, context: "test")
        config.retry = RetryPolicy(maxAttempts: 5, baseDelay: 0.01, maxDelay: 0.05, jitter: 0.1, maxRetryAfter: 1)
        return KubeClient(config: config)
    }

    /// A client for a cluster that is gone (a server started and stopped: nothing listens).
    static func unreachable() throws -> KubeClient {
        let s = try TestAPIServer.start()
        let config = s.kubeconfig()
        s.stop()
        return try client(config)
    }

    func configMapVersion(_ name: String = "web-config") -> String? {
        server.store.get(resource: "configmaps", namespace: "web", name: name)?[path: ["data", "version"]]?.string
    }
}

func write(_ path: String, _ text: String) {
    var cur = ""
    for c in path.split(separator: "/").dropLast() { cur += "/" + c; mkdir(cur, 0o755) }
    let fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0o644)
    _ = text.withCString { Glibc.write(fd, $0, strlen($0)) }
    close(fd)
}

/// A pattern repository with an `edge` group and sites s1…sN, whose pattern renders a
/// Namespace, a ConfigMap and a Deployment at a version the test sets.
struct FleetRepo {
    let dir = TemporaryDirectory("rollout-repo")
    var root: String { dir.path }

    init(sites: [String]) {
        write(root + "/overlays/edge/overlay.yaml", """
            apiVersion: pattern.dev/v1alpha1
            kind: Group
            metadata: {name: edge}
            spec:
              pattern: {path: patterns/app}
            """)
        for s in sites {
            write(root + "/overlays/\(s)/overlay.yaml", """
                apiVersion: pattern.dev/v1alpha1
                kind: Site
                metadata: {name: \(s)}
                spec:
                  extends: [edge]
                  cluster: {name: \(s), context: \(s), labels: {region: eu}}
                """)
        }
        write(root + "/patterns/app/components/web/objects.yaml", """
            apiVersion: v1
            kind: Namespace
            metadata: {name: web}
            ---
            apiVersion: v1
            kind: ConfigMap
            metadata: {name: web-config, namespace: web}
            data: {version: "${version}"}
            ---
            apiVersion: apps/v1
            kind: Deployment
            metadata: {name: web, namespace: web}
            spec:
              replicas: 1
              selector: {matchLabels: {app: web}}
              template:
                metadata: {labels: {app: web}}
                spec:
                  containers:
                  - {name: web, image: "example/web:${version}"}
            """)
        setVersion("1")
    }

    func setVersion(_ v: String) {
        write(root + "/patterns/app/pattern.yaml", """
            apiVersion: pattern.dev/v1alpha1
            kind: Pattern
            metadata: {name: app}
            spec:
              values: {version: "\(v)"}
              components:
              - {name: web, path: components/web}
            """)
    }

    func render(_ site: String) throws -> RenderedSite {
        try SiteCompiler(workspace: Workspace(tree: LocalTree(root: root))).compile(site: site)
    }
}

/// A fleet of test clusters, each site applied at version 1 first (so every ledger has a revision).
struct Fleet {
    let repo: FleetRepo
    let hub: Cluster
    var clusters: [String: Cluster] = [:]
    var clients: [String: KubeClient] = [:]
    var v1: [String: RenderedSite] = [:]
    var v2: [String: RenderedSite] = [:]

    static var options: ApplyOptions {
        var o = ApplyOptions()
        o.wait = false          // the rollout's health gate waits
        o.pollIntervalSeconds = 0.05
        return o
    }

    init(sites: [String], noControllers: Set<String> = [], unreachable: Set<String> = []) async throws {
        repo = FleetRepo(sites: sites)
        hub = try Cluster()
        for s in sites {
            if unreachable.contains(s) { clients[s] = try Cluster.unreachable(); continue }
            let c = try Cluster(controllers: !noControllers.contains(s))
            clusters[s] = c
            clients[s] = c.client
        }
        for s in sites {
            v1[s] = try repo.render(s)
            if let c = clusters[s] {
                let r = try await ApplyEngine(client: c.client).apply(v1[s]!, options: Fleet.options)
                #expect(r.succeeded)
            }
        }
        repo.setVersion("2")
        for s in sites { v2[s] = try repo.render(s) }
    }

    /// Rollout sites at version 2; rollback re-applies the version-1 render whose revision the
    /// ledger recorded (a stand-in for the ledger rollback API, checked against the revision).
    func sites() -> ClusterRolloutSites {
        var map: [String: ClusterSite] = [:]
        for (s, r) in v2 { map[s] = ClusterSite(rendered: r, engine: ApplyEngine(client: clients[s]!), options: Fleet.options) }
        let previous = v1
        return ClusterRolloutSites(sites: map) { site, cs, revision in
            guard let old = previous[site], old.revision == revision else { return .failed("no render of \(revision)") }
            do {
                let r = try await cs.engine.apply(old, options: Fleet.options)
                return r.succeeded ? .ok(revision) : .failed("rollback apply failed")
            } catch { return .failed("\(error)") }
        }
    }

    func store() throws -> ConfigMapRolloutStore { ConfigMapRolloutStore(client: hub.client) }

    func runner(_ clock: VirtualClock, driver: String = "client-1") throws -> RolloutRunner {
        var r = RolloutRunner(store: try store(), sites: sites(), clock: clock, driverID: driver)
        r.pollSeconds = 1
        return r
    }

    func ledgerRevision(_ site: String) async throws -> String? {
        let records = RecordStore(client: clients[site]!, namespace: Inventory.defaultNamespace)
        return try await records.loadLedger(SiteIdentity(pattern: "app", site: site)).entries.last?.revision
    }
}

@Suite(.serialized) struct RolloutEndToEndTests {
    @Test
    func secondWaveFailsItsHealthGateAndIsRolledBackWhileTheFirstStays() async throws {
        let fleet = try await Fleet(sites: ["s1", "s2", "s3", "s4"], noControllers: ["s3"])
        let plan = RolloutPlan(name: "v2", waves: [
            .init(name: "canary", sites: ["s1"], soakSeconds: 30),
            .init(name: "half", sites: ["s2", "s3"], maxParallel: 2, health: .init(timeoutSeconds: 20)),
            .init(name: "rest", sites: ["s4"]),
        ])
        let clock = VirtualClock(realSleepMilliseconds: 20)
        let end = try await fleet.runner(clock).start(plan, revision: "v2")
        #expect(end.phase == .failed)
        #expect(statuses(end) == ["s1": .healthy, "s2": .rolledBack, "s3": .rolledBack, "s4": .pending],
                "\(["s2", "s3"].map { "\($0): \(site(end, $0)?.reason ?? "-")" })")
        #expect(site(end, "s3")?.reason?.contains("not healthy within 20s") == true)
        #expect(site(end, "s3")?.reason?.contains("Deployment web/web") == true)
        // The first wave stays at the new revision; the failed wave is back at version 1.
        #expect(fleet.clusters["s1"]!.configMapVersion() == "2")
        #expect(fleet.clusters["s2"]!.configMapVersion() == "1")
        #expect(fleet.clusters["s3"]!.configMapVersion() == "1")
        #expect(try await fleet.ledgerRevision("s1") == fleet.v2["s1"]!.revision)
        #expect(try await fleet.ledgerRevision("s2") == fleet.v1["s2"]!.revision)
        // The third wave was never touched.
        #expect(fleet.clusters["s4"]!.configMapVersion() == "1")
        #expect(try await fleet.ledgerRevision("s4") == fleet.v1["s4"]!.revision)
        // Any client reads the same state from the hub cluster.
        let stored = try #require(try await ConfigMapRolloutStore(client: try Cluster.client(fleet.hub.server.kubeconfig())).load("v2"))
        #expect(stored.phase == .failed)
        #expect(statuses(stored) == statuses(end))
        #expect(fleet.hub.server.store.get(resource: "configmaps", namespace: "pattern-system", name: "pattern-rollout-v2") != nil)
    }

    @Test func anUnreachableSiteIsDeferredNotFailed() async throws {
        let fleet = try await Fleet(sites: ["s1", "s2", "s3"], unreachable: ["s2"])
        let plan = RolloutPlan(name: "v2", retry: .init(attempts: 2, intervalSeconds: 10), waves: [
            .init(name: "one", sites: ["s1", "s2"], maxParallel: 2),
            .init(name: "two", sites: ["s3"]),
        ])
        let end = try await fleet.runner(VirtualClock(realSleepMilliseconds: 5)).start(plan, revision: "v2")
        #expect(end.phase == .succeeded)
        #expect(statuses(end) == ["s1": .healthy, "s2": .deferred, "s3": .healthy])
        #expect(site(end, "s2")?.reason?.hasPrefix("unreachable") == true)
        #expect(site(end, "s2")?.attempts == 2)
        #expect(fleet.clusters["s3"]!.configMapVersion() == "2")
    }

    @Test func aRolloutInterruptedMidWaveIsResumedFromTheHubStateByASecondInvocation() async throws {
        let fleet = try await Fleet(sites: ["s1", "s2", "s3"])
        let plan = RolloutPlan(name: "v2", waves: [
            .init(name: "one", sites: ["s1"], soakSeconds: 120),
            .init(name: "two", sites: ["s2", "s3"]),
        ])
        let clock = VirtualClock(realSleepMilliseconds: 20)
        let runner = try fleet.runner(clock)
        let store = try fleet.store()
        let task = Task { try await runner.start(plan, revision: "v2") }
        // Cancel once wave one soaks (mid-wave: its site applied, the soak not over).
        var soakStart: Double?
        for _ in 0..<500 {
            soakStart = try await store.load("v2")?.waves[0].soakStartedAt
            if soakStart != nil { break }
            try await Task.sleep(for: .milliseconds(10))
        }
        task.cancel()
        _ = await task.result
        let mid = try #require(try await store.load("v2"))
        #expect(mid.phase == .running)
        #expect(mid.waves[0].phase == .running)
        #expect(site(mid, "s1")?.status == .soaking)
        #expect(site(mid, "s2")?.status == .pending)
        let soakStarted = try #require(soakStart)
        // A second invocation (another client) resumes once the first driver's heartbeat is stale.
        fleet.clusters["s1"]!.server.requestLog.reset()
        clock.advance(200)
        let done = try await fleet.runner(clock, driver: "client-2").resume("v2")
        #expect(done.phase == .succeeded)
        #expect(statuses(done) == ["s1": .healthy, "s2": .healthy, "s3": .healthy])
        // The soak continues from its recorded start, moved forward by the time nobody watched
        // it (since the crashed driver's last write): still a full 120 s of checks in all.
        let resumedStart = try #require(done.waves[0].soakStartedAt)
        #expect(resumedStart > soakStarted)
        #expect(done.waves[0].finishedAt! - resumedStart >= 120)
        // s1 was not applied again: only reads reached its cluster after the resume.
        #expect(fleet.clusters["s1"]!.server.requestLog.count(verb: "apply") == 0)
        #expect(fleet.clusters["s3"]!.configMapVersion() == "2")
    }

    @Test func pauseAndAbortFromAnotherClientThroughTheHub() async throws {
        let fleet = try await Fleet(sites: ["s1", "s2"])
        let plan = RolloutPlan(name: "v2", waves: [
            .init(name: "one", sites: ["s1"], soakSeconds: 600),
            .init(name: "two", sites: ["s2"]),
        ])
        let clock = VirtualClock(realSleepMilliseconds: 10)
        let runner = try fleet.runner(clock)
        let other = ConfigMapRolloutStore(client: try Cluster.client(fleet.hub.server.kubeconfig()))
        let task = Task { try await runner.start(plan, revision: "v2") }
        for _ in 0..<500 {
            if try await other.load("v2")?.waves[0].soakStartedAt != nil { break }
            try await Task.sleep(for: .milliseconds(10))
        }
        _ = try await RolloutRunner.pause("v2", store: other, by: "bob", now: clock.now())
        let paused = try await task.value
        #expect(paused.phase == .paused)
        #expect(paused.waves[0].phase == .paused)
        #expect(fleet.clusters["s2"]!.configMapVersion() == "1")
        let text = RolloutStatusView.text(try #require(try await other.load("v2")), now: clock.now())
        #expect(text.contains("paused by bob"))
        #expect(text.contains("s1") && text.contains("soaking"))
        #expect(text.contains("s2") && text.contains("waiting"))
        let aborted = try await RolloutRunner.abort("v2", store: other, by: "bob", now: clock.now())
        #expect(aborted.phase == .aborted)
        do { _ = try await runner.resume("v2"); Issue.record("resumed an aborted rollout") } catch { #expect(error.kind == .invalidTransition) }
        #expect(fleet.clusters["s2"]!.configMapVersion() == "1")
    }

    @Test func aStaleWriteIsAConflict() async throws {
        let hub = try Cluster()
        let store = ConfigMapRolloutStore(client: hub.client)
        let s = try await store.save(RolloutState(plan: RolloutPlan(name: "x", waves: [.init(name: "w", sites: ["a"])]), revision: "v1", now: 1_790_000_000))
        var newer = s
        newer.phase = .paused
        _ = try await store.save(newer)
        do { _ = try await store.save(s); Issue.record("a stale write went through") } catch { #expect(error.kind == .conflict) }
        #expect(try await store.load("x")?.phase == .paused)
    }
}
