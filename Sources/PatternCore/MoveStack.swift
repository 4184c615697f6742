/// A stack whose top run of elements moves out as an array: the YAML builder's scratch for the
/// entries of open maps and lists.
///
/// Taking a map's entries out of an `Array` scratch copied them (retaining every key and value)
/// and then removed them (releasing each again, through the generic `replaceSubrange`): about a
/// twentieth of a build's instructions. Here they are moved, with no reference counting.
struct MoveStack<Element>: ~Copyable {
    private var base: UnsafeMutablePointer<Element>
    private var capacity: Int
    /// Elements on the stack.
    private(set) var count = 0

    init(capacity: Int = 64) {
        self.capacity = max(capacity, 1)
        base = .allocate(capacity: self.capacity)
    }

    deinit {
        base.deinitialize(count: count)
        base.deallocate()
    }

    @inline(__always)
    mutating func append(_ element: Element) {
        if count == capacity { grow() }
        (base + count).initialize(to: element)
        count += 1
    }

    private mutating func grow() {
        let bigger = capacity * 2
        let moved = UnsafeMutablePointer<Element>.allocate(capacity: bigger)
        moved.moveInitialize(from: base, count: count)
        base.deallocate()
        base = moved
        capacity = bigger
    }

    /// The element at `i` (`0 ..< count`).
    @inline(__always)
    subscript(i: Int) -> Element {
        get {
            precondition(i >= 0 && i < count, "MoveStack index out of range")
            return base[i]
        }
        set {
            precondition(i >= 0 && i < count, "MoveStack index out of range")
            base[i] = newValue
        }
    }

    /// The elements from `start` on, in place (valid until the stack next changes).
    func withElements<R>(from start: Int, _ body: (UnsafeBufferPointer<Element>) -> R) -> R {
        precondition(start >= 0 && start <= count, "MoveStack start out of range")
        return body(UnsafeBufferPointer(start: base + start, count: count - start))
    }

    /// The elements from `start` on, moved into an array of exactly that size and removed.
    @inline(__always)
    mutating func take(from start: Int) -> [Element] {
        precondition(start >= 0 && start <= count, "MoveStack start out of range")
        let n = count - start
        if n == 0 { return [] }
        // Appended one by one (each `move()` hands over its reference): the array's storage
        // is then allocated through the specialized path. `Array(unsafeUninitializedCapacity:)`
        // calls a generic allocator that looks the storage type up at run time, every call.
        var out: [Element] = []
        out.reserveCapacity(n)
        for i in start..<count { out.append((base + i).move()) }
        count = start
        return out
    }
}
