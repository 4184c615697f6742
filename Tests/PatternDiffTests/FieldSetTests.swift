import Testing
import PatternCore
@testable import PatternDiff

@Suite struct FieldSetTests {
    @Test func roundTripsEveryRecordedManagedFieldsEntryByteForByte() throws {
        for name in ["deployment-live-applied.json", "deployment-live-drifted.json", "configmap-live-kubectl-edit.json",
                     "crd-live-established.json"] {
            let live = Fixture.value(name)
            let entries = try #require(live[path: ["metadata", "managedFields"]]?.array)
            #expect(!entries.isEmpty)
            for e in entries {
                let original = try #require(e["fieldsV1"])
                let set = FieldSet(fieldsV1: original)
                // Same keys in the same (server) order, so the same JSON text.
                #expect(JSONWriter.string(set.fieldsV1) == JSONWriter.string(original), "\(name) \(e["manager"]!)")
            }
        }
    }

    @Test func decodesKeyedValueAndIndexElements() throws {
        let v = try JSONParser.parse(#"""
        {"f:metadata":{"f:finalizers":{".":{},"v:\"a.io/x\"":{}}},
         "f:spec":{"f:containers":{"k:{\"name\":\"main\"}":{".":{},"f:ports":{"k:{\"containerPort\":8080,\"protocol\":\"TCP\"}":{".":{},"f:containerPort":{}}}}},
                   "f:args":{"i:0":{}}}}
        """#)
        let set = FieldSet(fieldsV1: v)
        let port = FieldPath([.field("spec"), .field("containers"), .key([.init("name", "main")]), .field("ports"),
                              .key([.init("containerPort", 8080), .init("protocol", "TCP")])])
        #expect(set.has(port))
        #expect(set.has(port.appending(.field("containerPort"))))
        #expect(!set.has(port.appending(.field("protocol"))))
        #expect(set.has(FieldPath([.field("metadata"), .field("finalizers"), .value("a.io/x")])))
        #expect(set.has(FieldPath([.field("spec"), .field("args"), .index(0)])))
        #expect(port.description == ".spec.containers[name=main].ports[containerPort=8080,protocol=TCP]")
        // Produce: same fieldsV1 again.
        #expect(JSONWriter.string(set.fieldsV1, options: .init(sortKeys: true)) == JSONWriter.string(v, options: .init(sortKeys: true)))
    }

    @Test func atomicLeafOwnsEverythingBelowIt() {
        let live = Fixture.value("deployment-live-applied.json")
        let ours = OwnedFields.previouslyApplied(live: live, manager: "pattern")!
        #expect(ours.owns(FieldPath(fields: ["spec", "selector", "matchLabels", "app"])))  // f:selector: {}
        #expect(ours.owns(FieldPath(fields: ["spec", "replicas"])))
        #expect(!ours.owns(FieldPath(fields: ["spec", "strategy"])))  // server default, nobody's
        #expect(!ours.owns(FieldPath(fields: ["spec", "template"])))  // only children are members
        #expect(ours.touches(FieldPath(fields: ["spec", "template"])))
    }

    @Test func applyConfigFieldSetMatchesWhatTheServerRecorded() throws {
        // The leaves of the set we compute for the applied body equal the leaves of the
        // `pattern` managedFields entry the real server wrote for it.
        let desired = Fixture.value("deployment-desired-v1.yaml")
        let live = Fixture.value("deployment-live-applied.json")
        let server = try #require(OwnedFields.previouslyApplied(live: live, manager: "pattern"))
        let ours = OwnedFields.fieldSet(of: desired)
        #expect(ours.leaves.map(\.description) == server.leaves.map(\.description))
        #expect(server.leaves.count == 11)

        let cm = Fixture.value("configmap-desired.yaml")
        #expect(OwnedFields.fieldSet(of: cm).leaves.map(\.description) == [".data.a", ".metadata.labels.app"])
    }

    @Test func producesTheServersFieldsV1ForAnApplyBody() throws {
        // Encoding the field set of each recorded apply body gives the exact bytes of the
        // managedFields entry the server wrote for it.
        let cases = [("deployment-desired-v1.yaml", "deployment-live-applied.json"),
                     ("configmap-desired.yaml", "configmap-live-forced.json"),
                     ("crd-desired.yaml", "crd-live-established.json")]
        for (body, response) in cases {
            let live = Fixture.value(response)
            let entry = try #require(live[path: ["metadata", "managedFields"]]?.array?.first { $0["manager"] == "pattern" })
            let produced = OwnedFields.fieldSet(of: Fixture.value(body)).fieldsV1
            #expect(JSONWriter.string(produced) == JSONWriter.string(entry["fieldsV1"]!), "\(body)")
        }
    }

    @Test func crdVersionsIsAtomicAsRecorded() {
        let desired = Fixture.value("crd-desired.yaml")
        let live = Fixture.value("crd-live-established.json")
        let server = OwnedFields.previouslyApplied(live: live, manager: "pattern")!
        #expect(OwnedFields.fieldSet(of: desired).leaves == server.leaves)
    }
}

@Suite struct QuantityTests {
    @Test func equalAmountsCompareEqual() {
        let same: [(String, String)] = [("1000m", "1"), ("0.1", "100m"), ("1Gi", "1024Mi"), ("1e3", "1k"), ("1.5", "1500m"),
                                        ("2", "2.0"), ("1Ki", "1024"), ("0", "0m"), ("+5", "5"), ("1E6", "1M"), ("500m", "0.5"),
                                        ("1Ti", "1099511627776"), ("0.5Gi", "512Mi")]
        for (a, b) in same { #expect(Quantity(a) == Quantity(b), "\(a) == \(b)") }
    }

    @Test func differentAmountsDiffer() {
        let diff: [(String, String)] = [("1Gi", "1G"), ("100Mi", "100M"), ("1", "1001m"), ("-1", "1"), ("1m", "1u")]
        for (a, b) in diff { #expect(Quantity(a) != Quantity(b), "\(a) != \(b)") }
    }

    @Test func rejectsNonQuantities() {
        for s in ["", "abc", "1.2.3", "1Xi", "m", "1e", "--1", "1 Gi"] { #expect(Quantity(s) == nil, "\(s)") }
    }

    @Test func numbersAreQuantities() {
        #expect(Quantity(Value.int(2)) == Quantity("2000m"))
        #expect(Quantity(Value.double(0.25)) == Quantity("250m"))
        #expect(Quantity(Value.bool(true)) == nil)
    }
}
