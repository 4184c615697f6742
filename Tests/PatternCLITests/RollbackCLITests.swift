import Testing
import TestSupport
import Foundation
import PatternCore
import KubeTestServer
#if canImport(Glibc)
import Glibc
#endif

/// `pattern rollback` and `pattern history --diff/--all` end to end: a pattern served by a real
/// `git daemon` on loopback, an overlay checkout that is a git repository, the test API server
/// over HTTP. Applies commit A, then commit B, stops the daemon, and rolls back from the cache.
@Suite(.serialized) struct RollbackCLITests {
    let root: String
    let server: TestAPIServer
    let kubeconfig: String

    init() throws {
        root = TemporaryDirectories.make("pattern-rollback")
        server = try TestAPIServer.start(TestAPIServerOptions())
        kubeconfig = root + "/kubeconfig"
        try server.kubeconfig().write(toFile: kubeconfig, atomically: true, encoding: .utf8)
        _ = chmod(kubeconfig, 0o600)
    }

    func sh(_ script: String) throws {
        let r = CLI.runShell(script)
        if r.status != 0 { throw CommandFailed(description: "\(script): \(r.stdout)\(r.stderr)") }
    }

    func pattern(_ args: [String]) async -> CLI.Result {
        await CLI.runInProcess(args + ["-C", root + "/site", "--cache-dir", root + "/cache",
                                       "--kubeconfig", kubeconfig, "--context", "test", "--allow-other-context"])
    }

    static let git = "git -c user.email=t@example.com -c user.name=t"

    /// Pattern `demo` (ConfigMap `cfg` with color blue) in `work/`, served bare from `srv/`
    /// by git daemon; returns the port, the pid file and commit A.
    func serve() throws -> (port: Int, pidFile: String, commitA: String) {
        let work = root + "/work"
        try sh("""
            set -e
            mkdir -p '\(work)/patterns/demo/components/app' '\(root)/srv'
            cd '\(work)' && git init -q -b main
            printf 'apiVersion: pattern.dev/v1alpha1\\nkind: Pattern\\nmetadata: {name: demo}\\nspec:\\n  components:\\n  - {name: app, path: components/app}\\n' > patterns/demo/pattern.yaml
            printf 'apiVersion: v1\\nkind: Namespace\\nmetadata: {name: demo}\\n---\\napiVersion: v1\\nkind: ConfigMap\\nmetadata: {name: cfg, namespace: demo}\\ndata: {color: blue, size: m}\\n---\\napiVersion: v1\\nkind: ConfigMap\\nmetadata: {name: keep, namespace: demo}\\ndata: {a: b}\\n' > patterns/demo/components/app/app.yaml
            \(Self.git) add -A && \(Self.git) commit -qm A
            git clone -q --bare '\(work)' '\(root)/srv/demo.git'
            """)
        let commitA = try TestSupport.git(["rev-parse", "HEAD"], in: work)
        let pidFile = root + "/daemon.pid"
        return (try GitDaemonProcess.start(basePath: root + "/srv", pidFile: pidFile, probe: "demo.git"), pidFile, commitA)
    }

    func stop(_ pidFile: String) { GitDaemonProcess.stop(pidFile: pidFile) }

    /// Commit B: cfg's color green (and `size` dropped), a new ConfigMap `extra`; pushed to the daemon's repository.
    func commitB() throws -> String {
        let work = root + "/work"
        try sh("""
            set -e
            cd '\(work)'
            printf 'apiVersion: v1\\nkind: Namespace\\nmetadata: {name: demo}\\n---\\napiVersion: v1\\nkind: ConfigMap\\nmetadata: {name: cfg, namespace: demo}\\ndata: {color: green}\\n---\\napiVersion: v1\\nkind: ConfigMap\\nmetadata: {name: keep, namespace: demo}\\ndata: {a: b}\\n---\\napiVersion: v1\\nkind: ConfigMap\\nmetadata: {name: extra, namespace: demo}\\ndata: {x: y}\\n' > patterns/demo/components/app/app.yaml
            \(Self.git) commit -qam B
            git push -q '\(root)/srv/demo.git' main
            """)
        return try TestSupport.git(["rev-parse", "HEAD"], in: work)
    }

    /// The overlay checkout: site `s` naming the pattern by its git daemon URL, committed.
    func makeSite(port: Int) throws {
        try sh("""
            set -e
            mkdir -p '\(root)/site/overlays/s'
            cd '\(root)/site' && git init -q -b main
            printf 'apiVersion: pattern.dev/v1alpha1\\nkind: Site\\nmetadata: {name: s}\\nspec:\\n  pattern:\\n    git: {url: "git://127.0.0.1:\(port)/demo.git", ref: main, path: patterns/demo}\\n' > overlays/s/overlay.yaml
            \(Self.git) add -A && \(Self.git) commit -qm site
            """)
    }

    func live(_ name: String) -> Value? { server.store.get(resource: "configmaps", namespace: "demo", name: name) }

    func ledger() throws -> [Value] {
        try server.store.ledgerEntries()
    }

    @Test func rollbackWithTheGitServerDownRestoresA() async throws {
        defer { server.stop(); TemporaryDirectories.remove(root) }
        let (port, pidFile, commitA) = try serve()
        defer { stop(pidFile) }
        try makeSite(port: port)

        let a = await pattern(["apply", "s", "--yes", "--timeout", "30"])
        #expect(a.status == 0, "\(a.stderr)\(a.stdout)")
        #expect(live("cfg")?["data"]?["color"]?.string == "blue")
        let commitB = try commitB()
        let b = await pattern(["apply", "s", "--yes", "--timeout", "30"])
        #expect(b.status == 0, "\(b.stderr)\(b.stdout)")
        #expect(live("cfg")?["data"]?["color"]?.string == "green")
        #expect(live("extra") != nil)

        // The ledger records what is needed to render each entry again.
        let entries = try ledger()
        #expect(entries.count == 2)
        let render = entries.first?["render"]
        #expect(render?["sources"]?.array?.first?["commit"]?.string == commitA)
        #expect(render?["sources"]?.array?.first?["ref"]?.string == "main")
        #expect(render?["sources"]?.array?.first?["path"]?.string == "patterns/demo")
        #expect(render?["overlay"]?["commit"]?.string == (try TestSupport.git(["rev-parse", "HEAD"], in: root + "/site")))
        #expect(render?["overlay"]?["dirty"]?.bool == false)
        #expect(entries.first?["source"]?["ref"]?.string == "main")

        // What changed between the two applies, field by field (the daemon still runs, but
        // the diff is rendered from the cache).
        let d = await pattern(["history", "s", "--diff", "1", "2"])
        #expect(d.status == 0, "\(d.stderr)")
        #expect(d.stdout.contains("added    ConfigMap demo/extra"), "\(d.stdout)")
        #expect(d.stdout.contains("changed  ConfigMap demo/cfg"))
        #expect(d.stdout.contains("data.color: blue → green"))
        #expect(d.stdout.contains("data.size: m → (none)"))
        #expect(!d.stdout.contains("ConfigMap demo/keep"))
        let dj = await pattern(["history", "s", "--diff", "-o", "json"])
        #expect(dj.status == 0, "\(dj.stderr)")
        let doc = try JSONParser.parse(dj.stdout)
        #expect(doc["kind"]?.string == "HistoryDiff")
        #expect(doc["changed"]?.array?.first?["fields"]?.array?.contains { $0["path"]?.string == "data.color" && $0["new"]?.string == "green" } == true)

        // Git is down: rollback renders A from the cache and the overlay's git history.
        stop(pidFile)
        #expect((try? sh("git ls-remote git://127.0.0.1:\(port)/demo.git")) == nil)
        let r = await pattern(["rollback", "s", "--yes", "--timeout", "30"])
        #expect(r.status == 0, "\(r.stderr)\(r.stdout)")
        #expect(r.stderr.contains("to entry 1"))
        #expect(live("cfg")?["data"]?["color"]?.string == "blue")
        #expect(live("cfg")?["data"]?["size"]?.string == "m")
        #expect(live("extra") == nil)
        #expect(live("keep") != nil)
        var after = try ledger()
        #expect(after.last?["seq"]?.int == 3)
        #expect(after.last?["rollbackOf"]?.int == 1)
        #expect(after.last?["revision"] == after.first?["revision"])

        // --to by seq: forward to B again, still offline.
        let toB = await pattern(["rollback", "s", "--to", "2", "--yes", "--timeout", "30"])
        #expect(toB.status == 0, "\(toB.stderr)\(toB.stdout)")
        #expect(live("cfg")?["data"]?["color"]?.string == "green")
        #expect(live("extra") != nil)
        after = try ledger()
        #expect(after.last?["rollbackOf"]?.int == 2)

        // --to by pattern commit: A again.
        let toA = await pattern(["rollback", "s", "--to", String(commitA.prefix(10)), "--yes", "--timeout", "30"])
        #expect(toA.status == 0, "\(toA.stderr)\(toA.stdout)")
        #expect(live("cfg")?["data"]?["color"]?.string == "blue")
        #expect(live("extra") == nil)
        after = try ledger()
        #expect(after.last?["source"]?["commit"]?.string == commitA)
        #expect(commitB != commitA)

        // Rolling back to what is already live writes no object but still leaves its entry.
        let writes = server.requestLog.writes.filter { ($0.resource != "configmaps" || $0.namespace != "pattern-system") && $0.resource != "selfsubjectreviews" }.count
        let again = await pattern(["rollback", "s", "--to", "1", "--yes", "--timeout", "30"])
        #expect(again.status == 0, "\(again.stderr)\(again.stdout)")
        // Only the ledger (and the identity lookup, a SelfSubjectReview) is written.
        let extra = server.requestLog.writes.filter { ($0.resource != "configmaps" || $0.namespace != "pattern-system") && $0.resource != "selfsubjectreviews" }.dropFirst(writes)
        #expect(extra.isEmpty, "\(extra.map { "\($0.verb) \($0.resource) \($0.namespace ?? "") \($0.name ?? "")" })")
        after = try ledger()
        #expect(after.last?["seq"]?.int == 6)
        #expect(after.last?["rollbackOf"]?.int == 1)
        #expect(after.last?["message"]?.string?.contains("already matched") == true)

        // history --all --since: one table across sites, newest first, rollbacks marked.
        let h = await pattern(["history", "--all", "--since", "1h"])
        #expect(h.status == 0, "\(h.stderr)")
        #expect(h.stdout.contains("SITE"))
        #expect(h.stdout.contains("(rollback of 2)"))
        let lines = h.stdout.split(separator: "\n").dropFirst()
        #expect(lines.count == 6)
        #expect(lines.first?.contains(" 6 ") == true, "\(h.stdout)")
        // --selector chooses the same sites as diff/apply/drift (site labels, Docs/fleet.md).
        let hs = await pattern(["history", "--selector", "pattern.dev/site=s", "--since", "1h"])
        #expect(hs.status == 0, "\(hs.stderr)")
        #expect(hs.stdout.split(separator: "\n").dropFirst().count == 6, "\(hs.stdout)")
        let none = await pattern(["history", "--selector", "pattern.dev/site=nope"])
        #expect(none.status == 2 && none.stderr.contains("no site matches --selector"), "\(none.stderr)")
        let hj = await pattern(["history", "s", "--since", "1h", "-o", "json"])
        #expect(try JSONParser.parse(hj.stdout)["entries"]?.array?.first?["site"]?.string == "s")
    }

    @Test func aRelativeLocalPatternURLRollsBack() async throws {
        defer { server.stop(); TemporaryDirectories.remove(root) }
        _ = try serve()   // the bare repository srv/demo.git; read here by path, not through the daemon
        defer { stop(root + "/daemon.pid") }
        // The overlay names the pattern by a path relative to its own directory.
        try sh("""
            set -e
            mkdir -p '\(root)/site/overlays/s'
            cd '\(root)/site' && git init -q -b main
            printf 'apiVersion: pattern.dev/v1alpha1\\nkind: Site\\nmetadata: {name: s}\\nspec:\\n  pattern:\\n    git: {url: "../../../srv/demo.git", ref: main, path: patterns/demo}\\n' > overlays/s/overlay.yaml
            \(Self.git) add -A && \(Self.git) commit -qm site
            """)
        let a = await pattern(["apply", "s", "--yes", "--timeout", "30"])
        #expect(a.status == 0, "\(a.stderr)")
        _ = try commitB()
        let b = await pattern(["apply", "s", "--yes", "--timeout", "30"])
        #expect(b.status == 0, "\(b.stderr)")
        #expect(live("cfg")?["data"]?["color"]?.string == "green")
        let r = await pattern(["rollback", "s", "--yes", "--timeout", "30"])
        #expect(r.status == 0, "\(r.stderr)")
        #expect(!r.stderr.contains("gives revision"), "\(r.stderr)")
        #expect(live("cfg")?["data"]?["color"]?.string == "blue")
        #expect(try ledger().last?["rollbackOf"]?.int == 1)
    }

    @Test func aRevisionMismatchIsRefusedWithNothingWritten() async throws {
        defer { server.stop(); TemporaryDirectories.remove(root) }
        let (port, pidFile, _) = try serve()
        defer { stop(pidFile) }
        try makeSite(port: port)
        #expect(await pattern(["apply", "s", "--yes", "--timeout", "30"]).status == 0)
        _ = try commitB()
        #expect(await pattern(["apply", "s", "--yes", "--timeout", "30"]).status == 0)

        // Entry 1 claims another revision than its sources render to.
        let info = try #require(server.store.resource(group: "", version: "v1", resource: "configmaps"))
        let name = try #require(server.store.list(resource: "configmaps", namespace: "pattern-system")
            .first { ($0.metadataName ?? "").hasPrefix("pattern-ledger") }?.metadataName)
        _ = try server.store.update(info, namespace: "pattern-system", name: name, manager: "test", dryRun: false, precondition: nil) { cm in
            var cm = cm
            var entry = try! JSONParser.parse(cm["data"]?["entry-00000001"]?.string ?? "")
            entry["revision"] = .string("sha256:" + String(repeating: "0", count: 64))
            var data = cm["data"]!
            data["entry-00000001"] = .string(JSONWriter.string(entry))
            cm["data"] = data
            return cm
        }
        let writes = server.requestLog.writes.count
        let r = await pattern(["rollback", "s", "--to", "1", "--yes"])
        #expect(r.status == 1)
        #expect(r.stderr.contains("not the 000000000000 it applied"), "\(r.stderr)")
        #expect(r.stderr.contains("--force"))
        #expect(server.requestLog.writes.count == writes)
        #expect(live("cfg")?["data"]?["color"]?.string == "green")

        // An entry without a render record (an older pattern wrote it) is refused too.
        let none = await pattern(["rollback", "s", "--to", "9", "--yes"])
        #expect(none.status == 1)
        #expect(none.stderr.contains("no entry 9"))
        #expect(server.requestLog.writes.count == writes)
    }
}
