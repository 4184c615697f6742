import Testing
import PatternCore
import PatternCompile
import KubeClient
@testable import PatternApply

/// The applied hash (`pattern.dev/applied-hash`) made from the content digest the render
/// computed: the same hash as from the object alone, never a stale one.
@Suite struct AppliedHashTests {
    static func hash(_ v: Value) -> String? { v.annotations[LabelKeys.appliedHash]?.string }

    @Test func aRenderedObjectIsPreparedAsItsValueAlone() throws {
        let site = try ExampleRepo().render("hub")
        let identity = SiteIdentity(site)
        #expect(site.objects.count > 10)
        for o in site.objects {
            #expect(o.contentDigest != nil, "the render digests every object: \(o.key)")
            let fromDigest = identity.prepare(o), fromValue = identity.prepare(o.object)
            #expect(fromDigest == fromValue && Self.hash(fromDigest) == Self.hash(fromValue), "\(o.key)")
            #expect(Self.hash(fromDigest)?.hasPrefix(AppliedHash.currentPrefix) == true && Self.hash(fromDigest)?.utf8.count == 19)
        }
        // Distinct objects, distinct hashes.
        #expect(Set(site.objects.map { Self.hash(identity.prepare($0)) }).count == site.objects.count)
    }

    /// Live objects carry these hashes: their text must never change. Worked out here with
    /// Python's hashlib: SHA-256 of the site prefix and the SHA-256 of the canonical JSON.
    @Test(arguments: [
        ("p.s", "id1", Value.string("x"), "v2-b272803c990e7ec8"),
        ("bench.bench-site", "applyset-xyz-v1", ["a": 1] as Value, "v2-afb16933e0f3273b"),
    ])
    func theCurrentHashIsTheKnownAnswer(_ owner: String, _ applySet: String, _ value: Value, _ expected: String) {
        let site = AppliedHash.Site(ownerValue: owner, applySetID: applySet)
        #expect(AppliedHash.current(ObjectDigest(of: value), site: site) == expected)
        // Hashed twice from one site: the prefix's state is copied, never consumed.
        #expect(AppliedHash.current(ObjectDigest(of: value), site: site) == expected)
        #expect(site == AppliedHash.Site(ownerValue: owner, applySetID: applySet))
        #expect(site != AppliedHash.Site(ownerValue: owner + "x", applySetID: applySet))
    }

    @Test func aChangeAfterTheRenderChangesTheHash() throws {
        let site = try ExampleRepo().render("hub")
        let identity = SiteIdentity(site)
        var o = try #require(site.objects.first { $0.key.kind == "ConfigMap" })
        let before = Self.hash(identity.prepare(o))
        o.object[path: ["data", "changed-after-render"]] = "x"
        let after = identity.prepare(o)
        #expect(Self.hash(after) != before)
        #expect(Self.hash(after) == Self.hash(identity.prepare(o.object)))
    }

    @Test func theHashFollowsTheSiteAndNotTheRevision() throws {
        let site = try ExampleRepo().render("hub")
        let o = try #require(site.objects.first { $0.key.kind == "ConfigMap" })
        let hub = SiteIdentity(site)
        let h = Self.hash(hub.prepare(o))
        // Another site's member labels, another record namespace (ApplySet id): another hash.
        #expect(Self.hash(SiteIdentity(pattern: site.pattern, site: "edge-eu").prepare(o)) != h)
        #expect(Self.hash(SiteIdentity(site, recordNamespace: "elsewhere").prepare(o)) != h)
        // A new rendered revision alone leaves it.
        var v = o.object
        v[path: ["metadata", "annotations", LabelKeys.revision]] = "sha256:other"
        #expect(Self.hash(hub.prepare(v)) == h)
        // A null field is dropped from what is applied, but a different render is still a different hash.
        v[path: ["data", "unset"]] = Value(.null)
        #expect(hub.prepare(v)[path: ["data", "unset"]] == nil)
        #expect(Self.hash(hub.prepare(v)) != h)
    }

    /// A live object whose applied hash was made another way (an older pattern) costs only
    /// the full removal check: the diff is still empty and a re-apply writes nothing.
    @Test func anAppliedHashMadeAnotherWayIsNoChange() async throws {
        let cluster = try TestCluster()
        defer { cluster.server.stop() }
        let site = try ExampleRepo().render("hub")
        _ = try await cluster.engine.apply(site, options: fastOptions())
        let configMap = GroupVersionKind(apiVersion: "v1", kind: "ConfigMap")
        _ = try await cluster.client.patch(configMap, name: "hello-world", namespace: "hello-world",
                                           patch: ["metadata": ["annotations": [LabelKeys.appliedHash: "0123456789abcdef"]]],
                                           type: .merge, fieldManager: "older-pattern")
        let diffs = try await cluster.engine.diff(site).diffs
        #expect(diffs.allSatisfy { $0.changes.isEmpty }, "\(diffs.filter { !$0.changes.isEmpty })")
    }
}

/// What a live applied hash written by an earlier version still does: skip the removal check
/// when it is the hash of exactly the configuration being applied.
@Suite struct LegacyAppliedHashTests {
    @Test func aLegacyHashOfTheDesiredConfigurationSkipsTheRemovalCheck() async throws {
        let cluster = try TestCluster()
        defer { cluster.server.stop() }
        let site = try ExampleRepo().render("hub")
        _ = try await cluster.engine.apply(site, options: fastOptions())
        // The repository drops a key pattern applied: a removal, found by the removal check.
        var next = site
        let i = try #require(next.objects.firstIndex { $0.key.kind == "ConfigMap" && $0.key.name == "hello-world" })
        next.objects[i].object.withObject { o in o.modify("data") { d in d!.withObject { _ = $0.removeValue(forKey: "message") } } }
        let key = next.objects[i].key
        func removals() async throws -> [String] {
            let d = try await cluster.engine.diff(next).diffs.first { $0.key == key }
            return (d?.changes ?? []).filter { $0.kind == .removed }.map(\.path.description)
        }
        #expect(try await removals() == [".data.message"])

        let configMap = GroupVersionKind(apiVersion: "v1", kind: "ConfigMap")
        func setLiveHash(_ h: String) async throws {
            _ = try await cluster.client.patch(configMap, name: "hello-world", namespace: key.namespace,
                                               patch: ["metadata": ["annotations": [LabelKeys.appliedHash: .string(h)]]],
                                               type: .merge, fieldManager: "older-pattern")
        }
        let identity = SiteIdentity(next)
        // A legacy hash of another configuration (the applied one): still checked.
        try await setLiveHash(AppliedHash.legacy(identity.prepare(site.objects[i])))
        #expect(try await removals() == [".data.message"])
        // A legacy hash of exactly the desired configuration: live was applied from it, as an
        // earlier version would have recorded; nothing of ours is left to remove.
        try await setLiveHash(AppliedHash.legacy(identity.prepare(next.objects[i])))
        #expect(try await removals() == [])
    }
}
