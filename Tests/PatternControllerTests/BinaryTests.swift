import Testing
import Foundation
import PatternCore
import PatternCompile
import PatternApply
import PatternController
import KubeClient
import KubeTestServer
import TestSupport

/// The built `pattern` executable, next to the test bundle.
let patternBinary: String = {
    var dir = URL(fileURLWithPath: CommandLine.arguments[0]).resolvingSymlinksInPath().path
    if let exe = try? FileManager.default.destinationOfSymbolicLink(atPath: "/proc/self/exe") { dir = exe }
    while let slash = dir.lastIndex(of: "/") {
        dir = String(dir[..<slash])
        if FileManager.default.isExecutableFile(atPath: dir + "/pattern") { return dir + "/pattern" }
        if dir.isEmpty { break }
    }
    return repoRoot + "/.build/debug/pattern"
}()

@Suite struct BinaryTests {
    @Test func theBinaryReconcilesServesMetricsAndStopsOnSIGTERM() async throws {
        let cluster = try await ControllerCluster()
        defer { cluster.stop() }
        let repo = try GitPatternRepo()
        try await cluster.createSync(url: repo.url, interval: "1h")
        let port = Int(freeLoopbackPort()), healthPort = Int(freeLoopbackPort())
        let errPath = makeTempDir() + "/stderr"
        _ = FileManager.default.createFile(atPath: errPath, contents: nil)
        let p = try Subprocess.spawn(patternBinary, [
            "controller", "--kubeconfig", cluster.kubeconfigPath, "--context", "test", "--namespace", "default",
            "--identity", "binary", "--metrics-addr", "127.0.0.1:\(port)", "--health-addr", "127.0.0.1:\(healthPort)",
            "--log-format", "json", "--cache-dir", cluster.cacheDir,
            "--lease-retry", "0.2", "--lease-duration", "2", "--poll-interval", "0.05",
        ], stderr: .file(errPath))
        defer { p.kill(SIGKILL); p.wait() }

        #expect(await eventually(15) { httpGet(port: healthPort, path: "/readyz")?.status == 200 }, "\(readFile(errPath))")
        #expect(httpGet(port: port, path: "/readyz")?.status == 404)
        #expect(await eventually(15) { await cluster.condition("dev", "Ready")?["status"]?.string == "True" }, "\(readFile(errPath))")
        // Status is written before the reconcile is counted: poll.
        #expect(await eventually(5) {
            let metrics = httpGet(port: port, path: "/metrics")?.body ?? ""
            return metrics.contains(#"pattern_reconcile_total{namespace="default",name="dev",result="success"} "#) && metrics.contains("pattern_leader 1")
        })
        #expect(cluster.server.requestLog.entries.contains { $0.userAgent.contains("pattern-controller/") && $0.userAgent.contains("(binary)") })
        // --log-format json: one JSON object per line, one per reconcile.
        #expect(await eventually(5) {
            readFile(errPath).split(separator: "\n").contains { line in
                (try? JSONParser.parse(String(line))).map { $0["msg"]?.string == "reconciled" && $0["patternsync"]?.string == "default/dev" && $0["result"]?.string == "success" } == true
            }
        }, "\(readFile(errPath))")

        // SIGTERM: graceful stop, lease released, exit 0.
        p.kill(SIGTERM)
        let exited = await eventually(10) { !p.isRunning }
        #expect(exited)
        if exited {
            #expect(p.wait() == 0, "\(readFile(errPath))")
        }
        let lease = cluster.server.store.get(group: "coordination.k8s.io", resource: "leases", namespace: "default", name: "pattern-controller")
        #expect(lease?[path: ["spec", "holderIdentity"]]?.string == "")
        #expect(readFile(errPath).contains("pattern controller stopped"))
    }
}

extension BinaryTests {
    /// SIGTERM while the binary is in the middle of an apply (Deployments roll out slowly): it
    /// finishes the step, records the inventory, releases the Lease and exits 0; a new instance
    /// resumes and gets Ready.
    @Test func sigtermMidApplyStopsCleanlyAndAnotherInstanceResumes() async throws {
        let cluster = try await ControllerCluster(controllerDelay: 0.5)
        defer { cluster.stop() }
        let repo = try GitPatternRepo()
        try await cluster.createSync(url: repo.url, site: "hub", interval: "1h")
        let errPath = makeTempDir() + "/stderr"
        _ = FileManager.default.createFile(atPath: errPath, contents: nil)
        let p = try Subprocess.spawn(patternBinary, [
            "controller", "--kubeconfig", cluster.kubeconfigPath, "--context", "test", "--namespace", "default",
            "--identity", "sigterm", "--metrics-addr", "", "--cache-dir", cluster.cacheDir,
            "--lease-retry", "0.2", "--lease-duration", "2", "--poll-interval", "0.05",
        ], stderr: .file(errPath))
        defer { p.kill(SIGKILL); p.wait() }
        #expect(await eventually(15) { cluster.server.requestLog.writes.contains { $0.verb == "apply" && $0.resource == "deployments" } },
                "\(readFile(errPath))")
        p.kill(SIGTERM)
        let exited = await eventually(20) { !p.isRunning }
        #expect(exited)
        if exited { #expect(p.wait() == 0, "\(readFile(errPath))") }
        let lease = cluster.server.store.get(group: "coordination.k8s.io", resource: "leases", namespace: "default", name: "pattern-controller")
        #expect(lease?[path: ["spec", "holderIdentity"]]?.string == "")
        // Everything it wrote is in the inventory.
        let site = try SiteCompiler(workspace: Workspace(tree: LocalTree(root: repo.dir))).compile(site: "hub")
        let inventory = try await ApplyEngine(client: cluster.client).records.loadInventory(SiteIdentity(site))
        let written = Set(cluster.server.requestLog.writes.filter {
            $0.verb == "apply" && $0.userAgent.contains("(sigterm)") && $0.namespace != "pattern-system" && $0.name != "pattern-system"
        }.compactMap(\.name))
        #expect(!written.isEmpty)
        #expect(written.isSubset(of: Set(inventory?.objects.map(\.name) ?? [])))
        // Resume in-process.
        let running = RunningController(try cluster.controller(identity: "resume"))
        defer { Task { await running.stop() } }
        #expect(await eventually(20) { await cluster.condition("dev", "Ready")?["status"]?.string == "True" })
    }
}

@Suite struct SelfInstallTests {
    /// `pattern apply controller` installs the controller from its own pattern.
    @Test func applyControllerInstallsTheControllerItself() async throws {
        let cluster = try await ControllerCluster(installCRD: false)
        defer { cluster.stop() }
        let run = try runTool(patternBinary, ["apply", "controller", "-C", repoRoot, "--kubeconfig", cluster.kubeconfigPath,
                                              "--context", "test", "--allow-other-context", "--timeout", "30"])
        #expect(run.status == 0, "\(run.stdoutText)\n\(run.stderrText)")
        let store = cluster.server.store
        let deploy = try #require(store.get(group: "apps", resource: "deployments", namespace: "pattern-system", name: "pattern-controller"))
        #expect(deploy[path: ["spec", "template", "spec", "serviceAccountName"]]?.string == "pattern-controller")
        #expect(deploy[path: ["spec", "template", "spec", "containers"]]?.array?.first?["args"]?.array?.contains("controller") == true)
        #expect(store.get(group: "rbac.authorization.k8s.io", resource: "clusterroles", name: "pattern-controller") != nil)
        #expect(store.get(group: "rbac.authorization.k8s.io", resource: "roles", namespace: "pattern-system", name: "pattern-controller") != nil)
        #expect(store.get(resource: "services", namespace: "pattern-system", name: "pattern-controller-metrics") != nil)
        let crd = try #require(store.get(group: "apiextensions.k8s.io", resource: "customresourcedefinitions", name: "patternsyncs.pattern.dev"))
        #expect(crd.labels["pattern.dev/pattern"]?.string == "pattern-controller")
    }
}
