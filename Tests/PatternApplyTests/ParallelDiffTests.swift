import Testing
import PatternCore
import PatternDiff
import PatternRecord
import PatternApply
import KubeClient

/// Objects are diffed on every core: the diffs stay in render order, every drifted object is
/// found wherever it sits among unchanged ones, and apply writes exactly the drifted ones.
@Suite struct ParallelDiffTests {
    static let configMap = GroupVersionKind(group: "", version: "v1", kind: "ConfigMap")

    /// A Namespace and `count` ConfigMaps (more than the parallel diff's threshold of 64).
    static func site(count: Int) throws -> RenderedSite {
        var objects = [try object("apiVersion: v1\nkind: Namespace\nmetadata: {name: many}\n")]
        for i in 0..<count {
            objects.append(try object("apiVersion: v1\nkind: ConfigMap\nmetadata: {name: cm-\(i), namespace: many}\ndata: {key: value-\(i), other: same}\n"))
        }
        return RenderedSite(site: "wide", pattern: "many", patternVersion: nil, cluster: ClusterFacts(), objects: objects,
                            revision: "sha256:" + String(repeating: "1", count: 64), components: [(name: "app", dependsOn: [])],
                            provenance: Provenance(source: "test"), warnings: [])
    }

    static func object(_ yaml: String) throws -> RenderedObject {
        let v = try YAMLParser.parse(yaml)
        return RenderedObject(object: v, key: try #require(v.objectKey), component: "app", file: "test.yaml")
    }

    /// Another manager (as `kubectl edit` does) changes one field of an object we applied.
    static func drift(_ cluster: TestCluster, _ name: String) async throws {
        _ = try await cluster.client.patch(configMap, name: name, namespace: "many", patch: ["data": ["key": "edited"]],
                                           type: .merge, fieldManager: "kubectl-edit")
    }

    @Test func driftedObjectsAmongManyUnchangedAreFoundInRenderOrder() async throws {
        let cluster = try TestCluster()
        defer { cluster.server.stop() }
        let site = try Self.site(count: 100)
        let first = try await cluster.engine.apply(site, options: fastOptions())
        #expect(first.succeeded, "\(first.failed)")
        let clean = try await cluster.engine.diff(site)
        #expect(clean.diffs.count == site.objects.count)
        #expect(clean.diffs.allSatisfy { $0.action == .unchanged })

        // One drifted object near the start, one in the middle, one last: different chunks.
        for name in ["cm-2", "cm-57", "cm-99"] { try await Self.drift(cluster, name) }
        let read = try await cluster.engine.diff(site)
        #expect(read.diffs.map(\.key) == site.objects.map(\.key), "diffs are not in render order")
        let changed = read.diffs.filter { $0.action != .unchanged }
        #expect(changed.map(\.key.name) == ["cm-2", "cm-57", "cm-99"])
        for d in changed {
            #expect(d.action == .update)
            #expect(d.changes.map(\.path.description) == [".data.key"])
            #expect(d.changes.first?.live == "edited")
        }
        // Each diff belongs to its own object (no result landed in another object's slot).
        #expect(changed.allSatisfy { d in d.changes.first?.desired == .string("value-" + d.key.name.dropFirst(3)) })

        // An apply that observes for itself (no preview to reuse) writes exactly those three
        // (taking the field back from the other manager, as `--force-conflicts` does).
        await cluster.resetLog()
        var options = fastOptions()
        options.forceConflicts = true
        let healed = try await cluster.engine.apply(site, options: options)
        #expect(healed.succeeded, "\(healed.failed)")
        #expect(healed.count(.configured) == 3)
        #expect(healed.count(.unchanged) == site.objects.count - 3)
        let applied = cluster.server.requestLog.writes.filter { $0.verb == "apply" && $0.resource == "configmaps" }.compactMap(\.name).filter { $0.hasPrefix("cm-") }
        #expect(applied.sorted() == ["cm-2", "cm-57", "cm-99"])
        let after = try await cluster.engine.diff(site)
        #expect(after.diffs.allSatisfy { $0.action == .unchanged })
    }

    @Test func theApplySetIDFollowsTheIdentity() {
        var identity = SiteIdentity(pattern: "p", site: "a")
        #expect(identity.applySetID == identity.emptyInventory.applySetID)
        let before = identity.applySetID
        identity.site = "b"
        #expect(identity.applySetID != before)
        #expect(identity.applySetID == Inventory(pattern: "p", site: "b").applySetID)
        identity.recordNamespace = "records"
        #expect(identity.applySetID == Inventory(pattern: "p", site: "b", namespace: "records").applySetID)
        identity.pattern = "q"
        #expect(identity.applySetID == Inventory(pattern: "q", site: "b", namespace: "records").applySetID)
        // What apply writes carries it.
        let prepared = identity.prepare(["apiVersion": "v1", "kind": "ConfigMap", "metadata": ["name": "x", "namespace": "n"]])
        #expect(prepared.labels[Ownership.applySetPartOfLabel]?.string == identity.applySetID)
    }
}
