import PatternCore
import PatternCompile
import PatternApply
import PatternRecord
import PatternController

/// Install vs upgrade for a site's chart components, decided from the cluster's records exactly
/// as the controller decides (`ChartChoice`): a chart component whose objects an earlier
/// successful apply recorded in the site's inventory renders as an upgrade (`.Release.IsUpgrade`,
/// `pre-/post-upgrade` hooks); otherwise as an install. An upgrade keeps the last successful
/// apply's `.Release.Revision` while the site renders as that apply did, so re-applying an
/// unchanged site writes nothing; otherwise its revision is the coming ledger entry's number.
enum ChartReleaseRecords {
    /// `rendered` again with the right `.Release` for each chart component, or `rendered`
    /// itself when it has no chart component or nothing was installed before. Reads the ledger
    /// and the inventory (two GETs/LISTs, only for sites with charts); the site is compiled
    /// again only when a chart component is an upgrade (twice when the last apply's revision
    /// is tried and something else changed).
    static func refine(_ rendered: RenderedSite, engine: ApplyEngine, repo: RepoContext) async throws -> RenderedSite {
        try await refineWithReleases(rendered, engine: engine, repo: repo).0
    }

    /// The `.Release` choice for `rendered`'s chart components, read from the site's ledger and
    /// inventory (two reads, only for sites with charts). Every install when the site has no
    /// chart or the records cannot be read: apply itself reads (and checks) the inventory
    /// again, so nothing is written on a wrong guess about a broken cluster.
    static func choice(_ rendered: RenderedSite, engine: ApplyEngine) async -> ChartChoice {
        if rendered.chartComponents.isEmpty { return ChartChoice() }
        let identity = SiteIdentity(rendered, recordNamespace: engine.records.namespace)
        do {
            return try await ChartChoice.read(rendered, records: engine.records, identity: identity)
        } catch {
            Output.err("note: cannot read the site's records (\(error.message)); chart components render as installs\n")
            return ChartChoice()
        }
    }

    /// `refine`, also returning the `.Release` choices made (the ledger records them).
    /// Charts that read the cluster read it again for an upgrade unless `repo` is offline.
    static func refineWithReleases(_ rendered: RenderedSite, engine: ApplyEngine, repo: RepoContext) async throws -> (RenderedSite, ChartReleases) {
        let choice = await self.choice(rendered, engine: engine)
        return try await choice.render(installed: rendered) { (releases: ChartReleases) async throws -> RenderedSite in
            if !repo.offline && rendered.helm.readsCluster {
                // Upgrades may look up other objects than installs: read them too.
                return try await HelmClusterReading.compile(rendered.site, repo: repo, client: engine.client, settings: rendered.helm,
                                                            chartReleases: releases)
            }
            return try repo.compile([rendered.site], chartReleases: releases)[0]
        }
    }
}
