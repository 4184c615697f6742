import PatternCore

/// Who the client is to the API server.
public struct KubeIdentity: Sendable, Hashable {
    public enum Source: String, Sendable { case selfSubjectReview, kubeconfig }
    /// `kubernetes-admin`, `system:serviceaccount:pattern-system:pattern-controller`, `alice@example.com`.
    public var username: String
    public var groups: [String]
    public var source: Source
    public init(username: String, groups: [String] = [], source: Source) {
        self.username = username; self.groups = groups; self.source = source
    }
}

extension KubeClient {
    /// The identity the API server sees: a SelfSubjectReview (`POST
    /// /apis/authentication.k8s.io/v1/selfsubjectreviews`, Kubernetes 1.28+) where it is served,
    /// else the kubeconfig's user entry name; nil when neither is known. One request; callers
    /// keep the answer for their run.
    public func identity() async -> KubeIdentity? {
        let review: Value = ["apiVersion": "authentication.k8s.io/v1", "kind": "SelfSubjectReview"]
        if let v = try? await sendJSON(.post, "/apis/authentication.k8s.io/v1/selfsubjectreviews", body: review, idempotent: true),
           let user = v[path: ["status", "userInfo"]], let name = user["username"]?.string, !name.isEmpty {
            var groups: [String] = []
            for g in user["groups"]?.array ?? [] { if let s = g.string { groups.append(s) } }
            return KubeIdentity(username: name, groups: groups, source: .selfSubjectReview)
        }
        return config.userName.map { KubeIdentity(username: $0, source: .kubeconfig) }
    }
}
