import PatternCore

/// A path into an object's value, as Argo CD's `ignoreDifferences` entries write them: a JSON
/// pointer (`/spec/replicas`, `/metadata/annotations/a~1b`, `/spec/containers/0/image`) or a
/// JQ path expression from the subset users write (`.spec.replicas`, `.spec.containers[]`,
/// `.spec.containers[0].image`, `.metadata.annotations["a/b"]`,
/// `.spec.template.spec.initContainers[] | select(.name == "istio-init")`, optionally followed
/// by `| .field…`). A path selects concrete places in a concrete object (`locations(in:)`).
public struct ValuePath: Sendable, Hashable, CustomStringConvertible {
    public enum Step: Sendable, Hashable {
        /// A map key (or, on a list, a decimal index: a JSON pointer segment `0`).
        case field(String)
        /// A list index; negative counts from the end (JQ `[-1]`).
        case index(Int)
        /// Every list item (`[]`).
        case all
        /// The list items whose values at every condition's `field` (a path of keys; empty: the
        /// item itself) equal its `value` (`[] | select(.name == "x")`, `[k=v,…]`).
        case select([Condition])
    }

    /// One `field == value` test of a `select` step.
    public struct Condition: Sendable, Hashable {
        public var field: [String]
        public var value: Value
        public init(field: [String], value: Value) { self.field = field; self.value = value }
    }

    public var steps: [Step]
    /// As the user wrote it.
    public var text: String

    public init(steps: [Step], text: String) { self.steps = steps; self.text = text }
    public var description: String { text }

    /// Steps at most: paths are user text, never a way to use unbounded memory.
    public static let maxSteps = 64

    /// A JSON pointer (RFC 6901): `/a/b~1c/0`. `~1` is `/`, `~0` is `~`; a segment that is a
    /// decimal number indexes a list and names a key of a map.
    public static func pointer(_ text: String) throws(Diagnostic) -> ValuePath {
        guard text.hasPrefix("/") else {
            throw .error("invalid JSON pointer \"\(text)\": it must start with '/'", fix: "write it like /spec/replicas or /metadata/annotations/example.com~1x")
        }
        var steps: [Step] = []
        for seg in text.dropFirst().split(separator: "/", omittingEmptySubsequences: false) {
            var s = ""
            var it = seg.makeIterator()
            while let c = it.next() {
                if c == "~" {
                    switch it.next() {
                    case "0": s.append("~")
                    case "1": s.append("/")
                    default: throw .error("invalid JSON pointer \"\(text)\": '~' must be followed by 0 or 1", fix: "write '~0' for '~' and '~1' for '/'")
                    }
                } else { s.append(c) }
            }
            steps.append(.field(s))
        }
        if steps.count > maxSteps { throw .error("JSON pointer \"\(text)\" has more than \(maxSteps) segments") }
        return ValuePath(steps: steps, text: text)
    }

    /// A JQ path expression from the supported subset (see the type's documentation).
    public static func jq(_ text: String) throws(Diagnostic) -> ValuePath {
        var p = JQPathParser(text: text)
        return ValuePath(steps: try p.parse(), text: text)
    }

    /// `PathPattern` (the spelling diffs print) as a value path: `[k=v]` selects the items
    /// with those key values, `[*]` every item, `[=v]` the set member `v`.
    public init(_ pattern: PathPattern) {
        var steps: [Step] = []
        for s in pattern.steps {
            switch s {
            case .field(let f): steps.append(.field(f))
            case .index(let i): steps.append(.index(i))
            case .any: steps.append(.all)
            case .key(let kv): steps.append(.select(kv.map { Condition(field: [$0.0], value: .string($0.1)) }))
            case .value(let v): steps.append(.select([Condition(field: [], value: .string(v))]))
            }
        }
        self.init(steps: steps, text: pattern.text)
    }
}

/// Parser of the JQ path subset of `ValuePath.jq`.
struct JQPathParser {
    let text: String
    let c: [Character]
    var i = 0

    init(text: String) { self.text = text; self.c = Array(text) }

    func bad(_ why: String) -> Diagnostic {
        .error("unsupported jq path expression \"\(text)\": \(why)",
               fix: "pattern supports the path subset Argo CD users write: .a.b, .a[], .a[0], .a[\"k\"], .a[] | select(.name == \"x\") (then | .b …); or use a JSON pointer (jsonPointers)")
    }

    mutating func skipSpaces() { while i < c.count && c[i] == " " { i += 1 } }

    mutating func parse() throws(Diagnostic) -> [ValuePath.Step] {
        var steps: [ValuePath.Step] = []
        skipSpaces()
        guard i < c.count, c[i] == "." else { throw bad("a path starts with '.'") }
        while true {
            skipSpaces()
            if i >= c.count { break }
            if c[i] == "|" {
                i += 1; skipSpaces()
                if text[text.index(text.startIndex, offsetBy: i)...].hasPrefix("select(") {
                    i += 7
                    // `[] | select(…)` filters the list's items: one step.
                    guard steps.last == .all else { throw bad("select(…) must follow a list's [] (.a[] | select(.name == \"x\"))") }
                    steps[steps.count - 1] = try parseSelect()
                    continue
                }
                guard i < c.count, c[i] == "." else { throw bad("expected a path or select(…) after '|'") }
                continue
            }
            if c[i] == "." {
                i += 1
                if i < c.count, c[i] == "\"" { steps.append(.field(try quoted())); continue }
                if i < c.count, c[i] == "[" { continue }
                let name = identifier()
                if name.isEmpty {
                    if i >= c.count && steps.isEmpty { throw bad("'.' alone selects the whole object") }
                    throw bad("expected a field name after '.' at position \(i + 1)")
                }
                steps.append(.field(name))
                continue
            }
            if c[i] == "[" {
                i += 1; skipSpaces()
                if i < c.count, c[i] == "]" { i += 1; steps.append(.all) }
                else if i < c.count, c[i] == "\"" {
                    let k = try quoted(); skipSpaces()
                    guard i < c.count, c[i] == "]" else { throw bad("missing ]") }
                    i += 1; steps.append(.field(k))
                } else {
                    var n = ""
                    while i < c.count, c[i] == "-" || c[i].isNumber { n.append(c[i]); i += 1 }
                    skipSpaces()
                    guard let v = Int(n), i < c.count, c[i] == "]" else { throw bad("expected [], [n] or [\"key\"] at position \(i + 1)") }
                    i += 1; steps.append(.index(v))
                }
                if i < c.count, c[i] == "?" { i += 1 }
                continue
            }
            throw bad("unexpected '\(c[i])' at position \(i + 1)")
        }
        if steps.isEmpty { throw bad("empty path") }
        if steps.count > ValuePath.maxSteps { throw bad("more than \(ValuePath.maxSteps) steps") }
        return steps
    }

    mutating func identifier() -> String {
        var s = ""
        while i < c.count, c[i].isLetter || c[i].isNumber || c[i] == "_" || c[i] == "-" && !s.isEmpty { s.append(c[i]); i += 1 }
        return s
    }

    mutating func quoted() throws(Diagnostic) -> String {
        guard i < c.count, c[i] == "\"" else { throw bad("expected '\"'") }
        i += 1
        var s = ""
        while i < c.count, c[i] != "\"" {
            if c[i] == "\\", i + 1 < c.count { i += 1 }
            s.append(c[i]); i += 1
        }
        guard i < c.count else { throw bad("unterminated string") }
        i += 1
        return s
    }

    /// After `select(`: `.a.b == <literal>)`.
    mutating func parseSelect() throws(Diagnostic) -> ValuePath.Step {
        skipSpaces()
        var field: [String] = []
        while i < c.count, c[i] == "." {
            i += 1
            if i < c.count, c[i] == "\"" { field.append(try quoted()) } else {
                let n = identifier()
                if n.isEmpty { throw bad("expected a field name in select(…)") }
                field.append(n)
            }
        }
        if field.isEmpty { throw bad("select(…) compares a field: select(.name == \"x\")") }
        skipSpaces()
        guard i + 1 < c.count, c[i] == "=", c[i + 1] == "=" else { throw bad("select(…) supports only '==' comparisons") }
        i += 2; skipSpaces()
        let value: Value
        if i < c.count, c[i] == "\"" { value = .string(try quoted()) } else {
            var lit = ""
            while i < c.count, c[i] != ")" && c[i] != " " { lit.append(c[i]); i += 1 }
            if lit == "true" { value = .bool(true) } else if lit == "false" { value = .bool(false) }
            else if lit == "null" { value = .null } else if let n = Int(lit) { value = .int(n) }
            else if let d = Double(lit) { value = .double(d) }
            else { throw bad("select(…) compares with a string, number, boolean or null literal") }
        }
        skipSpaces()
        guard i < c.count, c[i] == ")" else { throw bad("missing ')' after select(…") }
        i += 1
        return .select([ValuePath.Condition(field: field, value: value)])
    }
}

extension ValuePath {
    /// True when `item` meets every condition of a `select` step.
    static func selects(_ item: Value, _ conditions: [Condition]) -> Bool {
        conditions.allSatisfy { c in
            let v = c.field.isEmpty ? item : item[path: c.field]
            guard let v else { return c.value.isNull }
            if v == c.value { return true }
            // `[k=v]` patterns compare as text (`[containerPort=8080]`).
            if case .string(let s) = c.value.kind, let t = v.scalarText, v.isScalar { return s == t }
            return false
        }
    }
}

/// Where a value's ignored places are: a location is a list of map keys and list indices.
public enum ValueLocation: Sendable, Hashable {
    case key(String)
    case index(Int)
}

/// Argo CD's `ignoreDifferences` (and the site overlay's and PatternSync's): differences at
/// these places of matching objects are not changes, are not drift, and are not overwritten
/// on apply (the live value is kept, as Argo CD's `RespectIgnoreDifferences=true`).
public enum IgnoreDifferences {
    /// Annotations pattern writes for its own bookkeeping: never shown as changes.
    public static let bookkeepingAnnotations: Set<String> = [LabelKeys.appliedHash, LabelKeys.revision]

    /// `desired` with every place a rule selects set to the live object's value there (or
    /// removed where live has none). Diff, drift and apply all use this, so an ignored field
    /// is neither reported nor overwritten. With no live object `desired` is returned as is.
    public static func respectLive(_ desired: Value, live: Value?, rules: [IgnoreRule]) -> Value {
        guard let live, !rules.isEmpty, let key = desired.objectKey ?? live.objectKey else { return desired }
        var out = desired
        for r in rules where r.matches(key) {
            for path in r.valuePaths { copy(path.steps[...], from: live, into: &out) }
        }
        return out
    }

    /// Sets every place `steps` selects in `target` to `source`'s value at the same place;
    /// places `source` lacks are removed from `target`. Returns false when `target` itself
    /// is to be removed.
    @discardableResult
    static func copy(_ steps: ArraySlice<ValuePath.Step>, from source: Value?, into target: inout Value) -> Bool {
        guard let step = steps.first else {
            guard let source else { return false }
            target = source
            return true
        }
        let rest = steps.dropFirst()
        switch step {
        case .field(let f):
            if target.object != nil {
                guard var child = target[f] else { return true }
                if !copy(rest, from: source?[f], into: &child) { target.withObject { _ = $0.removeValue(forKey: f) } } else { target[f] = child }
            } else if let items = target.array, let n = Int(f) {
                copyItem(n < 0 ? items.count + n : n, rest, from: source?.array, into: &target)
            }
        case .index(let n):
            guard let items = target.array else { return true }
            copyItem(n < 0 ? items.count + n : n, rest, from: source?.array, into: &target)
        case .all:
            guard let items = target.array else { return true }
            for i in stride(from: items.count - 1, through: 0, by: -1) { copyItem(i, rest, from: source?.array, into: &target) }
        case .select(let conditions):
            guard let items = target.array else { return true }
            let sourceHits = (source?.array ?? []).filter { ValuePath.selects($0, conditions) }
            let hits = items.indices.filter { ValuePath.selects(items[$0], conditions) }
            // Pair the k-th selected item of each side (a select on a key field selects one).
            for (k, i) in hits.enumerated().reversed() {
                var item = items[i]
                // (Spelled out: `Value` is ExpressibleByNilLiteral, so `c ? v : nil` would be `.null`.)
                let match: Value? = k < sourceHits.count ? Optional(sourceHits[k]) : Optional<Value>.none
                let keep = copy(rest, from: match, into: &item)
                target.withArray { a in if keep { a[i] = item } else { a.remove(at: i) } }
            }
        }
        return true
    }

    static func copyItem(_ i: Int, _ rest: ArraySlice<ValuePath.Step>, from source: [Value]?, into target: inout Value) {
        guard let items = target.array, items.indices.contains(i) else { return }
        var item = items[i]
        var s: Value? = nil
        if let source, source.indices.contains(i) { s = source[i] }
        let keep = copy(rest, from: s, into: &item)
        target.withArray { a in if keep { a[i] = item } else { a.remove(at: i) } }
    }

    /// The diff options for `rules`: their field managers (per rule, matched by object) and
    /// the built-in normalizers.
    public static func options(_ rules: [IgnoreRule], base: DiffOptions = .default) -> DiffOptions {
        var o = base
        o.ignore += rules.filter { !$0.paths.isEmpty || !$0.managers.isEmpty }
        return o
    }
}

// MARK: - Decoding `ignoreDifferences` entries

extension IgnoreRule {
    /// Groups of common kinds outside the core group (for the missing-`group` error).
    static let knownGroups: [String: String] = [
        "Deployment": "apps", "StatefulSet": "apps", "DaemonSet": "apps", "ReplicaSet": "apps",
        "Job": "batch", "CronJob": "batch", "Ingress": "networking.k8s.io", "NetworkPolicy": "networking.k8s.io",
        "HorizontalPodAutoscaler": "autoscaling", "Role": "rbac.authorization.k8s.io", "RoleBinding": "rbac.authorization.k8s.io",
        "ClusterRole": "rbac.authorization.k8s.io", "ClusterRoleBinding": "rbac.authorization.k8s.io",
        "CustomResourceDefinition": "apiextensions.k8s.io", "MutatingWebhookConfiguration": "admissionregistration.k8s.io",
        "ValidatingWebhookConfiguration": "admissionregistration.k8s.io",
    ]

    /// Fields of one `ignoreDifferences` entry (Argo CD's spelling).
    public static let knownFields = ["group", "kind", "name", "namespace", "jsonPointers", "jqPathExpressions", "managedFieldsManagers"]

    /// Decodes an `ignoreDifferences` list (Argo CD's `ResourceIgnoreDifferences`):
    /// `group`, `kind` (required), `name`, `namespace`, `jsonPointers`, `jqPathExpressions`,
    /// `managedFieldsManagers`. Every problem is a diagnostic at its file:line:column; an entry
    /// that ignores nothing is an error. `defaultNamespace` fills a missing `namespace` (an
    /// Application's destination).
    public static func decodeList(_ v: Value, file: String, in what: String) throws(Diagnostics) -> [IgnoreRule] {
        if v.isNull { return [] }
        var problems: [Diagnostic] = []
        func at(_ x: Value) -> SourceLocation { SourceLocation(file: file, mark: x.mark) }
        guard let items = v.array else {
            throw Diagnostics([.error("'ignoreDifferences' in \(what) must be a list, found \(v.typeName)", at: at(v),
                                      fix: "write it as a list of {group, kind, name, jsonPointers: [...]} entries")])
        }
        var out: [IgnoreRule] = []
        for item in items {
            guard let o = item.object else {
                problems.append(.error("an ignoreDifferences entry must be a map, found \(item.typeName)", at: at(item)))
                continue
            }
            for (k, x) in o where !knownFields.contains(k) {
                problems.append(.error("unknown field '\(k)' in an ignoreDifferences entry", at: SourceLocation(file: file, mark: o.keyMark(k) ?? x.mark),
                                       fix: "known fields: \(knownFields.joined(separator: ", "))"))
            }
            func string(_ k: String) -> String? {
                guard let x = o[k], !x.isNull else { return nil }
                guard let s = x.string else {
                    problems.append(.error("'\(k)' in an ignoreDifferences entry must be a string, found \(x.typeName)", at: at(x), fix: "quote the value"))
                    return nil
                }
                return s
            }
            func strings(_ k: String) -> [(String, Value)] {
                guard let x = o[k], !x.isNull else { return [] }
                guard let a = x.array else {
                    problems.append(.error("'\(k)' in an ignoreDifferences entry must be a list of strings, found \(x.typeName)", at: at(x),
                                           fix: "write it as a list: [\"/spec/replicas\"]"))
                    return []
                }
                var r: [(String, Value)] = []
                for e in a {
                    if let s = e.string { r.append((s, e)) } else {
                        problems.append(.error("'\(k)' entries must be strings, found \(e.typeName)", at: at(e)))
                    }
                }
                return r
            }
            var rule = IgnoreRule(group: string("group") ?? "", kind: string("kind"), namespace: string("namespace"), name: string("name"), paths: [])
            if rule.kind == nil || rule.kind == "" {
                problems.append(.error("an ignoreDifferences entry needs 'kind'", at: at(item),
                                       fix: "add 'kind: Deployment' (and 'group: apps' for kinds outside the core group)"))
            }
            // Argo CD's `group` is optional and "" (the core group) when absent; "*" matches any.
            // A well-known kind outside the core group without `group` would silently match
            // nothing: say so.
            if o["group"] == nil, let k = rule.kind, let g = knownGroups[k] {
                problems.append(.error("\(k) is in API group \(g), but this ignoreDifferences entry has no 'group' (it would match only the core group)",
                                       at: at(item), fix: "add 'group: \(g)'"))
            }
            if rule.group == "*" { rule.group = nil }
            if rule.kind == "*" { rule.kind = nil }
            for (p, x) in strings("jsonPointers") {
                do { rule.valuePaths.append(try ValuePath.pointer(p)) } catch { problems.append(error.located(at(x))) }
            }
            for (p, x) in strings("jqPathExpressions") {
                do { rule.valuePaths.append(try ValuePath.jq(p)) } catch { problems.append(error.located(at(x))) }
            }
            rule.managers = strings("managedFieldsManagers").map(\.0)
            if rule.valuePaths.isEmpty && rule.managers.isEmpty && problems.isEmpty {
                problems.append(.error("this ignoreDifferences entry ignores nothing", at: at(item),
                                       fix: "add jsonPointers, jqPathExpressions or managedFieldsManagers"))
            }
            out.append(rule)
        }
        if !problems.isEmpty { throw Diagnostics(problems) }
        return out
    }
}

extension Diagnostic {
    /// This diagnostic at `location` (when it has none).
    func located(_ location: SourceLocation) -> Diagnostic {
        var d = self
        if d.location == nil { d.location = location }
        return d
    }
}
