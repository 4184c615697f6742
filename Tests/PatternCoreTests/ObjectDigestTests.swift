import Testing
@testable import PatternCore

/// The content digest: what it covers, and when a rendered object keeps or forgets it.
@Suite struct ObjectDigestTests {
    static let base: Value = [
        "apiVersion": "v1", "kind": "ConfigMap",
        "metadata": ["name": "a", "namespace": "ns", "labels": ["x": "1"], "annotations": ["note": "kept"]],
        "data": ["k": "v", "list": ["a", "b"]],
    ]

    static func changed(_ body: (inout Value) -> Void) -> Value {
        var v = base
        body(&v)
        return v
    }

    @Test func bookkeepingAnnotationsAndKeyOrderDoNotCount() throws {
        let d = ObjectDigest(of: Self.base)
        let same: [Value] = [
            Self.changed { $0[path: ["metadata", "annotations", LabelKeys.revision]] = "sha256:1" },
            Self.changed { $0[path: ["metadata", "annotations", LabelKeys.appliedHash]] = "abc" },
            try YAMLParser.parse("""
                data: {list: [a, b], k: v}
                metadata: {annotations: {note: kept}, labels: {x: "1"}, namespace: ns, name: a}
                kind: ConfigMap
                apiVersion: v1
                """),
        ]
        for v in same { #expect(ObjectDigest(of: v) == d, "\(JSONWriter.string(v))") }
        // No annotations, an empty map and one with only bookkeeping keys are the same content.
        let bare = Self.changed { $0[path: ["metadata"]]!.withObject { o in _ = o.removeValue(forKey: "annotations") } }
        #expect(ObjectDigest(of: bare) == ObjectDigest(of: Self.changed { $0[path: ["metadata", "annotations"]] = .emptyObject }))
        #expect(ObjectDigest(of: bare) == ObjectDigest(of: Self.changed { $0[path: ["metadata", "annotations"]] = [LabelKeys.revision: "r"] }))
    }

    @Test func everyOtherChangeCounts() {
        let d = ObjectDigest(of: Self.base)
        let different: [Value] = [
            Self.changed { $0[path: ["data", "k"]] = "w" },
            Self.changed { $0[path: ["data", "k"]] = 1 },
            Self.changed { $0[path: ["data", "list"]] = ["b", "a"] },
            Self.changed { $0[path: ["data", "extra"]] = Value(.null) },
            Self.changed { $0[path: ["metadata", "annotations", "note"]] = "other" },
            Self.changed { $0[path: ["metadata", "annotations", "pattern.dev/other"]] = "x" },
            Self.changed { $0[path: ["metadata", "labels", "x"]] = "2" },
            Self.changed { $0[path: ["spec", "metadata", "annotations", LabelKeys.revision]] = "nested" },
        ]
        var seen: Set<ObjectDigest> = [d]
        for v in different { #expect(seen.insert(ObjectDigest(of: v)).inserted, "\(JSONWriter.string(v))") }
    }

    @Test func aRenderedObjectForgetsItsDigestWhenItChanges() {
        var o = RenderedObject(object: Self.base, key: ObjectKey(group: "", kind: "ConfigMap", namespace: "ns", name: "a"),
                               component: "c", file: "f.yaml")
        #expect(o.contentDigest == nil)
        let d = o.digestContent()
        #expect(o.contentDigest == d && d == ObjectDigest(of: Self.base))
        // A bookkeeping annotation keeps it, and it is still the object's digest.
        o.setBookkeepingAnnotation(LabelKeys.revision, "sha256:1")
        #expect(o.object[path: ["metadata", "annotations", LabelKeys.revision]]?.string == "sha256:1")
        #expect(o.contentDigest == d && ObjectDigest(of: o.object) == d)
        // Any other change, in place or whole, forgets it.
        o.object[path: ["data", "k"]] = "w"
        #expect(o.contentDigest == nil)
        #expect(o.digestContent() != d)
        o.object.withObject { $0.set("data", .emptyObject) }
        #expect(o.contentDigest == nil)
        _ = o.digestContent()
        o.object = Self.base
        #expect(o.contentDigest == nil)
    }

    @Test func aBookkeepingAnnotationThatMakesMetadataForgetsTheDigest() {
        var o = RenderedObject(object: ["kind": "A"], key: ObjectKey(group: "", kind: "A", namespace: "", name: "a"),
                               component: "c", file: "f.yaml")
        _ = o.digestContent()
        o.setBookkeepingAnnotation(LabelKeys.appliedHash, "h")
        #expect(o.contentDigest == nil)
        #expect(o.object[path: ["metadata", "annotations", LabelKeys.appliedHash]]?.string == "h")
    }
}
