import PatternCore

/// One step of a path into a Kubernetes object, as server-side apply addresses fields.
///
/// - `field`: a map key (`f:name` in `fieldsV1`).
/// - `key`: a list item of an associative list, by its key fields (`k:{"name":"main"}`).
/// - `value`: an item of a set-list, by value (`v:"finalizer"`).
/// - `index`: an item of a list by position (`i:0`; rare, for lists without keys).
public enum PathElement: Sendable, Hashable, Comparable, CustomStringConvertible {
    case field(String)
    case key([KeyField])
    case value(Value)
    case index(Int)

    /// One key field of an associative list item (`name: main`).
    public struct KeyField: Sendable, Hashable {
        public var name: String
        public var value: Value
        public init(_ name: String, _ value: Value) { self.name = name; self.value = value }
    }

    /// The `fieldsV1` spelling: `f:name`, `k:{"containerPort":8080,"protocol":"TCP"}`, `v:"x"`, `i:0`.
    public var fieldsV1Key: String {
        switch self {
        case .field(let f): return "f:" + f
        case .key(let fields):
            var o = Object()
            for f in fields.sorted(by: { $0.name < $1.name }) { o.append(f.name, f.value) }
            return "k:" + JSONWriter.string(.object(o))
        case .value(let v): return "v:" + JSONWriter.string(v)
        case .index(let i): return "i:\(i)"
        }
    }

    /// Parses one `fieldsV1` key; nil for `.` (the self marker) or an unknown prefix.
    public init?(fieldsV1Key s: String) {
        guard s.count >= 2 else { return nil }
        let prefix = s.prefix(2)
        let rest = String(s.dropFirst(2))
        switch prefix {
        case "f:": self = .field(rest)
        case "k:":
            guard let v = try? JSONParser.parse(rest), let o = v.object else { return nil }
            self = .key(o.map { KeyField($0.0, $0.1) }.sorted { $0.name < $1.name })
        case "v:":
            guard let v = try? JSONParser.parse(rest) else { return nil }
            self = .value(v)
        case "i:":
            guard let i = Int(rest) else { return nil }
            self = .index(i)
        default: return nil
        }
    }

    /// Human spelling used in diffs and drift tables: `.image`, `[name=main]`, `[=x]`, `[0]`.
    public var description: String {
        switch self {
        case .field(let f):
            if f.allSatisfy({ $0.isLetter || $0.isNumber || $0 == "_" || $0 == "-" }) { return "." + f }
            return "[" + JSONWriter.string(.string(f)) + "]"
        case .key(let fields):
            return "[" + fields.map { "\($0.name)=\($0.value.scalarText ?? JSONWriter.string($0.value))" }.joined(separator: ",") + "]"
        case .value(let v): return "[=" + (v.scalarText ?? JSONWriter.string(v)) + "]"
        case .index(let i): return "[\(i)]"
        }
    }

    public static func < (a: PathElement, b: PathElement) -> Bool { a.fieldsV1Key < b.fieldsV1Key }
}

/// A path into an object: `.spec.template.spec.containers[name=main].image`.
public struct FieldPath: Sendable, Hashable, Comparable, CustomStringConvertible {
    public var elements: [PathElement]
    public init(_ elements: [PathElement] = []) { self.elements = elements }
    /// A path of map keys only.
    public init(fields: [String]) { self.elements = fields.map { .field($0) } }

    public var isEmpty: Bool { elements.isEmpty }
    public var count: Int { elements.count }
    public func appending(_ e: PathElement) -> FieldPath { FieldPath(elements + [e]) }
    public var parent: FieldPath { FieldPath(Array(elements.dropLast())) }
    public var last: PathElement? { elements.last }

    /// True when `self` is `other` or starts with it.
    public func hasPrefix(_ other: FieldPath) -> Bool {
        other.elements.count <= elements.count && Array(elements.prefix(other.elements.count)) == other.elements
    }

    /// The leading map keys (`["spec", "template"]` …) up to the first list step.
    public var leadingFields: [String] {
        var out: [String] = []
        for e in elements { if case .field(let f) = e { out.append(f) } else { break } }
        return out
    }

    /// All field names on the path (list steps skipped), for context rules (quantities, secrets).
    public var fieldNames: [String] {
        elements.compactMap { if case .field(let f) = $0 { return f } else { return nil } }
    }

    public var description: String { elements.isEmpty ? "." : elements.map(\.description).joined() }

    public static func < (a: FieldPath, b: FieldPath) -> Bool {
        for (x, y) in zip(a.elements, b.elements) where x != y { return x < y }
        return a.elements.count < b.elements.count
    }
}

/// A set of field paths, as a trie: the decoded form of a managedFields `fieldsV1` entry.
///
/// A path is a *member* when the manager owns it. In `fieldsV1`, a key with an empty object
/// (`"f:image": {}`) is a member leaf; `".": {}` inside a key marks the key itself as a member
/// while its children are listed beside it (list items, granular maps).
public struct FieldSet: Sendable, Hashable {
    public var isMember: Bool = false
    public var children: [PathElement: FieldSet] = [:]

    public init() {}

    /// Decodes a `fieldsV1` value. Unknown keys are skipped (forward compatibility).
    public init(fieldsV1: Value) {
        self.init()
        guard let o = fieldsV1.object else { return }
        for (k, v) in o {
            if k == "." { isMember = true; continue }
            guard let e = PathElement(fieldsV1Key: k) else { continue }
            var child = FieldSet(fieldsV1: v)
            if (v.object?.isEmpty ?? true) { child.isMember = true }
            children[e] = child
        }
    }

    public var isEmpty: Bool { !isMember && children.isEmpty }

    /// Encodes as `fieldsV1` with keys sorted, as the API server writes it.
    public var fieldsV1: Value {
        var o = Object()
        if isMember && !children.isEmpty { o.append(".", .emptyObject) }
        for (e, child) in children.sorted(by: { $0.key.fieldsV1Key < $1.key.fieldsV1Key }) {
            o.append(e.fieldsV1Key, child.fieldsV1)
        }
        return .object(o)
    }

    public mutating func insert(_ path: FieldPath) { insert(path.elements[...]) }

    private mutating func insert(_ path: ArraySlice<PathElement>) {
        guard let first = path.first else { isMember = true; return }
        var child = children[first] ?? FieldSet()
        child.insert(path.dropFirst())
        children[first] = child
    }

    /// The sub-trie at `path`, if any node exists there.
    public func node(at path: FieldPath) -> FieldSet? {
        var cur = self
        for e in path.elements {
            guard let c = cur.children[e] else { return nil }
            cur = c
        }
        return cur
    }

    /// True when `path` itself is a member.
    public func has(_ path: FieldPath) -> Bool { node(at: path)?.isMember ?? false }

    /// True when the path is a member, or lies under a member leaf (an atomic value owned as a
    /// whole, such as `f:selector: {}` or `f:versions: {}`).
    public func owns(_ path: FieldPath) -> Bool {
        var cur = self
        var depth = 0
        for e in path.elements {
            if depth > 0 && cur.isMember && cur.children.isEmpty { return true }
            guard let c = cur.children[e] else { return false }
            cur = c
            depth += 1
        }
        return cur.isMember
    }

    /// True when the path is owned or any member lies beneath it.
    public func touches(_ path: FieldPath) -> Bool {
        if owns(path) { return true }
        guard let n = node(at: path) else { return false }
        return !n.isEmpty
    }

    /// All member paths, sorted.
    public var members: [FieldPath] {
        var out: [FieldPath] = []
        collect(FieldPath(), into: &out)
        return out.sorted()
    }

    /// Member paths that have no members below them (the leaves of the ownership tree).
    public var leaves: [FieldPath] { members.filter { node(at: $0)?.children.isEmpty ?? true } }

    private func collect(_ prefix: FieldPath, into out: inout [FieldPath]) {
        if isMember && !prefix.isEmpty { out.append(prefix) }
        for (e, c) in children { c.collect(prefix.appending(e), into: &out) }
    }
}
