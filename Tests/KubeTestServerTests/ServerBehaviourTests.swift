import Foundation
import PatternCore
import Testing
import TestSupport
@testable import KubeTestServer

private func cm(_ name: String, ns: String = "default", labels: [String: String] = [:], data: [String: String] = ["a": "1"]) -> String {
    var s = "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: \(name)\n  namespace: \(ns)\n"
    if !labels.isEmpty { s += "  labels:\n" + labels.sorted { $0.key < $1.key }.map { "    \($0.key): '\($0.value)'\n" }.joined() }
    s += "data:\n" + data.sorted { $0.key < $1.key }.map { "  \($0.key): '\($0.value)'\n" }.joined()
    return s
}

private let deploymentYAML = """
apiVersion: apps/v1
kind: Deployment
metadata:
  name: web
  namespace: default
spec:
  replicas: 2
  selector:
    matchLabels:
      app: web
  template:
    metadata:
      labels:
        app: web
    spec:
      containers:
      - name: main
        image: nginx:1.25
        env:
        - name: A
          value: "1"
        - name: B
          value: "2"
      - name: side
        image: busybox:1.36

"""

@Suite("HTTP transport")
struct TransportBehaviourTests {
    @Test func keepAliveServesSeveralRequestsOnOneConnection() throws {
        let server = try TestAPIServer.start()
        defer { server.stop() }
        let c = try TestHTTPConnection(port: server.port)
        for _ in 0..<3 {
            try c.send("GET", "/api/v1/namespaces", headers: ["User-Agent": "t"])
            let r = try c.receive()
            #expect(r.status == 200)
            #expect(r.json["kind"] == "NamespaceList")
        }
        #expect(server.requestLog.count(verb: "list", resource: "namespaces") == 3)
    }

    /// `latency` holds every answer back (a remote server's round trip), on each connection
    /// separately: two requests on two connections wait side by side, not one after the other.
    @Test func latencyDelaysEveryAnswerPerConnection() throws {
        var o = TestAPIServerOptions()
        o.latency = 0.5
        let server = try TestAPIServer.start(o)
        defer { server.stop() }
        let a = try TestHTTPConnection(port: server.port), b = try TestHTTPConnection(port: server.port)
        let start = Date()
        try a.send("GET", "/api/v1/namespaces", headers: ["User-Agent": "t"])
        try b.send("GET", "/api/v1/namespaces", headers: ["User-Agent": "t"])
        #expect(try a.receive().status == 200)
        #expect(try b.receive().status == 200)
        let both = Date().timeIntervalSince(start)
        #expect(both >= 0.5, "answered after \(both) s")
        #expect(both < 0.95, "the two connections waited one after the other (\(both) s)")
        let plain = try TestAPIServer.start()
        defer { plain.stop() }
        let c = try TestHTTPConnection(port: plain.port)
        let t = Date()
        try c.send("GET", "/api/v1/namespaces", headers: ["User-Agent": "t"])
        #expect(try c.receive().status == 200)
        #expect(Date().timeIntervalSince(t) < 0.5, "no latency unless asked for")
    }

    @Test func expectContinueAndLargeBodies() throws {
        let server = try TestAPIServer.start()
        defer { server.stop() }
        let big = String(repeating: "x", count: 200_000)
        let c = try TestHTTPConnection(port: server.port)
        let body = JSONWriter.bytes(["apiVersion": "v1", "kind": "ConfigMap", "metadata": ["name": "big"], "data": ["x": .string(big)]])
        try c.send("POST", "/api/v1/namespaces/default/configmaps", body: body, headers: ["Content-Type": "application/json", "Expect": "100-continue"])
        let r = try c.receive()
        #expect(r.status == 201)
        #expect(server.store.get(resource: "configmaps", namespace: "default", name: "big")?[path: ["data", "x"]]?.string?.count == 200_000)
    }

    @Test func restartKeepsStateAndPort() throws {
        let server = try TestAPIServer.start()
        defer { server.stop() }
        let port = server.port
        #expect(try server.apply("/api/v1/namespaces/default/configmaps/keep", cm("keep")).status == 201)
        let rv = server.store.currentResourceVersion
        try server.restart()
        #expect(server.port == port)
        let r = try server.request("GET", "/api/v1/namespaces/default/configmaps/keep")
        #expect(r.status == 200)
        #expect(server.store.currentResourceVersion == rv)
    }

    @Test func stopRefusesConnections() throws {
        let server = try TestAPIServer.start()
        let port = server.port
        server.stop()
        #expect(throws: (any Error).self) { _ = try TestHTTPConnection(port: port) }
    }
}

@Suite("Discovery")
struct DiscoveryBehaviourTests {
    @Test func aggregatedAndLegacyDiscoveryAgree() throws {
        let server = try TestAPIServer.start()
        defer { server.stop() }
        let accept = "application/json;g=apidiscovery.k8s.io;v=v2;as=APIGroupDiscoveryList,application/json"
        let agg = try server.request("GET", "/apis", headers: ["Accept": accept])
        #expect(agg.headers["content-type"] == "application/json;g=apidiscovery.k8s.io;v=v2;as=APIGroupDiscoveryList")
        #expect(agg.json["kind"] == "APIGroupDiscoveryList")
        let apps = agg.json["items"]?.array?.first { $0[path: ["metadata", "name"]] == "apps" }
        let deploy = apps?["versions"]?.array?.first?["resources"]?.array?.first { $0["resource"] == "deployments" }
        #expect(deploy?["scope"] == "Namespaced")
        #expect(deploy?[path: ["responseKind", "kind"]] == "Deployment")
        #expect(deploy?["subresources"]?.array?.compactMap { $0["subresource"]?.string } == ["scale", "status"])
        let legacy = try server.request("GET", "/apis/apps/v1").json["resources"]?.array?.filter { !($0["name"]?.string?.contains("/") ?? true) }.count
        #expect(apps?["versions"]?.array?.first?["resources"]?.array?.count == legacy)
        let core = try server.request("GET", "/api", headers: ["Accept": accept]).json
        #expect(core["items"]?.array?.first?["versions"]?.array?.first?["version"] == "v1")
        // Without the Accept header, the legacy documents.
        #expect(try server.request("GET", "/apis").json["kind"] == "APIGroupList")
        let rs = try server.request("GET", "/openapi/v3").json["paths"]?["apis/apps/v1"]?["serverRelativeURL"]?.string ?? ""
        let doc = try server.request("GET", rs).json
        #expect(doc["paths"]?["/apis/apps/v1/namespaces/{namespace}/deployments/{name}"]?["patch"]?["x-kubernetes-group-version-kind"]?["kind"] == "Deployment")
    }
}

@Suite("Errors, auth and faults")
struct ErrorBehaviourTests {
    @Test func statusErrorsCarryRealReasons() throws {
        let server = try TestAPIServer.start()
        defer { server.stop() }
        let nf = try server.request("GET", "/apis/apps/v1/namespaces/default/deployments/nope")
        #expect(nf.status == 404)
        #expect(nf.json["message"] == "deployments.apps \"nope\" not found")
        #expect(nf.json["details"] == ["name": "nope", "group": "apps", "kind": "deployments"])
        let method = try server.request("POST", "/api/v1/namespaces/default/configmaps/x", body: ["a": 1])
        #expect(method.status == 405)
        #expect(method.json["reason"] == "MethodNotAllowed")
        #expect(try server.apply("/api/v1/namespaces/default/configmaps/x", cm("x")).status == 201)
        let media = try server.request("PATCH", "/api/v1/namespaces/default/configmaps/x", rawBody: "{}", contentType: "text/plain")
        #expect(media.status == 415)
        #expect(media.json["reason"] == "UnsupportedMediaType")
        let noManager = try server.request("PATCH", "/api/v1/namespaces/default/configmaps/x", rawBody: cm("x"), contentType: "application/apply-patch+yaml")
        #expect(noManager.status == 400)
        #expect(noManager.json["reason"] == "BadRequest")
        let unknown = try server.request("GET", "/apis/example.com/v1/widgets")
        #expect(unknown.status == 404)
        let badSelector = try server.request("GET", "/api/v1/configmaps?fieldSelector=spec.x%3Dy")
        #expect(badSelector.status == 400)
    }

    @Test func invalidObjectsGet422WithCauses() throws {
        let server = try TestAPIServer.start()
        defer { server.stop() }
        let r = try server.request("POST", "/apis/apps/v1/namespaces/default/deployments",
                                   body: ["apiVersion": "apps/v1", "kind": "Deployment", "metadata": ["name": "d"], "spec": ["template": .emptyObject]])
        #expect(r.status == 422)
        #expect(r.json["reason"] == "Invalid")
        let fields = (r.json[path: ["details", "causes"]]?.array ?? []).compactMap { $0["field"]?.string }
        #expect(fields.contains("spec.selector"))
        #expect(fields.contains("spec.template.spec.containers"))
        let svc = try server.request("POST", "/api/v1/namespaces/default/services", body: ["apiVersion": "v1", "kind": "Service", "metadata": ["name": "1abc"]])
        #expect(svc.status == 422)
    }

    @Test func bearerTokensAndForbidden() throws {
        var o = TestAPIServerOptions()
        o.tokens = ["good": UserInfo(name: "alice"), "limited": UserInfo(name: "bob")]
        let server = try TestAPIServer.start(o)
        defer { server.stop() }
        server.authorize = { req in !(req.user.name == "bob" && req.verb != "get" && req.verb != "list") }
        #expect(try server.request("GET", "/api/v1/namespaces").status == 401)
        #expect(try server.request("GET", "/api/v1/namespaces", headers: ["Authorization": "Bearer wrong"]).json["reason"] == "Unauthorized")
        #expect(try server.request("GET", "/api/v1/namespaces", headers: ["Authorization": "Bearer good"]).status == 200)
        let f = try server.request("DELETE", "/api/v1/namespaces/default/configmaps/x", headers: ["Authorization": "Bearer limited"])
        #expect(f.status == 403)
        #expect(f.json["message"] == "configmaps \"x\" is forbidden: User \"bob\" cannot delete resource \"configmaps\" in API group \"\" in the namespace \"default\"")
        #expect(server.requestLog.entries.last?.user == "bob")
    }

    @Test func reviewsAnswerWhoAmIAndCanI() throws {
        var o = TestAPIServerOptions()
        o.tokens = ["t": UserInfo(name: "dana", groups: ["devs"])]
        let server = try TestAPIServer.start(o)
        defer { server.stop() }
        server.authorize = { $0.verb != "delete" || $0.resource != "secrets" }
        let auth = ["Authorization": "Bearer t"]
        let me = try server.request("POST", "/apis/authentication.k8s.io/v1/selfsubjectreviews",
                                    body: ["apiVersion": "authentication.k8s.io/v1", "kind": "SelfSubjectReview"], headers: auth)
        #expect(me.status == 201)
        #expect(me.json[path: ["status", "userInfo", "username"]] == "dana")
        #expect(me.json[path: ["status", "userInfo", "groups"]] == ["devs", "system:authenticated"])
        func can(_ verb: String, _ resource: String) throws -> Bool? {
            try server.request("POST", "/apis/authorization.k8s.io/v1/selfsubjectaccessreviews", body: [
                "apiVersion": "authorization.k8s.io/v1", "kind": "SelfSubjectAccessReview",
                "spec": ["resourceAttributes": ["verb": .string(verb), "resource": .string(resource), "namespace": "default"]],
            ], headers: auth).json[path: ["status", "allowed"]]?.bool
        }
        #expect(try can("get", "secrets") == true)
        #expect(try can("delete", "secrets") == false)
        #expect(server.store.count == 4)  // only the initial namespaces: reviews are not stored
    }

    @Test func faultInjection() throws {
        let server = try TestAPIServer.start()
        defer { server.stop() }
        let id = server.faults.add(FaultRule(method: "GET", pathContains: "/configmaps", times: 2, action: .tooManyRequests(retryAfter: 3)))
        let r1 = try server.request("GET", "/api/v1/namespaces/default/configmaps")
        #expect(r1.status == 429)
        #expect(r1.headers["retry-after"] == "3")
        #expect(r1.json["reason"] == "TooManyRequests")
        #expect(try server.request("GET", "/api/v1/namespaces/default/configmaps").status == 429)
        #expect(try server.request("GET", "/api/v1/namespaces/default/configmaps").status == 200)
        #expect(server.faults.fired(id) == 2)
        server.faults.failRequest(2, with: .internalError("disk on fire"))
        #expect(try server.request("GET", "/version").status == 200)
        let e = try server.request("GET", "/version")
        #expect(e.status == 500)
        #expect(e.json["reason"] == "InternalError")
        server.faults.failRequest(1, with: .serviceUnavailable(retryAfter: 1))
        #expect(try server.request("GET", "/api").status == 503)
        // Cut mid-response: headers promise more bytes than arrive.
        server.faults.add(FaultRule(pathContains: "/api/v1/namespaces", action: .cutConnection(afterBytes: 10)))
        #expect(throws: (any Error).self) { _ = try server.request("GET", "/api/v1/namespaces") }
        server.faults.add(FaultRule(pathContains: "/apis", action: .dropConnection))
        #expect(throws: (any Error).self) { _ = try server.request("GET", "/apis") }
        server.faults.add(FaultRule(pathContains: "/version", action: .delay(0.2)))
        let t0 = Date()
        #expect(try server.request("GET", "/version").status == 200)
        #expect(Date().timeIntervalSince(t0) >= 0.2)
    }

    // Was `guard … else { return }`: passed without checking anything when the PKI failed.
    @Test(.enabled(if: FileManager.default.isExecutableFile(atPath: "/usr/bin/curl")))
    func tlsWithClientCertificateAndCurl() throws {
        let pki = try #require(TestPKI.generate(clientCommonName: "carol", clientOrganization: "devs"))
        var o = TestAPIServerOptions()
        o.tlsCertPEM = pki.serverCertPEM
        o.tlsKeyPEM = pki.serverKeyPEM
        o.clientCAPEM = pki.caCertPEM
        let server = try TestAPIServer.start(o)
        defer { server.stop() }
        #expect(server.url.hasPrefix("https://"))
        let dir = TemporaryDirectories.make("kts")
        try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: dir) }
        for (n, t) in [("ca", pki.caCertPEM), ("crt", pki.clientCertPEM), ("key", pki.clientKeyPEM)] {
            try t.write(toFile: "\(dir)/\(n).pem", atomically: false, encoding: .utf8)
        }
        func curl(_ args: [String]) throws -> String {
            try runTool("/usr/bin/curl", ["-s", "--cacert", "\(dir)/ca.pem"] + args).stdoutText
        }
        let anon = try curl(["\(server.url)/api/v1/namespaces"])
        #expect(anon.contains("\"Unauthorized\""))
        let ok = try curl(["--cert", "\(dir)/crt.pem", "--key", "\(dir)/key.pem", "\(server.url)/api/v1/namespaces"])
        #expect(ok.contains("\"NamespaceList\""))
        #expect(server.requestLog.entries.last?.user == "carol")
    }
}

@Suite("Objects and server-side apply")
struct ApplyBehaviourTests {
    @Test func dryRunStoresNothingAndEmitsNoEvent() throws {
        let server = try TestAPIServer.start()
        defer { server.stop() }
        let rv = server.store.currentResourceVersion
        let r = try server.apply("/api/v1/namespaces/default/configmaps/d", cm("d"), dryRun: true)
        #expect(r.status == 201)
        #expect(r.json[path: ["data", "a"]] == "1")
        #expect(server.store.get(resource: "configmaps", namespace: "default", name: "d") == nil)
        #expect(server.store.currentResourceVersion == rv)
        let post = try server.request("POST", "/api/v1/namespaces/default/configmaps?dryRun=All", body: ["apiVersion": "v1", "kind": "ConfigMap", "metadata": ["name": "p"]])
        #expect(post.status == 201)
        #expect(server.store.get(resource: "configmaps", namespace: "default", name: "p") == nil)
        #expect(server.requestLog.writes.isEmpty)
        let w = try server.request("GET", "/api/v1/namespaces/default/configmaps?watch=1&resourceVersion=\(rv)&timeoutSeconds=1")
        #expect(w.lines.isEmpty)
    }

    @Test func keyedListsMergeAndPruneByOwnership() throws {
        let server = try TestAPIServer.start()
        defer { server.stop() }
        let path = "/apis/apps/v1/namespaces/default/deployments/web"
        #expect(try server.apply(path, deploymentYAML).status == 201)
        // Another manager adds an env var to main and an image change conflicts.
        let patch = try server.request("PATCH", path + "?fieldManager=other", body: ["spec": ["template": ["spec": ["containers": [["name": "main", "env": [["name": "C", "value": "3"]]]]]]]],
                                       contentType: "application/strategic-merge-patch+json")
        #expect(patch.status == 200)
        let env = patch.json[path: ["spec", "template", "spec", "containers"]]?.array?.first?["env"]?.array?.compactMap { $0["name"]?.string }
        #expect(env == ["A", "B", "C"])
        // Dropping B and the side container removes them (only pattern owned them); C stays.
        let smaller = deploymentYAML.replacingOccurrences(of: "        - name: B\n          value: \"2\"\n", with: "")
            .replacingOccurrences(of: "      - name: side\n        image: busybox:1.36\n", with: "")
        let r = try server.apply(path, smaller)
        #expect(r.status == 200)
        let containers = r.json[path: ["spec", "template", "spec", "containers"]]?.array ?? []
        #expect(containers.compactMap { $0["name"]?.string } == ["main"])
        #expect(containers.first?["env"]?.array?.compactMap { $0["name"]?.string } == ["A", "C"])
        #expect(r.json[path: ["metadata", "generation"]] == 3)
        // Two conflicts in one message, sorted by manager.
        _ = try server.request("PATCH", path + "?fieldManager=scaler", body: ["spec": ["replicas": 7, "revisionHistoryLimit": 3]], contentType: "application/merge-patch+json")
        let withBoth = smaller.replacingOccurrences(of: "replicas: 2", with: "replicas: 2\n  revisionHistoryLimit: 5")
        let c = try server.apply(path, withBoth)
        #expect(c.status == 409)
        #expect(c.json["message"] == "Apply failed with 2 conflicts: conflicts with \"scaler\" using apps/v1:\n- .spec.replicas\n- .spec.revisionHistoryLimit")
        #expect((c.json[path: ["details", "causes"]]?.array ?? []).count == 2)
        let forced = try server.apply(path, withBoth, force: true)
        #expect(forced.status == 200)
        #expect(forced.json[path: ["spec", "replicas"]] == 2)
        let managers = (forced.json[path: ["metadata", "managedFields"]]?.array ?? []).compactMap { $0["manager"]?.string }
        #expect(!managers.contains("scaler"))
    }

    @Test func createOwnsDefaultsWithTypedEmptyShape() throws {
        let server = try TestAPIServer.start()
        defer { server.stop() }
        let body: Value = ["apiVersion": "apps/v1", "kind": "Deployment", "metadata": ["name": "n", "labels": ["app": "n"]],
                           "spec": ["selector": ["matchLabels": ["app": "n"]],
                                    "template": ["metadata": ["labels": ["app": "n"]], "spec": ["containers": [["name": "nginx", "image": "nginx"]]]]]]
        let r = try server.request("POST", "/apis/apps/v1/namespaces/default/deployments?fieldManager=kubectl-create", body: body)
        #expect(r.status == 201)
        let fields = r.json[path: ["metadata", "managedFields"]]?.array?.first?["fieldsV1"] ?? .null
        let expected = try JSONParser.parse(#"""
        {"f:metadata":{"f:labels":{".":{},"f:app":{}}},"f:spec":{"f:progressDeadlineSeconds":{},"f:replicas":{},"f:revisionHistoryLimit":{},
         "f:selector":{},"f:strategy":{"f:rollingUpdate":{".":{},"f:maxSurge":{},"f:maxUnavailable":{}},"f:type":{}},
         "f:template":{"f:metadata":{"f:labels":{".":{},"f:app":{}}},"f:spec":{"f:containers":{"k:{\"name\":\"nginx\"}":{".":{},
         "f:image":{},"f:imagePullPolicy":{},"f:name":{},"f:resources":{},"f:terminationMessagePath":{},"f:terminationMessagePolicy":{}}},
         "f:dnsPolicy":{},"f:restartPolicy":{},"f:schedulerName":{},"f:securityContext":{},"f:terminationGracePeriodSeconds":{}}}}}
        """#)
        #expect(fields == expected)
        #expect(r.json[path: ["spec", "template", "spec", "containers"]]?.array?.first?["imagePullPolicy"] == "Always")
    }

    @Test func putOfWhatWasReadIsANoOp() throws {
        let server = try TestAPIServer.start()
        defer { server.stop() }
        let objects: [(String, String)] = [
            ("/apis/apps/v1/namespaces/default/deployments/web", deploymentYAML),
            ("/apis/batch/v1/namespaces/default/cronjobs/cj", "apiVersion: batch/v1\nkind: CronJob\nmetadata:\n  name: cj\n  namespace: default\nspec:\n  schedule: '* * * * *'\n  jobTemplate:\n    spec:\n      template:\n        spec:\n          restartPolicy: Never\n          containers:\n          - name: c\n            image: busybox:1.36\n"),
            ("/api/v1/namespaces/default/services/svc", "apiVersion: v1\nkind: Service\nmetadata:\n  name: svc\n  namespace: default\nspec:\n  selector:\n    app: web\n  ports:\n  - port: 80\n"),
            ("/api/v1/namespaces/default/secrets/s", "apiVersion: v1\nkind: Secret\nmetadata:\n  name: s\n  namespace: default\nstringData:\n  password: hunter2\n"),
            ("/api/v1/namespaces/extra", "apiVersion: v1\nkind: Namespace\nmetadata:\n  name: extra\n"),
        ]
        for (path, yaml) in objects {
            let created = try server.apply(path, yaml)
            #expect(created.status == 201, "\(path): \(created.text)")
            let got = try server.request("GET", path).json
            let put = try server.request("PUT", path, body: got)
            #expect(put.status == 200, "\(path): \(put.text)")
            #expect(put.json[path: ["metadata", "resourceVersion"]] == got[path: ["metadata", "resourceVersion"]], "\(path)")
            #expect(put.json == got, "\(path)")
            let again = try server.apply(path, yaml)
            #expect(again.json[path: ["metadata", "resourceVersion"]] == got[path: ["metadata", "resourceVersion"]], "\(path) re-apply")
        }
        #expect(server.store.get(resource: "secrets", namespace: "default", name: "s")?[path: ["data", "password"]] == "aHVudGVyMg==")
    }

    @Test func immutableFieldsAnswer422() throws {
        let server = try TestAPIServer.start()
        defer { server.stop() }
        let path = "/apis/apps/v1/namespaces/default/deployments/web"
        #expect(try server.apply(path, deploymentYAML).status == 201)
        let changed = deploymentYAML.replacingOccurrences(of: "app: web", with: "app: web2")
        let r = try server.apply(path, changed, dryRun: true)
        #expect(r.status == 422)
        #expect(r.json["message"] == "Deployment.apps \"web\" is invalid: spec.selector: Invalid value: v1.LabelSelector{MatchLabels:map[string]string{\"app\":\"web2\"}, MatchExpressions:[]v1.LabelSelectorRequirement(nil)}: field is immutable")
        let cmPath = "/api/v1/namespaces/default/configmaps/frozen"
        #expect(try server.apply(cmPath, cm("frozen") + "immutable: true\n").status == 201)
        let frozen = try server.apply(cmPath, cm("frozen", data: ["a": "2"]) + "immutable: true\n")
        #expect(frozen.status == 422)
        #expect(frozen.json[path: ["details", "causes"]]?.array?.first?["field"] == "data")
    }

    @Test func sharedOwnershipWhenValuesAgree() throws {
        let server = try TestAPIServer.start()
        defer { server.stop() }
        let path = "/api/v1/namespaces/default/configmaps/s"
        #expect(try server.apply(path, cm("s"), manager: "one").status == 201)
        let two = try server.apply(path, cm("s"), manager: "two")
        #expect(two.status == 200)
        let sets = (two.json[path: ["metadata", "managedFields"]]?.array ?? []).map { $0["manager"]?.string ?? "" }
        #expect(sets.sorted() == ["one", "two"])
        // one drops a: two still owns it, so it stays.
        let r = try server.apply(path, "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: s\n  namespace: default\n", manager: "one")
        #expect(r.json[path: ["data", "a"]] == "1")
    }

    @Test func yaml11BooleansInApplyBodies() throws {
        let server = try TestAPIServer.start()
        defer { server.stop() }
        let path = "/api/v1/namespaces/default/configmaps/yy"
        for word in ["y", "yes", "on", "off", "n", "No"] {
            let bad = try server.apply(path, "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: yy\n  namespace: default\ndata:\n  k: \(word)\n")
            #expect(bad.status == 500, "unquoted \(word)")
        }
        let good = try server.apply(path, "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: yy\n  namespace: default\ndata:\n  k: 'y'\n  l: \"on\"\n")
        #expect(good.status == 201)
        #expect(good.json["data"] == ["k": "y", "l": "on"])
    }

    @Test func unquotedNumbersWhereStringsBelongFailLikeTheRealServer() throws {
        let server = try TestAPIServer.start()
        defer { server.stop() }
        let bad = deploymentYAML.replacingOccurrences(of: "value: \"1\"", with: "value: 1")
        let r = try server.apply("/apis/apps/v1/namespaces/default/deployments/web", bad)
        #expect(r.status == 500)
        #expect(r.json["message"] == "failed to create typed patch object (default/web; apps/v1, Kind=Deployment): .spec.template.spec.containers[name=\"main\"].env[name=\"A\"].value: expected string, got &value.valueUnstructured{Value:1}")
        let typo = deploymentYAML.replacingOccurrences(of: "replicas: 2", with: "replicaz: 2")
        #expect(try server.apply("/apis/apps/v1/namespaces/default/deployments/web", typo).json["message"]?.string?.hasSuffix(".spec.replicaz: field not declared in schema") == true)
        let ctypo = deploymentYAML.replacingOccurrences(of: "image: nginx:1.25", with: "imagee: nginx:1.25")
        #expect(try server.apply("/apis/apps/v1/namespaces/default/deployments/web", ctypo).json["message"]?.string?.hasSuffix(".spec.template.spec.containers[name=\"main\"].imagee: field not declared in schema") == true)
        let replicas = deploymentYAML.replacingOccurrences(of: "replicas: 2", with: "replicas: \"2\"")
        #expect(try server.apply("/apis/apps/v1/namespaces/default/deployments/web", replicas).json["message"]?.string?.hasSuffix(".spec.replicas: expected numeric (int or float), got string") == true)
    }

    @Test func putConflictsAndGenerationRules() throws {
        let server = try TestAPIServer.start()
        defer { server.stop() }
        let path = "/apis/apps/v1/namespaces/default/deployments/web"
        let created = try server.apply(path, deploymentYAML).json
        #expect(created[path: ["metadata", "generation"]] == 1)
        #expect(created[path: ["spec", "template", "spec", "containers"]]?.array?.first?["imagePullPolicy"] == "IfNotPresent")
        var labelled = created
        labelled[path: ["metadata", "labels"]] = ["x": "y"]
        let put = try server.request("PUT", path, body: labelled)
        #expect(put.status == 200)
        #expect(put.json[path: ["metadata", "generation"]] == 1)
        let stale = try server.request("PUT", path, body: labelled)
        #expect(stale.status == 409)
        #expect(stale.json["reason"] == "Conflict")
        let status = try server.request("PUT", path + "/status", body: {
            var s = put.json; s["status"] = ["replicas": 9]; s[path: ["spec", "replicas"]] = 100; return s
        }())
        #expect(status.json[path: ["status", "replicas"]] == 9)
        #expect(status.json[path: ["spec", "replicas"]] == 2)
        #expect(status.json[path: ["metadata", "generation"]] == 1)
        let jp = try server.request("PATCH", path, rawBody: #"[{"op":"replace","path":"/spec/replicas","value":4}]"#, contentType: "application/json-patch+json")
        #expect(jp.json[path: ["metadata", "generation"]] == 2)
        #expect(jp.json[path: ["spec", "replicas"]] == 4)
    }

    @Test func quantitiesAreCanonical() {
        #expect(Quantity("0.1")?.canonical == "100m")
        #expect(Quantity("1000m")?.canonical == "1")
        #expect(Quantity("1.5")?.canonical == "1500m")
        #expect(Quantity("1024Mi")?.canonical == "1Gi")
        #expect(Quantity("128Mi")?.canonical == "128Mi")
        #expect(Quantity("0.5Gi")?.canonical == "512Mi")
        #expect(Quantity("2000")?.canonical == "2k")
        #expect(Quantity("1e3")?.canonical == "1k")
        #expect(Quantity("abc") == nil)
        #expect(Quantity("1e100") == nil)
        #expect(Quantity("1e-100") == nil)
        #expect(Quantity("9e30")?.canonical != nil)
    }

    @Test func crdSchemaDrivesListAndMapSemantics() throws {
        let server = try TestAPIServer.start()
        defer { server.stop() }
        let crd = """
        apiVersion: apiextensions.k8s.io/v1
        kind: CustomResourceDefinition
        metadata:
          name: gadgets.example.com
        spec:
          group: example.com
          scope: Namespaced
          names: {plural: gadgets, singular: gadget, kind: Gadget, listKind: GadgetList}
          versions:
          - name: v1
            served: true
            storage: true
            schema:
              openAPIV3Schema:
                type: object
                properties:
                  spec:
                    type: object
                    properties:
                      parts:
                        type: object
                        additionalProperties:
                          type: object
                          properties:
                            size: {type: integer}
                      ports:
                        type: array
                        x-kubernetes-list-type: map
                        x-kubernetes-list-map-keys: [name]
                        items:
                          type: object
                          properties:
                            name: {type: string}
                            port: {type: integer}
                      tags:
                        type: array
                        x-kubernetes-list-type: set
                        items: {type: string}

        """
        #expect(try server.apply("/apis/apiextensions.k8s.io/v1/customresourcedefinitions/gadgets.example.com", crd).status == 201)
        let g = "apiVersion: example.com/v1\nkind: Gadget\nmetadata:\n  name: g\n  namespace: default\nspec:\n  parts:\n    wheel:\n      size: 1\n  ports:\n  - name: http\n    port: 80\n  tags: [a, b]\n"
        let r = try server.apply("/apis/example.com/v1/namespaces/default/gadgets/g", g)
        #expect(r.status == 201, "\(r.text)")
        let expected = try JSONParser.parse(#"""
        {"f:spec":{"f:parts":{"f:wheel":{".":{},"f:size":{}}},"f:ports":{"k:{\"name\":\"http\"}":{".":{},"f:name":{},"f:port":{}}},
         "f:tags":{"v:\"a\"":{},"v:\"b\"":{}}}}
        """#)
        #expect(r.json[path: ["metadata", "managedFields"]]?.array?.first?["fieldsV1"] == expected)
        // Another manager adds a port and a tag: lists merge by key / as a set.
        let other = "apiVersion: example.com/v1\nkind: Gadget\nmetadata:\n  name: g\n  namespace: default\nspec:\n  ports:\n  - name: https\n    port: 443\n  tags: [c]\n"
        let merged = try server.apply("/apis/example.com/v1/namespaces/default/gadgets/g", other, manager: "other")
        #expect(merged.json[path: ["spec", "ports"]]?.array?.compactMap { $0["name"]?.string } == ["http", "https"])
        #expect(merged.json[path: ["spec", "tags"]] == ["a", "b", "c"])
    }

    @Test func customResourcesFollowTheirCRD() throws {
        let server = try TestAPIServer.start()
        defer { server.stop() }
        #expect(try server.request("GET", "/apis/example.com/v1").status == 404)
        let crd = try Fixtures.recording("04-crd-and-custom-resource")[1][path: ["request", "body"]]?.string ?? ""
        let r = try server.apply("/apis/apiextensions.k8s.io/v1/customresourcedefinitions/widgets.example.com", crd)
        #expect(r.status == 201)
        let got = try server.request("GET", "/apis/apiextensions.k8s.io/v1/customresourcedefinitions/widgets.example.com").json
        let conds = (got[path: ["status", "conditions"]]?.array ?? []).map { "\($0["type"]!.string!)=\($0["status"]!.string!)" }
        #expect(conds == ["NamesAccepted=True", "Established=True"])
        let disc = try server.request("GET", "/apis/example.com/v1").json
        #expect(disc[path: ["resources"]]?.array?.first?["name"] == "widgets")
        #expect((try server.request("GET", "/apis").json["groups"]?.array ?? []).contains { $0["name"] == "example.com" })
        let w = "apiVersion: example.com/v1\nkind: Widget\nmetadata:\n  name: w\n  namespace: default\nspec:\n  size: 1\n"
        #expect(try server.apply("/apis/example.com/v1/namespaces/default/widgets/w", w).status == 201)
        let smp = try server.request("PATCH", "/apis/example.com/v1/namespaces/default/widgets/w", body: ["spec": ["size": 2]],
                                     contentType: "application/strategic-merge-patch+json")
        #expect(smp.status == 415)
        let merge = try server.request("PATCH", "/apis/example.com/v1/namespaces/default/widgets/w", body: ["spec": ["size": 2]],
                                       contentType: "application/merge-patch+json")
        #expect(merge.json[path: ["metadata", "generation"]] == 2)
        // Undeclared fields: apply refuses them, other writes prune them.
        let typo = try server.apply("/apis/example.com/v1/namespaces/default/widgets/w", w + "  colour: red\n")
        #expect(typo.status == 500)
        #expect(typo.json["message"] == "failed to create typed patch object (default/w; example.com/v1, Kind=Widget): .spec.colour: field not declared in schema")
        let pruned = try server.request("PATCH", "/apis/example.com/v1/namespaces/default/widgets/w", body: ["spec": ["colour": "red"], "status": ["anything": 1]],
                                        contentType: "application/merge-patch+json")
        #expect(pruned.status == 200)
        #expect(pruned.json[path: ["spec", "colour"]] == nil)
        let strict = try server.request("PATCH", "/apis/example.com/v1/namespaces/default/widgets/w?fieldValidation=Strict", body: ["spec": ["colour": "red"]],
                                        contentType: "application/merge-patch+json")
        #expect(strict.status == 400)
        #expect(strict.json["message"] == "strict decoding error: unknown field \"spec.colour\"")
        // Deleting the CRD removes the resource from discovery.
        #expect(try server.request("DELETE", "/apis/apiextensions.k8s.io/v1/customresourcedefinitions/widgets.example.com").status == 200)
        var gone = false
        for _ in 0..<50 where !gone {
            gone = try server.request("GET", "/apis/example.com/v1").status == 404
            if !gone { Thread.sleep(forTimeInterval: 0.02) }
        }
        #expect(gone)
    }
}

@Suite("Lists, watches, deletion, controllers")
struct ListWatchBehaviourTests {
    @Test func selectorsAndPagination() throws {
        let server = try TestAPIServer.start()
        defer { server.stop() }
        for i in 0..<5 {
            #expect(try server.apply("/api/v1/namespaces/default/configmaps/c\(i)", cm("c\(i)", labels: ["idx": "\(i)", "tier": i < 2 ? "a" : "b"])).status == 201)
        }
        func names(_ q: String) throws -> [String] {
            (try server.request("GET", "/api/v1/namespaces/default/configmaps?\(q)").json["items"]?.array ?? []).compactMap { $0.metadataName }
        }
        #expect(try names("labelSelector=tier%3Da") == ["c0", "c1"])
        #expect(try names("labelSelector=tier!%3Da") == ["c2", "c3", "c4"])
        #expect(try names("labelSelector=idx%20notin%20(0,1,2)") == ["c3", "c4"])
        #expect(try names("labelSelector=!tier").isEmpty)
        #expect(try names("labelSelector=tier,idx%20in%20(4)") == ["c4"])
        #expect(try names("fieldSelector=metadata.name%3Dc2") == ["c2"])
        var seen: [String] = []
        var cont = ""
        var pages = 0
        repeat {
            let r = try server.request("GET", "/api/v1/namespaces/default/configmaps?limit=2" + (cont.isEmpty ? "" : "&continue=\(cont)")).json
            seen += (r["items"]?.array ?? []).compactMap { $0.metadataName }
            cont = r[path: ["metadata", "continue"]]?.string ?? ""
            pages += 1
        } while !cont.isEmpty
        #expect(seen == ["c0", "c1", "c2", "c3", "c4"])
        #expect(pages == 3)
        // A continue token older than the retained history expires (410) and offers a fresh one.
        let first = try server.request("GET", "/api/v1/namespaces/default/configmaps?limit=2").json
        _ = try server.apply("/api/v1/namespaces/default/configmaps/c9", cm("c9"))
        server.store.compactHistory()
        let expired = try server.request("GET", "/api/v1/namespaces/default/configmaps?limit=2&continue=\(first[path: ["metadata", "continue"]]?.string ?? "")")
        #expect(expired.status == 410)
        #expect(expired.json["reason"] == "Expired")
        let fresh = expired.json[path: ["metadata", "continue"]]?.string ?? ""
        let rest = try server.request("GET", "/api/v1/namespaces/default/configmaps?limit=10&continue=\(fresh)").json
        #expect((rest["items"]?.array ?? []).compactMap { $0.metadataName } == ["c2", "c3", "c4", "c9"])
        #expect(server.requestLog.count(verb: "list", resource: "configmaps") == 12)
    }

    /// Items are encoded once per object version and kept (`ListItemCache`): a LIST answers
    /// what a GET of each object answers, a change shows in the next LIST, a delete leaves it,
    /// and a version served from the cache is byte for byte what was encoded.
    @Test func listsAnswerEveryObjectAsItIsNow() throws {
        let server = try TestAPIServer.start()
        defer { server.stop() }
        for i in 0..<3 { _ = try server.apply("/api/v1/namespaces/default/configmaps/l\(i)", cm("l\(i)")) }
        _ = try server.apply("/apis/apps/v1/namespaces/default/deployments/web", deploymentYAML)
        let path = "/api/v1/namespaces/default/configmaps"
        let first = try server.request("GET", path)
        let again = try server.request("GET", path)
        #expect(first.body == again.body)
        for item in first.json["items"]?.array ?? [] {
            var got = try server.request("GET", "\(path)/\(item.metadataName ?? "")").json
            got.withObject { _ = $0.removeValue(forKey: "kind"); _ = $0.removeValue(forKey: "apiVersion") }
            #expect(item == got)
        }
        // A list of another kind (and the pod template default the list renders) is its own.
        let deployments = try server.request("GET", "/apis/apps/v1/namespaces/default/deployments").json
        #expect(deployments["kind"] == "DeploymentList")
        #expect(deployments["items"]?.array?.first?[path: ["spec", "template", "metadata", "creationTimestamp"]]?.isNull == true)

        _ = try server.apply("\(path)/l1", cm("l1", data: ["a": "changed"]))
        _ = try server.request("DELETE", "\(path)/l2")
        let after = try server.request("GET", path).json["items"]?.array ?? []
        #expect(after.compactMap(\.metadataName) == ["l0", "l1"])
        #expect(after.last?[path: ["data", "a"]] == "changed")
        #expect(after.last?[path: ["metadata", "resourceVersion"]] != first.json["items"]?.array?[1][path: ["metadata", "resourceVersion"]])
        #expect(try server.request("GET", path + "?limit=1").json["items"]?.array?.count == 1)
    }

    @Test func watchFromNowFromVersionAndExpired() throws {
        let server = try TestAPIServer.start()
        defer { server.stop() }
        #expect(try server.apply("/api/v1/namespaces/default/configmaps/w1", cm("w1", labels: ["k": "v"])).status == 201)
        // No resourceVersion: synthetic ADDED for what exists.
        let initial = try server.request("GET", "/api/v1/namespaces/default/configmaps?watch=true&labelSelector=k%3Dv&timeoutSeconds=1").lines
        #expect(initial.map { $0["type"]?.string } == ["ADDED"])
        let rv = server.store.currentResourceVersion
        // Leaving the selector is a DELETED for that watch; live events arrive while streaming.
        let done = DispatchSemaphore(value: 0)
        nonisolated(unsafe) var events: [Value] = []
        Thread.detachNewThread {
            events = (try? server.request("GET", "/api/v1/namespaces/default/configmaps?watch=1&resourceVersion=\(rv)&labelSelector=k%3Dv&timeoutSeconds=1&allowWatchBookmarks=true").lines) ?? []
            done.signal()
        }
        Thread.sleep(forTimeInterval: 0.2)
        _ = try server.apply("/api/v1/namespaces/default/configmaps/w1", cm("w1", labels: ["k": "v"], data: ["a": "2"]))
        _ = try server.apply("/api/v1/namespaces/default/configmaps/w1", cm("w1", labels: ["k": "other"], data: ["a": "2"]))
        done.wait()
        #expect(events.map { $0["type"]?.string } == ["MODIFIED", "DELETED", "BOOKMARK"])
        server.store.compactHistory()
        let expired = try server.request("GET", "/api/v1/namespaces/default/configmaps?watch=1&resourceVersion=\(rv)&timeoutSeconds=1").lines
        #expect(expired.first?["type"] == "ERROR")
        #expect(expired.first?[path: ["object", "code"]] == 410)
        #expect(expired.first?[path: ["object", "reason"]] == "Expired")
    }

    @Test func injectedWatchErrorEndsTheStream() throws {
        let server = try TestAPIServer.start()
        defer { server.stop() }
        let done = DispatchSemaphore(value: 0)
        nonisolated(unsafe) var events: [Value] = []
        Thread.detachNewThread {
            events = (try? server.request("GET", "/api/v1/namespaces/default/configmaps?watch=1&resourceVersion=\(server.store.currentResourceVersion)").lines) ?? []
            done.signal()
        }
        for _ in 0..<100 where server.store.watcherCount == 0 { Thread.sleep(forTimeInterval: 0.01) }
        server.store.injectWatchEvent(resource: "configmaps")
        #expect(done.wait(timeout: .now() + 5) == .success)
        #expect(events.map { $0["type"]?.string } == ["ERROR"])
        #expect(events.first?[path: ["object", "code"]] == 500)
    }

    @Test func watchEndsWhenTheClientGoesAway() throws {
        let server = try TestAPIServer.start()
        defer { server.stop() }
        do {
            let c = try TestHTTPConnection(port: server.port)
            try c.send("GET", "/api/v1/namespaces/default/configmaps?watch=1", headers: ["User-Agent": "t"])
            Thread.sleep(forTimeInterval: 0.2)
            #expect(server.store.watcherCount == 1)
        }  // connection closed here
        var ended = false
        for _ in 0..<150 where !ended {
            ended = server.store.watcherCount == 0
            if !ended { Thread.sleep(forTimeInterval: 0.02) }
        }
        #expect(ended)
    }

    @Test func namespaceTerminatesThenDisappearsWithItsContent() throws {
        var o = TestAPIServerOptions()
        o.namespaceFinalizeDelay = 0.2
        let server = try TestAPIServer.start(o)
        defer { server.stop() }
        #expect(try server.request("POST", "/api/v1/namespaces", body: ["apiVersion": "v1", "kind": "Namespace", "metadata": ["name": "gone"]]).status == 201)
        #expect(try server.apply("/api/v1/namespaces/gone/configmaps/x", cm("x", ns: "gone")).status == 201)
        let d = try server.request("DELETE", "/api/v1/namespaces/gone")
        #expect(d.json[path: ["status", "phase"]] == "Terminating")
        let blocked = try server.apply("/api/v1/namespaces/gone/configmaps/y", cm("y", ns: "gone"))
        #expect(blocked.status == 403)
        var gone = false
        for _ in 0..<150 where !gone {
            gone = try server.request("GET", "/api/v1/namespaces/gone").status == 404
            if !gone { Thread.sleep(forTimeInterval: 0.02) }
        }
        #expect(gone)
        #expect(server.store.get(resource: "configmaps", namespace: "gone", name: "x") == nil)
        #expect(try server.apply("/api/v1/namespaces/nowhere/configmaps/x", cm("x", ns: "nowhere")).json["message"] == "namespaces \"nowhere\" not found")
    }

    @Test func finalizersAndForegroundDeletion() throws {
        var o = TestAPIServerOptions()
        o.foregroundDeletionDelay = 0.1
        let server = try TestAPIServer.start(o)
        defer { server.stop() }
        let path = "/api/v1/namespaces/default/configmaps/f"
        #expect(try server.request("POST", "/api/v1/namespaces/default/configmaps",
                                   body: ["apiVersion": "v1", "kind": "ConfigMap", "metadata": ["name": "f", "finalizers": ["example.com/hold"]]]).status == 201)
        let d = try server.request("DELETE", path)
        #expect(d.json[path: ["metadata", "deletionTimestamp"]] != nil)
        #expect(try server.request("GET", path).status == 200)
        #expect(try server.request("PATCH", path, body: ["metadata": ["finalizers": .null]], contentType: "application/merge-patch+json").status == 200)
        #expect(try server.request("GET", path).status == 404)
        #expect(try server.apply("/apis/apps/v1/namespaces/default/deployments/web", deploymentYAML).status == 201)
        let fg = try server.request("DELETE", "/apis/apps/v1/namespaces/default/deployments/web", body: ["propagationPolicy": "Foreground"])
        #expect(fg.json[path: ["metadata", "finalizers"]] == ["foregroundDeletion"])
        #expect(fg.json[path: ["metadata", "generation"]] == 2)
        var gone = false
        for _ in 0..<150 where !gone {
            gone = try server.request("GET", "/apis/apps/v1/namespaces/default/deployments/web").status == 404
            if !gone { Thread.sleep(forTimeInterval: 0.02) }
        }
        #expect(gone)
        let plain = try server.apply("/api/v1/namespaces/default/configmaps/p", cm("p"))
        let del = try server.request("DELETE", "/api/v1/namespaces/default/configmaps/p")
        #expect(del.json["status"] == "Success")
        #expect(del.json[path: ["details", "uid"]] == plain.json[path: ["metadata", "uid"]])
    }

    @Test func simulatedControllersRollOutAndComplete() throws {
        var o = TestAPIServerOptions()
        o.simulateControllers = true
        o.controllerDelay = 0.05
        let server = try TestAPIServer.start(o)
        defer { server.stop() }
        #expect(try server.apply("/apis/apps/v1/namespaces/default/deployments/web", deploymentYAML).status == 201)
        let job = "apiVersion: batch/v1\nkind: Job\nmetadata:\n  name: j\n  namespace: default\nspec:\n  template:\n    spec:\n      restartPolicy: Never\n      containers:\n      - name: c\n        image: busybox:1.36\n"
        #expect(try server.apply("/apis/batch/v1/namespaces/default/jobs/j", job).status == 201)
        var ready = false
        for _ in 0..<100 where !ready {
            let d = server.store.get(group: "apps", resource: "deployments", namespace: "default", name: "web")
            let j = server.store.get(group: "batch", resource: "jobs", namespace: "default", name: "j")
            ready = d?[path: ["status", "availableReplicas"]] == 2 && d?[path: ["status", "observedGeneration"]] == 1
                && (j?[path: ["status", "conditions"]]?.array?.first?["type"] == "Complete")
            if !ready { Thread.sleep(forTimeInterval: 0.02) }
        }
        #expect(ready)
        let d = server.store.get(group: "apps", resource: "deployments", namespace: "default", name: "web")
        let kcm = (d?[path: ["metadata", "managedFields"]]?.array ?? []).first { $0["manager"] == "kube-controller-manager" }
        #expect(kcm?["subresource"] == "status")
        #expect(server.store.get(group: "batch", resource: "jobs", namespace: "default", name: "j")?[path: ["spec", "selector", "matchLabels", "controller-uid"]] != nil)
        let svc = "apiVersion: v1\nkind: Service\nmetadata:\n  name: lb\n  namespace: default\nspec:\n  type: LoadBalancer\n  ports:\n  - port: 80\n"
        let created = try server.apply("/api/v1/namespaces/default/services/lb", svc)
        #expect(created.json[path: ["spec", "ports"]]?.array?.first?["targetPort"] == 80)
        #expect(created.json[path: ["spec", "clusterIP"]]?.string?.hasPrefix("10.96.") == true)
        var ip: Value? = nil
        for _ in 0..<100 where ip == nil {
            ip = server.store.get(resource: "services", namespace: "default", name: "lb")?[path: ["status", "loadBalancer", "ingress"]]
            if ip == nil { Thread.sleep(forTimeInterval: 0.02) }
        }
        #expect(ip != nil)
    }
}

@Suite("kubectl against the test server", .enabled(if: FileManager.default.isExecutableFile(atPath: "/usr/bin/kubectl")))
struct KubectlCompatibilityTests {
    func kubectl(_ kubeconfig: String, _ args: [String], stdin: String? = nil) throws -> (Int32, String) {
        var env = ProcessInfo.processInfo.environment
        // kubectl writes its discovery cache under HOME: a directory removed at exit.
        let home = TemporaryDirectories.make("kubectl-home")
        env["HOME"] = home
        env["KUBECACHEDIR"] = home + "/cache"
        let o = try runTool("/usr/bin/kubectl", ["--kubeconfig", kubeconfig] + args, environment: env,
                            input: Array((stdin ?? "").utf8))
        return (o.status, String(decoding: o.stdout + o.stderr, as: UTF8.self))
    }

    @Test func getApplyServerSideAndDiff() throws {
        // kubectl sends bearer tokens only over TLS.
        guard let pki = TestPKI.generate() else { Issue.record("no PKI"); return }
        var o = TestAPIServerOptions()
        o.tokens = ["t0k3n": UserInfo(name: "admin")]
        o.tlsCertPEM = pki.serverCertPEM
        o.tlsKeyPEM = pki.serverKeyPEM
        let server = try TestAPIServer.start(o)
        defer { server.stop() }
        let kc = TemporaryDirectories.make("kc") + "/kubeconfig"
        try server.kubeconfig(token: "t0k3n", caPEM: pki.caCertPEM).write(toFile: kc, atomically: false, encoding: .utf8)
        defer { try? FileManager.default.removeItem(atPath: kc) }
        let (rc, out) = try kubectl(kc, ["get", "ns"])
        #expect(rc == 0)
        #expect(out.contains("kube-system"))
        let manifest = "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: k\n  namespace: default\ndata:\n  a: \"1\"\n"
        let (arc, aout) = try kubectl(kc, ["apply", "--server-side", "-f", "-"], stdin: manifest)
        #expect(arc == 0, "\(aout)")
        #expect(aout.contains("serverside-applied"))
        let cmObj = server.store.get(resource: "configmaps", namespace: "default", name: "k")
        #expect(cmObj?[path: ["metadata", "managedFields"]]?.array?.first?["manager"] == "kubectl")
        let (drc, dout) = try kubectl(kc, ["diff", "--server-side", "-f", "-"], stdin: manifest.replacingOccurrences(of: "\"1\"", with: "\"2\""))
        #expect(drc == 1, "\(dout)")  // 1: differences found
        #expect(dout.contains("+  a: \"2\""))
        #expect(server.store.get(resource: "configmaps", namespace: "default", name: "k")?[path: ["data", "a"]] == "1")

        // kubectl scale: the scale subresource's entry — manager kubectl, subresource scale, no time.
        let deploy = """
            apiVersion: apps/v1
            kind: Deployment
            metadata: {name: web, namespace: default}
            spec:
              replicas: 1
              selector: {matchLabels: {app: web}}
              template:
                metadata: {labels: {app: web}}
                spec: {containers: [{name: main, image: nginx}]}
            """
        let (src, sout) = try kubectl(kc, ["apply", "--server-side", "--field-manager", "pattern", "-f", "-"], stdin: deploy)
        #expect(src == 0, "\(sout)")
        let (scrc, scout) = try kubectl(kc, ["-n", "default", "scale", "deployment/web", "--replicas", "4"])
        #expect(scrc == 0, "\(scout)")
        let web = server.store.get(group: "apps", resource: "deployments", namespace: "default", name: "web")
        #expect(web?[path: ["spec", "replicas"]] == 4)
        let entry = web?[path: ["metadata", "managedFields"]]?.array?.first { $0["subresource"] == "scale" }
        #expect(entry?["manager"] == "kubectl")
        #expect(entry?["operation"] == "Update")
        #expect(entry != nil && entry?["time"] == nil)
    }
}

@Suite("Concurrency")
struct ConcurrencyBehaviourTests {
    @Test func concurrentWritersToOneObjectLoseNothing() throws {
        let server = try TestAPIServer.start()
        defer { server.stop() }
        #expect(try server.apply("/api/v1/namespaces/default/configmaps/shared", "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: shared\n  namespace: default\n").status == 201)
        let group = DispatchGroup()
        for m in 0..<8 {
            group.enter()
            Thread.detachNewThread {
                for i in 0..<5 {
                    _ = try? server.apply("/api/v1/namespaces/default/configmaps/shared",
                                          "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: shared\n  namespace: default\ndata:\n  k\(m): '\(i)'\n",
                                          manager: "m\(m)")
                }
                group.leave()
            }
        }
        group.wait()
        let data = server.store.get(resource: "configmaps", namespace: "default", name: "shared")?["data"]?.object
        #expect(data?.count == 8)
        #expect((0..<8).allSatisfy { data?["k\($0)"] == "4" })
        let managers = (server.store.get(resource: "configmaps", namespace: "default", name: "shared")?[path: ["metadata", "managedFields"]]?.array ?? []).count
        #expect(managers == 8)  // the first applier set no fields: empty entries are dropped
    }
}

/// The executable next to the test bundle (SwiftPM builds it with the tests).
private let apiserverBinary: String? = {
    let dir = URL(fileURLWithPath: CommandLine.arguments[0]).deletingLastPathComponent()
    let path = dir.appendingPathComponent("pattern-test-apiserver").path
    return FileManager.default.isExecutableFile(atPath: path) ? path : nil
}()

@Suite("pattern-test-apiserver executable", .enabled(if: apiserverBinary != nil))
struct ExecutableTests {
    @Test func printsURLWritesKubeconfigAndServes() throws {
        let dir = TemporaryDirectories.make("tas")
        try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let p = try Subprocess.spawn(apiserverBinary!, ["--port", "0", "--kubeconfig-out", "\(dir)/kubeconfig", "--simulate-controllers"],
                                     stdout: .file("\(dir)/stdout"))
        // Never wait unbounded on the child: SIGKILL after a deadline.
        func stop(within seconds: Double) -> Bool {
            p.kill(SIGTERM)
            let deadline = Date().addingTimeInterval(seconds)
            while p.isRunning && Date() < deadline { Thread.sleep(forTimeInterval: 0.02) }
            if p.isRunning { p.kill(SIGKILL); p.wait(); return false }
            return true
        }
        defer { if p.isRunning { _ = stop(within: 1) } }
        var line = ""
        let started = Date().addingTimeInterval(30)
        while !line.hasSuffix("\n") && Date() < started && p.isRunning {
            line = (try? String(contentsOfFile: "\(dir)/stdout", encoding: .utf8)) ?? ""
            if !line.hasSuffix("\n") { Thread.sleep(forTimeInterval: 0.02) }
        }
        let url = String(line.split(separator: "\n").first ?? "").trimmingCharacters(in: .whitespacesAndNewlines)
        #expect(url.hasPrefix("http://127.0.0.1:"))
        let kubeconfig = try String(contentsOfFile: "\(dir)/kubeconfig", encoding: .utf8)
        #expect(kubeconfig.contains("server: \(url)"))
        // A credential file: readable by its owner only.
        var st = stat()
        #expect(stat("\(dir)/kubeconfig", &st) == 0 && st.st_mode & 0o777 == 0o600)
        let port = try #require(Int(url.split(separator: ":").last ?? ""))
        let c = try TestHTTPConnection(port: port)
        try c.send("GET", "/version", headers: ["User-Agent": "t"])
        #expect(try c.receive().json["gitVersion"] != nil)
        #expect(stop(within: 10), "SIGTERM did not stop the server")
        #expect(p.wait() == 0)
    }
}

@Suite("Malformed input")
struct MalformedInputTests {
    @Test func garbageDoesNotHurtTheServer() throws {
        let server = try TestAPIServer.start()
        defer { server.stop() }
        for junk in ["GARBAGE\r\n\r\n", "GET\r\n\r\n", "POST /api/v1/namespaces/default/configmaps HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\n",
                     "PATCH /api/v1/namespaces/default/configmaps/x?fieldManager=m HTTP/1.1\r\nContent-Type: application/apply-patch+yaml\r\nContent-Length: 9\r\n\r\n{[}: ][:\n"] {
            let c = try TestHTTPConnection(port: server.port)
            let bytes = Array(junk.utf8)
            _ = bytes.withUnsafeBytes { send(c.fd, $0.baseAddress, $0.count, Int32(MSG_NOSIGNAL)) }
            _ = try? c.receive()
        }
        let bad = try server.request("POST", "/api/v1/namespaces/default/configmaps", rawBody: "{not json")
        #expect(bad.status == 400)
        let yaml = try server.apply("/api/v1/namespaces/default/configmaps/x", "a: [\n")
        #expect(yaml.status == 400)
        #expect(try server.request("GET", "/version").status == 200)
        #expect(throws: (any Error).self) { _ = try TestAPIServer.start({ var o = TestAPIServerOptions(); o.port = 70000; return o }()) }
    }
}
