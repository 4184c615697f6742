import Testing
import TestSupport
import Foundation
import PatternCore
import KubeTestServer
#if canImport(Glibc)
import Glibc
#endif

/// The cluster commands as a user runs them: the real `pattern` binary against the test API
/// server over HTTP, checking output and exit codes.
@Suite(.serialized) struct ClusterCLITests {
    let server: TestAPIServer
    let kubeconfig: String

    init() throws {
        var o = TestAPIServerOptions()
        o.simulateControllers = true
        server = try TestAPIServer.start(o)
        let dir = TemporaryDirectories.make("pattern-cli-kc")
        kubeconfig = dir + "/config"
        let fd = open(kubeconfig, O_WRONLY | O_CREAT | O_TRUNC, 0o600)
        let text = server.kubeconfig()
        _ = text.withCString { write(fd, $0, strlen($0)) }
        close(fd)
    }

    /// Runs a command in this process (no process start per command); exit codes and
    /// signals are covered by the process tests that call `CLI.run`.
    func pattern(_ args: [String]) async -> CLI.Result {
        await CLI.runInProcess(args + ["--kubeconfig", kubeconfig, "--context", "test", "--allow-other-context"])
    }

    @Test func diffApplyDriftHistoryRoundTrip() async throws {
        defer { server.stop() }
        // Before apply: everything is a change → exit 1, with a summary.
        let d1 = await pattern(["diff", "dev"])
        #expect(d1.status == 1, "\(d1.stderr)")
        #expect(d1.stdout.contains("CREATE"))
        #expect(d1.stdout.contains("+++ desired/"))

        let a = await pattern(["apply", "dev", "--timeout", "30"])
        #expect(a.status == 0, "\(a.stderr)\(a.stdout)")
        #expect(a.stdout.contains("created"))
        #expect(a.stdout.contains("dev:"))

        // After apply: no changes → exit 0.
        let d2 = await pattern(["diff", "dev"])
        #expect(d2.status == 0, "\(d2.stdout)")

        let j = await pattern(["diff", "dev", "-o", "json"])
        #expect(j.status == 0)
        let doc = try JSONParser.parse(j.stdout)
        #expect(doc["kind"] != nil || doc["objects"] != nil || doc["summary"] != nil)

        // Apply again: nothing written.
        let a2 = await pattern(["apply", "dev", "-o", "json"])
        #expect(a2.status == 0)
        let r2 = try JSONParser.parse(a2.stdout)
        #expect(r2["writeRequests"] == 0)

        // Drift: in sync, then a hand edit is reported with its manager → exit 1.
        #expect(await pattern(["drift", "dev"]).status == 0)
        // An object someone created with our owner label: reported as unmanaged.
        try server.store.seed(["apiVersion": "v1", "kind": "ConfigMap",
                                             "metadata": ["name": "stray", "namespace": "hello-world",
                                                          "labels": ["pattern.dev/owner": "multicloud-platform.dev"]]])
        let drift = await pattern(["drift", "dev", "-o", "json"])
        #expect(drift.status == 1, "\(drift.stdout)\(drift.stderr)")
        #expect(drift.stdout.contains("stray"))

        let h = await pattern(["history", "dev"])
        #expect(h.status == 0)
        #expect(h.stdout.contains("succeeded"))
    }

    @Test func applyDryRunShowsThePlanAndWritesNothing() async {
        defer { server.stop() }
        let before = server.requestLog.writes.count
        let r = await pattern(["apply", "hub", "--dry-run"])
        #expect(r.status == 0, "\(r.stderr)")
        #expect(r.stdout.contains("level 1:"))
        #expect(r.stdout.contains("would create"))
        #expect(r.stdout.contains("dry run"))
        // Field diffs of what would change.
        #expect(r.stdout.contains("+++ desired/"))
        #expect(server.requestLog.writes.count == before)
    }

    @Test func aSiteContextMissingFromKubeconfigIsRefused() {
        defer { server.stop() }
        let r = CLI.run(["apply", "hub", "--kubeconfig", kubeconfig])
        #expect(r.status == 1)
        #expect(r.stderr.contains("targets kubeconfig context 'hub'"))
        #expect(server.requestLog.writes.isEmpty)
    }

    @Test func aContextOtherThanTheSitesNeedsAnExplicitFlag() {
        defer { server.stop() }
        let r = CLI.run(["apply", "dev", "--kubeconfig", kubeconfig, "--context", "test"])
        #expect(r.status == 1)
        #expect(r.stderr.contains("targets kubeconfig context 'kind-dev', but --context names 'test'"), "\(r.stderr)")
        #expect(r.stderr.contains("--allow-other-context"))
        #expect(server.requestLog.writes.isEmpty)
    }

    @Test func driftOfANeverAppliedSiteFails() async {
        defer { server.stop() }
        let r = await pattern(["drift", "dev"])
        #expect(r.status == 1)
        #expect(r.stdout.contains("never applied"), "\(r.stdout)")
        #expect(!r.stdout.contains("in sync"))
    }

    @Test func applyRefusesASiteAPatternSyncReconcilesUnlessOverridden() async throws {
        defer { server.stop() }
        let crd = try YAMLParser.parse(String(decoding: try LocalTree(root: CLI.repoRoot).read(TreePath("patterns/pattern-controller/components/crd/patternsync-crd.yaml")), as: UTF8.self))
        try server.store.seed(crd)
        try server.store.seed(["apiVersion": "pattern.dev/v1alpha1", "kind": "PatternSync", "metadata": ["name": "dev", "namespace": "ops"],
                               "spec": ["site": "dev", "source": ["path": "/srv/patterns"]]])
        let r = await pattern(["apply", "dev", "--no-wait"])
        #expect(r.status == 1)
        #expect(r.stderr.contains("reconciled in the cluster by PatternSync ops/dev"), "\(r.stderr)")
        #expect(r.stderr.contains("--override-controller"))
        #expect(server.requestLog.writes.isEmpty)
        let forced = await pattern(["apply", "dev", "--no-wait", "--override-controller"])
        #expect(forced.status == 0, "\(forced.stderr)")
    }

    @Test func theSitesRecordNamespaceAndPruneKindsAreUsed() async throws {
        defer { server.stop() }
        let dir = try copyOfRepo()
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let overlay = dir + "/overlays/dev/overlay.yaml"
        let text = try String(contentsOfFile: overlay, encoding: .utf8)
        try (text + "  apply:\n    recordNamespace: team-records\n    pruneKinds: [Deployment.apps]\n").write(toFile: overlay, atomically: true, encoding: .utf8)
        let a = await pattern(["apply", "dev", "--no-wait", "-C", dir])
        #expect(a.status == 0, "\(a.stderr)")
        #expect(server.store.get(resource: "configmaps", namespace: "team-records", name: "pattern-inventory-multicloud-platform-dev") != nil)
        #expect(server.store.get(resource: "configmaps", namespace: "pattern-system", name: "pattern-inventory-multicloud-platform-dev") == nil)
        #expect(await pattern(["history", "dev", "-C", dir]).stdout.contains("succeeded"))
        // Dropping the hello-world component: only its Deployment may be pruned.
        try (text.replacing("disable: [telemetry-operator]", with: "disable: [telemetry-operator, hello-world]")
             + "  apply:\n    recordNamespace: team-records\n    pruneKinds: [Deployment.apps]\n").write(toFile: overlay, atomically: true, encoding: .utf8)
        // No terminal to ask on and no --yes: the prune is refused before anything is written.
        let writes = server.requestLog.writes.count
        let refused = await pattern(["apply", "dev", "--no-wait", "-C", dir])
        #expect(refused.status == 1)
        #expect(refused.stderr.contains("refusing to prune 1 object without confirmation"), "\(refused.stderr)")
        #expect(refused.stderr.contains("--yes"))
        #expect(refused.stdout.contains("hello-world  Deployment.apps  hello-world  prune"), "\(refused.stdout)")
        #expect(server.requestLog.writes.count == writes)
        #expect(server.store.get(group: "apps", resource: "deployments", namespace: "hello-world", name: "hello-world") != nil)
        let b = await pattern(["apply", "dev", "--no-wait", "--yes", "-C", dir])
        #expect(b.status == 0, "\(b.stderr)")
        #expect(server.store.get(group: "apps", resource: "deployments", namespace: "hello-world", name: "hello-world") == nil)
        #expect(server.store.get(resource: "configmaps", namespace: "hello-world", name: "hello-world") != nil)
        #expect(b.stdout.contains("kept"))
    }

    func copyOfRepo() throws -> String {
        let dir = TemporaryDirectories.make("pattern-cli-repo")
        for d in ["patterns", "overlays"] { try FileManager.default.copyItem(atPath: CLI.repoRoot + "/" + d, toPath: dir + "/" + d) }
        return dir
    }

    @Test func graphPrintsDOT() {
        defer { server.stop() }
        let r = CLI.run(["graph", "hub"])
        #expect(r.status == 0)
        #expect(r.stdout.hasPrefix("digraph"))
        #expect(r.stdout.contains("CustomResourceDefinition"))
    }
}
