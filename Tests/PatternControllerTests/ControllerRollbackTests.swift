import Testing
import Foundation
import PatternCore
import PatternCompile
import PatternSource
import PatternApply
import PatternRecord
import PatternController
import KubeClient
import TestSupport

/// Controller applies record what `pattern rollback` needs (`LedgerEntry.render`), and an entry
/// renders again from the source cache alone, to the revision it applied, with git gone.
@Suite struct ControllerRollbackTests {
    @Test func controllerEntriesRenderAgainFromTheCacheWithGitGone() async throws {
        let cluster = try await ControllerCluster()
        defer { cluster.stop() }
        let repo = try GitPatternRepo()
        defer { repo.remove() }
        let commitA = repo.head
        try await cluster.createSync(url: repo.url)
        let running = RunningController(try cluster.controller())
        defer { Task { await running.stop() } }
        #expect(await eventually(15) { await cluster.condition("dev", "Ready")?["status"]?.string == "True" })
        let firstRevision = await cluster.sync()?[path: ["status", "lastAppliedRevision"]]?.string
        // Commit B, picked up at once on request.
        let commitB = try repo.change("overlays/dev/overlay.yaml", "Hello from a dev cluster", "Hello again")
        _ = try await cluster.client.patch(ControllerCluster.gvk, name: "dev", namespace: "default",
                                           patch: ["metadata": ["annotations": [.init(stringLiteral: ReconcileRequest.annotation): "b"]]], type: .merge)
        #expect(await eventually(15) { await cluster.sync()?[path: ["status", "lastAppliedCommit"]]?.string == commitB })
        await running.stop()

        let identity = SiteIdentity(pattern: "multicloud-platform", site: "dev")
        let ledger = try await ApplyEngine(client: cluster.client).records.loadLedger(identity)
        let succeeded = ledger.entries.filter { $0.result == .succeeded }
        #expect(succeeded.count == 2)
        let a = try #require(succeeded.first)
        #expect(a.revision == firstRevision)
        #expect(a.client.tool == ControllerRender.tool)
        // The record: the PatternSync's repository at commit A (first pin and overlay).
        let render = try #require(a.render)
        #expect(render.sources.first?.commit == commitA)
        #expect(render.sources.first?.ref == "main")
        #expect(render.overlay?.commit == commitA)
        #expect(render.complete)
        #expect(ControllerRender.treePin(a)?.commit == commitA)

        // Git is gone: entry A renders again from the controller's cache to the revision it applied.
        let moved = repo.dir + "-gone"
        try FileManager.default.moveItem(atPath: repo.dir, toPath: moved)
        defer { try? FileManager.default.removeItem(atPath: moved) }
        let again = try #require(try ControllerRender.rerender(a, site: "dev", cache: SourceCache(directory: cluster.cacheDir)))
        #expect(again.revision == a.revision)
        let b = try #require(succeeded.last)
        let againB = try #require(try ControllerRender.rerender(b, site: "dev", cache: SourceCache(directory: cluster.cacheDir)))
        #expect(againB.revision == b.revision)
        #expect(againB.revision != again.revision)

        // A CLI entry (another tool) is not taken for a controller one.
        var cli = a
        cli.client.tool = "pattern"
        #expect(try ControllerRender.rerender(cli, site: "dev", cache: SourceCache(directory: cluster.cacheDir)) == nil)
        // A cache without the commit: a typed error with a fix, not a crash.
        let empty = makeTempDir("pattern-ctl-empty-cache")
        defer { try? FileManager.default.removeItem(atPath: empty) }
        #expect(throws: Diagnostics.self) { _ = try ControllerRender.rerender(a, site: "dev", cache: SourceCache(directory: empty)) }
    }
}
