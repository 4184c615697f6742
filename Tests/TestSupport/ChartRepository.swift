import Foundation
import KubeTestServer
import PatternCore

/// A chart repository on loopback: `index.yaml` and archives from a map that tests change,
/// optional Basic or Bearer authentication, and a request log.
public final class ChartRepoServer: @unchecked Sendable {
    private let lock = NSLock()
    private var files: [String: [UInt8]] = [:]
    private var log: [String] = []
    public var basicAuth: String? = nil       // "user:password"
    public var bearer: String? = nil
    private var server: HTTPServer!
    /// The repository URL (the directory holding `index.yaml`).
    public var url: String { "http://127.0.0.1:\(server.port)/charts" }

    public init() throws {
        server = HTTPServer { [unowned self] req, w in
            self.lock.lock()
            self.log.append(req.path)
            let body = self.files[req.path]
            let (basic, bearer) = (self.basicAuth, self.bearer)
            self.lock.unlock()
            let auth = req.header("authorization")
            if let basic, auth != "Basic " + Base64.encode(Array(basic.utf8)) {
                w.send(status: 401, contentType: "text/plain", headers: [("WWW-Authenticate", "Basic realm=\"charts\"")], body: Array("unauthorized".utf8))
                return
            }
            if let bearer, auth != "Bearer " + bearer {
                w.send(status: 401, contentType: "text/plain", body: Array("unauthorized".utf8))
                return
            }
            guard let body else { w.send(status: 404, contentType: "text/plain", body: Array("not found".utf8)); return }
            w.send(status: 200, contentType: "application/octet-stream", body: body)
        }
        try server.start(port: 0)
    }
    /// Serves `bytes` at `path` (e.g. `/charts/index.yaml`).
    public func put(_ path: String, _ bytes: [UInt8]) { lock.lock(); files[path] = bytes; lock.unlock() }
    /// Paths requested so far, in order.
    public var requests: [String] { lock.lock(); defer { lock.unlock() }; return log }
    public func stop() { server.stop() }
    deinit { server.stop() }
}

/// A chart archive made by the system tar from `files` (paths inside the chart directory
/// `<name>/`; default: `Chart.yaml` + a ConfigMap template whose data names the version).
public func chartArchive(_ tmp: TemporaryDirectory, name: String, version: String, marker: String = "",
                         files: [String: String]? = nil) throws -> [UInt8] {
    let dir = tmp.sub("build-\(name)-\(version)-\(marker.count)")
    let content = files ?? [
        "templates/cm.yaml": "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: \(name)}\ndata: {v: \"\(version)\(marker)\"}\n",
    ]
    var all = content
    if all["Chart.yaml"] == nil { all["Chart.yaml"] = "apiVersion: v2\nname: \(name)\nversion: \(version)\n" }
    for (rel, text) in all {
        let path = dir + "/\(name)/" + rel
        try FileManager.default.createDirectory(atPath: (path as NSString).deletingLastPathComponent, withIntermediateDirectories: true)
        try Data(text.utf8).write(to: URL(fileURLWithPath: path))
    }
    let tar = try runTool("/bin/tar", ["--sort=name", "--mtime=@0", "--owner=0", "--group=0", "-czf", dir + "/out.tgz", name], in: dir)
    guard tar.succeeded, let data = FileManager.default.contents(atPath: dir + "/out.tgz") else {
        throw CommandFailed(description: "tar -czf failed for chart \(name)")
    }
    return [UInt8](data)
}

/// An index.yaml listing `entries` (version, url, digest or nil).
public func chartIndex(_ name: String, _ entries: [(String, String, String?)]) -> [UInt8] {
    var s = "apiVersion: v1\nentries:\n  \(name):\n"
    for (v, u, d) in entries {
        s += "  - name: \(name)\n    version: \(v)\n    urls: [\"\(u)\"]\n"
        if let d { s += "    digest: \(d)\n" }
    }
    return Array(s.utf8)
}
