import PatternCore
import PatternCompile
import PatternDiff
import KubeClient
import PatternRecord

/// The drift of a site: fields changed by hand (with who and when), objects deleted by hand,
/// and objects carrying our labels that the inventory does not list.
public struct DriftReport: Sendable {
    public var items: [DriftItem]
    public var missing: [ObjectKey]
    public var unmanaged: [ObjectKey]
    /// Revision of the last successful apply (from the ledger), if any.
    public var lastAppliedRevision: String?
    public var renderedRevision: String
    public var listRequests: Int

    public var drifted: Set<ObjectKey> { Set(items.map(\.key)).union(missing) }
    public var inSync: Bool { items.isEmpty && missing.isEmpty && unmanaged.isEmpty }
}

extension ApplyEngine {
    /// Compares the cluster with the render on the fields this tool manages.
    ///
    /// Drift is measured against the current render; when it differs from the last applied
    /// revision the report says so (those differences are pending changes, not hand edits).
    public func drift(_ site: RenderedSite, fieldManager: String = "pattern") async throws -> DriftReport {
        let identity = SiteIdentity(site, recordNamespace: records.namespace)
        let inventory = try await records.loadInventory(identity)
        let ledger = try await records.loadLedger(identity)
        let observation = try await observe(site, identity: identity, inventory: inventory, lookUpMissing: false)
        var items: [DriftItem] = []
        let inventoryKeys = inventory?.objects ?? []
        for o in site.objects {
            guard let live = observation.live[o.key] else { continue }
            items += Drift.fields(lastApplied: ApplyEngine.comparable(identity.prepare(o.object), live: live), live: live, manager: fieldManager)
        }
        let desired = Set(site.objects.map(\.key))
        // Missing: applied before (inventory) and still desired, but gone from the cluster.
        let expected = inventory == nil ? [] : site.objects.map(\.key).filter { inventoryKeys.contains($0) }
        let objectDrift = Drift.objects(inventory: expected, liveKeys: Set(observation.live.keys),
                                        labeled: observation.live.keys.filter { !desired.contains($0) || !inventoryKeys.contains($0) })
        return DriftReport(items: items, missing: objectDrift.missing,
                           unmanaged: inventory == nil ? [] : objectDrift.unmanaged,
                           lastAppliedRevision: ledger.entries.last(where: { $0.result == .succeeded })?.revision,
                           renderedRevision: site.revision, listRequests: observation.listRequests)
    }
}
