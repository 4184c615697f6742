import FoundationEssentials
import Glibc
import PatternCore

/// How to reach one cluster as one user: the result of resolving a kubeconfig context (or the
/// in-cluster service account). This is what `KubeClient` is built from.
public struct ClientConfig: Sendable, CustomStringConvertible {
    /// Authentication, in the order they are tried: bearer token (`token`, else `tokenFile`, else
    /// `exec`), basic auth, plus a TLS client certificate when one is configured.
    public struct Auth: Sendable, CustomStringConvertible, CustomReflectable {
        public var token: String?
        public var tokenFile: String?
        public var clientCertPEM: [UInt8]?
        public var clientKeyPEM: [UInt8]?
        public var username: String?
        public var password: String?
        public var exec: KubeConfig.ExecConfig?
        public init() {}
        public var description: String {
            var parts: [String] = []
            if token != nil { parts.append("token") }
            if let tokenFile { parts.append("tokenFile \(tokenFile)") }
            if clientCertPEM != nil { parts.append("client certificate") }
            if username != nil { parts.append("basic") }
            if let exec { parts.append("exec \(exec.command)") }
            return parts.isEmpty ? "anonymous" : parts.joined(separator: ", ")
        }
        public var customMirror: Mirror { Mirror(self, children: ["methods": description]) }
    }

    /// `https://host:port` (no trailing slash; a path prefix is kept).
    public var server: String
    public var caPEM: [UInt8]?
    public var insecureSkipTLSVerify: Bool
    public var tlsServerName: String?
    public var auth: Auth
    /// The namespace for namespaced requests that do not name one.
    public var namespace: String
    /// The kubeconfig context used, or nil in-cluster / when built by hand.
    public var contextName: String?
    /// The context's `user` entry name in the kubeconfig (who the ledger names when the server
    /// does not answer SelfSubjectReview), or nil in-cluster / when built by hand.
    public var userName: String?
    /// Where the settings came from ("kubeconfig /home/me/.kube/config", "in-cluster").
    public var source: String
    public var userAgent = "pattern/\(PatternVersion.current)"
    public var connectTimeout: Double = 10
    /// Per-request timeout (not applied to watches).
    public var requestTimeout: Double = 60
    public var retry = RetryPolicy()
    /// Items per LIST page (the `limit` parameter), as kubectl's `--chunk-size` (also 500);
    /// 0 asks for the whole list at once.
    public var listPageSize = 500
    /// Largest response body accepted (and largest watch event line), in bytes.
    public var maxResponseBytes = 512 << 20
    /// Called after every request attempt of `send` (not watches) with the method, the HTTP
    /// status (0 on a transport failure) and the duration in seconds; for metrics.
    public var requestObserver: (@Sendable (_ method: String, _ status: Int, _ seconds: Double) -> Void)?

    public init(server: String, caPEM: [UInt8]? = nil, insecureSkipTLSVerify: Bool = false, tlsServerName: String? = nil,
                auth: Auth = Auth(), namespace: String = "default", contextName: String? = nil, source: String = "manual") {
        var s = server
        while s.hasSuffix("/") { s.removeLast() }
        self.server = s; self.caPEM = caPEM; self.insecureSkipTLSVerify = insecureSkipTLSVerify
        self.tlsServerName = tlsServerName; self.auth = auth; self.namespace = namespace
        self.contextName = contextName; self.source = source
    }

    public var description: String {
        "\(server) (context \(contextName ?? "-"), namespace \(namespace), auth: \(auth), from \(source))"
    }

    /// Default paths of the in-cluster service account.
    public static let serviceAccountDirectory = "/var/run/secrets/kubernetes.io/serviceaccount"

    /// Resolves the configuration as kubectl does:
    /// 1. `kubeconfig` (the `--kubeconfig` flag): that file only; it must exist;
    /// 2. `KUBECONFIG`: colon-separated files, merged (first file wins per name);
    /// 3. `~/.kube/config` when it exists;
    /// 4. in-cluster: `KUBERNETES_SERVICE_HOST`/`_PORT` with the service-account token and CA.
    /// `context` overrides `current-context`; `namespace` overrides the context's namespace.
    public static func load(kubeconfig: String? = nil, context: String? = nil, namespace: String? = nil,
                            environment: [String: String] = ProcessInfo.processInfo.environment,
                            serviceAccountDirectory: String = serviceAccountDirectory) throws(KubeError) -> ClientConfig {
        let config: KubeConfig
        if let kubeconfig, !kubeconfig.isEmpty {
            guard FileManager.default.fileExists(atPath: kubeconfig) else {
                throw .configuration("kubeconfig \(kubeconfig) does not exist")
            }
            config = try KubeConfig.load(file: kubeconfig)
        } else if let env = environment["KUBECONFIG"], !env.isEmpty {
            let paths = env.split(separator: ":").map(String.init)
            config = try KubeConfig.load(files: paths)
            if config.files.isEmpty {
                throw .configuration("none of the files in KUBECONFIG exist (\(env))")
            }
        } else if let home = environment["HOME"], FileManager.default.fileExists(atPath: home + "/.kube/config") {
            config = try KubeConfig.load(file: home + "/.kube/config")
        } else if environment["KUBERNETES_SERVICE_HOST"] != nil, context == nil {
            var c = try inCluster(environment: environment, directory: serviceAccountDirectory)
            if let namespace { c.namespace = namespace }
            return c
        } else {
            throw .configuration("no kubeconfig found: pass --kubeconfig, set KUBECONFIG, create ~/.kube/config, or run in a pod")
        }
        return try resolve(config, context: context, namespace: namespace)
    }

    /// Picks a context out of a (merged) kubeconfig and reads the files it names.
    public static func resolve(_ config: KubeConfig, context: String? = nil, namespace: String? = nil) throws(KubeError) -> ClientConfig {
        let where_ = config.files.joined(separator: ":")
        guard let name = context ?? config.currentContext else {
            throw .configuration("no current context in \(where_): pass --context or run `kubectl config use-context`")
        }
        guard let ctx = config.contexts[name] else {
            let known = config.contexts.keys.sorted().joined(separator: ", ")
            throw .configuration("context \"\(name)\" not found in \(where_) (contexts: \(known.isEmpty ? "none" : known))")
        }
        guard let cluster = config.clusters[ctx.cluster] else {
            throw .configuration("context \"\(name)\" names cluster \"\(ctx.cluster)\", which is not in \(where_)")
        }
        var auth = Auth()
        if !ctx.user.isEmpty {
            guard let user = config.users[ctx.user] else {
                throw .configuration("context \"\(name)\" names user \"\(ctx.user)\", which is not in \(where_)")
            }
            if let p = user.authProvider, user.exec == nil, user.token == nil {
                throw .configuration("user \"\(ctx.user)\" uses auth-provider \"\(p)\", which is not supported; use an exec credential plugin")
            }
            auth.token = user.token
            auth.tokenFile = user.tokenFile
            auth.exec = user.exec
            auth.username = user.username
            auth.password = user.password
            auth.clientCertPEM = try user.clientCertificateData.orRead(user.clientCertificate, what: "client-certificate")
            auth.clientKeyPEM = try user.clientKeyData.orRead(user.clientKey, what: "client-key")
            if (auth.clientCertPEM == nil) != (auth.clientKeyPEM == nil) {
                throw .configuration("user \"\(ctx.user)\" has a client certificate without a key (or a key without a certificate)")
            }
        }
        let ca = try cluster.certificateAuthorityData.orRead(cluster.certificateAuthority, what: "certificate-authority")
        guard cluster.server.hasPrefix("https://") || cluster.server.hasPrefix("http://") else {
            throw .configuration("cluster \"\(ctx.cluster)\" has server \"\(cluster.server)\"; expected an https:// URL")
        }
        var config = ClientConfig(server: cluster.server, caPEM: ca, insecureSkipTLSVerify: cluster.insecureSkipTLSVerify,
                                  tlsServerName: cluster.tlsServerName, auth: auth,
                                  namespace: namespace ?? ctx.namespace ?? "default", contextName: name,
                                  source: "kubeconfig \(where_)")
        config.userName = ctx.user.isEmpty ? nil : ctx.user
        return config
    }

    /// The in-cluster configuration: `https://$KUBERNETES_SERVICE_HOST:$KUBERNETES_SERVICE_PORT`,
    /// the service-account token (re-read when it rotates), its CA and namespace.
    public static func inCluster(environment: [String: String] = ProcessInfo.processInfo.environment,
                                 directory: String = serviceAccountDirectory) throws(KubeError) -> ClientConfig {
        guard let host = environment["KUBERNETES_SERVICE_HOST"], !host.isEmpty,
              let port = environment["KUBERNETES_SERVICE_PORT"], !port.isEmpty else {
            throw .configuration("not running in a cluster: KUBERNETES_SERVICE_HOST and KUBERNETES_SERVICE_PORT are not set")
        }
        let tokenPath = directory + "/token"
        guard FileManager.default.fileExists(atPath: tokenPath) else {
            throw .configuration("in-cluster: the service-account token \(tokenPath) does not exist (is automountServiceAccountToken off?)")
        }
        let hostPart = host.contains(":") ? "[\(host)]" : host
        var auth = Auth()
        auth.tokenFile = tokenPath
        let ca = FileManager.default.contents(atPath: directory + "/ca.crt").map { [UInt8]($0) }
        let ns = FileManager.default.contents(atPath: directory + "/namespace")
            .map { String(decoding: $0, as: UTF8.self).trimming(.whitespacesAndNewlines) }
        return ClientConfig(server: "https://\(hostPart):\(port)", caPEM: ca, auth: auth,
                            namespace: (ns?.isEmpty == false ? ns! : "default"), contextName: nil, source: "in-cluster")
    }

    static func readFile(_ path: String?, what: String) throws(KubeError) -> [UInt8]? {
        guard let path else { return nil }
        guard let d = FileManager.default.contents(atPath: path) else {
            throw .configuration("cannot read \(what) file \(path)")
        }
        return [UInt8](d)
    }
}

/// When and how often failed requests are retried. See Docs/kube-client.md.
public struct RetryPolicy: Sendable, Hashable {
    /// Attempts in total (1 = no retries).
    public var maxAttempts: Int = 5
    public var baseDelay: Double = 0.2
    public var maxDelay: Double = 10
    /// Fraction of the delay added at random (0.2 → up to +20 %).
    public var jitter: Double = 0.2
    /// The longest Retry-After honoured; longer waits fail with `tooManyRequests` instead.
    public var maxRetryAfter: Double = 60
    public init(maxAttempts: Int = 5, baseDelay: Double = 0.2, maxDelay: Double = 10, jitter: Double = 0.2, maxRetryAfter: Double = 60) {
        self.maxAttempts = maxAttempts; self.baseDelay = baseDelay; self.maxDelay = maxDelay
        self.jitter = jitter; self.maxRetryAfter = maxRetryAfter
    }
    public static let none = RetryPolicy(maxAttempts: 1)

    /// Exponential backoff with jitter for attempt `n` (1-based count of failures so far).
    func delay(afterFailure n: Int) -> Double {
        let d = min(maxDelay, baseDelay * pow(2, Double(n - 1)))
        return d + d * jitter * Double.random(in: 0...1)
    }
}

extension Optional where Wrapped == [UInt8] {
    /// The inline data when present, else the named file's bytes (nil when neither is set).
    func orRead(_ path: String?, what: String) throws(KubeError) -> [UInt8]? {
        if let self { return self }
        return try ClientConfig.readFile(path, what: what)
    }
}
