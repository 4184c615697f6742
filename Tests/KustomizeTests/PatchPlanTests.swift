import Testing
@testable import PatternCore
@testable import Kustomize

/// Patch batches that keep identities apply per object on all cores (`PatchTransformer.Plan`);
/// everything else goes one patch after another. Both ways must give the same objects.
@Suite struct PatchPlanTests {
    static let objects = """
        apiVersion: apps/v1
        kind: Deployment
        metadata: {name: d1, labels: {tier: web}}
        spec:
          replicas: 1
          template:
            spec:
              containers:
              - {name: main, image: a:1, env: [{name: A, value: "1"}, {name: B, value: "2"}]}
        ---
        apiVersion: apps/v1
        kind: Deployment
        metadata: {name: d2, labels: {tier: db}}
        spec: {replicas: 1}
        ---
        apiVersion: v1
        kind: ConfigMap
        metadata: {name: c1}
        data: {a: "1"}
        ---
        apiVersion: v1
        kind: ConfigMap
        metadata: {name: c2, namespace: other}
        data: {a: "1"}
        """

    /// A kustomization with these `patches:` entries, parsed; its resources are `objects`.
    static func setUp(_ patches: String) throws -> (Kustomization, TreeLoader, ResMap) {
        let doc = try YAMLParser.parse("resources: [objects.yaml]\npatches:\n" + patches)
        let k = try Kustomization(parsing: doc, file: "kustomization.yaml", dir: .root)
        let loader = TreeLoader(tree: LocalTree(root: "/nonexistent-pattern-test-root"), limits: .default)
        var m = ResMap()
        for d in try YAMLParser.parseStream(objects, file: "objects.yaml") { try m.append(KResource(value: d.value, file: "objects.yaml")) }
        return (k, loader, m)
    }

    static func patch(_ kind: String, _ name: String, _ body: String, namespace: String? = nil, target: String? = nil) -> String {
        let api = kind == "Deployment" ? "apps/v1" : "v1"
        let ns = namespace.map { ", namespace: \($0)" } ?? ""
        var entry = "- patch: |-\n    apiVersion: \(api)\n    kind: \(kind)\n    metadata: {name: \(name)\(ns)}\n"
        for line in body.split(separator: "\n") { entry += "    \(line)\n" }
        if let target { entry += "  target: \(target)\n" }
        return entry
    }

    /// Eleven patches, several per object and in an order that matters: the plan is taken, and
    /// its objects equal the sequential ones.
    @Test func planAppliesPatchesInOrderPerObject() throws {
        var patches = ""
        for i in 1...4 { patches += Self.patch("Deployment", "d1", "spec: {replicas: \(i)}") }
        patches += Self.patch("Deployment", "d1", "spec:\n  template:\n    spec:\n      containers:\n      - name: main\n        env:\n        - {name: B, $patch: delete}\n        - {name: C, value: \"3\"}")
        patches += Self.patch("Deployment", "d1", "spec:\n  template:\n    spec:\n      containers:\n      - {name: main, image: a:2}")
        patches += Self.patch("ConfigMap", "c1", "data: {a: \"2\", b: \"x\"}")
        patches += Self.patch("ConfigMap", "c1", "data: {b: null}")
        patches += Self.patch("ConfigMap", "c2", "data: {z: \"9\"}", namespace: "other")
        patches += Self.patch("Deployment", "any", "spec: {paused: true}", target: "{kind: Deployment, name: \"d[12]\"}")
        patches += Self.patch("Deployment", "d2", "spec: {replicas: 8}")
        let (k, loader, m) = try Self.setUp(patches)
        #expect(k.patches.count == 11)

        let parsed = k.patches.map { spec in Result { () throws(Diagnostic) in try PatchTransformer.load(spec, kust: k, loader: loader) } }
        #expect(PatchTransformer.Plan(k.patches, parsed, kind: .either, in: m, PatchTransformer.Batch(m)) != nil, "this batch is planned per object")

        var planned = m, sequential = m
        try PatchTransformer.apply(k.patches, kind: .either, kust: k, loader: loader, to: &planned)
        try PatchTransformer.apply(k.patches, kind: .either, kust: k, loader: loader, to: &sequential, sequential: true)
        #expect(planned.items.map(\.value) == sequential.items.map(\.value))
        let d1 = planned.items[0].value
        #expect(d1[path: ["spec", "replicas"]] == 4)
        #expect(d1[path: ["spec", "paused"]] == true)
        let env = d1[path: ["spec", "template", "spec", "containers"]]?.array?.first?["env"]?.array?.compactMap { $0["name"]?.string }
        // Strategic merge puts the patch's list items first (as `kubectl kustomize` does).
        #expect(env == ["C", "A"])
        #expect(planned.items[2].value[path: ["data"]] == ["a": "2"])
        #expect(planned.items[1].value[path: ["spec", "replicas"]] == 8)
    }

    /// Batches where one patch can change what a later one selects or sees as a whole object
    /// are not planned.
    @Test(arguments: [
        ("a label-selector target", Self.patch("Deployment", "any", "spec: {replicas: 2}", target: "{kind: Deployment, labelSelector: tier=web}")),
        ("an annotation-selector target", Self.patch("Deployment", "any", "spec: {replicas: 2}", target: "{kind: Deployment, annotationSelector: a=b}")),
        ("a patch deleting an object", Self.patch("ConfigMap", "c1", "$patch: delete")),
        ("a name change", Self.patch("ConfigMap", "c1", "data: {}", target: "{kind: ConfigMap, name: c1}") + "  options: {allowNameChange: true}\n"),
        ("a JSON 6902 patch", "- target: {kind: ConfigMap, name: c1}\n  patch: |-\n    - {op: add, path: /data/x, value: y}\n"),
        ("a patch matching nothing", Self.patch("ConfigMap", "missing", "data: {x: y}")),
    ])
    func interactingBatchesAreNotPlanned(_ what: String, _ odd: String) throws {
        var patches = ""
        for i in 1...8 { patches += Self.patch("Deployment", "d2", "spec: {replicas: \(i)}") }
        patches += odd
        let (k, loader, m) = try Self.setUp(patches)
        let parsed = k.patches.map { spec in Result { () throws(Diagnostic) in try PatchTransformer.load(spec, kust: k, loader: loader) } }
        #expect(PatchTransformer.Plan(k.patches, parsed, kind: .either, in: m, PatchTransformer.Batch(m)) == nil, "\(what) is planned")
        // Without the odd patch, the same batch is planned.
        let (k2, loader2, m2) = try Self.setUp(String(patches.dropLast(odd.count)))
        let parsed2 = k2.patches.map { spec in Result { () throws(Diagnostic) in try PatchTransformer.load(spec, kust: k2, loader: loader2) } }
        #expect(PatchTransformer.Plan(k2.patches, parsed2, kind: .either, in: m2, PatchTransformer.Batch(m2)) != nil)
    }

    /// A batch whose merge fails reports what the sequential way reports.
    @Test func aFailingMergeReportsTheSequentialErrors() throws {
        var patches = ""
        for i in 1...8 { patches += Self.patch("Deployment", "d2", "spec: {replicas: \(i)}") }
        patches += Self.patch("ConfigMap", "c1", "data: {$patch: bogus}")
        patches += Self.patch("ConfigMap", "c1", "data: {$retainKeys: [a]}")
        let (k, loader, m) = try Self.setUp(patches)
        var planned = m, sequential = m
        var plannedError: Diagnostics?, sequentialError: Diagnostics?
        do { try PatchTransformer.apply(k.patches, kind: .either, kust: k, loader: loader, to: &planned) } catch { plannedError = error }
        do { try PatchTransformer.apply(k.patches, kind: .either, kust: k, loader: loader, to: &sequential, sequential: true) } catch { sequentialError = error }
        #expect(sequentialError?.items.count == 2)
        #expect(plannedError?.items.map(\.message) == sequentialError?.items.map(\.message))
    }
}
