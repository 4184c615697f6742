import Testing
import Foundation
import PatternCore
import PatternCompile
import PatternDiff
import PatternApply
import KubeClient
import KubeTestServer

@Suite struct ApplyEndToEndTests {
    @Test func firstApplyCreatesEverythingInOrderAndWaits() async throws {
        let cluster = try TestCluster(controllerDelay: 0.2)
        defer { cluster.server.stop() }
        let repo = ExampleRepo()
        let site = try repo.render("hub")
        let result = try await cluster.engine.apply(site, options: fastOptions())
        #expect(result.succeeded, "\(result.failed)")
        #expect(result.count(.created) == site.objects.count)

        // Every object is stored, with our field manager and member labels.
        let store = cluster.server.store
        let web = try #require(store.get(group: "apps", resource: "deployments", namespace: "platform-secrets", name: "secrets-store"))
        #expect(web[path: ["spec", "replicas"]] == 3)
        #expect(web.labels["pattern.dev/owner"] == "multicloud-platform.hub")
        #expect(web[path: ["metadata", "managedFields"]]?.array?.contains { $0["manager"] == "pattern" && $0["operation"] == "Apply" } == true)

        // Order: the CRD is applied and Established before its custom resource is applied; every
        // namespace exists before anything inside it is written.
        let writes = cluster.server.requestLog.writes.filter { $0.verb == "apply" }
        func index(_ resource: String, _ name: String) -> Int? { writes.firstIndex { $0.resource == resource && $0.name == name } }
        let crd = try #require(index("customresourcedefinitions", "collectors.telemetry.pattern.dev"))
        let cr = try #require(index("collectors", "hub"))
        #expect(crd < cr)
        for ns in ["platform-secrets", "config-demo", "hello-world", "platform-telemetry"] {
            let nsWrite = try #require(index("namespaces", ns))
            // Every one of these namespaces has objects (was `?? true`: passed when none was written).
            let firstInside = try #require(writes.firstIndex { $0.namespace == ns && $0.resource != "namespaces" }, "nothing written in \(ns)")
            #expect(nsWrite < firstInside, "namespace \(ns) applied after an object inside it")
        }
        // The Deployment (level before the CR's level) was waited on: it is rolled out now.
        #expect(ReadinessRules.status(of: web).isReady)
        // Inventory and ledger were recorded.
        let ledger = try await cluster.engine.records.loadLedger(SiteIdentity(site))
        #expect(ledger.entries.count == 1)
        #expect(ledger.entries.first?.revision == site.revision)
        #expect(ledger.entries.first?.counts.created == site.objects.count)
    }

    @Test func secondApplyOfTheSameRevisionWritesNothingAndListsOncePerKind() async throws {
        let cluster = try TestCluster()
        defer { cluster.server.stop() }
        let site = try ExampleRepo().render("edge-eu")
        _ = try await cluster.engine.apply(site, options: fastOptions())
        await cluster.resetLog()
        let again = try await cluster.engine.apply(site, options: fastOptions())
        #expect(again.succeeded)
        #expect(again.count(.unchanged) == site.objects.count)
        #expect(cluster.server.requestLog.writes.isEmpty, "\(cluster.server.requestLog.writes.map { "\($0.method) \($0.path)" })")
        let kinds = Set(site.objects.map(\.key.groupKind)).count
        let siteLists = cluster.server.requestLog.entries.filter { $0.verb == "list" && $0.query["labelSelector"]?.contains("pattern.dev/owner") == true }
        #expect(siteLists.count == kinds)
        #expect(cluster.server.requestLog.entries.filter { $0.verb == "get" && $0.resource != "namespaces" && $0.resource != "configmaps" }.isEmpty)
    }

    @Test func diffShowsNothingAfterApplyAndTheChangeAfterAnEdit() async throws {
        let cluster = try TestCluster()
        defer { cluster.server.stop() }
        let repo = ExampleRepo()
        let site = try repo.render("dev")
        let before = try await cluster.engine.diff(site)
        #expect(before.diffs.allSatisfy { $0.action == .create })
        _ = try await cluster.engine.apply(site, options: fastOptions())
        let after = try await cluster.engine.diff(site)
        #expect(after.diffs.allSatisfy { $0.action == .unchanged }, "\(after.diffs.filter { $0.action != .unchanged }.map(\.text))")
        // Change a value in the site: exactly that object and field show up.
        repo.write("overlays/dev/overlay.yaml", try String(decoding: LocalTree(root: repo.root).read(TreePath("overlays/dev/overlay.yaml")), as: UTF8.self)
            .replacingFirst("message: Hello from a dev cluster", with: "message: Hello again"))
        let changed = try await cluster.engine.diff(try repo.render("dev"))
        let updates = changed.diffs.filter { $0.action == .update }
        #expect(updates.map(\.key.name) == ["hello-world"])
        #expect(updates.first?.text.contains("+  message: Hello again") == true)
    }

    @Test func driftIsAttributedToTheOtherManagerAndHealed() async throws {
        let cluster = try TestCluster()
        defer { cluster.server.stop() }
        let site = try ExampleRepo().render("hub")
        _ = try await cluster.engine.apply(site, options: fastOptions())
        #expect(try await cluster.engine.drift(site).inSync)
        // As `kubectl edit` would: an Update by another manager.
        let deploy = GroupVersionKind(group: "apps", version: "v1", kind: "Deployment")
        _ = try await cluster.client.patch(deploy, name: "hello-world", namespace: "hello-world",
                                           patch: ["spec": ["replicas": 7]], type: .merge, fieldManager: "kubectl-edit")
        let report = try await cluster.engine.drift(site)
        #expect(!report.inSync)
        let item = try #require(report.items.first { $0.key.name == "hello-world" && $0.key.kind == "Deployment" })
        #expect(item.path.description.contains("replicas"))
        #expect(item.live == 7 && item.applied == 2)
        #expect(item.owners.first?.manager == "kubectl-edit")
        #expect(item.owners.first?.operation == "Update")
        #expect(item.owners.first?.time.isEmpty == false)
        // Heal: re-apply only the drifted object, taking the field back.
        await cluster.resetLog()
        var heal = fastOptions()
        heal.forceConflicts = true
        heal.prune = false
        heal.only = report.drifted.map(\.description).reduce(into: Set<String>()) { $0.insert($1) }
        let healed = try await cluster.engine.apply(site, options: heal)
        #expect(healed.succeeded)
        // The drifted object, and the ledger entry recording the heal; nothing else. (The server
        // logs a request after answering it, so give the log a moment to catch up.)
        let applied = await eventually { cluster.server.requestLog.writes.filter { $0.verb == "apply" }.count >= 2 }
        #expect(applied)
        #expect(cluster.server.requestLog.writes.filter { $0.verb == "apply" }.map(\.name) == ["hello-world", "pattern-ledger-multicloud-platform-hub"])
        #expect(try await cluster.engine.drift(site).inSync)
        let live = cluster.server.store.get(group: "apps", resource: "deployments", namespace: "hello-world", name: "hello-world")
        #expect(live?[path: ["spec", "replicas"]] == 2)
    }

    @Test func removedComponentIsPrunedDependentsFirst() async throws {
        let cluster = try TestCluster()
        defer { cluster.server.stop() }
        let repo = ExampleRepo()
        _ = try await cluster.engine.apply(try repo.render("hub"), options: fastOptions())
        // Disable the operator component: its custom resource must go before its CRD.
        repo.write("overlays/hub/overlay.yaml", try String(decoding: LocalTree(root: repo.root).read(TreePath("overlays/hub/overlay.yaml")), as: UTF8.self)
            + "  components:\n    disable: [telemetry-operator]\n")
        await cluster.resetLog()
        let site = try repo.render("hub")
        let result = try await cluster.engine.apply(site, options: fastOptions())
        #expect(result.succeeded, "\(result.failed)")
        let deletes = cluster.server.requestLog.writes.filter { $0.verb == "delete" }.map { "\($0.resource)/\($0.name ?? "")" }
        #expect(Set(deletes) == ["collectors/hub", "customresourcedefinitions/collectors.telemetry.pattern.dev",
                                 "deployments/telemetry-operator", "serviceaccounts/telemetry-operator",
                                 "clusterroles/pattern:telemetry-operator", "clusterrolebindings/pattern:telemetry-operator"])
        let cr = try #require(deletes.firstIndex(of: "collectors/hub"))
        let crd = try #require(deletes.firstIndex(of: "customresourcedefinitions/collectors.telemetry.pattern.dev"))
        #expect(cr < crd)
        #expect(result.count(.pruned) == 6)
        // The inventory no longer lists them; a new apply prunes nothing.
        let inv = try await cluster.engine.records.loadInventory(SiteIdentity(site))
        #expect(inv?.objects.contains { $0.kind == "Collector" } == false)
        await cluster.resetLog()
        _ = try await cluster.engine.apply(site, options: fastOptions())
        #expect(cluster.server.requestLog.writes.isEmpty)
    }

    @Test func emptyOrShrunkRenderIsNotPrunedWithoutConfirmation() async throws {
        let cluster = try TestCluster()
        defer { cluster.server.stop() }
        let repo = ExampleRepo()
        _ = try await cluster.engine.apply(try repo.render("dev"), options: fastOptions())
        repo.write("overlays/dev/overlay.yaml", try String(decoding: LocalTree(root: repo.root).read(TreePath("overlays/dev/overlay.yaml")), as: UTF8.self)
            .replacingFirst("disable: [telemetry-operator]", with: "disable: [telemetry-operator, secrets-store, config-demo, hello-world]"))
        let shrunk = try repo.render("dev")
        try? await Task.sleep(for: .milliseconds(100))
        let before = cluster.writes
        await #expect(throws: ApplyError.self) { try await cluster.engine.apply(shrunk, options: fastOptions()) }
        #expect(cluster.writes == before, "nothing may be written when prune is refused")
        let refusal = await applyError { () async throws(ApplyError) in try await cluster.engine.apply(shrunk, options: fastOptions()) }
        #expect(refusal?.kind == .pruneRefused)
        #expect(refusal?.message.contains("refusing to prune") == true)
        #expect(refusal?.fix?.contains("--prune-confirm") == true)
        // The refusal names every object it would have deleted.
        let inventory = try #require(try await cluster.engine.records.loadInventory(SiteIdentity(shrunk)))
        let wouldGo = inventory.pruneCandidates(desired: shrunk.objects.map(\.key))
        #expect(refusal?.objects == wouldGo)
        #expect(wouldGo.prefix(20).allSatisfy { refusal?.message.contains($0.description) == true })
        // A dry run lists exactly what would be pruned instead of failing.
        var dry = fastOptions()
        dry.dryRun = true
        let preview = try await cluster.engine.apply(shrunk, options: dry)
        #expect(Set(preview.outcomes.filter { $0.status == .wouldPrune }.map(\.key)) == Set(wouldGo))
        #expect(preview.pruneRefused?.contains("refusing to prune") == true)
        #expect(cluster.writes == before)
        var confirm = fastOptions()
        confirm.pruneConfirm = true
        let r = try await cluster.engine.apply(shrunk, options: confirm)
        #expect(r.succeeded && r.count(.pruned) > 0)
        // An empty render is refused too.
        var empty = shrunk
        empty.objects = []
        await #expect(throws: ApplyError.self) { try await cluster.engine.apply(empty, options: fastOptions()) }
    }

    @Test func conflictsNameTheOtherManagerUnlessForced() async throws {
        let cluster = try TestCluster()
        defer { cluster.server.stop() }
        let site = try ExampleRepo().render("edge-us")
        _ = try await cluster.engine.apply(site, options: fastOptions())
        // Another applier (say an autoscaler) takes spec.replicas with a different value.
        let deploy: Value = ["apiVersion": "apps/v1", "kind": "Deployment",
                             "metadata": ["name": "secrets-store", "namespace": "platform-secrets"], "spec": ["replicas": 5]]
        _ = try await cluster.client.apply(deploy, fieldManager: "autoscaler", force: true)
        let changed = site
        let result = try await cluster.engine.apply(changed, options: fastOptions())
        let failure = try #require(result.failed.first { $0.key.name == "secrets-store" })
        #expect(failure.message?.contains("conflict with \"autoscaler\"") == true)
        #expect(failure.message?.contains("--force-conflicts") == true)
        #expect(result.outcomes.contains { $0.status == .notAttempted })
        var force = fastOptions()
        force.forceConflicts = true
        let forced = try await cluster.engine.apply(changed, options: force)
        #expect(forced.succeeded)
        #expect(cluster.server.store.get(group: "apps", resource: "deployments", namespace: "platform-secrets", name: "secrets-store")?[path: ["spec", "replicas"]] == 1)
    }

    @Test func survivesThrottlingOutagesAndACutConnectionAndConvergesOnRerun() async throws {
        let cluster = try TestCluster()
        defer { cluster.server.stop() }
        let site = try ExampleRepo().render("hub")
        // 429 and 503 on some writes: retried with backoff.
        _ = cluster.server.faults.add(FaultRule(verb: "apply", nth: 3, times: 1, action: .tooManyRequests(retryAfter: 0)))
        _ = cluster.server.faults.add(FaultRule(verb: "apply", nth: 7, times: 2, action: .serviceUnavailable(retryAfter: 0)))
        // A connection cut in the middle of a response.
        _ = cluster.server.faults.add(FaultRule(verb: "apply", nth: 12, times: 1, action: .cutConnection(afterBytes: 10)))
        let first = try await cluster.engine.apply(site, options: fastOptions())
        // Whether or not the cut request was retried, a re-run converges with nothing left to do
        // but what the first run could not finish.
        let second = try await cluster.engine.apply(site, options: fastOptions())
        #expect(second.succeeded, "\(second.failed)")
        let third = try await cluster.engine.diff(site)
        #expect(third.diffs.allSatisfy { $0.action == .unchanged })
        #expect(first.outcomes.count == site.objects.count)
    }
}

extension String {
    func replacingFirst(_ a: String, with b: String) -> String {
        guard let r = range(of: a) else { return self }
        return replacingCharacters(in: r, with: b)
    }
}

@Suite struct FieldRemovalTests {
    @Test func aFieldDroppedFromTheRenderIsShownAndRemovedFromTheCluster() async throws {
        let cluster = try TestCluster()
        defer { cluster.server.stop() }
        let repo = ExampleRepo()
        _ = try await cluster.engine.apply(try repo.render("hub"), options: fastOptions())
        let cm = { cluster.server.store.get(resource: "configmaps", namespace: "hello-world", name: "hello-world") }
        #expect(cm()?[path: ["data", "site"]] == "hub")
        // Drop `site` from the ConfigMap in the pattern.
        let path = "patterns/multicloud-platform/components/hello-world/hello-world.yaml"
        let text = String(decoding: try LocalTree(root: repo.root).read(TreePath(path)), as: UTF8.self)
        repo.write(path, text.replacingFirst("  site: ${site.name}\n", with: ""))
        let site = try repo.render("hub")
        let diff = try await cluster.engine.diff(site)
        let d = try #require(diff.diffs.first { $0.key.kind == "ConfigMap" && $0.key.name == "hello-world" })
        #expect(d.action == .update)
        #expect(d.changes.contains { $0.kind == .removed && $0.path.description.contains("site") })
        let r = try await cluster.engine.apply(site, options: fastOptions())
        #expect(r.succeeded)
        #expect(cm()?[path: ["data", "site"]] == nil)
        #expect(cm()?[path: ["data", "message"]] != nil)
        // And now it is in sync.
        #expect(try await cluster.engine.diff(site).diffs.allSatisfy { $0.action == .unchanged })
    }
}
