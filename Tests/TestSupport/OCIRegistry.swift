import Foundation
import KubeTestServer
import PatternCore

/// A tiny OCI distribution registry on loopback for chart tests: `helm push`-shaped manifests
/// (config + one chart layer), `/v2/<name>/tags/list` with `Link` pagination, manifests by tag
/// or digest with `Docker-Content-Digest`, blobs (optionally redirected to a second "blob
/// storage" server that records any credentials it receives), and the registry token flow
/// (`401` + `WWW-Authenticate: Bearer realm=…/token,service=…,scope=…`) or basic auth.
public final class OCIRegistryServer: @unchecked Sendable {
    public enum Auth: Sendable {
        /// No authentication.
        case anonymous
        /// The token flow; the token service accepts these basic credentials ("user:password"),
        /// and anonymous token requests too when `user` is nil.
        case token(user: String?)
        /// Basic authentication on every registry request ("user:password").
        case basic(String)
    }

    private let lock = NSLock()
    private var manifests: [String: [String: [UInt8]]] = [:]   // repository → tag or digest → bytes
    private var blobs: [String: [UInt8]] = [:]                  // digest → bytes
    private var log: [String] = []
    private var storageLog: [String] = []
    private var issued: Set<String> = []
    private var tagPages: [[String]] = []
    private var counter = 0
    private var server: HTTPServer!
    private var storage: HTTPServer!
    /// How the registry authenticates.
    public var auth: Auth = .anonymous
    /// The token service's password for `.token(user:)`.
    public var tokenPassword = "registry-secret-731"
    /// Tags per page of `tags/list` (nil: all at once).
    public var pageSize: Int? = nil
    /// Serve blobs through a 307 redirect to the storage server (another host:port).
    public var redirectBlobs = false
    /// Overrides the bytes served for a blob digest (a tampered blob).
    public var tamperedBlobs: [String: [UInt8]] = [:]

    /// `host:port` of the registry.
    public var host: String { "127.0.0.1:\(server.port)" }
    /// `oci://host:port/<repository>`.
    public func url(_ repository: String) -> String { "oci://\(host)/\(repository)" }

    public init() throws {
        server = HTTPServer { [unowned self] req, w in self.handle(req, w) }
        storage = HTTPServer { [unowned self] req, w in
            self.lock.lock()
            self.storageLog.append("\(req.path) auth=\(req.header("authorization") ?? "-")")
            let digest = String(req.path.split(separator: "/").last ?? "")
            let body = self.tamperedBlobs[digest] ?? self.blobs[digest]
            self.lock.unlock()
            guard let body else { w.send(status: 404, contentType: "text/plain", body: Array("not found".utf8)); return }
            w.send(status: 200, contentType: "application/octet-stream", body: body)
        }
        try server.start(port: 0)
        try storage.start(port: 0)
    }

    /// Pushes `chart` (a .tgz) as `repository:tag` the way `helm push` does; returns the
    /// manifest digest and the chart layer digest (`sha256:…`).
    @discardableResult
    public func push(_ repository: String, tag: String, chart: [UInt8], version: String? = nil) -> (manifest: String, layer: String) {
        let config = Array("{\"name\":\"\(repository.split(separator: "/").last!)\",\"version\":\"\(version ?? tag.replacingOccurrences(of: "_", with: "+"))\"}".utf8)
        let configDigest = "sha256:" + SHA256.hex(config)
        let layerDigest = "sha256:" + SHA256.hex(chart)
        let manifest = Array("""
        {"schemaVersion":2,"mediaType":"application/vnd.oci.image.manifest.v1+json",\
        "config":{"mediaType":"application/vnd.cncf.helm.config.v1+json","digest":"\(configDigest)","size":\(config.count)},\
        "layers":[{"mediaType":"application/vnd.cncf.helm.chart.content.v1.tar+gzip","digest":"\(layerDigest)","size":\(chart.count)}],\
        "annotations":{"org.opencontainers.image.version":"\(version ?? tag.replacingOccurrences(of: "_", with: "+"))"}}
        """.utf8)
        let manifestDigest = "sha256:" + SHA256.hex(manifest)
        lock.lock()
        blobs[configDigest] = config
        blobs[layerDigest] = chart
        manifests[repository, default: [:]][tag] = manifest
        manifests[repository, default: [:]][manifestDigest] = manifest
        lock.unlock()
        return (manifestDigest, layerDigest)
    }

    /// Registry requests so far: "METHOD path auth=<scheme or ->".
    public var requests: [String] { lock.lock(); defer { lock.unlock() }; return log }
    /// Blob-storage requests so far: "path auth=<Authorization header or ->".
    public var storageRequests: [String] { lock.lock(); defer { lock.unlock() }; return storageLog }
    /// Tokens the token service issued.
    public var issuedTokens: Set<String> { lock.lock(); defer { lock.unlock() }; return issued }
    /// The tags of every `tags/list` page served with a 200, in order.
    public var servedTagPages: [[String]] { lock.lock(); defer { lock.unlock() }; return tagPages }

    public func stop() { server.stop(); storage.stop() }
    deinit { server.stop(); storage.stop() }

    private func handle(_ req: HTTPRequest, _ w: ResponseWriter) {
        lock.lock()
        defer { lock.unlock() }
        let authHeader = req.header("authorization")
        log.append("\(req.method) \(req.target) auth=\(authHeader.map { String($0.prefix { $0 != " " }) } ?? "-")")
        if req.path == "/token" {
            guard case .token(let user) = auth else { return w.send(status: 404, contentType: "text/plain", body: []) }
            if let user {
                guard authHeader == "Basic " + Base64.encode(Array("\(user):\(tokenPassword)".utf8)) else {
                    return w.send(status: 401, contentType: "application/json", body: Array("{\"errors\":[{\"code\":\"UNAUTHORIZED\"}]}".utf8))
                }
            }
            guard req.query["service"] == "test-registry", let scope = req.query["scope"], scope.hasPrefix("repository:"), scope.hasSuffix(":pull") else {
                return w.send(status: 400, contentType: "text/plain", body: Array("bad service or scope".utf8))
            }
            counter += 1
            let token = "tok-\(counter)-\(UInt32.random(in: 0...UInt32.max))"
            issued.insert(token)
            // Docker's token service answers both fields; some only `access_token`.
            let body = counter % 2 == 1 ? "{\"token\":\"\(token)\"}" : "{\"access_token\":\"\(token)\"}"
            return w.send(status: 200, contentType: "application/json", body: Array(body.utf8))
        }
        guard req.path.hasPrefix("/v2/") else { return w.send(status: 404, contentType: "text/plain", body: []) }
        switch auth {
        case .anonymous: break
        case .token:
            let ok = authHeader.map { $0.hasPrefix("Bearer ") && issued.contains(String($0.dropFirst(7))) } ?? false
            if !ok {
                let repo = repositoryOf(req.path) ?? ""
                return w.send(status: 401, contentType: "application/json",
                              headers: [("WWW-Authenticate", "Bearer realm=\"http://\(host)/token\",service=\"test-registry\",scope=\"repository:\(repo):pull\"")],
                              body: Array("{\"errors\":[{\"code\":\"UNAUTHORIZED\"}]}".utf8))
            }
        case .basic(let userPassword):
            if authHeader != "Basic " + Base64.encode(Array(userPassword.utf8)) {
                return w.send(status: 401, contentType: "application/json", headers: [("WWW-Authenticate", "Basic realm=\"test-registry\"")],
                              body: Array("{\"errors\":[{\"code\":\"UNAUTHORIZED\"}]}".utf8))
            }
        }
        let parts = req.path.dropFirst(4).split(separator: "/").map(String.init)
        if parts.count >= 3, parts[parts.count - 2] == "tags", parts.last == "list" {
            let repo = parts.dropLast(2).joined(separator: "/")
            guard let m = manifests[repo] else { return w.send(status: 404, contentType: "application/json", body: Array("{\"errors\":[{\"code\":\"NAME_UNKNOWN\"}]}".utf8)) }
            var tags = m.keys.filter { !$0.hasPrefix("sha256:") }.sorted()
            if let last = req.query["last"] { tags = tags.filter { $0 > last } }
            let n = req.query["n"].flatMap(Int.init) ?? pageSize
            var headers: [(String, String)] = []
            if let n, tags.count > n {
                tags = Array(tags.prefix(n))
                headers.append(("Link", "</v2/\(repo)/tags/list?n=\(n)&last=\(tags.last!)>; rel=\"next\""))
            }
            tagPages.append(tags)
            let body = "{\"name\":\"\(repo)\",\"tags\":[" + tags.map { "\"\($0)\"" }.joined(separator: ",") + "]}"
            return w.send(status: 200, contentType: "application/json", headers: headers, body: Array(body.utf8))
        }
        if parts.count >= 3, parts[parts.count - 2] == "manifests" {
            let repo = parts.dropLast(2).joined(separator: "/")
            guard let bytes = manifests[repo]?[parts.last!] else {
                return w.send(status: 404, contentType: "application/json", body: Array("{\"errors\":[{\"code\":\"MANIFEST_UNKNOWN\"}]}".utf8))
            }
            return w.send(status: 200, contentType: "application/vnd.oci.image.manifest.v1+json",
                          headers: [("Docker-Content-Digest", "sha256:" + SHA256.hex(bytes))], body: bytes)
        }
        if parts.count >= 3, parts[parts.count - 2] == "blobs" {
            let digest = parts.last!
            if redirectBlobs {
                return w.send(status: 307, contentType: "text/plain", headers: [("Location", "http://127.0.0.1:\(storage.port)/storage/\(digest)")], body: [])
            }
            guard let bytes = tamperedBlobs[digest] ?? blobs[digest] else {
                return w.send(status: 404, contentType: "application/json", body: Array("{\"errors\":[{\"code\":\"BLOB_UNKNOWN\"}]}".utf8))
            }
            return w.send(status: 200, contentType: "application/octet-stream", body: bytes)
        }
        w.send(status: 404, contentType: "text/plain", body: [])
    }

    private func repositoryOf(_ path: String) -> String? {
        let parts = path.dropFirst(4).split(separator: "/").map(String.init)
        guard parts.count >= 3 else { return nil }
        return parts.dropLast(2).joined(separator: "/")
    }
}
