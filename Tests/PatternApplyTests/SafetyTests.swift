import Testing
import PatternCore
import PatternCompile
import PatternDiff
import PatternRecord
import PatternApply
import KubeClient
import KubeTestServer

/// Ownership between sites, prune rules, inventory/ledger truthfulness and request counting,
/// against the test API server over HTTP.
@Suite struct OwnershipTests {
    @Test func aSecondSiteIsRefusedTheFirstSitesObjectsUnlessItAdoptsThem() async throws {
        let cluster = try TestCluster()
        defer { cluster.server.stop() }
        let repo = ExampleRepo()
        let hub = try repo.render("hub"), edge = try repo.render("edge-eu")
        #expect(try await cluster.engine.apply(hub, options: fastOptions()).succeeded)
        try? await Task.sleep(for: .milliseconds(100))
        let before = cluster.writes
        let refusal = await applyError { () async throws(ApplyError) in try await cluster.engine.apply(edge, options: fastOptions()) }
        #expect(refusal?.kind == .ownedByOther)
        #expect(refusal?.owners == ["multicloud-platform/hub"])
        let shared = Set(hub.objects.map(\.key)).intersection(edge.objects.map(\.key))
        #expect(!shared.isEmpty && Set(refusal?.objects ?? []) == shared)
        #expect(refusal?.message.contains("owned by multicloud-platform/hub") == true)
        #expect(refusal?.fix?.contains("--adopt") == true)
        try? await Task.sleep(for: .milliseconds(100))
        #expect(cluster.writes == before, "nothing may be written when ownership refuses")
        let sample = try #require(shared.sorted().first { $0.kind == "Deployment" })
        let web = { cluster.server.store.get(group: "apps", resource: "deployments", namespace: sample.namespace, name: sample.name) }
        #expect(web()?.labels["pattern.dev/owner"] == "multicloud-platform.hub")

        // diff says who owns them.
        let diff = try await cluster.engine.diff(edge)
        #expect(diff.diffs.filter { $0.ownedBy == "multicloud-platform/hub" }.map(\.key).sorted() == shared.sorted())
        // They are compared with what is live (not shown as creates).
        #expect(diff.diffs.filter { $0.ownedBy != nil }.allSatisfy { $0.action != .create })

        // Explicit adoption takes them; hub's drift then says "owned by another site", not missing.
        var adopt = fastOptions()
        adopt.adopt = true
        let adopted = try await cluster.engine.apply(edge, options: adopt)
        #expect(adopted.succeeded, "\(adopted.failed)")
        #expect(adopted.outcomes.contains { $0.message?.contains("adopted from multicloud-platform/hub") == true })
        // They existed: configured, never "created".
        #expect(adopted.outcomes.filter { shared.contains($0.key) }.allSatisfy { $0.status == .configured })
        #expect(web()?.labels["pattern.dev/owner"] == "multicloud-platform.edge-eu")
        let drift = try await cluster.engine.drift(hub)
        #expect(drift.missing.isEmpty, "\(drift.missing)")
        #expect(Set(drift.ownedElsewhere.keys) == shared)
        #expect(Set(drift.ownedElsewhere.values) == ["multicloud-platform/edge-eu"])
        #expect(!drift.inSync)
        // And now hub is the one refused.
        let back = await applyError { () async throws(ApplyError) in try await cluster.engine.apply(hub, options: fastOptions()) }
        #expect(back?.kind == .ownedByOther && back?.owners == ["multicloud-platform/edge-eu"])
    }

    @Test func driftOfASiteNeverAppliedIsNotInSync() async throws {
        let cluster = try TestCluster()
        defer { cluster.server.stop() }
        let report = try await cluster.engine.drift(try ExampleRepo().render("dev"))
        #expect(report.neverApplied)
        #expect(!report.inSync)
    }
}

@Suite struct PruneSafetyTests {
    /// `site` without the hello-world namespace and everything in it.
    static func withoutHelloWorld(_ site: RenderedSite) -> RenderedSite {
        var s = site
        s.objects.removeAll { $0.key.namespace == "hello-world" || ($0.key.kind == "Namespace" && $0.key.name == "hello-world") }
        return s
    }
    static let helloNamespace = ObjectKey(group: "", kind: "Namespace", namespace: "", name: "hello-world")

    @Test func aNamespaceHoldingAnotherSitesObjectIsNeverPruned() async throws {
        let cluster = try TestCluster()
        defer { cluster.server.stop() }
        let hub = try ExampleRepo().render("hub")
        #expect(try await cluster.engine.apply(hub, options: fastOptions()).succeeded)
        try cluster.server.store.seed(["apiVersion": "v1", "kind": "ConfigMap",
                                       "metadata": ["name": "theirs", "namespace": "hello-world",
                                                    "labels": ["pattern.dev/owner": "multicloud-platform.edge-eu", "pattern.dev/pattern": "multicloud-platform",
                                                               "pattern.dev/site": "edge-eu"]]])
        var confirm = fastOptions()
        confirm.pruneConfirm = true
        let r = try await cluster.engine.apply(Self.withoutHelloWorld(hub), options: confirm)
        #expect(r.succeeded, "\(r.failed)")
        let kept = try #require(r.outcomes.first { $0.key == Self.helloNamespace })
        #expect(kept.status == .kept)
        #expect(kept.message?.contains("multicloud-platform/edge-eu") == true)
        #expect(cluster.server.store.get(resource: "namespaces", name: "hello-world") != nil)
        #expect(cluster.server.store.get(resource: "configmaps", namespace: "hello-world", name: "theirs") != nil)
        // Our own objects inside were pruned; the namespace stays listed for a later prune.
        #expect(r.outcomes.contains { $0.status == .pruned && $0.key.namespace == "hello-world" })
        let inv = try #require(try await cluster.engine.records.loadInventory(SiteIdentity(hub)))
        #expect(inv.objects.contains(Self.helloNamespace))
    }

    @Test func aCRDWhoseCustomResourcesAnotherSiteOwnsIsNeverPruned() async throws {
        let cluster = try TestCluster()
        defer { cluster.server.stop() }
        let repo = ExampleRepo()
        #expect(try await cluster.engine.apply(try repo.render("hub"), options: fastOptions()).succeeded)
        let collector = GroupVersionKind(group: "telemetry.pattern.dev", version: "v1", kind: "Collector")
        _ = try await cluster.client.apply(["apiVersion": "telemetry.pattern.dev/v1", "kind": "Collector",
                                            "metadata": ["name": "edge", "namespace": "platform-telemetry",
                                                         "labels": ["pattern.dev/owner": "multicloud-platform.edge-eu", "pattern.dev/pattern": "multicloud-platform",
                                                                    "pattern.dev/site": "edge-eu"]],
                                            "spec": ["cluster": "edge-eu-1"]], fieldManager: "pattern")
        repo.write("overlays/hub/overlay.yaml", try String(decoding: LocalTree(root: repo.root).read(TreePath("overlays/hub/overlay.yaml")), as: UTF8.self)
            + "  components:\n    disable: [telemetry-operator]\n")
        var confirm = fastOptions()
        confirm.pruneConfirm = true
        let r = try await cluster.engine.apply(try repo.render("hub"), options: confirm)
        let crd = try #require(r.outcomes.first { $0.key.kind == "CustomResourceDefinition" })
        #expect(crd.status == .kept, "\(crd)")
        #expect(crd.message?.contains("owned by multicloud-platform/edge-eu") == true)
        #expect(try await cluster.client.getIfPresent(collector, name: "edge", namespace: "platform-telemetry") != nil)
        #expect(r.outcomes.contains { $0.key.kind == "Collector" && $0.key.name == "hub" && $0.status == .pruned })
    }

    @Test func whatANamespaceDeletionTakesWithItCountsAgainstTheBudget() async throws {
        let cluster = try TestCluster()
        defer { cluster.server.stop() }
        let hub = try ExampleRepo().render("hub")
        #expect(try await cluster.engine.apply(hub, options: fastOptions()).succeeded)
        // Objects nobody applied with pattern (a user's data) live in the namespace.
        for i in 0..<40 {
            try cluster.server.store.seed(["apiVersion": "v1", "kind": "ConfigMap", "metadata": ["name": .string("user-\(i)"), "namespace": "hello-world"]])
        }
        let shrunk = Self.withoutHelloWorld(hub)
        let refusal = await applyError { () async throws(ApplyError) in try await cluster.engine.apply(shrunk, options: fastOptions()) }
        #expect(refusal?.kind == .pruneRefused, "only \(hub.objects.count - shrunk.objects.count) inventory objects go, but 40 more go with the namespace")
        #expect(refusal?.message.contains("40") == true)
        var dry = fastOptions()
        dry.dryRun = true
        let preview = try await cluster.engine.apply(shrunk, options: dry)
        #expect(preview.pruneCascade >= 40)
        #expect(preview.outcomes.contains { $0.key == Self.helloNamespace && $0.status == .wouldPrune })
    }

    @Test func aStaleSourceDoesNotPruneUnlessAsked() async throws {
        let cluster = try TestCluster()
        defer { cluster.server.stop() }
        let dev = try ExampleRepo().render("dev")
        #expect(try await cluster.engine.apply(dev, options: fastOptions()).succeeded)
        var stale = dev
        stale.objects.removeAll { $0.key.kind == "ConfigMap" && $0.key.name == "hello-world" }
        stale.provenance.stale = true
        let r = try await cluster.engine.apply(stale, options: fastOptions())
        #expect(r.count(.pruned) == 0)
        #expect(r.pruneSkipped?.contains("stale") == true)
        #expect(cluster.server.store.get(resource: "configmaps", namespace: "hello-world", name: "hello-world") != nil)
        var allow = fastOptions()
        allow.pruneStale = true
        let r2 = try await cluster.engine.apply(stale, options: allow)
        #expect(r2.count(.pruned) == 1)
        #expect(cluster.server.store.get(resource: "configmaps", namespace: "hello-world", name: "hello-world") == nil)
    }

    @Test func pruneDisabledAndKindAllowlistLeaveObjectsInTheCluster() async throws {
        let cluster = try TestCluster()
        defer { cluster.server.stop() }
        let dev = try ExampleRepo().render("dev")
        #expect(try await cluster.engine.apply(dev, options: fastOptions()).succeeded)
        _ = try await cluster.client.patch(GroupVersionKind(group: "", version: "v1", kind: "ConfigMap"), name: "hello-world", namespace: "hello-world",
                                           patch: ["metadata": ["annotations": ["pattern.dev/prune": "disabled"]]], type: .merge, fieldManager: "kubectl-annotate")
        var shrunk = dev
        shrunk.objects.removeAll { ($0.key.kind == "ConfigMap" || $0.key.kind == "Service") && $0.key.namespace == "hello-world" }
        var options = fastOptions()
        options.pruneKinds = [GroupKind(group: "", kind: "ConfigMap")]
        let r = try await cluster.engine.apply(shrunk, options: options)
        #expect(r.succeeded)
        #expect(r.count(.pruned) == 0)
        #expect(cluster.server.store.get(resource: "configmaps", namespace: "hello-world", name: "hello-world") != nil)
        #expect(r.outcomes.contains { $0.status == .kept && $0.message?.contains("pattern.dev/prune: disabled") == true })
        let services = r.outcomes.filter { $0.key.kind == "Service" && $0.key.namespace == "hello-world" }
        #expect(!services.isEmpty && services.allSatisfy { $0.status == .kept && $0.message?.contains("prunable kinds") == true }, "\(services)")
        // Released objects leave the inventory (they are the user's now).
        let inv = try #require(try await cluster.engine.records.loadInventory(SiteIdentity(dev)))
        #expect(!inv.objects.contains { $0.namespace == "hello-world" && ($0.kind == "ConfigMap" || $0.kind == "Service") })
    }

    @Test func ifNotPresentObjectsAreCreatedOnceAndNeverUpdated() async throws {
        let cluster = try TestCluster()
        defer { cluster.server.stop() }
        var dev = try ExampleRepo().render("dev")
        let i = try #require(dev.objects.firstIndex { $0.key.kind == "ConfigMap" && $0.key.name == "hello-world" })
        dev.objects[i].object[path: ["metadata", "annotations", "pattern.dev/apply"]] = "if-not-present"
        let first = try await cluster.engine.apply(dev, options: fastOptions())
        #expect(first.outcomes.first { $0.key == dev.objects[i].key }?.status == .created)
        dev.objects[i].object[path: ["data", "message"]] = "changed in git"
        let second = try await cluster.engine.apply(dev, options: fastOptions())
        #expect(second.outcomes.first { $0.key == dev.objects[i].key }?.status == .skipped)
        #expect(cluster.server.store.get(resource: "configmaps", namespace: "hello-world", name: "hello-world")?[path: ["data", "message"]] != "changed in git")
    }
}

@Suite struct RecordTruthTests {
    @Test func theInventoryListsObjectsBeforeTheyAreCreated() async throws {
        let cluster = try TestCluster()
        defer { cluster.server.stop() }
        let dev = try ExampleRepo().render("dev")
        // Writing Deployments is forbidden: the run stops at their level.
        _ = cluster.server.faults.add(FaultRule(verb: "apply", predicate: { $0.resource == "deployments" }, action: .error(.forbidden(
            user: "test", verb: "patch", info: nil, resource: "deployments", name: nil, namespace: nil))))
        let r = try await cluster.engine.apply(dev, options: fastOptions())
        #expect(!r.succeeded)
        let log = cluster.server.requestLog.writes.filter { $0.verb == "apply" }
        let firstInventory = try #require(log.firstIndex { $0.resource == "configmaps" && $0.name?.hasPrefix("pattern-inventory-") == true })
        let isRecord = { (e: LoggedRequest) in e.namespace == "pattern-system" || (e.resource == "namespaces" && e.name == "pattern-system") }
        let firstObject = try #require(log.firstIndex { !isRecord($0) })
        #expect(firstInventory < firstObject, "the inventory is written before the first object")
        // Everything that exists is listed; objects never attempted are not.
        let inv = try #require(try await cluster.engine.records.loadInventory(SiteIdentity(dev)))
        for o in r.outcomes where o.status == .created { #expect(inv.objects.contains(o.key)) }
        for o in r.outcomes where o.status == .notAttempted { #expect(!inv.objects.contains(o.key)) }
    }

    @Test func aFailedLedgerWriteKeepsTheReportAndIsCaughtUpNextRun() async throws {
        let cluster = try TestCluster()
        defer { cluster.server.stop() }
        let dev = try ExampleRepo().render("dev")
        let fault = cluster.server.faults.add(FaultRule(pathContains: "pattern-ledger", verb: "apply", times: nil, action: .internalError("etcd timeout")))
        let r = try await cluster.engine.apply(dev, options: fastOptions())
        #expect(r.count(.created) == dev.objects.count, "every object's outcome is still reported")
        #expect(r.recordError?.contains("ledger") == true)
        #expect(!r.succeeded)
        cluster.server.faults.remove(fault)
        #expect(try await cluster.engine.records.loadLedger(SiteIdentity(dev)).entries.isEmpty)
        // Next run: nothing to apply, but the ledger catches up.
        let again = try await cluster.engine.apply(dev, options: fastOptions())
        #expect(again.succeeded && again.recordError == nil)
        let ledger = try await cluster.engine.records.loadLedger(SiteIdentity(dev))
        #expect(ledger.entries.count == 1)
        #expect(ledger.entries.first?.revision == dev.revision && ledger.entries.first?.result == .succeeded)
        // And then it stays quiet.
        await cluster.resetLog()
        _ = try await cluster.engine.apply(dev, options: fastOptions())
        #expect(cluster.server.requestLog.writes.isEmpty)
    }

    @Test func createdIsDecidedByTheServerNotByGuessing() async throws {
        let cluster = try TestCluster()
        defer { cluster.server.stop() }
        let dev = try ExampleRepo().render("dev")
        // The namespace exists already, applied with the same field manager but without this
        // site's labels (another site, an older release): one managedFields entry, no generation.
        _ = try await cluster.client.apply(["apiVersion": "v1", "kind": "Namespace", "metadata": ["name": "hello-world"]], fieldManager: "pattern")
        let r = try await cluster.engine.apply(dev, options: fastOptions())
        #expect(r.succeeded, "\(r.failed)")
        #expect(r.outcomes.first { $0.key.kind == "Namespace" && $0.key.name == "hello-world" }?.status == .configured)
        #expect(r.count(.created) == dev.objects.count - 1)
        #expect(try await cluster.engine.records.loadLedger(SiteIdentity(dev)).entries.last?.counts.created == dev.objects.count - 1)
    }

    /// Every request is counted, each page of a paged LIST too (pages of one object here, so
    /// every kind with more than one object takes several).
    @Test(arguments: [500, 1])
    func requestCountsIncludeRecordsAndReadiness(listPageSize: Int) async throws {
        let cluster = try TestCluster(controllerDelay: 0.2, listPageSize: listPageSize)
        defer { cluster.server.stop() }
        let dev = try ExampleRepo().render("dev")
        let r = try await cluster.engine.apply(dev, options: fastOptions())
        #expect(r.succeeded)
        try? await Task.sleep(for: .milliseconds(150))
        let log = cluster.server.requestLog
        #expect(r.writeRequests == log.writes.count)
        #expect(r.listRequests == log.count(verb: "list"))
        #expect(r.getRequests == log.count(verb: "get"))
        #expect(r.watchRequests == log.count(verb: "watch"))
        #expect(log.entries.contains { $0.verb == "list" && $0.resource == "deployments" && $0.query["labelSelector"] != nil })
        // Again, over the objects now there (observe lists them: several pages per kind when paged).
        await cluster.resetLog()
        let again = try await cluster.engine.apply(dev, options: fastOptions())
        #expect(again.succeeded)
        try? await Task.sleep(for: .milliseconds(150))
        #expect(again.listRequests == log.count(verb: "list"))
        #expect(again.getRequests == log.count(verb: "get"))
        #expect(log.entries.contains { $0.verb == "list" && $0.query["continue"] != nil } == (listPageSize == 1))
    }

    @Test func readinessIsWatchedNotPolled() async throws {
        // Long enough that the Deployments are still rolling out when the final wait starts
        // (readiness waits per edge: nothing depends on them, so they are awaited at the end,
        // after the writes of the levels after theirs).
        let cluster = try TestCluster(controllerDelay: 2)
        defer { cluster.server.stop() }
        let dev = try ExampleRepo().render("dev")
        var options = fastOptions()
        options.pollIntervalSeconds = 0.05
        let r = try await cluster.engine.apply(dev, options: options)
        #expect(r.succeeded, "\(r.failed)")
        try? await Task.sleep(for: .milliseconds(150))
        let log = cluster.server.requestLog
        // Deployments roll out 2 s after they are written: polling every 50 ms would LIST them
        // dozens of times per wait; each wait LISTs once and then watches.
        let watches = log.entries.filter { $0.verb == "watch" && $0.resource == "deployments" && $0.query["labelSelector"] != nil }
        #expect(!watches.isEmpty)
        // Observe LISTs once by the owner label's presence; each wait LISTs by the site's owner
        // value once before each watch round, and at most once more if it falls back to polling
        // after a watch fails. Polling would LIST about ten times.
        let observeLists = log.entries.filter { $0.verb == "list" && $0.resource == "deployments" && $0.query["labelSelector"] == LabelKeys.owner }
        let waitLists = log.entries.filter { $0.verb == "list" && $0.resource == "deployments" && $0.query["labelSelector"] == "pattern.dev/owner=multicloud-platform.dev" }
        #expect(observeLists.count == 1)
        #expect(waitLists.count <= 1 + watches.count, "one LIST before each watch: \(waitLists.count) LISTs, \(watches.count) watches")
        #expect(waitLists.count >= watches.count)
        #expect(r.watchRequests >= 1)
    }

    /// A readiness watch that goes silent (accepted, then never an event, not even at its
    /// timeoutSeconds) cost the whole wait timeout and failed the apply; now each watch is a
    /// bounded round and the waiter re-LISTs and watches again.
    @Test func aSilentReadinessWatchIsAbandonedAfterOneRound() async throws {
        // Deployments roll out 4 s after they are written: not ready at the first LIST, even
        // when a loaded machine takes seconds to write the levels before them (at 1.5 s they
        // were sometimes ready before any watch started).
        let cluster = try TestCluster(controllerDelay: 4)
        defer { cluster.server.stop() }
        let rule = cluster.server.faults.add(FaultRule(verb: "watch", times: 1,
                                                       predicate: { $0.resource == "deployments" }, action: .silentWatch))
        let dev = try ExampleRepo().render("dev")
        var options = fastOptions()
        options.waitTimeoutSeconds = 15
        options.watchRoundSeconds = 1
        let r = try await cluster.engine.apply(dev, options: options)
        // Without rounds the silent watch holds the wait until its 15 s deadline: time-outs.
        #expect(r.succeeded, "\(r.failed)")
        #expect(cluster.server.faults.fired(rule) == 1)
        let log = cluster.server.requestLog
        let watches = log.entries.filter { $0.verb == "watch" && $0.resource == "deployments" }
        #expect(watches.count >= 2, "the silent watch and at least one more after the re-LIST")
        #expect(watches.allSatisfy { $0.query["timeoutSeconds"] == "1" })
    }

    /// Observe finds objects another site owns in its one LIST per kind (any owner label), not
    /// in a second LIST per kind with `owner!=us` as it did on every first apply.
    @Test func ownershipIsReadFromTheOneObserveList() async throws {
        let cluster = try TestCluster()
        defer { cluster.server.stop() }
        let dev = try ExampleRepo().render("dev")
        let r = try await cluster.engine.apply(dev, options: fastOptions())
        #expect(r.succeeded, "\(r.failed)")
        let lists = cluster.server.requestLog.entries.filter { $0.verb == "list" }
        #expect(!lists.contains { ($0.query["labelSelector"] ?? "").contains("!=") })
        #expect(lists.contains { $0.resource == "configmaps" && $0.query["labelSelector"] == LabelKeys.owner })
    }

    @Test func inventoryNamesMayBeLongerThan63Characters() async throws {
        let cluster = try TestCluster()
        defer { cluster.server.stop() }
        var dev = try ExampleRepo().render("dev")
        dev.site = "developer-cluster-in-the-eu-west-region-for-the-platform-team-number-7"
        dev.objects = dev.objects.filter { $0.key.kind == "Namespace" || $0.key.kind == "ConfigMap" }
        let name = SiteIdentity(dev).emptyInventory.name
        #expect(name.utf8.count > 63)
        let r = try await cluster.engine.apply(dev, options: fastOptions())
        #expect(r.succeeded && r.recordError == nil, "\(r.recordError ?? "")")
        let inv = try await cluster.engine.records.loadInventory(SiteIdentity(dev))
        #expect(inv?.objects == Set(dev.objects.map(\.key)))
    }
}

@Suite struct DryRunAndScopeTests {
    @Test func dryRunAsksTheServerAndShowsTheConflictTheRealApplyWouldGet() async throws {
        let cluster = try TestCluster()
        defer { cluster.server.stop() }
        let site = try ExampleRepo().render("edge-us")
        _ = try await cluster.engine.apply(site, options: fastOptions())
        let deploy: Value = ["apiVersion": "apps/v1", "kind": "Deployment",
                             "metadata": ["name": "secrets-store", "namespace": "platform-secrets"], "spec": ["replicas": 5]]
        _ = try await cluster.client.apply(deploy, fieldManager: "autoscaler", force: true)
        try? await Task.sleep(for: .milliseconds(100))
        let before = cluster.writes
        var dry = fastOptions()
        dry.dryRun = true
        let r = try await cluster.engine.apply(site, options: dry)
        let o = try #require(r.outcomes.first { $0.key.name == "secrets-store" && $0.key.kind == "Deployment" })
        #expect(o.status == .failed)
        #expect(o.message?.contains("conflict with \"autoscaler\"") == true)
        #expect(r.diffs.contains { $0.key == o.key && $0.text.contains("replicas") })
        #expect(r.dryRunRequests >= 1)
        try? await Task.sleep(for: .milliseconds(100))
        #expect(cluster.writes == before)
        #expect(cluster.server.requestLog.entries.contains { $0.isDryRun && $0.resource == "deployments" })
    }

    @Test func anIdentityThatMayOnlyListInItsNamespacesCanApply() async throws {
        let cluster = try TestCluster()
        defer { cluster.server.stop() }
        var dev = try ExampleRepo().render("dev")
        dev.objects = dev.objects.filter { $0.key.namespace == "hello-world" || ($0.key.kind == "Namespace" && $0.key.name == "hello-world") }
        // Namespaced kinds may not be listed across the cluster (a RoleBinding, not a ClusterRoleBinding).
        _ = cluster.server.faults.add(FaultRule(verb: "list", times: nil, predicate: { $0.namespace == nil && $0.resource != "namespaces" },
                                                action: .error(.forbidden(user: "ci", verb: "list", info: nil, resource: "configmaps", name: nil, namespace: nil))))
        let r = try await cluster.engine.apply(dev, options: fastOptions())
        #expect(r.succeeded, "\(r.failed)")
        await cluster.resetLog()
        let again = try await cluster.engine.apply(dev, options: fastOptions())
        #expect(again.count(.unchanged) == dev.objects.count)
        #expect(cluster.server.requestLog.writes.isEmpty)
        #expect(cluster.server.requestLog.entries.contains { $0.verb == "list" && $0.namespace == "hello-world" && $0.status == 200 })
    }
}
