import PatternCore
import PatternSource
import PatternApply
import KubeClient
import Logging
import Synchronization
#if canImport(Glibc)
import Glibc
#endif

/// How a `PatternController` runs.
public struct ControllerConfiguration: Sendable {
    /// Watch PatternSyncs in this namespace only (nil: every namespace).
    public var namespace: String?
    public var lease: LeaderElector.Config
    /// `host:port` for `/metrics` (nil: not served). Loopback by default in the CLI; widen it
    /// (`0.0.0.0:8080`) only where the network in front of it is trusted.
    public var metricsAddress: String?
    /// `host:port` for `/healthz`, `/livez` and `/readyz` (nil: served on `metricsAddress`).
    /// Probes carry no data, so this one may listen on every interface for the kubelet.
    public var healthAddress: String?
    public var reconciler: ReconcilerSettings
    /// Backoff after failures: `minBackoff · 2^(n-1)`, at most `maxBackoff`, plus up to 20% jitter.
    public var minBackoff: Double = 1
    public var maxBackoff: Double = 300
    /// Events on owned objects within this window start one reconcile.
    public var ownedDebounce: Double = 0.2
    /// Namespace of the cluster Secrets (nil: the Lease's namespace, i.e. the controller's own).
    public var clusterNamespace: String?
    /// Shards the PatternSyncs are spread over (`--shards`): 1 is one leader through the Lease
    /// `lease.name`; more gives each shard its own Lease `<lease.name>-shard-<i>`. See `ShardManager`.
    public var shards: Int = 1
    /// Reconciles running at once across all PatternSyncs (`--concurrent`).
    public var maxConcurrentReconciles: Int = 20
    /// Seconds between health polls and control checks of controller-driven rollouts.
    public var rolloutPollSeconds: Double = 5

    public init(lease: LeaderElector.Config, reconciler: ReconcilerSettings) {
        self.lease = lease
        self.reconciler = reconciler
    }
}

/// What started a reconcile (the `trigger` label of `pattern_reconcile_triggers_total`).
public enum ReconcileTrigger: String, Sendable, CaseIterable {
    /// The worker started (new PatternSync, or this instance became leader).
    case start
    /// `spec.interval` passed since the last reconcile.
    case interval
    /// The PatternSync's generation changed.
    case spec
    /// An object the site owns changed or was deleted (drift).
    case owned
    /// Backoff after a failed reconcile passed.
    case retry
    /// Someone asked for a reconcile now: the `pattern.dev/reconcile-requested-at` annotation
    /// changed (`pattern reconcile`, `pattern resume`, or any client that sets it).
    case requested
    /// A cluster Secret the PatternSync resolves to (or may now resolve to) was created,
    /// changed (rotated credentials) or deleted.
    case cluster
    /// The PatternRollout holding the site advanced (a wave or the rollout ended) while the
    /// PatternSync waited for it (`WaitingForRollout`).
    case rollout
}

/// The on-demand reconcile protocol, as Flux's `reconcile.fluxcd.io/requestedAt`: a client sets
/// the annotation to a new value (a timestamp by convention); the controller reconciles at once
/// and writes that value to `status.lastHandledReconcileAt`, so the client can tell when its
/// request was answered.
public enum ReconcileRequest {
    /// The annotation a client sets to ask for an immediate reconcile.
    public static let annotation = "pattern.dev/reconcile-requested-at"
    /// The status field that carries the last request value the controller reconciled for.
    public static let statusField = "lastHandledReconcileAt"

    /// The request value of a PatternSync object (nil: none).
    public static func requested(_ object: Value) -> String? {
        object[path: ["metadata", "annotations", annotation]]?.string
    }

    /// The request value the controller last answered (nil: none).
    public static func handled(_ object: Value) -> String? {
        object[path: ["status", statusField]]?.string
    }
}

/// The reconcile loop: leader election, a watch on PatternSyncs, one worker per PatternSync
/// (interval, spec changes and changes of owned objects trigger it; failures back off), and the
/// health and metrics endpoints. `run()` returns after `shutdown()` (or cancellation): the
/// current apply step is finished, workers stop, the Lease is released.
///
/// State lives behind a `Mutex`; triggers reach each worker as typed `ReconcileTrigger`s
/// through an `AsyncStream`.
public final class PatternController: Sendable {
    public let client: KubeClient
    public let configuration: ControllerConfiguration
    public let metrics: MetricsRegistry
    public let elector: LeaderElector
    /// Sharded mode (`configuration.shards > 1`): the shard Leases; nil with one leader.
    public let shardManager: ShardManager?
    /// One watch per destination cluster and kind, shared by the PatternSyncs rendering it.
    public let watches = SharedWatches()
    /// Bounds the reconciles running at once (`ControllerConfiguration.maxConcurrentReconciles`).
    public let limiter: ReconcileLimiter
    let reconciler: Reconciler
    let logger: Logger
    let stopSignal = StopSignal()
    let electionStop = StopSignal()
    /// Leadership terms, from the election to the reconcile loops.
    let terms = AsyncStream.makeStream(of: StopSignal.self, bufferingPolicy: .bufferingNewest(1))

    private struct State: Sendable {
        var ready = false
        var workers: [String: Worker] = [:]
        var healthServer: HealthServer?
        var metricsServer: HealthServer?
        /// The current leadership term (stopped when the Lease is lost).
        var term: StopSignal?
        /// Sharded mode: the shards this replica holds.
        var heldShards: Set<Int> = []
    }
    private let state = Mutex(State())
    /// Every PatternSync the watch delivered (by key), as last seen: a shard taken over starts
    /// its workers at once, and one-PatternSync-per-site checks read it instead of the hub.
    let known: KnownSyncs
    /// PatternRollouts: the sites they hold, and the ones this replica drives.
    let rollouts: RolloutDrivers

    public init(client: KubeClient, configuration: ControllerConfiguration, metrics: MetricsRegistry = ControllerMetrics.makeRegistry(),
                logger: Logger = Logger(label: "pattern.controller")) {
        self.client = client
        self.configuration = configuration
        self.metrics = metrics
        self.logger = logger
        self.elector = LeaderElector(client: client, config: configuration.lease)
        self.limiter = ReconcileLimiter(limit: configuration.maxConcurrentReconciles)
        self.shardManager = configuration.shards > 1 ? ShardManager(client: client, config: ShardManager.Config(lease: configuration.lease, shards: configuration.shards)) : nil
        let base = client.config
        let clusters = ClusterRegistry(hub: client, namespace: configuration.clusterNamespace ?? configuration.lease.namespace) { remote in
            var c = remote
            c.userAgent = base.userAgent
            c.retry = base.retry
            c.requestObserver = base.requestObserver
            return KubeClient(config: c)
        }
        var reconciler = Reconciler(client: client, settings: configuration.reconciler, metrics: metrics,
                                    events: EventRecorder(client: client, instance: configuration.lease.identity), clusters: clusters)
        // Watching one namespace, the cache lacks the others' claims: list them instead.
        let known = KnownSyncs(), rollouts = RolloutDrivers()
        self.known = known
        self.rollouts = rollouts
        if configuration.namespace == nil { reconciler.knownSyncs = { site in known.claiming(site: site) } }
        reconciler.rolloutHolding = { rollouts.holder(of: $0) }
        self.reconciler = reconciler
    }

    /// A client whose requests are counted in `metrics` (API request latency by method and code).
    public static func instrumentedClient(_ config: ClientConfig, metrics: MetricsRegistry) -> KubeClient {
        var c = config
        c.requestObserver = { method, status, seconds in
            metrics.add(ControllerMetrics.apiRequests, [("method", method), ("code", String(status))])
            metrics.observe(ControllerMetrics.apiLatency, [("method", method)], seconds)
        }
        return KubeClient(config: c)
    }

    /// One leader: holds the Lease. Sharded: holds shard 0 (which also serves VP Patterns).
    public var isLeader: Bool { shardManager == nil ? elector.isLeader : ownsShard(0) }
    /// The shards this replica reconciles now (`[0]` for the leader in single-leader mode).
    public var heldShards: Set<Int> {
        shardManager == nil ? (elector.isLeader ? [0] : []) : state.withLock { $0.heldShards }
    }
    func ownsShard(_ i: Int) -> Bool { state.withLock { $0.heldShards.contains(i) } }
    /// True when this replica reconciles the PatternSync `key` (always in single-leader mode:
    /// workers only run while the Lease is held).
    func owns(_ key: String) -> Bool {
        guard let m = shardManager else { return true }
        return ownsShard(ShardManager.shard(of: key, shards: m.config.shards))
    }
    public var isShuttingDown: Bool { stopSignal.isStopped }
    /// The port `/healthz`, `/livez` and `/readyz` are served on (after the endpoints started).
    public var healthPort: Int? { state.withLock { ($0.healthServer ?? $0.metricsServer)?.port } }
    /// The port `/metrics` is served on (after the endpoints started).
    public var metricsPort: Int? { state.withLock { $0.metricsServer?.port } }

    /// What `/healthz`, `/readyz` and `/metrics` answer.
    func respond(_ path: String, probes: Bool, metrics serveMetrics: Bool) -> HealthServer.Response {
        switch path {
        case "/healthz" where probes, "/livez" where probes:
            return isShuttingDown ? (503, "text/plain", "shutting down\n") : (200, "text/plain", "ok\n")
        case "/readyz" where probes:
            let r = state.withLock { $0.ready } && !isShuttingDown
            return r ? (200, "text/plain", isLeader ? "ok: leader\n" : "ok: standby\n") : (503, "text/plain", "not ready\n")
        case "/metrics" where serveMetrics:
            return (200, "text/plain; version=0.0.4; charset=utf-8", metrics.exposition())
        default:
            return (404, "text/plain", "not found\n")
        }
    }

    /// Binds the health and metrics endpoints (called by `run()`; call it first to learn the
    /// ports). Both serve connections concurrently on their own threads.
    public func startEndpoints() throws(SpecError) {
        let already = state.withLock { $0.healthServer != nil || $0.metricsServer != nil }
        if already { return }
        let probesApart = configuration.healthAddress != nil
        var m: HealthServer?
        var h: HealthServer?
        if let addr = configuration.metricsAddress {
            m = try HealthServer(address: addr, flag: "--metrics-addr") { [weak self] path in
                self?.respond(path, probes: !probesApart, metrics: true) ?? (503, "text/plain", "stopping\n")
            }
        }
        if probesApart, let addr = configuration.healthAddress {
            do {
                h = try HealthServer(address: addr, flag: "--health-addr") { [weak self] path in
                    self?.respond(path, probes: true, metrics: false) ?? (503, "text/plain", "stopping\n")
                }
            } catch {
                m?.stop()
                throw error
            }
        }
        state.withLock { $0.metricsServer = m; $0.healthServer = h }
    }

    /// Starts the endpoints (kept for callers of the earlier name).
    public func startEndpoint() throws(SpecError) { try startEndpoints() }

    func stopEndpoints() {
        let (m, h) = state.withLock { s -> (HealthServer?, HealthServer?) in
            defer { s.metricsServer = nil; s.healthServer = nil }
            return (s.metricsServer, s.healthServer)
        }
        m?.stop()
        h?.stop()
    }

    /// Asks the loops to stop: no new reconciles; the current one finishes its apply step;
    /// `run()` then releases the Lease.
    public func shutdown() {
        stopSignal.stop()
        let (workers, term) = state.withLock { ($0.workers.values.map { $0 }, $0.term) }
        term?.stop()
        terms.continuation.finish()
        for w in workers { w.stop() }
    }

    /// Runs everything until `shutdown()`: the endpoints, leader election and the reconcile
    /// loops (what `ControllerService.runUntilSignalled` runs as three services).
    public func run() async throws {
        // Every reconcile resolves sources: keep libgit2 set up rather than per operation.
        GitLibrary.retainForProcess()
        try startEndpoints()
        defer { stopEndpoints() }
        await withTaskGroup(of: Void.self) { group in
            group.addTask { await self.runElection() }
            await runReconcilers()
            // The workers are done: now the Lease may go.
            stopElection()
            await group.waitForAll()
        }
    }

    // MARK: Leader election

    /// Acquires and renews the Lease every `retryPeriod` until `stopElection()`, then releases
    /// it so a standby takes over at once. Each leadership term reaches `runReconcilers()`.
    public func runElection() async {
        if let m = shardManager { return await runShards(m) }
        logger.info("pattern controller starting", metadata: ["identity": "\(configuration.lease.identity)",
                                                             "lease": "\(configuration.lease.namespace)/\(configuration.lease.name)"])
        metrics.set(ControllerMetrics.leader, [], 0)
        while !electionStop.isStopped && !Task.isCancelled {
            let held = await elector.tryAcquireOrRenew()
            leadership(held)
            if !held, (try? await client.getIfPresent(LeaderElector.gvk, name: configuration.lease.name, namespace: configuration.lease.namespace)) != nil {
                state.withLock { $0.ready = true }
            }
            await electionStop.sleep(configuration.lease.retryPeriod)
        }
        // Not cancelled with the caller: a released Lease lets a standby take over at once.
        await Task { [elector] in await elector.release() }.value
        leadership(false)
        state.withLock { $0.ready = false }
        logger.info("pattern controller stopped")
    }

    /// Ends `runElection()` (after the reconcile loops finished: the Lease is held until then).
    public func stopElection() { electionStop.stop() }

    private func leadership(_ held: Bool) {
        let (started, ended) = state.withLock { s -> (StopSignal?, StopSignal?) in
            if held, s.term == nil {
                s.ready = true
                let t = StopSignal()
                s.term = t
                return (t, nil)
            }
            if !held, let t = s.term {
                s.term = nil
                return (nil, t)
            }
            return (nil, nil)
        }
        if let started {
            metrics.set(ControllerMetrics.leader, [], 1)
            logger.info("acquired the leader lease", metadata: ["identity": "\(configuration.lease.identity)"])
            terms.continuation.yield(started)
        }
        if let ended {
            ended.stop()
            metrics.set(ControllerMetrics.leader, [], 0)
            if !isShuttingDown { logger.warning("lost the leader lease; standing by") }
        }
    }

    // MARK: Shards

    /// Sharded mode: one term for the whole run (the PatternSync watch runs on every replica);
    /// each round takes, renews and hands back shard Leases, and workers follow the shards held.
    func runShards(_ m: ShardManager) async {
        logger.info("pattern controller starting", metadata: ["identity": "\(m.config.identity)", "shards": "\(m.config.shards)",
                                                             "leases": "\(m.config.namespace)/\(m.config.name)-shard-*"])
        metrics.set(ControllerMetrics.leader, [], 0)
        let term = StopSignal()
        state.withLock { $0.term = term; $0.ready = true }
        terms.continuation.yield(term)
        while !electionStop.isStopped && !Task.isCancelled {
            let round = await m.round()
            applyShards(round.held)
            for i in round.surplus { handOver(i, m) }
            metrics.set(ControllerMetrics.shardsHeld, [], Double(round.held.count))
            metrics.set(ControllerMetrics.replicas, [], Double(m.liveReplicas))
            await electionStop.sleep(m.config.retryPeriod)
        }
        applyShards([])
        // Not cancelled with the caller: released shards let the other replicas take over at once.
        await Task { await m.releaseAll() }.value
        metrics.set(ControllerMetrics.shardsHeld, [], 0)
        state.withLock { $0.ready = false }
        logger.info("pattern controller stopped")
    }

    /// Starts the workers of shards gained and stops those of shards lost (at once: another
    /// replica may take a lost shard once its Lease expires).
    func applyShards(_ held: Set<Int>) {
        guard let m = shardManager else { return }
        let (lost, gained) = state.withLock { s -> (Set<Int>, Set<Int>) in
            let lost = s.heldShards.subtracting(held), gained = held.subtracting(s.heldShards)
            s.heldShards = held
            return (lost, gained)
        }
        if lost.isEmpty && gained.isEmpty { return }
        let known = gained.isEmpty ? [] : self.known.all
        if !lost.isEmpty {
            let keys = state.withLock { s in s.workers.keys.filter { lost.contains(ShardManager.shard(of: $0, shards: m.config.shards)) } }
            for k in keys { remove(k, deleted: false) }
            logger.warning("lost shards; their PatternSyncs stopped here", metadata: ["shards": "\(lost.sorted())"])
        }
        if !gained.isEmpty {
            logger.info("acquired shards", metadata: ["shards": "\(gained.sorted())"])
            for o in known where gained.contains(ShardManager.shard(of: PatternController.key(o), shards: m.config.shards)) { upsert(o) }
        }
        metrics.set(ControllerMetrics.leader, [], held.contains(0) ? 1 : 0)
    }

    /// Hands a surplus shard back: no new reconciles, the current ones finish, then its Lease
    /// is released (renewed until then, so no one else starts on it early).
    func handOver(_ shard: Int, _ m: ShardManager) {
        m.beginRelease(shard)
        let workers = state.withLock { s -> [Worker] in
            s.heldShards.remove(shard)
            let keys = s.workers.keys.filter { ShardManager.shard(of: $0, shards: m.config.shards) == shard }
            return keys.compactMap { s.workers[$0] }
        }
        for w in workers { remove(w.key, deleted: false) }
        logger.info("handing a shard over to balance the replicas", metadata: ["shard": "\(shard)", "fairShare": "\(m.fairShare)"])
        Task {
            for w in workers { await w.finished() }
            await m.release(shard)
        }
    }

    /// Sharded mode: VP Patterns are served by the holder of shard 0 only.
    func serveVPPatternsWhenOwned() async {
        guard let m = shardManager else { return await serveVPPatterns() }
        while !Task.isCancelled && !isShuttingDown {
            if ownsShard(0) {
                await withTaskGroup(of: Void.self) { group in
                    group.addTask { [self] in await self.serveVPPatterns() }
                    group.addTask { [self] in
                        while !Task.isCancelled && !self.isShuttingDown && self.ownsShard(0) { await self.stopSignal.sleep(m.config.retryPeriod) }
                    }
                    _ = await group.next()
                    group.cancelAll()
                }
            } else {
                await stopSignal.sleep(m.config.retryPeriod)
            }
        }
    }

    // MARK: Reconcile loops

    /// Runs the reconcile loops during each leadership term, until `shutdown()`.
    public func runReconcilers() async {
        for await term in terms.stream {
            if isShuttingDown { break }
            await lead(term)
        }
        await stopWorkers()
    }

    /// Runs while this instance leads: until the term ends (lost Lease) or shutdown.
    func lead(_ term: StopSignal) async {
        await withTaskGroup(of: Void.self) { group in
            group.addTask { await term.sleep(.infinity) }
            group.addTask { [self] in await self.watchSyncs() }
            group.addTask { [self] in await self.serveVPPatternsWhenOwned() }
            group.addTask { [self] in await self.watchClusterSecrets() }
            group.addTask { [self] in await self.watchRollouts() }
            _ = await group.next()
            group.cancelAll()
        }
        // The election keeps renewing the Lease while the current applies finish, so no
        // standby starts reconciling the same resources before they are done.
        await stopWorkers()
    }

    func allWorkers() -> [Worker] { state.withLock { Array($0.workers.values) } }

    func stopWorkers() async {
        let all = state.withLock { s -> [Worker] in let w = Array(s.workers.values); s.workers.removeAll(); return w }
        for w in all { w.stop() }
        for w in all { await w.finished() }
    }

    /// Watches PatternSyncs and keeps one worker per resource.
    func watchSyncs() async {
        var failures = 0
        while !Task.isCancelled && !isShuttingDown {
            do {
                for try await ev in client.watchWithRelist(PatternSyncSpec.gvk, namespace: configuration.namespace, timeoutSeconds: 300) {
                    failures = 0
                    switch ev {
                    case .listed(let list):
                        let keys = Set(list.items.map(PatternController.key))
                        var byKey: [String: Value] = [:]
                        for o in list.items { byKey[PatternController.key(o)] = o }
                        known.replace(byKey)
                        for k in state.withLock({ Array($0.workers.keys) }) where !keys.contains(k) { remove(k) }
                        for o in list.items { upsert(o) }
                    case .event(let e):
                        switch e.type {
                        case .added, .modified: upsert(e.object)
                        case .deleted: remove(PatternController.key(e.object))
                        case .bookmark: break
                        }
                    }
                }
            } catch {
                failures += 1
                logger.error("cannot watch PatternSyncs (is the CRD installed?)", metadata: ["error": "\(error)"])
                await stopSignal.sleep(backoff(failures))
            }
        }
    }

    static func key(_ o: Value) -> String { "\(o.metadataNamespace ?? "")/\(o.metadataName ?? "")" }

    func upsert(_ o: Value) {
        let k = PatternController.key(o)
        if isShuttingDown { return }
        known.set(k, o)
        // Another replica's shard: it reconciles this one.
        if shardManager != nil && !owns(k) { return }
        let (w, created) = state.withLock { s -> (Worker, Bool) in
            if let w = s.workers[k] { return (w, false) }
            let w = Worker(key: k, object: o, controller: self)
            s.workers[k] = w
            return (w, true)
        }
        if created { w.start() } else { w.update(o) }
    }

    /// Stops the worker of `k`: the PatternSync was deleted, or (`deleted: false`) its shard
    /// went to another replica.
    func remove(_ k: String, deleted: Bool = true) {
        if deleted { known.set(k, nil) }
        guard let w = state.withLock({ $0.workers.removeValue(forKey: k) }) else { return }
        w.stop()
        // Every series of this PatternSync (namespace *and* name): one of the same name in
        // another namespace keeps its own. Again once the worker is done: a reconcile in its
        // apply step finishes and records metrics after the stop.
        let labels = Worker.labels(k)
        metrics.removeSeries(matching: labels)
        Task { [metrics] in
            await w.finished()
            metrics.removeSeries(matching: labels)
        }
        if deleted { logger.info("PatternSync deleted; its objects stay in the cluster", metadata: ["patternsync": "\(k)"]) }
    }

    func backoff(_ failures: Int) -> Double {
        let base = min(configuration.maxBackoff, configuration.minBackoff * pow(2, Double(max(0, failures - 1))))
        return base * (1 + Double.random(in: 0..<0.2))
    }
}

/// The loop of one PatternSync: a task that reads `ReconcileTrigger`s from an `AsyncStream`.
/// Spec and owned-object triggers are coalesced where they are produced (at most one of each
/// waits in the stream); interval and retry timers carry a generation so a stale timer is
/// ignored.
final class Worker: Sendable {
    enum Event: Sendable {
        case trigger(ReconcileTrigger)
        case timer(generation: Int, ReconcileTrigger)
    }

    let key: String
    let controller: PatternController
    private let events: AsyncStream<Event>
    private let continuation: AsyncStream<Event>.Continuation

    private struct State: Sendable {
        var object: Value
        var task: Task<Void, Never>?
        var timer: Task<Void, Never>?
        var timerGeneration = 0
        /// Kinds subscribed to in `controller.watches`, for `watchOwner` on `watchCluster`.
        var watched: Set<GroupVersionKind> = []
        var watchOwner = ""
        var watchCluster = ""
        /// The destination the watches read (its client changes when the cluster Secret does).
        var target: ClusterTarget?
        /// Triggers queued in the stream and not yet taken (coalescing).
        var queued: Set<ReconcileTrigger> = []
        /// Owned object identity → fingerprint of everything but status and server bookkeeping.
        var fingerprints: [String: Int] = [:]
        /// `stop()` was called: no new watch subscriptions (a reconcile in flight may still end).
        var stopped = false
        /// What this worker's applies wrote (see `isOwn`): object id → the resourceVersion its
        /// last write of it returned. At most one entry per object of the render.
        var ownWrites: [String: String] = [:]
        /// Objects its last apply pruned (their deletion events are its own).
        var ownPrunes: Set<String> = []
        /// An apply is running: changes seen meanwhile wait here (id → resourceVersion; nil: a
        /// deletion) until its result says which writes were its own.
        var heldDuringApply: [String: Seen]?

        /// Whether a change the watch delivered is this worker's own write: the resourceVersion
        /// its apply's write returned, or the deletion of an object its apply pruned.
        func isOwn(_ id: String, _ change: Seen) -> Bool {
            switch change {
            case .written(let rv?): return ownWrites[id] == rv
            case .written(nil): return false
            case .deleted: return ownPrunes.contains(id)
            }
        }

        /// A change the watch delivered: true when it is someone else's (it starts a
        /// reconcile). While an apply runs the change is held for its result instead.
        mutating func seen(_ id: String, _ change: Seen) -> Bool {
            if heldDuringApply != nil {
                heldDuringApply?[id] = change
                return false
            }
            let own = isOwn(id, change)
            if own && change == .deleted { ownPrunes.remove(id) }
            return !own
        }
    }
    /// A change of an owned object as a watch event delivers it.
    enum Seen: Sendable, Equatable {
        case written(resourceVersion: String?)
        case deleted
    }
    private let state: Mutex<State>

    init(key: String, object: Value, controller: PatternController) {
        self.key = key
        self.controller = controller
        self.state = Mutex(State(object: object))
        (events, continuation) = AsyncStream.makeStream(of: Event.self, bufferingPolicy: .unbounded)
    }

    var current: Value { state.withLock { $0.object } }
    /// The spec as last seen and the cluster the last reconcile resolved (nil: none yet).
    func stateSnapshot() -> (Value?, ClusterTarget?) { state.withLock { ($0.object["spec"], $0.target) } }

    /// The metric labels of a worker key (`namespace/name`).
    static func labels(_ key: String) -> [(String, String)] {
        let parts = key.split(separator: "/", omittingEmptySubsequences: false)
        return [("namespace", String(parts.first ?? "")), ("name", String(parts.last ?? ""))]
    }

    func start() {
        let t = Task { await self.loop() }
        state.withLock { $0.task = t }
    }

    /// Queues `trigger` unless one of its kind is already waiting.
    func trigger(_ trigger: ReconcileTrigger) {
        let fresh = state.withLock { $0.queued.insert(trigger).inserted }
        if fresh { continuation.yield(.trigger(trigger)) }
    }

    func update(_ o: Value) {
        let (changed, requested) = state.withLock { s -> (Bool, Bool) in
            let old = s.object[path: ["metadata", "generation"]]?.int
            let oldRequest = ReconcileRequest.requested(s.object)
            s.object = o
            let request = ReconcileRequest.requested(o)
            return (old != o[path: ["metadata", "generation"]]?.int,
                    request != nil && request != oldRequest && request != ReconcileRequest.handled(o))
        }
        if changed { trigger(.spec) } else if requested { trigger(.requested) }
    }

    func stop() {
        let tasks = state.withLock { s -> [Task<Void, Never>] in
            s.stopped = true
            defer { s.timer = nil }
            return [s.task, s.timer].compactMap { $0 }
        }
        unsubscribeAll()
        for t in tasks { t.cancel() }
        continuation.finish()
    }

    func finished() async { await state.withLock({ $0.task })?.value }

    /// Fires `trigger` after `seconds` unless another trigger comes first.
    private func schedule(_ trigger: ReconcileTrigger, after seconds: Double) {
        let (generation, old) = state.withLock { s -> (Int, Task<Void, Never>?) in
            s.timerGeneration += 1
            return (s.timerGeneration, s.timer)
        }
        old?.cancel()
        let t = Task { [continuation] in
            try? await Task.sleep(for: .seconds(max(0, min(seconds, 1e7))))
            if !Task.isCancelled { continuation.yield(.timer(generation: generation, trigger)) }
        }
        state.withLock { $0.timer = t }
    }

    func loop() async {
        let labels = Worker.labels(key)
        var trigger = ReconcileTrigger.start
        var failures = 0
        var iterator = events.makeAsyncIterator()
        while !Task.isCancelled && !controller.isShuttingDown {
            controller.metrics.add(ControllerMetrics.triggers, labels + [("trigger", trigger.rawValue)])
            controller.logger.debug("reconciling", metadata: ["patternsync": "\(key)", "trigger": "\(trigger.rawValue)"])
            // A slot first (`--concurrent`); the object is read after the wait, so it is current.
            guard await controller.limiter.acquire() else { return }
            let started = ContinuousClock.now
            let object = current
            // The request standing now is answered by this reconcile (recorded below).
            let request = ReconcileRequest.requested(object).flatMap { ReconcileRequest.handled(object) == $0 ? nil : $0 }
            var outcome = await controller.reconciler.reconcile(object, onTarget: { [weak self] target in
                self?.setTarget(target)
            }, onApply: { [weak self] progress in
                switch progress {
                case .started: self?.applyStarted()
                case .finished(let result): self?.applyFinished(result)
                }
            }) { [weak self] selector, kinds in
                self?.ensureWatches(selector: selector, kinds: kinds)
            }
            // An apply that never reported its end (cancelled): what it held is looked at now.
            if state.withLock({ $0.heldDuringApply != nil }) { applyFinished(nil) }
            controller.limiter.release()
            if outcome.result == .cancelled { return }
            // A suspended PatternSync was not reconciled: its request waits for the resume (as Flux).
            if let request, outcome.result != .suspended {
                outcome.status = await recordHandled(object, request, status: outcome.status ?? object["status"] ?? .emptyObject)
            }
            // Until the watch delivers it, remember what we wrote (the next reconcile compares with it).
            if let st = outcome.status { state.withLock { $0.object["status"] = st } }
            if let w = outcome.watch { ensureWatches(selector: w.selector, kinds: w.kinds) }
            let delay: Double
            switch outcome.result {
            case .success:
                failures = 0
                delay = outcome.intervalSeconds ?? 300
            case .failure:
                failures += 1
                delay = min(controller.backoff(failures), outcome.intervalSeconds ?? .infinity)
            case .stalled:
                failures = 0
                delay = outcome.intervalSeconds ?? 3600
            case .suspended:
                delay = 3600
            case .cancelled:
                return
            }
            report(object, outcome, trigger: trigger, duration: ContinuousClock.now - started, retryIn: outcome.result == .failure ? delay : nil)
            if Task.isCancelled || controller.isShuttingDown { break }
            schedule(outcome.result == .failure ? .retry : .interval, after: delay)
            // Wait for the next trigger; stale timers (a trigger came first) are skipped.
            var next: ReconcileTrigger?
            while next == nil {
                guard let ev = await iterator.next() else { return }
                switch ev {
                case .trigger(let t):
                    state.withLock { _ = $0.queued.remove(t) }
                    next = t
                case .timer(let generation, let t):
                    if state.withLock({ $0.timerGeneration == generation }) { next = t }
                }
            }
            state.withLock { $0.timerGeneration += 1; $0.timer?.cancel(); $0.timer = nil }
            trigger = next ?? .interval
            if trigger == .owned {
                // Let a burst of edits settle into one reconcile: triggers of the burst stay
                // coalesced until the reconcile starts.
                state.withLock { _ = $0.queued.insert(.owned) }
                try? await Task.sleep(for: .seconds(controller.configuration.ownedDebounce))
                state.withLock { _ = $0.queued.remove(.owned) }
            }
        }
    }

    /// One log line per reconcile (site, revision, duration, counts, result; the error text on
    /// failures) and the PatternSync's state metrics.
    func report(_ object: Value, _ outcome: ReconcileOutcome, trigger: ReconcileTrigger, duration: Duration, retryIn: Double?) {
        let labels = Worker.labels(key)
        let status = outcome.status ?? object["status"] ?? .emptyObject
        let site = object[path: ["spec", "site"]]?.string ?? ""
        let applied = status["lastAppliedRevision"]?.string ?? ""
        let attempted = status["lastAttemptedRevision"]?.string ?? applied
        let ready = StatusBuilder.conditionOf(status, "Ready")?["status"]?.string ?? "Unknown"
        let suspended = object[path: ["spec", "suspend"]]?.bool ?? false
        let ms = Double(duration.components.seconds) * 1000 + Double(duration.components.attoseconds) / 1e15

        var meta: Logger.Metadata = [
            "patternsync": "\(key)", "site": "\(site)", "revision": "\(Worker.shortRevision(attempted))",
            "trigger": "\(trigger.rawValue)", "result": "\(outcome.result.rawValue)", "durationMs": "\(Int(ms.rounded()))",
        ]
        if let commit = status[path: ["source", "commit"]]?.string { meta["commit"] = "\(commit.prefix(12))" }
        if let counts = status["counts"]?.object {
            for (k, v) in counts { if let n = v.int { meta[k] = "\(n)" } }
        }
        if let stage = outcome.stage { meta["stage"] = "\(stage)" }
        switch outcome.result {
        case .success, .suspended, .cancelled:
            controller.logger.info("reconciled", metadata: meta)
        case .failure, .stalled:
            meta["error"] = "\(status["lastError"]?.string ?? "reconcile failed at the \(outcome.stage ?? "?") stage")"
            if let retryIn { meta["retryInMs"] = "\(Int(retryIn * 1000))" }
            controller.logger.error("reconcile failed", metadata: meta)
        }

        let m = controller.metrics
        m.removeSeries(ControllerMetrics.syncInfo, matching: labels)
        m.set(ControllerMetrics.syncInfo, labels + [("site", site), ("revision", Worker.shortRevision(applied)),
                                                     ("ready", ready), ("suspended", suspended ? "true" : "false")], 1)
        m.set(ControllerMetrics.syncReady, labels, ready == "True" ? 1 : 0)
    }

    /// Writes `status.lastHandledReconcileAt` once a reconcile answered `request`; returns the
    /// status with it (unchanged when the write failed: the next reconcile tries again).
    func recordHandled(_ object: Value, _ request: String, status: Value) async -> Value {
        let field: Value = ["status": [ReconcileRequest.statusField: .string(request)]]
        do {
            _ = try await controller.client.patch(PatternSyncSpec.gvk, name: object.metadataName ?? "", namespace: object.metadataNamespace,
                                                  patch: field, type: .merge, fieldManager: "pattern-controller", subresource: "status")
        } catch {
            controller.logger.warning("cannot record the handled reconcile request", metadata: ["patternsync": "\(key)", "error": "\(error)"])
            return status
        }
        var st = status.object == nil ? Value.emptyObject : status
        st[ReconcileRequest.statusField] = .string(request)
        return st
    }

    /// A new destination (another cluster, or its Secret changed): the watches restart there.
    func setTarget(_ target: ClusterTarget) {
        let moved = state.withLock { s -> Bool in
            defer { s.target = target }
            guard let old = s.target else { return false }
            return old.generation != target.generation || old.name != target.name
        }
        if moved { unsubscribeAll() }
    }

    /// Ends this PatternSync's subscriptions to the shared watches.
    func unsubscribeAll() {
        let (kinds, owner, cluster) = state.withLock { s -> (Set<GroupVersionKind>, String, String) in
            defer { s.watched.removeAll() }
            return (s.watched, s.watchOwner, s.watchCluster)
        }
        for gvk in kinds { controller.watches.unsubscribe(cluster: cluster, gvk: gvk, owner: owner, id: key) }
    }

    /// Subscribes to the kinds the render has on its cluster (one shared watch per cluster and
    /// kind, `SharedWatches`), for the objects carrying this site's owner label, so drift (hand
    /// edits, deletions) starts a reconcile within a moment instead of at the next interval.
    /// `selector` is the site's owner selector (`pattern.dev/owner=<pattern>.<site>`).
    func ensureWatches(selector: String, kinds: [GroupVersionKind]) {
        let owner = selector.split(separator: "=", maxSplits: 1).last.map(String.init) ?? selector
        let (client, cluster, changed, stopped) = state.withLock { s -> (KubeClient, String, Bool, Bool) in
            let cluster = s.target?.generation ?? ""
            return (s.target?.client ?? controller.client, cluster, owner != s.watchOwner || cluster != s.watchCluster, s.stopped)
        }
        if stopped { return }
        if changed {
            unsubscribeAll()
            state.withLock { $0.watchOwner = owner; $0.watchCluster = cluster }
        }
        let fresh = state.withLock { s -> [GroupVersionKind] in
            if s.stopped { return [] }
            let f = kinds.filter { !s.watched.contains($0) }
            s.watched.formUnion(f)
            return f
        }
        for gvk in fresh {
            controller.watches.subscribe(cluster: cluster, client: client, gvk: gvk, owner: owner, id: key) { [weak self] ev in
                self?.observe(ev, gvk: gvk)
            }
        }
        // Stopped meanwhile: its unsubscribe may have run before these subscriptions.
        if !fresh.isEmpty && state.withLock({ $0.stopped }) { unsubscribeAll() }
    }

    func observe(_ ev: InformerEvent, gvk: GroupVersionKind) {
        switch ev {
        case .listed(let list):
            state.withLock { s in for o in list.items { s.fingerprints[Worker.id(gvk, o)] = Worker.fingerprint(o) } }
            // A (re)list may hide changes made before it (between the reconcile's read and the
            // watch start, or while a watch was down): check once more.
            trigger(.owned)
        case .event(let e):
            let id = Worker.id(gvk, e.object)
            let rv = e.object[path: ["metadata", "resourceVersion"]]?.string
            switch e.type {
            case .bookmark: return
            case .deleted:
                let theirs = state.withLock { s -> Bool in
                    s.fingerprints[id] = nil
                    s.ownWrites[id] = nil
                    return s.seen(id, .deleted)
                }
                if theirs { trigger(.owned) }
            case .added, .modified:
                let fp = Worker.fingerprint(e.object)
                // Our own apply's writes land here too: they start no reconcile (one would find
                // nothing to do, and at a fleet's cold start that doubled the reconciles). Any
                // other writer's change does, whatever its field manager (see `State.isOwn`).
                let theirs = state.withLock { s -> Bool in
                    let old = s.fingerprints[id]
                    s.fingerprints[id] = fp
                    return old != fp && s.seen(id, .written(resourceVersion: rv))
                }
                if theirs { trigger(.owned) }
            }
        }
    }

    /// An apply of this worker starts: changes seen from now on wait for its result.
    func applyStarted() {
        state.withLock { s in if s.heldDuringApply == nil { s.heldDuringApply = [:] } }
    }

    /// The apply ended: what it wrote (resourceVersions) and pruned is remembered, and the
    /// changes held meanwhile that were not its own start a reconcile (nil: it reported
    /// nothing, so every held change counts as someone else's).
    func applyFinished(_ result: ApplyResult?) {
        let theirs = state.withLock { s -> Bool in
            if let result {
                // Only objects of this apply are kept: the map stays as large as the render.
                var writes: [String: String] = [:]
                var prunes: Set<String> = []
                for o in result.outcomes {
                    let id = Worker.id(o.key)
                    switch o.status {
                    case .created, .configured:
                        if let rv = o.resourceVersion { writes[id] = rv }
                    case .pruned:
                        prunes.insert(id)
                    default:
                        // Not written now: an earlier write's event may still be on its way.
                        if let rv = s.ownWrites[id] { writes[id] = rv }
                    }
                }
                s.ownWrites = writes
                s.ownPrunes = prunes
            }
            let held = s.heldDuringApply ?? [:]
            s.heldDuringApply = nil
            var theirs = false
            for (id, change) in held {
                if s.isOwn(id, change) {
                    if change == .deleted { s.ownPrunes.remove(id) }
                } else {
                    theirs = true
                }
            }
            return theirs
        }
        if theirs { trigger(.owned) }
    }

    /// `sha256:` and the first 12 hex digits of a render revision ("" for none).
    static func shortRevision(_ r: String) -> String {
        if r.isEmpty { return "" }
        let hex = r.hasPrefix("sha256:") ? String(r.dropFirst(7)) : r
        return "sha256:" + hex.prefix(12)
    }

    static func id(_ gvk: GroupVersionKind, _ o: Value) -> String {
        id(ObjectKey(group: gvk.group, kind: gvk.kind, namespace: o.metadataNamespace ?? "", name: o.metadataName ?? ""))
    }
    static func id(_ k: ObjectKey) -> String { "\(k.group)/\(k.kind)/\(k.namespace)/\(k.name)" }

    /// Hash of the object without status and server bookkeeping: changes only when someone
    /// changed what the object says, not when a controller reported on it.
    static func fingerprint(_ o: Value) -> Int {
        var v = o
        v["status"] = nil
        for k in ["resourceVersion", "managedFields", "generation", "creationTimestamp", "uid"] { v[path: ["metadata", k]] = nil }
        var h = Hasher()
        v.hash(into: &h)
        return h.finalize()
    }
}

/// Every PatternSync the controller's watch delivered, by `namespace/name`, as last seen, and
/// indexed by the site names it may claim (`spec.site` and `status.inventory.site`), so the
/// one-PatternSync-per-site check of a reconcile reads the few PatternSyncs of its site rather
/// than every PatternSync (N reconciles × N objects at fleet size).
final class KnownSyncs: Sendable {
    private struct State: Sendable {
        var byKey: [String: Value] = [:]
        var bySite: [String: Set<String>] = [:]

        static func sites(_ o: Value) -> Set<String> {
            var s = Set<String>()
            if let site = o[path: ["spec", "site"]]?.string { s.insert(site) }
            if let site = o[path: ["status", "inventory", "site"]]?.string { s.insert(site) }
            return s
        }

        mutating func set(_ key: String, _ object: Value?) {
            if let old = byKey[key] {
                for site in State.sites(old) {
                    bySite[site]?.remove(key)
                    if bySite[site]?.isEmpty == true { bySite[site] = nil }
                }
            }
            byKey[key] = object
            if let object { for site in State.sites(object) { bySite[site, default: []].insert(key) } }
        }
    }
    private let state = Mutex(State())
    var all: [Value] { state.withLock { Array($0.byKey.values) } }
    /// The PatternSyncs whose `spec.site` or `status.inventory.site` is `site`.
    func claiming(site: String) -> [Value] {
        state.withLock { s in (s.bySite[site] ?? []).compactMap { s.byKey[$0] } }
    }
    func replace(_ byKey: [String: Value]) {
        state.withLock { s in
            s = State()
            for (k, o) in byKey { s.set(k, o) }
        }
    }
    func set(_ key: String, _ object: Value?) { state.withLock { $0.set(key, object) } }
}

/// Shutdown as a signal loops can sleep on: `sleep` returns early once `stop()` was called.
final class StopSignal: Sendable {
    private struct State: Sendable {
        var stopped = false
        var next = 0
        var waiters: [Int: CheckedContinuation<Void, Never>] = [:]
        /// Timers that fired before their sleeper got to wait.
        var fired: Set<Int> = []
    }
    private let state = Mutex(State())

    var isStopped: Bool { state.withLock { $0.stopped } }

    func stop() {
        let waiters = state.withLock { s -> [CheckedContinuation<Void, Never>] in
            s.stopped = true
            defer { s.waiters.removeAll() }
            return Array(s.waiters.values)
        }
        for w in waiters { w.resume() }
    }

    private func wake(_ id: Int) {
        let w = state.withLock { s -> CheckedContinuation<Void, Never>? in
            guard let w = s.waiters.removeValue(forKey: id) else { s.fired.insert(id); return nil }
            return w
        }
        w?.resume()
    }

    /// Sleeps `seconds`, returning early on `stop()` or cancellation.
    func sleep(_ seconds: Double) async {
        if isStopped { return }
        let id = state.withLock { s -> Int in s.next += 1; return s.next }
        let timer = Task { [weak self] in
            try? await Task.sleep(for: .seconds(max(0, min(seconds, 1e7))))
            self?.wake(id)
        }
        defer { timer.cancel(); state.withLock { _ = $0.fired.remove(id) } }
        await withTaskCancellationHandler {
            await withCheckedContinuation { (c: CheckedContinuation<Void, Never>) in
                let now = state.withLock { s -> Bool in
                    if s.stopped || Task.isCancelled || s.fired.remove(id) != nil { return true }
                    s.waiters[id] = c
                    return false
                }
                if now { c.resume() }
            }
        } onCancel: { self.wake(id) }
    }
}

/// The controller's version: the version of the build (`PatternVersion.current`).
public enum PatternControllerVersion { public static let current = PatternVersion.current }
