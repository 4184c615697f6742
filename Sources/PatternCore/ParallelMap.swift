import Dispatch

/// Order-preserving parallel map for per-object work (labelling, hashing, emitting) on all
/// cores. Small inputs run sequentially.
public enum ParallelMap {
    ///
    /// `eachItemAlone`: every item is its own unit of work (for few, heavy items such as
    /// charts: no core ends up with two while the other is idle).
    public static func map<T: Sendable, U: Sendable>(_ items: [T], minimum: Int = 64, eachItemAlone: Bool = false,
                                                     _ transform: @Sendable (T) -> U) -> [U] {
        let n = items.count
        if n < minimum { return items.map(transform) }
        // Chunks keep scheduling overhead low: a few per core. Each chunk initializes its own
        // index range of the result in place (no lock, no optional slots, no final copy).
        let chunks = eachItemAlone ? n : min(n, 16)
        return items.withUnsafeBufferPointer { input in
            let source = UncheckedConstBuffer(buffer: input)
            return [U](unsafeUninitializedCapacity: n) { out, count in
                let output = UncheckedBuffer(buffer: out)
                DispatchQueue.concurrentPerform(iterations: chunks) { c in
                    let lo = n * c / chunks, hi = n * (c + 1) / chunks
                    for i in lo..<hi { (output.buffer.baseAddress! + i).initialize(to: transform(source.buffer[i])) }
                }
                count = n
            }
        }
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

/// The input of `map`, read by every chunk.
private struct UncheckedConstBuffer<T>: @unchecked Sendable {
    let buffer: UnsafeBufferPointer<T>
}
