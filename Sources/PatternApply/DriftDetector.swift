import PatternCore
import PatternDiff
import KubeClient
import PatternRecord

/// The drift of a site: fields changed by hand (with who and when), objects deleted by hand,
/// and objects carrying our labels that the inventory does not list. Drift is measured against
/// what pattern last applied; where the render has changed since (changes not yet applied,
/// which `pattern diff` shows), those differences are listed apart as `pending`, never as drift.
public struct DriftReport: Sendable {
    /// What the live objects were compared with.
    public enum Basis: String, Sendable, Hashable {
        /// The render: it is what was last applied (its revision is the ledger's last success,
        /// or there is no ledger entry).
        case render
        /// The last applied render, rendered again by the caller and checked against the
        /// ledger's revision: exact.
        case lastApplied
        /// The render differs from what was last applied and that could not be rendered again:
        /// per object, the live `pattern.dev/applied-hash` says whether the render is what was
        /// applied (then exact); where it is not, managedFields decide: a field pattern's field
        /// manager still owns holds what pattern applied (pending), a field another manager
        /// took is drift, and a field missing from live that no manager owns is `undetermined`
        /// (a hand deletion and a field the render newly adds look the same).
        case liveRecords
    }

    /// Drifted fields: live differs from what was last applied.
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
    /// The ledger's last successful entry (what is applied), if any.
    public var lastAppliedEntry: LedgerEntry? = nil
    public var renderedRevision: String
    public var listRequests: Int
    /// What this drift read, for an apply that follows at once (`apply(_:options:observed:)`).
    public var observed: ApplyEngine.Observed? = nil
    /// What live was compared with.
    public var basis: Basis = .render
    /// The last applied render when `basis` is `.lastApplied` (what `drift --heal` re-applies).
    public var lastApplied: RenderedSite? = nil
    /// Changes not yet applied: fields where the render differs from live while live still holds
    /// what pattern applied (`applied` is the render's value). Not drift.
    public var pending: [DriftItem] = []
    /// Fields the render sets that live lacks and no manager owns, when what was applied is not
    /// known for the object (`basis` `.liveRecords`): deleted by hand or added by the render.
    /// Not counted as drift.
    public var undetermined: [DriftItem] = []
    /// Objects with changes not yet applied: pending or undetermined fields, rendered objects
    /// the inventory does not list yet, inventory objects the render no longer has.
    public var pendingObjects: [ObjectKey] = []
    /// Drifted objects whose applied form is not known here (basis `.liveRecords`): only the
    /// render, which has changes not yet applied, could put them back, rolling those out.
    public var unhealable: [ObjectKey] = []

    public var drifted: Set<ObjectKey> { Set(items.map(\.key)).union(missing) }
    /// No drift. Pending (not yet applied) changes do not count.
    public var inSync: Bool { !neverApplied && items.isEmpty && missing.isEmpty && ownedElsewhere.isEmpty && unmanaged.isEmpty }
}

extension ApplyEngine {
    /// Compares the cluster with what was last applied, on the fields this tool manages.
    ///
    /// When the render's revision is the ledger's last success, the render is what was
    /// applied. Otherwise `lastApplied` is asked for that entry rendered again (it is used only
    /// when its revision equals the entry's); without it, each object's live applied-hash and
    /// managedFields decide (see `DriftReport.Basis.liveRecords`). Differences the render has
    /// and the cluster does not because they were never applied are `pending`, not drift.
    ///
    /// `prefetch`: the reads started before the render (see `ObservePrefetch`).
    public func drift(_ site: RenderedSite, fieldManager: String = "pattern", namespaces: [String]? = nil,
                      prefetch: ObservePrefetch? = nil,
                      lastApplied: (@Sendable (LedgerEntry) async -> RenderedSite?)? = nil) async throws(ApplyError) -> DriftReport {
        let identity = SiteIdentity(site, recordNamespace: records.namespace)
        let requests = RequestCounter()
        let (inventory, prefetched) = try await loadRecords(identity, namespaces: namespaces, prefetch: prefetch, requests: requests)
        let ledger = try await records.loadLedger(identity, requests: requests)
        let observation = try await observe(site, identity: identity, inventory: inventory, lookUpMissing: false,
                                            namespaces: namespaces, requests: requests, prefetched: prefetched)
        let lastEntry = ledger.entries.last(where: { $0.result == .succeeded })
        var basis = DriftReport.Basis.render
        var applied: RenderedSite? = nil
        if let e = lastEntry, e.revision != site.revision {
            if let f = lastApplied, let la = await f(e), la.revision == e.revision {
                basis = .lastApplied
                applied = la
            } else {
                basis = .liveRecords
            }
        }
        let options = IgnoreDifferences.options(site.ignoreDifferences)
        func fields(_ object: RenderedObject, live: Value) -> [DriftItem] { fields(prepared: identity.prepare(object), live: live) }
        func fields(prepared: Value, live: Value) -> [DriftItem] {
            Drift.fields(lastApplied: ApplyEngine.comparable(prepared, live: live, ignore: site.ignoreDifferences),
                         live: live, manager: fieldManager, options: options)
        }
        var items: [DriftItem] = [], pending: [DriftItem] = [], undetermined: [DriftItem] = []
        switch basis {
        case .render:
            for o in site.objects {
                guard let live = observation.live[o.key] else { continue }
                items += fields(o, live: live)
            }
        case .lastApplied:
            for o in applied!.objects {
                guard let live = observation.live[o.key] else { continue }
                items += fields(o, live: live)
            }
            // What the render would change that is not explained by drift: pending.
            let drifted = Dictionary(items.map { (DriftKey($0), $0.applied) }, uniquingKeysWith: { a, _ in a })
            for o in site.objects {
                guard let live = observation.live[o.key] else { continue }
                pending += fields(o, live: live).filter { d in
                    guard let was = drifted[DriftKey(d)] else { return true }
                    return was != d.applied
                }
            }
        case .liveRecords:
            for o in site.objects {
                guard let live = observation.live[o.key] else { continue }
                let prepared = identity.prepare(o)
                let all = fields(prepared: prepared, live: live)
                if AppliedHash.matches(prepared: prepared, live: live) {
                    items += all  // the render is what was applied to this object: every difference is drift
                    continue
                }
                let ours = ManagedFieldsEntry.entries(of: live).filter { $0.manager == fieldManager && $0.subresource.isEmpty }
                for d in all {
                    if ours.contains(where: { $0.fields.owns(d.path) }) {
                        pending.append(d)  // pattern still owns it: live holds what pattern applied
                    } else if !d.owners.isEmpty {
                        items.append(d)  // another manager took the field
                    } else if d.kind == .changed {
                        pending.append(d)  // no one set it (a server default): the render adds it
                    } else {
                        undetermined.append(d)
                    }
                }
            }
        }
        let desired = Set(site.objects.map(\.key))
        let inventoryKeys = inventory?.objects ?? []
        // Missing: applied before (inventory) and still desired, but gone from the cluster.
        let expected = inventory == nil ? [] : site.objects.map(\.key).filter { inventoryKeys.contains($0) }
        let objectDrift = Drift.objects(inventory: expected, liveKeys: Set(observation.live.keys),
                                        labeled: observation.live.keys.filter { !desired.contains($0) || !inventoryKeys.contains($0) })
        var report = DriftReport(items: items, missing: objectDrift.missing.filter { observation.foreign[$0] == nil },
                           unmanaged: inventory == nil ? [] : objectDrift.unmanaged,
                           lastAppliedRevision: lastEntry?.revision,
                           renderedRevision: site.revision, listRequests: observation.listRequests)
        report.lastAppliedEntry = lastEntry
        report.basis = basis
        report.lastApplied = applied
        report.pending = pending
        report.undetermined = undetermined
        if basis != .render, inventory != nil {
            let inv = Set(inventoryKeys)
            var keys = Set(pending.map(\.key)).union(undetermined.map(\.key))
            keys.formUnion(desired.subtracting(inv))
            keys.formUnion(inv.subtracting(desired))
            if let la = applied {
                // Objects whose render differs from the applied one (also where live is not read),
                // by the applied hash, which leaves out the rendered-revision annotation every
                // object of a new revision carries.
                let before = Dictionary(la.objects.map { ($0.key, identity.appliedHash(of: $0)) }, uniquingKeysWith: { a, _ in a })
                for o in site.objects where before[o.key].map({ $0 != identity.appliedHash(of: o) }) ?? true { keys.insert(o.key) }
            }
            report.pendingObjects = keys.sorted()
        }
        if basis == .liveRecords {
            // Without the applied render, drift can only be put back with the changed render
            // (and a heal's ledger entry would name a revision that was never applied whole).
            report.unhealable = report.drifted.sorted()
        }
        report.ownedElsewhere = observation.foreign.filter { expected.contains($0.key) }
        report.neverApplied = inventory == nil
        report.observed = ApplyEngine.Observed(revision: site.revision, inventory: inventory, observation: observation)
        return report
    }
}

/// A drifted field's identity, to tell drift and pending changes of one field apart.
private struct DriftKey: Hashable {
    var key: ObjectKey
    var path: String
    init(_ d: DriftItem) { key = d.key; path = d.path.description }
}
