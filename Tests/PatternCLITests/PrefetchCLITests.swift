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

/// Issue 11: `diff`/`apply` read the cluster while the site renders. A render that fails still
/// reports only its compile error; a no-op apply reports the requests the sequential read makes.
@Suite(.serialized) struct PrefetchCLITests {
    static func writeText(_ path: String, _ text: String) {
        let fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0o600)
        _ = text.withCString { write(fd, $0, strlen($0)) }
        close(fd)
    }

    @Test func aFailedRenderWithAnUnreachableClusterReportsTheCompileError() async throws {
        let dir = TemporaryDirectories.make("pattern-cli-prefetch")
        defer { TemporaryDirectories.remove(dir) }
        #expect(CLI.runShell("cp -r '\(CLI.repoRoot)/patterns' '\(dir)/patterns' && mkdir -p '\(dir)/overlays/broken'").status == 0)
        Self.writeText(dir + "/overlays/broken/overlay.yaml", """
            apiVersion: pattern.dev/v1alpha1
            kind: Site
            metadata: {name: broken}
            spec:
              pattern: {path: patterns/multicloud-platform}
              cluster: {context: nowhere}
              values: {clusterDomain: apps.example.com}
              components: {enable: [no-such-component]}

            """)
        // Nothing listens on port 1: every cluster read fails (connection refused).
        Self.writeText(dir + "/kubeconfig", """
            apiVersion: v1
            kind: Config
            clusters:
            - name: nowhere
              cluster: {server: "http://127.0.0.1:1"}
            users:
            - name: u
              user: {token: t}
            contexts:
            - name: nowhere
              context: {cluster: nowhere, user: u}
            current-context: nowhere

            """)
        for (command, exit) in [("diff", Int32(2)), ("apply", Int32(1)), ("drift", Int32(2))] {
            let r = CLI.run([command, "-C", dir, "broken", "--kubeconfig", dir + "/kubeconfig"])
            #expect(r.status == exit, "\(command): \(r.stderr)")
            #expect(r.stderr.contains("unknown component 'no-such-component'"), "\(command): \(r.stderr)")
            #expect(!r.stderr.contains("cannot read"), "\(command): \(r.stderr)")
            #expect(!r.stderr.contains("127.0.0.1"), "\(command): \(r.stderr)")
        }
    }

    @Test func aNoOpApplyReportsTheSequentialRequestCounts() async throws {
        let server = try TestAPIServer.start()
        defer { server.stop() }
        let dir = TemporaryDirectories.make("pattern-cli-prefetch")
        defer { TemporaryDirectories.remove(dir) }
        let kubeconfig = dir + "/config"
        Self.writeText(kubeconfig, server.kubeconfig())
        let args = ["--kubeconfig", kubeconfig, "--context", "test", "--allow-other-context"]
        #expect(await CLI.runInProcess(["apply", "dev", "--no-wait"] + args).status == 0)
        let noop = await CLI.runInProcess(["apply", "dev", "--no-wait", "-o", "json"] + args)
        #expect(noop.status == 0, "\(noop.stderr)")
        let report = try YAMLParser.parse(noop.stdout)
        // The same apply read sequentially by the engine.
        let site = try SiteCompiler(workspace: Workspace(tree: LocalTree(root: CLI.repoRoot))).compile(site: "dev")
        var config = try ClientConfig.load(kubeconfig: kubeconfig, context: "test")
        config.retry = RetryPolicy(maxAttempts: 2, baseDelay: 0.01, maxDelay: 0.05, jitter: 0.1, maxRetryAfter: 1)
        var options = ApplyOptions()
        options.wait = false
        let sequential = try await ApplyEngine(client: KubeClient(config: config)).apply(site, options: options)
        #expect(sequential.count(.unchanged) == site.objects.count)
        #expect(report["listRequests"]?.int == sequential.listRequests, "\(noop.stdout)")
        #expect(report["getRequests"]?.int == sequential.getRequests, "\(noop.stdout)")
        #expect(report["writeRequests"]?.int == 0, "\(noop.stdout)")
    }
}
