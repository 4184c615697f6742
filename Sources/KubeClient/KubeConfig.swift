import FoundationEssentials
import PatternCore

/// A kubeconfig: clusters, users and contexts by name, merged from one or more files the way
/// kubectl merges `KUBECONFIG` (the first file that defines a name wins; `current-context` comes
/// from the first file that sets it). File paths inside are already resolved against the
/// directory of the file that held them.
public struct KubeConfig: Sendable {
    public struct Cluster: Sendable, Hashable {
        public var server: String
        /// CA bundle path (resolved) from `certificate-authority`.
        public var certificateAuthority: String?
        /// PEM bytes from `certificate-authority-data`.
        public var certificateAuthorityData: [UInt8]?
        public var insecureSkipTLSVerify: Bool
        public var tlsServerName: String?
        public init(server: String, certificateAuthority: String? = nil, certificateAuthorityData: [UInt8]? = nil,
                    insecureSkipTLSVerify: Bool = false, tlsServerName: String? = nil) {
            self.server = server; self.certificateAuthority = certificateAuthority
            self.certificateAuthorityData = certificateAuthorityData
            self.insecureSkipTLSVerify = insecureSkipTLSVerify; self.tlsServerName = tlsServerName
        }
    }

    /// An `exec` credential plugin (client.authentication.k8s.io v1 or v1beta1).
    public struct ExecConfig: Sendable, Hashable {
        public var apiVersion: String
        /// Resolved against the kubeconfig's directory when it contains a `/` and is relative.
        public var command: String
        public var args: [String]
        public var env: [(name: String, value: String)]
        public var installHint: String?
        public var provideClusterInfo: Bool
        public init(apiVersion: String = "client.authentication.k8s.io/v1", command: String, args: [String] = [],
                    env: [(name: String, value: String)] = [], installHint: String? = nil, provideClusterInfo: Bool = false) {
            self.apiVersion = apiVersion; self.command = command; self.args = args; self.env = env
            self.installHint = installHint; self.provideClusterInfo = provideClusterInfo
        }
        public static func == (a: Self, b: Self) -> Bool {
            a.apiVersion == b.apiVersion && a.command == b.command && a.args == b.args
                && a.env.map(\.name) == b.env.map(\.name) && a.env.map(\.value) == b.env.map(\.value)
                && a.installHint == b.installHint && a.provideClusterInfo == b.provideClusterInfo
        }
        public func hash(into h: inout Hasher) { h.combine(command); h.combine(args) }
    }

    /// Credentials of a user entry. `description` and `dump` never show secrets.
    public struct User: Sendable, Hashable, CustomStringConvertible, CustomReflectable {
        public var token: String?
        public var tokenFile: String?
        public var clientCertificate: String?
        public var clientCertificateData: [UInt8]?
        public var clientKey: String?
        public var clientKeyData: [UInt8]?
        public var username: String?
        public var password: String?
        public var exec: ExecConfig?
        /// Name of an `auth-provider` entry (unsupported; reported as an error when used).
        public var authProvider: String?
        public init() {}

        public var description: String {
            var parts: [String] = []
            if token != nil { parts.append("token: <redacted>") }
            if let tokenFile { parts.append("tokenFile: \(tokenFile)") }
            if let clientCertificate { parts.append("client-certificate: \(clientCertificate)") }
            if clientCertificateData != nil { parts.append("client-certificate-data: <\(clientCertificateData!.count) bytes>") }
            if clientKey != nil || clientKeyData != nil { parts.append("client-key: <redacted>") }
            if let username { parts.append("username: \(username)") }
            if password != nil { parts.append("password: <redacted>") }
            if let exec { parts.append("exec: \(exec.command)") }
            return "User(" + parts.joined(separator: ", ") + ")"
        }
        public var customMirror: Mirror { Mirror(self, children: ["summary": description]) }
    }

    public struct Context: Sendable, Hashable {
        public var cluster: String
        public var user: String
        public var namespace: String?
        public init(cluster: String, user: String, namespace: String? = nil) {
            self.cluster = cluster; self.user = user; self.namespace = namespace
        }
    }

    public var clusters: [String: Cluster] = [:]
    public var users: [String: User] = [:]
    public var contexts: [String: Context] = [:]
    public var currentContext: String?
    /// The files this configuration was read from, in merge order.
    public var files: [String] = []

    public init() {}

    // MARK: Loading

    /// Parses one kubeconfig file's text. `path` is used for messages and to resolve relative paths.
    public static func parse(_ text: String, path: String) throws(KubeError) -> KubeConfig {
        let root: Value
        do { root = try YAMLParser.parse(text, file: path) } catch {
            throw .configuration("cannot parse kubeconfig \(path): \(error.message)")
        }
        var cfg = KubeConfig()
        cfg.files = [path]
        if root.isNull { return cfg }
        guard root.object != nil else { throw .configuration("kubeconfig \(path) is \(root.typeName), expected a map") }
        let dir = directory(of: path)

        func str(_ v: Value?, _ what: String) throws(KubeError) -> String? {
            guard let v, !v.isNull else { return nil }
            guard let s = v.scalarText, v.isScalar else { throw .configuration("\(path):\(v.mark): \(what) must be a string") }
            return s
        }
        func data(_ v: Value?, _ what: String) throws(KubeError) -> [UInt8]? {
            guard let s = try str(v, what), !s.isEmpty else { return nil }
            guard let d = Data(base64Encoded: s, options: .ignoreUnknownCharacters) else {
                throw .configuration("\(path):\(v!.mark): \(what) is not valid base64")
            }
            return [UInt8](d)
        }
        func file(_ v: Value?, _ what: String) throws(KubeError) -> String? {
            guard let s = try str(v, what), !s.isEmpty else { return nil }
            return resolve(s, against: dir)
        }
        func entries(_ key: String, _ inner: String) throws(KubeError) -> [(String, Value, Mark)] {
            guard let list = root[key], !list.isNull else { return [] }
            guard let items = list.array else { throw .configuration("\(path):\(list.mark): \(key) must be a list") }
            var out: [(String, Value, Mark)] = []
            for item in items {
                guard let name = item["name"]?.string, !name.isEmpty else {
                    throw .configuration("\(path):\(item.mark): an entry of \(key) has no name")
                }
                out.append((name, item[inner] ?? .emptyObject, item.mark))
            }
            return out
        }

        for (name, c, mark) in try entries("clusters", "cluster") where cfg.clusters[name] == nil {
            guard let server = try str(c["server"], "server"), !server.isEmpty else {
                throw .configuration("\(path):\(mark): cluster \"\(name)\" has no server")
            }
            cfg.clusters[name] = Cluster(
                server: server,
                certificateAuthority: try file(c["certificate-authority"], "certificate-authority"),
                certificateAuthorityData: try data(c["certificate-authority-data"], "certificate-authority-data"),
                insecureSkipTLSVerify: c["insecure-skip-tls-verify"]?.bool ?? false,
                tlsServerName: try str(c["tls-server-name"], "tls-server-name"))
        }
        for (name, u, _) in try entries("users", "user") where cfg.users[name] == nil {
            var user = User()
            user.token = try str(u["token"], "token").flatMap { $0.isEmpty ? nil : $0 }
            user.tokenFile = try file(u["tokenFile"], "tokenFile")
            user.clientCertificate = try file(u["client-certificate"], "client-certificate")
            user.clientCertificateData = try data(u["client-certificate-data"], "client-certificate-data")
            user.clientKey = try file(u["client-key"], "client-key")
            user.clientKeyData = try data(u["client-key-data"], "client-key-data")
            user.username = try str(u["username"], "username")
            user.password = try str(u["password"], "password")
            user.authProvider = u[path: ["auth-provider", "name"]]?.string
            if let e = u["exec"], !e.isNull {
                guard var command = try str(e["command"], "exec.command"), !command.isEmpty else {
                    throw .configuration("\(path):\(e.mark): exec of user \"\(name)\" has no command")
                }
                if command.contains("/") { command = resolve(command, against: dir) }
                var env: [(name: String, value: String)] = []
                for item in e["env"]?.array ?? [] {
                    guard let n = item["name"]?.string else { continue }
                    env.append((name: n, value: item["value"]?.scalarText ?? ""))
                }
                user.exec = ExecConfig(
                    apiVersion: try str(e["apiVersion"], "exec.apiVersion") ?? "client.authentication.k8s.io/v1",
                    command: command,
                    args: (e["args"]?.array ?? []).compactMap(\.scalarText),
                    env: env,
                    installHint: try str(e["installHint"], "exec.installHint"),
                    provideClusterInfo: e["provideClusterInfo"]?.bool ?? false)
            }
            cfg.users[name] = user
        }
        for (name, c, _) in try entries("contexts", "context") where cfg.contexts[name] == nil {
            cfg.contexts[name] = Context(cluster: try str(c["cluster"], "cluster") ?? "",
                                         user: try str(c["user"], "user") ?? "",
                                         namespace: try str(c["namespace"], "namespace").flatMap { $0.isEmpty ? nil : $0 })
        }
        if let cc = try str(root["current-context"], "current-context"), !cc.isEmpty { cfg.currentContext = cc }
        return cfg
    }

    /// Reads and parses one file.
    public static func load(file path: String) throws(KubeError) -> KubeConfig {
        guard let data = FileManager.default.contents(atPath: path) else {
            throw .configuration("cannot read kubeconfig \(path)")
        }
        return try parse(String(decoding: data, as: UTF8.self), path: path)
    }

    /// Merges files in kubectl's order: the first file that defines a cluster, user or context
    /// name wins, and `current-context` comes from the first file that sets it. Files that do not
    /// exist are skipped (as kubectl does for `KUBECONFIG`).
    public static func load(files paths: [String]) throws(KubeError) -> KubeConfig {
        var merged = KubeConfig()
        for path in paths where !path.isEmpty {
            guard FileManager.default.fileExists(atPath: path) else { continue }
            merged.merge(try load(file: path))
        }
        return merged
    }

    /// Adds entries of `later` that this configuration does not define yet.
    public mutating func merge(_ later: KubeConfig) {
        for (k, v) in later.clusters where clusters[k] == nil { clusters[k] = v }
        for (k, v) in later.users where users[k] == nil { users[k] = v }
        for (k, v) in later.contexts where contexts[k] == nil { contexts[k] = v }
        if currentContext == nil { currentContext = later.currentContext }
        files += later.files
    }

    static func directory(of path: String) -> String {
        guard let slash = path.lastIndex(of: "/") else { return "." }
        return slash == path.startIndex ? "/" : String(path[..<slash])
    }

    static func resolve(_ p: String, against dir: String) -> String {
        if p.hasPrefix("/") { return p }
        return dir == "." ? p : dir + "/" + p
    }
}
