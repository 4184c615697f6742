import PatternCore
import PatternDiff
import KubeClient
import PatternRecord

/// The drift of a site: fields changed by hand (with who and when), objects deleted by hand,
/// and objects carrying our labels that the inventory does not list.
public struct DriftReport: Sendable {
    public var items: [DriftItem]
    /// Applied before (in the inventory), still rendered, and gone from the cluster.
    public var missing: [ObjectKey]
    /// Applied before and still rendered, but now carrying another site's owner label:
    /// another site took them (not "missing"), with that owner.
    public var ownedElsewhere: [ObjectKey: String] = [:]
    public var unmanaged: [ObjectKey]
    /// No inventory: the site was never applied to this cluster (nothing can be in sync).
    public var neverApplied: Bool = false
    /// Revision of the last successful apply (from the ledger), if any.
    public var lastAppliedRevision: String?
    public var renderedRevision: String
    public var listRequests: Int
    /// What this drift read, for an apply that follows at once (`apply(_:options:observed:)`).
    public var observed: ApplyEngine.Observed? = nil

    public var drifted: Set<ObjectKey> { Set(items.map(\.key)).union(missing) }
    public var inSync: Bool { !neverApplied && items.isEmpty && missing.isEmpty && ownedElsewhere.isEmpty && unmanaged.isEmpty }
}

extension ApplyEngine {
    /// Compares the cluster with the render on the fields this tool manages.
    ///
    /// Drift is measured against the current render; when it differs from the last applied
    /// revision the report says so (those differences are pending changes, not hand edits).
    ///
    /// `prefetch`: the reads started before the render (see `ObservePrefetch`).
    public func drift(_ site: RenderedSite, fieldManager: String = "pattern", namespaces: [String]? = nil,
                      prefetch: ObservePrefetch? = nil) async throws(ApplyError) -> DriftReport {
        let identity = SiteIdentity(site, recordNamespace: records.namespace)
        let requests = RequestCounter()
        let (inventory, prefetched) = try await loadRecords(identity, namespaces: namespaces, prefetch: prefetch, requests: requests)
        let ledger = try await records.loadLedger(identity, requests: requests)
        let observation = try await observe(site, identity: identity, inventory: inventory, lookUpMissing: false,
                                            namespaces: namespaces, requests: requests, prefetched: prefetched)
        var items: [DriftItem] = []
        let inventoryKeys = inventory?.objects ?? []
        for o in site.objects {
            guard let live = observation.live[o.key] else { continue }
            items += Drift.fields(lastApplied: ApplyEngine.comparable(identity.prepare(o.object), live: live, ignore: site.ignoreDifferences),
                                  live: live, manager: fieldManager, options: IgnoreDifferences.options(site.ignoreDifferences))
        }
        let desired = Set(site.objects.map(\.key))
        // Missing: applied before (inventory) and still desired, but gone from the cluster.
        let expected = inventory == nil ? [] : site.objects.map(\.key).filter { inventoryKeys.contains($0) }
        let objectDrift = Drift.objects(inventory: expected, liveKeys: Set(observation.live.keys),
                                        labeled: observation.live.keys.filter { !desired.contains($0) || !inventoryKeys.contains($0) })
        var report = DriftReport(items: items, missing: objectDrift.missing.filter { observation.foreign[$0] == nil },
                           unmanaged: inventory == nil ? [] : objectDrift.unmanaged,
                           lastAppliedRevision: ledger.entries.last(where: { $0.result == .succeeded })?.revision,
                           renderedRevision: site.revision, listRequests: observation.listRequests)
        report.ownedElsewhere = observation.foreign.filter { expected.contains($0.key) }
        report.neverApplied = inventory == nil
        report.observed = ApplyEngine.Observed(revision: site.revision, inventory: inventory, observation: observation)
        return report
    }
}
