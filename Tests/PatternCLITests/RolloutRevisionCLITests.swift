import Testing
import TestSupport
import Foundation
import PatternCore
import KubeTestServer

/// `pattern rollout start` choosing what it applies: `--revision` selects the git revision of
/// the sites' pattern source, and chart components render as Helm would (an upgrade where the
/// release's objects were applied before), as `pattern apply` and the controller render them.
extension RolloutCLITests {
    /// Rollout `one`: sites s1 and s2 in one wave, no gate; committed to the overlay checkout.
    func addOneWaveRollout() throws {
        try """
            apiVersion: pattern.dev/v1alpha1
            kind: Rollout
            metadata: {name: one}
            spec:
              waves:
              - {name: all, sites: [s1, s2], maxParallel: 2}

            """.write(toFile: root + "/site/rollouts/one.yaml", atomically: true, encoding: .utf8)
        try sh("cd '\(root)/site' && \(Self.git) add -A && \(Self.git) commit -qm one")
    }

    /// The stored state of rollout `one`.
    func oneState() -> Value? {
        guard let text = clusters["hub"].store.get(resource: "configmaps", namespace: "pattern-system", name: "pattern-rollout-one")?["data"]?["state.json"]?.string
        else { return nil }
        return try? JSONParser.parse(text)
    }

    func rev(_ ref: String) throws -> String {
        CLI.runShell("git -C '\(root)/work' rev-parse \(ref)").stdout.trimmingCharacters(in: .whitespacesAndNewlines)
    }

    @Test func rolloutStartRevisionAppliesThatGitRevisionOfThePatternSource() async throws {
        defer { cleanup() }
        let (port, pidFile) = try serve()
        defer { stop(pidFile) }
        // Tag v1 at commit A (blue); main moves on to B (green, plus ConfigMap extra).
        try sh("cd '\(root)/work' && git tag v1 && git push -q '\(root)/srv/demo.git' v1")
        let a = try rev("v1")
        try commitB()
        let b = try rev("main")
        try makeSites(port: port)
        try addOneWaveRollout()

        let r = await pattern(["rollout", "start", "one", "--revision", "v1", "--hub-context", "hub", "--poll", "0.2", "-o", "json"])
        #expect(r.status == 0, "\(r.stderr)")
        // What the overlays name (main, B) is not what was applied: v1 (A) was.
        for s in ["s1", "s2"] {
            #expect(color(s) == "blue")
            #expect(clusters[s].store.get(resource: "configmaps", namespace: "demo", name: "extra") == nil)
            let entry = try #require(try ledger(s).last)
            let pins = entry[path: ["render", "sources"]]?.array ?? []
            #expect(pins.contains { $0["commit"]?.string == a }, "\(entry)")
            #expect(!pins.contains { $0["commit"]?.string == b })
        }
        #expect(oneState()?["sourceRef"]?.string == "v1")
        // The state names the revision; a resume would render at it again.
        let doc = try JSONParser.parse(r.stdout)
        #expect(doc["phase"]?.string == "succeeded")

        // Without --revision the overlays' ref (main, B) is rolled out.
        let head = await pattern(["rollout", "start", "one", "--hub-context", "hub", "--poll", "0.2"])
        #expect(head.status == 0, "\(head.stderr)")
        for s in ["s1", "s2"] { #expect(color(s) == "green") }
        #expect(oneState()?["phase"]?.string == "succeeded")
        #expect(oneState()?["sourceRef"] == nil)

        // A revision that does not exist stops the rollout before anything is written.
        let writes = clusters["s1"].requestLog.writes.count
        let missing = await pattern(["rollout", "start", "one", "--revision", "no-such-tag", "--hub-context", "hub", "--poll", "0.2"])
        #expect(missing.status != 0)
        #expect(missing.stderr.contains("no-such-tag"), "\(missing.stderr)")
        #expect(clusters["s1"].requestLog.writes.count == writes)
    }

    @Test func aRolloutRendersAnInstalledChartAsAnUpgradeAsApplyDoes() async throws {
        defer { cleanup() }
        let (port, pidFile) = try serve()
        defer { stop(pidFile) }
        // Pattern demo gains chart component `rel` (ConfigMap release-info says how it rendered).
        func chart(_ version: String) throws {
            try sh("""
                set -e
                cd '\(root)/work'
                mkdir -p patterns/demo/charts/rel/templates
                printf 'apiVersion: v2\\nname: rel\\nversion: 1.0.0\\n' > patterns/demo/charts/rel/Chart.yaml
                printf 'version: \(version)\\n' > patterns/demo/charts/rel/values.yaml
                printf 'apiVersion: v1\\nkind: ConfigMap\\nmetadata: {name: release-info}\\ndata: {version: {{ .Values.version | quote }}, upgrade: "{{ .Release.IsUpgrade }}", install: "{{ .Release.IsInstall }}"}\\n' > patterns/demo/charts/rel/templates/cm.yaml
                printf 'apiVersion: pattern.dev/v1alpha1\\nkind: Pattern\\nmetadata: {name: demo}\\nspec:\\n  components:\\n  - {name: app, path: components/app}\\n  - {name: rel, dependsOn: [app], chart: {path: charts/rel, namespace: demo}}\\n' > patterns/demo/pattern.yaml
                \(Self.git) add -A && \(Self.git) commit -qm 'chart \(version)'
                git push -q '\(root)/srv/demo.git' main
                """)
        }
        try chart("v1")
        try makeSites(port: port)
        try addOneWaveRollout()
        func info(_ s: String) -> Value? { clusters[s].store.get(resource: "configmaps", namespace: "demo", name: "release-info")?["data"] }

        // s1 has the release installed by `pattern apply`; s2 has nothing yet.
        let applied = await pattern(["apply", "s1", "--timeout", "30"])
        #expect(applied.status == 0, "\(applied.stderr)")
        #expect(info("s1") == ["version": "v1", "upgrade": "false", "install": "true"])

        try chart("v2")
        let r = await pattern(["rollout", "start", "one", "--hub-context", "hub", "--poll", "0.2"])
        #expect(r.status == 0, "\(r.stderr)")
        // Helm's rule per site: an upgrade where the release exists, an install where it does not.
        #expect(info("s1") == ["version": "v2", "upgrade": "true", "install": "false"])
        #expect(info("s2") == ["version": "v2", "upgrade": "false", "install": "true"])
        #expect(try ledger("s1").last?[path: ["render", "upgraded"]] == ["rel"])
        // `pattern diff` renders s1 as `pattern apply` would and finds nothing to change.
        let diff = await pattern(["diff", "s1"])
        #expect(diff.status == 0, "\(diff.stdout)\(diff.stderr)")
    }
}
