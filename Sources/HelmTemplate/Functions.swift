/// The Go type of a function or method parameter. Arguments are checked as Go's
/// `text/template` checks them against a Go signature (`wrong type for value; expected string; got int`).
public enum TemplateParam: Sendable, Hashable {
    /// `interface{}` (anything, nil included).
    case any
    case string
    case int
    case int64
    case float64
    case bool
    /// `map[string]interface{}`.
    case map
    /// `[]interface{}`.
    case list

    /// Go's name of the type, for error messages.
    public var goName: String {
        switch self {
        case .any: return "interface {}"
        case .string: return "string"
        case .int: return "int"
        case .int64: return "int64"
        case .float64: return "float64"
        case .bool: return "bool"
        case .map: return "map[string]interface {}"
        case .list: return "[]interface {}"
        }
    }

    var canBeNil: Bool {
        switch self {
        case .any, .map, .list: return true
        default: return false
        }
    }
}

/// A template function: its Go signature and its body.
public struct TemplateFunction: Sendable {
    enum Special: Sendable { case none, and, or }

    public var params: [TemplateParam]
    public var variadic: TemplateParam?
    /// Reads the clock or randomness: refused unless `RenderOptions.allowNondeterministic`.
    public var isNondeterministic: Bool
    public var body: @Sendable (FunctionCall) throws -> TemplateValue
    var special: Special = .none

    public init(params: [TemplateParam] = [], variadic: TemplateParam? = nil, nondeterministic: Bool = false,
                _ body: @escaping @Sendable (FunctionCall) throws -> TemplateValue) {
        self.params = params
        self.variadic = variadic
        self.isNondeterministic = nondeterministic
        self.body = body
    }
}

/// One call of a template function: the evaluated arguments and access to the executing
/// template set (for `include`, `tpl` and callers' own variants of them).
public struct FunctionCall {
    /// The function's name as called.
    public let name: String
    /// Evaluated, type-checked arguments (the piped value last).
    public let args: [TemplateValue]
    let state: ExecState

    /// Options of the running render.
    public var options: RenderOptions { state.shared.options }
    /// Name of the template being executed (Go's `executing "…"`).
    public var templateName: String { state.tree.name }

    /// Executes the named template with `data` into a string (Helm's `include`), counting
    /// nesting per name as Helm does (more than `maxIncludeDepth` → error).
    public func include(_ name: String, data: TemplateValue) throws -> String {
        try state.include(name, data: data)
    }

    /// Parses `text` as a new template (named as Helm names it) in a copy of the current set,
    /// executes it with `data` and returns the output (Helm's `tpl`).
    public func tpl(_ text: String, data: TemplateValue) throws -> String {
        try state.tpl(text, data: data)
    }

    /// Executes the named template with `data` without Helm's include counting (Go's `ExecuteTemplate`).
    public func executeTemplate(_ name: String, data: TemplateValue) throws -> String {
        try state.executeNamed(name, data: data)
    }
}

/// Functions by name. Start from `.helm` (Go built-ins + Sprig + Helm) and add or override.
public struct FunctionMap: Sendable {
    var table: [String: TemplateFunction]
    /// The names, kept alongside so parse-time checks need no rebuilding.
    private(set) var nameSet: Set<String>
    /// Exactly `FunctionMap.helm` (unchanged since): renderers share one prebuilt `FunctionIndex`.
    private(set) var isHelmDefault = false
    /// The names are exactly `FunctionMap.helm`'s (functions may have been replaced, none added
    /// or removed): parse results do not depend on the map, so parsed files can be shared.
    private(set) var hasHelmNames = false

    public init() {
        table = [:]
        nameSet = []
    }

    public subscript(name: String) -> TemplateFunction? {
        get { table[name] }
        set {
            isHelmDefault = false
            if table[name] == nil || newValue == nil { hasHelmNames = false }
            table[name] = newValue
            if newValue == nil { nameSet.remove(name) } else { nameSet.insert(name) }
        }
    }

    public var names: [String] { Array(table.keys) }

    /// Adds or replaces the functions of `other`.
    public mutating func merge(_ other: FunctionMap) {
        isHelmDefault = false
        hasHelmNames = false
        for (k, v) in other.table { table[k] = v }
        nameSet.formUnion(other.nameSet)
    }

    /// Go's `text/template` built-ins only.
    public static let builtins: FunctionMap = Builtins.map()

    /// Go built-ins + Sprig's `TxtFuncMap` (without `env`/`expandenv`, as Helm) + Helm's functions
    /// (`include`, `tpl`, `required`, `fail`, `toYaml`, `fromYaml`, `toJson`, `toToml`, `lookup`, …).
    public static let helm: FunctionMap = {
        var m = Builtins.map()
        m.merge(Sprig.map())
        m.merge(HelmFunctions.map())
        m.isHelmDefault = true
        m.hasHelmNames = true
        return m
    }()
}

/// How a render behaves.
public struct RenderOptions: Sendable {
    /// What a missing map key gives (Go's `missingkey` option).
    public enum MissingKey: Sendable, Hashable {
        /// Go's default: the invalid value (`<no value>`; a field of it is empty, no error).
        case invalid
        /// Helm's non-strict mode (`missingkey=zero`): a nil `interface{}`; a field of it is a
        /// `nil pointer evaluating interface {}.x` error.
        case zero
        /// Helm's `--strict` (`missingkey=error`): `map has no entry for key "x"`.
        case error
    }

    public var missingKey: MissingKey
    /// Remove every `<no value>` from the output as Helm does after rendering.
    public var removeNoValue: Bool
    /// Allow functions that read the clock or randomness (`now`, `randAlphaNum`, `uuidv4`, `genCA`, …).
    public var allowNondeterministic: Bool
    /// Helm's per-name limit of nested `include`/`tpl` calls (1000).
    public var maxIncludeDepth: Int
    /// Limit of nested template invocations of any kind (`template`, `include`, `tpl`); Go's is
    /// 100000 on growable goroutine stacks, ours protects the thread's fixed stack.
    public var maxNestingDepth: Int
    /// Output size limit per executed template, in bytes.
    public var maxOutputBytes: Int
    /// Iteration limit of one `range` over an integer.
    public var maxRangeIterations: Int
    /// Name of the root template: `tpl` templates are parsed under it and missing `include`
    /// names are reported against it (Helm: `gotpl`).
    public var rootName: String

    public init(missingKey: MissingKey = .zero, removeNoValue: Bool = true, allowNondeterministic: Bool = false,
                maxIncludeDepth: Int = 1000, maxNestingDepth: Int = 1500, maxOutputBytes: Int = 64 << 20,
                maxRangeIterations: Int = 10_000_000, rootName: String = "gotpl") {
        self.missingKey = missingKey
        self.removeNoValue = removeNoValue
        self.allowNondeterministic = allowNondeterministic
        self.maxIncludeDepth = maxIncludeDepth
        self.maxNestingDepth = maxNestingDepth
        self.maxOutputBytes = maxOutputBytes
        self.maxRangeIterations = maxRangeIterations
        self.rootName = rootName
    }

    /// Helm's default (`helm template`): missing values render empty.
    public static let helm = RenderOptions()
    /// Helm's `--strict`.
    public static let helmStrict = RenderOptions(missingKey: .error)
    /// Plain Go `text/template` defaults.
    public static let go = RenderOptions(missingKey: .invalid, removeNoValue: false, allowNondeterministic: true)
}

/// The result of a render: the output and which nondeterministic functions it used.
public struct RenderResult: Sendable {
    public var output: String
    /// Names of clock/randomness functions called (sorted), so the render can say its output
    /// is not reproducible.
    public var nondeterministicFunctions: [String]
}

/// The functions of a `FunctionMap` in an open-addressing table hashed with FNV-1a: found by a
/// template's function name with a few instructions instead of a SipHash `Dictionary` lookup on
/// every call. Built once per `TemplateRenderer` (again when its `functions` change).
final class FunctionIndex: Sendable {
    private let names: [String]
    /// Boxed, so a lookup hands out one reference instead of copying the function's fields.
    private let functions: [Entry]

    final class Entry: Sendable {
        let function: TemplateFunction
        init(_ function: TemplateFunction) { self.function = function }
    }
    /// Index into `names`/`functions`, or -1 for an empty slot; the count is a power of two.
    private let slots: [Int32]

    /// The index of `FunctionMap.helm`.
    static let helm = FunctionIndex(FunctionMap.helm)

    init(_ map: FunctionMap) {
        var names: [String] = []
        var functions: [Entry] = []
        names.reserveCapacity(map.table.count)
        functions.reserveCapacity(map.table.count)
        var size = 16
        while size < map.table.count * 2 { size <<= 1 }
        var slots = [Int32](repeating: -1, count: size)
        for (name, fn) in map.table {
            var i = FunctionIndex.hash(name) & (size - 1)
            while slots[i] >= 0 { i = (i + 1) & (size - 1) }
            slots[i] = Int32(names.count)
            names.append(name)
            functions.append(Entry(fn))
        }
        self.names = names
        self.functions = functions
        self.slots = slots
    }

    @inline(__always) static func hash(_ s: String) -> Int {
        var s = s
        let h = s.withUTF8 { u -> UInt64 in
            var h: UInt64 = 0xcbf2_9ce4_8422_2325
            for c in u {
                h ^= UInt64(c)
                h = h &* 0x100_0000_01b3
            }
            return h
        }
        return Int(truncatingIfNeeded: h ^ (h >> 29))
    }

    /// The function called `name`, if any.
    func lookup(_ name: String) -> Entry? {
        let mask = slots.count - 1
        var i = FunctionIndex.hash(name) & mask
        while true {
            let k = Int(slots[i])
            if k < 0 { return nil }
            if names[k] == name { return functions[k] }
            i = (i + 1) & mask
        }
    }
}
