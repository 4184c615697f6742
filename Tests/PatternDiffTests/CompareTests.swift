import Testing
import PatternCore
@testable import PatternDiff

private func yaml(_ s: String) -> Value { try! YAMLParser.parse(s) }
private func paths(_ cs: [FieldChange]) -> [String] { cs.map { "\($0.kind.rawValue) \($0.path)" } }

@Suite struct OwnedFieldCompareTests {
    @Test func serverDefaultsAndStatusAreNotChanges() {
        // First apply body vs the object the server returned for it: defaults (strategy,
        // terminationMessagePath, protocol: TCP, …), status, uid, managedFields.
        let desired = Fixture.value("deployment-desired-v1.yaml")
        let live = Fixture.value("deployment-live-applied.json")
        #expect(OwnedFields.compare(desired: desired, live: live, manager: "pattern").isEmpty)
        #expect(ObjectDiffer.diff(desired: desired, live: live, manager: "pattern").action == .unchanged)
    }

    @Test func addedEnvAndDroppedReplicasAreChanges() {
        // Second apply body (env EXTRA added, replicas dropped) vs the first live object:
        // EXTRA is added; replicas was ours alone, so apply would remove it.
        let desired = Fixture.value("deployment-desired.yaml")
        let live = Fixture.value("deployment-live-applied.json")
        let changes = OwnedFields.compare(desired: desired, live: live, manager: "pattern")
        #expect(paths(changes) == ["removed .spec.replicas",
                                   "added .spec.template.spec.containers[name=main].env[name=EXTRA]"])
        #expect(changes.first { $0.kind == .removed }?.live == 2)
        #expect(changes.first { $0.kind == .added }?.desired == ["name": "EXTRA", "value": "x"])
    }

    @Test func fieldTakenOverByAnotherManagerIsNotARemoval() {
        // In the drifted object `hpa-like` owns replicas: dropping it from desired keeps it.
        // The image was changed by kubectl-client-side-apply: that is the only difference.
        let desired = Fixture.value("deployment-desired.yaml")
        let live = Fixture.value("deployment-live-drifted.json")
        let changes = OwnedFields.compare(desired: desired, live: live, manager: "pattern")
        #expect(paths(changes) == ["changed .spec.template.spec.containers[name=main].image"])
        #expect(changes[0].desired == "nginx:1.25")
        #expect(changes[0].live == "nginx:1.26")
    }

    @Test func quantitiesCompareByValue() {
        // The recording: applying cpu '0.1' where 100m is stored was no change on the server.
        var desired = Fixture.value("deployment-desired-v1.yaml")
        let live = Fixture.value("deployment-live-applied.json")
        let cpu = ["spec", "template", "spec", "containers"]
        var containers = desired[path: cpu]!.array!
        containers[0][path: ["resources", "requests", "cpu"]] = "0.1"
        containers[0][path: ["resources", "requests", "memory"]] = "0.125Gi"
        desired[path: cpu] = .array(containers)
        #expect(OwnedFields.compare(desired: desired, live: live, manager: "pattern").isEmpty)
        containers[0][path: ["resources", "requests", "cpu"]] = "0.2"
        desired[path: cpu] = .array(containers)
        #expect(paths(OwnedFields.compare(desired: desired, live: live, manager: "pattern"))
                == ["changed .spec.template.spec.containers[name=main].resources.requests.cpu"])
    }

    @Test func quantityRuleDoesNotLeakToOtherFields() {
        let desired = yaml("apiVersion: v1\nkind: ConfigMap\nmetadata: {name: c}\ndata: {size: '1000m'}\n")
        let live = yaml("apiVersion: v1\nkind: ConfigMap\nmetadata: {name: c}\ndata: {size: '1'}\n")
        #expect(paths(OwnedFields.compare(desired: desired, live: live, manager: "pattern")) == ["changed .data.size"])
    }

    @Test func otherManagersFieldsAreIgnoredOursAreCompared() {
        // kubectl-edit set a=99 and added c=3: a differs (we set it), c is not ours.
        let desired = Fixture.value("configmap-desired.yaml")
        let live = Fixture.value("configmap-live-kubectl-edit.json")
        let changes = OwnedFields.compare(desired: desired, live: live, manager: "pattern")
        #expect(paths(changes) == ["changed .data.a"])
        // After the forced apply the object is back in line, c stays and is not a change.
        #expect(OwnedFields.compare(desired: desired, live: Fixture.value("configmap-live-forced.json"), manager: "pattern").isEmpty)
    }

    @Test func droppedKeyOwnedOnlyByUsIsRemoved() {
        let live = yaml("""
            apiVersion: v1
            kind: ConfigMap
            metadata:
              name: c
              managedFields:
              - manager: pattern
                operation: Apply
                fieldsType: FieldsV1
                fieldsV1: {"f:data": {"f:a": {}, "f:b": {}}, "f:metadata": {"f:labels": {"f:x": {}, "f:y": {}}}}
              - manager: other
                operation: Update
                fieldsType: FieldsV1
                fieldsV1: {"f:metadata": {"f:labels": {"f:y": {}}}}
              labels: {x: '1', y: '2'}
            data: {a: '1', b: '2'}
            """)
        let desired = yaml("apiVersion: v1\nkind: ConfigMap\nmetadata: {name: c, labels: {x: '1'}}\ndata: {a: '1'}\n")
        let changes = OwnedFields.compare(desired: desired, live: live, manager: "pattern")
        #expect(paths(changes) == ["removed .data.b"])  // y is co-owned by `other`: it stays
        #expect(changes[0].live == "2")
        // Another manager name sees nothing of ours to remove.
        #expect(OwnedFields.compare(desired: desired, live: live, manager: "someone").isEmpty)
    }

    @Test func removedListItemIsReportedOnceNotPerField() {
        let desired = Fixture.value("deployment-desired-v1.yaml")  // no EXTRA env, replicas 2
        var live = Fixture.value("deployment-live-drifted.json")  // we own env EXTRA
        live[path: ["spec", "replicas"]] = 2
        let changes = OwnedFields.compare(desired: desired, live: live, manager: "pattern")
        #expect(paths(changes) == [
            "removed .spec.template.spec.containers[name=main].env[name=EXTRA]",
            "changed .spec.template.spec.containers[name=main].image",
        ])
    }

    @Test func emptyValuesEqualAbsentAndNumbersCompareNumerically() {
        let desired = yaml("""
            apiVersion: apps/v1
            kind: Deployment
            metadata: {name: w, annotations: {}, labels: {}}
            spec:
              replicas: 2.0
              template:
                metadata: {creationTimestamp: null}
                spec:
                  containers: [{name: a, image: x, args: []}]
            status: {}
            """)
        let live = yaml("""
            apiVersion: apps/v1
            kind: Deployment
            metadata: {name: w, uid: u1, resourceVersion: '9'}
            spec:
              replicas: 2
              template:
                spec:
                  containers: [{name: a, image: x, imagePullPolicy: Always}]
            status: {replicas: 2}
            """)
        #expect(OwnedFields.compare(desired: desired, live: live, manager: "pattern").isEmpty)
    }

    @Test func intOrStringIsStrict() {
        let desired = yaml("apiVersion: v1\nkind: Service\nmetadata: {name: s}\nspec:\n  ports: [{port: 80, targetPort: '8080'}]\n")
        let live = yaml("apiVersion: v1\nkind: Service\nmetadata: {name: s}\nspec:\n  ports: [{port: 80, protocol: TCP, targetPort: 8080}]\n")
        #expect(paths(OwnedFields.compare(desired: desired, live: live, manager: "pattern"))
                == ["changed .spec.ports[port=80,protocol=TCP].targetPort"])
    }

    @Test func keyedListsMatchByKeyNotPosition() {
        let desired = yaml("""
            apiVersion: v1
            kind: Pod
            metadata: {name: p}
            spec:
              containers:
              - name: a
                image: x
                env: [{name: B, value: '2'}, {name: A, value: '1'}]
                volumeMounts: [{name: v, mountPath: /data}]
            """)
        let live = yaml("""
            apiVersion: v1
            kind: Pod
            metadata: {name: p}
            spec:
              containers:
              - name: sidecar
                image: y
              - name: a
                image: x
                env: [{name: A, value: '1'}, {name: B, value: '2'}, {name: C, value: '3'}]
                volumeMounts: [{name: v, mountPath: /data, readOnly: false}]
            """)
        #expect(OwnedFields.compare(desired: desired, live: live, manager: "pattern").isEmpty)
    }

    @Test func atomicListsCompareWholeAndSelectorsStrictly() {
        let base = """
            apiVersion: apps/v1
            kind: Deployment
            metadata: {name: w}
            spec:
              selector: {matchLabels: {app: w}}
              template:
                spec:
                  tolerations: [{key: k, operator: Exists}]
                  containers: [{name: a, image: x, args: [--a, --b]}]
            """
        let desired = yaml(base)
        var live = yaml(base)
        #expect(OwnedFields.compare(desired: desired, live: live, manager: "pattern").isEmpty)
        live[path: ["spec", "selector", "matchLabels", "tier"]] = "x"
        live[path: ["spec", "template", "spec", "tolerations"]] = [["key": "k", "operator": "Exists"], ["key": "z"]]
        let c = paths(OwnedFields.compare(desired: desired, live: live, manager: "pattern"))
        #expect(c == ["changed .spec.selector", "changed .spec.template.spec.tolerations"])
    }

    @Test func setListsMatchByValue() {
        let desired = yaml("apiVersion: v1\nkind: ConfigMap\nmetadata: {name: c, finalizers: [a.io/x]}\n")
        let ok = yaml("apiVersion: v1\nkind: ConfigMap\nmetadata: {name: c, finalizers: [b.io/y, a.io/x]}\n")
        let missing = yaml("apiVersion: v1\nkind: ConfigMap\nmetadata: {name: c, finalizers: [b.io/y]}\n")
        #expect(OwnedFields.compare(desired: desired, live: ok, manager: "p").isEmpty)
        #expect(paths(OwnedFields.compare(desired: desired, live: missing, manager: "p")) == ["added .metadata.finalizers[=a.io/x]"])
    }

    @Test func secretStringDataComparesWithBase64DataAndNeverLeaks() {
        let desired = yaml("apiVersion: v1\nkind: Secret\nmetadata: {name: s}\nstringData: {password: hunter2}\ntype: Opaque\n")
        let same = yaml("apiVersion: v1\nkind: Secret\nmetadata: {name: s}\ndata: {password: aHVudGVyMg==}\ntype: Opaque\n")
        #expect(OwnedFields.compare(desired: desired, live: same, manager: "pattern").isEmpty)
        let other = yaml("apiVersion: v1\nkind: Secret\nmetadata: {name: s}\ndata: {password: c2VjcmV0}\ntype: Opaque\n")
        let d = ObjectDiffer.diff(desired: desired, live: other, manager: "pattern")
        #expect(d.action == .update)
        #expect(paths(d.changes) == ["changed .data.password"])
        let fpDesired = "sha256:" + String(SHA256.hex("hunter2").prefix(12))
        let fpLive = "sha256:" + String(SHA256.hex("secret").prefix(12))
        #expect(d.changes[0].desired == .string(fpDesired))
        #expect(d.changes[0].live == .string(fpLive))
        #expect(d.text.contains("+  password: \(fpDesired)"))
        #expect(d.text.contains("-  password: \(fpLive)"))
        for leak in ["hunter2", "aHVudGVyMg", "secret\n", "c2VjcmV0"] { #expect(!d.text.contains(leak)) }
        let create = ObjectDiffer.diff(desired: desired, live: nil, manager: "pattern")
        #expect(!create.text.contains("hunter2") && create.text.contains(fpDesired))
        let prune = ObjectDiffer.diff(desired: nil, live: other, manager: "pattern")
        #expect(!prune.text.contains("c2VjcmV0") && prune.text.contains(fpLive))
    }

    @Test func base64RoundTrips() {
        for s in ["", "a", "ab", "abc", "abcd", "hunter2", "ünïcödé"] {
            let e = Base64.encode(Array(s.utf8))
            #expect(Base64.decode(e) == Array(s.utf8))
        }
        #expect(Base64.encode(Array("hunter2".utf8)) == "aHVudGVyMg==")
        #expect(Base64.decode("a$b") == nil)
    }
}
