import Testing
import TestSupport
import PatternCore
import PatternCLI

/// `pattern rbac` and the shipped controller role it generates.
@Suite struct RBACCLITests {
    static func rules(_ docs: [Value], kind: String, name: String) -> [Value] {
        docs.first { $0.kindName == kind && $0.metadataName == name }?["rules"]?.array ?? []
    }

    static func verbs(_ r: Value) -> [String] { r["verbs"]?.array?.compactMap(\.string) ?? [] }

    @Test func rbacGrantsWritesPerNamespaceAndClusterWritesOnlyByName() async throws {
        let r = await CLI.runInProcess(["rbac", "dev", "hub"])
        #expect(r.status == 0, "\(r.stderr)")
        let docs = try YAMLParser.parseStream(r.stdout).map(\.value)
        // Reads cluster-wide (observe and wait list by label in every namespace), nothing more.
        for rule in RBACCLITests.rules(docs, kind: "ClusterRole", name: "pattern-apply-read") {
            #expect(RBACCLITests.verbs(rule) == ["get", "list", "watch"])
        }
        // A Role in hello-world that creates, patches and deletes its Deployments.
        let hello = docs.first { $0.kindName == "Role" && $0.metadataNamespace == "hello-world" }?["rules"]?.array ?? []
        #expect(hello.contains { $0["resources"]?.array?.contains("deployments") == true && RBACCLITests.verbs($0) == ["create", "patch", "delete"] })
        // Cluster-scoped writes: patch/delete name what the render holds; no wildcard delete of
        // Namespaces or CRDs; bind/escalate only with resourceNames.
        let cluster = RBACCLITests.rules(docs, kind: "ClusterRole", name: "pattern-apply-cluster")
        #expect(!cluster.isEmpty)
        for rule in cluster {
            let v = RBACCLITests.verbs(rule)
            if v.contains("delete") || v.contains("patch") || v.contains("bind") || v.contains("escalate") || v.contains("get") {
                #expect(rule["resourceNames"]?.array?.isEmpty == false, "\(rule)")
            }
        }
        #expect(cluster.contains { $0["resources"]?.array?.contains("namespaces") == true && RBACCLITests.verbs($0).contains("delete")
                                   && $0["resourceNames"]?.array?.contains("hello-world") == true })
        // The bindings go to the controller's ServiceAccount by default.
        let binding = try #require(docs.first { $0.kindName == "RoleBinding" })
        #expect(binding[path: ["subjects"]]?.array?.first?["name"]?.string == "pattern-controller")
        // The records namespace: inventory and ledger ConfigMaps.
        let records = docs.first { $0.kindName == "Role" && $0.metadataNamespace == "pattern-system" }?["rules"]?.array ?? []
        #expect(records.contains { $0["resources"]?.array?.contains("configmaps") == true && RBACCLITests.verbs($0).contains("delete") })
    }

    @Test func planNamesCRDResourcesEscalatesOnlyRenderedRolesAndReportsGuesses() {
        let objects: [Value] = [
            ["apiVersion": "apiextensions.k8s.io/v1", "kind": "CustomResourceDefinition", "metadata": ["name": "widgets.example.com"],
             "spec": ["group": "example.com", "scope": "Cluster", "names": ["kind": "Widget", "plural": "widgetz"]]],
            ["apiVersion": "example.com/v1", "kind": "Widget", "metadata": ["name": "w1"]],
            ["apiVersion": "rbac.authorization.k8s.io/v1", "kind": "Role", "metadata": ["name": "reader", "namespace": "team"]],
            ["apiVersion": "rbac.authorization.k8s.io/v1", "kind": "RoleBinding", "metadata": ["name": "reader", "namespace": "team"],
             "roleRef": ["kind": "ClusterRole", "name": "view"]],
            ["apiVersion": "other.io/v1", "kind": "Gadget", "metadata": ["name": "g", "namespace": "team"]],
        ]
        let plan = RBACPlan(objects: objects, recordNamespace: "records")
        // The CRD's plural and scope, not a guess: cluster-scoped, patched/deleted by name.
        #expect(plan.cluster.contains { $0.group == "example.com" && $0.resources == ["widgetz"] && $0.resourceNames == ["w1"] })
        #expect(plan.guessed == [GroupKind(group: "other.io", kind: "Gadget")])
        let team = plan.namespaced["team"] ?? []
        #expect(team.contains { $0.verbs == ["escalate"] && $0.resources == ["roles"] && $0.resourceNames == ["reader"] })
        #expect(team.contains { $0.verbs == ["bind"] && $0.resources == ["clusterroles"] && $0.resourceNames == ["view"] })
        // Nothing anywhere grants bind or escalate without names.
        let all = plan.cluster + plan.namespaced.values.flatMap { $0 }
        #expect(!all.contains { ($0.verbs.contains("bind") || $0.verbs.contains("escalate")) && $0.resourceNames.isEmpty })
        #expect(plan.namespaced["records"]?.contains { $0.resources == ["configmaps"] } == true)

        // --cluster-wide: the namespaced writes in one ClusterRole; the records Role stays.
        let docs = plan.manifests(name: "x", subject: ("ns", "sa"), clusterWide: true)
        #expect(docs.contains { $0.kindName == "ClusterRole" && $0.metadataName == "x-namespaced" })
        #expect(docs.filter { $0.kindName == "Role" }.map(\.metadataNamespace) == ["records"])
    }

    /// The shipped controller's apply role is exactly what `pattern rbac` prints for the bundled
    /// sites: no hand-widened rules, no bind/escalate on every role, no deleting any Namespace.
    @Test func shippedControllerRoleIsGeneratedByPatternRBAC() async throws {
        let r = await CLI.runInProcess(["rbac", "dev", "hub", "edge-eu", "edge-us", "--cluster-wide", "--name", "pattern-controller-apply",
                                        "--service-account", "${namespace}/pattern-controller", "--record-namespace", "${namespace}"])
        #expect(r.status == 0, "\(r.stderr)")
        let shipped = try String(decoding: LocalTree(root: RepositoryPaths.root).read(TreePath("patterns/pattern-controller/components/rbac/apply.yaml")), as: UTF8.self)
        let generated = try YAMLParser.parseStream(r.stdout).map(\.value)
        let file = try YAMLParser.parseStream(shipped).map(\.value)
        #expect(generated == file, "regenerate patterns/pattern-controller/components/rbac/apply.yaml with the command in its header")
        let own = try String(decoding: LocalTree(root: RepositoryPaths.root).read(TreePath("patterns/pattern-controller/components/rbac/rbac.yaml")), as: UTF8.self)
        #expect(!own.contains("escalate") && !own.contains("bind,"))
    }
}
