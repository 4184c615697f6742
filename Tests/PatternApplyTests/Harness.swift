import Testing
import TestSupport
import PatternCore
import PatternCompile
import PatternApply
import KubeClient
import KubeTestServer
#if canImport(Glibc)
import Glibc
#endif

let repoRoot: String = RepositoryPaths.root

/// A test cluster: the test API server (with simulated controllers) and a client for it.
struct TestCluster {
    let server: TestAPIServer
    let client: KubeClient
    let engine: ApplyEngine

    /// `listPageSize`: items per LIST page (small ones make every kind's list take pages).
    init(controllerDelay: Double = 0, listPageSize: Int = 500) throws {
        var o = TestAPIServerOptions()
        o.simulateControllers = true
        o.controllerDelay = controllerDelay
        server = try TestAPIServer.start(o)
        let dir = makeTempDir()
        let path = dir + "/kubeconfig"
        writeFile(path, server.kubeconfig())
        var config = try ClientConfig.load(kubeconfig: path, context: "test")
        config.retry = RetryPolicy(maxAttempts: 5, baseDelay: 0.01, maxDelay: 0.05, jitter: 0.1, maxRetryAfter: 1)
        config.listPageSize = listPageSize
        client = KubeClient(config: config)
        engine = ApplyEngine(client: client)
    }

    var writes: Int { server.requestLog.writes.count }

    /// Clears the request log once the server has logged everything already answered (it
    /// logs a request just after responding).
    func resetLog() async {
        try? await Task.sleep(for: .milliseconds(100))
        server.requestLog.reset()
    }
}

/// A copy of the bundled example repository in a temporary directory, which tests may edit.
struct ExampleRepo {
    let root: String

    init() {
        root = makeTempDir()
        copyTree(repoRoot + "/patterns", to: root + "/patterns")
        copyTree(repoRoot + "/overlays", to: root + "/overlays")
    }

    func render(_ site: String) throws -> RenderedSite {
        do { return try SiteCompiler(workspace: Workspace(tree: LocalTree(root: root))).compile(site: site) } catch {
            Issue.record("render failed: \(error)")
            throw error
        }
    }

    func write(_ rel: String, _ text: String) { writeFile(root + "/" + rel, text) }
}

func fastOptions() -> ApplyOptions {
    var o = ApplyOptions()
    o.pollIntervalSeconds = 0.05
    o.waitTimeoutSeconds = 20
    return o
}

/// A temporary directory, removed when the test process exits (TestSupport).
func makeTempDir() -> String { TemporaryDirectories.make("pattern-apply") }

func writeFile(_ path: String, _ text: String) {
    var cur = ""
    for c in path.split(separator: "/").dropLast() { cur += "/" + c; mkdir(cur, 0o755) }
    let fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0o644)
    _ = text.withCString { write(fd, $0, strlen($0)) }
    close(fd)
}

func copyTree(_ from: String, to: String) {
    let tree = LocalTree(root: from)
    func walk(_ p: TreePath) {
        for e in (try? tree.list(p)) ?? [] {
            let c = p.appending(e.name)
            if e.kind == .directory { walk(c) } else if e.kind == .file {
                writeFile(to + "/" + c.string, String(decoding: (try? tree.read(c)) ?? [], as: UTF8.self))
            }
        }
    }
    mkdir(to, 0o755)
    walk(.root)
}

/// Polls `condition` for up to `seconds`.
func eventually(_ seconds: Double = 2, _ condition: () -> Bool) async -> Bool {
    let deadline = ContinuousClock.now + .milliseconds(Int(seconds * 1000))
    while ContinuousClock.now < deadline {
        if condition() { return true }
        try? await Task.sleep(for: .milliseconds(10))
    }
    return condition()
}

/// The error an apply threw (nil when it returned).
func applyError(_ body: () async throws(ApplyError) -> ApplyResult) async -> ApplyError? {
    do throws(ApplyError) { _ = try await body(); return nil } catch { return error }
}
