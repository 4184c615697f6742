import Testing
import TestSupport
import Foundation
import PatternCore
import KubeTestServer
import KubeClient
import PatternRollout
#if canImport(Glibc)
import Glibc
#endif

/// `pattern rollout` end to end through the CLI (in-process): a pattern served by a real
/// `git daemon` on loopback, an overlay checkout that is a git repository, five test clusters
/// (a hub holding the rollout state, sites s1…s4) served by one test API server over HTTP.
@Suite(.serialized) struct RolloutCLITests {
    let root: String
    let clusters: TestClusters

    init() throws {
        root = TemporaryDirectories.make("pattern-rollout-cli")
        clusters = try TestClusters(["hub", "s1", "s2", "s3", "s4"])
    }

    func cleanup() {
        clusters.stop()
        TemporaryDirectories.remove(root)
    }

    func sh(_ script: String) throws {
        let r = CLI.runShell(script)
        if r.status != 0 { throw CommandFailed(description: "\(script): \(r.stdout)\(r.stderr)") }
    }

    func pattern(_ args: [String]) async -> CLI.Result {
        await CLI.runInProcess(args + ["-C", root + "/site", "--cache-dir", root + "/cache", "--kubeconfig", clusters.kubeconfigPath])
    }

    static let git = "git -c user.email=t@example.com -c user.name=t"

    /// Pattern `demo` at commit A (ConfigMap `cfg` color blue) served by git daemon from
    /// `srv/`; returns the port and pid file.
    func serve() throws -> (port: Int, pidFile: String) {
        let work = root + "/work"
        try sh("""
            set -e
            mkdir -p '\(work)/patterns/demo/components/app' '\(root)/srv'
            cd '\(work)' && git init -q -b main
            printf 'apiVersion: pattern.dev/v1alpha1\\nkind: Pattern\\nmetadata: {name: demo}\\nspec:\\n  components:\\n  - {name: app, path: components/app}\\n' > patterns/demo/pattern.yaml
            printf 'apiVersion: v1\\nkind: Namespace\\nmetadata: {name: demo}\\n---\\napiVersion: v1\\nkind: ConfigMap\\nmetadata: {name: cfg, namespace: demo}\\ndata: {color: blue}\\n' > patterns/demo/components/app/app.yaml
            \(Self.git) add -A && \(Self.git) commit -qm A
            git clone -q --bare '\(work)' '\(root)/srv/demo.git'
            """)
        let pidFile = root + "/daemon.pid"
        return (try GitDaemonProcess.start(basePath: root + "/srv", pidFile: pidFile, probe: "demo.git"), pidFile)
    }

    func gitUp(_ port: Int) -> Bool { (try? sh("timeout 5 git ls-remote git://127.0.0.1:\(port)/demo.git")) != nil }

    func stop(_ pidFile: String) { GitDaemonProcess.stop(pidFile: pidFile) }

    /// Commit B: cfg's color green and a new ConfigMap `extra`, pushed to the daemon's repository.
    func commitB() throws {
        try sh("""
            set -e
            cd '\(root)/work'
            printf 'apiVersion: v1\\nkind: Namespace\\nmetadata: {name: demo}\\n---\\napiVersion: v1\\nkind: ConfigMap\\nmetadata: {name: cfg, namespace: demo}\\ndata: {color: green}\\n---\\napiVersion: v1\\nkind: ConfigMap\\nmetadata: {name: extra, namespace: demo}\\ndata: {x: y}\\n' > patterns/demo/components/app/app.yaml
            \(Self.git) commit -qam B
            git push -q '\(root)/srv/demo.git' main
            """)
    }

    /// The overlay checkout: sites s1…s4 (each on its own cluster) taking the pattern from the
    /// daemon, and rollout `r`: canary s1 (soak 3 s), then s2+s3 whose gate waits for a Job
    /// that never exists (2 s), then s4. Committed.
    func makeSites(port: Int) throws {
        var script = "set -e\nmkdir -p '\(root)/site/rollouts'\ncd '\(root)/site' && git init -q -b main\n"
        for s in ["s1", "s2", "s3", "s4"] {
            script += "mkdir -p overlays/\(s)\n"
            script += "printf 'apiVersion: pattern.dev/v1alpha1\\nkind: Site\\nmetadata: {name: \(s)}\\nspec:\\n  pattern:\\n    git: {url: \"git://127.0.0.1:\(port)/demo.git\", ref: main, path: patterns/demo}\\n  cluster: {context: \(s)}\\n' > overlays/\(s)/overlay.yaml\n"
        }
        try sh(String(script.dropLast()))
        try """
            apiVersion: pattern.dev/v1alpha1
            kind: Rollout
            metadata:
              name: r
            spec:
              waves:
              - name: canary
                sites: [s1]
                soak: 3s
              - name: two
                sites: [s2, s3]
                maxParallel: 2
                health:
                  timeout: 2s
                  checks:
                  - job: {namespace: demo, name: smoke}
              - name: three
                sites: [s4]

            """.write(toFile: root + "/site/rollouts/r.yaml", atomically: true, encoding: .utf8)
        try sh("cd '\(root)/site' && \(Self.git) add -A && \(Self.git) commit -qm sites")
    }

    func color(_ site: String) -> String? {
        clusters[site].store.get(resource: "configmaps", namespace: "demo", name: "cfg")?[path: ["data", "color"]]?.string
    }

    func ledger(_ site: String) throws -> [Value] {
        guard let cm = clusters[site].store.list(resource: "configmaps", namespace: "pattern-system")
                .first(where: { ($0.metadataName ?? "").hasPrefix("pattern-ledger") }) else { return [] }
        var out: [Value] = []
        for (k, v) in cm["data"]?.object ?? Object() where k.hasPrefix("entry-") { out.append(try JSONParser.parse(v.string ?? "")) }
        return out.sorted { ($0["seq"]?.int ?? 0) < ($1["seq"]?.int ?? 0) }
    }

    func rolloutState() -> Value? {
        guard let cm = clusters["hub"].store.get(resource: "configmaps", namespace: "pattern-system", name: "pattern-rollout-r"),
              let text = cm["data"]?["state.json"]?.string else { return nil }
        return try? JSONParser.parse(text)
    }

    func siteStatus(_ state: Value?, _ site: String) -> String? {
        for w in state?["waves"]?.array ?? [] {
            for s in w["sites"]?.array ?? [] where s["name"]?.string == site { return s["status"]?.string }
        }
        return nil
    }

    @Test func threeWavesSecondFailsItsGateAndIsRolledBackFromTheLedgersWithGitDown() async throws {
        defer { cleanup() }
        let (port, pidFile) = try serve()
        defer { stop(pidFile) }
        try makeSites(port: port)

        // A on every site, through the fleet form: its entries must be enough to roll back to.
        let a = await pattern(["apply", "s1", "s2", "s3", "s4", "--yes", "--timeout", "30", "-o", "json"])
        #expect(a.status == 0, "\(a.stderr)\(a.stdout)")
        for s in ["s1", "s2", "s3", "s4"] { #expect(color(s) == "blue") }
        let fleetEntry = try #require(try ledger("s2").last)
        #expect(fleetEntry["render"]?["sources"]?.array?.first?["url"]?.string == "git://127.0.0.1:\(port)/demo.git")
        #expect(fleetEntry["render"]?["overlay"]?["commit"]?.string == (try TestSupport.git(["rev-parse", "HEAD"], in: root + "/site")))
        #expect(fleetEntry["revision"]?.string != nil)

        try commitB()
        for s in ["s1", "s2", "s3", "s4"] { clusters[s].requestLog.reset() }
        // The rollout renders B from the daemon; the daemon is stopped while the canary soaks,
        // so wave two's rollback has no git server.
        let stopper = Task {
            for _ in 0..<3000 {
                if siteStatus(rolloutState(), "s1") == "soaking" { stop(pidFile); return true }
                try? await Task.sleep(for: .milliseconds(5))
            }
            return false
        }
        let r = await pattern(["rollout", "start", "r", "--hub-context", "hub", "--poll", "0.2", "-o", "json"])
        #expect(await stopper.value, "the canary never soaked: \(r.stderr)")
        #expect(!gitUp(port))
        #expect(r.status == 1, "\(r.stderr)\(r.stdout)")
        let doc = try JSONParser.parse(r.stdout)
        #expect(doc["phase"]?.string == "failed", "\(r.stdout)")
        #expect(doc["waves"]?.array?.map { $0["phase"]?.string ?? "" } == ["succeeded", "failed", "pending"], "\(r.stdout)")

        // The canary keeps B; wave two is back on A from its ledgers; wave three was never touched.
        #expect(color("s1") == "green")
        #expect(clusters["s1"].store.get(resource: "configmaps", namespace: "demo", name: "extra") != nil)
        for s in ["s2", "s3"] {
            #expect(siteStatus(rolloutState(), s) == "rolledBack", "\(r.stderr)")
            #expect(color(s) == "blue", "\(s): \(r.stderr)")
            #expect(clusters[s].store.get(resource: "configmaps", namespace: "demo", name: "extra") == nil)
            let entries = try ledger(s)
            // A (fleet apply), B (the rollout), the rollback to A.
            #expect(entries.count == 3, "\(s): \(entries)")
            #expect(entries.last?["rollbackOf"]?.int == 1)
            #expect(entries.last?["revision"]?.string == entries.first?["revision"]?.string)
            #expect(entries.last?["revision"]?.string != entries[1]["revision"]?.string)
            #expect(entries[1]["render"] != nil, "the rollout's apply records its render")
        }
        #expect(color("s4") == "blue")
        #expect(clusters["s4"].requestLog.writes.isEmpty)
        #expect(siteStatus(rolloutState(), "s4") == "pending")

        // The rollout's own entry on s1 can be rolled back to (it records its render) — still with git down.
        let back = await pattern(["rollback", "s1", "--yes", "--timeout", "30"])
        #expect(back.status == 0, "\(back.stderr)")
        #expect(color("s1") == "blue")
        let forward = await pattern(["rollback", "s1", "--to", "2", "--yes", "--timeout", "30"])
        #expect(forward.status == 0, "\(forward.stderr)")
        #expect(color("s1") == "green")
    }

    @Test func aRolloutRefusesSitesAPatternSyncReconcilesUnlessOverridden() async throws {
        defer { cleanup() }
        let (port, pidFile) = try serve()
        defer { stop(pidFile) }
        try makeSites(port: port)
        // A PatternSync (not suspended) on s3's cluster reconciles site s3.
        let crd = try YAMLParser.parse(String(decoding: try LocalTree(root: CLI.repoRoot).read(TreePath("patterns/pattern-controller/components/crd/patternsync-crd.yaml")), as: UTF8.self))
        try clusters["s3"].store.seed(crd)
        try clusters["s3"].store.seed(["apiVersion": "pattern.dev/v1alpha1", "kind": "PatternSync", "metadata": ["name": "s3", "namespace": "pattern-system"],
                                       "spec": ["site": "s3", "source": ["git": ["url": .string("git://127.0.0.1:\(port)/demo.git"), "path": "patterns/demo"]]]])
        let r = await pattern(["rollout", "start", "r", "--hub-context", "hub", "--poll", "0.2"])
        #expect(r.status == 1, "\(r.stderr)")
        #expect(r.stderr.contains("site s3: reconciled in the cluster by PatternSync pattern-system/s3"), "\(r.stderr)")
        #expect(r.stderr.contains("--override-controller"))
        for s in ["s1", "s2", "s3", "s4"] { #expect(clusters[s].requestLog.writes.isEmpty, "\(s) was written to") }
        #expect(rolloutState() == nil)
        // Suspended, it is rolled out as any other site (no Job exists: wave two fails, which is not the point here).
        _ = try clusters["s3"].store.update(try #require(clusters["s3"].store.resource(group: "pattern.dev", version: "v1alpha1", resource: "patternsyncs")),
                                            namespace: "pattern-system", name: "s3", manager: "test", dryRun: false, precondition: nil) { o in
            var o = o
            o[path: ["spec", "suspend"]] = .bool(true)
            return o
        }
        let suspended = await pattern(["rollout", "start", "r", "--hub-context", "hub", "--poll", "0.2", "-o", "json"])
        #expect(!suspended.stderr.contains("reconciled in the cluster"), "\(suspended.stderr)")
        #expect(color("s1") == "blue")
    }
    /// `rollout pause` and `rollout abort` print the rollout's status document with `-o`, as
    /// `rollout status` does (issue 15: every command takes -o text|json|yaml).
    @Test func pauseAndAbortPrintTheStatusDocumentWithOutput() async throws {
        defer { cleanup() }
        let hub = ConfigMapRolloutStore(client: try KubeClient(kubeconfig: clusters.kubeconfigPath, context: "hub"), namespace: "pattern-system")
        var state = RolloutState(plan: RolloutPlan(name: "r", waves: [.init(name: "canary", sites: ["s1"]), .init(name: "rest", sites: ["s2"])]),
                                 revision: "v2", now: 1_790_000_000)
        state.phase = .running
        state.waves[0].phase = .running
        _ = try await hub.save(state)

        let paused = await pattern(["rollout", "pause", "r", "--hub-context", "hub", "-o", "json"])
        #expect(paused.status == 0, "\(paused.stderr)")
        let doc = try JSONParser.parse(paused.stdout)
        #expect(doc["apiVersion"]?.string == "pattern.dev/v1alpha1" && doc["kind"]?.string == "RolloutStatus")
        #expect(doc["phase"]?.string == "paused")
        #expect(doc["waves"]?.array?.first?["phase"]?.string == "paused")
        #expect(rolloutState()?["phase"]?.string == "paused")

        let aborted = await pattern(["rollout", "abort", "r", "--hub-context", "hub", "-o", "yaml"])
        #expect(aborted.status == 0, "\(aborted.stderr)")
        let y = try YAMLParser.parse(aborted.stdout)
        #expect(y["kind"]?.string == "RolloutStatus" && y["phase"]?.string == "aborted")
        // A second abort is refused as an invalid transition (exit 2).
        let again = await pattern(["rollout", "abort", "r", "--hub-context", "hub"])
        #expect(again.status == 2 && again.stderr.contains("already aborted"), "\(again.stderr)")
    }
}
