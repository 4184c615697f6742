/// A map from string keys to values that keeps insertion (source) order.
///
/// Small maps (the vast majority in Kubernetes objects) are searched linearly; larger ones
/// get a hash index. Equality ignores order, as map equality does in YAML and JSON.
///
/// The entries live in one copy-on-write box, so copying an `Object` (and every `Value` that
/// holds one) retains one reference instead of one per array; the box is copied only when a
/// shared map is changed.
public struct Object: Sendable, Sequence {
    /// The entries: three parallel arrays plus, above `indexThreshold` keys, a hash index.
    /// Mutated only through `Object`'s mutating members after `makeUnique()`, so a box
    /// reachable from two `Object`s is never written (that is what makes it Sendable).
    @usableFromInline final class Storage: @unchecked Sendable {
        @usableFromInline var keys: [String]
        @usableFromInline var values: [Value]
        @usableFromInline var marks: [Mark]
        @usableFromInline var index: [String: Int]?

        @usableFromInline init(keys: [String] = [], values: [Value] = [], marks: [Mark] = [], index: [String: Int]? = nil) {
            self.keys = keys
            self.values = values
            self.marks = marks
            self.index = index
        }

        @usableFromInline func copy() -> Storage { Storage(keys: keys, values: values, marks: marks, index: index) }
    }

    /// Shared by every empty map built with `init()` until it is first changed.
    @usableFromInline static let empty = Storage()

    @usableFromInline var box: Storage

    @usableFromInline static let indexThreshold = 12

    /// The hash index for these keys (key → position), or nil when there are too few of them
    /// to need one (they are searched linearly).
    @usableFromInline static func makeIndex<C: Collection>(_ keys: C) -> [String: Int]? where C.Element == String {
        guard keys.count > indexThreshold else { return nil }
        var idx = [String: Int](minimumCapacity: keys.count * 2)
        for (i, k) in keys.enumerated() { idx[k] = i }
        return idx
    }

    public init() { box = Object.empty }

    /// A map of these entries as they are: the caller guarantees the keys are distinct (the
    /// YAML parser, which checked them while reading).
    init(uniqueKeys keys: [String], values: [Value], marks: [Mark]) {
        box = Storage(keys: keys, values: values, marks: marks, index: Object.makeIndex(keys))
    }

    /// A map's entries added one at a time, each refused when its key is already there, then
    /// made into one map at its size: what a parser does with the entries it reads (appending
    /// to an `Object` instead re-checks its storage and regrows three arrays per entry).
    struct Gathering {
        private var keys: [String] = [], values: [Value] = [], marks: [Mark] = []
        private var index: [String: Int]? = nil

        init(capacity: Int) {
            keys.reserveCapacity(capacity); values.reserveCapacity(capacity); marks.reserveCapacity(capacity)
        }

        /// Adds the entry and returns true; returns false, adding nothing, when `key` is
        /// already there. Keys are searched as `Object` searches them: linearly (lengths
        /// first), then through an index once there are more than `indexThreshold`.
        mutating func add(_ key: String, _ value: Value, keyMark: Mark) -> Bool {
            if let index {
                if index[key] != nil { return false }
            } else {
                let n = key.utf8.count
                if keys.contains(where: { $0.utf8.count == n && $0 == key }) { return false }
            }
            keys.append(key); values.append(value); marks.append(keyMark)
            if index != nil {
                index![key] = keys.count - 1
            } else if keys.count > Object.indexThreshold {
                index = Object.makeIndex(keys)
            }
            return true
        }

        /// The map, with the index already built while gathering.
        consuming func object() -> Object {
            Object(box: Storage(keys: keys, values: values, marks: marks, index: index))
        }
    }

    private init(box: Storage) { self.box = box }

    @usableFromInline var keys_: [String] { box.keys }
    @usableFromInline var values_: [Value] { box.values }
    @usableFromInline var keyMarks_: [Mark] { box.marks }
    @usableFromInline var index_: [String: Int]? { box.index }

    /// Makes the box this map's own before a change (kept out of line: the copy is the rare
    /// path, and every mutating member calls this).
    @usableFromInline @inline(never) mutating func makeUnique() {
        if !isKnownUniquelyReferenced(&box) { box = box.copy() }
    }

    public var count: Int { keys_.count }
    public var isEmpty: Bool { keys_.isEmpty }
    public var keys: [String] { keys_ }
    public var values: [Value] { values_ }

    public mutating func reserveCapacity(_ n: Int) {
        makeUnique()
        box.keys.reserveCapacity(n); box.values.reserveCapacity(n); box.marks.reserveCapacity(n)
    }

    /// Position of `key`, if present.
    @inlinable public func index(of key: String) -> Int? {
        let b = box
        if let index = b.index { return index[key] }
        let keys = b.keys
        // Lengths first: cheaper than a string comparison, and most keys differ in length.
        let n = key.utf8.count
        for i in keys.indices where keys[i].utf8.count == n && keys[i] == key { return i }
        return nil
    }

    @inlinable public func contains(_ key: String) -> Bool { index(of: key) != nil }

    /// Where the key itself was written in the source (for "duplicate key" and "unknown field").
    public func keyMark(_ key: String) -> Mark? { index(of: key).map { keyMarks_[$0] } }

    @inlinable public subscript(key: String) -> Value? {
        get {
            guard let i = index(of: key) else { return nil }
            return box.values[i]
        }
        set {
            if let newValue { set(key, newValue) } else { removeValue(forKey: key) }
        }
    }

    /// Sets `key` to `value`, keeping its position when it exists, appending otherwise.
    @inlinable public mutating func set(_ key: String, _ value: Value, keyMark: Mark = .none) {
        if let i = index(of: key) {
            makeUnique()
            box.values[i] = value
            return
        }
        append(key, value, keyMark: keyMark)
    }

    /// Appends without checking for an existing key (the caller knows it is new).
    @inlinable public mutating func append(_ key: String, _ value: Value, keyMark: Mark = .none) {
        makeUnique()
        let b = box
        b.keys.append(key)
        b.values.append(value)
        b.marks.append(keyMark)
        if b.index != nil {
            b.index![key] = b.keys.count - 1
        } else if b.keys.count > Object.indexThreshold {
            b.index = Object.makeIndex(b.keys)
        }
    }

    @discardableResult
    public mutating func removeValue(forKey key: String) -> Value? {
        guard let i = index(of: key) else { return nil }
        makeUnique()
        let b = box
        let v = b.values[i]
        b.keys.remove(at: i); b.values.remove(at: i); b.marks.remove(at: i)
        if b.index != nil { b.index = Object.makeIndex(b.keys) }
        return v
    }

    /// Mutates the value at `key` in place; `nil` in the closure means "absent".
    @inlinable public mutating func modify<R>(_ key: String, _ body: (inout Value?) throws -> R) rethrows -> R {
        if let i = index(of: key) {
            makeUnique()
            var v: Value? = box.values[i]
            box.values[i] = .null
            let r = try body(&v)
            if let v { box.values[i] = v } else { removeValue(forKey: key) }
            return r
        }
        var v: Value? = nil
        let r = try body(&v)
        if let v { append(key, v) }
        return r
    }

    /// The entries with keys sorted (for canonical output such as hashing).
    public var sortedByKey: [(key: String, value: Value)] {
        let k = keys_, v = values_
        return sortedIndices.map { (key: k[$0], value: v[$0]) }
    }

    /// Entry positions in key order (no copying of entries; free when already sorted).
    public var sortedIndices: [Int] {
        let k = keys_
        var sorted = true
        for i in k.indices.dropFirst() where k[i - 1] > k[i] { sorted = false; break }
        if sorted { return Array(k.indices) }
        return k.indices.sorted { k[$0] < k[$1] }
    }

    /// Calls `body` for every entry, in key order when `sorted`, else in insertion order.
    @inlinable public func forEachEntry(sorted: Bool, _ body: (String, Value) throws -> Void) rethrows {
        let k = keys_, v = values_
        if sorted {
            for i in sortedIndices { try body(k[i], v[i]) }
        } else {
            for i in k.indices { try body(k[i], v[i]) }
        }
    }

    public func makeIterator() -> Zip2Sequence<[String], [Value]>.Iterator {
        zip(keys_, values_).makeIterator()
    }

    /// Rebuilds the map keeping entries for which `isIncluded` is true.
    public func filter(_ isIncluded: (String, Value) throws -> Bool) rethrows -> Object {
        let k = keys_, v = values_, m = keyMarks_
        var o = Object()
        for i in k.indices where try isIncluded(k[i], v[i]) {
            o.append(k[i], v[i], keyMark: m[i])
        }
        return o
    }

    /// Sorts entries by key in place.
    public mutating func sortKeys(by areInIncreasingOrder: (String, String) -> Bool = (<)) {
        let k = keys_, v = values_, m = keyMarks_
        let order = k.indices.sorted { areInIncreasingOrder(k[$0], k[$1]) }
        let keys = order.map { k[$0] }
        box = Storage(keys: keys, values: order.map { v[$0] }, marks: order.map { m[$0] }, index: Object.makeIndex(keys))
    }
}

extension Object: Equatable {
    public static func == (a: Object, b: Object) -> Bool {
        if a.box === b.box { return true }
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
