import Testing
import Foundation
import PatternCore
import PatternDiff
import PatternApply
import KubeClient
import KubeTestServer

/// `ApplyEngine.drift` when the render is not what was last applied: what it compares live
/// with (`DriftReport.basis`) and how it tells drift from changes not yet applied.
@Suite struct DriftBasisTests {
    @Test func appliedHashesAndManagedFieldsTellDriftFromPendingWithoutTheLastAppliedRender() async throws {
        let cluster = try TestCluster()
        defer { cluster.server.stop() }
        let site = try ExampleRepo().render("hub")
        _ = try await cluster.engine.apply(site, options: fastOptions())

        // The repository changes hello-world's message and adds a key (not applied).
        var next = site
        let i = try #require(next.objects.firstIndex { $0.key.kind == "ConfigMap" && $0.key.name == "hello-world" })
        next.objects[i].object[path: ["data", "message"]] = "changed in git"
        next.objects[i].object[path: ["data", "added"]] = "new in git"
        next.revision = "sha256:" + String(repeating: "1", count: 64)
        // By hand, on an object the repository did not change: a label deleted.
        let service = GroupVersionKind(apiVersion: "v1", kind: "Service")
        _ = try await cluster.client.patch(service, name: "hello-world", namespace: "hello-world",
                                           patch: ["metadata": ["labels": ["pattern.dev/component": .null]]], type: .merge,
                                           fieldManager: "kubectl-edit")
        let configMap = ObjectKey(group: "", kind: "ConfigMap", namespace: "hello-world", name: "hello-world")
        let svc = ObjectKey(group: "", kind: "Service", namespace: "hello-world", name: "hello-world")

        let report = try await cluster.engine.drift(next)
        #expect(report.basis == .liveRecords)
        // The Service's applied hash is its render's: the deletion is drift, with no owner.
        #expect(report.items.map { "\($0.key) \($0.path) \($0.kind)" } == ["\(svc) .metadata.labels[\"pattern.dev/component\"] added"], "\(report.items)")
        #expect(!report.inSync)
        // The ConfigMap's is not: the message pattern still owns is pending; the new key, which
        // live lacks and no one owns, cannot be told from a hand deletion.
        #expect(report.pending.map { "\($0.key) \($0.path)" } == ["\(configMap) .data.message"], "\(report.pending)")
        #expect(report.pending.first?.applied == "changed in git" && report.pending.first?.live == site.objects[i].object[path: ["data", "message"]])
        #expect(report.undetermined.map { "\($0.key) \($0.path)" } == ["\(configMap) .data.added"])
        #expect(report.pendingObjects == [configMap])
        #expect(report.unhealable == [svc])

        // With the last applied render given back: exact, the new key is pending too.
        let exact = try await cluster.engine.drift(next, lastApplied: { _ in site })
        #expect(exact.basis == .lastApplied)
        #expect(exact.items.map(\.key) == [svc])
        #expect(Set(exact.pending.map(\.path.description)) == [".data.message", ".data.added"], "\(exact.pending)")
        #expect(exact.undetermined.isEmpty && exact.unhealable.isEmpty)
        #expect(exact.lastApplied?.revision == site.revision)
        #expect(exact.pendingObjects == [configMap], "only the changed object, not every one with a new revision annotation")
        // A render that is not the recorded revision is never taken for it.
        var other = site
        other.revision = "sha256:" + String(repeating: "2", count: 64)
        let wrong = other
        #expect(try await cluster.engine.drift(next, lastApplied: { _ in wrong }).basis == .liveRecords)
    }
}
