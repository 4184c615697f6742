import Testing
import TestSupport
import Foundation
import PatternCore
import KubeTestServer
#if canImport(Glibc)
import Glibc
#endif

/// `pattern history` and `history --diff` from the cluster's ledger with no checkout: two
/// applies from a copy of the repository, then the real binary run from an empty directory
/// against the test API server over HTTP (the site's cluster named only by --context).
@Suite(.serialized) struct HistoryLedgerCLITests {
    let server: TestAPIServer
    let dir: String
    let kubeconfig: String

    init() throws {
        server = try TestAPIServer.start(TestAPIServerOptions())
        dir = TemporaryDirectories.make("pattern-history-ledger")
        kubeconfig = dir + "/kubeconfig"
        try server.kubeconfig().write(toFile: kubeconfig, atomically: true, encoding: .utf8)
        _ = chmod(kubeconfig, 0o600)
    }

    /// Applies site `dev` twice from a checkout copy: as it is, then without its hello-world
    /// component (pruned with --yes).
    func applyTwice() async throws {
        let repo = dir + "/repo"
        try FileManager.default.createDirectory(atPath: repo, withIntermediateDirectories: true)
        for d in ["patterns", "overlays"] { try FileManager.default.copyItem(atPath: CLI.repoRoot + "/" + d, toPath: repo + "/" + d) }
        let cluster = ["-C", repo, "--kubeconfig", kubeconfig, "--context", "test", "--allow-other-context", "--no-wait"]
        let first = await CLI.runInProcess(["apply", "dev"] + cluster)
        #expect(first.status == 0, "\(first.stderr)")
        let overlay = repo + "/overlays/dev/overlay.yaml"
        let text = try String(contentsOfFile: overlay, encoding: .utf8)
        try text.replacing("disable: [telemetry-operator]", with: "disable: [telemetry-operator, hello-world]")
            .write(toFile: overlay, atomically: true, encoding: .utf8)
        let second = await CLI.runInProcess(["apply", "dev", "--yes"] + cluster)
        #expect(second.status == 0, "\(second.stderr)")
    }

    /// `pattern args…` as a process in an empty directory: no checkout, no overlay, no pattern.
    func fromNowhere(_ args: [String]) -> CLI.Result {
        let empty = TemporaryDirectories.make("pattern-empty")
        defer { TemporaryDirectories.remove(empty) }
        return CLI.run(args + ["--kubeconfig", kubeconfig, "--context", "test"], cwd: empty)
    }

    @Test func historyAndItsDiffWorkFromTheLedgerWithoutACheckout() async throws {
        defer { server.stop(); TemporaryDirectories.remove(dir) }
        try await applyTwice()

        let h = fromNowhere(["history", "dev"])
        #expect(h.status == 0, "\(h.stderr)")
        let rows = h.stdout.split(separator: "\n").dropFirst()
        #expect(rows.count == 2, "\(h.stdout)")
        #expect(rows.first?.hasPrefix("  2 ") == true || rows.first?.hasPrefix("2 ") == true, "\(h.stdout)")

        let doc = try JSONParser.parse(fromNowhere(["history", "dev", "-o", "json"]).stdout)
        #expect(doc["apiVersion"]?.string == "pattern.dev/v1alpha1" && doc["kind"]?.string == "History")
        let entries = try #require(doc["entries"]?.array)
        #expect(entries.map { $0["seq"]?.int } == [2, 1])
        #expect((entries.first?["counts"]?["pruned"]?.int ?? 0) > 0)

        // The last two entries, from the ledger alone: hello-world's objects were pruned by 2.
        let d = fromNowhere(["history", "dev", "--diff"])
        #expect(d.status == 0, "\(d.stderr)")
        #expect(d.stdout.contains("entry 1") && d.stdout.contains("entry 2") && d.stdout.contains("from the ledger"), "\(d.stdout)")
        #expect(d.stdout.contains("removed  Deployment.apps hello-world/hello-world  (pruned in 2)"), "\(d.stdout)")
        #expect(!d.stdout.contains("added "))
        #expect(d.stdout.contains("objects only"))

        let dj = try JSONParser.parse(fromNowhere(["history", "dev", "--diff", "1", "2", "-o", "json"]).stdout)
        #expect(dj["kind"]?.string == "HistoryDiff" && dj["basis"]?.string == "ledger")
        #expect(dj["complete"]?.bool == true)
        let removed = try #require(dj["removed"]?.array)
        #expect(removed.contains { $0["object"]?["kind"]?.string == "Deployment" && $0["object"]?["name"]?.string == "hello-world"
                && $0["operations"]?.array?.first?["seq"]?.int == 2 })
        #expect(dj["added"]?.array?.isEmpty == true)

        // Read backwards, what 2 removed 1 has: added.
        let back = try YAMLParser.parse(fromNowhere(["history", "dev", "--diff", "2", "1", "-o", "yaml"]).stdout)
        #expect(back["added"]?.array?.count == removed.count)
        #expect(back["removed"]?.array?.isEmpty == true)

        // Another record namespace holds no ledger of dev.
        let other = fromNowhere(["history", "dev", "--record-namespace", "elsewhere"])
        #expect(other.status == 0)
        #expect(other.stdout.contains("no applies of dev recorded in elsewhere"), "\(other.stdout)")
        let none = fromNowhere(["history", "dev", "--diff", "--record-namespace", "elsewhere"])
        #expect(none.status == 1 && none.stderr.contains("fix:"), "\(none.stderr)")
    }
}
