import Testing
import PatternCore
@testable import KubeTestServer

/// What the real API rejects with 422 (messages as Kubernetes' validation writes them), the
/// per-kind name rules, and the managedFields entry of the scale subresource.
@Suite struct FidelityTests {
    /// The causes of a 422 as `field: message` lines.
    static func causes(_ r: TestHTTPResponse) -> [String] {
        (r.json[path: ["details", "causes"]]?.array ?? []).map { "\($0["field"]?.string ?? ""): \($0["message"]?.string ?? "")" }
    }

    @Test func annotationsOver256KiBInTotalAre422() throws {
        let server = try TestAPIServer.start()
        defer { server.stop() }
        let half = String(repeating: "x", count: 128 * 1024)
        // 262144 bytes of keys and values: accepted.
        let exact = try server.request("POST", "/api/v1/namespaces/default/configmaps", body: [
            "apiVersion": "v1", "kind": "ConfigMap",
            "metadata": ["name": "exact", "annotations": ["a": .string(String(half.dropFirst())), "b": .string(String(half.dropFirst()))]]])
        #expect(exact.status == 201)
        let over = try server.request("POST", "/api/v1/namespaces/default/configmaps", body: [
            "apiVersion": "v1", "kind": "ConfigMap", "metadata": ["name": "big", "annotations": ["a": .string(half), "b": .string(half)]]])
        #expect(over.status == 422)
        #expect(FidelityTests.causes(over) == ["metadata.annotations: Too long: may not be more than 262144 bytes"])
        #expect(over.json["message"]?.string?.hasPrefix("ConfigMap \"big\" is invalid: metadata.annotations: Too long") == true)
        #expect(over.json[path: ["details", "causes"]]?.array?.first?["reason"] == "FieldValueTooLong")
    }

    @Test func configMapAndSecretKeysFollowIsConfigMapKey() throws {
        let server = try TestAPIServer.start()
        defer { server.stop() }
        let bad = try server.request("POST", "/api/v1/namespaces/default/configmaps", body: [
            "apiVersion": "v1", "kind": "ConfigMap", "metadata": ["name": "keys"], "data": ["bad key!": "1", "good_Key-1.x": "2"]])
        #expect(bad.status == 422)
        #expect(FidelityTests.causes(bad) == [
            "data[bad key!]: Invalid value: \"bad key!\": a valid config key must consist of alphanumeric characters, '-', '_' or '.' (e.g. 'key.name',  or 'KEY_NAME',  or 'key-name', regex used for validation is '[-._a-zA-Z0-9]+')",
        ])
        let dots = try server.request("POST", "/api/v1/namespaces/default/secrets", body: [
            "apiVersion": "v1", "kind": "Secret", "metadata": ["name": "s"], "stringData": ["..x": "1"]])
        #expect(dots.status == 422)
        #expect(FidelityTests.causes(dots) == ["data[..x]: Invalid value: \"..x\": must not start with '..'"])
        // Through server-side apply too.
        let applied = try server.apply("/api/v1/namespaces/default/configmaps/keys", """
            apiVersion: v1
            kind: ConfigMap
            metadata: {name: keys}
            data: {"bad key!": "1"}
            """)
        #expect(applied.status == 422)
    }

    @Test func containerNamesAreDNSLabels() throws {
        let server = try TestAPIServer.start()
        defer { server.stop() }
        let r = try server.request("POST", "/apis/apps/v1/namespaces/default/deployments", body: [
            "apiVersion": "apps/v1", "kind": "Deployment", "metadata": ["name": "d"],
            "spec": ["selector": ["matchLabels": ["app": "d"]],
                     "template": ["metadata": ["labels": ["app": "d"]], "spec": ["containers": [["name": "Main", "image": "nginx"]]]]]])
        #expect(r.status == 422)
        #expect(FidelityTests.causes(r) == [
            "spec.template.spec.containers[0].name: Invalid value: \"Main\": \(Defaults.labelMessage)",
        ])
    }

    @Test func crdVersionsNeedASchema() throws {
        let server = try TestAPIServer.start()
        defer { server.stop() }
        let r = try server.request("POST", "/apis/apiextensions.k8s.io/v1/customresourcedefinitions", body: [
            "apiVersion": "apiextensions.k8s.io/v1", "kind": "CustomResourceDefinition", "metadata": ["name": "widgets.example.com"],
            "spec": ["group": "example.com", "scope": "Namespaced",
                     "names": ["plural": "widgets", "singular": "widget", "kind": "Widget", "listKind": "WidgetList"],
                     "versions": [["name": "v1", "served": true, "storage": true]]]])
        #expect(r.status == 422)
        #expect(FidelityTests.causes(r) == ["spec.versions[0].schema.openAPIV3Schema: Required value: schemas are required"])
    }

    @Test func ingressPathsNeedAPathType() throws {
        let server = try TestAPIServer.start()
        defer { server.stop() }
        let r = try server.request("POST", "/apis/networking.k8s.io/v1/namespaces/default/ingresses", body: [
            "apiVersion": "networking.k8s.io/v1", "kind": "Ingress", "metadata": ["name": "web"],
            "spec": ["rules": [["host": "a.example.com", "http": ["paths": [
                ["path": "/", "pathType": "Prefix", "backend": ["service": ["name": "web", "port": ["number": 80]]]],
                ["path": "/api", "backend": ["service": ["name": "api", "port": ["number": 80]]]],
            ]]]]]])
        #expect(r.status == 422)
        #expect(FidelityTests.causes(r) == ["spec.rules[0].http.paths[1].pathType: Required value: pathType must be specified"])
    }

    @Test func aNumericStringTargetPortIsNotAPortName() throws {
        let server = try TestAPIServer.start()
        defer { server.stop() }
        func service(_ target: Value) throws -> TestHTTPResponse {
            try server.request("POST", "/api/v1/namespaces/default/services", body: [
                "apiVersion": "v1", "kind": "Service", "metadata": ["name": .string("web-\(target.scalarText ?? "")")],
                "spec": ["ports": [["port": 80, "targetPort": target]]]])
        }
        let s = try service("8080")
        #expect(s.status == 422)
        #expect(FidelityTests.causes(s) == ["spec.ports[0].targetPort: Invalid value: \"8080\": must contain at least one letter (a-z)"])
        #expect(try service(8080).status == 201)
        #expect(try service("http").status == 201)
    }

    @Test func namesFollowTheRuleOfTheirKind() throws {
        let server = try TestAPIServer.start()
        defer { server.stop() }
        func cm(_ name: String) throws -> TestHTTPResponse {
            try server.request("POST", "/api/v1/namespaces/default/configmaps", body: ["apiVersion": "v1", "kind": "ConfigMap", "metadata": ["name": .string(name)]])
        }
        // DNS subdomain: 253 characters, parts not limited to 63.
        #expect(try cm(String(repeating: "a", count: 253)).status == 201)
        #expect(try cm("inventory-" + String(repeating: "b", count: 100) + ".part-1").status == 201)
        let long = try cm(String(repeating: "c", count: 254))
        #expect(long.status == 422)
        #expect(FidelityTests.causes(long) == ["metadata.name: Invalid value: \"\(String(repeating: "c", count: 254))\": must be no more than 253 characters"])
        #expect(try cm("Upper").status == 422)
        // Namespaces are DNS labels (63).
        let ns = try server.request("POST", "/api/v1/namespaces", body: ["apiVersion": "v1", "kind": "Namespace", "metadata": ["name": .string(String(repeating: "n", count: 64))]])
        #expect(ns.status == 422)
        #expect(FidelityTests.causes(ns).first == "metadata.name: Invalid value: \"\(String(repeating: "n", count: 64))\": must be no more than 63 characters")
        // RBAC names are path segments: colons and capitals are fine, '/' is not.
        func role(_ name: String) throws -> TestHTTPResponse {
            try server.request("POST", "/apis/rbac.authorization.k8s.io/v1/clusterroles", body: [
                "apiVersion": "rbac.authorization.k8s.io/v1", "kind": "ClusterRole", "metadata": ["name": .string(name)], "rules": []])
        }
        #expect(try role("system:Pattern Reader").status == 201)
        let slash = try role("a/b")
        #expect(slash.status == 422)
        #expect(FidelityTests.causes(slash) == ["metadata.name: Invalid value: \"a/b\": may not contain '/'"])
        // CronJob names leave room for the Job suffix.
        let cron = try server.request("POST", "/apis/batch/v1/namespaces/default/cronjobs", body: [
            "apiVersion": "batch/v1", "kind": "CronJob", "metadata": ["name": .string(String(repeating: "j", count: 53))],
            "spec": ["schedule": "* * * * *", "jobTemplate": ["spec": ["template": ["spec": ["restartPolicy": "Never", "containers": [["name": "c", "image": "busybox"]]]]]]]])
        #expect(cron.status == 422)
        #expect(FidelityTests.causes(cron).contains("metadata.name: Invalid value: \"\(String(repeating: "j", count: 53))\": must be no more than 52 characters"))
    }

    @Test func scaleRecordsAnUpdateEntryWithSubresourceScaleAndNoTime() throws {
        let server = try TestAPIServer.start()
        defer { server.stop() }
        let path = "/apis/apps/v1/namespaces/default/deployments/web"
        let applied = try server.apply(path, """
            apiVersion: apps/v1
            kind: Deployment
            metadata: {name: web}
            spec:
              replicas: 2
              selector: {matchLabels: {app: web}}
              template:
                metadata: {labels: {app: web}}
                spec: {containers: [{name: main, image: nginx}]}
            """)
        #expect(applied.status == 201)
        // What `kubectl scale` sends: a merge patch on /scale, manager from the user agent.
        let scaled = try server.request("PATCH", path + "/scale", body: ["spec": ["replicas": 5]], contentType: "application/merge-patch+json",
                                        headers: ["User-Agent": "kubectl/v1.31.0 (linux/amd64) kubernetes/abcdef"])
        #expect(scaled.status == 200)
        #expect(scaled.json["kind"] == "Scale")
        let obj = try server.request("GET", path).json
        #expect(obj[path: ["spec", "replicas"]] == 5)
        let entries = obj[path: ["metadata", "managedFields"]]?.array ?? []
        let scale = try #require(entries.first { $0["manager"]?.string == "kubectl" })
        #expect(scale["operation"] == "Update")
        #expect(scale["subresource"] == "scale")
        #expect(scale["apiVersion"] == "apps/v1")
        #expect(scale["time"] == nil)
        #expect(scale["fieldsV1"] == ["f:spec": ["f:replicas": .emptyObject]])
        // The applier no longer owns replicas.
        let apply = try #require(entries.first { $0["manager"]?.string == "pattern" })
        #expect(apply[path: ["fieldsV1", "f:spec", "f:replicas"]] == nil)
        #expect(apply["time"] != nil)
        // Scaling again keeps the entry without a time.
        _ = try server.request("PUT", path + "/scale", body: ["apiVersion": "autoscaling/v1", "kind": "Scale", "metadata": ["name": "web"], "spec": ["replicas": 3]],
                               headers: ["User-Agent": "kubectl/v1.31.0 (linux/amd64) kubernetes/abcdef"])
        let again = try server.request("GET", path).json[path: ["metadata", "managedFields"]]?.array ?? []
        #expect(again.filter { $0["manager"]?.string == "kubectl" }.count == 1)
        #expect(again.first { $0["manager"]?.string == "kubectl" }?["time"] == nil)
    }
}
