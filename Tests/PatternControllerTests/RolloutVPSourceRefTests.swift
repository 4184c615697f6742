import Foundation
import Testing
import TestSupport
import PatternCore
import PatternCompile
import PatternSource
import PatternRecord
@testable import PatternController

/// A PatternRollout renders a Validated Patterns site exactly as the site's PatternSync does:
/// with the VP layout (the rollout file names the site the layout implies) and with the
/// PatternSync's git ref as the `global.targetRevision` default where values-global.yaml sets
/// no `main.git`. Otherwise the rollout applies another revision than the PatternSync's, and the
/// two undo each other.
@Suite struct RolloutVPSourceRefTests {
    static let rollout = """
        apiVersion: pattern.dev/v1alpha1
        kind: Rollout
        metadata: {name: r}
        spec:
          defaults: {maxParallel: 1, health: {timeout: 30s}}
          waves:
          - {name: one, sites: [hub]}

        """

    static func targetRevision(_ site: RenderedSite) -> String? {
        site.objects.first { $0.key.kind == "Application" && $0.key.name == "config-demo" }?
            .object[path: ["spec", "source", "targetRevision"]]?.string
    }

    /// The VP fixture as its repositories ship (no main.git in values-global.yaml) in a git
    /// repository whose PatternSync and PatternRollout follow branch release-1 (not the chart's
    /// default, main); returns what the PatternSync renders (its reconcile's source and render
    /// steps) and what the PatternRollout would apply to the site.
    static func renders(_ tmp: TemporaryDirectory, validatedPatterns: Value? = nil) async throws -> (sync: RenderedSite, rollout: RenderedSite) {
        let r = try await rendersAndEntry(tmp, validatedPatterns: validatedPatterns)
        return (r.sync, r.rollout)
    }

    /// `renders`, and the ledger entry the PatternSync's apply of its render would record, and
    /// the controller's source cache.
    static func rendersAndEntry(_ tmp: TemporaryDirectory, validatedPatterns: Value? = nil) async throws
        -> (sync: RenderedSite, rollout: RenderedSite, entry: LedgerEntry, cache: String) {
        let hub = try await ControllerCluster()
        defer { hub.stop() }
        let root = tmp.sub("repo")
        try FileManager.default.copyItem(atPath: VPMultiSourceTests.fixture, toPath: root)
        writeFile(root + "/values-global.yaml", "global: {pattern: vp-demo}\nmain:\n  clusterGroupName: hub\n  multiSourceConfig: {enabled: false}\n")
        writeFile(root + "/rollouts/r.yaml", Self.rollout)
        _ = try git(["init", "-q", "-b", "main"], in: root)
        _ = try git(["add", "-A"], in: root)
        _ = try git(["commit", "-q", "-m", "initial"], in: root)
        _ = try git(["branch", "release-1"], in: root)
        let source: Value = ["git": ["url": .string("file://" + root), "ref": "release-1"]]
        var syncSpec: Value = ["source": source, "site": "hub", "interval": "1h", "prune": true, "timeout": "20s"]
        if let validatedPatterns { syncSpec["validatedPatterns"] = validatedPatterns }
        let sync: Value = ["apiVersion": "pattern.dev/v1alpha1", "kind": "PatternSync",
                           "metadata": ["name": "hub", "namespace": "default", "creationTimestamp": "2026-01-01T00:00:00Z"],
                           "spec": syncSpec]
        let rollout: Value = ["apiVersion": "pattern.dev/v1alpha1", "kind": "PatternRollout",
                              "metadata": ["name": "platform", "namespace": "default"],
                              "spec": ["source": source, "rollout": "r", "interval": "1h", "stateNamespace": "default"]]
        let controller = try hub.controller()
        controller.known.set(PatternController.key(sync), sync)

        let spec = try PatternSyncSpec(spec: syncSpec)
        var pass = Reconciler.Pass(object: sync, spec: spec, target: try await controller.reconciler.clusters.resolve(spec.cluster))
        var status = StatusBuilder(previous: .null, generation: 1)
        let stopped = await controller.reconciler.sourceStep(&pass, &status)
        #expect(stopped == nil, "\(status.value)")
        // The reconcile's render step: the render, and the render record its apply's entry gets.
        let outcome = await controller.reconciler.renderStep(&pass, &status) { _, _ in }
        #expect(outcome.map { _ in false } ?? true, "\(status.value)")
        let reconciled = try #require(pass.site)

        let prepared = try await controller.prepareRollout(rollout, try PatternRolloutResource.Spec(spec: rollout["spec"] ?? .null))
        #expect(prepared.siteNames == ["hub"])
        let entry = LedgerEntry(time: "2026-01-01T00:00:00Z", revision: reconciled.revision,
                                source: .init(url: pass.sourceURL, ref: "release-1", commit: pass.commit ?? ""),
                                client: .init(tool: ControllerRender.tool), result: .succeeded,
                                render: try #require(pass.render))
        return (reconciled, try #require(prepared.sites.sites["hub"]).rendered, entry, hub.cacheDir)
    }

    /// A controller entry of such a site renders again (a PatternRollout's revert of a failed
    /// wave, `pattern rollback`) with the ref it recorded: the same revision.
    @Test func aControllerEntryOfAVPSiteRendersAgainWithItsRef() async throws {
        let tmp = TemporaryDirectory("rollout-vp-rerender")
        defer { tmp.remove() }
        let r = try await Self.rendersAndEntry(tmp)
        let again = try #require(try ControllerRender.rerender(r.entry, site: "hub", cache: SourceCache(directory: r.cache)))
        #expect(Self.targetRevision(again) == "release-1")
        #expect(again.revision == r.entry.revision)
    }

    /// … and with the PatternSync's `multiSourceConfig` it recorded (the chart-repository
    /// clustergroup chart, not the vendored one): the same revision.
    @Test func aControllerEntryOfAVPSiteRendersAgainWithItsMultiSourceConfig() async throws {
        let tmp = TemporaryDirectory("rollout-vp-rerender-msc")
        defer { tmp.remove() }
        let server = try VPMultiSourceTests.serveChart(tmp, version: "0.9.5")
        defer { server.stop() }
        let r = try await Self.rendersAndEntry(tmp, validatedPatterns: [
            "multiSourceConfig": ["enabled": true, "helmRepoUrl": .string(server.url), "clusterGroupChartVersion": "0.9.5"]])
        #expect(r.entry.render?.multiSourceConfig?["helmRepoUrl"]?.string == server.url)
        // The ledger's JSON carries it.
        #expect(LedgerEntry.Render(value: try #require(r.entry.render).value).multiSourceConfig == r.entry.render?.multiSourceConfig)
        let again = try #require(try ControllerRender.rerender(r.entry, site: "hub", cache: SourceCache(directory: r.cache)))
        #expect(again.objects.contains { $0.object.metadataName == "from-chart-repository" })
        #expect(again.revision == r.entry.revision)
    }

    @Test func aRolloutOfAVPSiteRendersThePatternSyncsRefAndRevision() async throws {
        let tmp = TemporaryDirectory("rollout-vp-ref")
        defer { tmp.remove() }
        let (reconciled, rolled) = try await Self.renders(tmp)
        #expect(Self.targetRevision(reconciled) == "release-1")
        #expect(Self.targetRevision(rolled) == "release-1")
        #expect(rolled.revision == reconciled.revision)
    }

    /// The PatternSync's `validatedPatterns.multiSourceConfig` (the operator's Pattern's choice
    /// of clustergroup chart) decides the rollout's render too.
    @Test func aRolloutOfAVPSiteUsesThePatternSyncsMultiSourceConfig() async throws {
        let tmp = TemporaryDirectory("rollout-vp-msc")
        defer { tmp.remove() }
        let server = try VPMultiSourceTests.serveChart(tmp, version: "0.9.5")
        defer { server.stop() }
        let (reconciled, rolled) = try await Self.renders(tmp, validatedPatterns: [
            "multiSourceConfig": ["enabled": true, "helmRepoUrl": .string(server.url), "clusterGroupChartVersion": "0.9.5"]])
        func marker(_ s: RenderedSite) -> String? {
            s.objects.first { $0.object.metadataName == "from-chart-repository" }?.object[path: ["data", "version"]]?.string
        }
        #expect(marker(reconciled) == "0.9.5")
        #expect(marker(rolled) == "0.9.5")
        #expect(rolled.revision == reconciled.revision)
    }
}
