import Foundation
import PatternCore
#if canImport(Glibc)
import Glibc
#endif

/// Many independent test clusters served by one process on one loopback port, each under its
/// own URL path prefix `/clusters/<name>` (a kubeconfig `server:` URL may carry a path; clients
/// append API paths to it). Every cluster is a full `TestAPIServer` without a listener of its
/// own: its own store, discovery, request log, faults, authorizer, tokens and `outage`.
///
/// ```swift
/// let fleet = try TestAPIFleetServer.start(clusters: ["edge-eu", "edge-us"])
/// defer { fleet.stop() }
/// fleet["edge-eu"]!.store            // that cluster's objects
/// fleet["edge-us"]!.outage = .unavailable   // 503 for every request to edge-us
/// fleet.kubeconfig()                 // one context per cluster, named as the cluster
/// ```
public final class TestAPIFleetServer: @unchecked Sendable {
    /// Options every cluster starts from (`host`, `port` and TLS apply to the shared listener).
    public let options: TestAPIServerOptions
    private let lock = Lock()
    private var clusters: [String: TestAPIServer] = [:]
    private var order: [String] = []
    private var http: HTTPServer?
    private let tls: TLSContext?
    public private(set) var port: Int = 0
    /// Requests whose path names no cluster (answered 404).
    public let unroutedLog = RequestLog()

    /// The most clusters one process serves (each keeps a store and its threads).
    public static let maxClusters = 10_000

    /// `https://127.0.0.1:PORT` or `http://…` (no cluster prefix).
    public var url: String { "\(scheme)://\(options.host):\(port)" }
    private var scheme: String { tls == nil ? "http" : "https" }

    /// Starts the listener and one cluster per name (names: lowercase letters, digits, `-`, `.`).
    public static func start(clusters names: [String], options: TestAPIServerOptions = TestAPIServerOptions()) throws -> TestAPIFleetServer {
        signal(SIGPIPE, SIG_IGN)
        let f = try TestAPIFleetServer(options: options)
        for n in names { _ = try f.addCluster(n) }
        try f.listen()
        return f
    }

    init(options: TestAPIServerOptions) throws {
        self.options = options
        if let cert = options.tlsCertPEM, let key = options.tlsKeyPEM {
            tls = try TLSContext(certPEM: cert, keyPEM: key, clientCAPEM: options.clientCAPEM, requireClientCert: options.requireClientCert)
        } else {
            tls = nil
        }
    }

    /// Errors of the fleet server's own set-up.
    public enum FleetError: Error, CustomStringConvertible, Sendable {
        case invalidName(String)
        case duplicate(String)
        case tooMany(Int)
        public var description: String {
            switch self {
            case .invalidName(let n):
                return "cluster name \"\(n)\" is not valid (fix: use 1–63 lowercase letters, digits, '-' or '.')"
            case .duplicate(let n): return "cluster \"\(n)\" exists already (fix: give every cluster its own name)"
            case .tooMany(let n): return "a fleet server holds at most \(n) clusters (fix: start another process)"
            }
        }
    }

    static func isValidName(_ n: String) -> Bool {
        guard !n.isEmpty, n.utf8.count <= 63 else { return false }
        return n.utf8.allSatisfy { ($0 >= 97 && $0 <= 122) || ($0 >= 48 && $0 <= 57) || $0 == 45 || $0 == 46 }
            && n != "." && n != ".."
    }

    /// Adds a cluster (also while serving). `options` overrides the fleet's for this cluster
    /// (tokens, simulated controllers, initial namespaces, …; its host, port and TLS are ignored).
    @discardableResult
    public func addCluster(_ name: String, options clusterOptions: TestAPIServerOptions? = nil) throws -> TestAPIServer {
        guard Self.isValidName(name) else { throw FleetError.invalidName(name) }
        var o = clusterOptions ?? options
        o.host = options.host
        o.clientCAPEM = options.clientCAPEM
        let s = try TestAPIServer(options: o, pathPrefix: "/clusters/\(name)", mountedScheme: scheme)
        try lock.withLock { () throws in
            guard clusters[name] == nil else { throw FleetError.duplicate(name) }
            guard clusters.count < Self.maxClusters else { throw FleetError.tooMany(Self.maxClusters) }
            clusters[name] = s
            order.append(name)
        }
        if port != 0 { s.mounted(port: port) }
        return s
    }

    /// The cluster with this name.
    public subscript(name: String) -> TestAPIServer? { lock.withLock { clusters[name] } }

    /// Cluster names in the order they were added.
    public var clusterNames: [String] { lock.withLock { order } }

    /// Every cluster, in the order they were added.
    public var allClusters: [TestAPIServer] { lock.withLock { order.compactMap { clusters[$0] } } }

    private func listen() throws {
        let h = HTTPServer(tls: tls) { [weak self] req, w in
            guard let self else { w.send(status: 503, body: []); return }
            self.route(req, w)
        }
        try h.start(host: options.host, port: options.port)
        let all = lock.withLock {
            http = h
            port = h.port
            return Array(clusters.values)
        }
        for c in all { c.mounted(port: h.port) }
    }

    /// `/clusters/<name>[/rest]` → that cluster with the path `/rest` (`/` when empty).
    func route(_ req: HTTPRequest, _ w: ResponseWriter) {
        let prefix = "/clusters/"
        if req.path.hasPrefix(prefix) {
            let after = req.path.dropFirst(prefix.count)
            let name = String(after.prefix { $0 != "/" })
            if let c = self[name] {
                let rest = String(after.dropFirst(name.count))
                var r = req
                r.path = rest.isEmpty ? "/" : rest
                if let q = req.target.firstIndex(of: "?") {
                    r.target = r.path + String(req.target[q...])
                } else {
                    r.target = r.path
                }
                c.handle(r, w)
                return
            }
        }
        // Logged before the answer, as TestAPIServer logs (a client that got its 404 finds it logged).
        unroutedLog.append(LoggedRequest(method: req.method, path: req.path, query: req.query, contentType: req.header("content-type") ?? "",
                                         userAgent: req.header("user-agent") ?? "", time: Date(), status: 404))
        w.send(status: 404, body: JSONWriter.bytes(APIError.resourceNotFound().status))
    }

    /// Stops listening, drops every connection and ends every cluster's watches.
    public func stop() {
        let (h, all) = lock.withLock { () -> (HTTPServer?, [TestAPIServer]) in
            let h = http
            http = nil
            return (h, Array(clusters.values))
        }
        for c in all { c.store.closeAllWatches() }
        h?.stop()
    }

    /// A kubeconfig (YAML) with one cluster, user and context per cluster, each named as the
    /// cluster (the first is the current context). Token or client-certificate auth as in
    /// `TestAPIServer.kubeconfig`; `extra` adds contexts for other servers (e.g. `refusedURL()`).
    public func kubeconfig(token: String? = nil, caPEM: String? = nil, clientCertPEM: String? = nil, clientKeyPEM: String? = nil,
                           namespace: String = "default", extra: [(name: String, server: String)] = []) -> String {
        var entries: [(String, String)] = []
        for c in allClusters { entries.append((String(c.pathPrefix.dropFirst("/clusters/".count)), c.url)) }
        entries += extra.map { ($0.name, $0.server) }
        var user = ""
        if let token { user += "    token: \(token)\n" }
        if let c = clientCertPEM, let k = clientKeyPEM {
            user += "    client-certificate-data: \(Base64.encode(Array(c.utf8)))\n    client-key-data: \(Base64.encode(Array(k.utf8)))\n"
        }
        if user.isEmpty { user = "    {}\n" }
        var tlsLine = ""
        if let caPEM {
            tlsLine = "    certificate-authority-data: \(Base64.encode(Array(caPEM.utf8)))\n"
        } else if tls != nil {
            tlsLine = "    insecure-skip-tls-verify: true\n"
        }
        var out = "apiVersion: v1\nkind: Config\nclusters:\n"
        for (n, server) in entries { out += "- name: \(n)\n  cluster:\n    server: \(server)\n\(tlsLine)" }
        out += "users:\n- name: fleet-user\n  user:\n\(user)"
        out += "contexts:\n"
        for (n, _) in entries { out += "- name: \(n)\n  context:\n    cluster: \(n)\n    user: fleet-user\n    namespace: \(namespace)\n" }
        out += "current-context: \(entries.first?.0 ?? "\"\"")\n"
        return out
    }

    /// An `http://127.0.0.1:PORT` URL where nothing listens: connections are refused. (The port
    /// was bound and released; another process could take it, which is unlikely in a test run.)
    public static func refusedURL(host: String = "127.0.0.1") throws -> String {
        let h = HTTPServer { _, w in w.send(status: 503, body: []) }
        try h.start(host: host, port: 0)
        let p = h.port
        h.stop()
        return "http://\(host):\(p)"
    }
}
