import PatternCore
import PatternCompile
import PatternApply
import PatternRecord

/// Install vs upgrade for a site's chart components, decided from the cluster's records: a
/// chart component whose objects an earlier successful apply recorded in the site's inventory
/// renders as an upgrade (`.Release.IsUpgrade`, revision = the coming ledger entry's number,
/// `pre-/post-upgrade` hooks); otherwise as an install.
enum ChartReleaseRecords {
    /// `rendered` again with the right `.Release` for each chart component, or `rendered`
    /// itself when it has no chart component or nothing was installed before. Reads the ledger
    /// and the inventory (two GETs/LISTs, only for sites with charts); the second compile
    /// happens only when a chart component is an upgrade.
    static func refine(_ rendered: RenderedSite, engine: ApplyEngine, repo: RepoOptions, offline: Bool = true) async throws -> RenderedSite {
        try await refineWithReleases(rendered, engine: engine, repo: repo, offline: offline).0
    }

    /// The `.Release` choice for each of `rendered`'s chart components, read from the site's
    /// ledger and inventory (two reads, only for sites with charts). Every install when the
    /// site has no chart or the records cannot be read: apply itself reads (and checks) the
    /// inventory again, so nothing is written on a wrong guess about a broken cluster.
    static func releases(_ rendered: RenderedSite, engine: ApplyEngine) async -> ChartReleases {
        if rendered.chartComponents.isEmpty { return .install }
        let identity = SiteIdentity(rendered, recordNamespace: engine.records.namespace)
        let ledger: Ledger
        let inventory: Inventory?
        do {
            ledger = try await engine.records.loadLedger(identity)
            inventory = try await engine.records.loadInventory(identity)
        } catch {
            Output.err("note: cannot read the site's records (\(error.message)); chart components render as installs\n")
            return .install
        }
        return ChartReleases.fromRecords(rendered, inventory: inventory?.objects ?? [],
                                         anySucceeded: ledger.entries.contains { $0.result == .succeeded },
                                         nextSeq: (ledger.last?.seq ?? 0) + 1)
    }

    /// `refine`, also returning the `.Release` choices made (the ledger records them).
    static func refineWithReleases(_ rendered: RenderedSite, engine: ApplyEngine, repo: RepoOptions,
                                   offline: Bool = true) async throws -> (RenderedSite, ChartReleases) {
        let releases = await self.releases(rendered, engine: engine)
        if releases.upgraded.isEmpty { return (rendered, .install) }
        if !offline && rendered.helm.readsCluster {
            // Upgrades may look up other objects than installs: read them too.
            return (try await HelmClusterReading.compile(rendered.site, repo: repo, client: engine.client, settings: rendered.helm,
                                                         chartReleases: releases), releases)
        }
        return (try repo.compile([rendered.site], chartReleases: releases)[0], releases)
    }
}
