import PatternCore

/// The result of `pattern cluster check`: can this configuration reach the cluster, who does
/// the server think we are, and may we list namespaces.
public struct ClusterCheckReport: Sendable {
    public struct Step: Sendable {
        public var name: String
        public var ok: Bool
        /// What was found, or what failed and what to do about it.
        public var detail: String
    }
    public var steps: [Step] = []
    /// False when a required step failed (configuration, reachability/TLS/auth, listing namespaces).
    public var ok: Bool = true
    public var serverVersion: String?
    public var username: String?
    public var groups: [String] = []

    public init() {}

    mutating func add(_ name: String, ok: Bool, required: Bool = true, _ detail: String) {
        steps.append(Step(name: name, ok: ok, detail: detail))
        if !ok && required { self.ok = false }
    }
}

extension KubeClient {
    /// Runs the checks of `pattern cluster check` against this client's cluster. Never throws:
    /// every failure becomes a failed step with an actionable message.
    public func check() async -> ClusterCheckReport {
        var report = ClusterCheckReport()
        report.add("config", ok: true, "\(config.server) — context \(config.contextName ?? "-"), auth: \(config.auth), from \(config.source)")

        // 1. Reachability, TLS and authentication: /version.
        do {
            let r = try await send(.get, "/version")
            let v = try r.json()
            let version = v["gitVersion"]?.string ?? "unknown"
            report.serverVersion = version
            report.add("server", ok: true, "Kubernetes \(version) (HTTP/\(r.httpVersion))")
        } catch {
            report.add("server", ok: false, Self.explain(error, server: config.server))
            return report
        }

        // 2. Identity, when the server supports SelfSubjectReview (1.28+).
        do {
            let review: Value = ["apiVersion": "authentication.k8s.io/v1", "kind": "SelfSubjectReview"]
            let v = try await sendJSON(.post, "/apis/authentication.k8s.io/v1/selfsubjectreviews", body: review, idempotent: true)
            let user = v[path: ["status", "userInfo"]]
            report.username = user?["username"]?.string
            report.groups = (user?["groups"]?.array ?? []).compactMap(\.string)
            let groups = report.groups.isEmpty ? "" : " (groups: \(report.groups.joined(separator: ", ")))"
            report.add("identity", ok: true, "\(report.username ?? "unknown user")\(groups)")
        } catch {
            switch error {
            case .notFound, .http:
                report.add("identity", ok: true, required: false, "the server does not offer SelfSubjectReview (Kubernetes before 1.28); identity unknown")
            case .unauthorized:
                report.add("identity", ok: false, Self.explain(error, server: config.server))
                return report
            default:
                report.add("identity", ok: false, required: false, Self.explain(error, server: config.server))
            }
        }

        // 3. Authorization: list namespaces.
        do {
            let v = try await sendJSON(.get, "/api/v1/namespaces", query: [("limit", "1")])
            let more = v[path: ["metadata", "continue"]]?.string.map { !$0.isEmpty } ?? false
            let n = v["items"]?.array?.count ?? 0
            report.add("list namespaces", ok: true, "allowed (\(more ? "at least 2 namespaces" : n == 1 ? "1 namespace" : "no namespaces"))")
        } catch {
            report.add("list namespaces", ok: false, Self.explain(error, server: config.server))
        }
        return report
    }

    /// A failure in words a user can act on.
    public static func explain(_ error: KubeError, server: String) -> String {
        switch error {
        case .transport(let t):
            switch t.kind {
            case .connect, .resolve:
                return "\(t.message) (fix: check the cluster's server address in the kubeconfig and that the API server is running)"
            case .tls:
                return "\(t.message) (fix: check certificate-authority(-data) and tls-server-name of the cluster; insecure-skip-tls-verify only for throwaway clusters)"
            case .timeout:
                return "\(t.message) (fix: check network access to the API server)"
            default:
                return t.message
            }
        case .unauthorized(let s):
            return "unauthorized: the server rejected the credentials\(s.message.isEmpty ? "" : " (\(s.message))") (fix: refresh the token or certificate of this context's user)"
        case .forbidden(let s):
            return "forbidden: \(s.message) (fix: grant this user RBAC for it, or use another context)"
        default:
            return error.description
        }
    }
}
