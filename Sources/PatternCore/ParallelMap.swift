import Dispatch
import Synchronization

/// Order-preserving parallel map for per-object work (labelling, hashing, emitting) on all
/// cores. Small inputs run sequentially.
public enum ParallelMap {
    ///
    /// `eachItemAlone`: every item is its own unit of work (for few, heavy items such as
    /// charts: no core ends up with two while the other is idle).
    public static func map<T: Sendable, U: Sendable>(_ items: [T], minimum: Int = 64, eachItemAlone: Bool = false,
                                                     _ transform: @Sendable (T) -> U) -> [U] {
        if items.count < minimum { return items.map(transform) }
        let box = Slots<U>(count: items.count)
        // Chunks keep scheduling overhead low: a few per core.
        let chunks = eachItemAlone ? items.count : min(items.count, 16)
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

extension ParallelMap {
    /// Runs `body` on every element in place, on all cores, and returns what each call
    /// returned, in order. Elements are mutated where they are (no copy of a shared element
    /// is made for the call), so copy-on-write trees held only by `items` are not copied.
    /// Small inputs run sequentially.
    public static func update<T: Sendable, U: Sendable>(_ items: inout [T], minimum: Int = 64,
                                                       _ body: @Sendable (inout T) -> U) -> [U] {
        let n = items.count
        if n < minimum {
            var out: [U] = []
            out.reserveCapacity(n)
            for i in 0..<n { out.append(body(&items[i])) }
            return out
        }
        return items.withUnsafeMutableBufferPointer { buffer in
            let input = UncheckedBuffer(buffer: buffer)
            return [U](unsafeUninitializedCapacity: n) { out, count in
                let output = UncheckedBuffer(buffer: out)
                let chunks = min(n, 16)
                // Each chunk touches only its own indices of both buffers.
                DispatchQueue.concurrentPerform(iterations: chunks) { c in
                    let lo = n * c / chunks, hi = n * (c + 1) / chunks
                    for i in lo..<hi { (output.buffer.baseAddress! + i).initialize(to: body(&input.buffer[i])) }
                }
                count = n
            }
        }
    }
}

/// A buffer handed to the chunks of `update`, which write disjoint index ranges of it.
private struct UncheckedBuffer<T>: @unchecked Sendable {
    let buffer: UnsafeMutableBufferPointer<T>
}

private final class Slots<U: Sendable>: Sendable {
    private let slots: Mutex<[U?]>
    init(count: Int) { slots = Mutex(Array(repeating: nil, count: count)) }
    var values: [U?] { slots.withLock { $0 } }
    func store(_ run: [U], at start: Int) {
        slots.withLock { for (k, v) in run.enumerated() { $0[start + k] = v } }
    }
}
