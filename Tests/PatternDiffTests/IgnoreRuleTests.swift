import Testing
import PatternCore
@testable import PatternDiff

private func yaml(_ s: String) -> Value { try! YAMLParser.parse(s) }

@Suite struct IgnoreRuleTests {
    @Test func pathPatternsParseAndMatch() throws {
        let image = FieldPath([.field("spec"), .field("template"), .field("spec"), .field("containers"),
                               .key([.init("name", "main")]), .field("image")])
        #expect(try PathPattern(".spec.template.spec.containers[name=main].image").covers(image))
        #expect(try PathPattern(".spec.template.spec.containers[*].image").covers(image))
        #expect(try PathPattern(".spec.template").covers(image))  // prefix covers everything below
        #expect(try !PathPattern(".spec.template.spec.containers[name=side].image").covers(image))
        #expect(try !PathPattern(".spec.template.spec.containers[*].image.x").covers(image))
        let port = FieldPath([.field("ports"), .key([.init("containerPort", 8080), .init("protocol", "TCP")])])
        #expect(try PathPattern(".ports[protocol=TCP,containerPort=8080]").covers(port))
        let ann = FieldPath([.field("metadata"), .field("annotations"), .field("example.com/x")])
        #expect(try PathPattern(#".metadata.annotations["example.com/x"]"#).covers(ann))
        #expect(try PathPattern(".metadata.finalizers[=a.io/x]").covers(FieldPath([.field("metadata"), .field("finalizers"), .value("a.io/x")])))
        #expect(try PathPattern(".spec.args[1]").covers(FieldPath([.field("spec"), .field("args"), .index(1)])))
        // The printed path of a change parses back to a pattern that covers it.
        #expect(try PathPattern(image.description).covers(image))
        #expect(try PathPattern(ann.description).covers(ann))
        for bad in ["", "spec", ".spec.", ".a[", ".a[x]", ".a[\"b]"] {
            #expect(throws: Diagnostic.self, "\(bad)") { try PathPattern(bad) }
        }
    }

    @Test func ignoredPathsAreNotChangesButStillShowNothing() throws {
        let desired = Fixture.value("deployment-desired.yaml")
        let live = Fixture.value("deployment-live-drifted.json")
        let rule = IgnoreRule(group: "apps", kind: "Deployment", paths: [try PathPattern(".spec.template.spec.containers[*].image")])
        let opts = DiffOptions(ignore: [rule])
        #expect(OwnedFields.compare(desired: desired, live: live, manager: "pattern", options: opts).isEmpty)
        #expect(ObjectDiffer.diff(desired: desired, live: live, manager: "pattern", options: opts).action == .unchanged)
        // A rule for another kind does nothing.
        let other = DiffOptions(ignore: [IgnoreRule(kind: "StatefulSet", paths: rule.paths)])
        #expect(OwnedFields.compare(desired: desired, live: live, manager: "pattern", options: other).count == 1)
        #expect(Drift.fields(lastApplied: desired, live: live, manager: "pattern", options: opts).isEmpty)
    }

    @Test func ignoredChangeIsHiddenInTheTextOfAnUpdate() throws {
        var desired = Fixture.value("deployment-desired.yaml")
        desired[path: ["metadata", "labels", "tier"]] = "web"  // a real change besides the image
        let live = Fixture.value("deployment-live-drifted.json")
        let opts = DiffOptions(ignore: [IgnoreRule(paths: [try PathPattern(".spec.template.spec.containers[name=main].image")])])
        let d = ObjectDiffer.diff(desired: desired, live: live, manager: "pattern", options: opts)
        #expect(d.action == .update)
        #expect(d.changes.map(\.path.description) == [".metadata.labels.tier"])
        #expect(d.text.contains("+    tier: web\n"))
        #expect(!d.text.contains("nginx:1.26"))
    }

    @Test func fieldsOwnedByIgnoredManagersAreNotChanges() {
        // Desired sets replicas 2; hpa-like owns replicas (5) in the drifted object.
        var desired = Fixture.value("deployment-desired.yaml")
        desired[path: ["spec", "replicas"]] = 2
        let live = Fixture.value("deployment-live-drifted.json")
        let all = OwnedFields.compare(desired: desired, live: live, manager: "pattern")
        #expect(all.map(\.path.description) == [".spec.replicas", ".spec.template.spec.containers[name=main].image"])
        let opts = DiffOptions(ignoreManagers: ["hpa-like"])
        #expect(OwnedFields.compare(desired: desired, live: live, manager: "pattern", options: opts).map(\.path.description)
                == [".spec.template.spec.containers[name=main].image"])
        // Conflicts ignore rules: the API would still answer 409 on replicas.
        #expect(Drift.conflicts(desired: desired, live: live, manager: "pattern").map(\.path.description).contains(".spec.replicas"))
    }

    @Test func aggregatedClusterRoleRulesAreNormalized() {
        let desired = yaml("""
            apiVersion: rbac.authorization.k8s.io/v1
            kind: ClusterRole
            metadata: {name: agg}
            aggregationRule: {clusterRoleSelectors: [{matchLabels: {agg: 'true'}}]}
            rules: [{apiGroups: [''], resources: [pods], verbs: [get]}]
            """)
        var live = desired
        live["rules"] = [["apiGroups": [""], "resources": ["pods", "services"], "verbs": ["get", "list"]]]
        #expect(OwnedFields.compare(desired: desired, live: live, manager: "pattern").isEmpty)
        #expect(OwnedFields.compare(desired: desired, live: live, manager: "pattern",
                                    options: DiffOptions(builtinNormalizers: false)).map(\.path.description) == [".rules"])
    }
}
