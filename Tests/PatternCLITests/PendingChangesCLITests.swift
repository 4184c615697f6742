import Testing
import TestSupport
import Foundation
import PatternCore
import KubeTestServer
#if canImport(Glibc)
import Glibc
#endif

/// A copy of the repository's `patterns/` and `overlays/` in a temporary directory (a git
/// checkout with one commit when `git` is true), the test API server over HTTP, and the
/// `pattern` commands run in-process against both.
struct PendingChangesFixture {
    let server: TestAPIServer
    let root: String
    let repo: String
    let kubeconfig: String

    static let message = "Hello from a dev cluster"
    static let changed = "Hello from a changed dev cluster"
    static let git = "git -c user.email=t@example.com -c user.name=t"

    init(git: Bool) throws {
        server = try TestAPIServer.start(TestAPIServerOptions())
        root = TemporaryDirectories.make("pattern-pending")
        repo = root + "/repo"
        kubeconfig = root + "/kubeconfig"
        try server.kubeconfig().write(toFile: kubeconfig, atomically: true, encoding: .utf8)
        _ = chmod(kubeconfig, 0o600)
        try FileManager.default.createDirectory(atPath: repo, withIntermediateDirectories: true)
        for d in ["patterns", "overlays"] { try FileManager.default.copyItem(atPath: CLI.repoRoot + "/" + d, toPath: repo + "/" + d) }
        if git { try sh("git init -q -b main && \(Self.git) add -A && \(Self.git) commit -qm site") }
    }

    func stop() { server.stop(); TemporaryDirectories.remove(root) }

    func sh(_ script: String) throws {
        let r = CLI.runShell(script, cwd: repo)
        if r.status != 0 { throw CommandFailed(description: "\(script): \(r.stdout)\(r.stderr)") }
    }

    func pattern(_ args: [String]) async -> CLI.Result {
        await CLI.runInProcess(args + ["-C", repo, "--cache-dir", root + "/cache",
                                       "--kubeconfig", kubeconfig, "--context", "test", "--allow-other-context"])
    }

    /// Site dev's hello-world message in the overlay, changed in the working tree (not committed).
    func changeMessage() throws {
        let overlay = repo + "/overlays/dev/overlay.yaml"
        let text = try String(contentsOfFile: overlay, encoding: .utf8)
        #expect(text.contains("message: \(Self.message)"))
        try text.replacing("message: \(Self.message)", with: "message: \(Self.changed)").write(toFile: overlay, atomically: true, encoding: .utf8)
    }

    /// The hello-world ConfigMap as the cluster has it.
    var liveConfigMap: Value? { server.store.get(resource: "configmaps", namespace: "hello-world", name: "hello-world") }

    /// As `kubectl edit` would: an Update of the ConfigMap's `data.site` by another manager.
    func editSiteByHand() throws {
        let info = try #require(server.store.resource(group: "", version: "v1", resource: "configmaps"))
        _ = try server.store.update(info, namespace: "hello-world", name: "hello-world", manager: "kubectl-edit",
                                    dryRun: false, precondition: nil) { o in
            var o = o
            o[path: ["data", "site"]] = "edited"
            return o
        }
    }

    /// The ledger's entries, oldest first.
    func ledger() throws -> [Value] {
        try server.store.ledgerEntries()
    }
}

/// `pattern drift` after the repository changed but the cluster did not: the render's new
/// values are changes not yet applied, not drift (no manager blamed, exit 0), listed apart;
/// a real hand edit next to them is drift, and `--heal` puts back only that.
@Suite(.serialized) struct DriftPendingCLITests {
    @Test func aChangeNotYetAppliedIsNotDriftAndHealLeavesItPending() async throws {
        let f = try PendingChangesFixture(git: true)
        defer { f.stop() }
        let a = await f.pattern(["apply", "dev", "--yes", "--no-wait"])
        #expect(a.status == 0, "\(a.stderr)\(a.stdout)")
        #expect(await f.pattern(["drift", "dev"]).status == 0)

        try f.changeMessage()
        let d = await f.pattern(["drift", "dev"])
        #expect(d.status == 0, "a pending change is not drift: \(d.stdout)\(d.stderr)")
        #expect(d.stdout.contains("dev: in sync with what was last applied"), "\(d.stdout)")
        #expect(d.stdout.contains("not yet applied") && d.stdout.contains("; 1 object differs."), "\(d.stdout)")
        #expect(d.stdout.contains(".data.message") && d.stdout.contains("\(PendingChangesFixture.message) → \(PendingChangesFixture.changed)"), "\(d.stdout)")
        #expect(!d.stdout.contains("MANAGER") && !d.stdout.contains("unknown"), "no manager is blamed: \(d.stdout)")

        // The fleet form judges the same way: in sync, the change pending.
        let fleet = await f.pattern(["drift", "--selector", "tier=dev", "-o", "json"])
        #expect(fleet.status == 0, "\(fleet.stdout)\(fleet.stderr)")
        let fleetReport = try JSONParser.parse(fleet.stdout)
        let siteReport = fleetReport["sites"]?.array?.first?["report"] ?? .null
        #expect(siteReport["basis"]?.string == "lastApplied" && siteReport["fields"]?.array?.isEmpty == true, "\(fleetReport)")
        #expect(siteReport["pending"]?.array?.contains { $0["path"]?.string == ".data.message" } == true)

        let j = try JSONParser.parse(await f.pattern(["drift", "dev", "-o", "json"]).stdout)
        #expect(j["basis"]?.string == "lastApplied")
        #expect(j["inSync"]?.bool == true)
        #expect(j["fields"]?.array?.isEmpty == true, "\(j)")
        let pending = j["pending"]?.array ?? []
        #expect(pending.contains { $0["path"]?.string == ".data.message" && $0["desired"]?.string == PendingChangesFixture.changed
                && $0["live"]?.string == PendingChangesFixture.message && $0["owners"] == nil }, "\(pending)")

        // A hand edit on the same object: drift, with its manager; the message stays pending.
        try f.editSiteByHand()
        let d2 = await f.pattern(["drift", "dev", "-o", "json"])
        #expect(d2.status == 1, "\(d2.stdout)\(d2.stderr)")
        let j2 = try JSONParser.parse(d2.stdout)
        let fields = j2["fields"]?.array ?? []
        #expect(fields.count == 1, "\(fields)")
        #expect(fields.first?["path"]?.string == ".data.site" && fields.first?["live"]?.string == "edited"
                && fields.first?["applied"]?.string == "dev", "\(fields)")
        #expect(fields.first?["owners"]?.array?.first?["manager"]?.string == "kubectl-edit")
        #expect(j2["pending"]?.array?.contains { $0["path"]?.string == ".data.message" } == true, "\(j2)")

        // Heal puts data.site back as applied and does not roll out the new message.
        let h = await f.pattern(["drift", "dev", "--heal"])
        #expect(h.status == 0, "\(h.stdout)\(h.stderr)")
        #expect(f.liveConfigMap?["data"]?["site"]?.string == "dev")
        #expect(f.liveConfigMap?["data"]?["message"]?.string == PendingChangesFixture.message)
        let after = await f.pattern(["drift", "dev"])
        #expect(after.status == 0, "\(after.stdout)\(after.stderr)")
        #expect(after.stdout.contains("not yet applied"))
        // The heal's ledger entry names the revision that is applied, not the new render's.
        let entries = try f.ledger()
        #expect(Set(entries.compactMap { $0["revision"]?.string }).count == 1, "\(entries)")

        // `pattern diff` still shows the pending change; apply rolls it out, then all is quiet.
        #expect(await f.pattern(["diff", "dev"]).status == 1)
        #expect(await f.pattern(["apply", "dev", "--yes", "--no-wait"]).status == 0)
        #expect(f.liveConfigMap?["data"]?["message"]?.string == PendingChangesFixture.changed)
        let synced = await f.pattern(["drift", "dev"])
        #expect(synced.status == 0 && !synced.stdout.contains("not yet applied"), "\(synced.stdout)")
    }

    /// Not a git checkout: the last apply cannot be rendered again, so each object's applied
    /// hash and managedFields decide; heal refuses rather than roll the change out.
    @Test func withoutTheLastApplyRenderedAgainOwnershipDecidesAndHealRefuses() async throws {
        let f = try PendingChangesFixture(git: false)
        defer { f.stop() }
        let a = await f.pattern(["apply", "dev", "--yes", "--no-wait"])
        #expect(a.status == 0, "\(a.stderr)\(a.stdout)")
        try f.changeMessage()
        let d = await f.pattern(["drift", "dev", "-o", "json"])
        #expect(d.status == 0, "\(d.stdout)\(d.stderr)")
        let j = try JSONParser.parse(d.stdout)
        #expect(j["basis"]?.string == "liveRecords")
        #expect(j["fields"]?.array?.isEmpty == true, "\(j)")
        #expect(j["pending"]?.array?.contains { $0["path"]?.string == ".data.message" } == true, "\(j)")
        #expect(j["pendingObjects"]?.array?.contains { $0["kind"]?.string == "ConfigMap" && $0["name"]?.string == "hello-world" } == true)
        let t = await f.pattern(["drift", "dev"])
        #expect(t.status == 0 && t.stderr.contains("what it applied cannot be recovered"), "\(t.stderr)")

        try f.editSiteByHand()
        let d2 = try JSONParser.parse(await f.pattern(["drift", "dev", "-o", "json"]).stdout)
        #expect(d2["fields"]?.array?.map { $0["path"]?.string } == [".data.site"], "\(d2)")
        #expect(d2["fields"]?.array?.first?["owners"]?.array?.first?["manager"]?.string == "kubectl-edit")

        let writes = f.server.requestLog.writes.count
        let h = await f.pattern(["drift", "dev", "--heal"])
        #expect(h.status == 2, "\(h.stdout)\(h.stderr)")
        #expect(h.stderr.contains("cannot heal") && h.stderr.contains("fix:"), "\(h.stderr)")
        #expect(f.server.requestLog.writes.count == writes)
        #expect(f.liveConfigMap?["data"]?["site"]?.string == "edited")
        #expect(f.liveConfigMap?["data"]?["message"]?.string == PendingChangesFixture.message)
    }
}

/// `pattern history --diff` when an apply ran from a working tree with uncommitted changes:
/// the diff shows what each entry applied, or says plainly that it cannot.
@Suite(.serialized) struct HistoryDirtyTreeCLITests {
    @Test func theDiffShowsWhatADirtyTreeApplyAppliedOrSaysItCannot() async throws {
        let f = try PendingChangesFixture(git: true)
        defer { f.stop() }
        #expect(await f.pattern(["apply", "dev", "--yes", "--no-wait"]).status == 0)
        try f.changeMessage()
        let second = await f.pattern(["apply", "dev", "--yes", "--no-wait"])
        #expect(second.status == 0, "\(second.stderr)")
        let entries = try f.ledger()
        #expect(entries.count == 2)
        #expect(entries.last?["render"]?["overlay"]?["dirty"]?.bool == true)

        // The uncommitted change is still in the checkout: the diff is what was applied.
        let d = await f.pattern(["history", "dev", "--diff"])
        #expect(d.status == 0, "\(d.stderr)")
        #expect(d.stdout.contains("changed  ConfigMap hello-world/hello-world"), "\(d.stdout)")
        #expect(d.stdout.contains("data.message: \(PendingChangesFixture.message) → \(PendingChangesFixture.changed)"), "\(d.stdout)")

        // Without it, entry 2's content is gone: said plainly, with the ledger's objects only.
        try f.sh("git checkout -q -- overlays/dev/overlay.yaml")
        let lost = await f.pattern(["history", "dev", "--diff"])
        #expect(lost.status == 0, "\(lost.stderr)")
        #expect(lost.stdout.contains("entry 2: what it applied cannot be recovered"), "\(lost.stdout)")
        #expect(lost.stdout.contains("uncommitted changes"), "\(lost.stdout)")
        #expect(lost.stdout.contains("changed  ConfigMap hello-world/hello-world  (configured in 2)"), "\(lost.stdout)")
        #expect(!lost.stdout.contains("data.message:"), "\(lost.stdout)")
        let j = try JSONParser.parse(await f.pattern(["history", "dev", "--diff", "1", "2", "-o", "json"]).stdout)
        #expect(j["basis"]?.string == "ledger")
        #expect(j["unrecoverable"]?.array?.map { $0["seq"]?.int } == [2], "\(j)")
    }
}
