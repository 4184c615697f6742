import Testing
import TestSupport
import Foundation
import PatternCore
import KubeTestServer

/// A chart component's `.Release` stays as the last successful apply recorded it while the site
/// renders as that apply did: re-applying an unchanged chart site that prints
/// `.Release.Revision` and has upgrade hooks writes nothing (before, every `pattern apply`
/// rendered the next upgrade: a new revision, the hook run again). The revision advances, as an
/// upgrade numbered after the ledger entry it writes, when something else changed.
@Suite(.serialized) struct ChartReapplyCLITests {
    func write(_ root: String, _ path: String, _ text: String) throws {
        let full = root + "/" + path
        try FileManager.default.createDirectory(atPath: (full as NSString).deletingLastPathComponent, withIntermediateDirectories: true)
        try text.write(toFile: full, atomically: true, encoding: .utf8)
    }

    func writeRepo(_ repo: String, version: String) throws {
        try write(repo, "patterns/p/pattern.yaml", """
            apiVersion: pattern.dev/v1alpha1
            kind: Pattern
            metadata: {name: rel}
            spec:
              components:
              - {name: app, chart: {path: charts/app, namespace: demo}}

            """)
        try write(repo, "patterns/p/charts/app/Chart.yaml", "apiVersion: v2\nname: app\nversion: 1.0.0\n")
        try write(repo, "patterns/p/charts/app/values.yaml", "version: \(version)\n")
        try write(repo, "patterns/p/charts/app/templates/info.yaml", """
            apiVersion: v1
            kind: ConfigMap
            metadata: {name: release-info}
            data:
              version: {{ .Values.version | quote }}
              revision: {{ .Release.Revision | quote }}
              upgrade: {{ .Release.IsUpgrade | quote }}

            """)
        try write(repo, "patterns/p/charts/app/templates/hook.yaml", """
            apiVersion: v1
            kind: ConfigMap
            metadata:
              name: migrate
              annotations: {helm.sh/hook: "pre-install,pre-upgrade"}
            data:
              ran: {{ ternary "upgrade" "install" .Release.IsUpgrade | quote }}

            """)
        try write(repo, "overlays/s/overlay.yaml", """
            apiVersion: pattern.dev/v1alpha1
            kind: Site
            metadata: {name: s}
            spec:
              pattern: {path: patterns/p}

            """)
    }

    @Test func reapplyingAnUnchangedChartSiteWritesNothingAndAChangeUpgradesIt() throws {
        let root = TemporaryDirectories.make("pattern-chart-reapply")
        defer { TemporaryDirectories.remove(root) }
        let server = try TestAPIServer.start()
        defer { server.stop() }
        try server.store.seed(["apiVersion": "v1", "kind": "Namespace", "metadata": ["name": "demo"]])
        let kc = root + "/config"
        try server.kubeconfig().write(toFile: kc, atomically: true, encoding: .utf8)
        _ = chmod(kc, 0o600)
        let repo = root + "/repo"
        try writeRepo(repo, version: "v1")
        func pattern(_ args: [String]) -> CLI.Result {
            CLI.run(args + ["-C", repo, "--kubeconfig", kc, "--context", "test", "--allow-other-context"])
        }
        func info() -> Value? { server.store.get(resource: "configmaps", namespace: "demo", name: "release-info")?["data"] }
        func writes() -> Int { server.requestLog.writes.count }

        let first = pattern(["apply", "s", "--timeout", "30"])
        #expect(first.status == 0, "\(first.stderr)")
        #expect(info() == ["version": "v1", "revision": "1", "upgrade": "false"])

        // Unchanged: the install stands, nothing is written, diff finds nothing.
        for _ in 0..<2 {
            let before = writes()
            let again = pattern(["apply", "s", "--timeout", "30"])
            #expect(again.status == 0, "\(again.stderr)")
            #expect(writes() == before, "\(server.requestLog.writes.suffix(writes() - before).map { "\($0.method) \($0.path)" })")
            #expect(info() == ["version": "v1", "revision": "1", "upgrade": "false"])
        }
        let diff = pattern(["diff", "s"])
        #expect(diff.status == 0, "\(diff.stdout)\(diff.stderr)")

        // A change makes an upgrade, numbered after the ledger entry it writes; its hook runs.
        try writeRepo(repo, version: "v2")
        let upgrade = pattern(["apply", "s", "--timeout", "30"])
        #expect(upgrade.status == 0, "\(upgrade.stderr)")
        let revision = try #require(info()?["revision"]?.string)
        #expect(info()?["version"] == "v2" && info()?["upgrade"] == "true", "\(String(describing: info()))")
        #expect((Int(revision) ?? 0) >= 2)
        #expect(server.store.get(resource: "configmaps", namespace: "demo", name: "migrate")?[path: ["data", "ran"]] == "upgrade")

        // And that upgrade stands too: the next apply writes nothing and keeps its revision.
        let before = writes()
        let same = pattern(["apply", "s", "--timeout", "30"])
        #expect(same.status == 0, "\(same.stderr)")
        #expect(writes() == before, "\(server.requestLog.writes.suffix(writes() - before).map { "\($0.method) \($0.path)" })")
        #expect(info()?["revision"]?.string == revision)
        let diffAfter = pattern(["diff", "s"])
        #expect(diffAfter.status == 0, "\(diffAfter.stdout)\(diffAfter.stderr)")
    }
}
