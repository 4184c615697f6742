import PatternCore

/// A Go-typed dynamic value as `text/template`, Sprig and Helm see it.
///
/// The Go type matters: `printf "%v"`, `kindOf`, `typeOf`, `toYaml`, the math functions and the
/// comparison built-ins all behave differently for `int`, `int64` and `float64` (values files
/// give `float64`, `--set` gives `int64`, template literals give `int`).
public enum TemplateValue: Sendable {
    /// Go's untyped `nil` (a nil `interface{}`).
    case null
    case bool(Bool)
    /// Go `int` (template integer literals, `len`, `atoi`, `int`).
    case int(Int)
    /// Go `int64` (Sprig math results, `--set` integers).
    case int64(Int64)
    /// Go `float64` (every number read from a values file).
    case float64(Double)
    case string(String)
    /// `[]interface{}`.
    case list([TemplateValue])
    /// `map[string]interface{}`; iterated in sorted key order as Go's `text/template` does.
    case map(TemplateMap)
    /// A struct-like value with fields and methods (`.Release`, `.Chart`, `.Files`, times, versions).
    /// (Boxed, so copying any `TemplateValue` stays a single retain.)
    indirect case object(any TemplateObject)

    /// Go's type name as `%T` / Sprig's `typeOf` prints it.
    public var goTypeName: String {
        switch self {
        case .null: return "<nil>"
        case .bool: return "bool"
        case .int: return "int"
        case .int64: return "int64"
        case .float64: return "float64"
        case .string: return "string"
        case .list: return "[]interface {}"
        case .map: return "map[string]interface {}"
        case .object(let o): return o.goTypeName
        }
    }

    /// Go's `reflect.Kind` name as Sprig's `kindOf` prints it.
    public var goKind: String {
        switch self {
        case .null: return "invalid"
        case .bool: return "bool"
        case .int: return "int"
        case .int64: return "int64"
        case .float64: return "float64"
        case .string: return "string"
        case .list: return "slice"
        case .map: return "map"
        case .object(let o): return o.goKind
        }
    }

    /// Go's `template.IsTrue`: false for nil, false, zero numbers and empty strings, lists and maps.
    public var isTrue: Bool {
        switch self {
        case .null: return false
        case .bool(let b): return b
        case .int(let i): return i != 0
        case .int64(let i): return i != 0
        case .float64(let d): return d != 0
        case .string(let s): return !s.isEmpty
        case .list(let l): return !l.isEmpty
        case .map(let m): return !m.isEmpty
        case .object(let o): return o.isTruthy
        }
    }

    @inlinable public var isNull: Bool { if case .null = self { return true } else { return false } }
    @inlinable public var stringValue: String? { if case .string(let s) = self { return s } else { return nil } }
    @inlinable public var mapValue: TemplateMap? { if case .map(let m) = self { return m } else { return nil } }

    /// A new map value with these entries.
    public static func dict(_ entries: [String: TemplateValue]) -> TemplateValue { .map(TemplateMap(entries)) }
    @inlinable public var listValue: [TemplateValue]? { if case .list(let l) = self { return l } else { return nil } }

    /// The value at `key` when this is a map.
    public subscript(key: String) -> TemplateValue? {
        if case .map(let m) = self { return m[key] }
        return nil
    }
}

/// A callable method of a `TemplateObject` (`.Files.Get "x"`, `.Capabilities.APIVersions.Has "v1"`).
public struct TemplateMethod: Sendable {
    /// Parameter types, checked as Go checks a method's signature.
    public var params: [TemplateParam]
    /// Type of the trailing variadic parameter, if any.
    public var variadic: TemplateParam?
    public var body: @Sendable ([TemplateValue]) throws -> TemplateValue

    public init(params: [TemplateParam] = [], variadic: TemplateParam? = nil,
                _ body: @escaping @Sendable ([TemplateValue]) throws -> TemplateValue) {
        self.params = params
        self.variadic = variadic
        self.body = body
    }
}

/// A struct-like Go value exposed to templates (`.Release`, `.Chart`, `.Capabilities`, `.Files`).
public protocol TemplateObject: Sendable {
    /// Go's type name (`*chart.Metadata`, `chartutil.Capabilities`, `time.Time`).
    var goTypeName: String { get }
    /// The exported field `name`, or nil when the type has no such field.
    func field(_ name: String) -> TemplateValue?
    /// The method `name`, or nil when the type has no such method.
    func method(_ name: String) -> TemplateMethod?
    /// Go's reflect kind name (`ptr` for pointer types, `struct` otherwise by default).
    var goKind: String { get }
    /// Go truthiness (structs and non-nil pointers are true).
    var isTruthy: Bool { get }
    /// The value as data (as `encoding/json` would see it) for `toYaml`, `toJson`, `%v`;
    /// nil encodes as an empty map.
    var dataValue: TemplateValue? { get }
    /// How `fmt`'s `%v` prints it; nil uses Go's struct form built from `dataValue`.
    var goFormatted: String? { get }
    /// For map-like objects (`.Files` and `.Files.Glob` results, Go maps underneath): the
    /// entries `range` visits, in sorted key order. nil means `range` cannot iterate it.
    var rangeEntries: [(key: String, value: TemplateValue)]? { get }
}

extension TemplateObject {
    public var goKind: String { goTypeName.hasPrefix("*") ? "ptr" : "struct" }
    public var isTruthy: Bool { true }
    public var dataValue: TemplateValue? { nil }
    public var goFormatted: String? { nil }
    public var rangeEntries: [(key: String, value: TemplateValue)]? { nil }
}

// MARK: Conversions from and to PatternCore values

extension TemplateValue {
    /// A values-file value as Helm loads it (sigs.k8s.io/yaml → JSON → `interface{}`):
    /// every number becomes `float64`.
    public init(helmValues v: PatternCore.Value) {
        switch v.kind {
        case .null: self = .null
        case .bool(let b): self = .bool(b)
        case .int(let i): self = .float64(Double(i))
        case .double(let d): self = .float64(d)
        case .string(let s): self = .string(s)
        case .array(let a): self = .list(a.map { TemplateValue(helmValues: $0) })
        case .object(let o):
            var m: [String: TemplateValue] = [:]
            m.reserveCapacity(o.count)
            for (k, x) in o { m[k] = TemplateValue(helmValues: x) }
            self = .map(TemplateMap(m))
        }
    }

    /// A value keeping integers as `int64` (as Helm's `--set` parser and YAML decoders give).
    public init(value v: PatternCore.Value) {
        switch v.kind {
        case .null: self = .null
        case .bool(let b): self = .bool(b)
        case .int(let i): self = .int64(Int64(i))
        case .double(let d): self = .float64(d)
        case .string(let s): self = .string(s)
        case .array(let a): self = .list(a.map { TemplateValue(value: $0) })
        case .object(let o):
            var m: [String: TemplateValue] = [:]
            m.reserveCapacity(o.count)
            for (k, x) in o { m[k] = TemplateValue(value: x) }
            self = .map(TemplateMap(m))
        }
    }

    /// The value as PatternCore data. Maps come out with sorted keys (as Go's encoders write
    /// them); objects as their `dataValue` (or an empty map).
    public func toValue() -> PatternCore.Value { toValue(depth: 0) }

    func toValue(depth: Int) -> PatternCore.Value {
        if depth > 256 { return .null }  // a map that contains itself (set $m "x" $m)
        switch self {
        case .null: return .null
        case .bool(let b): return .bool(b)
        case .int(let i): return .int(i)
        case .int64(let i): return .int(Int(i))
        case .float64(let d): return PatternCore.Value.double(d)
        case .string(let s): return PatternCore.Value.string(s)
        case .list(let l): return PatternCore.Value.array(l.map { $0.toValue(depth: depth + 1) })
        case .map(let m):
            var o = PatternCore.Object()
            let entries = m.sortedEntries
            o.reserveCapacity(entries.count)
            for (k, v) in entries { o[k] = v.toValue(depth: depth + 1) }
            return PatternCore.Value.object(o)
        case .object(let obj):
            if let d = obj.dataValue { return d.toValue(depth: depth + 1) }
            return PatternCore.Value.emptyObject
        }
    }
}

// MARK: Literals, equality (for tests and callers)

extension TemplateValue: ExpressibleByNilLiteral, ExpressibleByBooleanLiteral, ExpressibleByIntegerLiteral,
    ExpressibleByFloatLiteral, ExpressibleByStringLiteral, ExpressibleByArrayLiteral, ExpressibleByDictionaryLiteral
{
    public init(nilLiteral: ()) { self = .null }
    public init(booleanLiteral b: Bool) { self = .bool(b) }
    public init(integerLiteral i: Int) { self = .int(i) }
    public init(floatLiteral d: Double) { self = .float64(d) }
    public init(stringLiteral s: String) { self = .string(s) }
    public init(arrayLiteral elements: TemplateValue...) { self = .list(elements) }
    public init(dictionaryLiteral elements: (String, TemplateValue)...) {
        var m: [String: TemplateValue] = [:]
        for (k, v) in elements { m[k] = v }
        self = .map(TemplateMap(m))
    }
}

extension TemplateValue: Equatable {
    /// Go's `reflect.DeepEqual` (types must match: `int(1) != float64(1)`); objects compare by
    /// type name and data.
    public static func == (a: TemplateValue, b: TemplateValue) -> Bool { deepEqual(a, b, depth: 0) }

    static func deepEqual(_ a: TemplateValue, _ b: TemplateValue, depth: Int) -> Bool {
        if depth > 256 { return false }
        switch (a, b) {
        case (.null, .null): return true
        case let (.bool(x), .bool(y)): return x == y
        case let (.int(x), .int(y)): return x == y
        case let (.int64(x), .int64(y)): return x == y
        case let (.float64(x), .float64(y)): return x == y
        case let (.string(x), .string(y)): return x == y
        case let (.list(x), .list(y)):
            return x.count == y.count && zip(x, y).allSatisfy { deepEqual($0, $1, depth: depth + 1) }
        case let (.map(x), .map(y)):
            if x === y { return true }
            let ex = x.entries, ey = y.entries
            guard ex.count == ey.count else { return false }
            for (k, v) in ex {
                guard let w = ey[k], deepEqual(v, w, depth: depth + 1) else { return false }
            }
            return true
        case let (.object(x), .object(y)):
            return x.goTypeName == y.goTypeName && deepEqual(x.dataValue ?? .null, y.dataValue ?? .null, depth: depth + 1)
                && x.goFormatted == y.goFormatted
        default: return false
        }
    }
}

extension TemplateValue: CustomStringConvertible {
    /// Go's `fmt.Sprint` of the value.
    public var description: String { GoFormat.sprint([self]) }
}
