import Testing
import PatternCore
import PatternCompile
import PatternDiff
import PatternRecord
@testable import PatternApply
import KubeClient
import KubeTestServer

/// Issue 11 (no-op diff/apply speed): the cluster reads started before the render
/// (`ObservePrefetch`) give exactly what the sequential read gives — same diffs, live objects,
/// ownership, unserved kinds and request counts — however the render differs from the inventory.
@Suite struct PrefetchTests {
    typealias Read = (diffs: [ObjectDiff], observation: Observation, inventory: Inventory?)

    /// The site's reads started "before the render" (only its identity and namespaces known).
    static func prefetch(_ cluster: TestCluster, _ site: RenderedSite, namespaces: [String]? = nil) -> ObservePrefetch {
        cluster.engine.prefetch(SiteIdentity(pattern: site.pattern, site: site.site), namespaces: namespaces)
    }

    static func expectSame(_ a: Read, _ b: Read, sourceLocation: Testing.SourceLocation = #_sourceLocation) {
        #expect(a.diffs == b.diffs, sourceLocation: sourceLocation)
        #expect(Set(a.observation.live.keys) == Set(b.observation.live.keys), sourceLocation: sourceLocation)
        #expect(a.observation.foreign == b.observation.foreign, sourceLocation: sourceLocation)
        #expect(Set(a.observation.foreignObjects.keys) == Set(b.observation.foreignObjects.keys), sourceLocation: sourceLocation)
        #expect(a.observation.unservedKinds == b.observation.unservedKinds, sourceLocation: sourceLocation)
        #expect(a.observation.listRequests == b.observation.listRequests, sourceLocation: sourceLocation)
        #expect(a.observation.getRequests == b.observation.getRequests, sourceLocation: sourceLocation)
        #expect(a.inventory == b.inventory, sourceLocation: sourceLocation)
    }

    /// Diff (with and without GETs of missing objects) and a dry-run apply, prefetched and
    /// sequential: identical. Returns the prefetched diff.
    @discardableResult
    static func compare(_ cluster: TestCluster, _ site: RenderedSite, namespaces: [String]? = nil,
                        sourceLocation: Testing.SourceLocation = #_sourceLocation) async throws -> Read {
        var last: Read?
        for lookUp in [true, false] {
            let ahead = try await cluster.engine.diff(site, namespaces: namespaces, lookUpMissing: lookUp,
                                                      prefetch: prefetch(cluster, site, namespaces: namespaces))
            let sequential = try await cluster.engine.diff(site, namespaces: namespaces, lookUpMissing: lookUp)
            expectSame(ahead, sequential, sourceLocation: sourceLocation)
            if lookUp { last = ahead }
        }
        var options = fastOptions()
        options.dryRun = true
        options.namespaces = namespaces
        let ahead = try await cluster.engine.apply(site, options: options, prefetch: prefetch(cluster, site, namespaces: namespaces))
        let sequential = try await cluster.engine.apply(site, options: options)
        #expect(ahead.outcomes.map { "\($0.key) \($0.status)" } == sequential.outcomes.map { "\($0.key) \($0.status)" }, sourceLocation: sourceLocation)
        #expect(ahead.listRequests == sequential.listRequests, sourceLocation: sourceLocation)
        #expect(ahead.getRequests == sequential.getRequests, sourceLocation: sourceLocation)
        return last!
    }

    @Test func aNoOpReadsTheSameAheadOfTheRender() async throws {
        let cluster = try TestCluster()
        defer { cluster.server.stop() }
        let site = try ExampleRepo().render("dev")
        #expect(try await cluster.engine.apply(site, options: fastOptions()).succeeded)
        let read = try await Self.compare(cluster, site)
        #expect(read.diffs.allSatisfy { $0.action == .unchanged })
        #expect(read.observation.live.count == site.objects.count)
        #expect(read.observation.getRequests == 0)
    }

    @Test func aKindTheRenderAddsIsListedAfterTheRender() async throws {
        let cluster = try TestCluster()
        defer { cluster.server.stop() }
        let full = try ExampleRepo().render("dev")
        var without = full
        without.objects = full.objects.filter { $0.key.kind != "ConfigMap" }
        let configMaps = full.objects.filter { $0.key.kind == "ConfigMap" }
        try #require(!configMaps.isEmpty)
        #expect(try await cluster.engine.apply(without, options: fastOptions()).succeeded)
        // One of the added ConfigMaps already exists with the site's labels (not in the
        // inventory): only a LIST of ConfigMaps made after the render finds it without a GET.
        let identity = SiteIdentity(full)
        _ = try await cluster.client.apply(identity.prepare(configMaps[0].object), fieldManager: "pattern")
        let read = try await Self.compare(cluster, full)
        #expect(read.diffs.first { $0.key == configMaps[0].key }?.action == .unchanged)
        #expect(read.observation.live[configMaps[0].key] != nil)
        #expect(configMaps.dropFirst().allSatisfy { o in read.diffs.first { $0.key == o.key }?.action == .create })
    }

    @Test func aKindTheRenderDropsIsStillListedForPrune() async throws {
        let cluster = try TestCluster()
        defer { cluster.server.stop() }
        let full = try ExampleRepo().render("dev")
        #expect(try await cluster.engine.apply(full, options: fastOptions()).succeeded)
        var without = full
        without.objects = full.objects.filter { $0.key.kind != "Deployment" }
        let deployments = Set(full.objects.filter { $0.key.kind == "Deployment" }.map(\.key))
        try #require(!deployments.isEmpty)
        let read = try await Self.compare(cluster, without)
        // The prune candidates are found (their kind is only in the inventory); the version
        // of apps comes from aggregated discovery, which is no GET of an object (`compare`
        // checked that both reads count the same).
        #expect(Set(read.diffs.filter { $0.action == .prune }.map(\.key)) == deployments)
        #expect(read.observation.getRequests == 0)
    }

    @Test func aForbiddenClusterListFallsBackToTheNamespacesTheRenderAdds() async throws {
        let cluster = try TestCluster()
        defer { cluster.server.stop() }
        var dev = try ExampleRepo().render("dev")
        dev.objects = dev.objects.filter { $0.key.namespace == "hello-world" || ($0.key.kind == "Namespace" && $0.key.name == "hello-world") }
        let configMap = try #require(dev.objects.first { $0.key.kind == "ConfigMap" })
        _ = cluster.server.faults.add(FaultRule(verb: "list", times: nil, predicate: { $0.namespace == nil && $0.resource != "namespaces" },
                                                action: .error(.forbidden(user: "ci", verb: "list", info: nil, resource: "configmaps", name: nil, namespace: nil))))
        #expect(try await cluster.engine.apply(dev, options: fastOptions()).succeeded)
        // The render adds a namespace with a ConfigMap that already exists with the site's labels:
        // the prefetch listed ConfigMaps in hello-world only, so the kind must be listed again.
        var copy = configMap.object
        copy[path: ["metadata", "namespace"]] = "extra"
        let namespace: Value = ["apiVersion": "v1", "kind": "Namespace", "metadata": ["name": "extra"]]
        let identity = SiteIdentity(dev)
        _ = try await cluster.client.apply(identity.prepare(namespace), fieldManager: "pattern")
        _ = try await cluster.client.apply(identity.prepare(copy), fieldManager: "pattern")
        var more = dev
        more.objects.append(RenderedObject(object: namespace, key: namespace.objectKey!, component: configMap.component, file: configMap.file))
        more.objects.append(RenderedObject(object: copy, key: copy.objectKey!, component: configMap.component, file: configMap.file))
        let read = try await Self.compare(cluster, more)
        #expect(read.observation.live[copy.objectKey!] != nil)
        #expect(read.diffs.first { $0.key == copy.objectKey! }?.action != .create)
        // And with declared namespaces the render adds to.
        try await Self.compare(cluster, more, namespaces: ["hello-world"])
    }

    @Test func anUnreachableClusterGivesTheSequentialError() async throws {
        let cluster = try TestCluster()
        let site = try ExampleRepo().render("dev")
        let engine = cluster.engine
        cluster.server.stop()
        var ahead: ApplyError?
        do { _ = try await engine.diff(site, prefetch: Self.prefetch(cluster, site)) } catch { ahead = error }
        var sequential: ApplyError?
        do { _ = try await engine.diff(site) } catch { sequential = error }
        let a = try #require(ahead), s = try #require(sequential)
        #expect(a.kind == s.kind)
        #expect(a.message == s.message)
        #expect(a.fix == s.fix)
    }

    @Test func aPrefetchForAnotherIdentityIsNotUsed() async throws {
        let cluster = try TestCluster()
        defer { cluster.server.stop() }
        let site = try ExampleRepo().render("dev")
        #expect(try await cluster.engine.apply(site, options: fastOptions()).succeeded)
        // Read ahead for another site name: its (empty) inventory must not replace dev's.
        let other = cluster.engine.prefetch(SiteIdentity(pattern: site.pattern, site: "not-dev"), namespaces: nil)
        let read = try await cluster.engine.diff(site, prefetch: other)
        #expect(read.inventory != nil)
        #expect(read.diffs.allSatisfy { $0.action == .unchanged })
    }

    /// A no-op apply after a preview (observed) takes the ledger the prefetch read beside the
    /// inventory: no ledger GET after the render, the read still counted; and a ledger that
    /// needs catching up (its last entry failed) is caught up from it.
    @Test func aNoOpApplyChecksTheLedgerThePrefetchRead() async throws {
        let cluster = try TestCluster()
        defer { cluster.server.stop() }
        let site = try ExampleRepo().render("dev")
        let fault = cluster.server.faults.add(FaultRule(pathContains: "pattern-ledger", verb: "apply", times: nil, action: .internalError("etcd timeout")))
        #expect(try await cluster.engine.apply(site, options: fastOptions()).recordError != nil)
        cluster.server.faults.remove(fault)
        let isLedgerRead = { (e: LoggedRequest) in e.verb == "get" && e.name?.hasPrefix("pattern-ledger-") == true }
        for round in 0..<2 {
            let prefetch = cluster.engine.prefetch(SiteIdentity(site), namespaces: nil, readLedger: true)
            defer { prefetch.cancel() }
            let read = try await cluster.engine.diff(site, fieldManager: "pattern", prefetch: prefetch)
            let observed = ApplyEngine.Observed(diff: read, revision: site.revision, fieldManager: "pattern")
            if case .failure(let e)? = await prefetch.ledger?.value { Issue.record("prefetched ledger: \(e)") }
            await cluster.resetLog()
            let r = try await cluster.engine.apply(site, options: fastOptions(), observed: observed, prefetch: prefetch)
            #expect(r.succeeded && r.recordError == nil)
            #expect(r.count(.unchanged) == site.objects.count)
            #expect(!cluster.server.requestLog.entries.contains(where: isLedgerRead) || round == 0,
                    "the ledger was read again after the render")
            #expect(r.getRequests >= 1, "the prefetched ledger read is counted")
            let ledger = try await cluster.engine.records.loadLedger(SiteIdentity(site))
            // Round 0 caught up the failed first entry (its append reads the ledger afresh);
            // round 1 found a success of this revision and wrote nothing.
            #expect(ledger.entries.count == 1)
            #expect(ledger.entries.last?.result == .succeeded && ledger.entries.last?.revision == site.revision)
            if round == 1 { #expect(cluster.server.requestLog.writes.isEmpty) }
        }
    }

    /// A prefetch that was not asked for the ledger (`diff`, `drift`) does not read it.
    @Test func aPrefetchReadsTheLedgerOnlyWhenAskedTo() async throws {
        let cluster = try TestCluster()
        defer { cluster.server.stop() }
        let site = try ExampleRepo().render("dev")
        #expect(try await cluster.engine.apply(site, options: fastOptions()).succeeded)
        await cluster.resetLog()
        let prefetch = Self.prefetch(cluster, site)
        defer { prefetch.cancel() }
        #expect(try await cluster.engine.diff(site, prefetch: prefetch).diffs.allSatisfy { $0.action == .unchanged })
        try? await Task.sleep(for: .milliseconds(100))  // the server logs a request just after answering it
        #expect(prefetch.ledger == nil)
        let reads = cluster.server.requestLog.entries.filter { $0.name?.hasPrefix("pattern-ledger-") == true }
        #expect(reads.isEmpty, "\(reads.map(\.path))")
    }

    /// Other kinds listed ahead (`alsoList`: the PatternSyncs `pattern apply` checks) give what
    /// a LIST made now gives, errors included; a kind not asked for is not there.
    @Test func anotherKindListedAheadIsTheListMadeNow() async throws {
        let cluster = try TestCluster()
        defer { cluster.server.stop() }
        let site = try ExampleRepo().render("dev")
        #expect(try await cluster.engine.apply(site, options: fastOptions()).succeeded)
        let configMaps = GroupVersionKind(group: "", version: "v1", kind: "ConfigMap")
        let unserved = GroupVersionKind(group: "pattern.dev", version: "v1alpha1", kind: "PatternSync")
        let prefetch = cluster.engine.prefetch(SiteIdentity(site), namespaces: nil, alsoList: [configMaps, unserved])
        defer { prefetch.cancel() }
        let ahead = try #require(await prefetch.listed(configMaps)).get()
        let now = try await cluster.client.list(configMaps).items
        #expect(!now.isEmpty)
        #expect(Set(ahead.compactMap(\.objectKey)) == Set(now.compactMap(\.objectKey)))
        guard case .failure(.unknownKind)? = await prefetch.listed(unserved) else {
            Issue.record("an unserved kind listed ahead is not .unknownKind")
            return
        }
        if await prefetch.listed(GroupVersionKind(group: "apps", version: "v1", kind: "Deployment")) != nil {
            Issue.record("a kind not asked for was listed")
        }
    }
}
