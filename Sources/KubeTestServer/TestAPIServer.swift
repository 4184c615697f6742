import Foundation
import PatternCore

/// A user as authentication saw it.
public struct UserInfo: Sendable, Hashable {
    public var name: String
    public var groups: [String]
    /// The user's UID (service-account tokens carry the ServiceAccount's), empty when unknown.
    public var uid: String
    /// Extra attributes (`authentication.kubernetes.io/pod-name`, …), as the authenticator set them.
    public var extra: [String: [String]]
    public init(name: String, groups: [String] = [], uid: String = "", extra: [String: [String]] = [:]) {
        self.name = name; self.groups = groups; self.uid = uid; self.extra = extra
    }
}

/// What a request asks to do, for the authorization hook.
public struct AccessRequest: Sendable {
    public var user: UserInfo
    /// get, list, watch, create, update, patch, delete, deletecollection.
    public var verb: String
    public var group: String
    public var resource: String
    public var subresource: String
    public var namespace: String?
    public var name: String?
}

/// How a down cluster answers (`TestAPIServer.outage`). A cluster that refuses connections
/// needs a port of its own: `TestAPIFleetServer.refusedURL()`.
public enum Outage: Sendable, Hashable {
    /// Every request gets 503 with a plain-text body, as a load balancer in front of a dead
    /// API server answers.
    case unavailable
    /// Every connection is closed without an answer (connection reset).
    case reset
}

/// Configuration of a `TestAPIServer`.
public struct TestAPIServerOptions: Sendable {
    public var host: String = "127.0.0.1"
    /// 0 binds an ephemeral port.
    public var port: Int = 0
    /// Serve HTTPS with this certificate and key (PEM text).
    public var tlsCertPEM: String?
    public var tlsKeyPEM: String?
    /// Verify client certificates against this CA (PEM text); a verified certificate's CN is
    /// the user and its O entries the groups.
    public var clientCAPEM: String?
    public var requireClientCert = false
    /// Bearer tokens accepted, each mapped to a user.
    public var tokens: [String: UserInfo] = [:]
    /// Reject unauthenticated requests with 401. Defaults to true when tokens or a client CA are set.
    public var requireAuth: Bool?
    /// Simulated kube-controller-manager: Deployments/StatefulSets/DaemonSets/ReplicaSets become
    /// available, Jobs complete, PVCs bind, Pods run, LoadBalancer Services and Ingresses get an
    /// address, after `controllerDelay` seconds.
    public var simulateControllers = false
    public var controllerDelay: Double = 0
    /// Time a deleted namespace stays Terminating before the namespace controller removes it.
    public var namespaceFinalizeDelay: Double = 0.5
    /// Time a foreground-deleted object keeps its `foregroundDeletion` finalizer.
    public var foregroundDeletionDelay: Double = 0.5
    /// Interval of BOOKMARK events on watches with `allowWatchBookmarks=true` (one is always
    /// sent when a watch ends by `timeoutSeconds`).
    public var bookmarkInterval: Double = 30
    /// Watch history kept (events); older resourceVersions get 410 Expired.
    public var historyLimit: Int = 10_000
    /// Serve aggregated discovery (apidiscovery.k8s.io/v2) on `/api` and `/apis` to clients
    /// that ask for it first in `Accept`, as Kubernetes ≥ 1.30 does.
    public var aggregatedDiscovery = true
    /// Seconds every answer waits before it is sent (discovery, reads and writes; a watch's
    /// first bytes): the network round trip to a remote API server, which loopback does not
    /// have. Each connection waits on its own, as requests over separate connections would.
    public var latency: Double = 0
    /// Namespaces that exist at start.
    public var initialNamespaces: [String] = ["default", "kube-system", "kube-public", "kube-node-lease"]

    public init() {}
}

/// A Kubernetes API server model over real HTTP on loopback, for tests and benchmarks.
///
/// ```swift
/// let server = try TestAPIServer.start()
/// defer { server.stop() }
/// // point a client at server.url; inspect server.store, server.requestLog; inject server.faults
/// ```
public final class TestAPIServer: @unchecked Sendable {
    public let options: TestAPIServerOptions
    public let store: ObjectStore
    public let requestLog = RequestLog()
    public let faults = FaultInjector()
    /// Each object's JSON as LIST answers write it, per object version.
    let listItems = ListItemCache()
    /// Optional authorization hook: return false to answer 403 Forbidden.
    public var authorize: (@Sendable (AccessRequest) -> Bool)? {
        get { lock.withLock { _authorize } }
        set { lock.withLock { _authorize = newValue } }
    }
    private var _authorize: (@Sendable (AccessRequest) -> Bool)?
    /// While set, every request (discovery, health checks included) fails this way: the
    /// cluster is down. Logged in `requestLog` with the status sent (0 for `.reset`).
    public var outage: Outage? {
        get { lock.withLock { _outage } }
        set { lock.withLock { _outage = newValue } }
    }
    private var _outage: Outage?
    private let lock = Lock()
    private var http: HTTPServer?
    private let tls: TLSContext?
    public private(set) var port: Int = 0
    private var controllers: SimulatedControllers?
    /// The URL path this cluster is served under ("" for a server of its own; `/clusters/<name>`
    /// for one cluster of a `TestAPIFleetServer`).
    public let pathPrefix: String
    /// Set on a cluster of a `TestAPIFleetServer`: the listener's scheme is the fleet's.
    private let mountedScheme: String?

    /// `https://127.0.0.1:PORT` or `http://…`, followed by `pathPrefix` for a fleet's cluster.
    public var url: String { "\(mountedScheme ?? (tls == nil ? "http" : "https"))://\(options.host):\(port)\(pathPrefix)" }

    public static func start(_ options: TestAPIServerOptions = TestAPIServerOptions()) throws -> TestAPIServer {
        // OpenSSL writes to sockets without MSG_NOSIGNAL: a client that hangs up mid-response
        // must not kill the (test) process with SIGPIPE.
        signal(SIGPIPE, SIG_IGN)
        let s = try TestAPIServer(options: options)
        try s.listen(port: options.port)
        return s
    }

    init(options: TestAPIServerOptions, pathPrefix: String = "", mountedScheme: String? = nil) throws {
        self.options = options
        self.pathPrefix = pathPrefix
        self.mountedScheme = mountedScheme
        store = ObjectStore()
        store.historyLimit = options.historyLimit
        store.namespaceFinalizeDelay = options.namespaceFinalizeDelay
        store.foregroundDeletionDelay = options.foregroundDeletionDelay
        if mountedScheme == nil, let cert = options.tlsCertPEM, let key = options.tlsKeyPEM {
            tls = try TLSContext(certPEM: cert, keyPEM: key, clientCAPEM: options.clientCAPEM, requireClientCert: options.requireClientCert)
        } else {
            tls = nil
        }
        let nsInfo = store.resourceInfo(forGroup: "", resource: "namespaces")
        for ns in options.initialNamespaces {
            _ = try store.create(nsInfo, namespace: "", body: ["apiVersion": "v1", "kind": "Namespace", "metadata": ["name": .string(ns)]],
                                 manager: "kube-apiserver", dryRun: false)
        }
        if options.simulateControllers {
            let c = SimulatedControllers(store: store, delay: options.controllerDelay)
            controllers = c
            store.afterWrite = { info, ev in c.observe(info, ev) }
        }
    }

    private func listen(port: Int) throws {
        let h = HTTPServer(tls: tls) { [weak self] req, w in
            guard let self else { w.send(status: 503, body: []); return }
            self.handle(req, w)
        }
        try h.start(host: options.host, port: port)
        lock.withLock {
            http = h
            self.port = h.port
        }
    }

    /// A cluster of a fleet server learns the shared listener's port.
    func mounted(port: Int) { lock.withLock { self.port = port } }

    /// Stops listening and drops every connection (watches end without a final chunk).
    /// Does now what the simulated controllers would do for one object after
    /// `controllerDelay` (workload rolled out, Job complete, PVC bound, …), so a test can hold
    /// an object unready with a long delay and release it at the moment it chooses instead
    /// of racing a short timer. Returns false when the object is absent or has nothing to do.
    @discardableResult
    public func completeNow(group: String = "", resource: String, namespace: String, name: String) -> Bool {
        let info = store.resourceInfo(forGroup: group, resource: resource)
        guard let cur = store.get(group: group, resource: resource, namespace: namespace, name: name),
              let status = SimulatedControllers.status(info, cur) else { return false }
        return (try? store.setStatus(group: group, resource: resource, namespace: namespace, name: name, status: status)) != nil
    }

    public func stop() {
        let h = lock.withLock {
            let h = http
            http = nil
            return h
        }
        store.closeAllWatches()
        h?.stop()
    }

    /// Stops and starts again on the same port; the store (objects, resourceVersions, history) is kept.
    /// A cluster of a `TestAPIFleetServer` has no listener of its own: its watches are cut and
    /// it answers as `outage` `.reset` for `downtime`.
    public func restart(downtime: Double = 0) throws {
        if mountedScheme != nil {
            let before = outage
            outage = .reset
            store.closeAllWatches()
            if downtime > 0 { Thread.sleep(forTimeInterval: downtime) }
            outage = before
            return
        }
        stop()
        if downtime > 0 { Thread.sleep(forTimeInterval: downtime) }
        var lastError: Error? = nil
        for _ in 0..<50 {
            do { try listen(port: port); return } catch { lastError = error; Thread.sleep(forTimeInterval: 0.02) }
        }
        throw lastError!
    }

    /// A kubeconfig (YAML) for this server: token auth when `token` is given, client
    /// certificate when `clientCertPEM`/`clientKeyPEM` are.
    public func kubeconfig(token: String? = nil, caPEM: String? = nil, clientCertPEM: String? = nil, clientKeyPEM: String? = nil,
                           namespace: String = "default") -> String {
        var cluster = "    server: \(url)\n"
        if let caPEM {
            cluster += "    certificate-authority-data: \(Base64.encode(Array(caPEM.utf8)))\n"
        } else if tls != nil || mountedScheme == "https" {
            cluster += "    insecure-skip-tls-verify: true\n"
        }
        var user = ""
        if let token { user += "    token: \(token)\n" }
        if let c = clientCertPEM, let k = clientKeyPEM {
            user += "    client-certificate-data: \(Base64.encode(Array(c.utf8)))\n    client-key-data: \(Base64.encode(Array(k.utf8)))\n"
        }
        if user.isEmpty { user = "    {}\n" }
        return """
        apiVersion: v1
        kind: Config
        clusters:
        - name: test
          cluster:
        \(cluster.split(separator: "\n").map { "  " + $0 }.joined(separator: "\n"))
        users:
        - name: test
          user:
        \(user.split(separator: "\n").map { "  " + $0 }.joined(separator: "\n"))
        contexts:
        - name: test
          context:
            cluster: test
            user: test
            namespace: \(namespace)
        current-context: test

        """
    }

    // MARK: Request handling

    struct Target {
        var info: ResourceInfo
        var namespace: String?
        var name: String?
        var subresource: String = ""
    }

    private func respond(_ w: ResponseWriter, _ status: Int, _ body: Value, headers: [(String, String)] = [], cut: Int? = nil) {
        w.send(status: status, headers: headers, body: JSONWriter.bytes(body), cutAfter: cut)
    }

    private func respond(_ w: ResponseWriter, _ e: APIError, cut: Int? = nil) {
        var h: [(String, String)] = []
        if let r = e.retryAfter { h.append(("Retry-After", String(r))) }
        respond(w, e.code, e.status, headers: h, cut: cut)
    }

    func handle(_ req: HTTPRequest, _ w: ResponseWriter) {
        let started = Date()
        var entry = LoggedRequest(method: req.method, path: req.path, query: req.query, contentType: req.header("content-type") ?? "",
                                  userAgent: req.header("user-agent") ?? "", time: started)
        let parsed = Result { () throws(APIError) in try resolve(req) }
        if case .success(let t) = parsed, let t {
            entry.verb = verb(req, t)
            entry.group = t.info.group
            entry.resource = t.info.resource
            entry.namespace = t.namespace
            entry.name = t.name
            entry.subresource = t.subresource
        }
        // Authentication.
        var user: UserInfo? = nil
        var badToken = false
        if let auth = req.header("authorization"), auth.lowercased().hasPrefix("bearer ") {
            let token = String(auth.dropFirst(7)).trimmingSpaces
            user = options.tokens[token]
            // A presented but unknown token is rejected even when anonymous access is allowed.
            badToken = user == nil && !options.tokens.isEmpty
        }
        if user == nil, let peer = req.tlsPeer, !peer.commonName.isEmpty {
            user = UserInfo(name: peer.commonName, groups: peer.organizations)
        }
        let authRequired = options.requireAuth ?? (!options.tokens.isEmpty || options.clientCAPEM != nil)
        entry.user = user?.name ?? ""
        let log = requestLog
        w.onBeforeSend = { status in
            entry.status = status
            entry.duration = Date().timeIntervalSince(started)
            log.append(entry)
        }
        switch outage {
        case .unavailable?:
            w.send(status: 503, contentType: "text/plain; charset=utf-8", body: Array("Service Unavailable".utf8))
            return
        case .reset?:
            w.cut()
            return
        case nil: break
        }
        if options.latency > 0 { Thread.sleep(forTimeInterval: options.latency) }
        // Faults.
        let fault = faults.match(req, entry: entry)
        var cut: Int? = nil
        if let fault {
            switch fault {
            case .delay(let s): Thread.sleep(forTimeInterval: s)
            case .error(let e):
                respond(w, e)
                return
            case .cutConnection(let n): cut = n
            case .dropConnection:
                w.cut()
                return
            case .silentWatch:
                guard w.startChunked(status: 200) else { return }
                while w.conn.isOpen && !w.conn.peerClosed() { Thread.sleep(forTimeInterval: 0.05) }
                w.cut()
                return
            }
        }
        if (authRequired && user == nil || badToken) && !["/healthz", "/livez", "/readyz"].contains(req.path) {
            respond(w, APIError.unauthorized(), cut: cut)
            return
        }
        let who = user ?? UserInfo(name: "system:admin", groups: ["system:masters"])
        if req.path.hasPrefix("/api/") || req.path.hasPrefix("/apis/") {
            if case .failure(let e) = parsed { respond(w, e, cut: cut); return }
        }
        if case .success(let t?) = parsed, let authz = authorize {
            let ar = AccessRequest(user: who, verb: entry.verb, group: t.info.group, resource: t.info.resource, subresource: t.subresource,
                                   namespace: t.namespace, name: t.name)
            if !authz(ar) {
                let e = APIError.forbidden(user: who.name, verb: entry.verb, info: t.info, resource: t.info.resource, name: t.name, namespace: t.namespace)
                respond(w, e, cut: cut)
                return
            }
        }
        do throws(APIError) {
            if case .success(let t?) = parsed {
                _ = try serveResource(req, w, t, user: who, cut: cut)
            } else {
                _ = try serveDiscovery(req, w, cut: cut)
            }
        } catch {
            respond(w, error, cut: cut)
        }
    }

    func verb(_ req: HTTPRequest, _ t: Target) -> String {
        switch req.method {
        case "GET", "HEAD":
            if t.name == nil { return isTrue(req.query["watch"]) ? "watch" : "list" }
            return "get"
        case "POST": return "create"
        case "PUT": return "update"
        case "PATCH": return (req.header("content-type") ?? "").hasPrefix("application/apply-patch") ? "apply" : "patch"
        case "DELETE": return t.name == nil ? "deletecollection" : "delete"
        default: return req.method.lowercased()
        }
    }

    func isTrue(_ s: String?) -> Bool { s == "1" || s == "true" }

    /// Maps a resource path to its target; nil for non-resource paths.
    func resolve(_ req: HTTPRequest) throws(APIError) -> Target? {
        let parts = req.path.split(separator: "/").map(String.init)
        var group = "", version = "", rest: ArraySlice<String>
        if parts.first == "api", parts.count >= 3 {
            version = parts[1]; rest = parts[2...]
        } else if parts.first == "apis", parts.count >= 4 {
            group = parts[1]; version = parts[2]; rest = parts[3...]
        } else {
            return nil
        }
        var namespace: String? = nil
        if rest.first == "namespaces", rest.count >= 3, !(rest.count == 3 && ["status", "finalize"].contains(rest[rest.startIndex + 2]) && group.isEmpty) {
            namespace = rest[rest.startIndex + 1]
            rest = rest.dropFirst(2)
        }
        let resName = rest.first!
        guard let info = store.resource(group: group, version: version, resource: resName) else {
            throw APIError.resourceNotFound()
        }
        if info.namespaced != (namespace != nil) {
            if info.namespaced && rest.count == 1 && req.method == "GET" {
                // Cluster-wide list/watch of a namespaced resource.
                return Target(info: info, namespace: nil, name: nil)
            }
            throw APIError.resourceNotFound()
        }
        var t = Target(info: info, namespace: namespace)
        if rest.count >= 2 { t.name = rest[rest.startIndex + 1] }
        if rest.count >= 3 {
            t.subresource = rest[rest.startIndex + 2]
            guard info.subresources.contains(t.subresource) else { throw APIError.resourceNotFound() }
        }
        if rest.count > 3 { throw APIError.resourceNotFound() }
        return t
    }

    // MARK: Discovery

    func serveDiscovery(_ req: HTTPRequest, _ w: ResponseWriter, cut: Int?) throws(APIError) -> Int {
        guard req.method == "GET" || req.method == "HEAD" else { throw APIError.methodNotAllowed() }
        let parts = req.path.split(separator: "/").map(String.init)
        let all = store.resources
        switch parts.count {
        case 0:
            let paths: [Value] = ["/api", "/api/v1", "/apis", "/healthz", "/livez", "/readyz", "/version"].map { .string($0) }
            respond(w, 200, ["paths": .array(paths)], cut: cut)
            return 200
        default: break
        }
        switch parts[0] {
        case "version":
            respond(w, 200, [
                "major": "1", "minor": "30", "gitVersion": "v1.30.0-pattern-test", "gitCommit": "0000000000000000000000000000000000000000",
                "gitTreeState": "clean", "buildDate": "1970-01-01T00:00:00Z", "goVersion": "go1.22.0", "compiler": "gc", "platform": "linux/amd64",
            ], cut: cut)
            return 200
        case "healthz", "livez", "readyz":
            w.send(status: 200, contentType: "text/plain; charset=utf-8", body: Array("ok".utf8), cutAfter: cut)
            return 200
        case "api" where parts.count == 1 && wantsAggregated(req), "apis" where parts.count == 1 && wantsAggregated(req):
            let body = aggregatedDiscovery(all, core: parts[0] == "api")
            w.send(status: 200, contentType: "application/json;g=apidiscovery.k8s.io;v=v2;as=APIGroupDiscoveryList",
                   body: JSONWriter.bytes(body), cutAfter: cut)
            return 200
        case "api":
            if parts.count == 1 {
                respond(w, 200, ["kind": "APIVersions", "versions": ["v1"],
                                 "serverAddressByClientCIDRs": [["clientCIDR": "0.0.0.0/0", "serverAddress": .string("\(options.host):\(port)")]]], cut: cut)
                return 200
            }
            if parts.count == 2 && parts[1] == "v1" {
                respond(w, 200, resourceList(all.filter { $0.group.isEmpty && $0.version == "v1" }, groupVersion: "v1", withAPIVersion: false), cut: cut)
                return 200
            }
        case "apis":
            let groups = groupVersions(all)
            if parts.count == 1 {
                respond(w, 200, ["kind": "APIGroupList", "apiVersion": "v1", "groups": .array(groups.map { groupDoc($0.0, $0.1, withKind: false) })], cut: cut)
                return 200
            }
            if parts.count == 2, let g = groups.first(where: { $0.0 == parts[1] }) {
                respond(w, 200, groupDoc(g.0, g.1, withKind: true), cut: cut)
                return 200
            }
            if parts.count == 3 {
                let rs = all.filter { $0.group == parts[1] && $0.version == parts[2] }
                if !rs.isEmpty {
                    respond(w, 200, resourceList(rs, groupVersion: "\(parts[1])/\(parts[2])", withAPIVersion: true), cut: cut)
                    return 200
                }
            }
        case "openapi":
            // Only the OpenAPI v3 index and per-group-version documents that list each
            // resource's PATCH operation with its GVK and the `fieldValidation` parameter:
            // enough for kubectl to use server-side field validation instead of downloading
            // schemas. No schemas are served (/openapi/v2 is 404).
            if parts.count >= 2 && parts[1] == "v3" {
                let gvs = Set(all.map { $0.apiVersion })
                if parts.count == 2 {
                    var paths = Object()
                    for gv in gvs.sorted() {
                        let p = gv.contains("/") ? "apis/\(gv)" : "api/\(gv)"
                        paths.append(p, ["serverRelativeURL": .string("/openapi/v3/\(p)?hash=\(Base64.encode(Array(p.utf8)).prefix(16))")])
                    }
                    respond(w, 200, ["paths": .object(paths)], cut: cut)
                    return 200
                }
                let rel = parts.dropFirst(2).joined(separator: "/")
                let gv = rel.hasPrefix("apis/") ? String(rel.dropFirst(5)) : rel.hasPrefix("api/") ? String(rel.dropFirst(4)) : ""
                let rs = all.filter { $0.apiVersion == gv }
                if !rs.isEmpty {
                    respond(w, 200, openAPIDocument(rs, prefix: "/" + rel), cut: cut)
                    return 200
                }
            }
            throw APIError.resourceNotFound()
        default:
            break
        }
        throw APIError.resourceNotFound()
    }

    func openAPIDocument(_ rs: [ResourceInfo], prefix: String) -> Value {
        var paths = Object()
        let params: Value = .array(["dryRun", "fieldManager", "fieldValidation", "force"].map {
            ["name": .string($0), "in": "query", "schema": ["type": .string($0 == "force" ? "boolean" : "string")], "uniqueItems": true]
        })
        for r in rs.sorted(by: { $0.resource < $1.resource }) {
            let gvk: Value = ["group": .string(r.group), "version": .string(r.version), "kind": .string(r.kind)]
            let item = r.namespaced ? "\(prefix)/namespaces/{namespace}/\(r.resource)/{name}" : "\(prefix)/\(r.resource)/{name}"
            let op: Value = ["operationId": .string("patch\(r.kind)"), "parameters": params, "x-kubernetes-action": "patch",
                             "x-kubernetes-group-version-kind": gvk, "responses": ["200": ["description": "OK"]]]
            paths.append(item, ["patch": op, "put": ["operationId": .string("replace\(r.kind)"), "parameters": params,
                                                     "x-kubernetes-action": "put", "x-kubernetes-group-version-kind": gvk,
                                                     "responses": ["200": ["description": "OK"]]]])
        }
        return ["openapi": "3.0.0", "info": ["title": "Kubernetes", "version": "v1.30.0"], "paths": .object(paths),
                "components": ["schemas": .emptyObject]]
    }

    /// `Accept: application/json;g=apidiscovery.k8s.io;v=v2;as=APIGroupDiscoveryList` (first choice).
    func wantsAggregated(_ req: HTTPRequest) -> Bool {
        guard options.aggregatedDiscovery, let a = req.header("accept"), let first = a.split(separator: ",").first else { return false }
        return first.contains("as=APIGroupDiscoveryList") && first.contains("v=v2") && !first.contains("v=v2beta1")
    }

    /// Aggregated discovery (apidiscovery.k8s.io/v2): every group, version and resource in one document.
    func aggregatedDiscovery(_ all: [ResourceInfo], core: Bool) -> Value {
        let groups: [(String, [String])] = core ? [("", ["v1"])] : groupVersions(all)
        var items: [Value] = []
        for (g, versions) in groups {
            var vs: [Value] = []
            for v in versions {
                let rs = all.filter { $0.group == g && $0.version == v }.sorted { $0.resource < $1.resource }
                let resources: [Value] = rs.map { r in
                    var o = Object()
                    o.append("resource", .string(r.resource))
                    o.append("responseKind", ["group": "", "version": "", "kind": .string(r.kind)])
                    o.append("scope", r.namespaced ? "Namespaced" : "Cluster")
                    o.append("singularResource", .string(r.singular.isEmpty ? r.kind.lowercased() : r.singular))
                    o.append("verbs", .array(r.verbs.map { .string($0) }))
                    if !r.shortNames.isEmpty { o.append("shortNames", .array(r.shortNames.map { .string($0) })) }
                    if !r.categories.isEmpty { o.append("categories", .array(r.categories.map { .string($0) })) }
                    if !r.subresources.isEmpty {
                        o.append("subresources", .array(r.subresources.map { sub -> Value in
                            switch sub {
                            case "scale":
                                return ["subresource": "scale", "responseKind": ["group": "autoscaling", "version": "v1", "kind": "Scale"], "verbs": ["get", "patch", "update"]]
                            case "finalize":
                                return ["subresource": "finalize", "responseKind": ["group": "", "version": "", "kind": .string(r.kind)], "verbs": ["update"]]
                            default:
                                return ["subresource": .string(sub), "responseKind": ["group": "", "version": "", "kind": .string(r.kind)], "verbs": ["get", "patch", "update"]]
                            }
                        }))
                    }
                    return .object(o)
                }
                vs.append(["version": .string(v), "resources": .array(resources), "freshness": "Current"])
            }
            items.append(["metadata": ["name": .string(g), "creationTimestamp": .null], "versions": .array(vs)])
        }
        return ["kind": "APIGroupDiscoveryList", "apiVersion": "apidiscovery.k8s.io/v2", "metadata": .emptyObject, "items": .array(items)]
    }

    func groupVersions(_ all: [ResourceInfo]) -> [(String, [String])] {
        var byGroup: [String: Set<String>] = [:]
        for r in all where !r.group.isEmpty { byGroup[r.group, default: []].insert(r.version) }
        let order = BuiltinResources.groupOrder
        let names = byGroup.keys.sorted { a, b in
            let ia = order.firstIndex(of: a) ?? Int.max, ib = order.firstIndex(of: b) ?? Int.max
            return ia != ib ? ia < ib : a < b
        }
        return names.map { g in
            let vs = byGroup[g]!.sorted { a, b in ResourceVersionOrder.priority(a) > ResourceVersionOrder.priority(b) }
            return (g, vs)
        }
    }

    func groupDoc(_ g: String, _ versions: [String], withKind: Bool) -> Value {
        var o = Object()
        if withKind { o.append("kind", "APIGroup"); o.append("apiVersion", "v1") }
        o.append("name", .string(g))
        o.append("versions", .array(versions.map { ["groupVersion": .string("\(g)/\($0)"), "version": .string($0)] }))
        o.append("preferredVersion", ["groupVersion": .string("\(g)/\(versions[0])"), "version": .string(versions[0])])
        return .object(o)
    }

    func resourceList(_ rs: [ResourceInfo], groupVersion: String, withAPIVersion: Bool) -> Value {
        var o = Object()
        o.append("kind", "APIResourceList")
        if withAPIVersion { o.append("apiVersion", "v1") }
        o.append("groupVersion", .string(groupVersion))
        o.append("resources", .array(rs.sorted { $0.resource < $1.resource }.flatMap { $0.discoveryEntries() }))
        return .object(o)
    }

    // MARK: Resources

    func render(_ obj: Value, _ info: ResourceInfo, inList: Bool = false) -> Value {
        var o = obj
        o["apiVersion"] = .string(info.apiVersion)
        o = ObjectStore.canonicalOrder(o, info: info)
        Defaults.render(&o, kind: info.kind)
        if inList && !info.isCustom {
            o.withObject { $0.removeValue(forKey: "kind"); $0.removeValue(forKey: "apiVersion") }
        }
        return o
    }

    func parseBody(_ req: HTTPRequest) throws(APIError) -> Value {
        guard !req.body.isEmpty else { throw APIError.badRequest("the body of the request is empty") }
        let ct = req.header("content-type") ?? "application/json"
        if ct.hasPrefix("application/yaml") || ct.hasPrefix("application/apply-patch+yaml") {
            return try YAML11.parse(req.body)
        }
        do {
            return try JSONParser.parse(req.body)
        } catch {
            throw APIError.badRequest("error decoding request body: \(error.message)")
        }
    }

    func dryRun(_ req: HTTPRequest, body: Value? = nil) throws(APIError) -> Bool {
        if let d = req.query["dryRun"] {
            guard d == "All" else { throw APIError.badRequest("Invalid dryRun value: \(d): only \"All\" is supported") }
            return true
        }
        if let d = body?["dryRun"]?.array, d.contains("All") { return true }
        return false
    }

    /// `fieldValidation=Strict`: unknown fields of custom resources are errors (400).
    func strict(_ req: HTTPRequest) -> Bool { req.query["fieldValidation"] == "Strict" }

    func fieldManager(_ req: HTTPRequest) -> String {
        if let m = req.query["fieldManager"], !m.isEmpty { return m }
        let ua = req.header("user-agent") ?? ""
        let prefix = ua.split(separator: "/").first.map(String.init) ?? ""
        return String(prefix.prefix(128))
    }

    func serveResource(_ req: HTTPRequest, _ w: ResponseWriter, _ t: Target, user: UserInfo, cut: Int?) throws(APIError) -> Int {
        let info = t.info
        let ns = t.namespace ?? ""
        switch (req.method, t.name, t.subresource) {
        case ("GET", nil, _), ("HEAD", nil, _):
            if isTrue(req.query["watch"]) {
                try serveWatch(req, w, t)
                return 200
            }
            return try serveList(req, w, t, cut: cut)
        case ("GET", let name?, let sub), ("HEAD", let name?, let sub):
            guard let obj = store.get(group: info.group, resource: info.resource, namespace: ns, name: name) else {
                throw APIError.notFound(info, name)
            }
            if sub == "scale" { respond(w, 200, scale(obj, info), cut: cut); return 200 }
            respond(w, 200, wantsTable(req) ? table([obj], info, rv: store.currentResourceVersion, cont: nil) : render(obj, info), cut: cut)
            return 200
        case ("POST", nil, _) where BuiltinResources.reviewKinds.contains(info.kind):
            let body = try parseBody(req)
            respond(w, 201, review(info, body, user: user), cut: cut)
            return 201
        case ("POST", nil, _):
            let body = try parseBody(req)
            let obj = try store.create(info, namespace: ns, body: body, manager: fieldManager(req), dryRun: try dryRun(req), strictFields: strict(req))
            respond(w, 201, render(obj, info), cut: cut)
            return 201
        case ("PUT", let name?, let sub):
            let body = try parseBody(req)
            if sub == "scale" {
                let replicas = body[path: ["spec", "replicas"]] ?? 0
                let obj = try store.update(info, namespace: ns, name: name, manager: fieldManager(req), subresource: "scale", dryRun: try dryRun(req),
                                           precondition: body[path: ["metadata", "resourceVersion"]]?.string) { o in
                    var n = o; n[path: ["spec", "replicas"]] = replicas; n[path: ["metadata", "resourceVersion"]] = nil; return n
                }
                respond(w, 200, scale(obj, info), cut: cut)
                return 200
            }
            if body.metadataName == nil { throw APIError.badRequest("name is required") }
            let obj = try store.update(info, namespace: ns, name: name, manager: fieldManager(req), subresource: sub, dryRun: try dryRun(req),
                                       precondition: nil, strictFields: strict(req)) { _ in body }
            respond(w, 200, render(obj, info), cut: cut)
            return 200
        case ("PATCH", let name?, let sub):
            return try servePatch(req, w, t, name: name, subresource: sub, cut: cut)
        case ("DELETE", let name?, ""):
            var opts: Value = .emptyObject
            if !req.body.isEmpty { opts = (try? JSONParser.parse(req.body)) ?? .emptyObject }
            let propagation = req.query["propagationPolicy"] ?? opts["propagationPolicy"]?.string
                ?? (opts["orphanDependents"]?.bool == true ? "Orphan" : nil)
            let (remaining, deleted) = try store.delete(info, namespace: ns, name: name, propagation: propagation, dryRun: try dryRun(req, body: opts),
                                                        preconditionUID: opts[path: ["preconditions", "uid"]]?.string,
                                                        preconditionRV: opts[path: ["preconditions", "resourceVersion"]]?.string)
            if let remaining {
                respond(w, 200, render(remaining, info), cut: cut)
            } else if info.group.isEmpty && info.resource == "pods" {
                respond(w, 200, render(deleted, info), cut: cut)
            } else {
                var o = Object()
                o.append("kind", "Status"); o.append("apiVersion", "v1"); o.append("metadata", .emptyObject); o.append("status", "Success")
                o.append("details", APIError.details(name: name, group: info.group, kind: info.resource, uid: deleted[path: ["metadata", "uid"]]?.string))
                respond(w, 200, .object(o), cut: cut)
            }
            return 200
        case ("DELETE", nil, ""):
            let labels = try labelSelector(req)
            let fields = try fieldSelector(req, info)
            var deleted: [Value] = []
            let dry = try dryRun(req)
            for o in store.list(group: info.group, resource: info.resource, namespace: t.namespace) where labels.matches(o.labels) && fields.matches(o) {
                if let (_, d) = try? store.delete(info, namespace: o.metadataNamespace ?? "", name: o.metadataName ?? "", propagation: req.query["propagationPolicy"], dryRun: dry) {
                    deleted.append(render(d, info, inList: true))
                }
            }
            respond(w, 200, ["kind": .string(info.kind + "List"), "apiVersion": .string(info.apiVersion),
                             "metadata": ["resourceVersion": .string(store.currentResourceVersion)], "items": .array(deleted)], cut: cut)
            return 200
        default:
            throw APIError.methodNotAllowed()
        }
    }

    /// Answers the review resources: who am I, and may I (or a given user) do this (through the
    /// `authorize` hook; everything is allowed without one).
    func review(_ info: ResourceInfo, _ body: Value, user: UserInfo) -> Value {
        var o = Object()
        o.append("kind", .string(info.kind))
        o.append("apiVersion", .string(info.apiVersion))
        o.append("metadata", ["creationTimestamp": .null])
        if info.kind == "SelfSubjectReview" {
            let groups = user.groups + (user.name == "system:anonymous" ? ["system:unauthenticated"] : ["system:authenticated"])
            // authentication.k8s.io/v1 UserInfo: username, uid, groups, extra (empty ones omitted).
            var info = Object()
            info.append("username", .string(user.name))
            if !user.uid.isEmpty { info.append("uid", .string(user.uid)) }
            info.append("groups", .array(groups.map { .string($0) }))
            if !user.extra.isEmpty {
                var extra = Object()
                for (k, v) in user.extra.sorted(by: { $0.key < $1.key }) { extra.append(k, .array(v.map { .string($0) })) }
                info.append("extra", .object(extra))
            }
            o.append("status", ["userInfo": .object(info)])
            return .object(o)
        }
        let spec = body["spec"] ?? .emptyObject
        var subject = user
        if info.kind == "SubjectAccessReview" {
            subject = UserInfo(name: spec["user"]?.string ?? "", groups: (spec["groups"]?.array ?? []).compactMap(\.string))
        }
        let ra = spec["resourceAttributes"] ?? .emptyObject
        let access = AccessRequest(user: subject, verb: ra["verb"]?.string ?? "", group: ra["group"]?.string ?? "",
                                   resource: ra["resource"]?.string ?? "", subresource: ra["subresource"]?.string ?? "",
                                   namespace: ra["namespace"]?.string.flatMap { $0.isEmpty ? nil : $0 },
                                   name: ra["name"]?.string.flatMap { $0.isEmpty ? nil : $0 })
        let allowed = authorize?(access) ?? true
        o.append("spec", spec)
        o.append("status", allowed ? ["allowed": true, "reason": "allowed by the test server's authorizer"] : ["allowed": false])
        return .object(o)
    }

    func scale(_ obj: Value, _ info: ResourceInfo) -> Value {
        var sel = ""
        if let ml = obj[path: ["spec", "selector", "matchLabels"]]?.object {
            sel = ml.sortedByKey.map { "\($0.key)=\($0.value.scalarText ?? "")" }.joined(separator: ",")
        }
        return [
            "kind": "Scale", "apiVersion": "autoscaling/v1",
            "metadata": ["name": obj["metadata"]?["name"] ?? "", "namespace": obj["metadata"]?["namespace"] ?? "",
                         "uid": obj["metadata"]?["uid"] ?? "", "resourceVersion": obj["metadata"]?["resourceVersion"] ?? "",
                         "creationTimestamp": obj["metadata"]?["creationTimestamp"] ?? .null],
            "spec": ["replicas": obj[path: ["spec", "replicas"]] ?? 0],
            "status": ["replicas": obj[path: ["status", "replicas"]] ?? 0, "selector": .string(sel)],
        ]
    }

    func servePatch(_ req: HTTPRequest, _ w: ResponseWriter, _ t: Target, name: String, subresource: String, cut: Int?) throws(APIError) -> Int {
        let info = t.info
        let ns = t.namespace ?? ""
        let ct = (req.header("content-type") ?? "").split(separator: ";").first.map { String($0).trimmingSpaces } ?? ""
        let dry = try dryRun(req)
        switch ct {
        case "application/apply-patch+yaml":
            guard let manager = req.query["fieldManager"], !manager.isEmpty else {
                throw APIError.badRequest("PATCH /\(info.resource)/\(name): fieldManager is required for apply requests")
            }
            let config = try YAML11.parse(req.body)
            let force = isTrue(req.query["force"])
            let (obj, created) = try store.apply(info, namespace: ns, name: name, config: config, manager: manager, force: force,
                                                 subresource: subresource, dryRun: dry)
            respond(w, created ? 201 : 200, render(obj, info), cut: cut)
            return created ? 201 : 200
        case "application/merge-patch+json", "application/json-patch+json", "application/strategic-merge-patch+json":
            if ct == "application/strategic-merge-patch+json" && info.isCustom {
                throw APIError.unsupportedMediaType(ct, custom: true)
            }
            if req.query["force"] != nil {
                throw APIError.badRequest("force flag is not allowed for this patch type")
            }
            let patch: Value
            do { patch = try JSONParser.parse(req.body) } catch { throw APIError.badRequest("error decoding patch: \(error.message)") }
            if subresource == "scale" {
                let obj = try store.update(info, namespace: ns, name: name, manager: fieldManager(req), subresource: "scale", dryRun: dry,
                                           precondition: nil) { o throws(APIError) in
                    var s = scale(o, info)
                    s = Patches.mergePatch(s, patch)
                    var n = o
                    n[path: ["spec", "replicas"]] = s[path: ["spec", "replicas"]]
                    n[path: ["metadata", "resourceVersion"]] = nil
                    return n
                }
                respond(w, 200, scale(obj, info), cut: cut)
                return 200
            }
            let obj = try store.update(info, namespace: ns, name: name, manager: fieldManager(req), subresource: subresource, dryRun: dry,
                                       precondition: nil, strictFields: strict(req)) { o throws(APIError) in
                // The stored form (what the client saw, minus the print-only creationTimestamp: null).
                var base = o
                base["apiVersion"] = .string(info.apiVersion)
                let rvBefore = base[path: ["metadata", "resourceVersion"]]
                var out: Value
                switch ct {
                case "application/merge-patch+json":
                    guard patch.object != nil else { throw APIError.badRequest("error decoding patch: merge patch must be a JSON object") }
                    out = Patches.mergePatch(base, patch)
                case "application/json-patch+json":
                    do throws(Patches.PatchError) { out = try Patches.jsonPatch(base, patch) } catch {
                        throw error.code == 400 ? APIError.badRequest(error.message) : APIError(code: 422, reason: "Invalid", message: error.message)
                    }
                default:
                    guard patch.object != nil else { throw APIError.badRequest("error decoding patch: strategic merge patch must be a JSON object") }
                    out = Patches.strategicMerge(base, patch, kind: info.kind) ?? base
                }
                // A patch only sets resourceVersion as a precondition when it changes it.
                if out[path: ["metadata", "resourceVersion"]] == rvBefore { out[path: ["metadata", "resourceVersion"]] = nil }
                return out
            }
            respond(w, 200, render(obj, info), cut: cut)
            return 200
        default:
            throw APIError.unsupportedMediaType(ct, custom: info.isCustom)
        }
    }

    func labelSelector(_ req: HTTPRequest) throws(APIError) -> LabelSelector {
        guard let s = req.query["labelSelector"], !s.isEmpty else { return LabelSelector() }
        do { return try LabelSelector(parsing: s) } catch { throw APIError.badRequest("unable to parse requirement: \(error.message)") }
    }

    func fieldSelector(_ req: HTTPRequest, _ info: ResourceInfo) throws(APIError) -> FieldSelector {
        guard let s = req.query["fieldSelector"], !s.isEmpty else { return FieldSelector() }
        do {
            let f = try FieldSelector(parsing: s)
            try f.validate(kind: info.kind)
            return f
        } catch { throw APIError.badRequest(error.message) }
    }

    func serveList(_ req: HTTPRequest, _ w: ResponseWriter, _ t: Target, cut: Int?) throws(APIError) -> Int {
        let info = t.info
        let labels = try labelSelector(req)
        let fields = try fieldSelector(req, info)
        let currentRV = store.currentResourceVersion
        var items = store.list(group: info.group, resource: info.resource, namespace: t.namespace)
            .filter { labels.matches($0.labels) && fields.matches($0) }
        var listRV = currentRV
        func key(_ o: Value) -> String { t.namespace == nil && info.namespaced ? "\(o.metadataNamespace ?? "")/\(o.metadataName ?? "")" : (o.metadataName ?? "") }
        if let c = req.query["continue"], !c.isEmpty {
            guard let bytes = Base64.decode(c), let tok = try? JSONParser.parse(bytes), let start = tok["start"]?.string, let trv = tok["rv"]?.int else {
                throw APIError.badRequest("continue key is not valid: illegal base64 data")
            }
            if trv >= 0 && trv < store.oldestResourceVersion {
                // As etcd compaction makes it: 410 with a fresh (inconsistent) continue token.
                let fresh: Value = ["v": "meta.k8s.io/v1", "rv": .int(-1), "start": .string(start)]
                var st = APIError.expired("The provided continue parameter is too old to display a consistent list result. You can start a new list without the continue parameter, or use the continue token in this response to retrieve the remainder of the results. Continuing with the provided token results in an inconsistent list - objects that were created, modified, or deleted between the time the first chunk was returned and now may show up in the list.").status
                st["metadata"] = ["continue": .string(Base64.encodeRawURL(JSONWriter.bytes(fresh)))]
                respond(w, 410, st, cut: cut)
                return 410
            }
            listRV = trv < 0 ? currentRV : String(trv)
            items = items.filter { key($0) >= start }
        }
        var cont: String? = nil
        var remaining: Int? = nil
        if let ls = req.query["limit"], let limit = Int(ls), limit > 0, items.count > limit {
            let last = key(items[limit - 1])
            let tok: Value = ["v": "meta.k8s.io/v1", "rv": .int(Int(listRV) ?? 0), "start": .string(last + "\u{0}")]
            cont = Base64.encodeRawURL(JSONWriter.bytes(tok))
            if labels.requirements.isEmpty && fields.requirements.isEmpty { remaining = items.count - limit }
            items = Array(items.prefix(limit))
        }
        if wantsTable(req) {
            respond(w, 200, table(items, info, rv: listRV, cont: cont), cut: cut)
            return 200
        }
        var md = Object()
        md.append("resourceVersion", .string(listRV))
        if let cont { md.append("continue", .string(cont)) }
        if let remaining { md.append("remainingItemCount", .int(remaining)) }
        var o = Object()
        o.append("kind", .string(info.kind + "List"))
        o.append("apiVersion", .string(info.apiVersion))
        o.append("metadata", .object(md))
        // The bytes JSONWriter writes for the list with an "items" entry last: its head
        // without the closing brace, then each item's JSON (encoded once per object version).
        var body = JSONWriter.bytes(.object(o))
        body.removeLast()
        body.append(contentsOf: #","items":["#.utf8)
        let encoded = listItems.items(items, apiVersion: info.apiVersion, resource: info.resource, storedCount: store.count) { [self] item in
            JSONWriter.bytes(render(item, info, inList: true))
        }
        body.reserveCapacity(body.count + encoded.reduce(2) { $0 + $1.count + 1 })
        for (i, b) in encoded.enumerated() {
            if i > 0 { body.append(UInt8(ascii: ",")) }
            body.append(contentsOf: b)
        }
        body.append(contentsOf: "]}".utf8)
        w.send(status: 200, headers: [], body: body, cutAfter: cut)
        return 200
    }

    func wantsTable(_ req: HTTPRequest) -> Bool {
        guard let a = req.header("accept") else { return false }
        return a.split(separator: ",").first?.contains("as=Table") ?? false
    }

    /// A minimal `meta.k8s.io/v1` Table (Name, Age) for `kubectl get`.
    func table(_ items: [Value], _ info: ResourceInfo, rv: String, cont: String?) -> Value {
        var md: Object = ["resourceVersion": .string(rv)]
        if let cont { md["continue"] = .string(cont) }
        let rows: [Value] = items.map { o in
            let created = o[path: ["metadata", "creationTimestamp"]]?.string ?? ""
            var partial = Object()
            partial.append("kind", "PartialObjectMetadata")
            partial.append("apiVersion", "meta.k8s.io/v1")
            partial.append("metadata", o["metadata"] ?? .emptyObject)
            return ["cells": [o["metadata"]?["name"] ?? "", .string(created)], "object": .object(partial)]
        }
        return [
            "kind": "Table", "apiVersion": "meta.k8s.io/v1", "metadata": .object(md),
            "columnDefinitions": [
                ["name": "Name", "type": "string", "format": "name", "description": "Name must be unique within a namespace.", "priority": 0],
                ["name": "Created At", "type": "date", "format": "", "description": "CreationTimestamp of the object.", "priority": 0],
            ],
            "rows": .array(rows),
        ]
    }

    func serveWatch(_ req: HTTPRequest, _ w: ResponseWriter, _ t: Target) throws(APIError) {
        let info = t.info
        let labels = try labelSelector(req)
        let fields = try fieldSelector(req, info)
        let watcher = try store.watch(info, namespace: t.namespace, labels: labels, fields: fields, fromRV: req.query["resourceVersion"])
        defer { store.endWatch(watcher) }
        let timeout = Double(req.query["timeoutSeconds"] ?? "") ?? 1800
        let deadline = Date().addingTimeInterval(timeout)
        let bookmarks = isTrue(req.query["allowWatchBookmarks"])
        guard w.startChunked(status: 200) else { return }
        var nextBookmark = Date().addingTimeInterval(options.bookmarkInterval)
        while true {
            // Wake at least every second to notice clients that went away.
            let until = min(bookmarks ? min(deadline, nextBookmark) : deadline, Date().addingTimeInterval(1))
            let r = watcher.next(until: until)
            switch r {
            case .some(.some(let ev)):
                var e = ev
                if e.type != "ERROR" { e.object = render(e.object, info) }
                var line = JSONWriter.bytes(e.json)
                line.append(10)
                guard w.writeChunk(line) else { return }
            case .some(.none):
                if watcher.closed { w.cut(); return }
                w.endChunked()
                return
            case .none:
                if w.conn.peerClosed() { w.cut(); return }
                // An event queued since the wait ended goes out before any bookmark or the end.
                guard let bookmarkRV = store.bookmarkResourceVersion(watcher) else { continue }
                if bookmarks && Date() >= min(deadline, nextBookmark) {
                    var md = Object()
                    md.append("resourceVersion", .string(bookmarkRV))
                    md.append("creationTimestamp", .null)
                    let bm: Value = ["type": "BOOKMARK", "object": ["kind": .string(info.kind), "apiVersion": .string(info.apiVersion), "metadata": .object(md)]]
                    var line = JSONWriter.bytes(bm)
                    line.append(10)
                    guard w.writeChunk(line) else { return }
                    nextBookmark = Date().addingTimeInterval(options.bookmarkInterval)
                }
                if Date() >= deadline {
                    w.endChunked()
                    return
                }
            }
        }
    }
}

/// Version priority as in Kubernetes (GA > beta > alpha, higher numbers first).
enum ResourceVersionOrder {
    static func priority(_ v: String) -> Int {
        guard v.hasPrefix("v") else { return 0 }
        let body = v.dropFirst()
        let major = Int(body.prefix { $0.isNumber }) ?? 0
        let rest = body.drop { $0.isNumber }
        if rest.isEmpty { return 3_000_000 + major * 1000 }
        if rest.hasPrefix("beta") { return 2_000_000 + major * 1000 + (Int(rest.dropFirst(4)) ?? 0) }
        if rest.hasPrefix("alpha") { return 1_000_000 + major * 1000 + (Int(rest.dropFirst(5)) ?? 0) }
        return 0
    }
}
