import PatternCore
import PatternCompile
import PatternDiff
import KubeClient

/// Turns a rendered site into an ordered, idempotent change of a live cluster.
///
/// Observe (one LIST per kind) → diff on owned fields → plan levels (namespaces and CRDs
/// first, kind order, component and per-object dependencies) → per level: server-side apply of
/// the objects that differ (concurrently), then wait until they are ready → prune what the
/// inventory has and the render no longer has (dependents first) → record inventory and
/// ledger. Nothing is written when planning or the prune safety checks fail.
public struct ApplyEngine: Sendable {
    public let client: KubeClient
    public let records: RecordStore

    public init(client: KubeClient, recordNamespace: String = "pattern-system") {
        self.client = client
        self.records = RecordStore(client: client, namespace: recordNamespace)
    }

    /// The apply plan of a render (no cluster access).
    public static func plan(_ site: RenderedSite) throws(Diagnostics) -> Plan {
        try Planner.plan(planInput(site), options: .init(componentDependencies: Dictionary(
            site.components.map { ($0.name, $0.dependsOn) }, uniquingKeysWith: { a, _ in a })))
    }

    /// Objects as the planner reads them (component as an annotation).
    static func planInput(_ site: RenderedSite) -> [Value] {
        site.objects.map { o in
            var v = o.object
            v[path: ["metadata", "annotations", Planner.componentAnnotation]] = .string(o.component)
            return v
        }
    }

    /// Desired object prepared for comparison with live: the rendered-revision annotation
    /// only says *which render* last changed an object, so it never makes an object differ.
    static func comparable(_ desired: Value, live: Value?) -> Value {
        var d = desired
        if let lr = live?.annotations[PatternLabels.revision] {
            d[path: ["metadata", "annotations", PatternLabels.revision]] = lr
        }
        return d
    }

    /// Diffs a render against the cluster (GETs desired objects the label LIST misses).
    public func diff(_ site: RenderedSite, fieldManager: String = "pattern") async throws -> (diffs: [ObjectDiff], observation: Observation, inventory: Inventory?) {
        let identity = SiteIdentity(site, recordNamespace: records.namespace)
        let inventory = try await records.loadInventory(identity)
        let observation = try await observe(site, identity: identity, inventory: inventory, lookUpMissing: true)
        var diffs: [ObjectDiff] = []
        for o in site.objects {
            let live = observation.live[o.key]
            diffs.append(ObjectDiffer.diff(desired: ApplyEngine.comparable(o.object, live: live), live: live, manager: fieldManager))
        }
        let desiredKeys = Set(site.objects.map(\.key))
        for entry in inventory?.entries ?? [] where !desiredKeys.contains(entry.key) {
            if let live = observation.live[entry.key], identity.owns(live) {
                diffs.append(ObjectDiffer.diff(desired: nil, live: live, manager: fieldManager))
            }
        }
        return (diffs, observation, inventory)
    }

    func observe(_ site: RenderedSite, identity: SiteIdentity, inventory: Inventory?, lookUpMissing: Bool) async throws(KubeError) -> Observation {
        var kinds: [GroupVersionKind] = site.objects.compactMap { $0.object.gvk }
        kinds += inventory?.entries.map(\.gvk) ?? []
        var desired: [ObjectKey: GroupVersionKind] = [:]
        for o in site.objects { if let g = o.object.gvk { desired[o.key] = g } }
        return try await Observer(client: client, identity: identity).observe(kinds: kinds, desired: desired, lookUpMissing: lookUpMissing)
    }

    /// Applies a render. Throws (before any write) when planning fails or prune safety refuses;
    /// per-object failures are reported in the result.
    public func apply(_ site: RenderedSite, options: ApplyOptions = ApplyOptions(), source: String? = nil,
                      progress: @escaping @Sendable (ApplyProgress) -> Void = { _ in }) async throws -> ApplyResult {
        let start = ContinuousClock.now
        let identity = SiteIdentity(site, recordNamespace: records.namespace)
        let plan: Plan
        do { plan = try ApplyEngine.plan(site) } catch {
            throw ApplyError("cannot plan the apply:\n" + error.items.map(\.description).joined(separator: "\n"))
        }
        let inventory = try await records.loadInventory(identity)
        progress(.observing(kinds: Set(site.objects.map(\.key.groupKind)).count))
        let observation = try await observe(site, identity: identity, inventory: inventory, lookUpMissing: false)

        // Prune candidates and safety checks, before anything is written.
        let desiredKeys = Set(site.objects.map(\.key))
        let candidates = (inventory?.entries ?? []).filter { !desiredKeys.contains($0.key) }
        if options.prune && !options.pruneConfirm && !candidates.isEmpty && options.only == nil {
            if site.objects.isEmpty {
                throw ApplyError("refusing to prune all \(candidates.count) objects of \(identity.pattern)/\(identity.site): the render is empty",
                                 fix: "check the source and overlays; if removing everything is intended, re-run with --prune-confirm")
            }
            let total = inventory?.entries.count ?? 0
            if total > 0, candidates.count >= 2, Double(candidates.count) / Double(total) > options.maxPruneFraction {
                throw ApplyError("refusing to prune \(candidates.count) of \(total) inventory objects (more than \(Int(options.maxPruneFraction * 100))%)",
                                 fix: "if the render really shrank this much, re-run with --prune-confirm; --no-prune skips pruning")
            }
        }

        let byKey = Dictionary(site.objects.map { ($0.key, $0) }, uniquingKeysWith: { a, _ in a })
        var outcomes: [ObjectOutcome] = []
        var diffs: [ObjectDiff] = []
        let writes = Counter()
        var stopped = false
        var appliedKeys: Set<ObjectKey> = []

        for (levelIndex, level) in plan.levels.enumerated() {
            let members = level.compactMap { byKey[$0] }.filter { options.only == nil || options.only!.contains($0.key.description) }
            if members.isEmpty { continue }
            if stopped {
                outcomes += members.map { ObjectOutcome(key: $0.key, status: .notAttempted, message: "an earlier level failed", level: levelIndex) }
                continue
            }
            progress(.applyingLevel(index: levelIndex, of: plan.levels.count, objects: members.count))
            var toWrite: [RenderedObject] = []
            var liveAfter: [ObjectKey: Value] = [:]
            for o in members {
                let live = observation.live[o.key]
                let d = ObjectDiffer.diff(desired: ApplyEngine.comparable(o.object, live: live), live: live, manager: options.fieldManager)
                diffs.append(d)
                if d.action == .unchanged {
                    outcomes.append(ObjectOutcome(key: o.key, status: .unchanged, level: levelIndex))
                    appliedKeys.insert(o.key)
                    if let live { liveAfter[o.key] = live }
                } else if options.dryRun {
                    outcomes.append(ObjectOutcome(key: o.key, status: d.action == .create ? .wouldCreate : .wouldConfigure, level: levelIndex))
                } else {
                    toWrite.append(o)
                }
            }
            if options.dryRun { continue }
            let results = await applyConcurrently(toWrite, options: options, existing: observation.live, writes: writes)
            for (o, r) in results {
                switch r {
                case .success(let (live, created)):
                    let s: ObjectOutcome.Status = created ? .created : .configured
                    outcomes.append(ObjectOutcome(key: o.key, status: s, level: levelIndex))
                    progress(.applied(o.key, s))
                    appliedKeys.insert(o.key)
                    liveAfter[o.key] = live
                case .failure(let e):
                    outcomes.append(ObjectOutcome(key: o.key, status: .failed, message: ApplyEngine.describe(e, key: o.key, options: options), level: levelIndex))
                    stopped = true
                }
            }
            if members.contains(where: { $0.key.kind == "CustomResourceDefinition" }) { await client.invalidateDiscovery() }
            if stopped || !options.wait { continue }
            let waitFailures = await Waiter(client: client, options: options).waitReady(members.map(\.key), objects: byKey, known: liveAfter, progress: progress)
            if !waitFailures.isEmpty {
                for (k, msg) in waitFailures {
                    if let i = outcomes.lastIndex(where: { $0.key == k }) {
                        outcomes[i].status = .failed
                        outcomes[i].message = "not ready: \(msg)"
                    }
                }
                stopped = true
            }
        }

        // Prune, dependents first, only objects we own.
        var pruned: Set<ObjectKey> = []
        if options.prune && !stopped && options.only == nil {
            let owned = candidates.compactMap { e -> Value? in
                guard let live = observation.live[e.key], identity.owns(live) else { return nil }
                return live
            }
            for level in Planner.pruneLevels(owned) {
                for k in level {
                    guard let live = observation.live[k], let gvk = live.gvk else { continue }
                    if options.dryRun {
                        outcomes.append(ObjectOutcome(key: k, status: .wouldPrune))
                        diffs.append(ObjectDiffer.diff(desired: nil, live: live, manager: options.fieldManager))
                        continue
                    }
                    progress(.pruning(k))
                    do {
                        writes.add()
                        try await client.delete(gvk, name: k.name, namespace: k.namespace.isEmpty ? nil : k.namespace,
                                                propagationPolicy: .background, preconditionUID: live[path: ["metadata", "uid"]]?.string)
                        outcomes.append(ObjectOutcome(key: k, status: .pruned))
                        pruned.insert(k)
                    } catch {
                        if error.isNotFound { pruned.insert(k); outcomes.append(ObjectOutcome(key: k, status: .pruned, message: "already gone")) }
                        else { outcomes.append(ObjectOutcome(key: k, status: .failed, message: "prune failed: \(error)")) }
                    }
                }
            }
            // Inventory entries whose objects are gone, or that we do not own, are dropped too.
            for e in candidates where observation.live[e.key] == nil { pruned.insert(e.key) }
        }

        var result = ApplyResult(outcomes: outcomes, diffs: diffs, levels: plan.levels.count, writeRequests: writes.value,
                                 listRequests: observation.listRequests, getRequests: observation.getRequests, pruneRefused: nil,
                                 revision: site.revision, durationSeconds: 0)
        if !options.dryRun {
            let changed = outcomes.contains { [.created, .configured, .pruned, .failed].contains($0.status) }
            var entries = (inventory?.entries ?? []).filter { !pruned.contains($0.key) }
            let known = Set(entries.map(\.key))
            for o in site.objects where appliedKeys.contains(o.key) && !known.contains(o.key) {
                entries.append(InventoryEntry(key: o.key, apiVersion: o.object.apiVersion ?? "v1"))
            }
            let newInventory = Inventory(entries: entries.sorted { $0.key < $1.key })
            if changed || newInventory != inventory {
                try await records.save(inventory: newInventory, identity: identity)
                try await records.appendLedger(LedgerEntry.from(result, site: site, source: source), identity: identity)
                result.writeRequests = writes.value
            }
        }
        let d = ContinuousClock.now - start
        result.durationSeconds = Double(d.components.seconds) + Double(d.components.attoseconds) / 1e18
        return result
    }

    func applyConcurrently(_ objects: [RenderedObject], options: ApplyOptions, existing: [ObjectKey: Value], writes: Counter)
        async -> [(RenderedObject, Result<(Value, Bool), KubeError>)]
    {
        await withTaskGroup(of: (Int, Result<(Value, Bool), KubeError>).self) { group in
            var out: [(Int, Result<(Value, Bool), KubeError>)] = []
            var it = objects.enumerated().makeIterator()
            func next() -> Bool {
                guard let (i, o) = it.next() else { return false }
                let existed = existing[o.key] != nil
                group.addTask {
                    writes.add()
                    do throws(KubeError) {
                        let live = try await client.apply(o.object, fieldManager: options.fieldManager, force: options.forceConflicts)
                        // A create is an object that was not there before (by label) and got a fresh generation.
                        let created = !existed && (live[path: ["metadata", "generation"]]?.int ?? 1) <= 1
                            && live[path: ["metadata", "managedFields"]]?.array?.count ?? 1 <= 1
                        return (i, .success((live, created)))
                    } catch { return (i, .failure(error)) }
                }
                return true
            }
            for _ in 0..<max(1, options.concurrency) { if !next() { break } }
            while let r = await group.next() { out.append(r); _ = next() }
            return out.sorted { $0.0 < $1.0 }.map { (objects[$0.0], $0.1) }
        }
    }

    /// A message for a failed write, with kubectl's conflict advice.
    static func describe(_ e: KubeError, key: ObjectKey, options: ApplyOptions) -> String {
        if case .conflict(_, let conflicts) = e, !conflicts.isEmpty {
            let byManager = Dictionary(grouping: conflicts, by: \.manager)
            let parts = byManager.keys.sorted().map { m in "conflict with \"\(m)\": \(byManager[m]!.map(\.field).joined(separator: ", "))" }
            return "Apply failed with \(conflicts.count) conflict\(conflicts.count == 1 ? "" : "s"): \(parts.joined(separator: "; ")). "
                + "Another field manager owns these fields; re-run with --force-conflicts to take them over, or drop them from the render."
        }
        return e.description
    }
}

/// A thread-safe counter of write requests.
final class Counter: @unchecked Sendable {
    private var n = 0
    private let lock = Lock()
    func add() { lock.withLock { n += 1 } }
    var value: Int { lock.withLock { n } }
}
