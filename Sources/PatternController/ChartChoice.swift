import PatternCore
import PatternCompile
import PatternRecord
import PatternApply

/// The `.Release` of a site's chart components for one render, stable while the site's desired
/// state does not change. `pattern apply`, `pattern diff`, `pattern rollout`, a PatternSync's
/// reconcile and a PatternRollout's apply of a site all choose here, so they render the same
/// revision.
///
/// Helm's install-or-upgrade rule decides `next`: a chart component whose objects an earlier
/// successful apply recorded in the site's inventory renders as an upgrade (`.Release.IsUpgrade`,
/// upgrade hooks, `.Release.Revision` = the number of the ledger entry the coming apply writes);
/// the rest as installs. But when the site renders exactly as its last successful apply did with
/// that apply's recorded choice (`live`: its upgraded components and revision), that render
/// stands and nothing is applied. So a chart that prints `.Release.Revision` (or
/// `.Release.IsUpgrade`), or has upgrade hooks, is not written again by every re-apply or
/// reconcile; the revision advances only when something else in the render changed. (Flux's
/// helm-controller makes a new release, and revision, only when the chart or values changed;
/// Argo CD renders `helm template`, always an install at revision 1.)
public struct ChartChoice: Sendable {
    /// The choice for a new apply (every install when nothing was applied before).
    public var next: ChartReleases = .install
    /// The last successful apply's choice and the render revision it produced (nil: none, or
    /// the same as `next`).
    public var live: (releases: ChartReleases, revision: String)?

    public init(next: ChartReleases = .install, live: (releases: ChartReleases, revision: String)? = nil) {
        self.next = next
        self.live = live
    }

    /// The choice for `site` (rendered with every chart an install) from the site's ledger and
    /// inventory: two reads, made only when the site has chart components. Throws when the
    /// records cannot be read; callers then render installs (the apply reads and checks the
    /// inventory again, so nothing is written on a wrong guess about a broken cluster).
    public static func read(_ site: RenderedSite, records: RecordStore, identity: SiteIdentity) async throws(ApplyError) -> ChartChoice {
        guard !site.chartComponents.isEmpty else { return ChartChoice() }
        let ledger = try await records.loadLedger(identity)
        let inventory = try await records.loadInventory(identity)
        return decide(site, ledger: ledger, inventory: inventory?.objects ?? [])
    }

    /// The choice from records already read.
    public static func decide(_ site: RenderedSite, ledger: Ledger, inventory: Set<ObjectKey>) -> ChartChoice {
        let next = ChartReleases.fromRecords(site, inventory: inventory, anySucceeded: ledger.entries.contains { $0.result == .succeeded },
                                             nextSeq: (ledger.last?.seq ?? 0) + 1)
        var choice = ChartChoice(next: next)
        if !next.upgraded.isEmpty, let last = ledger.entries.last(where: { $0.result == .succeeded }), let r = last.render {
            let live = ChartReleases(upgraded: Set(r.upgraded), upgradeAll: r.upgradeAll, revision: r.releaseRevision)
            if live != next { choice.live = (live, last.revision) }
        }
        return choice
    }

    /// The render and its `.Release` choice: `render(next)` when it renders as the site has it
    /// (no revision in use) or something else changed, else `render(live)`. `installed` is the
    /// render with every chart an install (no second render when nothing is an upgrade).
    public func render<E: Error>(installed: RenderedSite, _ render: (ChartReleases) async throws(E) -> RenderedSite) async throws(E) -> (RenderedSite, ChartReleases) {
        if next.upgraded.isEmpty { return (installed, .install) }
        let upgraded = try await render(next)
        guard let live, upgraded.revision != live.revision else { return (upgraded, next) }
        let same = try await render(live.releases)
        return same.revision == live.revision ? (same, live.releases) : (upgraded, next)
    }
}
