import PatternCore
import PatternCompile
import PatternSource
import PatternApply
import PatternRecord
import PatternDiff
import KubeClient
import Dispatch
#if canImport(Glibc)
import Glibc
import ValidatedPatterns
import Helm
#endif

/// What the loop does after a reconcile.
public struct ReconcileOutcome: Sendable {
    public enum Result: String, Sendable { case success, failure, stalled, suspended, cancelled }
    public var result: Result
    /// Failed at this stage (spec, source, render, drift, apply, status).
    public var stage: String?
    /// The owner label selector and kinds to watch for drift (after a successful render).
    public var watch: (selector: String, kinds: [GroupVersionKind])?
    public var intervalSeconds: Double?
    /// The status as written (or as it was, when nothing changed).
    public var status: Value? = nil
}

extension ReconcileOutcome {
    static let cancelled = ReconcileOutcome(result: .cancelled, stage: nil, watch: nil, intervalSeconds: nil)
}

/// What a reconcile's apply step tells its caller (`Reconciler.reconcile(onApply:)`), so the
/// caller can tell the watch events of the apply's own writes from everyone else's.
public enum ReconcileApplyEvent: Sendable {
    /// The apply is about to write.
    case started
    /// The apply ended: its result, whose outcomes carry the resourceVersion of every object it
    /// wrote (nil: it failed before it could report one).
    case finished(ApplyResult?)
}

/// Settings shared by every reconcile.
public struct ReconcilerSettings: Sendable {
    public var cache: SourceCache
    public var fieldManager = "pattern"
    /// Poll interval of readiness waits during apply.
    public var waitPollSeconds: Double = 1
    /// Where credentials read from Secrets are written for libgit2 (0600 files).
    public var credentialsDirectory: String
    public init(cache: SourceCache) {
        self.cache = cache
        self.credentialsDirectory = cache.directory + "/controller-credentials"
    }
}

/// One reconcile of one PatternSync: source → render → drift → apply (ordered, waits) →
/// prune (guarded) → record (by the engine) → status and events.
///
/// Never applies after a failed source or render; never prunes when the source is stale.
/// The apply step runs in its own task so cancelling the loop (shutdown, lost leadership)
/// does not interrupt it between writing objects and recording the inventory.
public struct Reconciler: Sendable {
    public let client: KubeClient
    public let settings: ReconcilerSettings
    public let metrics: MetricsRegistry
    public let events: EventRecorder
    /// Remote clusters (`spec.cluster`, `spec.clusterSelector`) and their cached clients.
    public let clusters: ClusterRegistry
    /// The PatternSyncs naming a site (`spec.site` or `status.inventory.site`) as the
    /// controller's watch last saw them (nil: list them from the hub). One-PatternSync-per-site
    /// checks read this index instead of every PatternSync on every reconcile, which at fleet
    /// size would read N objects N times.
    public var knownSyncs: (@Sendable (_ site: String) -> [Value])? = nil
    /// The PatternRollout (`namespace/name`) holding a site, if any: its PatternSync applies only
    /// the revision the rollout last applied there, and waits for newer ones.
    public var rolloutHolding: (@Sendable (String) -> String?)? = nil

    /// `client` is the hub: PatternSyncs, their status and Events, credentials Secrets and cluster
    /// Secrets. A PatternSync's objects, inventory and ledger go to its destination cluster
    /// (`clusters`; the hub itself when the PatternSync names none).
    public init(client: KubeClient, settings: ReconcilerSettings, metrics: MetricsRegistry, events: EventRecorder,
                clusters: ClusterRegistry? = nil) {
        self.client = client; self.settings = settings; self.metrics = metrics; self.events = events
        self.clusters = clusters ?? ClusterRegistry(hub: client, namespace: "pattern-system")
    }

    public static let maxDriftedListed = 20

    /// Reconciles one PatternSync. `onRendered` gets the owner selector and kinds as soon as the
    /// render is known (before drift and apply), so watches can start before the cluster is read.
    /// `onTarget` gets the destination cluster as soon as it is resolved (the watches go there).
    /// `onApply` hears when an apply starts and what it wrote (see `ReconcileApplyEvent`).
    public func reconcile(_ object: Value, onTarget: @Sendable (ClusterTarget) -> Void = { _ in },
                          onApply: @Sendable (ReconcileApplyEvent) -> Void = { _ in },
                          onRendered: @Sendable (_ selector: String, _ kinds: [GroupVersionKind]) -> Void = { _, _ in }) async -> ReconcileOutcome {
        let started = monotonic()
        let ns = object.metadataNamespace ?? "default"
        let name = object.metadataName ?? ""
        let labels = [("namespace", ns), ("name", name)]
        let generation = object[path: ["metadata", "generation"]]?.int ?? 0
        var status = StatusBuilder(previous: object["status"] ?? .emptyObject, generation: generation)
        var outcome = await run(object, status: &status, onTarget: onTarget, onApply: onApply, onRendered: onRendered)
        if outcome.result == .cancelled {
            // Stopped before anything was written: the next leader (or run) starts over.
            metrics.add(ControllerMetrics.reconcileTotal, labels + [("result", "cancelled")])
            return outcome
        }
        status.value["lastReconcileTime"] = .string(Timestamp.rfc3339())
        if outcome.result != .success { status.value["lastError"] = status.value["lastError"] ?? .null } else { status.value["lastError"] = .null }
        // Not cancelled with the loop: after an apply, its status belongs with it.
        let finalStatus = status
        let written: Result<Void, KubeError> = await Task {
            let statusStart = monotonic()
            defer { metrics.observe(ControllerMetrics.stageDuration, labels + [("stage", "status")], monotonic() - statusStart) }
            do throws(KubeError) { try await writeStatus(object, finalStatus); return .success(()) } catch { return .failure(error) }
        }.value
        if case .failure = written {
            metrics.add(ControllerMetrics.reconcileErrors, labels + [("stage", "status")])
            if outcome.result == .success { outcome.result = .failure; outcome.stage = "status" }
        }
        outcome.status = status.value
        metrics.add(ControllerMetrics.reconcileTotal, labels + [("result", outcome.result.rawValue)])
        metrics.observe(ControllerMetrics.reconcileDuration, labels, monotonic() - started)
        if let stage = outcome.stage, outcome.result != .success {
            metrics.add(ControllerMetrics.reconcileErrors, labels + [("stage", stage)])
        } else if outcome.result == .success {
            metrics.set(ControllerMetrics.lastSuccess, labels, Double(Timestamp.now().seconds))
        }
        return outcome
    }

    func fail(_ object: Value, _ status: inout StatusBuilder, stage: String, reason: String, message: String,
              stalled: Bool = false, watch: (String, [GroupVersionKind])? = nil, interval: Double? = nil) async -> ReconcileOutcome {
        let message = PatternSyncAdvice.rewrite(message)
        status.condition("Ready", false, reason: reason, message: message)
        status.condition("Reconciling", false, reason: reason, message: "reconcile failed at the \(stage) stage")
        status.condition("Stalled", stalled, reason: stalled ? reason : "Retrying",
                         message: stalled ? message + " (retried at the interval or when the PatternSync or its source changes)" : "retrying with backoff")
        status.value["lastError"] = .string(message)
        await events.emit(object, .warning, reason: reason, message: message)
        return ReconcileOutcome(result: stalled ? .stalled : .failure, stage: stage, watch: watch.map { (selector: $0.0, kinds: $0.1) },
                                intervalSeconds: interval)
    }

    /// What one reconcile carries from step to step.
    struct Pass {
        let object: Value
        let spec: PatternSyncSpec
        let labels: [(String, String)]
        /// Where objects, inventory and ledger go (the hub unless spec.cluster/clusterSelector).
        var target: ClusterTarget
        var namespace: String { object.metadataNamespace ?? "default" }
        var name: String { object.metadataName ?? "" }
        // Source
        var tree: (any SourceTree)? = nil
        var commit: String? = nil
        var sourceURL = ""
        var stale = false
        var staleMessage = ""
        // Render
        var site: RenderedSite? = nil
        var recordNamespace = ""
        var identity = SiteIdentity(pattern: "", site: "")
        var watch: (String, [GroupVersionKind]) = ("", [])
        /// What the ledger entry records to render this pass again (`pattern rollback`).
        var render: LedgerEntry.Render? = nil
        // Drift and apply
        var drift: DriftReport? = nil
        var driftItems: [DriftItem] = []
        var missing: [ObjectKey] = []
        /// Objects of the last applied render that another site or pattern took (key → owner).
        var ownedElsewhere: [ObjectKey: String] = [:]
        var driftedKeys: Set<ObjectKey> = []
        var counts = (applied: 0, unchanged: 0, pruned: 0, failed: 0)
        var healed = false

        init(object: Value, spec: PatternSyncSpec, target: ClusterTarget) {
            self.object = object; self.spec = spec; self.target = target
            self.labels = [("namespace", object.metadataNamespace ?? "default"), ("name", object.metadataName ?? "")]
        }
    }

    /// One reconcile as named steps: spec → source → render → claim → drift (observe once) →
    /// apply (prune, record) → conditions. Each step returns an outcome to stop with, or nil.
    func run(_ object: Value, status: inout StatusBuilder, onTarget: @Sendable (ClusterTarget) -> Void,
             onApply: @Sendable (ReconcileApplyEvent) -> Void = { _ in }, onRendered: @Sendable (String, [GroupVersionKind]) -> Void) async -> ReconcileOutcome {
        let spec: PatternSyncSpec
        do { spec = try PatternSyncSpec(spec: object["spec"] ?? .null) } catch {
            return await fail(object, &status, stage: "spec", reason: "InvalidSpec", message: error.message, stalled: true)
        }
        if spec.suspend {
            status.condition("Reconciling", false, reason: "Suspended", message: "spec.suspend is true: nothing is fetched, applied or healed")
            return ReconcileOutcome(result: .suspended, stage: nil, watch: nil, intervalSeconds: nil)
        }
        await announceStep(object, &status)
        let (resolved, stop) = await clusterStep(object, spec, &status)
        guard let target = resolved else { return stop ?? .cancelled }
        onTarget(target)
        var pass = Pass(object: object, spec: spec, target: target)
        if let stop = await sourceStep(&pass, &status) { return stop }
        if let stop = await renderStep(&pass, &status, onRendered: onRendered) { return stop }
        if let stop = await claimStep(&pass, &status) { return stop }
        if let stop = await driftStep(&pass, &status) { return stop }
        if let stop = await applyStep(&pass, &status, onApply: onApply) { return stop }
        return await conditionsStep(pass, &status)
    }

    /// A new spec: say so before the (possibly long) work starts.
    func announceStep(_ object: Value, _ status: inout StatusBuilder) async {
        let observed = object[path: ["status", "observedGeneration"]]?.int
        if observed != status.generation {
            var progressing = status
            progressing.condition("Reconciling", true, reason: "Progressing", message: "reconciling generation \(status.generation)")
            try? await writeStatus(object, progressing)
            status.value["conditions"] = progressing.value["conditions"]
        }
    }

    /// Cluster: the destination's client (cached per cluster Secret). A cluster that cannot be
    /// resolved is a `ClusterReady` False condition and a retry with backoff; nothing is read
    /// or written anywhere else.
    func clusterStep(_ object: Value, _ spec: PatternSyncSpec, _ status: inout StatusBuilder) async -> (ClusterTarget?, ReconcileOutcome?) {
        if case .inCluster = spec.cluster {
            status.remove("ClusterReady")
            status.remove("ClusterTLSVerified")
            status.value["cluster"] = .null
            return (ClusterTarget(name: nil, client: client, insecure: false, generation: ""), nil)
        }
        do {
            let target = try await clusters.resolve(spec.cluster)
            if Task.isCancelled { return (nil, .cancelled) }
            status.value["cluster"] = ["name": .string(target.name ?? ""), "server": .string(target.client.config.server)]
            if target.insecure {
                status.condition("ClusterTLSVerified", false, reason: "InsecureSkipTLSVerify",
                                 message: "the cluster Secret of \(target.name ?? "?") turns TLS verification off (insecure: true); fix: set tlsClientConfig.caData (or the kubeconfig's certificate-authority-data) and remove insecure")
            } else {
                status.remove("ClusterTLSVerified")
            }
            return (target, nil)
        } catch {
            if Task.isCancelled { return (nil, .cancelled) }
            status.condition("ClusterReady", false, reason: error.reason.rawValue, message: error.message)
            return (nil, await fail(object, &status, stage: "cluster", reason: error.reason.rawValue, message: error.message,
                                    interval: spec.intervalSeconds))
        }
    }

    /// Source: the git tree at the resolved commit (or the cached last good commit: stale).
    func sourceStep(_ pass: inout Pass, _ status: inout StatusBuilder) async -> ReconcileOutcome? {
        let fetchStart = monotonic()
                switch pass.spec.source {
        case .path(let p):
            guard FileSystem.isDirectory(p) else {
                status.condition("SourceReady", false, reason: "PathNotFound", message: "pass.spec.source.path \(p) is not a directory on the controller")
                return await fail(pass.object, &status, stage: "source", reason: "SourceUnavailable", message: "pass.spec.source.path \(p) is not a directory")
            }
            pass.tree = LocalTree(root: p)
            pass.sourceURL = p
        case .git(let url, let ref, let path, let mirrors, let secret):
            var creds = GitCredentials.none
            if let secret {
                do { creds = try await credentials(secret: secret, namespace: pass.namespace, owner: pass.name) } catch {
                    if Task.isCancelled { return .cancelled }
                    status.condition("SourceReady", false, reason: "CredentialsUnavailable", message: "\(error)")
                    return await fail(pass.object, &status, stage: "source", reason: "SourceUnavailable", message: "\(error)")
                }
            }
            let source = GitSource(url: url, mirrors: mirrors, ref: ref, path: path, credentials: creds, verify: pass.spec.verify)
            let resolver = SourceResolver(cache: settings.cache)
            let r: Result<ResolvedSource, SourceError> = await offPool {
                do throws(SourceError) { return .success(try resolver.resolve(source)) } catch { return .failure(error) }
            }
            metrics.observe(ControllerMetrics.gitFetchDuration, pass.labels, monotonic() - fetchStart)
            metrics.observe(ControllerMetrics.stageDuration, pass.labels + [("stage", "source")], monotonic() - fetchStart)
            switch r {
            case .failure(let e):
                let msg = "cannot fetch \(url)\(ref.map { " at \($0)" } ?? ""): \(e)"
                status.condition("SourceReady", false, reason: "FetchFailed", message: msg + "; no cached commit to fall back on")
                return await fail(pass.object, &status, stage: "source", reason: "SourceUnavailable", message: msg)
            case .success(let resolved):
                pass.tree = resolved.tree
                pass.commit = resolved.commit
                pass.sourceURL = resolved.url ?? url
                pass.stale = resolved.stale
                if pass.stale {
                    pass.staleMessage = "every URL of \(url) failed (\(resolved.warnings.map(\.message).joined(separator: "; "))); using the last good commit \(pass.commit.map { String($0.prefix(12)) } ?? "?") from the cache; pruning is off until the source is back"
                }
            }
        }
        if Task.isCancelled { return .cancelled }
        var src: Value = ["url": .string(pass.sourceURL), "stale": .bool(pass.stale)]
        if let commit = pass.commit { src["commit"] = .string(commit) }
        status.value["source"] = src
        if pass.stale {
            status.condition("SourceReady", false, reason: "Stale", message: pass.staleMessage)
            await events.emit(pass.object, .warning, reason: "SourceStale", message: pass.staleMessage)
        } else {
            status.condition("SourceReady", true, reason: "Fetched",
                             message: pass.commit.map { "fetched commit \(String($0.prefix(12))) of \(pass.sourceURL)" } ?? "reading \(pass.sourceURL)")
        }

        return nil
    }

    /// Compiles the pass's site on the blocking executor (file reads, parsing and git patterns
    /// stay off the cooperative pool): Validated Patterns layouts, Argo CD Applications naming the
    /// source repository read this commit, a git source's commit goes into the objects'
    /// source-commit annotation (as a CLI apply of a git pattern does), and the PatternSync's own
    /// `ignoreDifferences` join the site's.
    func compileSite(_ pass: Pass, releases: ChartReleases = .install, recorder: SourceRecorder? = nil, helmReads: HelmClusterReads? = nil,
                     lookupMisses: LookupMisses? = nil) async throws(Diagnostics) -> RenderedSite {
        var urls: [String] = []
        if case .git(let url, _, _, let mirrors, _) = pass.spec.source { urls = [url] + mirrors }
        let treeProvenance = pass.commit.map { Provenance(source: pass.sourceURL, commit: $0, stale: pass.stale) }
        var site = try await ControllerRender.compile(tree: pass.tree!, site: pass.spec.site, cache: settings.cache, treeProvenance: treeProvenance,
                                                      repositoryURLs: urls, releases: releases, recorder: recorder,
                                                      multiSourceConfig: pass.spec.multiSourceConfig, sourceRef: ControllerRender.sourceRef(pass.spec.source),
                                                      helmReads: helmReads, lookupMisses: lookupMisses)
        site.ignoreDifferences += pass.spec.ignoreDifferences
        return site
    }

    /// Compiles the pass's site; when its charts read the cluster (`cluster.helm`: `lookup:
    /// live` or `capabilities: discover`), in the CLI's passes (`HelmClusterReader`: discovery,
    /// read-only GET/LISTs of what `lookup` asked for, bounded) against the PatternSync's
    /// target cluster. `lookup: replay` has no recording in the controller and answers `{}`.
    /// Read failures are render failures (nothing is applied).
    func compileReadingCluster(_ pass: Pass, releases: ChartReleases = .install, recorder: SourceRecorder? = nil) async throws(Diagnostics) -> RenderedSite {
        let site = try await compileSite(pass, releases: releases, recorder: recorder)
        guard site.helm.readsCluster, !site.chartComponents.isEmpty else { return site }
        let result: Result<RenderedSite, Diagnostics>
        do throws(Diagnostic) {
            (result, _) = try await HelmClusterReader.compile(site: pass.spec.site, settings: site.helm, client: pass.target.client,
                                                                reads: HelmClusterReads(site: pass.spec.site)) { reads, misses in
                do throws(Diagnostics) { return .success(try await compileSite(pass, releases: releases, recorder: recorder, helmReads: reads, lookupMisses: misses)) } catch {
                    return .failure(error)
                }
            }
        } catch { throw Diagnostics([error]) }
        return try result.get()
    }

    /// Render: the site from the tree; the owner selector and kinds go to the watches at once.
    func renderStep(_ pass: inout Pass, _ status: inout StatusBuilder, onRendered: @Sendable (String, [GroupVersionKind]) -> Void) async -> ReconcileOutcome? {
        let renderStart = monotonic()
        var site: RenderedSite
        var recorder = SourceRecorder()
        var releasesUsed = ChartReleases.install
        do {
            defer { metrics.observe(ControllerMetrics.stageDuration, pass.labels + [("stage", "render")], monotonic() - renderStart) }
            // On the blocking executor: file reads, parsing and git patterns stay off the cooperative pool.
            site = try await compileReadingCluster(pass, recorder: recorder)
        } catch {
            let text = error.items.prefix(5).map(\.description).joined(separator: "\n")
            return await fail(pass.object, &status, stage: "render", reason: "RenderFailed",
                              message: "cannot render site '\(pass.spec.site)'\(pass.commit.map { " at commit \(String($0.prefix(12)))" } ?? ""): \(text)",
                              stalled: true, interval: pass.spec.intervalSeconds)
        }
        if site.provenance.commit == nil, let commit = pass.commit {
            site.provenance = Provenance(source: pass.sourceURL, commit: commit, stale: pass.stale)
        }
        // spec.recordNamespace when set, else the site's apply.recordNamespace.
        pass.recordNamespace = pass.object[path: ["spec", "recordNamespace"]]?.string ?? site.apply.recordNamespace ?? pass.spec.recordNamespace
        pass.identity = SiteIdentity(site, recordNamespace: pass.recordNamespace)
        // Chart components an earlier successful apply installed render as upgrades (.Release, upgrade hooks).
        if !site.chartComponents.isEmpty {
            let choice = (try? await ChartChoice.read(site, records: RecordStore(client: pass.target.client, namespace: pass.recordNamespace),
                                                     identity: pass.identity)) ?? ChartChoice()
            if !choice.next.upgraded.isEmpty {
                let provenance = site.provenance
                do {
                    let p = pass
                    (site, releasesUsed) = try await choice.render(installed: site) { (releases: ChartReleases) throws(Diagnostics) -> RenderedSite in
                        recorder = SourceRecorder()
                        return try await compileReadingCluster(p, releases: releases, recorder: recorder)
                    }
                    site.provenance = provenance
                } catch {
                    return await fail(pass.object, &status, stage: "render", reason: "RenderFailed",
                                      message: "cannot render site '\(pass.spec.site)' as an upgrade: \(error)",
                                      stalled: true, interval: pass.spec.intervalSeconds)
                }
            }
        }
        pass.render = ControllerRender.record(pass.spec.source, commit: pass.commit, recorder: recorder, releases: releasesUsed,
                                              multiSourceConfig: pass.spec.multiSourceConfig)
        pass.watch = (pass.identity.labelSelector, Array(Set(site.objects.compactMap { $0.object.gvk })).sorted())
        status.value["lastAttemptedRevision"] = .string(site.revision)
        onRendered(pass.watch.0, pass.watch.1)
        pass.site = site

        return nil
    }

    /// Claim: one PatternSync per site (the oldest claim wins; the others stall).
    func claimStep(_ pass: inout Pass, _ status: inout StatusBuilder) async -> ReconcileOutcome? {
        if Task.isCancelled { return .cancelled }
        status.value["inventory"] = SiteClaims.inventoryStatus(pattern: pass.identity.pattern, site: pass.identity.site, recordNamespace: pass.recordNamespace,
                                                                cluster: pass.target.name)
        if let first = await earlierClaimant(pass.object, identity: pass.identity, recordNamespace: pass.recordNamespace, cluster: pass.target.name) {
            return await fail(pass.object, &status, stage: "ownership", reason: "OwnedByAnotherPatternSync",
                              message: "site \(pass.identity.site) of pattern \(pass.identity.pattern) is already reconciled by \(first) (created first); this PatternSync changes nothing while that one exists and is not suspended",
                              stalled: true, interval: pass.spec.intervalSeconds)
        }

        return nil
    }

    /// Drift against the last applied render; its observation is reused by the apply step.
    func driftStep(_ pass: inout Pass, _ status: inout StatusBuilder) async -> ReconcileOutcome? {
        let site = pass.site!
        let drift: DriftReport
        let engine = ApplyEngine(client: pass.target.client, recordNamespace: pass.recordNamespace)
        let driftStart = monotonic()
        do {
            defer { metrics.observe(ControllerMetrics.stageDuration, pass.labels + [("stage", "drift")], monotonic() - driftStart) }
            drift = try await engine.drift(site, fieldManager: settings.fieldManager,
                                           namespaces: site.apply.namespaces ?? Reconciler.observeNamespaces(site))
        } catch {
            if Task.isCancelled { return .cancelled }
            let message = "cannot read the live objects of \(pass.identity.pattern)/\(pass.identity.site)\(pass.target.name.map { " in cluster \($0)" } ?? ""): \(error)"
            if pass.target.name != nil {
                status.condition("ClusterReady", false, reason: ClusterError.Reason.clusterUnreachable.rawValue, message: message)
                return await fail(pass.object, &status, stage: "drift", reason: ClusterError.Reason.clusterUnreachable.rawValue, message: message, watch: pass.watch)
            }
            return await fail(pass.object, &status, stage: "drift", reason: "ClusterUnavailable", message: message, watch: pass.watch)
        }
        if let name = pass.target.name {
            status.condition("ClusterReady", true, reason: "Connected", message: "reached cluster \(name) at \(pass.target.client.config.server)")
        }
        if Task.isCancelled { return .cancelled }
        let upToDate = drift.lastAppliedRevision == site.revision
        pass.driftItems = upToDate ? drift.items : []
        pass.missing = upToDate ? drift.missing : []
        pass.ownedElsewhere = upToDate ? drift.ownedElsewhere : [:]
        pass.driftedKeys = Set(pass.driftItems.map(\.key)).union(pass.missing).union(pass.ownedElsewhere.keys)
        status.value["drifted"] = Reconciler.driftList(pass.driftItems, missing: pass.missing, ownedElsewhere: pass.ownedElsewhere)
        metrics.set(ControllerMetrics.drifted, pass.labels, Double(pass.driftedKeys.count))

        pass.drift = drift
        return nil
    }

    /// Most namespaces a site's namespaced objects may span for drift to list them namespace by
    /// namespace instead of cluster-wide.
    static let maxScopedNamespaces = 4

    /// The namespaces drift lists namespaced kinds in when the site declares none: the ones its
    /// objects live in, when there are at most `maxScopedNamespaces` (nil: cluster-wide). A
    /// cluster-wide LIST by the owner label returns every site's objects of that kind, so with
    /// many sites on one cluster each reconcile would read all of them (N sites × N); scoped,
    /// it reads its own (and anything another site put in its namespaces, which the ownership
    /// check needs). The inventory's namespaces are added by the observer.
    static func observeNamespaces(_ site: RenderedSite) -> [String]? {
        var namespaces = Set<String>()
        for o in site.objects where !o.key.namespace.isEmpty {
            namespaces.insert(o.key.namespace)
            if namespaces.count > maxScopedNamespaces { return nil }
        }
        return namespaces.isEmpty ? nil : namespaces.sorted()
    }

    /// Apply (with prune and record) when the render is new or drift must be healed.
    func applyStep(_ pass: inout Pass, _ status: inout StatusBuilder, onApply: @Sendable (ReconcileApplyEvent) -> Void = { _ in }) async -> ReconcileOutcome? {
        let site = pass.site!
        let drift = pass.drift!
        let engine = ApplyEngine(client: pass.target.client, recordNamespace: pass.recordNamespace)
        let upToDate = drift.lastAppliedRevision == site.revision
        let mustApply = !upToDate || (!pass.driftedKeys.isEmpty && pass.spec.driftPolicy == .heal)
        if !upToDate, let rollout = rolloutHolding?(pass.spec.site) {
            let has = drift.lastAppliedRevision.map { Renderer.shortRevision($0) } ?? "nothing yet"
            return await fail(pass.object, &status, stage: "rollout", reason: "WaitingForRollout",
                              message: "site \(pass.spec.site) is rolled out by PatternRollout \(rollout): revision \(Renderer.shortRevision(site.revision)) reaches it in its wave (the site has \(has)); see `pattern rollout status`",
                              stalled: true, watch: pass.watch, interval: pass.spec.intervalSeconds)
        }
        if mustApply {
            var options = ApplyOptions()
            options.fieldManager = settings.fieldManager
            // The engine never prunes on a stale source (pruneStale stays off).
            options.prune = pass.spec.prune
            options.pruneKinds = site.apply.pruneKinds.map { Set($0.map(GroupKind.parse)) }
            options.namespaces = site.apply.namespaces
            options.forceConflicts = pass.spec.driftPolicy == .heal
            options.waitTimeoutSeconds = pass.spec.timeoutSeconds
            options.pollIntervalSeconds = settings.waitPollSeconds
            options.render = pass.render
            // The ledger names the controller's Kubernetes identity (its ServiceAccount), asked once per apply.
            options.client = LedgerEntry.Client(user: await pass.target.client.identity()?.username ?? "unknown", host: "",
                                                tool: "pattern-controller", version: PatternVersion.current)
            let observed = pass.drift?.observed
            let applyOptions = options, applySite = site
            onApply(.started)
            // Not cancelled with the loop: writes and the inventory record stay together.
            let applyStart = monotonic()
            let applied: Result<ApplyResult, ApplyError> = await Task {
                do throws(ApplyError) { return .success(try await engine.apply(applySite, options: applyOptions, observed: observed)) } catch { return .failure(error) }
            }.value
            if case .success(let r) = applied { onApply(.finished(r)) } else { onApply(.finished(nil)) }
            metrics.observe(ControllerMetrics.stageDuration, pass.labels + [("stage", "apply")], monotonic() - applyStart)
            let result: ApplyResult
            switch applied {
            case .success(let r): result = r
            case .failure(let e):
                let (reason, stalled): (String, Bool)
                var message = e.description
                switch e.kind {
                case .pruneRefused: (reason, stalled) = ("PruneRefused", true)
                case .planFailed: (reason, stalled) = ("PlanFailed", true)
                case .ownedByOther:
                    (reason, stalled) = ("ObjectsOwnedElsewhere", true)
                    message += await Reconciler.managersOf(e, client: client)
                case .managedByController: (reason, stalled) = ("OwnedByAnotherPatternSync", true)
                case .inventoryUnreadable: (reason, stalled) = ("InventoryUnreadable", false)
                case .clusterUnavailable: (reason, stalled) = (pass.target.name == nil ? "ClusterUnavailable" : ClusterError.Reason.clusterUnreachable.rawValue, false)
                }
                return await fail(pass.object, &status, stage: "apply", reason: reason, message: message, stalled: stalled,
                                  watch: pass.watch, interval: stalled ? pass.spec.intervalSeconds : nil)
            }
            pass.counts.applied = result.count(.created) + result.count(.configured)
            pass.counts.unchanged = result.count(.unchanged)
            pass.counts.pruned = result.count(.pruned)
            pass.counts.failed = result.count(.failed) + result.count(.notAttempted)
            pass.healed = !pass.driftedKeys.isEmpty && pass.spec.driftPolicy == .heal && result.succeeded
            if pass.counts.applied > 0 {
                let names = result.outcomes.filter { $0.status == .created || $0.status == .configured }.prefix(10).map(\.key.description)
                let what = "\(pass.counts.applied) objects of revision \(Renderer.shortRevision(site.revision))"
                    + "\(pass.commit.map { " (commit \(String($0.prefix(12))))" } ?? ""): \(names.joined(separator: ", "))\(pass.counts.applied > 10 ? ", …" : "")"
                if pass.healed {
                    await events.emit(pass.object, .normal, reason: "DriftHealed",
                                      message: "put back \(what); drift was: " + Reconciler.driftSummary(pass.driftItems, missing: pass.missing, ownedElsewhere: pass.ownedElsewhere))
                } else {
                    await events.emit(pass.object, .normal, reason: "Applied", message: "applied \(what)")
                }
            }
            if pass.counts.pruned > 0 {
                let names = result.outcomes.filter { $0.status == .pruned }.prefix(10).map(\.key.description)
                await events.emit(pass.object, .normal, reason: "Pruned", message: "pruned \(pass.counts.pruned) objects no longer rendered: \(names.joined(separator: ", "))")
            }
            if let recordError = result.recordError, result.failed.isEmpty {
                setCounts(&status, pass.counts, drifted: pass.driftedKeys.count, total: site.objects.count, labels: pass.labels)
                return await fail(pass.object, &status, stage: "record", reason: "RecordFailed", message: recordError, watch: pass.watch)
            }
            if !result.succeeded {
                let failed = result.failed.prefix(5).map { "\($0.key): \($0.message ?? "failed")" }.joined(separator: "; ")
                setCounts(&status, pass.counts, drifted: pass.driftedKeys.count, total: site.objects.count, labels: pass.labels)
                return await fail(pass.object, &status, stage: "apply", reason: "ApplyFailed",
                                  message: "\(result.failed.count) objects failed: \(failed)", watch: pass.watch)
            }
            status.value["lastAppliedRevision"] = .string(site.revision)
            status.value["lastAppliedCommit"] = pass.commit.map { .string($0) } ?? .null
        } else {
            // Counts describe the last apply that changed something, not this no-op (objects and
            // drifted stay current); the first pass after a restart with none recorded counts all unchanged.
            let last = status.value["counts"]
            if let a = last?["applied"]?.int, let u = last?["unchanged"]?.int, let p = last?["pruned"]?.int, let f = last?["failed"]?.int {
                pass.counts = (a, u, p, f)
            } else {
                pass.counts.unchanged = site.objects.count - pass.driftedKeys.count
            }
            // Not applied by this PatternSync but at this revision (first reconcile, or a
            // PatternRollout applied it): status says what is live.
            if status.value["lastAppliedRevision"]?.string != site.revision {
                status.value["lastAppliedRevision"] = .string(site.revision)
                status.value["lastAppliedCommit"] = pass.commit.map { .string($0) } ?? .null
            }
        }
        setCounts(&status, pass.counts, drifted: pass.healed ? 0 : pass.driftedKeys.count, total: site.objects.count, labels: pass.labels)

        return nil
    }

    /// Conditions and the success outcome.
    func conditionsStep(_ pass: Pass, _ status: inout StatusBuilder) async -> ReconcileOutcome {
        let site = pass.site!
        if pass.driftedKeys.isEmpty {
            status.condition("Drifted", false, reason: "InSync", message: "live objects match the last applied render")
        } else if pass.healed {
            status.condition("Drifted", false, reason: "Healed", message: "put back \(pass.driftedKeys.count) drifted objects: " + Reconciler.driftSummary(pass.driftItems, missing: pass.missing, ownedElsewhere: pass.ownedElsewhere))
        } else {
            let msg = "\(pass.driftedKeys.count) objects differ from the last applied render: " + Reconciler.driftSummary(pass.driftItems, missing: pass.missing, ownedElsewhere: pass.ownedElsewhere)
                + " (driftPolicy is report: set it to heal to put them back, or commit the change to the pattern repo)"
            status.condition("Drifted", true, reason: "DriftDetected", message: msg)
            let previous = pass.object["status"].flatMap { StatusBuilder.conditionOf($0, "Drifted") }
            if previous?["status"]?.string != "True" || previous?["message"]?.string != msg {
                await events.emit(pass.object, .warning, reason: "DriftDetected", message: msg)
            }
        }
        if pass.healed { status.value["drifted"] = .null }
        let rev = Renderer.shortRevision(site.revision)
        if pass.stale {
            status.condition("Ready", false, reason: "SourceStale", message: "applied revision \(rev) from the last good commit; \(pass.staleMessage)")
        } else {
            status.condition("Ready", true, reason: "ReconciliationSucceeded",
                             message: "applied revision \(rev)\(pass.commit.map { " (commit \(String($0.prefix(12))))" } ?? "") of site \(pass.spec.site): \(site.objects.count) objects")
        }
        status.condition("Reconciling", false, reason: "Succeeded", message: "next reconcile in at most \(pass.spec.intervalSeconds)s")
        status.condition("Stalled", false, reason: "Succeeded", message: "")
        return ReconcileOutcome(result: .success, stage: nil, watch: (selector: pass.watch.0, kinds: pass.watch.1), intervalSeconds: pass.spec.intervalSeconds)
    }

    /// The oldest other non-suspended PatternSync that claims the same site, if it is older
    /// than `object` (it keeps the site; `object` stalls).
    func earlierClaimant(_ object: Value, identity: SiteIdentity, recordNamespace: String, cluster: String?) async -> SiteClaims.Claimant? {
        let all: [SiteClaims.Claimant]
        if let knownSyncs {
            all = SiteClaims.claimants(in: knownSyncs(identity.site), pattern: identity.pattern, site: identity.site, recordNamespace: recordNamespace, cluster: cluster)
        } else {
            guard let listed = try? await SiteClaims.claimants(client, pattern: identity.pattern, site: identity.site, recordNamespace: recordNamespace,
                                                               cluster: cluster) else { return nil }
            all = listed
        }
        let me = SiteClaims.Claimant(namespace: object.metadataNamespace ?? "", name: object.metadataName ?? "", suspended: false,
                                     created: object[path: ["metadata", "creationTimestamp"]]?.string ?? "")
        return all.first { c in
            !c.suspended && !(c.namespace == me.namespace && c.name == me.name)
                && (c.created, c.namespace, c.name) < (me.created, me.namespace, me.name)
        }
    }

    /// " (reconciled by PatternSync ns/name)" for the owners named in an ownership refusal.
    static func managersOf(_ e: ApplyError, client: KubeClient) async -> String {
        let owners = Set(e.owners)
        var parts: [String] = []
        for owner in owners.sorted() {
            let ps = owner.split(separator: "/", maxSplits: 1)
            guard ps.count == 2, let c = try? await SiteClaims.claimants(client, pattern: String(ps[0]), site: String(ps[1]), recordNamespace: nil)
                .first(where: { !$0.suspended }) else { continue }
            parts.append("\(owner) is reconciled by \(c)")
        }
        return parts.isEmpty ? "" : " (" + parts.joined(separator: "; ") + ")"
    }

    func setCounts(_ status: inout StatusBuilder, _ c: (applied: Int, unchanged: Int, pruned: Int, failed: Int), drifted: Int, total: Int,
                   labels: [(String, String)]) {
        status.value["counts"] = ["objects": .int(total), "applied": .int(c.applied), "unchanged": .int(c.unchanged),
                                  "pruned": .int(c.pruned), "drifted": .int(drifted), "failed": .int(c.failed)]
        for (state, n) in [("applied", c.applied), ("unchanged", c.unchanged), ("pruned", c.pruned), ("drifted", drifted), ("failed", c.failed)] {
            metrics.set(ControllerMetrics.objects, labels + [("state", state)], Double(n))
        }
    }

    /// `status.drifted`: deleted objects, objects another site or pattern took (with that
    /// owner), then changed fields with who changed them; at most `maxDriftedListed` entries.
    static func driftList(_ items: [DriftItem], missing: [ObjectKey], ownedElsewhere: [ObjectKey: String] = [:]) -> Value {
        var out: [Value] = []
        for k in missing.prefix(maxDriftedListed) {
            out.append(["object": .string(k.description), "change": "deleted"])
        }
        for (k, owner) in ownedElsewhere.sorted(by: { $0.key < $1.key }) where out.count < maxDriftedListed {
            out.append(["object": .string(k.description), "change": "ownedElsewhere", "owner": .string(owner)])
        }
        for i in items where out.count < maxDriftedListed {
            var v: Value = ["object": .string(i.key.description), "field": .string(i.path.description), "change": .string("\(i.kind)")]
            if let o = i.owners.first {
                v["manager"] = .string(o.manager)
                v["operation"] = .string(o.operation)
                if !o.time.isEmpty { v["time"] = .string(o.time) }
            }
            out.append(v)
        }
        return out.isEmpty ? .null : .array(out)
    }

    /// The drift in one line for conditions and events: the first five of each sort.
    static func driftSummary(_ items: [DriftItem], missing: [ObjectKey], ownedElsewhere: [ObjectKey: String] = [:]) -> String {
        var parts = missing.prefix(5).map { "\($0) deleted" }
        for (k, owner) in ownedElsewhere.sorted(by: { $0.key < $1.key }).prefix(5) {
            parts.append("\(k) owned by \(owner) (another site or pattern took it)")
        }
        for i in items.prefix(5) {
            parts.append("\(i.key) \(i.path)" + (i.owners.first.map { " changed by \($0.manager)\($0.time.isEmpty ? "" : " at \($0.time)")" } ?? ""))
        }
        let more = missing.count + ownedElsewhere.count + items.count - parts.count
        return parts.joined(separator: "; ") + (more > 0 ? "; and \(more) more" : "")
    }

    /// Writes `status` with a merge patch on the status subresource (skipped when nothing but
    /// the reconcile time changed).
    func writeStatus(_ object: Value, _ status: StatusBuilder) async throws(KubeError) {
        // A merge patch deletes keys set to null: compare without them.
        var a = Reconciler.withoutNulls(status.value), b = Reconciler.withoutNulls(object["status"] ?? .emptyObject)
        a["lastReconcileTime"] = nil; b["lastReconcileTime"] = nil
        if a == b { return }
        _ = try await client.patch(PatternSyncSpec.gvk, name: object.metadataName ?? "", namespace: object.metadataNamespace,
                                   patch: ["status": status.value], type: .merge, fieldManager: "pattern-controller", subresource: "status")
    }

    static func withoutNulls(_ v: Value) -> Value {
        guard let o = v.object else { return v }
        var out = Value.emptyObject
        for (k, x) in o where !x.isNull { out[k] = withoutNulls(x) }
        return out
    }

    /// Reads a git credentials Secret (keys: username, password or token, ssh-privatekey,
    /// ssh-publickey, ca.crt) into 0600 files libgit2 reads.
    func credentials(secret: String, namespace: String, owner: String) async throws -> GitCredentials {
        let s: Value
        do { s = try await client.get(GroupVersionKind(group: "", version: "v1", kind: "Secret"), name: secret, namespace: namespace) } catch {
            throw SpecError("cannot read the credentials Secret \(namespace)/\(secret): \(error.isNotFound ? "not found" : "\(error)")")
        }
        let dir = settings.credentialsDirectory + "/\(namespace).\(owner)"
        try FileSystem.makeDirectories(dir, mode: 0o700)
        func field(_ k: String) -> [UInt8]? {
            guard let b64 = s[path: ["data", k]]?.string else { return s[path: ["stringData", k]]?.string.map { Array($0.utf8) } }
            return Base64.decode(b64)
        }
        func store(_ k: String, _ file: String) throws -> String? {
            guard let b = field(k) else { return nil }
            let path = dir + "/" + file
            try FileSystem.writePrivate(path, b)
            return path
        }
        let user = field("username").map { String(decoding: $0, as: UTF8.self) }
        let token = try store("password", "token") ?? store("token", "token")
        return GitCredentials(username: user, tokenFile: token, sshKey: try store("ssh-privatekey", "id"),
                              sshPublicKey: try store("ssh-publickey", "id.pub"), caBundle: try store("ca.crt", "ca.crt"))
    }
}

/// Runs blocking work (libgit2) on the controller's `BlockingExecutor`, off the cooperative pool.
func offPool<T: Sendable>(_ body: @escaping @Sendable () -> T) async -> T {
    await BlockingExecutor.shared.run(body)
}

enum Renderer {
    static func shortRevision(_ r: String) -> String { "sha256:" + Revision.short(r) }
}
