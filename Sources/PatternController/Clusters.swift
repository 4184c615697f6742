import PatternCore
import KubeClient
import Synchronization

/// Where a PatternSync applies: `spec.cluster: {name: …}` or `spec.clusterSelector` (a label
/// selector over the cluster Secrets' labels). Neither: the cluster the controller runs in.
public enum ClusterRef: Sendable, Hashable {
    case inCluster
    case named(String)
    case selector(ClusterSelector)

    /// Decodes `spec.cluster` / `spec.clusterSelector` (both set is an error).
    init(spec: Value) throws(SpecError) {
        let named = spec["cluster"]
        let sel = spec["clusterSelector"]
        switch (named, sel) {
        case (nil, nil), (.null?, nil), (nil, .null?), (.null?, .null?):
            self = .inCluster
        case (let n?, nil), (let n?, .null?):
            guard let name = n["name"]?.string, !name.isEmpty else {
                throw SpecError("spec.cluster.name is required when spec.cluster is set: the name of a cluster Secret (its `name` key, else metadata.name)")
            }
            self = .named(name)
        case (nil, let s?), (.null?, let s?):
            self = .selector(try ClusterSelector(s))
        case (_?, _?):
            throw SpecError("spec.cluster and spec.clusterSelector are both set; set one of them")
        }
    }
}

/// A Kubernetes label selector (`matchLabels`, `matchExpressions` with In, NotIn, Exists,
/// DoesNotExist), as `spec.clusterSelector` carries it. An empty selector matches nothing
/// (so a typo never sends a site to every cluster).
public struct ClusterSelector: Sendable, Hashable {
    public struct Requirement: Sendable, Hashable {
        public var key: String
        public var op: String
        public var values: [String]
    }
    public var matchLabels: [String: String] = [:]
    public var requirements: [Requirement] = []

    init(_ v: Value) throws(SpecError) {
        guard let o = v.object else { throw SpecError("spec.clusterSelector must be a map with matchLabels and/or matchExpressions") }
        for k in o.keys where k != "matchLabels" && k != "matchExpressions" {
            throw SpecError("spec.clusterSelector.\(k) is not a selector field (use matchLabels or matchExpressions)")
        }
        for (k, x) in v["matchLabels"]?.object ?? Object() {
            guard let s = x.string else { throw SpecError("spec.clusterSelector.matchLabels.\(k) must be a string") }
            matchLabels[k] = s
        }
        for (i, e) in (v["matchExpressions"]?.array ?? []).enumerated() {
            guard let key = e["key"]?.string, let op = e["operator"]?.string else {
                throw SpecError("spec.clusterSelector.matchExpressions[\(i)] needs key and operator")
            }
            let values = (e["values"]?.array ?? []).compactMap(\.string)
            switch op {
            case "In", "NotIn":
                guard !values.isEmpty else { throw SpecError("spec.clusterSelector.matchExpressions[\(i)]: \(op) needs at least one value") }
            case "Exists", "DoesNotExist":
                guard values.isEmpty else { throw SpecError("spec.clusterSelector.matchExpressions[\(i)]: \(op) takes no values") }
            default:
                throw SpecError("spec.clusterSelector.matchExpressions[\(i)]: unknown operator '\(op)' (use In, NotIn, Exists or DoesNotExist)")
            }
            requirements.append(Requirement(key: key, op: op, values: values))
        }
        if matchLabels.isEmpty && requirements.isEmpty {
            throw SpecError("spec.clusterSelector is empty; it would match every cluster (name the labels to match)")
        }
    }

    /// True when `labels` satisfy every term.
    public func matches(_ labels: [String: String]) -> Bool {
        for (k, v) in matchLabels where labels[k] != v { return false }
        for r in requirements {
            let have = labels[r.key]
            switch r.op {
            case "In": guard let have, r.values.contains(have) else { return false }
            case "NotIn": if let have, r.values.contains(have) { return false }
            case "Exists": if have == nil { return false }
            default: if have != nil { return false }
            }
        }
        return true
    }
}

/// Why a PatternSync's cluster cannot be used (the `ClusterReady` condition's reason).
public struct ClusterError: Error, Sendable, CustomStringConvertible {
    public enum Reason: String, Sendable {
        /// No cluster Secret has that name / matches the selector.
        case clusterNotFound = "ClusterNotFound"
        /// The selector matches more than one cluster.
        case ambiguousClusterSelector = "AmbiguousClusterSelector"
        /// The Secret is missing keys or holds something unusable.
        case invalidClusterSecret = "InvalidClusterSecret"
        /// The hub cannot list the cluster Secrets.
        case clusterSecretsUnreadable = "ClusterSecretsUnreadable"
        /// The cluster did not answer (connection refused, TLS failure, timeout, 401/403).
        case clusterUnreachable = "ClusterUnreachable"
    }
    public var reason: Reason
    /// Never carries a credential: names, keys and server URLs only.
    public var message: String
    public var description: String { message }
}

/// One registered cluster: a Secret in the controller's namespace, in Argo CD's format
/// (label `argocd.argoproj.io/secret-type: cluster`; keys `name`, `server`, `config`) or holding
/// a kubeconfig (label `pattern.dev/cluster`; key `kubeconfig`, optional `name`).
public struct ClusterSecret: Sendable {
    /// The cluster's name (`name` key, else the Secret's name).
    public var name: String
    public var secretName: String
    public var resourceVersion: String
    public var labels: [String: String]
    /// The connection (with credentials; never printed: its description names no secret).
    public var config: ClientConfig

    public static let argoLabel = "argocd.argoproj.io/secret-type"
    public static let patternLabel = "pattern.dev/cluster"

    /// Decodes a cluster Secret. Errors name the Secret and key, never a value.
    public init(secret: Value) throws(ClusterError) {
        let sname = secret.metadataName ?? ""
        secretName = sname
        resourceVersion = secret[path: ["metadata", "resourceVersion"]]?.string ?? ""
        var l: [String: String] = [:]
        for (k, v) in secret[path: ["metadata", "labels"]]?.object ?? Object() { l[k] = v.string ?? "" }
        labels = l
        func bad(_ m: String, fix: String) -> ClusterError {
            ClusterError(reason: .invalidClusterSecret, message: "cluster Secret \(sname): \(m); fix: \(fix)")
        }
        func field(_ k: String) -> String? {
            if let b64 = secret[path: ["data", k]]?.string {
                guard let b = Base64.decode(b64) else { return nil }
                return String(decoding: b, as: UTF8.self)
            }
            return secret[path: ["stringData", k]]?.string
        }
        name = field("name").flatMap { $0.isEmpty ? nil : $0 } ?? sname
        if let kc = field("kubeconfig") {
            config = try ClusterSecret.fromKubeconfig(kc, secret: sname, bad: bad)
        } else if let server = field("server"), !server.isEmpty {
            config = try ClusterSecret.fromArgo(server: server, config: field("config") ?? "{}", secret: sname, bad: bad)
        } else {
            throw bad("has neither a `kubeconfig` key nor a `server` key",
                      fix: "add `server` and `config` (Argo CD's cluster Secret format) or a `kubeconfig` key")
        }
        config.source = "cluster Secret \(sname)"
    }

    /// Argo CD's `config` JSON: `bearerToken`, `username`/`password`, `tlsClientConfig`
    /// (`caData`, `certData`, `keyData` as base64 PEM, `insecure`, `serverName`).
    static func fromArgo(server: String, config text: String, secret: String,
                         bad: (String, String) -> ClusterError) throws(ClusterError) -> ClientConfig {
        guard server.hasPrefix("https://") || server.hasPrefix("http://") else {
            throw bad("`server` is not an http(s) URL", "set `server` to the API server URL, e.g. https://api.edge-1.example:6443")
        }
        let c: Value
        do { c = try JSONParser.parse(text, file: "config") } catch {
            // The parser's message could quote the token: name only where it failed.
            throw bad("`config` is not valid JSON (at \(error.location?.mark.line ?? 0):\(error.location?.mark.column ?? 0))", "write `config` as Argo CD documents it: {\"bearerToken\": …, \"tlsClientConfig\": {…}}")
        }
        guard c.object != nil else { throw bad("`config` must be a JSON object", "write {\"bearerToken\": …, \"tlsClientConfig\": {…}}") }
        for unsupported in ["execProviderConfig", "awsAuthConfig"] where c[unsupported] != nil {
            throw bad("`config.\(unsupported)` is not supported (the hub runs no credential plugins)",
                      "use a bearerToken (a ServiceAccount token) or a client certificate")
        }
        var auth = ClientConfig.Auth()
        auth.token = c["bearerToken"]?.string.flatMap { $0.isEmpty ? nil : $0 }
        auth.username = c["username"]?.string
        auth.password = c["password"]?.string
        let tls = c["tlsClientConfig"] ?? .emptyObject
        func pem(_ k: String) throws(ClusterError) -> [UInt8]? {
            guard let s = tls[k]?.string, !s.isEmpty else { return nil }
            guard let b = Base64.decode(s) else { throw bad("`config.tlsClientConfig.\(k)` is not base64", "base64-encode the PEM, as Argo CD expects") }
            return b
        }
        auth.clientCertPEM = try pem("certData")
        auth.clientKeyPEM = try pem("keyData")
        if (auth.clientCertPEM == nil) != (auth.clientKeyPEM == nil) {
            throw bad("`config.tlsClientConfig` has certData without keyData (or keyData without certData)", "give both, or neither")
        }
        return ClientConfig(server: server, caPEM: try pem("caData"), insecureSkipTLSVerify: tls["insecure"]?.bool ?? false,
                            tlsServerName: tls["serverName"]?.string, auth: auth)
    }

    /// A kubeconfig with inline data only: file paths, exec plugins and auth providers would
    /// read or run things on the hub's filesystem, so they are refused.
    static func fromKubeconfig(_ text: String, secret: String, bad: (String, String) -> ClusterError) throws(ClusterError) -> ClientConfig {
        let kc: KubeConfig
        do { kc = try KubeConfig.parse(text, path: "Secret \(secret) key kubeconfig") } catch {
            throw bad("`kubeconfig` is not a valid kubeconfig", "store the output of `kubectl config view --minify --flatten`")
        }
        for (n, c) in kc.clusters where c.certificateAuthority != nil {
            throw bad("kubeconfig cluster \(n) names a certificate-authority file", "inline it: `kubectl config view --minify --flatten`")
        }
        for (n, u) in kc.users {
            if u.tokenFile != nil || u.clientCertificate != nil || u.clientKey != nil {
                throw bad("kubeconfig user \(n) names a file", "inline the data: `kubectl config view --minify --flatten`")
            }
            if u.exec != nil || u.authProvider != nil {
                throw bad("kubeconfig user \(n) uses an exec plugin or auth provider (the hub runs none)", "use a ServiceAccount token or a client certificate")
            }
        }
        do { return try ClientConfig.resolve(kc) } catch {
            throw bad("kubeconfig: \(error)", "store a kubeconfig with a current-context: `kubectl config view --minify --flatten`")
        }
    }
}

/// A PatternSync's destination as resolved for one reconcile.
public struct ClusterTarget: Sendable {
    /// nil: the cluster the controller runs in.
    public var name: String?
    public var client: KubeClient
    /// TLS verification is off for this cluster (the Secret says insecure).
    public var insecure: Bool
    /// Secret name and resourceVersion the client was built from ("" in-cluster).
    public var generation: String
}

/// The cluster Secrets of the controller's namespace and one cached client per Secret
/// (rebuilt when the Secret's resourceVersion changes). The Secret list is read at most once
/// per `listTTL` seconds however many PatternSyncs resolve at once.
public final class ClusterRegistry: Sendable {
    let hub: KubeClient
    let namespace: String
    let listTTL: Double
    let configure: @Sendable (ClientConfig) -> KubeClient
    static let secretGVK = GroupVersionKind(group: "", version: "v1", kind: "Secret")

    private struct State: Sendable {
        var listed: [Value] = []
        var listedAt: Double = -.infinity
        /// Secret name → (resourceVersion, client).
        var clients: [String: (String, ClusterSecret, KubeClient)] = [:]
    }
    private let state = Mutex(State())

    /// `configure` builds a client from a cluster's connection (the controller adds its user
    /// agent, retry policy and request metrics).
    public init(hub: KubeClient, namespace: String, listTTL: Double = 2,
                configure: @escaping @Sendable (ClientConfig) -> KubeClient = { KubeClient(config: $0) }) {
        self.hub = hub; self.namespace = namespace; self.listTTL = listTTL; self.configure = configure
    }

    /// Forgets the Secret list, so the next resolve reads it again (a cluster Secret changed).
    public func invalidate() { state.withLock { $0.listedAt = -.infinity } }

    /// The namespace the cluster Secrets are read from.
    public var secretNamespace: String { namespace }

    /// The number of cached clients (for tests and metrics).
    public var cachedClients: Int { state.withLock { $0.clients.count } }

    func secrets() async throws(ClusterError) -> [Value] {
        let now = monotonic()
        if let cached = state.withLock({ now - $0.listedAt < listTTL ? $0.listed : nil }) { return cached }
        var out: [Value] = []
        do {
            out += try await hub.list(ClusterRegistry.secretGVK, namespace: namespace, labelSelector: "\(ClusterSecret.argoLabel)=cluster").items
            out += try await hub.list(ClusterRegistry.secretGVK, namespace: namespace, labelSelector: ClusterSecret.patternLabel).items
        } catch {
            throw ClusterError(reason: .clusterSecretsUnreadable,
                               message: "cannot list the cluster Secrets in namespace \(namespace): \(error); fix: grant the controller get/list on secrets in \(namespace)")
        }
        let names = Set(out.compactMap(\.metadataName))
        state.withLock { s in
            s.listed = out; s.listedAt = now
            // A deleted Secret's client goes with it.
            for k in Array(s.clients.keys) where !names.contains(k) { s.clients[k] = nil }
        }
        return out
    }

    /// Resolves `ref` to a cluster and its (cached) client.
    public func resolve(_ ref: ClusterRef) async throws(ClusterError) -> ClusterTarget {
        if case .inCluster = ref { return ClusterTarget(name: nil, client: hub, insecure: false, generation: "") }
        let all = try await secrets()
        var seen = Set<String>()
        var candidates: [Value] = []
        for s in all {
            let sname = s.metadataName ?? ""
            guard seen.insert(sname).inserted else { continue }
            switch ref {
            case .named(let n):
                let keyName = s[path: ["data", "name"]]?.string.flatMap(Base64.decode).map { String(decoding: $0, as: UTF8.self) }
                    ?? s[path: ["stringData", "name"]]?.string
                if (keyName ?? sname) == n || (keyName == nil && sname == n) { candidates.append(s) }
            case .selector(let sel):
                var l: [String: String] = [:]
                for (k, v) in s[path: ["metadata", "labels"]]?.object ?? Object() { l[k] = v.string ?? "" }
                if sel.matches(l) { candidates.append(s) }
            case .inCluster: break
            }
        }
        guard let secret = candidates.first else {
            let what: String
            if case .named(let n) = ref { what = "named \(n)" } else { what = "matching spec.clusterSelector" }
            throw ClusterError(reason: .clusterNotFound,
                               message: "no cluster Secret \(what) in namespace \(namespace); fix: create one labelled \(ClusterSecret.argoLabel)=cluster (keys name, server, config) or \(ClusterSecret.patternLabel) (key kubeconfig)")
        }
        if candidates.count > 1 {
            let names = candidates.prefix(5).map { $0.metadataName ?? "" }.joined(separator: ", ")
            throw ClusterError(reason: .ambiguousClusterSelector,
                               message: "\(candidates.count) cluster Secrets match (\(names)\(candidates.count > 5 ? ", …" : "")); a PatternSync reconciles one cluster; fix: narrow spec.cluster/clusterSelector, or create one PatternSync per cluster")
        }
        return try client(for: secret)
    }

    func client(for secret: Value) throws(ClusterError) -> ClusterTarget {
        let sname = secret.metadataName ?? ""
        let rv = secret[path: ["metadata", "resourceVersion"]]?.string ?? ""
        if let (cachedRV, cs, c) = state.withLock({ $0.clients[sname] }), cachedRV == rv {
            return ClusterTarget(name: cs.name, client: c, insecure: cs.config.insecureSkipTLSVerify, generation: "\(sname)@\(rv)")
        }
        let cs = try ClusterSecret(secret: secret)
        let c = configure(cs.config)
        state.withLock { $0.clients[sname] = (rv, cs, c) }
        return ClusterTarget(name: cs.name, client: c, insecure: cs.config.insecureSkipTLSVerify, generation: "\(sname)@\(rv)")
    }
}
