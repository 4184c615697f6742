import PatternCore
import PatternCompile
import PatternDiff
import KubeClient
import PatternRecord

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
            diffs.append(ObjectDiffer.diff(desired: ApplyEngine.comparable(identity.prepare(o.object), live: live), live: live, manager: fieldManager))
        }
        let desiredKeys = Set(site.objects.map(\.key))
        for key in (inventory?.objects ?? []).sorted() where !desiredKeys.contains(key) {
            if let live = observation.live[key], identity.owns(live) {
                diffs.append(ObjectDiffer.diff(desired: nil, live: live, manager: fieldManager))
            }
        }
        return (diffs, observation, inventory)
    }

    /// Server dry-run apply of every object that differs: what the API server would store.
    /// Objects whose kind the server does not serve yet are skipped (their CRD is in the render).
    public func serverDryRun(_ site: RenderedSite, diffs: [ObjectDiff], fieldManager: String = "pattern") async -> [(ObjectKey, KubeError)] {
        let identity = SiteIdentity(site, recordNamespace: records.namespace)
        let changed = Set(diffs.filter { $0.action == .create || $0.action == .update }.map(\.key))
        var failures: [(ObjectKey, KubeError)] = []
        for o in site.objects where changed.contains(o.key) {
            do { _ = try await client.apply(identity.prepare(o.object), fieldManager: fieldManager, dryRun: true) } catch {
                if case .unknownKind = error { continue }
                failures.append((o.key, error))
            }
        }
        return failures
    }

    func observe(_ site: RenderedSite, identity: SiteIdentity, inventory: Inventory?, lookUpMissing: Bool) async throws(KubeError) -> Observation {
        var kinds: [GroupVersionKind] = site.objects.compactMap { $0.object.gvk }
        let rendered = Set(kinds.map(\.groupKind))
        for gk in Set((inventory?.objects ?? []).map(\.groupKind)).subtracting(rendered).sorted() {
            if let gvk = await resolveVersion(gk) { kinds.append(gvk) }
        }
        var desired: [ObjectKey: GroupVersionKind] = [:]
        for o in site.objects { if let g = o.object.gvk { desired[o.key] = g } }
        return try await Observer(client: client, identity: identity).observe(kinds: kinds, desired: desired, lookUpMissing: lookUpMissing)
    }

    /// Applies a render. Throws (before any write) when planning fails or prune safety refuses;
    /// per-object failures are reported in the result.
    public func apply(_ site: RenderedSite, options: ApplyOptions = ApplyOptions(),
                      progress: @escaping @Sendable (ApplyProgress) -> Void = { _ in }) async throws -> ApplyResult {
        let start = ContinuousClock.now
        let identity = SiteIdentity(site, recordNamespace: records.namespace)
        let inventory = try await records.loadInventory(identity)
        progress(.observing(kinds: Set(site.objects.map(\.key.groupKind)).count))
        let observation = try await observe(site, identity: identity, inventory: inventory, lookUpMissing: false)

        // Every object's diff, once: the levels below decide what to write from these.
        var diffByKey: [ObjectKey: ObjectDiff] = [:]
        diffByKey.reserveCapacity(site.objects.count)
        for o in site.objects {
            let live = observation.live[o.key]
            diffByKey[o.key] = ObjectDiffer.diff(desired: ApplyEngine.comparable(identity.prepare(o.object), live: live),
                                                 live: live, manager: options.fieldManager)
        }

        // Nothing to write and nothing to prune: the cluster already matches (no plan needed,
        // no records written: a second apply of the same revision makes zero writes).
        if options.only == nil, inventory != nil, diffByKey.values.allSatisfy({ $0.action == .unchanged }) {
            let desiredKeys = Set(site.objects.map(\.key))
            let pruneNeeded = options.prune && (inventory?.pruneCandidates(desired: desiredKeys) ?? []).contains { observation.live[$0] != nil }
            if !pruneNeeded {
                let d = ContinuousClock.now - start
                return ApplyResult(outcomes: site.objects.map { ObjectOutcome(key: $0.key, status: .unchanged) },
                                   diffs: site.objects.compactMap { diffByKey[$0.key] },
                                   levels: 0, writeRequests: 0, listRequests: observation.listRequests, getRequests: 0,
                                   pruneRefused: nil, revision: site.revision,
                                   durationSeconds: Double(d.components.seconds) + Double(d.components.attoseconds) / 1e18)
            }
        }

        let plan: Plan
        do { plan = try ApplyEngine.plan(site) } catch {
            throw ApplyError("cannot plan the apply:\n" + error.items.map(\.description).joined(separator: "\n"))
        }

        // Prune candidates and safety checks, before anything is written.
        let desiredKeys = Set(site.objects.map(\.key))
        let candidates = inventory?.pruneCandidates(desired: desiredKeys) ?? []
        if options.prune && !options.pruneConfirm && !candidates.isEmpty && options.only == nil {
            if site.objects.isEmpty {
                throw ApplyError("refusing to prune all \(candidates.count) objects of \(identity.pattern)/\(identity.site): the render is empty",
                                 fix: "check the source and overlays; if removing everything is intended, re-run with --prune-confirm")
            }
            let total = inventory?.objects.count ?? 0
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
                let d = diffByKey[o.key]!
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
            let results = await applyConcurrently(toWrite, identity: identity, options: options, existing: observation.live, writes: writes)
            for (o, r) in results {
                switch r {
                case .success(let (live, created)):
                    let s: ObjectOutcome.Status = created ? .created : .configured
                    outcomes.append(ObjectOutcome(key: o.key, status: s, level: levelIndex))
                    progress(.applied(o.key, s))
                    appliedKeys.insert(o.key)
                    liveAfter[o.key] = live
                case .failure(let e):
                    let message = ApplyEngine.scrubSecretValues(ApplyEngine.describe(e, key: o.key, options: options), object: o.object)
                    outcomes.append(ObjectOutcome(key: o.key, status: .failed, message: message, level: levelIndex))
                    stopped = true
                }
            }
            if members.contains(where: { $0.key.kind == "CustomResourceDefinition" }) { await client.invalidateDiscovery() }
            if stopped || !options.wait { continue }
            let waitFailures = await Waiter(client: client, options: options, identity: identity).waitReady(members.map(\.key), objects: byKey, known: liveAfter, progress: progress)
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
            let owned = candidates.compactMap { k -> Value? in
                guard let live = observation.live[k], identity.owns(live) else { return nil }
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
            for k in candidates where observation.live[k] == nil { pruned.insert(k) }
        }

        var result = ApplyResult(outcomes: outcomes, diffs: diffs, levels: plan.levels.count, writeRequests: writes.value,
                                 listRequests: observation.listRequests, getRequests: observation.getRequests, pruneRefused: nil,
                                 revision: site.revision, durationSeconds: 0)
        if !options.dryRun {
            let changed = outcomes.contains { [.created, .configured, .pruned, .failed].contains($0.status) }
            var newInventory = inventory ?? identity.emptyInventory
            newInventory.objects.subtract(pruned)
            newInventory.objects.formUnion(appliedKeys)
            if newInventory != inventory { writes.add(try await records.save(newInventory)) }
            if changed {
                try await records.append(LedgerEntry.from(result, site: site), identity: identity)
                writes.add()
            }
            result.writeRequests = writes.value
        }
        let d = ContinuousClock.now - start
        result.durationSeconds = Double(d.components.seconds) + Double(d.components.attoseconds) / 1e18
        return result
    }

    func applyConcurrently(_ objects: [RenderedObject], identity: SiteIdentity, options: ApplyOptions, existing: [ObjectKey: Value], writes: Counter)
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
                        let live = try await client.apply(identity.prepare(o.object), fieldManager: options.fieldManager, force: options.forceConflicts)
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

    /// The served version of a group-kind (for inventory kinds no longer in the render).
    func resolveVersion(_ gk: GroupKind) async -> GroupVersionKind? {
        if gk.group.isEmpty { return GroupVersionKind(group: "", version: "v1", kind: gk.kind) }
        guard let g = try? await client.sendJSON(.get, "/apis/\(gk.group)"),
              let v = g[path: ["preferredVersion", "version"]]?.string else { return nil }
        return GroupVersionKind(group: gk.group, version: v, kind: gk.kind)
    }

    /// Removes a Secret's values (as written and base64-encoded) from a message: API errors
    /// quote invalid values, and Secret data must never reach output or the ledger.
    static func scrubSecretValues(_ message: String, object: Value) -> String {
        guard object.kindName == "Secret" else { return message }
        var values: [String] = []
        for field in ["data", "stringData"] {
            for (_, v) in object[field]?.object ?? Object() {
                guard let s = v.scalarText, s.count >= 3 else { continue }
                values.append(s)
                if field == "stringData" { values.append(Base64.encode(Array(s.utf8))) }
                else if let decoded = Base64.decode(s), let text = String(validating: decoded, as: UTF8.self), text.count >= 3 { values.append(text) }
            }
        }
        var out = message
        for v in values.sorted(by: { $0.count > $1.count }) { out = out.replacing(v, with: "<redacted>") }
        return out
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
    func add(_ k: Int = 1) { lock.withLock { n += k } }
    var value: Int { lock.withLock { n } }
}
