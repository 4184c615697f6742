#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// Go's `map[string]interface{}`: a shared, mutable reference, as in Go. Sprig's `set`, `unset`,
/// `merge` and `mergeOverwrite` change a map in place and every holder sees it (charts rely on
/// `$_ := set $ctx "k" v`). Access is serialized by a lock, so concurrent renders that share a
/// map never crash (what one render's `set` does stays visible to the others, as in Helm).
public final class TemplateMap: @unchecked Sendable {
    // Every access to these happens under `mutex` (so none overlaps another): no dynamic
    // exclusivity checks on top of the lock.
    @exclusivity(unchecked) private var mutex = pthread_mutex_t()
    @exclusivity(unchecked) private var storage: [String: TemplateValue]

    public init(_ entries: [String: TemplateValue] = [:]) {
        storage = entries
        pthread_mutex_init(&mutex, nil)
    }

    deinit { pthread_mutex_destroy(&mutex) }

    @inline(__always) private func locked<T>(_ body: () throws -> T) rethrows -> T {
        pthread_mutex_lock(&mutex)
        defer { pthread_mutex_unlock(&mutex) }
        return try body()
    }

    public subscript(key: String) -> TemplateValue? {
        get { locked { storage[key] } }
        set { locked { storage[key] = newValue } }
    }

    public var count: Int { locked { storage.count } }
    public var isEmpty: Bool { locked { storage.isEmpty } }

    /// A copy of the entries at this moment.
    public var entries: [String: TemplateValue] { locked { storage } }

    /// Keys in Go's iteration order for templates (sorted by bytes).
    public var sortedKeys: [String] { locked { Array(storage.keys) }.sorted(by: goLess) }

    /// Entries sorted by key.
    public var sortedEntries: [(key: String, value: TemplateValue)] {
        locked { Array(storage) }.sorted { goLess($0.key, $1.key) }
    }

    @discardableResult public func removeValue(forKey key: String) -> TemplateValue? {
        locked { storage.removeValue(forKey: key) }
    }

    /// A new map with the same entries (not deep).
    public func copy() -> TemplateMap { TemplateMap(entries) }
}

/// Go's string ordering (bytewise).
@inline(__always) func goLess(_ a: String, _ b: String) -> Bool {
    a.utf8.lexicographicallyPrecedes(b.utf8)
}
