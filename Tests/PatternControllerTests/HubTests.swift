import Testing
import Foundation
import PatternCore
import PatternController
import KubeClient
import KubeTestServer
import TestSupport

/// A remote cluster: its own test API server (TLS with its own CA, bearer tokens).
final class RemoteCluster: @unchecked Sendable {
    let server: TestAPIServer
    let pki: TestPKI?

    /// `tls: false`: plain HTTP on loopback (cheaper when a test needs many clusters).
    init(tokens: [String: UserInfo], tls: Bool = true) throws {
        pki = tls ? try #require(TestPKI.generate()) : nil
        var o = TestAPIServerOptions()
        o.simulateControllers = true
        o.tlsCertPEM = pki?.serverCertPEM
        o.tlsKeyPEM = pki?.serverKeyPEM
        o.tokens = tokens
        server = try TestAPIServer.start(o)
    }

    func deployment() -> Value? { server.store.get(group: "apps", resource: "deployments", namespace: "hello-world", name: "hello-world") }
    func stop() { server.stop() }
}

/// A cluster Secret in Argo CD's format (label argocd.argoproj.io/secret-type: cluster; keys
/// name, server, config), `data` base64-encoded as the API stores it.
func argoClusterSecret(_ secretName: String, cluster: String, server: String, token: String, caPEM: String?,
                       insecure: Bool = false, labels: [String: String] = [:]) -> Value {
    var tls: Value = ["insecure": .bool(insecure)]
    if let caPEM { tls["caData"] = .string(Base64.encode(Array(caPEM.utf8))) }
    let config = JSONWriter.string(["bearerToken": .string(token), "tlsClientConfig": tls])
    var l: Value = ["argocd.argoproj.io/secret-type": "cluster"]
    for (k, v) in labels { l[k] = .string(v) }
    func b64(_ s: String) -> Value { .string(Base64.encode(Array(s.utf8))) }
    return ["apiVersion": "v1", "kind": "Secret", "type": "Opaque",
            "metadata": ["name": .string(secretName), "namespace": "default", "labels": l],
            "data": ["name": b64(cluster), "server": b64(server), "config": b64(config)]]
}

@Suite struct HubTests {
    static let secretGVK = GroupVersionKind(group: "", version: "v1", kind: "Secret")

    @Test func patternSyncIsReconciledIntoARemoteClusterWithStatusInTheHub() async throws {
        let hub = try await ControllerCluster()
        defer { hub.stop() }
        let remote = try RemoteCluster(tokens: ["tok-edge1-old-SECRET": UserInfo(name: "old"), "tok-edge1-new-SECRET": UserInfo(name: "new")])
        defer { remote.stop() }
        let repo = try GitPatternRepo()
        defer { repo.remove() }
        _ = try await hub.client.create(argoClusterSecret("cluster-edge-1", cluster: "edge-1", server: remote.server.url,
                                                          token: "tok-edge1-old-SECRET", caPEM: remote.pki?.caCertPEM))
        try await hub.createSync(url: repo.url, extra: ["cluster": ["name": "edge-1"]])
        let running = RunningController(try hub.controller())
        defer { Task { await running.stop() } }

        let ready = await eventually(15) { await hub.condition("dev", "Ready")?["status"]?.string == "True" }
        let shownStatus = await hub.sync()?["status"] ?? .null
        #expect(ready, "\(shownStatus)")
        // The objects, the inventory and the ledger are in the remote cluster, none in the hub.
        #expect(remote.deployment() != nil)
        #expect(hub.server.store.get(group: "apps", resource: "deployments", namespace: "hello-world", name: "hello-world") == nil)
        #expect(!remote.server.store.list(resource: "configmaps", namespace: "pattern-system").isEmpty)
        #expect(hub.server.store.list(resource: "configmaps", namespace: "pattern-system").isEmpty)
        // Status (in the hub) names the cluster; TLS was verified against the Secret's CA.
        let status = try #require(await hub.sync()?["status"])
        #expect(status[path: ["cluster", "name"]]?.string == "edge-1")
        #expect(status[path: ["inventory", "cluster"]]?.string == "edge-1")
        #expect(await hub.condition("dev", "ClusterReady")?["status"]?.string == "True")
        #expect(await hub.condition("dev", "ClusterTLSVerified") == nil)

        // The old token is revoked: the next reconcile cannot reach the cluster.
        remote.server.authorize = { $0.user.name != "old" }
        _ = try await hub.client.patch(ControllerCluster.gvk, name: "dev", namespace: "default",
                                       patch: ["metadata": ["annotations": [.init(stringLiteral: ReconcileRequest.annotation): "r1"]]], type: .merge)
        #expect(await eventually(10) { await hub.condition("dev", "ClusterReady")?["reason"]?.string == "ClusterUnreachable" })
        #expect(await hub.condition("dev", "Ready")?["status"]?.string == "False")
        // The Secret is rotated: the client is rebuilt and the retry reaches the cluster.
        var secret = try await hub.client.get(HubTests.secretGVK, name: "cluster-edge-1", namespace: "default")
        secret["data"] = argoClusterSecret("cluster-edge-1", cluster: "edge-1", server: remote.server.url,
                                           token: "tok-edge1-new-SECRET", caPEM: remote.pki?.caCertPEM)["data"]
        _ = try await hub.client.update(secret)
        #expect(await eventually(15) { await hub.condition("dev", "Ready")?["status"]?.string == "True" })
        #expect(await hub.condition("dev", "ClusterReady")?["status"]?.string == "True")

        // No token anywhere the hub shows: status, Events.
        let shown = JSONWriter.string(await hub.sync() ?? .null) + hub.events().map { JSONWriter.string($0) }.joined()
        #expect(!shown.contains("SECRET"))
    }

    @Test func unreachableClusterIsAConditionAndNothingIsPruned() async throws {
        let hub = try await ControllerCluster()
        defer { hub.stop() }
        let remote = try RemoteCluster(tokens: ["t": UserInfo(name: "ctl")])
        let repo = try GitPatternRepo()
        defer { repo.remove() }
        _ = try await hub.client.create(argoClusterSecret("c1", cluster: "edge-1", server: remote.server.url, token: "t", caPEM: remote.pki?.caCertPEM,
                                                          labels: ["region": "eu"]))
        try await hub.createSync(url: repo.url, extra: ["clusterSelector": ["matchLabels": ["region": "eu"]]])
        let running = RunningController(try hub.controller())
        defer { Task { await running.stop() } }
        #expect(await eventually(15) { await hub.condition("dev", "Ready")?["status"]?.string == "True" })
        let objects = remote.server.store.list(group: "apps", resource: "deployments", namespace: "hello-world").count
        #expect(objects > 0)

        // The cluster goes away.
        remote.stop()
        _ = try await hub.client.patch(ControllerCluster.gvk, name: "dev", namespace: "default",
                                       patch: ["metadata": ["annotations": [.init(stringLiteral: ReconcileRequest.annotation): "r1"]]], type: .merge)
        #expect(await eventually(15) { await hub.condition("dev", "Ready")?["reason"]?.string == "ClusterUnreachable" })
        #expect(await hub.condition("dev", "ClusterReady")?["status"]?.string == "False")
        #expect(remote.server.store.list(group: "apps", resource: "deployments", namespace: "hello-world").count == objects)

        // A second cluster with the same label: the selector is ambiguous, which is an error.
        _ = try await hub.client.create(argoClusterSecret("c2", cluster: "edge-2", server: remote.server.url, token: "t", caPEM: nil,
                                                          labels: ["region": "eu"]))
        #expect(await eventually(15) { await hub.condition("dev", "ClusterReady")?["reason"]?.string == "AmbiguousClusterSelector" })
        #expect(await hub.condition("dev", "Ready")?["status"]?.string == "False")
    }

    @Test func clusterSecretsDecodeBothFormatsAndNeverEchoCredentials() throws {
        // Argo CD's format with a client certificate and an insecure flag.
        let argo = argoClusterSecret("s", cluster: "prod", server: "https://api.prod:6443", token: "tok-XYZ", caPEM: "CA PEM", insecure: true)
        let c = try ClusterSecret(secret: argo)
        #expect(c.name == "prod")
        #expect(c.config.server == "https://api.prod:6443")
        #expect(c.config.auth.token == "tok-XYZ")
        #expect(c.config.caPEM == Array("CA PEM".utf8))
        #expect(c.config.insecureSkipTLSVerify)
        #expect(!"\(c.config)".contains("tok-XYZ"))

        // A kubeconfig under `kubeconfig` (label pattern.dev/cluster); name defaults to the Secret's.
        let kc = """
        apiVersion: v1
        kind: Config
        current-context: x
        clusters: [{name: x, cluster: {server: "https://10.0.0.1:6443", certificate-authority-data: \(Base64.encode(Array("CA".utf8)))}}]
        users: [{name: x, user: {token: kc-tok-SECRET}}]
        contexts: [{name: x, context: {cluster: x, user: x}}]
        """
        let s: Value = ["metadata": ["name": "edge-7", "labels": ["pattern.dev/cluster": "true"]],
                        "data": ["kubeconfig": .string(Base64.encode(Array(kc.utf8)))]]
        let k = try ClusterSecret(secret: s)
        #expect(k.name == "edge-7")
        #expect(k.config.server == "https://10.0.0.1:6443")
        #expect(k.config.auth.token == "kc-tok-SECRET")

        // A kubeconfig naming a file on the hub, or an exec plugin, is refused (no path escapes).
        for bad in ["users: [{name: x, user: {tokenFile: /etc/shadow}}]", "users: [{name: x, user: {exec: {command: sh, apiVersion: client.authentication.k8s.io/v1}}}]"] {
            let text = kc.replacingOccurrences(of: "users: [{name: x, user: {token: kc-tok-SECRET}}]", with: bad)
            let v: Value = ["metadata": ["name": "edge-8"], "data": ["kubeconfig": .string(Base64.encode(Array(text.utf8)))]]
            #expect(throws: ClusterError.self) { try ClusterSecret(secret: v) }
        }
        // Errors name the Secret and key, never the value (here: a token in broken JSON).
        var broken = argo
        broken[path: ["data", "config"]] = .string(Base64.encode(Array("{\"bearerToken\": \"tok-LEAK".utf8)))
        do {
            _ = try ClusterSecret(secret: broken)
            Issue.record("broken config accepted")
        } catch {
            #expect(error.reason == .invalidClusterSecret)
            #expect(!error.message.contains("tok-LEAK"))
            #expect(error.message.contains("fix:"))
        }
    }

    @Test func specDecodesClusterAndSelector() throws {
        let base: Value = ["site": "dev", "source": ["path": "/x"]]
        var named = base
        named["cluster"] = ["name": "edge-1"]
        #expect(try PatternSyncSpec(spec: named).cluster == .named("edge-1"))
        var sel = base
        sel["clusterSelector"] = ["matchExpressions": [["key": "region", "operator": "In", "values": ["eu", "us"]]]]
        guard case .selector(let s) = try PatternSyncSpec(spec: sel).cluster else { Issue.record("not a selector"); return }
        #expect(s.matches(["region": "eu"]))
        #expect(!s.matches(["region": "ap"]))
        #expect(try PatternSyncSpec(spec: base).cluster == .inCluster)
        var both = named
        both["clusterSelector"] = ["matchLabels": ["a": "b"]]
        #expect(throws: SpecError.self) { try PatternSyncSpec(spec: both) }
        var empty = base
        empty["clusterSelector"] = .emptyObject
        #expect(throws: SpecError.self) { try PatternSyncSpec(spec: empty) }
    }
}
