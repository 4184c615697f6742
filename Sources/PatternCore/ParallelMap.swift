import Dispatch
import Synchronization

/// Order-preserving parallel map for per-object work (labelling, hashing, emitting) on all
/// cores. Small inputs run sequentially.
public enum ParallelMap {
    public static func map<T: Sendable, U: Sendable>(_ items: [T], minimum: Int = 64, _ transform: @Sendable (T) -> U) -> [U] {
        if items.count < minimum { return items.map(transform) }
        let box = Slots<U>(count: items.count)
        // Chunks keep scheduling overhead low: a few per core.
        let chunks = min(items.count, 16)
        DispatchQueue.concurrentPerform(iterations: chunks) { c in
            let lo = items.count * c / chunks, hi = items.count * (c + 1) / chunks
            var local: [U] = []
            local.reserveCapacity(hi - lo)
            for i in lo..<hi { local.append(transform(items[i])) }
            box.store(local, at: lo)
        }
        return box.values.map { $0! }
    }
}

private final class Slots<U: Sendable>: Sendable {
    private let slots: Mutex<[U?]>
    init(count: Int) { slots = Mutex(Array(repeating: nil, count: count)) }
    var values: [U?] { slots.withLock { $0 } }
    func store(_ run: [U], at start: Int) {
        slots.withLock { for (k, v) in run.enumerated() { $0[start + k] = v } }
    }
}
