import PatternCore
import PatternCompile
import PatternSource
import PatternApply
import PatternRecord
import PatternRollout
import KubeClient
import Synchronization

/// A `PatternRollout` resource: the controller drives the rollout `rollouts/<spec.rollout>.yaml`
/// of the pattern repository in `spec.source`, with the same state machine as
/// `pattern rollout start` (Sources/PatternRollout: waves, soak, health gates, budgets, deferred
/// sites, revert) and the same state in the hub (`pattern-rollout-<name>` in
/// `spec.stateNamespace`), so `pattern rollout status|pause|resume|abort` work on it.
///
/// ```yaml
/// apiVersion: pattern.dev/v1alpha1
/// kind: PatternRollout
/// metadata: {name: platform, namespace: pattern-system}
/// spec:
///   source: {git: {url: https://git.example/platform.git, ref: main}}   # as PatternSync
///   rollout: platform-1-5          # rollouts/platform-1-5.yaml
///   interval: 5m                   # how often the source is checked for a new version
///   stateNamespace: pattern-system # where the rollout state ConfigMap lives (default)
/// ```
///
/// Each site of the rollout is reached through the PatternSync that reconciles it (its
/// `spec.site`; its cluster, record namespace, prune and drift settings). While a site is in a
/// PatternRollout, its PatternSync applies only the revision the rollout last applied there
/// (drift is healed as usual) and waits (`Ready=False`, `WaitingForRollout`) for a newer one.
public enum PatternRolloutResource {
    public static let kind = "PatternRollout"
    public static let plural = "patternrollouts"
    public static let gvk = GroupVersionKind(group: PatternSyncSpec.group, version: PatternSyncSpec.version, kind: kind)
    /// Most sites listed in `status.sites` (the rollout file allows `RolloutFile.maxSites`).
    public static let maxListedSites = RolloutFile.maxSites

    /// A PatternRollout's spec.
    public struct Spec: Sendable {
        /// Source, interval and verification, read as a PatternSync's.
        public var source: PatternSyncSpec
        public var rollout: String
        public var stateNamespace: String
        public var suspend: Bool

        public init(spec: Value) throws(SpecError) {
            guard spec.object != nil else { throw SpecError("spec is missing") }
            guard let r = spec["rollout"]?.string, !r.isEmpty else {
                throw SpecError("spec.rollout is required: the name of the rollout file (rollouts/<name>.yaml) to drive")
            }
            rollout = r
            var s = spec
            s["site"] = .string("rollout:" + r)
            s["rollout"] = nil
            source = try PatternSyncSpec(spec: s)
            stateNamespace = spec["stateNamespace"]?.string ?? Inventory.defaultNamespace
            suspend = spec["suspend"]?.bool ?? false
        }
    }

    /// Why a site's PatternSync source differs from the PatternRollout's (nil: the same
    /// repository, ref and path, or the same directory; mirrors and credentials may differ).
    static func sourceMismatch(rollout: PatternSyncSpec.SourceSpec, sync: PatternSyncSpec.SourceSpec) -> String? {
        switch (rollout, sync) {
        case (.git(let u1, let r1, let p1, _, _), .git(let u2, let r2, let p2, _, _)):
            if SourcePins.key(u1) != SourcePins.key(u2) { return "\(SourcePins.key(u2)), not \(SourcePins.key(u1))" }
            if (r1 ?? "") != (r2 ?? "") { return "ref \(r2 ?? "(default)"), not \(r1 ?? "(default)")" }
            if (p1 ?? "") != (p2 ?? "") { return "path \(p2 ?? "(root)"), not \(p1 ?? "(root)")" }
            return nil
        case (.path(let a), .path(let b)):
            return a == b ? nil : "directory \(b), not \(a)"
        case (.git, .path(let b)): return "directory \(b), not git"
        case (.path, .git(let u, _, _, _, _)): return "git \(SourcePins.key(u)), not a directory"
        }
    }

    /// How far a PatternRollout got, from its status: its phase and each wave's phase (nil for
    /// none). Per-site counts are left out: they change with every site, and the sites waiting
    /// look again once per wave, not once per site.
    static func progress(_ rollout: Value?) -> [String]? {
        guard let st = rollout?["status"], st.object != nil else { return nil }
        var p = [st["phase"]?.string ?? "", st["revision"]?.string ?? ""]
        for w in st["waves"]?.array ?? [] { p.append(w["phase"]?.string ?? "") }
        return p
    }

    /// Sites a PatternRollout holds (from its status, written by whichever replica drives it).
    static func heldSites(_ rollout: Value) -> [String] {
        (rollout[path: ["status", "sites"]]?.array ?? []).compactMap(\.string)
    }
}

/// The rollouts this replica drives, and the sites every PatternRollout holds.
final class RolloutDrivers: Sendable {
    private struct State: Sendable {
        var known: [String: Value] = [:]
        var drivers: [String: Task<Void, Never>] = [:]
        /// Wakes a driver before its interval (spec changed).
        var wake: [String: StopSignal] = [:]
        /// Site → `namespace/name` of the PatternRollout holding it.
        var held: [String: String] = [:]
    }
    private let state = Mutex(State())

    func set(_ key: String, _ object: Value?) {
        state.withLock { s in
            s.known[key] = object
            s.held = [:]
            for (k, o) in s.known { for site in PatternRolloutResource.heldSites(o) { s.held[site] = k } }
        }
    }
    func replace(_ all: [String: Value]) {
        state.withLock { s in
            s.known = all
            s.held = [:]
            for (k, o) in all { for site in PatternRolloutResource.heldSites(o) { s.held[site] = k } }
        }
    }
    func object(_ key: String) -> Value? { state.withLock { $0.known[key] } }
    var keys: [String] { state.withLock { Array($0.known.keys) } }
    func holder(of site: String) -> String? { state.withLock { $0.held[site] } }
    func isDriving(_ key: String) -> Bool { state.withLock { $0.drivers[key] != nil } }
    var driving: [String] { state.withLock { Array($0.drivers.keys) } }

    func start(_ key: String, wake: StopSignal, _ body: @escaping @Sendable () async -> Void) {
        state.withLock { s in
            guard s.drivers[key] == nil else { return }
            s.wake[key] = wake
            s.drivers[key] = Task { await body() }
        }
    }
    func poke(_ key: String) { state.withLock { $0.wake[key] }?.stop() }
    func renewWake(_ key: String) -> StopSignal {
        let w = StopSignal()
        state.withLock { $0.wake[key] = w }
        return w
    }
    /// Stops the driver of `key` (the task is cancelled: it writes nothing more).
    func stop(_ key: String) -> Task<Void, Never>? {
        let t = state.withLock { s -> Task<Void, Never>? in
            s.wake[key] = nil
            return s.drivers.removeValue(forKey: key)
        }
        t?.cancel()
        return t
    }
    func finished(_ key: String) { state.withLock { _ = $0.drivers.removeValue(forKey: key); $0.wake[key] = nil } }
}

extension PatternController {
    /// Watches PatternRollouts while this replica reconciles: keeps the held sites current on
    /// every replica, and drives the rollouts whose key hashes to a shard this replica holds
    /// (single-leader mode: the leader drives them all). A cluster without the CRD has none.
    func watchRollouts() async {
        var failures = 0
        await withTaskGroup(of: Void.self) { group in
            group.addTask { [self] in
                // Drivers follow the shards: started when owned, stopped when not.
                while !Task.isCancelled && !isShuttingDown {
                    balanceDrivers()
                    await stopSignal.sleep(configuration.lease.retryPeriod)
                }
            }
            while !Task.isCancelled && !isShuttingDown {
                do {
                    for try await ev in client.watchWithRelist(PatternRolloutResource.gvk, namespace: configuration.namespace, timeoutSeconds: 300) {
                        failures = 0
                        switch ev {
                        case .listed(let list):
                            var all: [String: Value] = [:]
                            for o in list.items { all[PatternController.key(o)] = o }
                            let gone = Set(rollouts.keys).subtracting(all.keys)
                            rollouts.replace(all)
                            for k in gone { _ = rollouts.stop(k) }
                        case .event(let e):
                            let k = PatternController.key(e.object)
                            switch e.type {
                            case .added, .modified:
                                let old = rollouts.object(k)
                                rollouts.set(k, e.object)
                                // A new spec, or a reconcile request (as for PatternSyncs): look at the source now.
                                if old?[path: ["metadata", "generation"]] != e.object[path: ["metadata", "generation"]]
                                    || ReconcileRequest.requested(old ?? .null) != ReconcileRequest.requested(e.object) { rollouts.poke(k) }
                                // Sites released (or newly held): their PatternSyncs look again.
                                let before = Set(old.map(PatternRolloutResource.heldSites) ?? [])
                                let after = Set(PatternRolloutResource.heldSites(e.object))
                                triggerSites(before.symmetricDifference(after))
                                // The rollout advanced (a wave ended, or the rollout did): sites
                                // waiting for it look again, whichever replica drives it.
                                if PatternRolloutResource.progress(old) != PatternRolloutResource.progress(e.object) {
                                    triggerWaiting(after.intersection(before))
                                }
                            case .deleted:
                                let old = rollouts.object(k)
                                rollouts.set(k, nil)
                                _ = rollouts.stop(k)
                                triggerSites(Set(old.map(PatternRolloutResource.heldSites) ?? []))
                            case .bookmark: break
                            }
                        }
                        balanceDrivers()
                    }
                } catch {
                    failures += 1
                    // No CRD (PatternRollouts not installed) is normal: look again now and then.
                    let missing: Bool
                    if case .unknownKind? = error as? KubeError { missing = true } else { missing = (error as? KubeError)?.isNotFound ?? false }
                    if !missing { logger.warning("cannot watch PatternRollouts", metadata: ["error": "\(error)"]) }
                    // (The client looks the kind up in discovery again on the next try.)
                    await stopSignal.sleep(missing ? min(60, 5 * Double(failures)) : backoff(failures))
                }
            }
            group.cancelAll()
        }
        for k in rollouts.driving { _ = rollouts.stop(k) }
    }

    /// Starts drivers for owned rollouts and stops those of rollouts no longer owned.
    func balanceDrivers() {
        // Single-leader mode: the leader (this task runs only while it leads); sharded: the shard's holder.
        for k in rollouts.keys {
            let mine = owns(k) && (shardManager != nil || elector.isLeader)
            if mine && !rollouts.isDriving(k) {
                let wake = StopSignal()
                rollouts.start(k, wake: wake) { [weak self] in
                    await self?.driveRollout(k)
                    self?.rollouts.finished(k)
                }
            } else if !mine && rollouts.isDriving(k) {
                _ = rollouts.stop(k)
                logger.info("stopped driving a rollout (its shard moved)", metadata: ["patternrollout": "\(k)"])
            }
        }
        for k in rollouts.driving where rollouts.object(k) == nil { _ = rollouts.stop(k) }
    }

    func triggerSites(_ sites: Set<String>) {
        guard !sites.isEmpty else { return }
        for w in allWorkers() where sites.contains(w.current[path: ["spec", "site"]]?.string ?? "") { w.trigger(.spec) }
    }

    /// Reconciles the PatternSyncs of `sites` that wait for their rollout (`WaitingForRollout`):
    /// the driver's apply reaches them through their watches too, but a driver on another
    /// replica, or an apply that changed no object of the site, would leave them waiting until
    /// their interval.
    func triggerWaiting(_ sites: Set<String>) {
        guard !sites.isEmpty else { return }
        for w in allWorkers() {
            let o = w.current
            guard sites.contains(o[path: ["spec", "site"]]?.string ?? ""),
                  StatusBuilder.conditionOf(o["status"] ?? .null, "Ready")?["reason"]?.string == "WaitingForRollout" else { continue }
            w.trigger(.rollout)
        }
    }

    /// Drives one PatternRollout until it is no longer owned here or deleted: each round reads
    /// the source, loads the plan, resolves every site through its PatternSync, and starts a
    /// new rollout (a new render digest), resumes an unfinished one (taking over from a driver
    /// that is gone: the shard Lease guarantees no one else drives it), or only reports.
    func driveRollout(_ key: String) async {
        var failures = 0
        while !Task.isCancelled && !isShuttingDown && owns(key) {
            guard let object = rollouts.object(key) else { return }
            let wake = rollouts.renewWake(key)
            let (ok, interval) = await rolloutRound(object)
            failures = ok ? 0 : failures + 1
            let delay = ok ? interval : min(interval, backoff(failures))
            await wake.sleep(delay)
        }
    }

    /// One round; returns whether it went through and the interval until the next.
    func rolloutRound(_ object: Value) async -> (Bool, Double) {
        let ns = object.metadataNamespace ?? "default", name = object.metadataName ?? ""
        let spec: PatternRolloutResource.Spec
        do { spec = try PatternRolloutResource.Spec(spec: object["spec"] ?? .null) } catch {
            await writeRolloutStatus(object, ["phase": "Invalid", "message": .string(error.message)])
            return (true, 3600)
        }
        let interval = spec.source.intervalSeconds
        if spec.suspend { return (true, interval) }
        // Source → plan → every site rendered and bound (nothing is written if one fails).
        let prepared: PreparedRollout
        do { prepared = try await prepareRollout(object, spec) } catch {
            await writeRolloutStatus(object, ["message": .string(error.message)])
            logger.error("cannot prepare the rollout", metadata: ["patternrollout": "\(ns)/\(name)", "error": "\(error.message)"])
            return (false, interval)
        }
        let store = ConfigMapRolloutStore(client: client, namespace: spec.stateNamespace)
        var runner = RolloutRunner(store: store, sites: prepared.sites, driverID: "pattern-controller/\(configuration.lease.identity)")
        runner.pollSeconds = configuration.rolloutPollSeconds
        // Only the holder of this rollout's shard drives it: a driver that stopped renewing is gone.
        runner.staleDriverSeconds = configuration.lease.leaseDuration
        let statusBase: Value = ["commit": prepared.commit.map { .string($0) } ?? .null, "revision": .string(prepared.revision),
                                 "sites": .array(prepared.siteNames.prefix(PatternRolloutResource.maxListedSites).map { .string($0) }),
                                 "state": .string("\(spec.stateNamespace)/\(ConfigMapRolloutStore.objectName(prepared.plan.name))")]
        runner.onEvent = { [weak self] line in
            self?.logger.info("\(line)", metadata: ["patternrollout": "\(ns)/\(name)"])
            Task { [weak self] in await self?.mirrorRollout(object, store: store, name: prepared.plan.name, base: statusBase) }
        }
        await writeRolloutStatus(object, statusBase)
        do {
            let existing = try await store.load(prepared.plan.name)
            if let existing, !existing.phase.isFinal {
                if existing.phase == .running {
                    logger.info("driving the rollout", metadata: ["patternrollout": "\(ns)/\(name)", "revision": "\(existing.revision)"])
                    _ = try await runner.resume(prepared.plan.name, takeOver: true)
                }
            } else if existing == nil || existing?.revision != prepared.revision {
                logger.info("starting the rollout", metadata: ["patternrollout": "\(ns)/\(name)", "revision": "\(prepared.revision)"])
                _ = try await runner.start(prepared.plan, revision: prepared.revision)
            }
        } catch {
            if Task.isCancelled { return (true, interval) }
            await writeRolloutStatus(object, ["message": .string(error.message + (error.fix.map { " (fix: \($0))" } ?? ""))])
            logger.error("rollout failed to run", metadata: ["patternrollout": "\(ns)/\(name)", "error": "\(error.message)"])
            return (false, interval)
        }
        if Task.isCancelled { return (true, interval) }
        await mirrorRollout(object, store: store, name: prepared.plan.name, base: statusBase)
        return (true, interval)
    }

    /// What a round needs: the plan, its sites bound to their clusters, the render digest.
    struct PreparedRollout: Sendable {
        var plan: RolloutPlan
        var sites: ClusterRolloutSites
        var siteNames: [String]
        var revision: String
        var commit: String?
    }

    func prepareRollout(_ object: Value, _ spec: PatternRolloutResource.Spec) async throws(SpecError) -> PreparedRollout {
        let ns = object.metadataNamespace ?? "default", name = object.metadataName ?? ""
        // The source, as a PatternSync's (cache, mirrors, stale fallback).
        var tree: any SourceTree
        var commit: String? = nil
        var sourceURL = ""
        var urls: [String] = []
        switch spec.source.source {
        case .path(let p):
            guard FileSystem.isDirectory(p) else { throw SpecError("spec.source.path \(p) is not a directory on the controller") }
            tree = LocalTree(root: p)
            sourceURL = p
        case .git(let url, let ref, let path, let mirrors, let secret):
            var creds = GitCredentials.none
            if let secret {
                do { creds = try await reconciler.credentials(secret: secret, namespace: ns, owner: "rollout." + name) } catch {
                    throw SpecError("\(error)")
                }
            }
            let source = GitSource(url: url, mirrors: mirrors, ref: ref, path: path, credentials: creds, verify: spec.source.verify)
            let resolver = SourceResolver(cache: configuration.reconciler.cache)
            let r: Result<ResolvedSource, SourceError> = await offPool {
                do throws(SourceError) { return .success(try resolver.resolve(source)) } catch { return .failure(error) }
            }
            switch r {
            case .failure(let e): throw SpecError("cannot fetch \(url): \(e)")
            case .success(let resolved):
                tree = resolved.tree; commit = resolved.commit; sourceURL = resolved.url ?? url; urls = [url] + mirrors
            }
        }
        let planTree = tree
        let plan: RolloutPlan
        // The sites of a Validated Patterns repository are implied by its layout, as for the
        // CLI's `pattern rollout` and the render below.
        let planLayout = GitPatternResolver(resolver: SourceResolver(cache: configuration.reconciler.cache)).validatedPatternsLayout
        do {
            plan = try await BlockingExecutor.shared.run { () throws(Diagnostics) -> RolloutPlan in
                try RolloutFile.load(spec.rollout, workspace: Workspace(tree: planTree, layout: planLayout))
            }
        } catch {
            throw SpecError("rollouts/\(spec.rollout).yaml: " + error.items.prefix(5).map(\.description).joined(separator: "; "))
        }
        let names = plan.waves.flatMap(\.sites)
        // Each site through the oldest non-suspended PatternSync that reconciles it.
        var syncBySite: [String: Value] = [:]
        for o in known.all where !(o[path: ["spec", "suspend"]]?.bool ?? false) {
            guard let site = o[path: ["spec", "site"]]?.string else { continue }
            if let other = syncBySite[site],
               (other[path: ["metadata", "creationTimestamp"]]?.string ?? "") <= (o[path: ["metadata", "creationTimestamp"]]?.string ?? "") { continue }
            syncBySite[site] = o
        }
        let provenance = commit.map { Provenance(source: sourceURL, commit: $0, stale: false) }
        var sites: [String: ClusterSite] = [:]
        var revisions: [String] = []
        let identity = await client.identity()?.username ?? "unknown"
        for site in names {
            guard let sync = syncBySite[site] else {
                throw SpecError("no PatternSync reconciles site \(site) (a rollout reaches each site through its PatternSync); fix: create one with spec.site: \(site), or remove the site from rollouts/\(spec.rollout).yaml")
            }
            let syncSpec: PatternSyncSpec
            do { syncSpec = try PatternSyncSpec(spec: sync["spec"] ?? .null) } catch { throw SpecError("PatternSync \(PatternController.key(sync)): \(error.message)") }
            // The PatternSync renders from its own source: another repository, ref or path would
            // render another revision, and it would wait for (or undo) the rollout's forever.
            if let why = PatternRolloutResource.sourceMismatch(rollout: spec.source.source, sync: syncSpec.source) {
                throw SpecError("site \(site): PatternSync \(PatternController.key(sync)) takes its source from \(why); fix: give the PatternRollout and the sites' PatternSyncs the same spec.source")
            }
            let target: ClusterTarget
            do { target = try await reconciler.clusters.resolve(syncSpec.cluster) } catch {
                throw SpecError("site \(site): \(error.message)")
            }
            var recorder = SourceRecorder()
            var rendered: RenderedSite
            let cache = configuration.reconciler.cache
            // The site renders as its PatternSync renders it (`Reconciler.compileSite`): with the
            // PatternSync's source ref (a Validated Patterns site's global.targetRevision) and its
            // Validated Patterns chart choice, or the two would apply different revisions.
            func render(_ releases: ChartReleases, _ recorder: SourceRecorder) async throws(SpecError) -> RenderedSite {
                do {
                    return try await ControllerRender.compile(tree: planTree, site: site, cache: cache, treeProvenance: provenance,
                                                              repositoryURLs: urls, releases: releases, recorder: recorder,
                                                              multiSourceConfig: syncSpec.multiSourceConfig,
                                                              sourceRef: ControllerRender.sourceRef(syncSpec.source))
                } catch {
                    throw SpecError("cannot render site \(site): " + error.items.prefix(5).map(\.description).joined(separator: "; "))
                }
            }
            rendered = try await render(.install, recorder)
            let recordNamespace = sync[path: ["spec", "recordNamespace"]]?.string ?? rendered.apply.recordNamespace ?? syncSpec.recordNamespace
            // Chart components render as the site's PatternSync renders them: an upgrade where the
            // release's objects were applied before (Helm's rule), so both name the same revision.
            let choice = (try? await ChartChoice.read(rendered, records: RecordStore(client: target.client, namespace: recordNamespace),
                                                     identity: SiteIdentity(rendered, recordNamespace: recordNamespace))) ?? ChartChoice()
            let releases: ChartReleases
            (rendered, releases) = try await choice.render(installed: rendered) { (r: ChartReleases) throws(SpecError) -> RenderedSite in
                recorder = SourceRecorder()
                return try await render(r, recorder)
            }
            if rendered.provenance.commit == nil, let commit { rendered.provenance = Provenance(source: sourceURL, commit: commit, stale: false) }
            rendered.ignoreDifferences += syncSpec.ignoreDifferences
            var o = ApplyOptions()
            o.fieldManager = configuration.reconciler.fieldManager
            o.prune = syncSpec.prune
            o.pruneKinds = rendered.apply.pruneKinds.map { Set($0.map(GroupKind.parse)) }
            o.namespaces = rendered.apply.namespaces
            o.forceConflicts = syncSpec.driftPolicy == .heal
            o.waitTimeoutSeconds = syncSpec.timeoutSeconds
            o.pollIntervalSeconds = configuration.reconciler.waitPollSeconds
            o.render = ControllerRender.record(spec.source.source, commit: commit, recorder: recorder, releases: releases,
                                               multiSourceConfig: syncSpec.multiSourceConfig)
            o.client = LedgerEntry.Client(user: identity, host: "", tool: ControllerRender.tool, version: PatternVersion.current)
            sites[site] = ClusterSite(rendered: rendered, engine: ApplyEngine(client: target.client, recordNamespace: recordNamespace), options: o)
            revisions.append(site + "=" + rendered.revision)
        }
        let cache = configuration.reconciler.cache
        let clusterSites = ClusterRolloutSites(sites: sites, revert: { site, cs, revision in
            await PatternController.revert(site: site, cs, to: revision, cache: cache)
        })
        // The digest of the sites' renders names the rollout's revision, as `pattern rollout start` does.
        let digest = "sha256:" + SHA256.hex(revisions.sorted().joined(separator: "\n"))
        return PreparedRollout(plan: plan, sites: clusterSites, siteNames: names, revision: digest, commit: commit)
    }

    /// Returns a site to `revision` from its ledger: the latest succeeded entry with that revision,
    /// rendered again from the source cache (`ControllerRender.rerender`), applied and recorded
    /// as a rollback of that entry.
    static func revert(site: String, _ cs: ClusterSite, to revision: String, cache: SourceCache) async -> SiteStep {
        do {
            let ledger = try await cs.engine.records.loadLedger(SiteIdentity(cs.rendered, recordNamespace: cs.engine.records.namespace))
            guard let entry = ledger.entries.last(where: { $0.revision == revision && $0.result == .succeeded }) else {
                return .failed("no succeeded ledger entry of \(site) has revision \(Revision.short(revision))")
            }
            let rendered: RenderedSite? = try await BlockingExecutor.shared.run { () throws(Diagnostics) -> RenderedSite? in
                try ControllerRender.rerender(entry, site: site, cache: cache)
            }
            guard let rendered else {
                return .failed("entry \(entry.seq) of \(site) was not applied by the controller from git; fix: `pattern rollback \(site) --to \(entry.seq)` from its checkout")
            }
            guard rendered.revision == revision else {
                return .failed("entry \(entry.seq) of \(site) renders to \(Revision.short(rendered.revision)), not \(Revision.short(revision))")
            }
            var o = cs.options
            o.render = entry.render
            o.rollbackOf = entry.seq
            let r = try await cs.engine.apply(rendered, options: o)
            return r.succeeded ? .ok(revision) : .failed("rollback to \(Revision.short(revision)) failed: \(r.failed.count) object(s) failed")
        } catch {
            return .failed("rollback to \(Revision.short(revision)) failed: \(error)")
        }
    }

    /// Copies the rollout state's summary into the PatternRollout's status (compact: phase,
    /// current wave, per-wave counts; the full view is `pattern rollout status`).
    func mirrorRollout(_ object: Value, store: ConfigMapRolloutStore, name: String, base: Value) async {
        guard let state = try? await store.load(name) else { return }
        var st = base
        st["phase"] = .string(state.phase.rawValue)
        st["message"] = state.message.map { .string($0) } ?? .null
        st["currentWave"] = state.currentWave.map { .string(state.waves[$0].name) } ?? .null
        var waves: [Value] = []
        for w in state.waves {
            var counts = Object()
            for s in w.sites { counts[s.status.rawValue] = .int((counts[s.status.rawValue]?.int ?? 0) + 1) }
            waves.append(["name": .string(w.name), "phase": .string(w.phase.rawValue), "sites": .object(counts)])
        }
        st["waves"] = .array(waves)
        await writeRolloutStatus(object, st)
    }

    func writeRolloutStatus(_ object: Value, _ status: Value) async {
        var st = status
        st["observedGeneration"] = object[path: ["metadata", "generation"]] ?? .null
        st["lastUpdateTime"] = .string(Timestamp.rfc3339())
        _ = try? await client.patch(PatternRolloutResource.gvk, name: object.metadataName ?? "", namespace: object.metadataNamespace,
                                    patch: ["status": st], type: .merge, fieldManager: "pattern-controller", subresource: "status")
    }
}
