extension StringProtocol {
    /// Whether `needle`'s UTF-8 bytes occur in the text's UTF-8 bytes.
    ///
    /// The standard library's `contains(_:)` compares `Character`s through the generic string
    /// processing engine: on a short path it costs microseconds, a large share of loading one
    /// small resource file. Byte comparison agrees with it for the ASCII needles this is used
    /// with (`"://"`, `".git"`), except where the text continues the match with a combining
    /// mark (`"://\u{301}"`), which no path or URL written by hand does.
    @inlinable
    public func containsUTF8(_ needle: String) -> Bool {
        var needle = needle
        return needle.withUTF8 { n -> Bool in
            if n.isEmpty { return true }
            if let found = utf8.withContiguousStorageIfAvailable({ Self.search(n, in: $0) }) { return found }
            return Array(utf8).withUnsafeBufferPointer { Self.search(n, in: $0) }
        }
    }

    @usableFromInline
    static func search(_ n: UnsafeBufferPointer<UInt8>, in h: UnsafeBufferPointer<UInt8>) -> Bool {
        guard h.count >= n.count else { return false }
        let first = n[0]
        var i = 0
        let last = h.count - n.count
        while i <= last {
            if h[i] == first {
                var j = 1
                while j < n.count && h[i + j] == n[j] { j += 1 }
                if j == n.count { return true }
            }
            i += 1
        }
        return false
    }
}
