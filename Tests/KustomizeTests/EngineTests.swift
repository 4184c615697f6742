import Testing
import PatternCore
@testable import Kustomize

private func yaml(_ s: String) throws -> Value { try YAMLParser.parse(s) }

/// The strategic-merge and JSON-patch engines and the target selector are public (site
/// overlays reuse them); these pin their behaviour independently of a whole build.
@Suite struct StrategicMergeTests {
    let deployment = """
        apiVersion: apps/v1
        kind: Deployment
        metadata: {name: d, labels: {a: "1", b: "2"}}
        spec:
          template:
            spec:
              containers:
              - {name: a, image: a, ports: [{containerPort: 80, name: http}]}
              - {name: b, image: b, env: [{name: X, value: "1"}, {name: Y, value: "2"}]}
              volumes: [{name: v1, emptyDir: {}}]
        """

    @Test func mergesContainersByNamePatchElementsFirst() throws {
        let patch = try yaml("""
            spec:
              template:
                spec:
                  containers:
                  - {name: b, image: b2}
                  - {name: c, image: c}
            """)
        let out = try #require(try StrategicMerge.apply(patch, to: try yaml(deployment)))
        let cs = try #require(out[path: ["spec", "template", "spec", "containers"]]?.array)
        #expect(cs.map { $0["name"]?.string } == ["b", "c", "a"])
        #expect(cs[0]["image"] == "b2")
        #expect(cs[0]["env"]?.array?.count == 2, "unpatched fields of a merged element stay")
    }

    @Test func nullDeletesAndDirectives() throws {
        let patch = try yaml("""
            metadata: {labels: {a: null}}
            spec:
              template:
                spec:
                  containers:
                  - name: b
                    env:
                    - {name: X, $patch: delete}
                  volumes:
                  - $patch: replace
                  - {name: only, emptyDir: {}}
            """)
        let out = try #require(try StrategicMerge.apply(patch, to: try yaml(deployment)))
        #expect(out.labels.keys == ["b"])
        let b = out[path: ["spec", "template", "spec", "containers"]]?.array?.first { $0["name"] == "b" }
        #expect(b?["env"]?.array?.map { $0["name"]?.string } == ["Y"])
        #expect(out[path: ["spec", "template", "spec", "volumes"]]?.array?.map { $0["name"]?.string } == ["only"])
    }

    @Test func deleteWholeObject() throws {
        #expect(try StrategicMerge.apply(try yaml("$patch: delete"), to: try yaml(deployment)) == nil)
    }

    @Test func customResourceListsAreReplaced() throws {
        let target = try yaml("apiVersion: example.com/v1\nkind: Foo\nspec: {items: [{name: a, v: 1}, {name: b}]}")
        let out = try #require(try StrategicMerge.apply(try yaml("spec: {items: [{name: a, v: 2}]}"), to: target))
        #expect(out[path: ["spec", "items"]] == [["name": "a", "v": 2]])
    }

    @Test func mergeKeys() {
        #expect(MergeKeys.key(for: ["spec", "template", "spec", "containers", "ports"]) == "containerPort")
        #expect(MergeKeys.key(for: ["spec", "ports"]) == "port")
        #expect(MergeKeys.key(for: ["spec", "template", "spec", "containers", "volumeMounts"]) == "mountPath")
        #expect(MergeKeys.key(for: ["spec", "template", "spec", "tolerations"]) == nil)
    }
}

@Suite struct JSONPatchTests {
    @Test func allOperations() throws {
        let doc = try yaml("a: {b: [1, 2, 3], 'x/y': 1, t: old}")
        let ops = try yaml("""
            - {op: add, path: /a/b/-, value: 4}
            - {op: add, path: /a/b/0, value: 0}
            - {op: remove, path: /a/b/1}
            - {op: replace, path: /a/t, value: new}
            - {op: copy, from: /a/t, path: /a/u}
            - {op: move, from: /a/x~1y, path: /a/z}
            - {op: test, path: /a/z, value: 1}
            """)
        let out = try JSONPatch(parsing: ops, file: "p.yaml").apply(to: doc)
        #expect(out == (try yaml("a: {b: [0, 2, 3, 4], t: new, u: new, z: 1}")))
    }

    @Test func failuresPointAtTheOperation() throws {
        let ops = try yaml("- {op: test, path: /a, value: 1}\n- {op: replace, path: /missing, value: 2}")
        let p = try JSONPatch(parsing: ops, file: "p.yaml")
        #expect(throws: Diagnostic.self) { try p.apply(to: try yaml("a: 1")) }
        let doc = try yaml("a: 1")
        do throws(Diagnostic) { _ = try p.apply(to: doc) } catch {
            #expect(error.location?.description == "p.yaml:2:3")
        }
        #expect(throws: Diagnostic.self) { try JSONPatch(parsing: try yaml("- {op: frobnicate, path: /a}"), file: "p.yaml") }
    }
}

@Suite struct PatchTargetTests {
    let obj = try! YAMLParser.parse("""
        apiVersion: apps/v1
        kind: Deployment
        metadata: {name: web-1, namespace: prod, labels: {tier: web}, annotations: {team: a}}
        """)

    @Test func selectors() throws {
        #expect(try PatchTarget(gvk: GvkSelector(group: "apps", kind: "Deployment"), name: "web-.*").matches(obj))
        #expect(try !PatchTarget(name: "web").matches(obj), "name regex is anchored")
        #expect(try PatchTarget(name: "web", namespace: "prod").matches(obj, originalName: "web"), "original name matches")
        #expect(try PatchTarget(labelSelector: "tier in (web,api),!legacy", annotationSelector: "team=a").matches(obj))
        #expect(try !PatchTarget(labelSelector: "tier!=web").matches(obj))
        #expect(try !PatchTarget(gvk: GvkSelector(version: "v2")).matches(obj))
        #expect(throws: Diagnostic.self) { try PatchTarget(name: "(") }
    }
}

@Suite struct GeneratorHashTests {
    /// Suffixes produced by `kubectl kustomize` (Kustomize v5.5.0) for the same generators.
    @Test func matchesKustomize() throws {
        let cm = try yaml("apiVersion: v1\nkind: ConfigMap\nmetadata: {name: cm}\ndata: {A: '1'}")
        #expect(GeneratorHash.suffix(for: cm) == "89g4tffbfk")
        let cm2 = try yaml("apiVersion: v1\nkind: ConfigMap\nmetadata: {name: cm}\ndata: {A: '1', B: 'quoted <&> x'}")
        #expect(GeneratorHash.suffix(for: cm2) == "7hdft5bck9")
        let empty = try yaml("apiVersion: v1\nkind: ConfigMap\nmetadata: {name: empty}")
        #expect(GeneratorHash.suffix(for: empty) == "6ct58987ht")
        let sec = try yaml("apiVersion: v1\nkind: Secret\nmetadata: {name: sec}\ntype: Opaque\ndata: {password: czNjcjN0}")
        #expect(GeneratorHash.suffix(for: sec) == "25k92892fb")
    }

    @Test func base64() {
        #expect(Base64.encode(Array("s3cr3t".utf8)) == "czNjcjN0")
        #expect(Base64.encode([0, 1, 2, 255, 254]) == "AAEC//4=")
        #expect(Base64.encode([UInt8]()) == "")
    }
}

@Suite struct ImageTests {
    @Test func split() {
        #expect(ImageTransformer.split("nginx") == ("nginx", "", ""))
        #expect(ImageTransformer.split("localhost:5000/a/b:1.0") == ("localhost:5000/a/b", "1.0", ""))
        #expect(ImageTransformer.split("a@sha256:abc") == ("a", "", "sha256:abc"))
        #expect(ImageTransformer.split("a:1@sha256:abc") == ("a", "1", "sha256:abc"))
    }

    @Test func matching() {
        #expect(ImageTransformer.matches("nginx:1.0", "nginx"))
        #expect(!ImageTransformer.matches("nginx-exporter:1.0", "nginx"))
        #expect(ImageTransformer.matches("redis:7@sha256:aa", "redis"))
    }

    /// Which images `name: app` matches, each decided by `kubectl kustomize` (v5.5.0) on a Pod
    /// holding all of them: tag and digest are ASCII `[a-zA-Z0-9_.{}-]`, the digest must say
    /// `@sha256:`, and nothing may follow.
    @Test func matchingAsKubectlDecides() {
        let table: [(image: String, matches: Bool)] = [
            ("app@sha256", false), ("app@sha256:abc", true), ("app:1.0@sha256:abc", true),
            ("app@sha512:abc", false), ("app:1@sha256:ab_c", true), ("app@sha256:ab.c", true),
            ("app:", true), ("app@", false), ("app:1:2", false), ("app@sha256x", false),
            ("app:a{b}", true), ("app@sha256:", true), ("app:1@sha256:", true), ("app@Sha256:a", false),
            ("app@sha256@sha256:ab", false), ("app:tägs", false), ("app:x½", false), ("app@sha256:abc٣", false),
            ("app:ok{x}_.-", true), ("app", true), ("appx:1.0", false),
        ]
        for (image, expected) in table {
            #expect(ImageTransformer.matches(image, "app") == expected, "\(image)")
        }
    }
}

/// Field-spec paths as Kustomize writes them (`\/` inside annotation keys, `[]` list markers).
@Suite struct FieldSpecPathTests {
    @Test func splitsOnSlashesKeepingEscapedOnesAndListMarkers() {
        #expect(FieldSpec.splitPath("spec/template/metadata/labels") == ["spec", "template", "metadata", "labels"])
        #expect(FieldSpec.splitPath("metadata/annotations/nginx.ingress.kubernetes.io\\/auth-secret")
                == ["metadata", "annotations", "nginx.ingress.kubernetes.io/auth-secret"])
        #expect(FieldSpec.splitPath("spec/volumeClaimTemplates[]/metadata") == ["spec", "volumeClaimTemplates[]", "metadata"])
        // Empty segments are dropped; a backslash not before a slash is kept, also at the end.
        #expect(FieldSpec.splitPath("/a//b/") == ["a", "b"])
        #expect(FieldSpec.splitPath("a\\b/c\\") == ["a\\b", "c\\"])
        #expect(FieldSpec.splitPath("a\\\\/b") == ["a\\/b"])
        #expect(FieldSpec.splitPath("") == [])
        // pathString is the inverse for keys holding slashes.
        #expect(FieldSpec(path: "metadata/annotations/a\\/b").pathString == "metadata/annotations/a\\/b")
    }
}

/// The built-in tables are built in code; these pin them to Kustomize's YAML tables
/// (api/konfig/builtinpluginconsts: commonlabels.go, commonannotations.go), in Kustomize's order.
@Suite struct BuiltinTableTests {
    static func rows(_ specs: [FieldSpec]) -> [String] {
        specs.map { "\($0.pathString) \($0.gvk.group)/\($0.gvk.version)/\($0.gvk.kind) \($0.create)" }
    }

    @Test func templateLabelsAndCommonAnnotationsAreKustomizesTables() {
        #expect(Self.rows(BuiltinConfig.templateLabels) == [
            "metadata/labels // true",
            "spec/template/metadata/labels /v1/ReplicationController true",
            "spec/template/metadata/labels //Deployment true",
            "spec/template/metadata/labels //ReplicaSet true",
            "spec/template/metadata/labels //DaemonSet true",
            "spec/template/metadata/labels apps//StatefulSet true",
            "spec/volumeClaimTemplates[]/metadata/labels apps//StatefulSet true",
            "spec/template/metadata/labels batch//Job true",
            "spec/jobTemplate/metadata/labels batch//CronJob true",
            "spec/jobTemplate/spec/template/metadata/labels batch//CronJob true",
        ])
        #expect(Self.rows(BuiltinConfig.commonAnnotations) == [
            "metadata/annotations // true",
            "spec/template/metadata/annotations /v1/ReplicationController true",
            "spec/template/metadata/annotations //Deployment true",
            "spec/template/metadata/annotations //ReplicaSet true",
            "spec/template/metadata/annotations //DaemonSet true",
            "spec/template/metadata/annotations apps//StatefulSet true",
            "spec/template/metadata/annotations batch//Job true",
            "spec/jobTemplate/metadata/annotations batch//CronJob true",
            "spec/jobTemplate/spec/template/metadata/annotations batch//CronJob true",
        ])
        // commonLabels: the selectors first (created only where Kustomize creates them), then
        // the affinity selectors, then every template-label place not already listed.
        let common = Self.rows(BuiltinConfig.commonLabels)
        #expect(common.first == "spec/selector /v1/Service true")
        #expect(common.contains("spec/selector/matchLabels batch//Job false"))
        #expect(common.filter { $0.hasPrefix("spec/volumeClaimTemplates[]") }.count == 1)
        #expect(common.suffix(9) == Array(Self.rows(BuiltinConfig.templateLabels).filter { !$0.hasPrefix("spec/volumeClaimTemplates[]") }))
    }
}
