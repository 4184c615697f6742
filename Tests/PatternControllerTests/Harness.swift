import Testing
import Foundation
import PatternCore
import PatternCompile
import PatternSource
import PatternApply
import PatternController
import KubeClient
import KubeTestServer
import TestSupport
import Logging

let repoRoot: String = RepositoryPaths.root

/// A temporary directory, removed when the test process exits (TestSupport).
func makeTempDir(_ prefix: String = "pattern-ctl") -> String { TemporaryDirectories.make(prefix) }

func writeFile(_ path: String, _ text: String) {
    try? FileManager.default.createDirectory(atPath: (path as NSString).deletingLastPathComponent, withIntermediateDirectories: true)
    _ = FileManager.default.createFile(atPath: path, contents: Data(text.utf8))
}

func readFile(_ path: String) -> String { (try? String(contentsOfFile: path, encoding: .utf8)) ?? "" }

/// A pattern repository (the bundled example) in a temporary git repository, reached by file:// URL.
struct GitPatternRepo {
    let dir: String
    var url: String { "file://" + dir }

    init() throws {
        dir = makeTempDir("pattern-ctl-repo")
        try FileManager.default.createDirectory(atPath: dir + "/patterns", withIntermediateDirectories: true)
        try FileManager.default.copyItem(atPath: repoRoot + "/patterns/multicloud-platform", toPath: dir + "/patterns/multicloud-platform")
        try FileManager.default.copyItem(atPath: repoRoot + "/overlays", toPath: dir + "/overlays")
        try git(["init", "-q", "-b", "main"], in: dir)
        try git(["add", "-A"], in: dir)
        try git(["commit", "-q", "-m", "initial"], in: dir)
    }

    var head: String { (try? git(["rev-parse", "HEAD"], in: dir)) ?? "" }

    /// Removes the repository.
    func remove() { try? FileManager.default.removeItem(atPath: dir) }

    /// Replaces text in a file and commits; returns the new commit.
    @discardableResult
    func change(_ rel: String, _ from: String, _ to: String) throws -> String {
        let path = dir + "/" + rel
        let text = readFile(path)
        #expect(text.contains(from))
        writeFile(path, text.replacingOccurrences(of: from, with: to))
        try git(["commit", "-q", "-am", "change \(rel)"], in: dir)
        return head
    }
}

/// The test API server with the PatternSync CRD installed, and a client for it.
final class ControllerCluster: @unchecked Sendable {
    let server: TestAPIServer
    let client: KubeClient
    let kubeconfigPath: String
    let cacheDir: String

    /// `tokens`: the hub authenticates (the test client uses the token "admin", which must be one).
    init(controllerDelay: Double = 0, installCRD: Bool = true, tokens: [String: UserInfo] = [:]) async throws {
        var o = TestAPIServerOptions()
        o.simulateControllers = true
        o.controllerDelay = controllerDelay
        o.tokens = tokens
        server = try TestAPIServer.start(o)
        let dir = makeTempDir()
        kubeconfigPath = dir + "/kubeconfig"
        cacheDir = dir + "/cache"
        writeFile(kubeconfigPath, server.kubeconfig(token: tokens.isEmpty ? nil : "admin"))
        client = KubeClient(config: try ControllerCluster.config(kubeconfigPath, agent: "test"))
        guard installCRD else { return }
        let crd = try YAMLParser.parse(readFile(repoRoot + "/patterns/pattern-controller/components/crd/patternsync-crd.yaml"))
        _ = try await client.apply(crd, fieldManager: "test")
        await client.invalidateDiscovery()
    }

    static func config(_ path: String, agent: String) throws -> ClientConfig {
        var config = try ClientConfig.load(kubeconfig: path, context: "test")
        config.retry = RetryPolicy(maxAttempts: 3, baseDelay: 0.01, maxDelay: 0.05, jitter: 0.1, maxRetryAfter: 1)
        config.userAgent = "pattern-controller/test (\(agent))"
        return config
    }

    /// A controller (not started) with short timings; `identity` also goes into the user agent.
    /// `token`: the controller authenticates with this token instead of the test client's.
    func controller(identity: String = "a", metrics: Bool = false, leaseDuration: Double = 2, shards: Int = 1, token: String? = nil,
                    minBackoff: Double = 0.2, maxBackoff: Double = 1,
                    logger: Logger = Logger(label: "pattern.controller")) throws -> PatternController {
        let registry = ControllerMetrics.makeRegistry()
        var path = kubeconfigPath
        if let token {
            path = (kubeconfigPath as NSString).deletingLastPathComponent + "/kubeconfig-\(identity)"
            writeFile(path, server.kubeconfig(token: token))
        }
        let client = PatternController.instrumentedClient(try ControllerCluster.config(path, agent: identity), metrics: registry)
        var lease = LeaderElector.Config(name: "pattern-controller", namespace: "default", identity: identity)
        lease.leaseDuration = leaseDuration
        lease.renewDeadline = leaseDuration * 2 / 3
        lease.retryPeriod = 0.2
        var settings = ReconcilerSettings(cache: SourceCache(directory: cacheDir))
        settings.waitPollSeconds = 0.05
        var c = ControllerConfiguration(lease: lease, reconciler: settings)
        c.minBackoff = minBackoff
        c.maxBackoff = maxBackoff
        c.ownedDebounce = 0.05
        c.rolloutPollSeconds = 0.1
        c.shards = shards
        if metrics { c.metricsAddress = "127.0.0.1:0" }
        return PatternController(client: client, configuration: c, metrics: registry, logger: logger)
    }

    static let gvk = PatternSyncSpec.gvk

    func createSync(_ name: String = "dev", url: String, site: String = "dev", interval: String = "1h",
                    driftPolicy: String = "report", extra: Value = .emptyObject) async throws {
        var spec: Value = ["source": ["git": ["url": .string(url), "ref": "main"]], "site": .string(site),
                           "interval": .string(interval), "driftPolicy": .string(driftPolicy), "prune": true, "timeout": "20s"]
        for (k, v) in extra.object ?? Object() { spec[k] = v }
        let o: Value = ["apiVersion": "pattern.dev/v1alpha1", "kind": "PatternSync",
                        "metadata": ["name": .string(name), "namespace": "default"], "spec": spec]
        _ = try await client.create(o)
    }

    func sync(_ name: String = "dev") async -> Value? {
        try? await client.get(ControllerCluster.gvk, name: name, namespace: "default")
    }

    func condition(_ name: String = "dev", _ type: String) async -> Value? {
        await sync(name)?[path: ["status", "conditions"]]?.array?.first { $0["type"]?.string == type }
    }

    func events() -> [Value] { server.store.list(resource: "events", namespace: "default") }

    func stop() { server.stop() }
}

/// Polls `check` until it is true or `seconds` × 4 pass. The factor is slack for `swift test`
/// running every suite in one process at once (hundreds of tests on 2 cores): a check returns as
/// soon as it holds, so the slack costs nothing when things work, and these tests assert *what*
/// happens, not how fast (speed lives in Benchmarks/).
func eventually(_ seconds: Double = 10, _ what: String = "", _ check: () async throws -> Bool) async rethrows -> Bool {
    let deadline = Date().addingTimeInterval(seconds * 4)
    while Date() < deadline {
        if try await check() { return true }
        try? await Task.sleep(nanoseconds: 50_000_000)
    }
    return try await check()
}

/// Runs a controller in a task; `stop()` shuts it down gracefully and waits.
final class RunningController: @unchecked Sendable {
    let controller: PatternController
    let task: Task<Void, Error>
    init(_ c: PatternController) {
        controller = c
        task = Task { try await c.run() }
    }
    func stop() async {
        controller.shutdown()
        _ = await task.result
    }
}

/// A plain HTTP GET over a socket (the endpoint under test is ours; no client library).
func httpGet(port: Int, path: String) -> (status: Int, body: String)? {
    let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
    guard fd >= 0 else { return nil }
    defer { close(fd) }
    var addr = sockaddr_in()
    addr.sin_family = sa_family_t(AF_INET)
    addr.sin_port = in_port_t(UInt16(port).bigEndian)
    inet_pton(AF_INET, "127.0.0.1", &addr.sin_addr)
    let rc = withUnsafePointer(to: &addr) { $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { connect(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) } }
    guard rc == 0 else { return nil }
    let req = "GET \(path) HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n"
    _ = req.withCString { send(fd, $0, strlen($0), 0) }
    var out: [UInt8] = []
    var buf = [UInt8](repeating: 0, count: 65536)
    while true {
        let n = recv(fd, &buf, buf.count, 0)
        if n <= 0 { break }
        out += buf[0..<n]
    }
    let text = String(decoding: out, as: UTF8.self)
    guard let sp = text.split(separator: " ").dropFirst().first, let code = Int(sp) else { return nil }
    let body = text.range(of: "\r\n\r\n").map { String(text[$0.upperBound...]) } ?? ""
    return (code, body)
}
