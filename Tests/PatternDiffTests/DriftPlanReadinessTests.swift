import Testing
import PatternCore
@testable import PatternDiff

private func yaml(_ s: String) -> Value { try! YAMLParser.parse(s) }
private func key(_ kind: String, _ ns: String, _ name: String, group: String = "") -> ObjectKey {
    ObjectKey(group: group, kind: kind, namespace: ns, name: name)
}

@Suite struct DriftTests {
    @Test func imageChangeIsAttributedToKubectl() {
        let applied = Fixture.value("deployment-desired.yaml")
        let live = Fixture.value("deployment-live-drifted.json")
        let items = Drift.fields(lastApplied: applied, live: live, manager: "pattern")
        #expect(items.count == 1)
        let i = items[0]
        #expect(i.path.description == ".spec.template.spec.containers[name=main].image")
        #expect(i.applied == "nginx:1.25" && i.live == "nginx:1.26")
        #expect(i.owners == [FieldOwner(manager: "kubectl-client-side-apply", operation: "Update", time: "2026-11-21T19:29:36Z")])
        #expect(i.key.description == "Deployment.apps rec/web")
    }

    @Test func configMapEditIsAttributedToKubectlEdit() {
        let items = Drift.fields(lastApplied: Fixture.value("configmap-desired.yaml"),
                                 live: Fixture.value("configmap-live-kubectl-edit.json"), manager: "pattern")
        #expect(items.map(\.path.description) == [".data.a"])
        #expect(items[0].owners.map(\.manager) == ["kubectl-edit"])
        #expect(items[0].owners[0].operation == "Update")
    }

    @Test func deletedFieldHasNoOwnerAndNoDriftWhenInLine() {
        var live = Fixture.value("configmap-live-forced.json")
        #expect(Drift.fields(lastApplied: Fixture.value("configmap-desired.yaml"), live: live, manager: "pattern").isEmpty)
        live["data"] = ["c": "3"]
        let items = Drift.fields(lastApplied: Fixture.value("configmap-desired.yaml"), live: live, manager: "pattern")
        #expect(items.map { "\($0.kind.rawValue) \($0.path)" } == ["added .data.a"])
        #expect(items[0].owners.isEmpty)
    }

    @Test func missingAndUnmanagedObjects() {
        let a = key("ConfigMap", "x", "a"), b = key("ConfigMap", "x", "b"), c = key("Secret", "x", "c")
        let d = Drift.objects(inventory: [a, b], liveKeys: [a, c], labeled: [a, c])
        #expect(d.missing == [b])
        #expect(d.unmanaged == [c])
    }
}

@Suite struct PlanTests {
    static let objects: [Value] = [
        yaml("apiVersion: apps/v1\nkind: Deployment\nmetadata: {name: web, namespace: app}\n"),
        yaml("apiVersion: v1\nkind: Service\nmetadata: {name: web, namespace: app}\n"),
        yaml("apiVersion: v1\nkind: ConfigMap\nmetadata: {name: cfg, namespace: app}\n"),
        yaml("apiVersion: v1\nkind: Secret\nmetadata: {name: creds, namespace: app}\n"),
        yaml("apiVersion: example.com/v1\nkind: Widget\nmetadata: {name: w1, namespace: app}\n"),
        yaml("apiVersion: v1\nkind: Namespace\nmetadata: {name: app}\n"),
        yaml("""
            apiVersion: apiextensions.k8s.io/v1
            kind: CustomResourceDefinition
            metadata: {name: widgets.example.com}
            spec: {group: example.com, names: {kind: Widget, plural: widgets}}
            """),
        yaml("apiVersion: rbac.authorization.k8s.io/v1\nkind: ClusterRole\nmetadata: {name: reader}\n"),
        yaml("apiVersion: admissionregistration.k8s.io/v1\nkind: ValidatingWebhookConfiguration\nmetadata: {name: hook}\n"),
    ]

    @Test func kindTiersShareLevelsAndImplicitEdgesAreRecorded() throws {
        let plan = try Planner.plan(Self.objects)
        #expect(plan.levels.map { $0.map(\.description) } == [
            ["CustomResourceDefinition.apiextensions.k8s.io widgets.example.com", "Namespace app"],
            ["ClusterRole.rbac.authorization.k8s.io reader"],
            ["Secret app/creds", "ConfigMap app/cfg"],
            ["Service app/web", "Deployment.apps app/web", "Widget.example.com app/w1"],
            ["ValidatingWebhookConfiguration.admissionregistration.k8s.io hook"],
        ])
        let crdEdge = plan.edges.first { $0.to == key("Widget", "app", "w1", group: "example.com") && $0.reason == .crd }
        #expect(crdEdge?.from.name == "widgets.example.com")
        #expect(plan.edges.filter { $0.reason == .namespace }.count == 5)
        #expect(plan.reversedLevels.first?.first?.kind == "ValidatingWebhookConfiguration")
    }

    @Test func dependsOnOverridesKindOrderWithoutCycles() throws {
        var objs = Self.objects
        objs[2][path: ["metadata", "annotations"]] = [Planner.dependsOnAnnotation: "apps/namespaces/app/Deployment/web"]
        let plan = try Planner.plan(objs)
        let lv = plan.levelOf
        let cfg = key("ConfigMap", "app", "cfg"), web = key("Deployment", "app", "web", group: "apps")
        #expect(lv[cfg]! == lv[web]! + 1)
        #expect(lv[key("Secret", "app", "creds")]! < lv[web]!)  // kind order still holds for the rest
        #expect(plan.edges.contains(PlanEdge(from: web, to: cfg, reason: .annotation)))
    }

    @Test func dependsOnParsing() throws {
        #expect(try Planner.parseDependsOn("apps/namespaces/app/Deployment/web, /ClusterRole/x,/namespaces/a/ConfigMap/c") == [
            key("Deployment", "app", "web", group: "apps"), key("ClusterRole", "", "x"), key("ConfigMap", "a", "c"),
        ])
        #expect(Planner.dependsOnReference(key("ConfigMap", "a", "c")) == "/namespaces/a/ConfigMap/c")
        #expect(throws: Diagnostic.self) { try Planner.parseDependsOn("apps/Deployment") }
        #expect(throws: Diagnostic.self) { try Planner.parseDependsOn("apps/ns/app/Deployment/web") }
    }

    @Test func cycleIsAnErrorNamingTheCycle() {
        var objs = Self.objects
        objs[0][path: ["metadata", "annotations"]] = [Planner.dependsOnAnnotation: "/namespaces/app/Service/web"]
        objs[1][path: ["metadata", "annotations"]] = [Planner.dependsOnAnnotation: "apps/namespaces/app/Deployment/web"]
        do {
            _ = try Planner.plan(objs)
            Issue.record("expected a cycle error")
        } catch {
            let m = error.items.map(\.message).joined()
            #expect(m.hasPrefix("dependency cycle: "))
            #expect(m.contains("Deployment.apps app/web depends on Service app/web (depends-on)"))
            #expect(m.contains("Service app/web depends on Deployment.apps app/web (depends-on)"))
        }
    }

    @Test func missingDependencyIsAnErrorUnlessItExistsInTheCluster() throws {
        var objs = Self.objects
        objs[0][path: ["metadata", "annotations"]] = [Planner.dependsOnAnnotation: "/namespaces/db/Secret/pw"]
        #expect(throws: Diagnostics.self) { try Planner.plan(objs) }
        let plan = try Planner.plan(objs, options: .init(existsInCluster: { $0.name == "pw" }))
        #expect(plan.warnings.count == 1)
        #expect(plan.warnings[0].severity == .warning)
        #expect(plan.warnings[0].message.contains("Secret db/pw"))
    }

    @Test func componentDependenciesOrderWholeComponents() throws {
        func obj(_ kind: String, _ name: String, _ comp: String) -> Value {
            yaml("apiVersion: v1\nkind: \(kind)\nmetadata: {name: \(name), namespace: n, annotations: {pattern.dev/component: \(comp)}}\n")
        }
        let objs = [obj("ConfigMap", "app-cfg", "app"), obj("Service", "db", "db"), obj("ConfigMap", "db-cfg", "db")]
        let plan = try Planner.plan(objs, options: .init(componentDependencies: ["app": ["db"]]))
        #expect(plan.levels.map { $0.map(\.name) } == [["db-cfg"], ["db"], ["app-cfg"]])
        #expect(plan.edges.contains { $0.reason == .component("app", dependsOn: "db") && $0.to.name == "app-cfg" && $0.from.name == "db" })
        // Without the dependency, both ConfigMaps share the first level.
        #expect(try Planner.plan(objs).levels.map { $0.map(\.name) } == [["app-cfg", "db-cfg"], ["db"]])
    }

    /// The planner takes typed nodes: the component is a field of the node (the engine used
    /// to write it into a copy of every object as an annotation), a CRD node names the kind
    /// it defines, and a Helm hook is parsed once into phases and weight.
    @Test func typedNodesCarryComponentCRDAndHook() throws {
        func obj(_ kind: String, _ name: String, annotations: String = "{}") -> Value {
            yaml("apiVersion: v1\nkind: \(kind)\nmetadata: {name: \(name), namespace: n, annotations: \(annotations)}\n")
        }
        let appCfg = try #require(PlanNode(obj("ConfigMap", "app-cfg"), component: "app"))
        let db = try #require(PlanNode(obj("Service", "db"), component: "db"))
        let job = try #require(PlanNode(obj("Job", "migrate", annotations: "{helm.sh/hook: 'pre-install, pre-upgrade', helm.sh/hook-weight: '-5'}"),
                                        component: "db"))
        #expect(appCfg.component == "app" && appCfg.hook == nil)
        #expect(job.hook == PlanNode.Hook(phases: ["pre-install", "pre-upgrade"], weight: -5))
        let plan = try Planner.plan(nodes: [appCfg, db, job], options: .init(componentDependencies: ["app": ["db"]]))
        #expect(plan.edges.contains { $0.reason == .component("app", dependsOn: "db") && $0.from.name == "db" && $0.to.name == "app-cfg" })
        #expect(plan.levels.last?.map(\.name) == ["app-cfg"])

        let crd = try #require(PlanNode(yaml("""
            apiVersion: apiextensions.k8s.io/v1
            kind: CustomResourceDefinition
            metadata: {name: widgets.example.com}
            spec: {group: example.com, names: {kind: Widget, plural: widgets}}
            """), component: nil))
        #expect(crd.definesKind == GroupKind(group: "example.com", kind: "Widget"))
        #expect(PlanNode(yaml("kind: ConfigMap\n"), component: nil) == nil)
    }

    @Test func pruneOrderDeletesDependentsFirst() {
        let levels = Planner.pruneLevels(Self.objects)
        let pos = { (k: ObjectKey) in levels.firstIndex { $0.contains(k) }! }
        #expect(pos(key("Widget", "app", "w1", group: "example.com")) < pos(key("CustomResourceDefinition", "", "widgets.example.com", group: "apiextensions.k8s.io")))
        #expect(pos(key("ConfigMap", "app", "cfg")) < pos(key("Namespace", "", "app")))
    }

    @Test func dotHasOneClusterPerLevelAndLabelledEdges() throws {
        let dot = Planner.dot(try Planner.plan(Self.objects))
        #expect(dot.hasPrefix("digraph pattern {\n"))
        #expect(dot.contains("subgraph cluster_0 {\n    label=\"level 0: definitions\";"))
        #expect(dot.contains("subgraph cluster_4 {\n    label=\"level 4: webhooks\";"))
        #expect(dot.contains("\"Namespace app\" -> \"ConfigMap app/cfg\" [label=\"namespace\"];"))
        #expect(dot.contains("\"CustomResourceDefinition.apiextensions.k8s.io widgets.example.com\" -> \"Widget.example.com app/w1\" [label=\"crd\"];"))
        #expect(dot.hasSuffix("}\n"))
    }
}

@Suite struct ReadinessTests {
    @Test func recordedDeploymentIsInProgress() {
        let r = ReadinessRules.status(of: Fixture.value("deployment-live-applied.json"))
        #expect(r == Readiness(.inProgress, "Deployment rec/web: 0/2 available"))
        // The drifted one has generation 4 but observedGeneration 1.
        let d = ReadinessRules.status(of: Fixture.value("deployment-live-drifted.json"))
        #expect(d == Readiness(.inProgress, "Deployment rec/web: generation 4 not observed yet (observed 1)"))
    }

    @Test func deploymentRules() {
        var dep = Fixture.value("deployment-live-applied.json")
        dep["status"] = ["observedGeneration": 1, "replicas": 2, "updatedReplicas": 2, "readyReplicas": 2, "availableReplicas": 2]
        #expect(ReadinessRules.status(of: dep) == Readiness(.current, "Deployment rec/web: 2/2 available"))
        dep[path: ["status", "availableReplicas"]] = 1
        #expect(ReadinessRules.status(of: dep).message == "Deployment rec/web: 1/2 available")
        dep[path: ["status", "replicas"]] = 3
        #expect(ReadinessRules.status(of: dep).message == "Deployment rec/web: 1 old replicas pending termination")
        dep[path: ["status", "conditions"]] = [["type": "Progressing", "status": "False", "reason": "ProgressDeadlineExceeded",
                                                "message": "ReplicaSet \"web-1\" has timed out progressing."]]
        #expect(ReadinessRules.status(of: dep).status == .failed)
        dep["status"] = nil
        #expect(ReadinessRules.status(of: dep).status == .inProgress)
    }

    @Test func crdNamespaceAndRecordedObjects() {
        #expect(ReadinessRules.status(of: Fixture.value("crd-live-established.json")).status == .current)
        var crd = Fixture.value("crd-live-new.json")
        crd["status"] = ["conditions": [["type": "NamesAccepted", "status": "True"], ["type": "Established", "status": "False"]]]
        #expect(ReadinessRules.status(of: crd) == Readiness(.inProgress, "CustomResourceDefinition widgets.example.com: not established yet"))
        crd["status"] = ["conditions": [["type": "NamesAccepted", "status": "False", "message": "kind conflicts"]]]
        #expect(ReadinessRules.status(of: crd).status == .failed)
        #expect(ReadinessRules.status(of: Fixture.value("namespace-terminating.json")).status == .inProgress)
        #expect(ReadinessRules.status(of: yaml("apiVersion: v1\nkind: Namespace\nmetadata: {name: a}\nstatus: {phase: Active}\n")).status == .current)
    }

    @Test func jobsPvcsStatefulSetsDaemonSetsAndCustomResources() {
        func st(_ s: String) -> Readiness.Status { ReadinessRules.status(of: yaml(s)).status }
        #expect(st("apiVersion: batch/v1\nkind: Job\nmetadata: {name: j}\nstatus: {conditions: [{type: Complete, status: 'True'}]}\n") == .current)
        #expect(st("apiVersion: batch/v1\nkind: Job\nmetadata: {name: j}\nstatus: {conditions: [{type: Failed, status: 'True'}]}\n") == .failed)
        #expect(st("apiVersion: batch/v1\nkind: Job\nmetadata: {name: j}\nstatus: {active: 1}\n") == .inProgress)
        #expect(st("apiVersion: v1\nkind: PersistentVolumeClaim\nmetadata: {name: p}\nstatus: {phase: Bound}\n") == .current)
        #expect(st("apiVersion: v1\nkind: PersistentVolumeClaim\nmetadata: {name: p}\nstatus: {phase: Pending}\n") == .inProgress)
        #expect(st("apiVersion: apps/v1\nkind: StatefulSet\nmetadata: {name: s, generation: 2}\nspec: {replicas: 3}\nstatus: {observedGeneration: 2, readyReplicas: 3, updatedReplicas: 3, currentRevision: a, updateRevision: a}\n") == .current)
        #expect(st("apiVersion: apps/v1\nkind: StatefulSet\nmetadata: {name: s, generation: 2}\nspec: {replicas: 3}\nstatus: {observedGeneration: 2, readyReplicas: 3, updatedReplicas: 1, currentRevision: a, updateRevision: b}\n") == .inProgress)
        #expect(st("apiVersion: apps/v1\nkind: DaemonSet\nmetadata: {name: d, generation: 1}\nstatus: {observedGeneration: 1, desiredNumberScheduled: 2, updatedNumberScheduled: 2, numberAvailable: 1}\n") == .inProgress)
        #expect(st("apiVersion: apps/v1\nkind: DaemonSet\nmetadata: {name: d, generation: 1}\nstatus: {observedGeneration: 1, desiredNumberScheduled: 2, updatedNumberScheduled: 2, numberAvailable: 2}\n") == .current)
        #expect(st("apiVersion: x.io/v1\nkind: Thing\nmetadata: {name: t, generation: 3}\nstatus: {observedGeneration: 3, conditions: [{type: Ready, status: 'False', message: waiting}]}\n") == .inProgress)
        #expect(st("apiVersion: x.io/v1\nkind: Thing\nmetadata: {name: t, generation: 3}\nstatus: {observedGeneration: 3, conditions: [{type: Ready, status: 'True'}]}\n") == .current)
        #expect(st("apiVersion: x.io/v1\nkind: Thing\nmetadata: {name: t, generation: 3}\nstatus: {observedGeneration: 2, conditions: [{type: Ready, status: 'True'}]}\n") == .inProgress)
        #expect(st("apiVersion: x.io/v1\nkind: Thing\nmetadata: {name: t}\nstatus: {conditions: [{type: Stalled, status: 'True'}]}\n") == .failed)
        #expect(st("apiVersion: x.io/v1\nkind: Thing\nmetadata: {name: t}\n") == .current)
        #expect(st("apiVersion: v1\nkind: ConfigMap\nmetadata: {name: c}\n") == .current)
        #expect(st("apiVersion: v1\nkind: Service\nmetadata: {name: s}\nspec: {type: LoadBalancer}\n") == .current)
        #expect(st("just: text\n") == .unknown)
    }
}

@Suite struct ConflictTests {
    @Test func applyOverAnotherManagersFieldIsAConflict() {
        // The recording: re-applying data.a=1 after kubectl-edit set 99 answered 409
        // "conflict with \"kubectl-edit\" using v1: .data.a".
        let c = Drift.conflicts(desired: Fixture.value("configmap-desired.yaml"),
                                live: Fixture.value("configmap-live-kubectl-edit.json"), manager: "pattern")
        #expect(c.map(\.path.description) == [".data.a"])
        #expect(c.first?.owners.map(\.manager) == ["kubectl-edit"])
        // After the forced apply we own it again: no conflict.
        #expect(Drift.conflicts(desired: Fixture.value("configmap-desired.yaml"),
                                live: Fixture.value("configmap-live-forced.json"), manager: "pattern").isEmpty)
    }
}
