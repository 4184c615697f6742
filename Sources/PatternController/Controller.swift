import PatternCore
import PatternSource
import KubeClient
import Logging
#if canImport(Glibc)
import Glibc
#endif

/// How a `PatternController` runs.
public struct ControllerConfiguration: Sendable {
    /// Watch PatternSyncs in this namespace only (nil: every namespace).
    public var namespace: String?
    public var lease: LeaderElector.Config
    /// `host:port` for /healthz, /readyz and /metrics (nil: no endpoint).
    public var metricsAddress: String?
    public var reconciler: ReconcilerSettings
    /// Backoff after failures: `minBackoff · 2^(n-1)`, at most `maxBackoff`, plus up to 20% jitter.
    public var minBackoff: Double = 1
    public var maxBackoff: Double = 300
    /// Events on owned objects within this window start one reconcile.
    public var ownedDebounce: Double = 0.2

    public init(lease: LeaderElector.Config, reconciler: ReconcilerSettings) {
        self.lease = lease
        self.reconciler = reconciler
    }
}

/// The reconcile loop: leader election, a watch on PatternSyncs, one worker per PatternSync
/// (interval, spec changes and changes of owned objects trigger it; failures back off), and the
/// health/metrics endpoint. `run()` returns after `shutdown()` (or cancellation): the current
/// apply step is finished, workers stop, the Lease is released.
public final class PatternController: @unchecked Sendable {
    public let client: KubeClient
    public let configuration: ControllerConfiguration
    public let metrics: MetricsRegistry
    public let elector: LeaderElector
    let reconciler: Reconciler
    let logger: Logger
    private let lock = Lock()
    private var stopping = false
    private var ready = false
    private var workers: [String: Worker] = [:]
    private let stopSignal = Wakeup()
    private var server: HealthServer?

    public init(client: KubeClient, configuration: ControllerConfiguration, metrics: MetricsRegistry = ControllerMetrics.makeRegistry(),
                logger: Logger = Logger(label: "pattern.controller")) {
        self.client = client
        self.configuration = configuration
        self.metrics = metrics
        self.logger = logger
        self.elector = LeaderElector(client: client, config: configuration.lease)
        self.reconciler = Reconciler(client: client, settings: configuration.reconciler, metrics: metrics,
                                     events: EventRecorder(client: client, instance: configuration.lease.identity))
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

    public var isLeader: Bool { elector.isLeader }
    public var isShuttingDown: Bool { lock.withLock { stopping } }
    /// The port the health/metrics endpoint listens on (after `run()` started it).
    public var healthPort: Int? { lock.withLock { server?.port } }

    /// Starts the health/metrics endpoint (called by `run()`; call it first to learn the port).
    public func startEndpoint() throws {
        guard let addr = configuration.metricsAddress, lock.withLock({ server == nil }) else { return }
        let s = try HealthServer(address: addr) { [weak self] path in
            guard let self else { return (503, "text/plain", "stopping\n") }
            switch path {
            case "/healthz", "/livez": return self.isShuttingDown ? (503, "text/plain", "shutting down\n") : (200, "text/plain", "ok\n")
            case "/readyz":
                let r = self.lock.withLock { self.ready && !self.stopping }
                return r ? (200, "text/plain", self.isLeader ? "ok: leader\n" : "ok: standby\n") : (503, "text/plain", "not ready\n")
            case "/metrics": return (200, "text/plain; version=0.0.4; charset=utf-8", self.metrics.exposition())
            default: return (404, "text/plain", "not found\n")
            }
        }
        lock.withLock { server = s }
    }

    /// Asks the loop to stop: no new reconciles; the current one finishes its apply step.
    public func shutdown() {
        lock.withLock { stopping = true }
        stopSignal.signal("shutdown")
        for w in lock.withLock({ Array(workers.values) }) { w.wakeup.signal("shutdown") }
    }

    public func run() async throws {
        try startEndpoint()
        defer { lock.withLock { server }?.stop() }
        logger.info("pattern controller starting", metadata: ["identity": "\(configuration.lease.identity)",
                                                             "lease": "\(configuration.lease.namespace)/\(configuration.lease.name)"])
        while !isShuttingDown && !Task.isCancelled {
            if await elector.tryAcquireOrRenew() {
                lock.withLock { ready = true }
                metrics.set(ControllerMetrics.leader, [], 1)
                logger.info("acquired the leader lease", metadata: ["identity": "\(configuration.lease.identity)"])
                await lead()
                metrics.set(ControllerMetrics.leader, [], 0)
                if !isShuttingDown { logger.warning("lost the leader lease; standing by") }
            } else {
                if (try? await client.getIfPresent(LeaderElector.gvk, name: configuration.lease.name, namespace: configuration.lease.namespace)) != nil {
                    lock.withLock { ready = true }
                }
                _ = await stopSignal.wait(timeout: configuration.lease.retryPeriod)
            }
        }
        // Not cancelled with the caller: a released Lease lets a standby take over at once.
        await Task { [elector] in await elector.release() }.value
        lock.withLock { ready = false }
        logger.info("pattern controller stopped")
    }

    /// Runs while this instance leads.
    func lead() async {
        await withTaskGroup(of: Void.self) { group in
            group.addTask { [self] in
                // Renew until the lease is lost or shutdown is asked for.
                while !self.isShuttingDown && !Task.isCancelled {
                    _ = await self.stopSignal.wait(timeout: self.configuration.lease.retryPeriod)
                    if self.isShuttingDown || Task.isCancelled { return }
                    if !(await self.elector.tryAcquireOrRenew()) { return }
                }
            }
            group.addTask { [self] in await self.watchSyncs() }
            _ = await group.next()
            group.cancelAll()
        }
        // Keep the Lease while the current applies finish, so no standby starts reconciling
        // the same resources before they are done.
        let renewer = Task { [self] in
            while self.elector.isLeader && !Task.isCancelled {
                try? await Task.sleep(nanoseconds: UInt64(self.configuration.lease.retryPeriod * 1e9))
                if Task.isCancelled { return }
                if !(await self.elector.tryAcquireOrRenew()) { return }
            }
        }
        await stopWorkers()
        renewer.cancel()
        await renewer.value
    }

    func stopWorkers() async {
        let all = lock.withLock { () -> [Worker] in let w = Array(workers.values); workers.removeAll(); return w }
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
                        for k in lock.withLock({ Array(workers.keys) }) where !keys.contains(k) { remove(k) }
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
                logger.error("cannot watch PatternSyncs (is the CRD installed?): \(error)")
                _ = await stopSignal.wait(timeout: backoff(failures))
            }
        }
    }

    static func key(_ o: Value) -> String { "\(o.metadataNamespace ?? "")/\(o.metadataName ?? "")" }

    func upsert(_ o: Value) {
        let k = PatternController.key(o)
        if isShuttingDown { return }
        let (w, created) = lock.withLock { () -> (Worker, Bool) in
            if let w = workers[k] { return (w, false) }
            let w = Worker(key: k, object: o, controller: self)
            workers[k] = w
            return (w, true)
        }
        if created { w.start() } else { w.update(o) }
    }

    func remove(_ k: String) {
        guard let w = lock.withLock({ workers.removeValue(forKey: k) }) else { return }
        w.stop()
        let parts = k.split(separator: "/", omittingEmptySubsequences: false)
        for name in [ControllerMetrics.objects, ControllerMetrics.drifted, ControllerMetrics.reconcileTotal, ControllerMetrics.lastSuccess] {
            metrics.removeSeries(name, where: "name", is: String(parts.last ?? ""))
        }
        logger.info("PatternSync deleted; its objects stay in the cluster", metadata: ["patternsync": "\(k)"])
    }

    func backoff(_ failures: Int) -> Double {
        let base = min(configuration.maxBackoff, configuration.minBackoff * pow(2, Double(max(0, failures - 1))))
        return base * (1 + Double.random(in: 0..<0.2))
    }
}

/// The loop of one PatternSync.
final class Worker: @unchecked Sendable {
    let key: String
    unowned let controller: PatternController
    let wakeup = Wakeup()
    private let lock = Lock()
    private var object: Value
    private var task: Task<Void, Never>?
    private var watchTasks: [GroupVersionKind: Task<Void, Never>] = [:]
    private var watchSelector = ""
    /// Owned object identity → fingerprint of everything but status and server bookkeeping.
    private var fingerprints: [String: Int] = [:]

    init(key: String, object: Value, controller: PatternController) {
        self.key = key; self.object = object; self.controller = controller
    }

    var current: Value { lock.withLock { object } }

    func start() {
        let t = Task { await self.loop() }
        lock.withLock { task = t }
    }

    func update(_ o: Value) {
        let changed = lock.withLock { () -> Bool in
            let old = object[path: ["metadata", "generation"]]?.int
            object = o
            return old != o[path: ["metadata", "generation"]]?.int
        }
        if changed { wakeup.signal("spec") }
    }

    func stop() {
        let (t, watches) = lock.withLock { () -> (Task<Void, Never>?, [Task<Void, Never>]) in
            let w = Array(watchTasks.values); watchTasks.removeAll(); return (task, w)
        }
        t?.cancel()
        for w in watches { w.cancel() }
        wakeup.signal("stop")
    }

    func finished() async { await lock.withLock({ task })?.value }

    func loop() async {
        var reason = "start"
        var failures = 0
        let ns = String(key.split(separator: "/", omittingEmptySubsequences: false).first ?? "")
        let name = String(key.split(separator: "/", omittingEmptySubsequences: false).last ?? "")
        while !Task.isCancelled && !controller.isShuttingDown {
            controller.metrics.add(ControllerMetrics.triggers, [("namespace", ns), ("name", name), ("trigger", reason)])
            controller.logger.debug("reconciling", metadata: ["patternsync": "\(key)", "trigger": "\(reason)"])
            let outcome = await controller.reconciler.reconcile(current) { [weak self] selector, kinds in
                self?.ensureWatches(selector: selector, kinds: kinds)
            }
            // Until the watch delivers it, remember what we wrote (the next reconcile compares with it).
            if let st = outcome.status { lock.withLock { object["status"] = st } }
            if let w = outcome.watch { ensureWatches(selector: w.selector, kinds: w.kinds) }
            let delay: Double
            switch outcome.result {
            case .success:
                failures = 0
                delay = outcome.intervalSeconds ?? 300
            case .failure:
                failures += 1
                delay = min(controller.backoff(failures), outcome.intervalSeconds ?? .infinity)
                controller.logger.warning("reconcile failed; retrying in \(Int(delay * 1000)) ms",
                                          metadata: ["patternsync": "\(key)", "stage": "\(outcome.stage ?? "")"])
            case .stalled:
                failures = 0
                delay = outcome.intervalSeconds ?? 3600
            case .suspended:
                delay = 3600
            case .cancelled:
                return
            }
            if Task.isCancelled || controller.isShuttingDown { break }
            let woke = await wakeup.wait(timeout: delay)
            reason = woke ?? (outcome.result == .failure ? "retry" : "interval")
            if reason == "owned" {
                // Let a burst of edits settle into one reconcile.
                try? await Task.sleep(nanoseconds: UInt64(controller.configuration.ownedDebounce * 1e9))
                _ = wakeup.take()
            }
        }
    }

    /// Watches the kinds the render has, with the owner label selector, so drift (hand edits,
    /// deletions) starts a reconcile within a moment instead of at the next interval.
    func ensureWatches(selector: String, kinds: [GroupVersionKind]) {
        let client = controller.client
        let fm = controller.configuration.reconciler.fieldManager
        var stale: [Task<Void, Never>] = []
        lock.withLock {
            if selector != watchSelector {
                stale = Array(watchTasks.values); watchTasks.removeAll(); watchSelector = selector
            }
            for gvk in kinds where watchTasks[gvk] == nil {
                watchTasks[gvk] = Task { [weak self] in
                    var failures = 0
                    while !Task.isCancelled {
                        do {
                            for try await ev in client.watchWithRelist(gvk, labelSelector: selector, timeoutSeconds: 300) {
                                failures = 0
                                guard let self else { return }
                                self.observe(ev, gvk: gvk, fieldManager: fm)
                            }
                            return
                        } catch {
                            failures += 1
                            // A kind whose CRD is in the same render is served a moment after the
                            // apply: retry it soon (discovery is refetched for unknown kinds).
                            let delay: Double
                            if case .unknownKind? = error as? KubeError { delay = min(10, Double(failures)) } else { delay = min(60, pow(2, Double(failures - 1)) * 0.5) }
                            try? await Task.sleep(nanoseconds: UInt64(delay * 1e9))
                        }
                    }
                }
            }
        }
        for t in stale { t.cancel() }
    }

    func observe(_ ev: InformerEvent, gvk: GroupVersionKind, fieldManager: String) {
        switch ev {
        case .listed(let list):
            lock.withLock { for o in list.items { fingerprints[Worker.id(gvk, o)] = Worker.fingerprint(o) } }
            // A (re)list may hide changes made before it (between the reconcile's read and the
            // watch start, or while a watch was down): check once more.
            wakeup.signal("owned")
        case .event(let e):
            let id = Worker.id(gvk, e.object)
            switch e.type {
            case .bookmark: return
            case .deleted:
                lock.withLock { fingerprints[id] = nil }
                wakeup.signal("owned")
            case .added, .modified:
                let fp = Worker.fingerprint(e.object)
                let changed = lock.withLock { () -> Bool in
                    let old = fingerprints[id]
                    fingerprints[id] = fp
                    return old != fp
                }
                // Our own applies land here too; the reconcile they start finds nothing to do
                // and writes nothing (managedFields times have one-second resolution, too
                // coarse to tell our write from a hand edit in the same second).
                if changed { wakeup.signal("owned") }
            }
        }
    }

    static func id(_ gvk: GroupVersionKind, _ o: Value) -> String { "\(gvk.group)/\(gvk.kind)/\(o.metadataNamespace ?? "")/\(o.metadataName ?? "")" }

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

/// A wake-up signal with a reason: `wait(timeout:)` returns the reason of the first signal
/// since the last wait (or nil on timeout); a signal with nobody waiting is kept for the next
/// wait; a signal wakes every current waiter.
final class Wakeup: @unchecked Sendable {
    private let lock = Lock()
    private var pending: String?
    private var waiters: [Int: CheckedContinuation<String?, Never>] = [:]
    private var nextID = 0

    func signal(_ reason: String) {
        let ws = lock.withLock { () -> [CheckedContinuation<String?, Never>] in
            if waiters.isEmpty {
                if pending == nil || reason == "shutdown" || reason == "stop" { pending = reason }
                return []
            }
            let w = Array(waiters.values)
            waiters.removeAll()
            return w
        }
        for w in ws { w.resume(returning: reason) }
    }

    func take() -> String? { lock.withLock { let p = pending; pending = nil; return p } }

    private func fire(_ id: Int) {
        let w = lock.withLock { waiters.removeValue(forKey: id) }
        w?.resume(returning: nil)
    }

    func wait(timeout: Double) async -> String? {
        if let p = take() { return p }
        let id = lock.withLock { () -> Int in nextID += 1; return nextID }
        let timer = Task { [weak self] in
            try? await Task.sleep(nanoseconds: UInt64(max(0, min(timeout, 1e7)) * 1e9))
            self?.fire(id)
        }
        defer { timer.cancel() }
        return await withTaskCancellationHandler {
            await withCheckedContinuation { (c: CheckedContinuation<String?, Never>) in
                let immediate = lock.withLock { () -> String?? in
                    if let p = pending { pending = nil; return .some(p) }
                    if Task.isCancelled { return .some(nil) }
                    waiters[id] = c
                    return .none
                }
                if let r = immediate { c.resume(returning: r) }
            }
        } onCancel: { self.fire(id) }
    }
}

public enum PatternControllerVersion { public static let current = "0.1.0" }
