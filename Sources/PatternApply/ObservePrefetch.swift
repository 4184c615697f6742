import PatternCore
import PatternRecord
import KubeClient

/// The cluster reads of `diff`/`apply` started before the render: the site's inventory and one
/// LIST (owner-label selector) per kind the inventory holds, read while the site renders (and,
/// for an apply, its ledger).
///
/// The site's identity (pattern, site, record namespace) and observed namespaces are known from
/// its overlays before it renders; `ApplyEngine.diff`/`apply` take the prefetch only when the
/// render produced exactly that identity and those namespaces, and then LIST only what the
/// prefetch could not cover: kinds rendered but not in the inventory, a kind whose rendered
/// version differs, and per-namespace LISTs whose namespaces the render changed (a Role-bound
/// identity's 403 fallback, declared namespaces). The observation is the one the sequential
/// path makes, taken a few hundred milliseconds earlier — no less correct (server-side apply
/// still decides conflicts at write time). Request counts are those the observation needed:
/// a speculative read the render made useless (a LIST redone, a version lookup of a kind the
/// render has) is not counted.
public struct ObservePrefetch: Sendable {
    /// The identity the prefetch read the inventory of.
    public let identity: SiteIdentity
    /// The namespaces it listed namespaced kinds in (nil: the whole cluster).
    public let namespaces: [String]?
    let task: Task<Prefetched, Never>
    /// The ledger, read beside the inventory when asked for (`readLedger`): what a no-op apply
    /// checks before it decides that no entry needs writing (`ApplyEngine.ledgerCatchUp`). Not
    /// used to write an entry (that reads the ledger again, as it stands then).
    let ledger: Task<Result<Ledger, ApplyError>, Never>?
    /// LISTs of other kinds the caller asked for (`prefetch(_:namespaces:alsoList:)`), whole
    /// cluster, no selector.
    let lists: [GroupVersionKind: Task<Result<[Value], KubeError>, Never>]

    /// The prefetched LIST of `gvk` (nil when it was not asked for). The same objects a LIST
    /// made now would give, read while the site rendered.
    public func listed(_ gvk: GroupVersionKind) async -> Result<[Value], KubeError>? {
        await lists[gvk]?.value
    }

    /// Stops the reads (a failed render, or a render whose identity differs); their results
    /// and errors are dropped.
    public func cancel() {
        task.cancel(); ledger?.cancel()
        for t in lists.values { t.cancel() }
    }

    /// Stops the inventory and LIST reads only: the ledger read stays usable for the same
    /// identity (observed namespaces do not change it).
    func cancelObserve() { task.cancel() }

    /// True when the render's identity and observed namespaces are the ones prefetched.
    func matches(_ identity: SiteIdentity, namespaces: [String]?) -> Bool {
        self.identity == identity && self.namespaces == namespaces
    }
}

/// What a prefetch read.
struct Prefetched: Sendable {
    var inventory: Result<Inventory?, ApplyError>
    /// Requests of the inventory read.
    var inventoryLists = 0
    var inventoryGets = 0
    /// Per inventory kind: its version and LIST.
    var kinds: [GroupKind: PrefetchedKind] = [:]
}

/// One inventory kind as the prefetch read it.
struct PrefetchedKind: Sendable {
    /// The served version (nil: its group is not served; the kind is then not observed).
    var gvk: GroupVersionKind?
    /// GETs the version lookup took (counted only when the render lacks the kind, as then).
    var versionGets: Int
    /// The LIST (nil: not listed).
    var result: Result<[Value], KubeError>?
    /// The LIST was cluster-wide and succeeded: it does not depend on the site's namespaces.
    var clusterWide: Bool
    /// The namespaces of the kind's objects the LIST was made for (per-namespace fallback).
    var namespaces: [String]
    /// LIST requests it took.
    var lists: Int

    /// The prefetched LIST of `gvk` when it is exactly the LIST observe would make now.
    func reusable(for gvk: GroupVersionKind, namespaces needed: [String]) -> Result<[Value], KubeError>? {
        guard self.gvk == gvk, let result else { return nil }
        if case .success = result, clusterWide { return result }
        return namespaces == needed ? result : nil
    }
}

extension ApplyEngine {
    /// Starts reading `identity`'s inventory and LISTing every kind it holds (observed in
    /// `namespaces`, nil: the whole cluster), its ledger when `readLedger` (an apply's catch-up
    /// check), and every object of the `alsoList` kinds, concurrently with whatever the caller
    /// does next (the render). Hand the result to `diff`/`apply`, or `cancel()` it.
    public func prefetch(_ identity: SiteIdentity, namespaces: [String]?, readLedger: Bool = false,
                         alsoList: [GroupVersionKind] = []) -> ObservePrefetch {
        let engine = self
        let task = Task { await engine.readAhead(identity, namespaces: namespaces) }
        let ledger = !readLedger ? nil : Task { () -> Result<Ledger, ApplyError> in
            do throws(ApplyError) { return .success(try await engine.records.loadLedger(identity)) } catch { return .failure(error) }
        }
        var lists: [GroupVersionKind: Task<Result<[Value], KubeError>, Never>] = [:]
        let client = self.client
        for gvk in alsoList {
            lists[gvk] = Task { () -> Result<[Value], KubeError> in
                do throws(KubeError) { return .success(try await client.list(gvk).items) } catch { return .failure(error) }
            }
        }
        return ObservePrefetch(identity: identity, namespaces: namespaces, task: task, ledger: ledger, lists: lists)
    }

    func readAhead(_ identity: SiteIdentity, namespaces: [String]?) async -> Prefetched {
        let inventoryRequests = RequestCounter()
        let inventory: Inventory?
        do { inventory = try await records.loadInventory(identity, requests: inventoryRequests) } catch {
            return Prefetched(inventory: .failure(error), inventoryLists: inventoryRequests.lists, inventoryGets: inventoryRequests.gets)
        }
        var out = Prefetched(inventory: .success(inventory), inventoryLists: inventoryRequests.lists, inventoryGets: inventoryRequests.gets)
        guard let inventory, !Task.isCancelled else { return out }
        var namespacesByKind: [GroupKind: Set<String>] = [:]
        var kinds: Set<GroupKind> = []
        for k in inventory.objects {
            kinds.insert(k.groupKind)
            if !k.namespace.isEmpty { namespacesByKind[k.groupKind, default: []].insert(k.namespace) }
        }
        let engine = self
        out.kinds = await withTaskGroup(of: (GroupKind, PrefetchedKind).self) { group in
            var it = kinds.sorted().makeIterator()
            func next() -> Bool {
                guard let gk = it.next() else { return false }
                let kindNamespaces = (namespacesByKind[gk] ?? []).sorted()
                group.addTask {
                    let versions = RequestCounter()
                    guard let gvk = await engine.resolveVersion(gk, requests: versions) else {
                        return (gk, PrefetchedKind(gvk: nil, versionGets: versions.gets, result: nil, clusterWide: false, namespaces: kindNamespaces, lists: 0))
                    }
                    if Task.isCancelled {
                        return (gk, PrefetchedKind(gvk: gvk, versionGets: versions.gets, result: nil, clusterWide: false, namespaces: kindNamespaces, lists: 0))
                    }
                    let lists = RequestCounter()
                    let result: Result<[Value], KubeError>
                    var clusterWide = false
                    do throws(KubeError) {
                        let r = try await Observer.listKind(engine.client, gvk, selector: Ownership.ownerLabel, declared: namespaces,
                                                           namespaces: kindNamespaces, counter: lists)
                        result = .success(r.items); clusterWide = r.clusterWide
                    } catch { result = .failure(error) }
                    return (gk, PrefetchedKind(gvk: gvk, versionGets: versions.gets, result: result, clusterWide: clusterWide,
                                               namespaces: kindNamespaces, lists: lists.lists))
                }
                return true
            }
            for _ in 0..<8 { if !next() { break } }
            var byKind: [GroupKind: PrefetchedKind] = [:]
            while let (gk, k) = await group.next() { byKind[gk] = k; _ = next() }
            return byKind
        }
        return out
    }
}
