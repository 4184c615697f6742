import Testing
import Foundation
import TestSupport
import PatternCore
import KubeClient
import KubeTestServer

/// Who the client is: SelfSubjectReview where served, else the kubeconfig user.
@Suite struct IdentityTests {
    @Test func selfSubjectReviewNamesTheTokensUserWithUIDAndExtra() async throws {
        var o = TestAPIServerOptions()
        o.tokens = ["t0k": UserInfo(name: "system:serviceaccount:pattern-system:pattern-controller", groups: ["system:serviceaccounts"],
                                    uid: "5b7f3c1e-0000-4000-8000-000000000001",
                                    extra: ["authentication.kubernetes.io/pod-name": ["pattern-controller-7d9f"]])]
        let server = try TestAPIServer.start(o)
        defer { server.stop() }
        var auth = ClientConfig.Auth()
        auth.token = "t0k"
        let client = KubeClient(config: ClientConfig(server: server.url, auth: auth))
        let who = await client.identity()
        #expect(who?.username == "system:serviceaccount:pattern-system:pattern-controller")
        #expect(who?.source == .selfSubjectReview)
        #expect(who?.groups.contains("system:authenticated") == true && who?.groups.contains("system:serviceaccounts") == true)
        // The document has the real API's shape: status.userInfo {username, uid, groups, extra}.
        let raw = try await client.sendJSON(.post, "/apis/authentication.k8s.io/v1/selfsubjectreviews",
                                            body: ["apiVersion": "authentication.k8s.io/v1", "kind": "SelfSubjectReview"])
        #expect(raw["kind"] == "SelfSubjectReview")
        #expect(raw[path: ["status", "userInfo", "uid"]] == "5b7f3c1e-0000-4000-8000-000000000001")
        #expect(raw[path: ["status", "userInfo", "extra", "authentication.kubernetes.io/pod-name"]]?.array?.first == "pattern-controller-7d9f")
    }

    @Test func withoutSelfSubjectReviewTheKubeconfigUserIsNamed() async throws {
        // A server from before Kubernetes 1.28: the review is not found.
        let server = try ScriptedServer { _, _ in .respond(404, body: #"{"kind":"Status","apiVersion":"v1","status":"Failure","reason":"NotFound","code":404}"#) }
        defer { server.stop() }
        let dir = TemporaryDirectories.make("identity-kc")
        defer { TemporaryDirectories.remove(dir) }
        let path = dir + "/config"
        try ("""
            apiVersion: v1
            kind: Config
            clusters: [{name: old, cluster: {server: "\(server.url)"}}]
            users: [{name: ana@old-cluster, user: {token: abc}}]
            contexts: [{name: old, context: {cluster: old, user: ana@old-cluster}}]
            current-context: old

            """).write(toFile: path, atomically: true, encoding: .utf8)
        var config = try ClientConfig.load(kubeconfig: path)
        config.retry = RetryPolicy(maxAttempts: 1, baseDelay: 0.01, maxDelay: 0.05)
        let who = await KubeClient(config: config).identity()
        #expect(who == KubeIdentity(username: "ana@old-cluster", source: .kubeconfig))
    }
}
