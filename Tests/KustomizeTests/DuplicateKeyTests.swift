import Testing
import PatternCore
@testable import Kustomize

/// Repeated keys, with `kubectl kustomize` v5.5.0 as the oracle for every row: Kustomize decodes
/// `kustomization.yaml` with go-yaml v2 into Go maps, so a repeated mapping key keeps its last
/// value at any depth; a generator that ends up with the same data key twice (two `literals`
/// entries, an env file, two files) is refused ("configmap cm illegally repeats the key `a`");
/// resource files go through kyaml, which refuses a repeated key.
@Suite struct DuplicateKeyTests {
    struct Row: Sendable, CustomStringConvertible {
        var name: String
        var files: [String: String]
        /// `name` → expected `data` (all objects' names and data, in output order), or nil when
        /// the build must fail.
        var objects: [(String, [String: String])]?
        /// Text the error must contain.
        var error: String? = nil
        var description: String { name }
    }

    static let rows: [Row] = [
        Row(name: "literals written twice: the second list wins",
            files: ["kustomization.yaml": "configMapGenerator:\n- name: cm\n  literals:\n  - a=1\n  literals:\n  - b=2\n"],
            objects: [("cm-fmbk44khfc", ["b": "2"])]),
        Row(name: "namePrefix written twice: the second wins",
            files: ["kustomization.yaml": "namePrefix: x-\nnamePrefix: y-\nconfigMapGenerator:\n- name: cm\n  literals:\n  - a=1\n"],
            objects: [("y-cm-h29d89cmmt", ["a": "1"])]),
        Row(name: "a repeated key inside labels pairs: the second wins",
            files: ["kustomization.yaml": "resources: [cm.yaml]\nlabels:\n- pairs:\n    a: b\n    a: c\n",
                    "cm.yaml": "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: a\n"],
            objects: [("a", [:])]),
        Row(name: "one literal key twice is refused",
            files: ["kustomization.yaml": "configMapGenerator:\n- name: cm\n  literals:\n  - a=1\n  - a=2\n  - b=3\n"],
            objects: nil, error: "configmap cm illegally repeats the key `a`"),
        Row(name: "the same literal twice is refused too",
            files: ["kustomization.yaml": "configMapGenerator:\n- name: cm\n  literals:\n  - a=1\n  - b=3\n  - a=1\n"],
            objects: nil, error: "configmap cm illegally repeats the key `a`"),
        Row(name: "a secret literal twice is refused",
            files: ["kustomization.yaml": "secretGenerator:\n- name: s\n  literals:\n  - x=1\n  - x=2\n"],
            objects: nil, error: "secret s illegally repeats the key `x`"),
        Row(name: "a literal and a file with the same key are refused",
            files: ["kustomization.yaml": "configMapGenerator:\n- name: cm3\n  literals: [a=1]\n  files: [a]\n", "a": "x\n"],
            objects: nil, error: "configmap cm3 illegally repeats the key `a`"),
        Row(name: "an env file repeating a key is refused",
            files: ["kustomization.yaml": "configMapGenerator:\n- name: cm\n  envs: [env.txt]\n", "env.txt": "a=1\na=2\n"],
            objects: nil, error: "configmap cm illegally repeats the key `a`"),
        Row(name: "a repeated key in a resource file is refused",
            files: ["kustomization.yaml": "resources: [cm.yaml]\n",
                    "cm.yaml": "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: a\ndata:\n  k: \"1\"\n  k: \"2\"\n"],
            objects: nil, error: "duplicate key 'k'"),
    ]

    @Test(arguments: rows)
    func matchesKubectl(_ row: Row) throws {
        let result: Result<[Value], Diagnostics>
        do throws(Diagnostics) { result = .success(try KustomizeBuilder(tree: MemoryTree(files: row.files)).build(.root)) } catch {
            result = .failure(error)
        }
        switch (result, row.objects) {
        case (.success(let out), let want?):
            #expect(out.count == want.count)
            for (o, w) in zip(out, want) {
                #expect(o.metadataName == w.0)
                var data: [String: String] = [:]
                for (k, v) in o["data"]?.object ?? Object() { data[k] = v.string }
                #expect(data == w.1)
            }
            if row.name.contains("labels") { #expect(out.first?["metadata"]?["labels"]?["a"]?.string == "c") }
        case (.failure(let e), nil):
            let text = e.items.map(\.message).joined(separator: "\n")
            #expect(text.contains(row.error ?? "\u{0}"), "\(text)")
            for d in e.items { #expect(d.fix != nil, "\(d) has no fix") }
        case (.success(let out), nil):
            Issue.record("expected a refusal, got \(out.count) objects")
        case (.failure(let e), _?):
            Issue.record("expected objects, got \(e.items)")
        }
    }
}
