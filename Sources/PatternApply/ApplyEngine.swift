import PatternCore
import PatternDiff
import KubeClient
import PatternRecord

/// Turns a rendered site into an ordered, idempotent change of a live cluster.
///
/// `apply` is a short sequence of named steps: load records → observe (one LIST per kind) →
/// diff on owned fields → ownership check → (fast path) → plan → prune decision (the Record
/// stage's `PrunePolicy`) → record intent (inventory first) → apply levels (SSA, readiness) →
/// prune (dependents first) → record (inventory, ledger). Nothing is written when planning,
/// ownership or the prune rules refuse; no object is created before the inventory lists it.
public struct ApplyEngine: Sendable {
    public let client: KubeClient
    public let records: RecordStore

    public init(client: KubeClient, recordNamespace: String = "pattern-system") {
        self.client = client
        self.records = RecordStore(client: client, namespace: recordNamespace)
    }

    /// The apply plan of a render (no cluster access).
    public static func plan(_ site: RenderedSite) throws(Diagnostics) -> Plan {
        try Planner.plan(nodes: planNodes(site), options: .init(componentDependencies: Dictionary(
            site.components.map { ($0.name, $0.dependsOn) }, uniquingKeysWith: { a, _ in a })))
    }

    /// The planner's typed nodes of a render (component from the render, not an annotation).
    static func planNodes(_ site: RenderedSite) -> [PlanNode] {
        var nodes: [PlanNode] = []
        nodes.reserveCapacity(site.objects.count)
        for o in site.objects {
            if let n = PlanNode(o.object, component: o.component) { nodes.append(n) }
        }
        return nodes
    }

    /// Desired object prepared for comparison with live: the rendered-revision annotation
    /// only says *which render* last changed an object, so it never makes an object differ.
    static func comparable(_ desired: Value, live: Value?, ignore: [IgnoreRule] = []) -> Value {
        // Ignored differences (`ignoreDifferences`) compare as equal: desired takes live's values there.
        var d = IgnoreDifferences.respectLive(desired, live: live, rules: ignore)
        if let lr = live?.annotations[LabelKeys.revision] {
            d[path: ["metadata", "annotations", LabelKeys.revision]] = lr
        }
        return d
    }

    /// Diffs a render against the cluster (GETs desired objects the label LIST misses).
    /// Objects another pattern site owns carry `ownedBy`. `lookUpMissing: false` reads exactly
    /// what `apply` reads (no GET per object the label LIST misses), for apply's own preview.
    /// `prefetch`: the reads started before the render (see `ObservePrefetch`), used when they
    /// were made for this site's identity and namespaces.
    public func diff(_ site: RenderedSite, fieldManager: String = "pattern", namespaces: [String]? = nil,
                     lookUpMissing: Bool = true, prefetch: ObservePrefetch? = nil) async throws(ApplyError)
        -> (diffs: [ObjectDiff], observation: Observation, inventory: Inventory?)
    {
        let identity = SiteIdentity(site, recordNamespace: records.namespace)
        let requests = RequestCounter()
        let (inventory, prefetched) = try await loadRecords(identity, namespaces: namespaces, prefetch: prefetch, requests: requests)
        let observation = try await observe(site, identity: identity, inventory: inventory, lookUpMissing: lookUpMissing,
                                            namespaces: namespaces, requests: requests, prefetched: prefetched)
        // An object another site owns is compared as it is live, and marked with its owner.
        var diffs = ApplyEngine.diffObjects(site.objects, site: site, observation: observation, identity: identity,
                                            fieldManager: fieldManager, othersAsLive: true)
        let desiredKeys = Set(site.objects.map(\.key))
        // Prune candidates in key order (only those: sorting the whole inventory costs more than the rest).
        for key in (inventory?.objects ?? []).filter({ !desiredKeys.contains($0) }).sorted() {
            if let live = observation.live[key], identity.owns(live), !Lifecycle.pruneDisabled(live) {
                diffs.append(ObjectDiffer.diff(desired: nil, live: live, manager: fieldManager))
            }
        }
        return (diffs, observation, inventory)
    }

    /// Each object's diff against what observe read, in render order, spread over the cores
    /// (every object is diffed alone). `othersAsLive`: an object another site owns is compared
    /// with its live state and marked `ownedBy` (diff); otherwise it is a create (apply).
    static func diffObjects(_ objects: [RenderedObject], site: RenderedSite, observation: Observation, identity: SiteIdentity,
                            fieldManager: String, othersAsLive: Bool) -> [ObjectDiff] {
        let ignore = site.ignoreDifferences
        let options = IgnoreDifferences.options(ignore)
        return ParallelMap.map(objects) { o in
            let live = observation.live[o.key] ?? (othersAsLive ? observation.foreignObjects[o.key] : nil)
            var d = ObjectDiffer.diff(desired: ApplyEngine.comparable(identity.prepare(o), live: live, ignore: ignore),
                                      live: live, manager: fieldManager, options: options)
            if othersAsLive { d.ownedBy = observation.foreign[o.key] }
            return d
        }
    }

    /// Server dry-run apply of every object that differs: what the API server would store.
    /// Objects whose kind the server does not serve yet are skipped (their CRD is in the render).
    public func serverDryRun(_ site: RenderedSite, diffs: [ObjectDiff], fieldManager: String = "pattern") async -> [(ObjectKey, KubeError)] {
        let identity = SiteIdentity(site, recordNamespace: records.namespace)
        let changed = Set(diffs.filter { $0.action == .create || $0.action == .update }.map(\.key))
        var failures: [(ObjectKey, KubeError)] = []
        for o in site.objects where changed.contains(o.key) {
            do { _ = try await client.apply(identity.prepare(o), fieldManager: fieldManager, dryRun: true) } catch {
                if case .unknownKind = error { continue }
                failures.append((o.key, error))
            }
        }
        return failures
    }

    /// The site's inventory: from `prefetch` when it was read for `identity` and `namespaces`
    /// (its errors are the ones the read here would throw), else read now. Also returns the
    /// prefetched LISTs (empty without a usable prefetch, which is then cancelled).
    func loadRecords(_ identity: SiteIdentity, namespaces: [String]?, prefetch: ObservePrefetch?,
                     requests: RequestCounter) async throws(ApplyError) -> (Inventory?, [GroupKind: PrefetchedKind]) {
        guard let prefetch, prefetch.matches(identity, namespaces: namespaces) else {
            if let prefetch { prefetch.identity == identity ? prefetch.cancelObserve() : prefetch.cancel() }
            return (try await records.loadInventory(identity, requests: requests), [:])
        }
        let read = await prefetch.task.value
        requests.list(read.inventoryLists)
        requests.get(read.inventoryGets)
        return (try read.inventory.get(), read.kinds)
    }

    func observe(_ site: RenderedSite, identity: SiteIdentity, inventory: Inventory?, lookUpMissing: Bool,
                 namespaces: [String]?, requests: RequestCounter, prefetched: [GroupKind: PrefetchedKind] = [:]) async throws(ApplyError) -> Observation {
        let gvks = ParallelMap.map(site.objects) { $0.object.gvk }
        var kinds: [GroupVersionKind] = gvks.compactMap { $0 }
        let rendered = Set(kinds.map(\.groupKind))
        for gk in Set((inventory?.objects ?? []).map(\.groupKind)).subtracting(rendered).sorted() {
            if let p = prefetched[gk] {
                // The version the prefetch looked up, counted as the lookup made here.
                requests.get(p.versionGets)
                if let gvk = p.gvk { kinds.append(gvk) }
            } else if let gvk = await resolveVersion(gk, requests: requests) { kinds.append(gvk) }
        }
        var desired: [ObjectKey: GroupVersionKind] = [:]
        desired.reserveCapacity(site.objects.count)
        for (o, g) in zip(site.objects, gvks) { if let g { desired[o.key] = g } }
        let expected = Set(desired.keys).union(inventory?.objects ?? [])
        do {
            return try await Observer(client: client, identity: identity, namespaces: namespaces, requests: requests)
                .observe(kinds: kinds, desired: desired, expected: expected, lookUpMissing: lookUpMissing, prefetched: prefetched)
        } catch {
            throw ApplyError(.clusterUnavailable, "cannot read the live objects of \(identity.pattern)/\(identity.site): \(error)",
                             fix: ApplyEngine.fix(for: error))
        }
    }

    static func fix(for error: KubeError) -> String? {
        if case .forbidden = error {
            return "grant the identity list on these kinds, or declare the site's namespaces (--namespace) so observe lists per namespace"
        }
        return nil
    }

    // MARK: Apply

    /// What one observe of a render read: its inventory and live objects (see `drift`).
    public struct Observed: Sendable {
        public var revision: String
        public var inventory: Inventory?
        public var observation: Observation
        /// The diffs `diff` made of this observation, and the field manager it diffed for:
        /// apply reuses them instead of diffing every object again (same render, same manager).
        public var diffs: [ObjectKey: ObjectDiff] = [:]
        public var diffManager: String? = nil
    }

    /// The state one apply carries from step to step.
    struct Run {
        let site: RenderedSite
        let identity: SiteIdentity
        let options: ApplyOptions
        let requests = RequestCounter()
        let start = ContinuousClock.now
        var inventory: Inventory?
        var observation = Observation(live: [:], unservedKinds: [], listRequests: 0, getRequests: 0)
        /// Every rendered object's diff (once), and how it is applied.
        var diffByKey: [ObjectKey: ObjectDiff] = [:]
        var modes: [ObjectKey: Lifecycle.ApplyMode] = [:]
        var prune = PrunePolicy.Decision()
        var pruneRefused: PruneRefusal?
        /// The inventory as stored in the cluster now.
        var stored: Inventory?
        var outcomes: [ObjectOutcome] = []
        var diffs: [ObjectDiff] = []
        var levels = 0
        var stopped = false
        var pruned: Set<ObjectKey> = []
        var recordError: String?
        /// The ledger as a prefetch read it (for this identity), for the no-op catch-up check.
        var ledgerAhead: Task<Result<Ledger, ApplyError>, Never>?

        init(site: RenderedSite, identity: SiteIdentity, options: ApplyOptions) {
            self.site = site; self.identity = identity; self.options = options
        }

        func inScope(_ key: ObjectKey) -> Bool { options.only.map { $0.contains(key.description) } ?? true }

        var result: ApplyResult {
            let d = ContinuousClock.now - start
            var r = ApplyResult(outcomes: outcomes, diffs: diffs, levels: levels, writeRequests: requests.writes,
                                listRequests: requests.lists, getRequests: requests.gets, pruneRefused: pruneRefused?.description,
                                revision: site.revision,
                                durationSeconds: Double(d.components.seconds) + Double(d.components.attoseconds) / 1e18)
            r.pruneSkipped = prune.skipped
            r.pruneCascade = prune.cascade
            r.recordError = recordError
            r.dryRunRequests = requests.dryRuns
            r.watchRequests = requests.watches
            return r
        }
    }

    /// Applies a render. Throws (before any write) when the records cannot be read, objects are
    /// owned by another site, planning fails or prune safety refuses; per-object failures and a
    /// failed record write are reported in the result.
    ///
    /// `observed` reuses what a `drift` of the same render just read (the controller observes
    /// once per reconcile); without it the records and the cluster are read here.
    /// `prefetch`: the reads started before the render (see `ObservePrefetch`), used instead of
    /// reading the records and the cluster here when no `observed` applies; its ledger read is
    /// used by the no-op catch-up check either way (same identity).
    public func apply(_ site: RenderedSite, options: ApplyOptions = ApplyOptions(), observed: Observed? = nil, prefetch: ObservePrefetch? = nil,
                      progress: @escaping @Sendable (ApplyProgress) -> Void = { _ in }) async throws(ApplyError) -> ApplyResult {
        var run = Run(site: site, identity: SiteIdentity(site, recordNamespace: records.namespace), options: options)
        if let prefetch, prefetch.identity == run.identity { run.ledgerAhead = prefetch.ledger }
        var reuse: [ObjectKey: ObjectDiff] = [:]
        if let observed, observed.revision == site.revision {
            if observed.diffManager == options.fieldManager { reuse = observed.diffs }
            run.inventory = observed.inventory
            run.observation = observed.observation
            run.requests.list(observed.observation.listRequests)
            run.requests.get(observed.observation.getRequests)
        } else {
            let prefetched: [GroupKind: PrefetchedKind]
            (run.inventory, prefetched) = try await loadRecords(run.identity, namespaces: options.namespaces, prefetch: prefetch, requests: run.requests)
            progress(.observing(kinds: Set(site.objects.map(\.key.groupKind)).count))
            run.observation = try await observe(site, identity: run.identity, inventory: run.inventory, lookUpMissing: false,
                                                namespaces: options.namespaces, requests: run.requests, prefetched: prefetched)
        }
        run.stored = run.inventory
        diffStep(&run, reuse: reuse)
        try ownershipStep(run)
        if let done = await fastPath(&run) { return done }
        let plan = try planStep(site)
        try await pruneDecisionStep(&run)
        try await recordIntentStep(&run)
        await applyLevelsStep(&run, plan: plan, progress: progress)
        await pruneStep(&run, progress: progress)
        await recordStep(&run)
        return run.result
    }

    /// Diff: every rendered object's diff once, and its apply mode (`pattern.dev/apply`).
    /// `reuse`: the diffs `diff` already made of this observation for this field manager
    /// (objects another site owns are diffed again: apply compares them as creates).
    func diffStep(_ run: inout Run, reuse: [ObjectKey: ObjectDiff] = [:]) {
        let objects = run.site.objects, live = run.observation.live
        run.diffByKey.reserveCapacity(objects.count)
        run.modes.reserveCapacity(objects.count)
        // Each mode reads the rendered and the live object's annotations: on all cores.
        let modes = ParallelMap.map(objects) { o in Lifecycle.applyMode(rendered: o.object, live: live[o.key]) }
        var toDiff: [RenderedObject] = []
        // Objects are read where they are (a copy of each retains all its parts).
        for i in objects.indices {
            let k = objects[i].key
            run.modes[k] = modes[i]
            if let d = reuse[k], d.ownedBy == nil, run.observation.foreign[k] == nil {
                run.diffByKey[k] = d
            } else {
                toDiff.append(objects[i])
            }
        }
        let diffs = ApplyEngine.diffObjects(toDiff, site: run.site, observation: run.observation, identity: run.identity,
                                            fieldManager: run.options.fieldManager, othersAsLive: false)
        for (o, d) in zip(toDiff, diffs) { run.diffByKey[o.key] = d }
    }

    /// Ownership: rendered objects another pattern site owns are refused unless adopted.
    func ownershipStep(_ run: Run) throws(ApplyError) {
        let taken = run.site.objects.filter { run.inScope($0.key) && run.modes[$0.key] != .ignore && run.observation.foreign[$0.key] != nil }
        guard !taken.isEmpty, !run.options.adopt else { return }
        let lines = taken.prefix(20).map { "  \($0.key) (owned by \(run.observation.foreign[$0.key]!))" }.joined(separator: "\n")
        throw ApplyError(.ownedByOther,
                         "refusing to apply \(run.identity.pattern)/\(run.identity.site): \(taken.count) object\(taken.count == 1 ? " is" : "s are") owned by another site:\n"
                            + lines + (taken.count > 20 ? "\n  … and \(taken.count - 20) more" : ""),
                         fix: "two sites render the same objects; remove them from one site, or re-run with --adopt to take them over (the other site will then refuse to apply them)",
                         objects: taken.map(\.key), owners: Set(taken.compactMap { run.observation.foreign[$0.key] }).sorted())
    }

    /// Nothing to write and nothing to prune: the cluster already matches and the inventory
    /// lists every rendered object. No plan, no inventory write; the ledger is only written to
    /// catch up when its last entry is not a success of this revision.
    func fastPath(_ run: inout Run) async -> ApplyResult? {
        guard run.options.only == nil, let inventory = run.inventory else { return nil }
        let objects = run.site.objects
        // Keys and modes read once per object, the objects where they are.
        let keys = objects.map(\.key)
        let modes = keys.map { run.modes[$0] ?? .always }
        var applied: [ObjectKey] = []
        applied.reserveCapacity(keys.count)
        for i in keys.indices where modes[i] != .ignore { applied.append(keys[i]) }
        guard inventory.covers(applied) else { return nil }
        let actions = keys.map { run.diffByKey[$0]?.action }
        for i in keys.indices where modes[i] != .ignore && actions[i] != .unchanged {
            let k = keys[i]
            if HelmHookPolicy.absentByPolicy(k, object: objects[i].object, live: run.observation.live[k]) { continue }
            if modes[i] == .ifNotPresent && actions[i] == .update { continue }
            return nil
        }
        let candidates = inventory.pruneCandidates(desired: keys)
        let policy = run.options.prunePolicy
        if !candidates.isEmpty && policy.enabled && !(run.site.provenance.stale && !policy.allowStaleSource) { return nil }
        if !candidates.isEmpty {
            run.prune.skipped = policy.enabled ? "the source is stale: nothing is pruned unless --prune-stale" : "prune is off"
        }
        run.outcomes.reserveCapacity(run.outcomes.count + keys.count)
        run.diffs.reserveCapacity(run.diffs.count + keys.count)
        for i in keys.indices {
            let skipped = modes[i] == .ignore || (modes[i] == .ifNotPresent && actions[i] == .update)
            run.outcomes.append(ObjectOutcome(key: keys[i], status: skipped ? .skipped : .unchanged))
            if !skipped, let d = run.diffByKey[keys[i]] { run.diffs.append(d) }
        }
        if !run.options.dryRun { await ledgerCatchUp(&run) }
        return run.result
    }

    /// Writes a ledger entry when the last one does not record a success of this revision
    /// (a previous run's ledger write failed, or it failed and the cluster has since converged).
    func ledgerCatchUp(_ run: inout Run) async {
        do {
            let ledger: Ledger
            if let ahead = run.ledgerAhead {
                run.requests.get()
                ledger = try await ahead.value.get()
            } else {
                ledger = try await records.loadLedger(run.identity, requests: run.requests)
            }
            // A rollback always leaves its entry (`rollbackOf`), even when the cluster already matched.
            if run.options.rollbackOf == nil, let last = ledger.last, last.result == .succeeded, last.revision == run.site.revision { return }
            let message = run.options.rollbackOf != nil
                ? "rollback to entry \(run.options.rollbackOf!): the cluster already matched it (nothing written)"
                : ledger.last == nil
                ? "recorded on a later run: the cluster already matched this revision"
                : "recorded on a later run: the cluster matches this revision (the previous entry was not a success of it)"
            try await records.append(ledgerEntry(run, message: message), identity: run.identity, requests: run.requests)
        } catch {
            run.recordError = "cannot write the ledger: \(error)"
        }
    }

    /// The ledger entry of this run. `render` and `client` not given in the options are made
    /// here (`deferredRender`, `deferredClient`): only runs that write an entry pay for them.
    func ledgerEntry(_ run: Run, message: String? = nil) async -> LedgerEntry {
        var options = run.options
        if options.render == nil, let make = options.deferredRender { options.render = make() }
        if options.client == nil, let make = options.deferredClient { options.client = await make() }
        return LedgerEntry.from(run.result, site: run.site, client: options.client, message: message, options: options)
    }

    /// Plan: dependency levels of the render.
    func planStep(_ site: RenderedSite) throws(ApplyError) -> Plan {
        do { return try ApplyEngine.plan(site) } catch {
            throw ApplyError(.planFailed, "cannot plan the apply:\n" + error.items.map(\.description).joined(separator: "\n"))
        }
    }

    /// Prune decision, before anything is written: the Record stage's rules, with what deleting
    /// each Namespace or CRD would take with it. A dry run reports a refusal instead of throwing.
    func pruneDecisionStep(_ run: inout Run) async throws(ApplyError) {
        let policy = run.options.prunePolicy
        let desired = Set(run.site.objects.map(\.key))
        var cascades: [ObjectKey: Cascade] = [:]
        if policy.enabled, let inventory = run.inventory {
            let candidates = Set(inventory.pruneCandidates(desired: desired))
            for k in candidates.sorted() where Cascade.isContainer(k) {
                guard let live = run.observation.live[k], run.identity.owns(live) else { continue }
                do { cascades[k] = try await cascade(of: k, live: live, candidates: candidates, identity: run.identity, requests: run.requests) } catch {
                    throw ApplyError(.clusterUnavailable, "cannot read what pruning \(k) would delete with it: \(error)",
                                     fix: "pruning a Namespace or CRD needs list access to what it holds; or re-run with --no-prune")
                }
            }
        }
        do {
            run.prune = try policy.decide(inventory: run.inventory, desired: desired, live: run.observation.live,
                                          owns: run.identity.owns, staleSource: run.site.provenance.stale, cascades: cascades)
            HelmHookPolicy.sparePrunedHooks(&run.prune, live: run.observation.live)
        } catch {
            if run.options.dryRun {
                run.pruneRefused = error
                var d = PrunePolicy.Decision()
                d.delete = error.wouldDelete
                d.cascade = error.cascade
                run.prune = d
                return
            }
            throw ApplyError(.pruneRefused, error.description,
                             fix: "check the source and overlays; if the render really shrank this much, re-run with --prune-confirm (apply --dry-run lists what would go); --no-prune skips pruning",
                             objects: error.wouldDelete)
        }
    }

    /// What deleting a Namespace or CRD would delete with it (objects that are not candidates
    /// themselves; dependents with ownerReferences and objects the API creates in every
    /// namespace are not counted: they follow their owner).
    func cascade(of key: ObjectKey, live: Value, candidates: Set<ObjectKey>, identity: SiteIdentity,
                 requests: RequestCounter) async throws(KubeError) -> Cascade {
        var c = Cascade()
        func count(_ items: [Value]) {
            for item in items {
                guard let k = item.objectKey, !candidates.contains(k) else { continue }
                if !(item[path: ["metadata", "ownerReferences"]]?.array ?? []).isEmpty { continue }
                if (k.kind == "ConfigMap" && k.name == "kube-root-ca.crt") || (k.kind == "ServiceAccount" && k.name == "default") { continue }
                if item.labels[Ownership.ownerLabel] != nil, !identity.owns(item) {
                    c.foreign[k] = PrunePolicy.ownerName(item) ?? "another site"
                }
                c.inside += 1
            }
        }
        if key.kind == "CustomResourceDefinition" {
            guard let group = live[path: ["spec", "group"]]?.string, let kind = live[path: ["spec", "names", "kind"]]?.string else { return c }
            let versions = live[path: ["spec", "versions"]]?.array ?? []
            guard let version = (versions.first { $0["storage"]?.bool == true } ?? versions.first)?["name"]?.string else { return c }
            do { count(try await client.list(GroupVersionKind(group: group, version: version, kind: kind), counting: requests).items) } catch {
                if case .unknownKind = error { return c }
                if error.isNotFound { return c }
                throw error
            }
            return c
        }
        let resources = try await client.serverResources()
        // Discovery: /api, /apis and one request per group version.
        requests.get(2 + Set(resources.map { "\($0.group)/\($0.version)" }).count)
        let skip: Set<String> = ["Event", "Endpoints", "EndpointSlice", "Lease"]
        for r in resources where r.namespaced && r.verbs.contains("list") && !r.name.contains("/") && !skip.contains(r.kind) {
            do { count(try await client.list(GroupVersionKind(group: r.group, version: r.version, kind: r.kind), namespace: key.name, counting: requests).items) } catch {
                if error.isNotFound { continue }
                throw error
            }
        }
        return c
    }

    /// Record intent: every object about to be applied enters the inventory before the first
    /// write, so no object can exist without being listed (a failed or killed run included).
    func recordIntentStep(_ run: inout Run) async throws(ApplyError) {
        guard !run.options.dryRun else { return }
        let current = run.inventory ?? run.identity.emptyInventory
        let intent = current.adding(run.site.objects.filter { run.inScope($0.key) && run.modes[$0.key] != .ignore }.map(\.key))
        if intent == run.inventory { return }
        do { try await records.save(intent, requests: run.requests) } catch {
            throw ApplyError(.clusterUnavailable, "cannot record the inventory of \(run.identity.pattern)/\(run.identity.site) before applying: \(error); nothing was applied",
                             fix: "the identity needs to write ConfigMaps in \(records.namespace) (or choose --record-namespace)")
        }
        run.stored = intent
    }

    /// Apply levels: per level, server-side apply of the objects that differ (concurrently).
    /// Readiness is awaited per dependency edge, not per level: each object of a level starts
    /// as soon as the objects it depends on (namespace, CRD, component, depends-on and Helm hook
    /// edges) are ready, even while a sibling of its level still waits for its own (an object
    /// is never written before an earlier level's), so independent chains do not wait on each
    /// other; the webhook tier
    /// waits for everything before it (an admission webhook must not front a backend that is
    /// not serving), and the apply ends when every applied object is ready. A dry run asks the
    /// server to dry-run each change.
    func applyLevelsStep(_ run: inout Run, plan: Plan, progress: @escaping @Sendable (ApplyProgress) -> Void) async {
        let byKey = Dictionary(run.site.objects.map { ($0.key, $0) }, uniquingKeysWith: { a, _ in a })
        var dependencies: [ObjectKey: [ObjectKey]] = [:]
        for e in plan.edges { dependencies[e.to, default: []].append(e.from) }
        /// Applied (or unchanged) objects whose readiness nothing has waited for yet, with the
        /// level they were applied in and their live state after the write.
        var unconfirmed: [ObjectKey: Int] = [:]
        var known: [ObjectKey: Value] = [:]
        let webhookTier = Planner.tierNames.count - 1
        run.levels = plan.levels.count
        for (levelIndex, level) in plan.levels.enumerated() {
            var remaining = level.compactMap { byKey[$0] }.filter { run.inScope($0.key) }
            // A level is written in batches: each object starts as soon as what it depends on is
            // ready, not when everything the level depends on is (write order between levels,
            // the kind tiers, is kept).
            while !remaining.isEmpty {
                var members = remaining
                if !run.stopped && !run.options.dryRun && run.options.wait && !unconfirmed.isEmpty {
                    // What an object depends on must be ready first (everything, for webhooks).
                    func blockers(_ o: RenderedObject) -> [ObjectKey] {
                        if (plan.tiers[o.key] ?? 0) >= webhookTier { return Array(unconfirmed.keys) }
                        return (dependencies[o.key] ?? []).filter { unconfirmed[$0] != nil }
                    }
                    members = remaining.filter { blockers($0).isEmpty }
                    if members.isEmpty {
                        var needed: Set<ObjectKey> = []
                        for o in remaining { needed.formUnion(blockers(o)) }
                        let before = unconfirmed.count
                        await waitReady(needed, untilAny: true, unconfirmed: &unconfirmed, known: &known, objects: byKey, run: &run, progress: progress)
                        // Nothing became ready without a failure cannot happen; never loop on it.
                        if !run.stopped && unconfirmed.count < before { continue }
                        members = remaining
                    }
                }
                let started = Set(members.map(\.key))
                remaining.removeAll { started.contains($0.key) }
                if run.stopped {
                    run.outcomes += members.map { ObjectOutcome(key: $0.key, status: .notAttempted, message: "an earlier level failed", level: levelIndex) }
                    continue
                }
                let tier = members.compactMap { plan.tiers[$0.key] }.min() ?? 0
                progress(.applyingLevel(index: levelIndex, of: plan.levels.count, objects: members.count,
                                        tier: Planner.tierNames[min(tier, Planner.tierNames.count - 1)]))
                await deleteHooksBeforeCreation(members, run: &run, level: levelIndex)
                if run.stopped { continue }
                var toWrite: [RenderedObject] = []
                var liveAfter: [ObjectKey: Value] = [:]
                for o in members {
                    let live = run.observation.live[o.key]
                    let d = run.diffByKey[o.key]!
                    switch run.modes[o.key]! {
                    case .ignore:
                        run.outcomes.append(ObjectOutcome(key: o.key, status: .skipped, message: "\(Lifecycle.applyAnnotation): ignore", level: levelIndex))
                        continue
                    case .ifNotPresent where d.action != .create:
                        run.outcomes.append(ObjectOutcome(key: o.key, status: d.action == .unchanged ? .unchanged : .skipped,
                                                          message: d.action == .unchanged ? nil : "\(Lifecycle.applyAnnotation): if-not-present and it exists", level: levelIndex))
                        if let live { liveAfter[o.key] = live }
                        continue
                    default: break
                    }
                    run.diffs.append(d)
                    if d.action == .unchanged {
                        run.outcomes.append(ObjectOutcome(key: o.key, status: .unchanged, level: levelIndex))
                        if let live { liveAfter[o.key] = live }
                    } else {
                        toWrite.append(o)
                    }
                }
                let results = await applyConcurrently(toWrite, run: run)
                for (o, r) in results {
                    let adopted = run.observation.foreign[o.key].map { "adopted from \($0)" }
                    switch r {
                    case .success(let (_, false)) where run.modes[o.key] == .ifNotPresent:
                        run.outcomes.append(ObjectOutcome(key: o.key, status: .skipped, message: "\(Lifecycle.applyAnnotation): if-not-present and it exists", level: levelIndex))
                    case .success(let (live, created)):
                        let s: ObjectOutcome.Status = run.options.dryRun ? (created ? .wouldCreate : .wouldConfigure) : (created ? .created : .configured)
                        run.outcomes.append(ObjectOutcome(key: o.key, status: s, message: adopted, level: levelIndex,
                                                          resourceVersion: run.options.dryRun ? nil : live[path: ["metadata", "resourceVersion"]]?.string))
                        progress(.applied(o.key, s))
                        liveAfter[o.key] = live
                    case .failure(.unknownKind) where run.options.dryRun:
                        // Its CRD is in this render and not applied yet: the server cannot check it.
                        run.outcomes.append(ObjectOutcome(key: o.key, status: .wouldCreate, message: "kind not served yet (its CRD is applied first): not checked by the server", level: levelIndex))
                    case .failure(let e) where run.options.dryRun && e.isNotFound && !o.key.namespace.isEmpty
                        && run.diffByKey[ObjectKey(group: "", kind: "Namespace", namespace: "", name: o.key.namespace)]?.action == .create:
                        // Its namespace is created by this apply: the server cannot check it yet.
                        run.outcomes.append(ObjectOutcome(key: o.key, status: .wouldCreate, message: "namespace \(o.key.namespace) is created first: not checked by the server", level: levelIndex))
                    case .failure(let e):
                        let message = ApplyEngine.scrubSecretValues(ApplyEngine.describe(e, key: o.key, options: run.options), object: o.object)
                        run.outcomes.append(ObjectOutcome(key: o.key, status: .failed, message: message, level: levelIndex))
                        if !run.options.dryRun { run.stopped = true }
                    }
                }
                if run.options.dryRun { continue }
                if members.contains(where: { $0.key.kind == "CustomResourceDefinition" }) { await client.invalidateDiscovery() }
                if run.stopped || !run.options.wait { continue }
                for m in members where run.modes[m.key] != .ignore {
                    unconfirmed[m.key] = levelIndex
                    if let live = liveAfter[m.key] { known[m.key] = live }
                }
                // Helm hooks deleted after they ran (`hook-succeeded`, `hook-failed`) are waited for
                // here, so the policy sees their outcome.
                let afterRunHooks = members.filter { o in
                    guard run.modes[o.key] != .ignore, let p = HelmHookPolicy.policies(o.object) else { return false }
                    return p.contains(.hookSucceeded) || p.contains(.hookFailed)
                }
                if !afterRunHooks.isEmpty {
                    await waitReady(Set(afterRunHooks.map(\.key)), unconfirmed: &unconfirmed, known: &known, objects: byKey, run: &run, progress: progress)
                    let failed = Set(afterRunHooks.map(\.key).filter { k in run.outcomes.last(where: { $0.key == k })?.status == .failed })
                    await deleteHooksAfterRun(afterRunHooks, failed: failed, run: &run)
                }
            }
        }
        // The apply ends when everything it applied is ready.
        if !run.stopped && !run.options.dryRun && run.options.wait && !unconfirmed.isEmpty {
            await waitReady(Set(unconfirmed.keys), unconfirmed: &unconfirmed, known: &known, objects: byKey, run: &run, progress: progress)
        }
    }

    /// Waits until `keys` are ready (one LIST + WATCH per pending kind, see `Waiter`); they
    /// leave `unconfirmed`. A failure marks the object's outcome failed and stops the apply.
    private func waitReady(_ keys: Set<ObjectKey>, untilAny: Bool = false, unconfirmed: inout [ObjectKey: Int], known: inout [ObjectKey: Value],
                           objects: [ObjectKey: RenderedObject], run: inout Run, progress: @escaping @Sendable (ApplyProgress) -> Void) async {
        let ordered = keys.sorted { (unconfirmed[$0] ?? 0, $0) < (unconfirmed[$1] ?? 0, $1) }
        let result = await Waiter(client: client, options: run.options, identity: run.identity, requests: run.requests)
            .waitReady(ordered, objects: objects, known: known, untilAny: untilAny, progress: progress)
        let failures = result.failures
        for k in keys where !failures.isEmpty || !result.notReady.contains(k) { unconfirmed[k] = nil; known[k] = nil }
        guard !failures.isEmpty else { return }
        for (k, msg) in failures {
            if let i = run.outcomes.lastIndex(where: { $0.key == k }) {
                run.outcomes[i].status = .failed
                run.outcomes[i].message = "not ready: \(msg)"
            }
        }
        run.stopped = true
    }

    /// Prune: carries out the decision, dependents first (a dry run lists what would go).
    func pruneStep(_ run: inout Run, progress: @escaping @Sendable (ApplyProgress) -> Void) async {
        for (k, why) in run.prune.keep.sorted(by: { $0.key < $1.key }) { run.outcomes.append(ObjectOutcome(key: k, status: .kept, message: why)) }
        if run.stopped && !run.options.dryRun {
            run.prune.release = [:]  // nothing leaves the inventory on a failed run
            return
        }
        for (k, why) in run.prune.release.sorted(by: { $0.key < $1.key }) where !why.isEmpty {
            run.outcomes.append(ObjectOutcome(key: k, status: .kept, message: why))
        }
        let owned = run.prune.delete.compactMap { run.observation.live[$0] }
        for level in Planner.pruneLevels(owned) {
            for k in level {
                guard let live = run.observation.live[k], let gvk = live.gvk else { continue }
                if run.options.dryRun {
                    let inside = run.prune.cascade > 0 && Cascade.isContainer(k) ? "with what it holds" : nil
                    run.outcomes.append(ObjectOutcome(key: k, status: .wouldPrune, message: inside))
                    run.diffs.append(ObjectDiffer.diff(desired: nil, live: live, manager: run.options.fieldManager))
                    continue
                }
                progress(.pruning(k))
                do {
                    run.requests.write()
                    try await client.delete(gvk, name: k.name, namespace: k.namespace.isEmpty ? nil : k.namespace,
                                            propagationPolicy: .background, preconditionUID: live[path: ["metadata", "uid"]]?.string)
                    run.outcomes.append(ObjectOutcome(key: k, status: .pruned))
                    run.pruned.insert(k)
                } catch {
                    if error.isNotFound { run.pruned.insert(k); run.outcomes.append(ObjectOutcome(key: k, status: .pruned, message: "already gone")) }
                    else { run.outcomes.append(ObjectOutcome(key: k, status: .failed, message: "prune failed: \(error)")) }
                }
            }
        }
    }

    /// Record: the inventory after prune (deleted and released objects leave it; objects never
    /// attempted that did not exist before leave it too), then one ledger entry. A failure is
    /// reported in the result, never by dropping the outcomes.
    func recordStep(_ run: inout Run) async {
        guard !run.options.dryRun else { return }
        let before = run.inventory?.objects ?? []
        let neverCreated = run.outcomes.filter { $0.status == .notAttempted && !before.contains($0.key) && run.observation.live[$0.key] == nil }.map(\.key)
        let stored = run.stored ?? run.identity.emptyInventory
        let final = stored.removing(run.pruned).removing(run.prune.release.keys).removing(neverCreated)
        if final != run.stored {
            do { try await records.save(final, requests: run.requests); run.stored = final } catch {
                run.recordError = "cannot update the inventory after applying (it still lists every object, so nothing is lost; the next apply fixes it): \(error)"
            }
        }
        let changed = run.outcomes.contains { [.created, .configured, .pruned, .failed].contains($0.status) } || final != run.inventory
        guard changed else { return }
        do {
            try await records.append(ledgerEntry(run), identity: run.identity, requests: run.requests)
        } catch {
            let e = "cannot write the ledger entry of this apply (the next apply records it): \(error)"
            run.recordError = run.recordError.map { $0 + "; " + e } ?? e
        }
    }

    func applyConcurrently(_ objects: [RenderedObject], run: Run) async -> [(RenderedObject, Result<(Value, Bool), KubeError>)] {
        let options = run.options
        let identity = run.identity
        let requests = run.requests
        let modes = run.modes
        // Fields an ignore rule covers keep their live values (Argo CD's RespectIgnoreDifferences).
        let ignore = run.site.ignoreDifferences
        let live = ignore.isEmpty ? [:] : run.observation.live
        return await withTaskGroup(of: (Int, Result<(Value, Bool), KubeError>).self) { group in
            var out: [(Int, Result<(Value, Bool), KubeError>)] = []
            var it = objects.enumerated().makeIterator()
            func next() -> Bool {
                guard let (i, o) = it.next() else { return false }
                let createOnly = modes[o.key] == .ifNotPresent
                group.addTask {
                    if options.dryRun { requests.dryRun() } else { requests.write() }
                    do throws(KubeError) {
                        if createOnly {
                            // Created once, never updated: POST, and "exists" means skip.
                            do throws(KubeError) {
                                return (i, .success((try await client.create(identity.prepare(o), fieldManager: options.fieldManager, dryRun: options.dryRun), true)))
                            } catch {
                                if case .alreadyExists = error { return (i, .success((o.object, false))) }
                                throw error
                            }
                        }
                        // 201 Created vs 200 OK decides "created".
                        let config = IgnoreDifferences.respectLive(identity.prepare(o), live: live[o.key], rules: ignore)
                        let r = try await client.applyReportingCreation(config, fieldManager: options.fieldManager,
                                                                        force: options.forceConflicts, dryRun: options.dryRun)
                        return (i, .success((r.object, r.created)))
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
    func resolveVersion(_ gk: GroupKind, requests: RequestCounter) async -> GroupVersionKind? {
        if gk.group.isEmpty { return GroupVersionKind(group: "", version: "v1", kind: gk.kind) }
        // From aggregated discovery when the server has it (no request of its own).
        if let v = await client.discoveredPreferredVersion(ofGroup: gk.group) { return GroupVersionKind(group: gk.group, version: v, kind: gk.kind) }
        requests.get()
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
