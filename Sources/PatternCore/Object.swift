/// A map from string keys to values that keeps insertion (source) order.
///
/// Small maps (the vast majority in Kubernetes objects) are searched linearly; larger ones
/// get a hash index. Equality ignores order, as map equality does in YAML and JSON.
public struct Object: Sendable, Sequence {
    @usableFromInline var keys_: [String] = []
    @usableFromInline var values_: [Value] = []
    @usableFromInline var keyMarks_: [Mark] = []
    @usableFromInline var index_: [String: Int]? = nil

    @usableFromInline static let indexThreshold = 12

    public init() {}

    public var count: Int { keys_.count }
    public var isEmpty: Bool { keys_.isEmpty }
    public var keys: [String] { keys_ }
    public var values: [Value] { values_ }

    public mutating func reserveCapacity(_ n: Int) {
        keys_.reserveCapacity(n); values_.reserveCapacity(n); keyMarks_.reserveCapacity(n)
    }

    /// Position of `key`, if present.
    @inlinable public func index(of key: String) -> Int? {
        if let index_ { return index_[key] }
        for i in keys_.indices where keys_[i] == key { return i }
        return nil
    }

    @inlinable public func contains(_ key: String) -> Bool { index(of: key) != nil }

    /// Where the key itself was written in the source (for "duplicate key" and "unknown field").
    public func keyMark(_ key: String) -> Mark? { index(of: key).map { keyMarks_[$0] } }

    @inlinable public subscript(key: String) -> Value? {
        get { index(of: key).map { values_[$0] } }
        set {
            if let newValue { set(key, newValue) } else { removeValue(forKey: key) }
        }
    }

    /// Sets `key` to `value`, keeping its position when it exists, appending otherwise.
    @inlinable public mutating func set(_ key: String, _ value: Value, keyMark: Mark = .none) {
        if let i = index(of: key) {
            values_[i] = value
            return
        }
        append(key, value, keyMark: keyMark)
    }

    /// Appends without checking for an existing key (the caller knows it is new).
    @inlinable public mutating func append(_ key: String, _ value: Value, keyMark: Mark = .none) {
        keys_.append(key)
        values_.append(value)
        keyMarks_.append(keyMark)
        if index_ != nil {
            index_![key] = keys_.count - 1
        } else if keys_.count > Object.indexThreshold {
            var idx = [String: Int](minimumCapacity: keys_.count * 2)
            for (i, k) in keys_.enumerated() { idx[k] = i }
            index_ = idx
        }
    }

    @discardableResult
    public mutating func removeValue(forKey key: String) -> Value? {
        guard let i = index(of: key) else { return nil }
        let v = values_[i]
        keys_.remove(at: i); values_.remove(at: i); keyMarks_.remove(at: i)
        if index_ != nil {
            if keys_.count <= Object.indexThreshold {
                index_ = nil
            } else {
                var idx = [String: Int](minimumCapacity: keys_.count * 2)
                for (j, k) in keys_.enumerated() { idx[k] = j }
                index_ = idx
            }
        }
        return v
    }

    /// Mutates the value at `key` in place; `nil` in the closure means "absent".
    @inlinable public mutating func modify<R>(_ key: String, _ body: (inout Value?) throws -> R) rethrows -> R {
        if let i = index(of: key) {
            var v: Value? = values_[i]
            values_[i] = .null
            let r = try body(&v)
            if let v { values_[i] = v } else { removeValue(forKey: key) }
            return r
        }
        var v: Value? = nil
        let r = try body(&v)
        if let v { append(key, v) }
        return r
    }

    /// The entries with keys sorted (for canonical output such as hashing).
    public var sortedByKey: [(key: String, value: Value)] {
        sortedIndices.map { (key: keys_[$0], value: values_[$0]) }
    }

    /// Entry positions in key order (no copying of entries; free when already sorted).
    public var sortedIndices: [Int] {
        var sorted = true
        for i in keys_.indices.dropFirst() where keys_[i - 1] > keys_[i] { sorted = false; break }
        if sorted { return Array(keys_.indices) }
        return keys_.indices.sorted { keys_[$0] < keys_[$1] }
    }

    /// Calls `body` for every entry, in key order when `sorted`, else in insertion order.
    @inlinable public func forEachEntry(sorted: Bool, _ body: (String, Value) throws -> Void) rethrows {
        if sorted {
            for i in sortedIndices { try body(keys_[i], values_[i]) }
        } else {
            for i in keys_.indices { try body(keys_[i], values_[i]) }
        }
    }

    public func makeIterator() -> Zip2Sequence<[String], [Value]>.Iterator {
        zip(keys_, values_).makeIterator()
    }

    /// Rebuilds the map keeping entries for which `isIncluded` is true.
    public func filter(_ isIncluded: (String, Value) throws -> Bool) rethrows -> Object {
        var o = Object()
        for i in keys_.indices where try isIncluded(keys_[i], values_[i]) {
            o.append(keys_[i], values_[i], keyMark: keyMarks_[i])
        }
        return o
    }

    /// Sorts entries by key in place.
    public mutating func sortKeys(by areInIncreasingOrder: (String, String) -> Bool = (<)) {
        let order = keys_.indices.sorted { areInIncreasingOrder(keys_[$0], keys_[$1]) }
        let k = keys_, v = values_, m = keyMarks_
        keys_ = order.map { k[$0] }; values_ = order.map { v[$0] }; keyMarks_ = order.map { m[$0] }
        if index_ != nil {
            var idx = [String: Int](minimumCapacity: keys_.count * 2)
            for (i, key) in keys_.enumerated() { idx[key] = i }
            index_ = idx
        }
    }
}

extension Object: Equatable {
    public static func == (a: Object, b: Object) -> Bool {
        guard a.count == b.count else { return false }
        // Fast path: same order.
        if a.keys_ == b.keys_ { return a.values_ == b.values_ }
        for (k, v) in a {
            guard let w = b[k], v == w else { return false }
        }
        return true
    }
}

extension Object: Hashable {
    public func hash(into h: inout Hasher) { Value(.object(self)).hash(into: &h) }
}

extension Object: ExpressibleByDictionaryLiteral {
    public init(dictionaryLiteral elements: (String, Value)...) {
        self.init()
        for (k, v) in elements { self[k] = v }
    }
}
