import PatternCore
import PatternDiff
import KubeClient

/// Readiness waits between apply levels (kstatus rules from `ReadinessRules`).
///
/// Reads the pending objects with one LIST per kind (by the site's owner label), then WATCHes
/// those kinds from the LIST's resourceVersion: an object is seen ready the moment the API
/// server says so, with no polling delay. When a watch cannot be used (it ends, fails, or the
/// site is observed per namespace) it polls with backoff (50 ms doubling to
/// `pollIntervalSeconds`), one LIST per pending kind. Reports what is waited for and why.
struct Waiter: Sendable {
    let client: KubeClient
    let options: ApplyOptions
    let identity: SiteIdentity
    let requests: RequestCounter

    /// Waits until every key is ready, failed, or the timeout passes. Returns the failures.
    func waitReady(_ keys: [ObjectKey], objects: [ObjectKey: RenderedObject], known: [ObjectKey: Value],
                   progress: @Sendable (ApplyProgress) -> Void) async -> [(ObjectKey, String)] {
        var pending: [ObjectKey: String] = [:]
        for k in keys {
            let status = known[k].map { ReadinessRules.status(of: $0) } ?? Readiness(.inProgress, "not observed yet")
            if status.status == .failed { return [(k, status.message)] }
            if !status.isReady { pending[k] = status.message }
        }
        let deadline = ContinuousClock.now + .milliseconds(Int(options.waitTimeoutSeconds * 1000))
        for k in pending.keys where objects[k]?.object.gvk == nil { pending[k] = nil }
        if !pending.isEmpty && options.namespaces == nil {
            if let done = await watchUntilReady(&pending, objects: objects, deadline: deadline, progress: progress) { return done }
        }
        var delay = 0.05
        var failures: [(ObjectKey, String)] = []
        while !pending.isEmpty {
            for (k, msg) in pending.sorted(by: { $0.key < $1.key }) { progress(.waiting(k, msg)) }
            if ContinuousClock.now >= deadline {
                return pending.sorted { $0.key < $1.key }.map { ($0.key, "timed out after \(Int(options.waitTimeoutSeconds))s: \($0.value)") }
            }
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
                                                            namespaces: namespaces, counter: requests) {
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
                case .current: pending[k] = nil
                case .failed: failures.append((k, s.message)); pending[k] = nil
                default: pending[k] = s.message
                }
            }
            if !failures.isEmpty { return failures }
        }
        return failures
    }

    private enum Signal: Sendable { case event(WatchEvent), ended, timeout }

    /// LIST then WATCH the pending kinds until every pending object is ready (returns no
    /// failures), one failed (returns it), or the deadline passed (returns the time-outs).
    /// Returns nil when a watch ended or failed: the caller polls from the current `pending`.
    func watchUntilReady(_ pending: inout [ObjectKey: String], objects: [ObjectKey: RenderedObject], deadline: ContinuousClock.Instant,
                         progress: @Sendable (ApplyProgress) -> Void) async -> [(ObjectKey, String)]? {
        var kinds: [GroupKind: GroupVersionKind] = [:]
        for k in pending.keys { if let g = objects[k]?.object.gvk { kinds[g.groupKind] = g } }
        var versions: [(GroupVersionKind, String)] = []
        var seen: Set<ObjectKey> = []
        for gvk in kinds.values.sorted() {
            requests.list()
            guard let list = try? await client.list(gvk, labelSelector: identity.labelSelector) else { return nil }
            versions.append((gvk, list.resourceVersion))
            for item in list.items {
                guard let k = item.objectKey, pending[k] != nil else { continue }
                seen.insert(k)
                let s = ReadinessRules.status(of: item)
                switch s.status {
                case .current: pending[k] = nil
                case .failed: return [(k, s.message)]
                default: pending[k] = s.message
                }
            }
        }
        for k in pending.keys where !seen.contains(k) { pending[k] = "not found" }
        if pending.isEmpty { return [] }
        for (k, msg) in pending.sorted(by: { $0.key < $1.key }) { progress(.waiting(k, msg)) }

        let (signals, sink) = AsyncStream<Signal>.makeStream()
        let remaining = max(1, Int((deadline - ContinuousClock.now).components.seconds) + 1)
        var tasks: [Task<Void, Never>] = []
        for (gvk, rv) in versions {
            requests.watch()
            let stream = client.watch(gvk, labelSelector: identity.labelSelector, resourceVersion: rv, timeoutSeconds: remaining)
            tasks.append(Task {
                do { for try await e in stream { sink.yield(.event(e)) } } catch {}
                sink.yield(.ended)
            })
        }
        tasks.append(Task {
            try? await Task.sleep(until: deadline)
            if !Task.isCancelled { sink.yield(.timeout) }
        })
        defer { for t in tasks { t.cancel() }; sink.finish() }
        for await signal in signals {
            switch signal {
            case .timeout:
                return pending.sorted { $0.key < $1.key }.map { ($0.key, "timed out after \(Int(options.waitTimeoutSeconds))s: \($0.value)") }
            case .ended:
                return nil
            case .event(let e):
                guard e.type != .bookmark, let k = e.object.objectKey, let before = pending[k] else { continue }
                if e.type == .deleted { pending[k] = "not found"; continue }
                let s = ReadinessRules.status(of: e.object)
                switch s.status {
                case .current: pending[k] = nil
                case .failed: return [(k, s.message)]
                default:
                    if before != s.message { pending[k] = s.message; progress(.waiting(k, s.message)) }
                }
                if pending.isEmpty { return [] }
            }
        }
        return nil
    }
}
