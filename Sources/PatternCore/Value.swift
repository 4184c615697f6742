/// An untyped YAML/JSON value: the currency of the whole pipeline (pattern files, values,
/// Kubernetes objects, API bodies).
///
/// Maps keep their source key order (`Object`); every value remembers where it was parsed
/// (`mark`) so errors can point at the source. Equality and hashing are structural and ignore
/// marks and map key order, as Kubernetes does.
public struct Value: Sendable {
    public enum Kind: Sendable {
        case null
        case bool(Bool)
        case int(Int)
        case double(Double)
        case string(String)
        case array([Value])
        case object(Object)
    }

    public var kind: Kind
    public var mark: Mark
    /// True for strings written quoted (or as block scalars) in YAML, and for JSON strings.
    /// Substitution uses it as Flux's textual substitution would: a plain `${n}` takes the
    /// variable's type, a quoted `"${n}"` stays a string. Ignored by equality.
    public var quoted: Bool

    @inlinable public init(_ kind: Kind, mark: Mark = .none, quoted: Bool = false) {
        self.kind = kind
        self.mark = mark
        self.quoted = quoted
    }

    public static let null = Value(.null)
    @inlinable public static func bool(_ b: Bool) -> Value { Value(.bool(b)) }
    @inlinable public static func int(_ i: Int) -> Value { Value(.int(i)) }
    @inlinable public static func double(_ d: Double) -> Value { Value(.double(d)) }
    @inlinable public static func string(_ s: String) -> Value { Value(.string(s)) }
    @inlinable public static func array(_ a: [Value]) -> Value { Value(.array(a)) }
    @inlinable public static func object(_ o: Object) -> Value { Value(.object(o)) }
    public static var emptyObject: Value { Value(.object(Object())) }

    // MARK: Typed views

    @inlinable public var isNull: Bool { if case .null = kind { return true } else { return false } }
    @inlinable public var string: String? { if case .string(let s) = kind { return s } else { return nil } }
    @inlinable public var bool: Bool? { if case .bool(let b) = kind { return b } else { return nil } }
    @inlinable public var int: Int? { if case .int(let i) = kind { return i } else { return nil } }
    @inlinable public var array: [Value]? { if case .array(let a) = kind { return a } else { return nil } }
    @inlinable public var object: Object? { if case .object(let o) = kind { return o } else { return nil } }
    /// Int or Double as a Double.
    public var number: Double? {
        switch kind {
        case .int(let i): return Double(i)
        case .double(let d): return d
        default: return nil
        }
    }
    public var isScalar: Bool {
        switch kind {
        case .array, .object: return false
        default: return true
        }
    }

    /// A short name of the value's type for error messages ("a map", "a string", …).
    public var typeName: String {
        switch kind {
        case .null: return "null"
        case .bool: return "a boolean"
        case .int: return "an integer"
        case .double: return "a number"
        case .string: return "a string"
        case .array: return "a list"
        case .object: return "a map"
        }
    }

    /// The scalar as text, as it would be substituted into a string ("3", "true", "x").
    /// Nil for maps and lists.
    public var scalarText: String? {
        switch kind {
        case .null: return ""
        case .bool(let b): return b ? "true" : "false"
        case .int(let i): return String(i)
        case .double(let d): return YAMLScalar.format(d)
        case .string(let s): return s
        case .array, .object: return nil
        }
    }

    // MARK: Map access

    /// The value at `key` when this is a map; nil otherwise.
    @inlinable public subscript(key: String) -> Value? {
        get {
            if case .object(let o) = kind { return o[key] }
            return nil
        }
        set {
            guard case .object(var o) = kind else {
                if let newValue {
                    var o = Object()
                    o[key] = newValue
                    kind = .object(o)
                }
                return
            }
            kind = .null  // release the reference so `o` stays uniquely owned
            o[key] = newValue
            kind = .object(o)
        }
    }

    /// The value at a path of map keys (`["metadata", "name"]`).
    public subscript(path path: [String]) -> Value? {
        get {
            var cur: Value? = self
            for k in path { cur = cur?[k]; if cur == nil { return nil } }
            return cur
        }
        set { setPath(path[...], newValue) }
    }

    /// The setter of `subscript(path:)`, in place: each map on the way is mutated where it is
    /// (no copy of a map another value does not share, no array per level). Missing or
    /// non-map steps become empty maps when something is set; removing leaves them alone.
    @usableFromInline mutating func setPath(_ path: ArraySlice<String>, _ newValue: Value?) {
        guard let first = path.first else { if let newValue { self = newValue }; return }
        if path.count == 1 { self[first] = newValue; return }
        let rest = path.dropFirst()
        guard case .object(var o) = kind else {
            guard newValue != nil else { return }
            var child = Value.emptyObject
            child.setPath(rest, newValue)
            self[first] = child
            return
        }
        kind = .null  // release the reference so `o` stays uniquely owned
        o.modify(first) { child in
            if child?.object == nil {
                if newValue == nil { return }
                child = .emptyObject
            }
            child!.setPath(rest, newValue)
        }
        kind = .object(o)
    }

    /// Applies `body` to the map stored here in place (creating an empty map when this is not one).
    @inlinable public mutating func withObject<R>(_ body: (inout Object) throws -> R) rethrows -> R {
        var o: Object
        if case .object(let existing) = kind { o = existing } else { o = Object() }
        kind = .null
        defer { kind = .object(o) }
        return try body(&o)
    }

    /// Applies `body` to the list stored here in place (creating an empty list when this is not one).
    @inlinable public mutating func withArray<R>(_ body: (inout [Value]) throws -> R) rethrows -> R {
        var a: [Value]
        if case .array(let existing) = kind { a = existing } else { a = [] }
        kind = .null
        defer { kind = .array(a) }
        return try body(&a)
    }
}

// MARK: Structural equality (marks and map order ignored)

extension Value: Equatable {
    public static func == (a: Value, b: Value) -> Bool {
        switch (a.kind, b.kind) {
        case (.null, .null): return true
        case let (.bool(x), .bool(y)): return x == y
        case let (.int(x), .int(y)): return x == y
        case let (.double(x), .double(y)): return x == y
        case let (.int(x), .double(y)), let (.double(y), .int(x)): return Double(x) == y
        case let (.string(x), .string(y)): return x == y
        case let (.array(x), .array(y)): return x == y
        case let (.object(x), .object(y)): return x == y
        default: return false
        }
    }
}

extension Value: Hashable {
    public func hash(into h: inout Hasher) {
        switch kind {
        case .null: h.combine(0)
        case .bool(let b): h.combine(b)
        case .int(let i): h.combine(Double(i))
        case .double(let d): h.combine(d)
        case .string(let s): h.combine(s)
        case .array(let a): h.combine(a.count); for v in a { v.hash(into: &h) }
        case .object(let o):
            // Order-independent: combine per-entry hashes commutatively.
            var acc = 0
            for (k, v) in o { var eh = Hasher(); eh.combine(k); v.hash(into: &eh); acc ^= eh.finalize() }
            h.combine(o.count); h.combine(acc)
        }
    }
}

// MARK: Literals (handy in code and tests)

extension Value: ExpressibleByNilLiteral, ExpressibleByBooleanLiteral, ExpressibleByIntegerLiteral,
    ExpressibleByFloatLiteral, ExpressibleByStringLiteral, ExpressibleByArrayLiteral,
    ExpressibleByDictionaryLiteral
{
    public init(nilLiteral: ()) { self.init(.null) }
    public init(booleanLiteral b: Bool) { self.init(.bool(b)) }
    public init(integerLiteral i: Int) { self.init(.int(i)) }
    public init(floatLiteral d: Double) { self.init(.double(d)) }
    public init(stringLiteral s: String) { self.init(.string(s)) }
    public init(arrayLiteral elements: Value...) { self.init(.array(elements)) }
    public init(dictionaryLiteral elements: (String, Value)...) {
        var o = Object()
        o.reserveCapacity(elements.count)
        for (k, v) in elements { o[k] = v }
        self.init(.object(o))
    }
}

extension Value: CustomStringConvertible {
    /// Compact JSON, for messages and debugging.
    public var description: String { JSONWriter.string(self) }
}
