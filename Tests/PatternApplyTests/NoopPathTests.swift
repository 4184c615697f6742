import Testing
import Synchronization
import PatternCore
import PatternRecord
import PatternApply
import KubeClient
import KubeTestServer

/// The no-op path: an apply that writes nothing pays for nothing it would only need to write
/// (the ledger's render record and client identity are made only when an entry is written).
@Suite struct NoopPathTests {
    /// Counts how often the deferred ledger details are made.
    final class Calls: Sendable {
        let render = Mutex(0)
        let client = Mutex(0)
    }

    static func options(_ calls: Calls) -> ApplyOptions {
        var o = fastOptions()
        o.deferredRender = {
            calls.render.withLock { $0 += 1 }
            return LedgerEntry.Render(overlay: .init(commit: String(repeating: "a", count: 40), dirty: true, path: "overlays"))
        }
        o.deferredClient = {
            calls.client.withLock { $0 += 1 }
            return LedgerEntry.Client(user: "deferred-user", host: "", tool: "pattern", version: "test")
        }
        return o
    }

    @Test func deferredLedgerDetailsAreMadeOnlyWhenAnEntryIsWritten() async throws {
        let cluster = try TestCluster()
        defer { cluster.server.stop() }
        let repo = ExampleRepo()
        let site = try repo.render("edge-eu")
        let calls = Calls()

        // First apply writes objects and one ledger entry: the details are made once and recorded.
        let first = try await cluster.engine.apply(site, options: Self.options(calls))
        #expect(first.succeeded, "\(first.failed)")
        #expect(calls.render.withLock { $0 } == 1)
        #expect(calls.client.withLock { $0 } == 1)
        var ledger = try await cluster.engine.records.loadLedger(SiteIdentity(site))
        #expect(ledger.entries.count == 1)
        #expect(ledger.last?.client.user == "deferred-user")
        #expect(ledger.last?.render?.overlay?.commit == String(repeating: "a", count: 40))
        #expect(ledger.last?.render?.overlay?.dirty == true)

        // A no-op apply writes nothing and makes neither (no git status walk, no identity request).
        await cluster.resetLog()
        let again = try await cluster.engine.apply(site, options: Self.options(calls))
        #expect(again.succeeded)
        #expect(again.count(.unchanged) == site.objects.count)
        #expect(cluster.server.requestLog.writes.isEmpty)
        #expect(calls.render.withLock { $0 } == 1)
        #expect(calls.client.withLock { $0 } == 1)

        // The ledger catch-up (its last entry is not a success of this revision) writes an entry
        // and so makes them again.
        let identity = SiteIdentity(site)
        try await cluster.client.delete(GroupVersionKind(group: "", version: "v1", kind: "ConfigMap"),
                                        name: Ledger(pattern: identity.pattern, site: identity.site, namespace: identity.recordNamespace).name,
                                        namespace: identity.recordNamespace)
        let caughtUp = try await cluster.engine.apply(site, options: Self.options(calls))
        #expect(caughtUp.succeeded)
        #expect(calls.render.withLock { $0 } == 2)
        #expect(calls.client.withLock { $0 } == 2)
        ledger = try await cluster.engine.records.loadLedger(identity)
        #expect(ledger.entries.count == 1)
        #expect(ledger.last?.client.user == "deferred-user")
        #expect(ledger.last?.render?.overlay?.dirty == true)
    }

    @Test func givenLedgerDetailsWinOverDeferredOnes() async throws {
        let cluster = try TestCluster()
        defer { cluster.server.stop() }
        let site = try ExampleRepo().render("edge-eu")
        let calls = Calls()
        var options = Self.options(calls)
        options.client = LedgerEntry.Client(user: "given-user", host: "", tool: "pattern", version: "test")
        options.render = LedgerEntry.Render(overlay: .init(commit: String(repeating: "b", count: 40)))
        let r = try await cluster.engine.apply(site, options: options)
        #expect(r.succeeded, "\(r.failed)")
        #expect(calls.render.withLock { $0 } == 0)
        #expect(calls.client.withLock { $0 } == 0)
        let ledger = try await cluster.engine.records.loadLedger(SiteIdentity(site))
        #expect(ledger.last?.client.user == "given-user")
        #expect(ledger.last?.render?.overlay?.commit == String(repeating: "b", count: 40))
    }

    @Test func applyReusesTheDiffsOfItsPreviewForTheSameFieldManagerOnly() async throws {
        let cluster = try TestCluster()
        defer { cluster.server.stop() }
        let site = try ExampleRepo().render("edge-eu")
        _ = try await cluster.engine.apply(site, options: fastOptions())
        let read = try await cluster.engine.diff(site, lookUpMissing: false)
        #expect(read.diffs.allSatisfy { $0.action == .unchanged })
        // A preview diff that says one object changed: apply takes it as it is and writes it
        // (proof that it did not diff that object again).
        let target = try #require(site.objects.first { $0.key.kind == "ConfigMap" }).key
        var observed = ApplyEngine.Observed(diff: read, revision: site.revision)
        #expect(observed.diffs.count == site.objects.count)
        observed.diffs[target]?.action = .update
        await cluster.resetLog()
        let reused = try await cluster.engine.apply(site, options: fastOptions(), observed: observed)
        #expect(reused.outcomes.first { $0.key == target }?.status == .configured)
        #expect(cluster.server.requestLog.writes.filter { $0.verb == "apply" && $0.resource == "configmaps" && $0.name == target.name }.count == 1)

        // Diffs made for another field manager are not reused: every object is diffed again.
        observed.diffManager = "someone-else"
        await cluster.resetLog()
        let recomputed = try await cluster.engine.apply(site, options: fastOptions(), observed: observed)
        #expect(recomputed.count(.unchanged) == site.objects.count)
        #expect(cluster.server.requestLog.writes.isEmpty)
    }
}
