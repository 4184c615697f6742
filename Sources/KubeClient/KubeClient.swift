import FoundationEssentials
import PatternCore

/// HTTP methods the client uses.
public enum HTTPMethod: String, Sendable {
    case get = "GET", post = "POST", put = "PUT", patch = "PATCH", delete = "DELETE", head = "HEAD"
}

/// Patch flavours for `KubeClient.patch`.
public enum PatchType: Sendable, Hashable {
    /// JSON merge patch (RFC 7386), `application/merge-patch+json`.
    case merge
    /// JSON patch (RFC 6902), `application/json-patch+json`.
    case json
    /// Strategic merge patch (built-in kinds only), `application/strategic-merge-patch+json`.
    case strategic
    /// Server-side apply, `application/apply-patch+yaml`; `force` takes ownership of conflicting fields.
    case apply(force: Bool)

    var contentType: String {
        switch self {
        case .merge: return "application/merge-patch+json"
        case .json: return "application/json-patch+json"
        case .strategic: return "application/strategic-merge-patch+json"
        case .apply: return "application/apply-patch+yaml"
        }
    }

    /// Whether sending the same patch twice has the effect of sending it once.
    var isIdempotent: Bool {
        switch self {
        case .merge, .apply: return true
        case .json, .strategic: return false
        }
    }
}

/// `propagationPolicy` of a DELETE.
public enum PropagationPolicy: String, Sendable {
    case foreground = "Foreground", background = "Background", orphan = "Orphan"
}

/// The result of a LIST with every page collected.
public struct ObjectList: Sendable {
    /// Items with `apiVersion` and `kind` filled in (the server leaves them out of list items).
    public var items: [Value]
    /// The list's resourceVersion: where a watch should start.
    public var resourceVersion: String
    public init(items: [Value], resourceVersion: String) { self.items = items; self.resourceVersion = resourceVersion }
}

/// A raw HTTP answer from `KubeClient.send`.
public struct KubeResponse: Sendable {
    public var status: Int
    public var body: [UInt8]
    /// "1.1" or "2".
    public var httpVersion: String
    /// Connections opened for this request (0 when an existing connection was reused).
    public var newConnections: Int
    /// The body parsed as JSON.
    public func json() throws(KubeError) -> Value { try KubeClient.parseJSON(body) }
}

/// A Kubernetes API client over libcurl: discovery, GET/LIST, server-side apply, patches,
/// create/update/delete and watches, with retries and typed errors (`KubeError`).
///
/// `Sendable`; share one instance. Requests run on a dedicated libcurl thread and reuse
/// connections (HTTP/2 when the server offers it).
public final class KubeClient: Sendable {
    public let config: ClientConfig
    let authenticator: Authenticator
    let discovery = DiscoveryCache()
    /// The transfer loop, started (and libcurl loaded) by the first request, not by `init`:
    /// a command that makes its client before rendering renders while the first request waits.
    var loop: CurlLoop { CurlLoop.shared }
    /// This client's connections: other clients' traffic cannot evict them (see ConnectionPool).
    let pool = ConnectionPool()

    public init(config: ClientConfig) {
        self.config = config
        self.authenticator = Authenticator(config: config)
    }

    /// Loads the configuration as kubectl does (see `ClientConfig.load`).
    public convenience init(kubeconfig: String? = nil, context: String? = nil, namespace: String? = nil) throws(KubeError) {
        self.init(config: try ClientConfig.load(kubeconfig: kubeconfig, context: context, namespace: namespace))
    }

    // MARK: Raw requests

    /// Sends one request with authentication and the retry policy. `idempotent` defaults to
    /// true for GET, HEAD, PUT and DELETE. Non-2xx answers throw `KubeError`.
    public func send(_ method: HTTPMethod, _ path: String, query: [(String, String)] = [], body: [UInt8]? = nil,
                     contentType: String? = nil, idempotent: Bool? = nil, timeout: Double? = nil,
                     accept: String = "application/json") async throws(KubeError) -> KubeResponse {
        let idem = idempotent ?? (method != .post && method != .patch)
        let url = self.url(path, query)
        var attempt = 0
        var refreshCredentials = false
        var refreshedOnce = false
        while true {
            attempt += 1
            let creds = try await authenticator.credentials(refresh: refreshCredentials)
            refreshCredentials = false
            var req = httpRequest(method.rawValue, url, body: body, contentType: contentType, credentials: creds,
                                  timeout: timeout ?? config.requestTimeout, accept: accept)
            req.idempotent = idem
            let resp: HTTPResponse
            let started = monotonicNow()
            do {
                resp = try await loop.perform(req)
                config.requestObserver?(method.rawValue, resp.status, monotonicNow() - started)
            } catch let f as TransportFailure {
                config.requestObserver?(method.rawValue, 0, monotonicNow() - started)
                let retryable = !f.isPermanent && (idem || !f.mayHaveBeenSent)
                if retryable && attempt < config.retry.maxAttempts {
                    try await sleep(config.retry.delay(afterFailure: attempt))
                    continue
                }
                throw .transport(f.publicError)
            } catch {
                throw .cancelled
            }
            if (200..<300).contains(resp.status) {
                return KubeResponse(status: resp.status, body: resp.body, httpVersion: resp.httpVersion,
                                    newConnections: resp.newConnections)
            }
            let err = Self.error(status: resp.status, body: resp.body, retryAfter: resp.header("retry-after"))
            let retryAfter = resp.header("retry-after").flatMap { Double($0.trimming(.whitespacesAndNewlines)) }
            switch resp.status {
            case 401 where authenticator.canRefresh && !refreshedOnce:
                refreshedOnce = true
                refreshCredentials = true
                attempt -= 1
                continue
            case 429:
                // Rejected before processing (API priority and fairness): safe for any method.
                let wait = retryAfter ?? config.retry.delay(afterFailure: attempt)
                if attempt < config.retry.maxAttempts && wait <= config.retry.maxRetryAfter {
                    try await sleep(wait)
                    continue
                }
            case 500 where retryAfter == nil:
                break
            case 500, 502, 503, 504:
                let wait = retryAfter ?? config.retry.delay(afterFailure: attempt)
                if idem && attempt < config.retry.maxAttempts && wait <= config.retry.maxRetryAfter {
                    try await sleep(wait)
                    continue
                }
            default: break
            }
            throw err
        }
    }

    /// Sends a request and parses the JSON answer.
    public func sendJSON(_ method: HTTPMethod, _ path: String, query: [(String, String)] = [], body: Value? = nil,
                         contentType: String = "application/json", idempotent: Bool? = nil) async throws(KubeError) -> Value {
        let bytes = body.map { JSONWriter.bytes($0) }
        return try await send(method, path, query: query, body: bytes, contentType: bytes == nil ? nil : contentType,
                              idempotent: idempotent).json()
    }

    // MARK: Discovery

    /// The resource serving `gvk`, from cached discovery; refetched once when the kind is
    /// unknown (a CRD established a moment ago). Throws `.unknownKind` when the server does
    /// not serve it.
    public func resource(for gvk: GroupVersionKind) async throws(KubeError) -> APIResource {
        let (cached, fresh) = try await lookup(gvk.apiVersion, refresh: false)
        if let r = cached?.first(where: { $0.kind == gvk.kind }) { return r }
        if !fresh, let r = try await lookup(gvk.apiVersion, refresh: true).0?.first(where: { $0.kind == gvk.kind }) {
            return r
        }
        throw .unknownKind(gvk)
    }

    /// The resources of one group version (`v1`, `apps/v1`); nil when it is not served.
    public func groupVersionResources(_ groupVersion: String, refresh: Bool = false) async throws(KubeError) -> [APIResource]? {
        try await lookup(groupVersion, refresh: refresh).0
    }

    func lookup(_ groupVersion: String, refresh: Bool) async throws(KubeError) -> ([APIResource]?, Bool) {
        do {
            return try await discovery.resources(groupVersion, refresh: refresh, aggregated: aggregatedDiscovery) { [self] gv in
                let path = gv.contains("/") ? "/apis/\(gv)" : "/api/\(gv)"
                do {
                    return APIResource.parseList(try await sendJSON(.get, path))
                } catch {
                    if (error as? KubeError)?.isNotFound == true { return nil }
                    throw error
                }
            }
        } catch let e as KubeError {
            throw e
        } catch {
            throw .cancelled
        }
    }

    /// Aggregated discovery (`apidiscovery.k8s.io/v2`, Kubernetes ≥ 1.30, as kubectl asks for it):
    /// `/api` and `/apis` at once, concurrently, give every group version's resources and each
    /// group's preferred version, so the kinds of a site cost two requests instead of one per
    /// group version (and one per group for a preferred version), which is what serial round
    /// trips to a remote API server cost. Once per client (again after `invalidateDiscovery`);
    /// a server that answers with the plain documents, or fails, leaves discovery to the one
    /// group version at a time path. Stale group versions (an aggregated API that is down) are
    /// not cached from it. `DiscoveryCache` reads it at its first lookup.
    var aggregatedDiscovery: @Sendable () async -> AggregatedDiscovery? {
        { [self] in
            async let core = try? send(.get, "/api", accept: AggregatedDiscovery.accept)
            async let groups = try? send(.get, "/apis", accept: AggregatedDiscovery.accept)
            guard let c = await core, let g = await groups,
                  let coreDoc = try? c.json(), let groupsDoc = try? g.json() else { return nil }
            return AggregatedDiscovery(core: coreDoc, groups: groupsDoc)
        }
    }

    /// A group's preferred version as aggregated discovery gave it; nil when the group is not
    /// served or discovery is not aggregated (then `GET /apis/<group>` says).
    public func discoveredPreferredVersion(ofGroup group: String) async -> String? {
        await discovery.preferredVersion(group, aggregated: aggregatedDiscovery)
    }

    /// Every resource the server serves in each group's preferred version (`/api`, `/apis`).
    public func serverResources() async throws(KubeError) -> [APIResource] {
        var gvs: [String] = []
        let core = try await sendJSON(.get, "/api")
        gvs += (core["versions"]?.array ?? []).compactMap(\.string)
        let groups = try await sendJSON(.get, "/apis")
        for g in groups["groups"]?.array ?? [] {
            if let gv = g[path: ["preferredVersion", "groupVersion"]]?.string { gvs.append(gv) }
        }
        var out: [APIResource] = []
        for gv in gvs { out += try await groupVersionResources(gv, refresh: true) ?? [] }
        return out
    }

    /// Forgets cached discovery.
    public func invalidateDiscovery() async { await discovery.invalidate() }

    /// `/version`.
    public func serverVersion() async throws(KubeError) -> Value { try await sendJSON(.get, "/version") }

    // MARK: Reads

    /// GET one object. `namespace` defaults to the configured namespace for namespaced kinds.
    public func get(_ gvk: GroupVersionKind, name: String, namespace: String? = nil) async throws(KubeError) -> Value {
        let r = try await resource(for: gvk)
        return try await sendJSON(.get, r.path(namespace: namespace ?? config.namespace, name: name))
    }

    /// GET, nil when the object does not exist.
    public func getIfPresent(_ gvk: GroupVersionKind, name: String, namespace: String? = nil) async throws(KubeError) -> Value? {
        do { return try await get(gvk, name: name, namespace: namespace) } catch {
            if error.isNotFound { return nil }
            throw error
        }
    }

    /// LIST with selectors, collecting every page (`limit`/`continue`; `pageSize` nil: the
    /// configuration's `listPageSize`). `namespace` nil lists all namespaces (or the
    /// cluster-scoped collection). A continue token that expired while paging restarts the list
    /// once from the beginning. `onRequest` is called once for every page asked for (the first,
    /// each next one, a restart), before its answer: a caller that counts requests counts each.
    public func list(_ gvk: GroupVersionKind, namespace: String? = nil, labelSelector: String? = nil,
                     fieldSelector: String? = nil, pageSize: Int? = nil,
                     onRequest: (@Sendable () -> Void)? = nil) async throws(KubeError) -> ObjectList {
        let r = try await resource(for: gvk)
        let path = r.path(namespace: namespace)
        let pageSize = pageSize ?? config.listPageSize
        func query(_ token: String?) -> [(String, String)] {
            var q: [(String, String)] = []
            if let labelSelector, !labelSelector.isEmpty { q.append(("labelSelector", labelSelector)) }
            if let fieldSelector, !fieldSelector.isEmpty { q.append(("fieldSelector", fieldSelector)) }
            if pageSize > 0 { q.append(("limit", String(pageSize))) }
            if let token { q.append(("continue", token)) }
            return q
        }
        // The next page, asked for as soon as this one's continue token is read (before its
        // items are parsed), so the server prepares it while the client parses.
        var ahead: (token: String, task: Task<Result<KubeResponse, KubeError>, Never>)? = nil
        defer { ahead?.task.cancel() }
        var restarted = false
        outer: while true {
            var items: [Value] = []
            var token: String? = nil
            var rv = ""
            repeat {
                let page: Value
                do {
                    let body: [UInt8]
                    if let a = ahead, a.token == token {
                        ahead = nil
                        // Cancelling this list cancels the page's request, as for a request sent here.
                        body = try await withTaskCancellationHandler { await a.task.value } onCancel: { a.task.cancel() }.get().body
                    } else {
                        ahead?.task.cancel(); ahead = nil
                        onRequest?()
                        body = try await send(.get, path, query: query(token)).body
                    }
                    let next = body.withUnsafeBufferPointer { b in JSONParser.member("metadata", before: "items", in: b)?["continue"]?.string }
                    if let next, !next.isEmpty {
                        let q = query(next)
                        onRequest?()
                        ahead = (next, Task { () -> Result<KubeResponse, KubeError> in
                            do throws(KubeError) { return .success(try await self.send(.get, path, query: q)) } catch { return .failure(error) }
                        })
                    }
                    page = try KubeClient.parseJSON(body, splittingArrayAt: "items")
                } catch {
                    if error.isGone && token != nil && !restarted { restarted = true; ahead?.task.cancel(); ahead = nil; continue outer }
                    throw error
                }
                // Type meta added on all cores (list items carry none).
                items.append(contentsOf: ParallelMap.map(page["items"]?.array ?? []) { Self.withTypeMeta($0, r) })
                rv = page[path: ["metadata", "resourceVersion"]]?.string ?? rv
                token = page[path: ["metadata", "continue"]]?.string.flatMap { $0.isEmpty ? nil : $0 }
            } while token != nil
            return ObjectList(items: items, resourceVersion: rv)
        }
    }

    // MARK: Writes

    /// Server-side apply of `object` (a full Kubernetes object) as `fieldManager`.
    ///
    /// The body is JSON (valid YAML, so no YAML 1.1 surprises such as `y` → true) sent as
    /// `application/apply-patch+yaml`. `force` takes ownership of fields other managers own;
    /// without it, conflicts throw `.conflict` listing managers and fields.
    /// `subresource: "status"` applies status as a controller would.
    public func apply(_ object: Value, fieldManager: String, force: Bool = false, dryRun: Bool = false,
                      subresource: String? = nil) async throws(KubeError) -> Value {
        try await applyReportingCreation(object, fieldManager: fieldManager, force: force, dryRun: dryRun, subresource: subresource).object
    }

    /// Server-side apply that also says whether the server created the object: the API
    /// answers `201 Created` for a create and `200 OK` for an update or no-op.
    public func applyReportingCreation(_ object: Value, fieldManager: String, force: Bool = false, dryRun: Bool = false,
                                       subresource: String? = nil) async throws(KubeError) -> (object: Value, created: Bool) {
        let (r, ns, name) = try await locate(object)
        var q: [(String, String)] = [("fieldManager", fieldManager)]
        if force { q.append(("force", "true")) }
        if dryRun { q.append(("dryRun", "All")) }
        let response = try await send(.patch, r.path(namespace: ns, name: name, subresource: subresource), query: q,
                                      body: JSONWriter.bytes(object), contentType: PatchType.apply(force: force).contentType, idempotent: true)
        return (try response.json(), response.status == 201)
    }

    /// PATCH with any patch type (merge patch to simulate another manager, JSON patch, …).
    public func patch(_ gvk: GroupVersionKind, name: String, namespace: String? = nil, patch: Value, type: PatchType = .merge,
                      fieldManager: String? = nil, dryRun: Bool = false, subresource: String? = nil) async throws(KubeError) -> Value {
        let r = try await resource(for: gvk)
        var q: [(String, String)] = []
        if let fieldManager { q.append(("fieldManager", fieldManager)) }
        if case .apply(let force) = type, force { q.append(("force", "true")) }
        if dryRun { q.append(("dryRun", "All")) }
        return try await sendJSON(.patch, r.path(namespace: namespace ?? config.namespace, name: name, subresource: subresource),
                                  query: q, body: patch, contentType: type.contentType, idempotent: type.isIdempotent)
    }

    /// POST a new object. Not retried once it may have reached the server.
    public func create(_ object: Value, fieldManager: String? = nil, dryRun: Bool = false) async throws(KubeError) -> Value {
        let (r, ns, _) = try await locate(object)
        var q: [(String, String)] = []
        if let fieldManager { q.append(("fieldManager", fieldManager)) }
        if dryRun { q.append(("dryRun", "All")) }
        return try await sendJSON(.post, r.path(namespace: ns), query: q, body: object, idempotent: false)
    }

    /// PUT (replace) an object; include `metadata.resourceVersion` for optimistic concurrency.
    public func update(_ object: Value, fieldManager: String? = nil, dryRun: Bool = false, subresource: String? = nil) async throws(KubeError) -> Value {
        let (r, ns, name) = try await locate(object)
        var q: [(String, String)] = []
        if let fieldManager { q.append(("fieldManager", fieldManager)) }
        if dryRun { q.append(("dryRun", "All")) }
        return try await sendJSON(.put, r.path(namespace: ns, name: name, subresource: subresource), query: q, body: object)
    }

    /// DELETE an object. Returns what the server answered: the object (when finalizers keep it
    /// around, e.g. foreground deletion) or a `Status`. Throws `.notFound` when it is gone.
    @discardableResult
    public func delete(_ gvk: GroupVersionKind, name: String, namespace: String? = nil,
                       propagationPolicy: PropagationPolicy? = nil, dryRun: Bool = false,
                       preconditionUID: String? = nil, preconditionResourceVersion: String? = nil) async throws(KubeError) -> Value {
        let r = try await resource(for: gvk)
        var options: Value = ["apiVersion": "v1", "kind": "DeleteOptions"]
        if let propagationPolicy { options["propagationPolicy"] = .string(propagationPolicy.rawValue) }
        if dryRun { options["dryRun"] = ["All"] }
        if preconditionUID != nil || preconditionResourceVersion != nil {
            var p: Value = .emptyObject
            if let preconditionUID { p["uid"] = .string(preconditionUID) }
            if let preconditionResourceVersion { p["resourceVersion"] = .string(preconditionResourceVersion) }
            options["preconditions"] = p
        }
        return try await sendJSON(.delete, r.path(namespace: namespace ?? config.namespace, name: name), body: options)
    }

    // MARK: Helpers

    /// Resource, namespace and name of an object.
    func locate(_ object: Value) async throws(KubeError) -> (APIResource, String?, String) {
        guard let gvk = object.gvk else { throw .configuration("object has no apiVersion or kind: \(Self.brief(object))") }
        guard let name = object.metadataName, !name.isEmpty else {
            throw .configuration("\(gvk.kind) has no metadata.name")
        }
        let r = try await resource(for: gvk)
        let ns = r.namespaced ? (object.metadataNamespace ?? config.namespace) : nil
        return (r, ns, name)
    }

    static func brief(_ v: Value) -> String {
        let s = JSONWriter.string(v)
        return s.count > 120 ? String(s.prefix(120)) + "…" : s
    }

    static func withTypeMeta(_ item: Value, _ r: APIResource) -> Value {
        if item.apiVersion != nil && item.kindName != nil { return item }
        guard let o = item.object else { return item }
        var out = Object()
        out.reserveCapacity(o.count + 2)
        out.append("apiVersion", .string(r.groupVersion))
        out.append("kind", .string(r.kind))
        for (k, v) in o where k != "apiVersion" && k != "kind" { out.append(k, v) }
        return .object(out)
    }

    /// A response body as JSON; with `splittingArrayAt` (a LIST page's `items`), that array's
    /// elements are parsed on all cores (`JSONParser.parse(bytes:file:splittingArrayAt:)`).
    static func parseJSON(_ body: [UInt8], splittingArrayAt key: String? = nil) throws(KubeError) -> Value {
        if body.isEmpty { return .null }
        let r = body.withUnsafeBufferPointer { b in
            Result { () throws(Diagnostic) in
                // A list's items share their repeated managedFields field sets (`sharedKey`).
                if let key { return try JSONParser(sharedKey: "fieldsV1").parse(bytes: b, file: "response", splittingArrayAt: key) }
                return try JSONParser().parse(bytes: b, file: "response")
            }
        }
        do { return try r.get() } catch { throw .decoding(error.message) }
    }

    static func error(status: Int, body: [UInt8], retryAfter: String?) -> KubeError {
        let parsed = try? JSONParser.parse(body, file: "response")
        var fallback = ""
        if parsed == nil {
            fallback = String(decoding: body.prefix(300), as: UTF8.self).trimming(.whitespacesAndNewlines)
        }
        return KubeError.from(httpStatus: status, body: parsed, retryAfterHeader: retryAfter, fallbackMessage: fallback)
    }

    func url(_ path: String, _ query: [(String, String)]) -> String {
        var u = config.server + path
        if !query.isEmpty {
            u += "?" + query.map { "\(percentEncode($0.0))=\(percentEncode($0.1))" }.joined(separator: "&")
        }
        return u
    }

    func httpRequest(_ method: String, _ url: String, body: [UInt8]?, contentType: String?, credentials: RequestCredentials,
                     timeout: Double?, accept: String = "application/json") -> HTTPRequest {
        var req = HTTPRequest(method: method, url: url)
        req.pool = pool
        req.headers = ["Accept: \(accept)", "User-Agent: \(config.userAgent)"]
        if let contentType { req.headers.append("Content-Type: \(contentType)") }
        if let a = credentials.authorization { req.headers.append("Authorization: \(a)") }
        req.body = body
        req.tls = TLSOptions(caPEM: config.caPEM, insecureSkipVerify: config.insecureSkipTLSVerify,
                             clientCertPEM: credentials.clientCertPEM, clientKeyPEM: credentials.clientKeyPEM)
        req.connectTimeout = config.connectTimeout
        req.timeout = timeout
        req.maxResponseBytes = config.maxResponseBytes
        if let sni = config.tlsServerName, !sni.isEmpty, let (host, port) = Self.hostPort(config.server) {
            // Connect to the real host but verify (and send SNI for) tls-server-name.
            if let r = url.firstRange(of: "://\(host)") { req.url.replaceSubrange(r, with: "://\(sni)") }
            req.connectTo = "\(sni):\(port):\(host):\(port)"
        }
        return req
    }

    static func hostPort(_ server: String) -> (String, Int)? {
        guard let r = server.firstRange(of: "://") else { return nil }
        let rest = server[r.upperBound...]
        let hp = rest.prefix(while: { $0 != "/" })
        let https = server.hasPrefix("https")
        if hp.hasPrefix("[") {
            guard let close = hp.firstIndex(of: "]") else { return nil }
            let host = String(hp[...close])
            let after = hp[hp.index(after: close)...]
            return (host, after.hasPrefix(":") ? Int(after.dropFirst()) ?? 443 : (https ? 443 : 80))
        }
        if let colon = hp.lastIndex(of: ":") { return (String(hp[..<colon]), Int(hp[hp.index(after: colon)...]) ?? 443) }
        return (String(hp), https ? 443 : 80)
    }

    func sleep(_ seconds: Double) async throws(KubeError) {
        do { try await Task.sleep(nanoseconds: UInt64(max(0, seconds) * 1e9)) } catch { throw .cancelled }
    }
}
