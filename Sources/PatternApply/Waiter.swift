import PatternCore
import PatternDiff
import KubeClient

/// Readiness waits between apply levels (kstatus rules from `ReadinessRules`).
///
/// Reads the pending objects with one LIST per kind (by the site's owner label), then WATCHes
/// those kinds from the LIST's resourceVersion: an object is seen ready the moment the API
/// server says so, with no polling delay. Each watch is a bounded round: it asks the server to
/// end it after `watchRoundSeconds` (`timeoutSeconds`) and is abandoned a second after that
/// even if the server never ends it; then the pending kinds are LISTed again and watched from
/// the new resourceVersion. So a silent watch (an event lost, a dead connection) delays a wait
/// by one round at most. When a watch cannot be used (it fails to start or errors, or the site
/// is observed per namespace) it polls with backoff (50 ms doubling to `pollIntervalSeconds`),
/// one LIST per pending kind. Reports what is waited for and why.
struct Waiter: Sendable {
    let client: KubeClient
    let options: ApplyOptions
    let identity: SiteIdentity
    let requests: RequestCounter

    /// How a wait ended: the failures (an object that failed, or time-outs) and the keys that
    /// are still not ready.
    struct WaitResult {
        var failures: [(ObjectKey, String)]
        var notReady: Set<ObjectKey>
    }

    /// Waits until every key is ready (with `untilAny`: until at least one is), one failed, or
    /// the timeout passes.
    func waitReady(_ keys: [ObjectKey], objects: [ObjectKey: RenderedObject], known: [ObjectKey: Value], untilAny: Bool = false,
                   progress: @Sendable (ApplyProgress) -> Void) async -> WaitResult {
        var pending: [ObjectKey: String] = [:]
        // Done when at most `goal` keys are pending.
        let goal = untilAny ? max(0, keys.count - 1) : 0
        let failures = await wait(keys, pending: &pending, goal: goal, objects: objects, known: known, progress: progress)
        return WaitResult(failures: failures, notReady: Set(pending.keys))
    }

    private func wait(_ keys: [ObjectKey], pending: inout [ObjectKey: String], goal: Int, objects: [ObjectKey: RenderedObject],
                      known: [ObjectKey: Value], progress: @Sendable (ApplyProgress) -> Void) async -> [(ObjectKey, String)] {
        for k in keys {
            let status = known[k].map { ReadinessRules.status(of: $0) } ?? Readiness(.inProgress, "not observed yet")
            if status.status == .failed { return [(k, status.message)] }
            if !status.isReady { pending[k] = status.message } else { progress(.ready(k)) }
        }
        let deadline = ContinuousClock.now + .milliseconds(Int(options.waitTimeoutSeconds * 1000))
        for k in pending.keys where objects[k]?.object.gvk == nil { pending[k] = nil }
        if pending.count > goal && options.namespaces == nil {
            // Bounded watch rounds until done, the deadline, or a watch that cannot be used.
            var round = WatchRound.again
            while case .again = round {
                round = await watchUntilReady(&pending, goal: goal, objects: objects, deadline: deadline, progress: progress)
            }
            if case .done(let failures) = round { return failures }
        }
        var delay = 0.05
        var failures: [(ObjectKey, String)] = []
        while pending.count > goal {
            for (k, msg) in pending.sorted(by: { $0.key < $1.key }) { progress(.waiting(k, msg)) }
            if ContinuousClock.now >= deadline { return timedOut(pending) }
            try? await Task.sleep(for: .milliseconds(Int(delay * 1000)))
            delay = min(delay * 2, max(0.05, options.pollIntervalSeconds))
            // One LIST per pending kind.
            var kinds: [GroupKind: GroupVersionKind] = [:]
            for k in pending.keys { if let g = objects[k]?.object.gvk { kinds[g.groupKind] = g } }
            var live: [ObjectKey: Value] = [:]
            for gvk in kinds.values.sorted() {
                do {
                    let namespaces = Set(pending.keys.filter { $0.groupKind == gvk.groupKind && !$0.namespace.isEmpty }.map(\.namespace)).sorted()
                    for item in try await Observer.listKind(client, gvk, selector: identity.labelSelector, declared: options.namespaces,
                                                            namespaces: namespaces, counter: requests).items {
                        if let k = item.objectKey, pending[k] != nil { live[k] = item }
                    }
                } catch {
                    for k in pending.keys where k.groupKind == gvk.groupKind { pending[k] = "cannot read it: \(error)" }
                }
            }
            for k in pending.keys.sorted() {
                guard let v = live[k] else {
                    if objects[k]?.object.gvk == nil { pending[k] = nil } else if pending[k]?.hasPrefix("cannot read") != true { pending[k] = "not found" }
                    continue
                }
                let s = ReadinessRules.status(of: v)
                switch s.status {
                case .current: pending[k] = nil; progress(.ready(k))
                case .failed: failures.append((k, s.message)); pending[k] = nil
                default: pending[k] = s.message
                }
            }
            if !failures.isEmpty { return failures }
        }
        return failures
    }

    private enum Signal: Sendable { case event(WatchEvent), ended, failed, roundOver, timeout }

    /// How one LIST + WATCH round ended.
    enum WatchRound {
        /// Enough pending objects ready (no failures), one failed, or the deadline passed.
        case done([(ObjectKey, String)])
        /// The round's time was up, or the server ended a watch normally: LIST and watch again.
        case again
        /// A LIST or watch failed: poll from the current `pending`.
        case unusable
    }

    /// One round: LIST then WATCH the pending kinds for at most `watchRoundSeconds` (see the
    /// type's comment).
    func watchUntilReady(_ pending: inout [ObjectKey: String], goal: Int, objects: [ObjectKey: RenderedObject], deadline: ContinuousClock.Instant,
                         progress: @Sendable (ApplyProgress) -> Void) async -> WatchRound {
        var kinds: [GroupKind: GroupVersionKind] = [:]
        for k in pending.keys { if let g = objects[k]?.object.gvk { kinds[g.groupKind] = g } }
        var versions: [(GroupVersionKind, String)] = []
        var seen: Set<ObjectKey> = []
        for gvk in kinds.values.sorted() {
            guard let list = try? await client.list(gvk, labelSelector: identity.labelSelector, counting: requests) else { return .unusable }
            versions.append((gvk, list.resourceVersion))
            for item in list.items {
                guard let k = item.objectKey, pending[k] != nil else { continue }
                seen.insert(k)
                let s = ReadinessRules.status(of: item)
                switch s.status {
                case .current: pending[k] = nil; progress(.ready(k))
                case .failed: return .done([(k, s.message)])
                default: pending[k] = s.message
                }
            }
        }
        for k in pending.keys where !seen.contains(k) { pending[k] = "not found" }
        if pending.count <= goal { return .done([]) }
        if ContinuousClock.now >= deadline { return .done(timedOut(pending)) }
        for (k, msg) in pending.sorted(by: { $0.key < $1.key }) { progress(.waiting(k, msg)) }

        let (signals, sink) = AsyncStream<Signal>.makeStream()
        let remaining = max(1, Int((deadline - ContinuousClock.now).components.seconds) + 1)
        let roundSeconds = max(1, min(remaining, options.watchRoundSeconds))
        let started = ContinuousClock.now
        var tasks: [Task<Void, Never>] = []
        for (gvk, rv) in versions {
            requests.watch()
            let stream = client.watch(gvk, labelSelector: identity.labelSelector, resourceVersion: rv, timeoutSeconds: roundSeconds)
            tasks.append(Task {
                do {
                    for try await e in stream { sink.yield(.event(e)) }
                    sink.yield(.ended)
                } catch {
                    sink.yield(.failed)
                }
            })
        }
        // The client-side guard: a server that never ends the watch (or a connection that
        // died silently) cannot hold the round open.
        let roundEnd = ContinuousClock.now + .seconds(roundSeconds + 1)
        tasks.append(Task {
            try? await Task.sleep(until: min(deadline, roundEnd))
            if !Task.isCancelled { sink.yield(ContinuousClock.now >= deadline ? .timeout : .roundOver) }
        })
        defer { for t in tasks { t.cancel() }; sink.finish() }
        for await signal in signals {
            switch signal {
            case .timeout:
                return .done(timedOut(pending))
            case .roundOver:
                return .again
            case .ended:
                // A server that ends watches at once would make rounds a hot loop: poll then.
                return ContinuousClock.now - started < .milliseconds(500) ? .unusable : .again
            case .failed:
                return .unusable
            case .event(let e):
                guard e.type != .bookmark, let k = e.object.objectKey, let before = pending[k] else { continue }
                if e.type == .deleted { pending[k] = "not found"; continue }
                let s = ReadinessRules.status(of: e.object)
                switch s.status {
                case .current: pending[k] = nil; progress(.ready(k))
                case .failed: return .done([(k, s.message)])
                default:
                    if before != s.message { pending[k] = s.message; progress(.waiting(k, s.message)) }
                }
                if pending.count <= goal { return .done([]) }
            }
        }
        return .again
    }

    /// The time-out failures for what is still pending.
    private func timedOut(_ pending: [ObjectKey: String]) -> [(ObjectKey, String)] {
        pending.sorted { $0.key < $1.key }.map { ($0.key, "timed out after \(Int(options.waitTimeoutSeconds))s: \($0.value)") }
    }
}
