import PatternCore
import PatternCompile
import PatternDiff
import KubeClient

/// Readiness waits between apply levels (kstatus rules from `ReadinessRules`).
///
/// Polls with backoff (50 ms doubling to `pollIntervalSeconds`) and reads the pending objects
/// with one LIST per kind (by the site's owner label), not one GET per object, reporting what
/// is waited for and why.
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
}
