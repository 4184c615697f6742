/// A map from string keys to values that keeps insertion (source) order.
///
/// Small maps (the vast majority in Kubernetes objects) are searched linearly; larger ones
/// get a hash index. Equality ignores order, as map equality does in YAML and JSON.
///
/// The entries (key, value and key mark together) live in one copy-on-write array: building
/// a map allocates once, copying an `Object` (and every `Value` that holds one) retains one
/// reference (two above `indexThreshold` keys), and the array is copied only when a shared
/// map is changed.
public struct Object: Sendable, Sequence {
    /// One entry: the key, its value, and where the key was written.
    public struct Entry: Sendable {
        public var key: String
        public var value: Value
        public var mark: Mark

        @inlinable public init(key: String, value: Value, mark: Mark) {
            self.key = key
            self.value = value
            self.mark = mark
        }
    }

    /// The hash index of a map above `indexThreshold` keys (key → position). Shared by copies
    /// of the map; replaced by a copy before a change when another map holds it too (that is
    /// what makes it Sendable: an index reachable from two maps is never written).
    @usableFromInline final class Index: @unchecked Sendable {
        @usableFromInline var positions: [String: Int]
        @usableFromInline init(_ positions: [String: Int]) { self.positions = positions }
    }

    @usableFromInline var entries: [Entry]
    @usableFromInline var index: Index?

    @usableFromInline static let indexThreshold = 12

    /// The hash index for these keys (key → position), or nil when there are too few of them
    /// to need one (they are searched linearly).
    @usableFromInline static func makeIndex<C: Collection>(_ keys: C) -> [String: Int]? where C.Element == String {
        guard keys.count > indexThreshold else { return nil }
        var idx = [String: Int](minimumCapacity: keys.count * 2)
        for (i, k) in keys.enumerated() { idx[k] = i }
        return idx
    }

    @usableFromInline static func makeIndex(entries: UnsafeBufferPointer<Entry>) -> [String: Int]? {
        guard entries.count > indexThreshold else { return nil }
        var idx = [String: Int](minimumCapacity: entries.count * 2)
        for i in entries.indices { idx[entries[i].key] = i }
        return idx
    }

    @usableFromInline static func indexBox(_ entries: [Entry]) -> Index? {
        entries.withUnsafeBufferPointer { makeIndex(entries: $0) }.map(Index.init)
    }

    public init() { entries = [] }

    /// A map of these entries as they are: the caller guarantees the keys are distinct (the
    /// YAML parser, which checked them while reading).
    init(uniqueEntries: [Entry]) {
        entries = uniqueEntries
        index = Object.indexBox(uniqueEntries)
    }

    /// A map's entries added one at a time, each refused when its key is already there, then
    /// made into one map at its size: what a parser does with the entries it reads.
    struct Gathering {
        private var entries: [Entry] = []
        private var index: [String: Int]? = nil

        init(capacity: Int) { entries.reserveCapacity(capacity) }

        /// Adds the entry and returns true; returns false, adding nothing, when `key` is
        /// already there. Keys are searched as `Object` searches them: linearly (lengths
        /// first), then through an index once there are more than `indexThreshold`.
        mutating func add(_ key: String, _ value: Value, keyMark: Mark) -> Bool {
            if let index {
                if index[key] != nil { return false }
            } else {
                let n = key.utf8.count
                if entries.contains(where: { $0.key.utf8.count == n && $0.key == key }) { return false }
            }
            entries.append(Entry(key: key, value: value, mark: keyMark))
            if index != nil {
                index![key] = entries.count - 1
            } else if entries.count > Object.indexThreshold {
                index = entries.withUnsafeBufferPointer { Object.makeIndex(entries: $0) }
            }
            return true
        }

        /// The map, with the index already built while gathering.
        consuming func object() -> Object {
            Object(entries: entries, index: index.map(Index.init))
        }
    }

    private init(entries: [Entry], index: Index?) {
        self.entries = entries
        self.index = index
    }

    public var count: Int { entries.count }
    public var isEmpty: Bool { entries.isEmpty }
    /// The keys in order (a new array: iterate the map instead where that will do).
    public var keys: [String] { entries.map(\.key) }
    /// The values in order (a new array: iterate the map instead where that will do).
    public var values: [Value] { entries.map(\.value) }

    /// Where the entries are stored: equal for maps that share their storage (tests check
    /// that what should be shared is).
    var storageIdentity: UnsafeRawPointer? {
        entries.withUnsafeBufferPointer { UnsafeRawPointer($0.baseAddress) }
    }

    public mutating func reserveCapacity(_ n: Int) { entries.reserveCapacity(n) }

    /// Position of `key`, if present.
    @inlinable public func index(of key: String) -> Int? {
        if let index { return index.positions[key] }
        // Lengths first: cheaper than a string comparison, and most keys differ in length.
        let n = key.utf8.count
        return entries.withUnsafeBufferPointer { e in
            for i in e.indices where e[i].key.utf8.count == n && e[i].key == key { return i }
            return nil
        }
    }

    @inlinable public func contains(_ key: String) -> Bool { index(of: key) != nil }

    /// Whether `predicate` holds for some value, each read in place (none is copied out).
    @inlinable public func containsValue(where predicate: (Value) throws -> Bool) rethrows -> Bool {
        try entries.withUnsafeBufferPointer { e in
            for i in e.indices where try predicate(e[i].value) { return true }
            return false
        }
    }

    /// The string at `key`, read in place (the value itself is not copied out first).
    @inlinable public func string(at key: String) -> String? {
        guard let i = index(of: key) else { return nil }
        return entries.withUnsafeBufferPointer { e in
            if case .string(let s) = e[i].value.kind { return s }
            return nil
        }
    }

    /// The map at `key`, read in place (nil when absent or not a map).
    @inlinable public func object(at key: String) -> Object? {
        guard let i = index(of: key) else { return nil }
        return entries.withUnsafeBufferPointer { e in
            if case .object(let o) = e[i].value.kind { return o }
            return nil
        }
    }

    /// Where the key itself was written in the source (for "duplicate key" and "unknown field").
    public func keyMark(_ key: String) -> Mark? { index(of: key).map { entries[$0].mark } }

    @inlinable public subscript(key: String) -> Value? {
        get {
            guard let i = index(of: key) else { return nil }
            return entries[i].value
        }
        set {
            if let newValue { set(key, newValue) } else { removeValue(forKey: key) }
        }
    }

    /// Sets `key` to `value`, keeping its position when it exists, appending otherwise.
    @inlinable public mutating func set(_ key: String, _ value: Value, keyMark: Mark = .none) {
        if let i = index(of: key) {
            entries[i].value = value
            return
        }
        append(key, value, keyMark: keyMark)
    }

    /// The index, this map's own, for a change (copied when another map shares it; kept out
    /// of line: only maps above the threshold have one).
    @usableFromInline @inline(never) mutating func uniqueIndex() -> Index {
        if !isKnownUniquelyReferenced(&index!) { index = Index(index!.positions) }
        return index!
    }

    /// Appends without checking for an existing key (the caller knows it is new).
    @inlinable public mutating func append(_ key: String, _ value: Value, keyMark: Mark = .none) {
        entries.append(Entry(key: key, value: value, mark: keyMark))
        if index != nil {
            uniqueIndex().positions[key] = entries.count - 1
        } else if entries.count > Object.indexThreshold {
            index = Object.indexBox(entries)
        }
    }

    @discardableResult
    public mutating func removeValue(forKey key: String) -> Value? {
        guard let i = index(of: key) else { return nil }
        let v = entries.remove(at: i).value
        if index != nil { index = Object.indexBox(entries) }
        return v
    }

    /// Mutates the value at `key` in place; `nil` in the closure means "absent".
    @inlinable public mutating func modify<R>(_ key: String, _ body: (inout Value?) throws -> R) rethrows -> R {
        if let i = index(of: key) {
            var v: Value? = entries[i].value
            entries[i].value = .null  // release the reference so `v` stays uniquely owned
            let r = try body(&v)
            if let v { entries[i].value = v } else { removeValue(forKey: key) }
            return r
        }
        var v: Value? = nil
        let r = try body(&v)
        if let v { append(key, v) }
        return r
    }

    /// Calls `body` on the value of every entry for which `isIncluded` holds, in place and in
    /// order; keys and positions stay as they are. (No key is looked up: what `modify` on every
    /// key does, without the searches.)
    @inlinable public mutating func updateValues(where isIncluded: (Value) throws -> Bool,
                                                 _ body: (String, inout Value) throws -> Void) rethrows {
        for i in entries.indices where try isIncluded(entries[i].value) {
            var v = entries[i].value
            entries[i].value = .null  // release the reference so `v` stays uniquely owned
            defer { entries[i].value = v }
            try body(entries[i].key, &v)
        }
    }

    /// `updateValues(where:_:)` on every entry.
    @inlinable public mutating func updateValues(_ body: (String, inout Value) throws -> Void) rethrows {
        for i in entries.indices {
            var v = entries[i].value
            entries[i].value = .null  // release the reference so `v` stays uniquely owned
            defer { entries[i].value = v }
            try body(entries[i].key, &v)
        }
    }

    /// The entries with keys sorted (for canonical output such as hashing).
    public var sortedByKey: [(key: String, value: Value)] {
        let e = entries
        return sortedIndices.map { (key: e[$0].key, value: e[$0].value) }
    }

    /// Whether the keys are in ascending order already.
    @usableFromInline var keysAreSorted: Bool {
        entries.withUnsafeBufferPointer { e in
            for i in e.indices.dropFirst() where e[i - 1].key > e[i].key { return false }
            return true
        }
    }

    /// Entry positions in key order (no copying of entries).
    public var sortedIndices: [Int] {
        if keysAreSorted { return Array(entries.indices) }
        let e = entries
        return e.indices.sorted { e[$0].key < e[$1].key }
    }

    /// Calls `body` for every entry, in key order when `sorted`, else in insertion order.
    /// (A map already in key order, as most are, is walked as it is, with no array made.)
    @inlinable public func forEachEntry(sorted: Bool, _ body: (String, Value) throws -> Void) rethrows {
        // Read in place: each key and value is lent to `body`, not copied out.
        try entries.withUnsafeBufferPointer { e in
            if sorted && !keysAreSorted {
                for i in e.indices.sorted(by: { e[$0].key < e[$1].key }) { try body(e[i].key, e[i].value) }
            } else {
                for i in e.indices { try body(e[i].key, e[i].value) }
            }
        }
    }

    /// Iterates the entries in order, as (key, value).
    public struct Iterator: IteratorProtocol {
        @usableFromInline let entries: [Entry]
        @usableFromInline var position = 0

        @inlinable init(entries: [Entry]) { self.entries = entries }

        @inlinable public mutating func next() -> (String, Value)? {
            guard position < entries.count else { return nil }
            defer { position += 1 }
            return (entries[position].key, entries[position].value)
        }
    }

    @inlinable public func makeIterator() -> Iterator { Iterator(entries: entries) }

    @inlinable public var underestimatedCount: Int { entries.count }

    /// Rebuilds the map keeping entries for which `isIncluded` is true.
    public func filter(_ isIncluded: (String, Value) throws -> Bool) rethrows -> Object {
        var kept: [Entry] = []
        for e in entries where try isIncluded(e.key, e.value) { kept.append(e) }
        return Object(uniqueEntries: kept)
    }

    /// Sorts entries by key in place.
    public mutating func sortKeys(by areInIncreasingOrder: (String, String) -> Bool = (<)) {
        let e = entries
        let order = e.indices.sorted { areInIncreasingOrder(e[$0].key, e[$1].key) }
        self = Object(uniqueEntries: order.map { e[$0] })
    }
}

extension Object: Equatable {
    public static func == (a: Object, b: Object) -> Bool {
        guard a.count == b.count else { return false }
        if a.storageIdentity == b.storageIdentity { return true }
        // Fast path: same order.
        let sameOrder = a.entries.withUnsafeBufferPointer { x in
            b.entries.withUnsafeBufferPointer { y in
                for i in x.indices where x[i].key != y[i].key { return false }
                return true
            }
        }
        if sameOrder {
            for i in a.entries.indices where a.entries[i].value != b.entries[i].value { return false }
            return true
        }
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
