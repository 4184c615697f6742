import Synchronization

/// At most `limit` reconciles at once across all PatternSyncs (`--concurrent`), as
/// controller-runtime's `MaxConcurrentReconciles` and Flux's `--concurrent`: a cold start of
/// 1,000 sites renders, observes and applies a bounded number at a time instead of all of them
/// at once, which bounds peak memory and keeps the API servers and the render threads busy
/// rather than thrashing. Waiters are served in arrival order.
public final class ReconcileLimiter: Sendable {
    private struct State: Sendable {
        var available: Int
        var next = 0
        var waiters: [(id: Int, continuation: CheckedContinuation<Bool, Never>)] = []
    }
    private let state: Mutex<State>
    public let limit: Int

    public init(limit: Int) {
        self.limit = max(1, limit)
        state = Mutex(State(available: max(1, limit)))
    }

    /// Reconciles running now.
    public var running: Int { state.withLock { limit - $0.available } }
    /// Reconciles waiting for a slot.
    public var waiting: Int { state.withLock { $0.waiters.count } }

    /// Waits for a slot; false when the task was cancelled first (then nothing is held).
    public func acquire() async -> Bool {
        let id = state.withLock { s -> Int in s.next += 1; return s.next }
        return await withTaskCancellationHandler {
            await withCheckedContinuation { (c: CheckedContinuation<Bool, Never>) in
                let now = state.withLock { s -> Bool? in
                    if s.available > 0 { s.available -= 1; return true }
                    if Task.isCancelled { return false }
                    s.waiters.append((id, c))
                    return nil
                }
                if let now { c.resume(returning: now) }
            }
        } onCancel: {
            let w = state.withLock { s -> CheckedContinuation<Bool, Never>? in
                guard let i = s.waiters.firstIndex(where: { $0.id == id }) else { return nil }
                return s.waiters.remove(at: i).continuation
            }
            w?.resume(returning: false)
        }
    }

    /// Gives a slot back (to the longest waiter, if any).
    public func release() {
        let w = state.withLock { s -> CheckedContinuation<Bool, Never>? in
            if s.waiters.isEmpty { s.available += 1; return nil }
            return s.waiters.removeFirst().continuation
        }
        w?.resume(returning: true)
    }
}
