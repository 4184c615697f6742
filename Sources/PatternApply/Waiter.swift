import PatternCore
import PatternCompile
import PatternDiff
import KubeClient

/// Readiness waits between apply levels (kstatus rules from `ReadinessRules`): polls the
/// objects of a level that are not ready yet, reporting what is waited for and why.
struct Waiter: Sendable {
    let client: KubeClient
    let options: ApplyOptions

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
        var failures: [(ObjectKey, String)] = []
        while !pending.isEmpty {
            for (k, msg) in pending.sorted(by: { $0.key < $1.key }) { progress(.waiting(k, msg)) }
            if ContinuousClock.now >= deadline {
                return pending.sorted { $0.key < $1.key }.map { ($0.key, "timed out after \(Int(options.waitTimeoutSeconds))s: \($0.value)") }
            }
            try? await Task.sleep(for: .milliseconds(Int(options.pollIntervalSeconds * 1000)))
            for k in pending.keys.sorted() {
                guard let gvk = objects[k]?.object.gvk else { pending[k] = nil; continue }
                do {
                    guard let live = try await client.getIfPresent(gvk, name: k.name, namespace: k.namespace.isEmpty ? nil : k.namespace) else {
                        pending[k] = "not found"
                        continue
                    }
                    let s = ReadinessRules.status(of: live)
                    switch s.status {
                    case .current: pending[k] = nil
                    case .failed: failures.append((k, s.message)); pending[k] = nil
                    default: pending[k] = s.message
                    }
                } catch {
                    pending[k] = "cannot read it: \(error)"
                }
            }
            if !failures.isEmpty { return failures }
        }
        return failures
    }
}
