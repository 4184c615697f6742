import Testing
import PatternCore
@testable import PatternDiff

private func yaml(_ s: String) -> Value { try! YAMLParser.parse(s) }

/// `ignoreDifferences`: JSON pointers, the JQ path subset, per-rule field managers, decoding
/// with locations, and the live-value normalization diff, drift and apply share.
@Suite struct IgnoreDifferencesTests {
    @Test func jsonPointers() throws {
        #expect(try ValuePath.pointer("/metadata/annotations/example.com~1x").steps == [.field("metadata"), .field("annotations"), .field("example.com/x")])
        #expect(try ValuePath.pointer("/a~0b/0").steps == [.field("a~b"), .field("0")])
        for bad in ["spec/replicas", "/a~2", ""] {
            #expect(throws: Diagnostic.self, "\(bad)") { try ValuePath.pointer(bad) }
        }
    }

    @Test(arguments: [
        (".spec.replicas", [ValuePath.Step.field("spec"), .field("replicas")]),
        (".spec.containers[]", [.field("spec"), .field("containers"), .all]),
        (".spec.containers[0].image", [.field("spec"), .field("containers"), .index(0), .field("image")]),
        (".spec.containers[-1]", [.field("spec"), .field("containers"), .index(-1)]),
        (#".metadata.annotations["a.b/c"]"#, [.field("metadata"), .field("annotations"), .field("a.b/c")]),
        (#".metadata.annotations."a.b""#, [.field("metadata"), .field("annotations"), .field("a.b")]),
        (#".spec.initContainers[] | select(.name == "istio-init")"#, [.field("spec"), .field("initContainers"), .select([.init(field: ["name"], value: "istio-init")])]),
        (#".spec.containers[] | select(.name == "side") | .image"#, [.field("spec"), .field("containers"), .select([.init(field: ["name"], value: "side")]), .field("image")]),
        (".spec.ports[] | select(.port == 443)", [.field("spec"), .field("ports"), .select([.init(field: ["port"], value: 443)])]),
        (".spec.ports[] | select(.spec.port == 443)", [.field("spec"), .field("ports"), .select([.init(field: ["spec", "port"], value: 443)])]),
    ])
    func jqSubset(_ text: String, _ steps: [ValuePath.Step]) throws {
        #expect(try ValuePath.jq(text).steps == steps)
    }

    @Test(arguments: [".", "spec", ".a | length", ".a | select(.x == 1)", ".a[] | select(.name != \"x\")", ".a[] | select(.name == x)", ".a[", "del(.a)"])
    func jqOutsideTheSubsetIsAnError(_ text: String) {
        #expect(throws: Diagnostic.self) { try ValuePath.jq(text) }
        do { _ = try ValuePath.jq(text) } catch {
            #expect(error.message.contains("unsupported jq path expression") && error.fix?.contains("jsonPointers") == true)
        }
    }

    static let desired = yaml("""
        apiVersion: apps/v1
        kind: Deployment
        metadata: {name: web, namespace: shop}
        spec:
          replicas: 2
          template:
            spec:
              initContainers: [{name: istio-init, image: proxy:1}]
              containers: [{name: main, image: web:1}, {name: side, image: side:1}]
        """)

    @Test func respectLiveCopiesLiveValuesAtIgnoredPlaces() throws {
        var live = Self.desired
        live[path: ["spec", "replicas"]] = 5
        live[path: ["spec", "template", "spec", "containers"]] = [["name": "main", "image": "web:1"], ["name": "side", "image": "side:9"]]
        live[path: ["spec", "template", "spec", "initContainers"]] = []
        let rule = IgnoreRule(group: "apps", kind: "Deployment", paths: [], valuePaths: [
            try ValuePath.pointer("/spec/replicas"),
            try ValuePath.jq(#".spec.template.spec.containers[] | select(.name == "side") | .image"#),
            try ValuePath.jq(#".spec.template.spec.initContainers[] | select(.name == "istio-init")"#),
        ])
        let out = IgnoreDifferences.respectLive(Self.desired, live: live, rules: [rule])
        #expect(out[path: ["spec", "replicas"]] == 5)
        #expect(out[path: ["spec", "template", "spec", "containers"]] == [["name": "main", "image": "web:1"], ["name": "side", "image": "side:9"]])
        #expect(out[path: ["spec", "template", "spec", "initContainers"]] == [])   // live has none: not applied
        #expect(ObjectDiffer.diff(desired: out, live: live, manager: "pattern").action == .unchanged)
        #expect(ObjectDiffer.diff(desired: Self.desired, live: live, manager: "pattern").action == .update)
        // Other objects and kinds are untouched; without live nothing changes (create).
        var other = Self.desired
        other[path: ["metadata", "name"]] = "other"
        #expect(IgnoreDifferences.respectLive(Self.desired, live: nil, rules: [rule]) == Self.desired)
        let named = IgnoreRule(group: "apps", kind: "Deployment", name: "api", paths: [], valuePaths: rule.valuePaths)
        #expect(IgnoreDifferences.respectLive(Self.desired, live: live, rules: [named]) == Self.desired)
    }

    @Test func pointerIndexesLists() throws {
        var live = Self.desired
        live[path: ["spec", "template", "spec", "containers"]] = [["name": "main", "image": "web:2"], ["name": "side", "image": "side:1"]]
        let rule = IgnoreRule(kind: "Deployment", paths: [], valuePaths: [try ValuePath.pointer("/spec/template/spec/containers/0/image")])
        #expect(IgnoreDifferences.respectLive(Self.desired, live: live, rules: [IgnoreRule(group: "apps", kind: "Deployment", paths: [], valuePaths: rule.valuePaths)])[
            path: ["spec", "template", "spec", "containers"]]?.array?[0]["image"] == "web:2")
    }

    @Test func perRuleManagers() {
        var desired = Fixture.value("deployment-desired.yaml")
        desired[path: ["spec", "replicas"]] = 2
        let live = Fixture.value("deployment-live-drifted.json")
        let rule = IgnoreRule(group: "apps", kind: "Deployment", paths: [], managers: ["hpa-like"])
        let opts = IgnoreDifferences.options([rule])
        #expect(OwnedFields.compare(desired: desired, live: live, manager: "pattern", options: opts).map(\.path.description)
                == [".spec.template.spec.containers[name=main].image"])
        // Scoped by kind: the same managers on a rule for StatefulSets change nothing here.
        let other = IgnoreDifferences.options([IgnoreRule(group: "apps", kind: "StatefulSet", paths: [], managers: ["hpa-like"])])
        #expect(OwnedFields.compare(desired: desired, live: live, manager: "pattern", options: other).count == 2)
    }

    @Test func bookkeepingAnnotationsAreNeverChanges() {
        var desired = yaml("apiVersion: v1\nkind: ConfigMap\nmetadata: {name: c, namespace: a}\ndata: {k: v}\n")
        var live = desired
        desired[path: ["metadata", "annotations", "pattern.dev/applied-hash"]] = "aaaa"
        live[path: ["metadata", "annotations", "pattern.dev/applied-hash"]] = "bbbb"
        live[path: ["metadata", "managedFields"]] = [["manager": "pattern", "operation": "Apply", "apiVersion": "v1", "fieldsType": "FieldsV1",
                                                     "fieldsV1": ["f:metadata": ["f:annotations": ["f:pattern.dev/applied-hash": [:]]], "f:data": ["f:k": [:]]]]]
        #expect(ObjectDiffer.diff(desired: desired, live: live, manager: "pattern").action == .unchanged)
        #expect(Drift.fields(lastApplied: desired, live: live, manager: "pattern").isEmpty)
        // A real change still shows.
        desired[path: ["data", "k"]] = "w"
        #expect(ObjectDiffer.diff(desired: desired, live: live, manager: "pattern").changes.map(\.path.description) == [".data.k"])
    }

    @Test func decodesWithLocations() throws {
        let v = yaml("""
            - group: apps
              kind: Deployment
              name: web
              namespace: shop
              jsonPointers: [/spec/replicas]
              jqPathExpressions: ['.spec.template.spec.containers[] | select(.name == "side")']
              managedFieldsManagers: [kube-controller-manager]
            - {group: "*", kind: ConfigMap, jsonPointers: [/data]}
            """)
        let rules = try IgnoreRule.decodeList(v, file: "overlays/hub/overlay.yaml", in: "spec")
        #expect(rules.count == 2)
        #expect(rules[0].matches(ObjectKey(group: "apps", kind: "Deployment", namespace: "shop", name: "web")))
        #expect(!rules[0].matches(ObjectKey(group: "apps", kind: "Deployment", namespace: "other", name: "web")))
        #expect(rules[0].valuePaths.count == 2 && rules[0].managers == ["kube-controller-manager"])
        #expect(rules[1].group == nil && rules[1].matches(ObjectKey(group: "", kind: "ConfigMap", namespace: "x", name: "y")))
    }

    @Test(arguments: [
        ("- {kind: Deployment, jsonPointer: [/a]}", "unknown field 'jsonPointer'", 1),
        ("- {kind: Deployment, jsonPointers: [/spec/replicas]}", "Deployment is in API group apps", 1),
        ("- {kind: ConfigMap}", "ignores nothing", 1),
        ("- {group: apps, jsonPointers: [/a]}", "needs 'kind'", 1),
        ("- kind: ConfigMap\n  jsonPointers: [spec/replicas]", "must start with '/'", 2),
        ("- kind: ConfigMap\n  jqPathExpressions: ['.a | length']", "unsupported jq path expression", 2),
        ("- kind: ConfigMap\n  jsonPointers: /spec/replicas", "must be a list of strings", 2),
        ("kind: ConfigMap", "must be a list", 1),
    ])
    func decodingErrors(_ text: String, _ message: String, _ line: Int) {
        do {
            _ = try IgnoreRule.decodeList(yaml(text), file: "o.yaml", in: "spec")
            Issue.record("no error for \(text)")
        } catch {
            let hit = error.items.first { $0.message.contains(message) }
            #expect(hit != nil, "\(error.items)")
            #expect(hit?.location?.file == "o.yaml" && hit?.location?.mark.line == UInt32(line), "\(String(describing: hit?.location))")
        }
    }
}

