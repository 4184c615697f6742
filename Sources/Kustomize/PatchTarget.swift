import PatternCore

/// Selects objects for a patch, like Kustomize's `target:` (`types.Selector`).
///
/// `group`, `version`, `kind`, `name` and `namespace` are regular expressions anchored at both
/// ends (`^(?:…)$`), as in Kustomize (`kind: Deployment|StatefulSet` selects both) — compiled
/// once, with a literal fast path when they contain no metacharacters; empty or unset matches
/// anything. `labelSelector` and `annotationSelector` use Kubernetes label-selector syntax
/// (`a=b,c!=d,e in (x,y),!f`).
public struct PatchTarget: Sendable {
    /// The group/version/kind as written (literal use; matching goes through the patterns).
    public var gvk: GvkSelector
    public var group: NamePattern?
    public var version: NamePattern?
    public var kind: NamePattern?
    public var name: NamePattern?
    public var namespace: NamePattern?
    public var labelSelector: LabelSelector?
    public var annotationSelector: LabelSelector?

    public init(gvk: GvkSelector = GvkSelector(), name: String? = nil, namespace: String? = nil,
                labelSelector: String? = nil, annotationSelector: String? = nil) throws(Diagnostic) {
        self.gvk = gvk
        self.group = gvk.group.isEmpty ? nil : try NamePattern(gvk.group)
        self.version = gvk.version.isEmpty ? nil : try NamePattern(gvk.version)
        self.kind = gvk.kind.isEmpty ? nil : try NamePattern(gvk.kind)
        self.name = try name.map { s throws(Diagnostic) in try NamePattern(s) }
        self.namespace = try namespace.map { s throws(Diagnostic) in try NamePattern(s) }
        self.labelSelector = try labelSelector.map { s throws(Diagnostic) in try LabelSelector(s) }
        self.annotationSelector = try annotationSelector.map { s throws(Diagnostic) in try LabelSelector(s) }
    }

    /// Reads a `target:` map; errors point at the offending field.
    public init(parsing v: Value, file: String) throws(Diagnostic) {
        func loc(_ m: Mark) -> SourceLocation { SourceLocation(file: file, mark: m) }
        guard let o = v.object else {
            throw .error("patch target must be a map, found \(v.typeName)", at: loc(v.mark),
                         fix: "write e.g. `target: {kind: Deployment, name: web}`")
        }
        var g = GvkSelector()
        var name: String?, ns: String?, ls: String?, ans: String?
        for (k, val) in o {
            guard let s = val.scalarText, val.isScalar else {
                throw .error("patch target field '\(k)' must be a string, found \(val.typeName)", at: loc(val.mark), fix: "write a plain string")
            }
            switch k {
            case "group": g.group = s
            case "version": g.version = s
            case "kind": g.kind = s
            case "name": name = s
            case "namespace": ns = s
            case "labelSelector": ls = s
            case "annotationSelector": ans = s
            default:
                throw .error("unknown patch target field '\(k)'", at: loc(o.keyMark(k) ?? val.mark),
                             fix: "use group, version, kind, name, namespace, labelSelector or annotationSelector")
            }
        }
        do {
            try self.init(gvk: g, name: name, namespace: ns, labelSelector: ls, annotationSelector: ans)
        } catch {
            var e = error
            e.location = loc(v.mark)
            throw e
        }
    }

    /// Whether an object (with its original and current identity) is selected. Name and
    /// namespace match if either the original or the current value matches, as in Kustomize.
    public func matches(_ object: Value, originalName: String? = nil, originalNamespace: String? = nil) -> Bool {
        guard let gvkv = object.gvk, matchesGVK(gvkv) else { return false }
        let cluster = KindTable.isClusterScoped(gvkv.groupKind)
        func eff(_ ns: String) -> String { cluster ? "_non_namespaceable_" : (ns.isEmpty ? "default" : ns) }
        if let namespace {
            let cur = eff(object.metadataNamespace ?? "")
            if !namespace.matches(cur) && !(originalNamespace.map { namespace.matches(eff($0)) } ?? false) { return false }
        }
        if let name {
            let cur = object.metadataName ?? ""
            if !name.matches(cur) && !(originalName.map { name.matches($0) } ?? false) { return false }
        }
        if let labelSelector, !labelSelector.matches(object.labels) { return false }
        if let annotationSelector, !annotationSelector.matches(object.annotations) { return false }
        return true
    }
}

extension PatchTarget {
    /// Group, version and kind patterns (unset ones match anything).
    public func matchesGVK(_ g: GroupVersionKind) -> Bool {
        (group?.matches(g.group) ?? true) && (version?.matches(g.version) ?? true) && (kind?.matches(g.kind) ?? true)
    }
}

/// An anchored regular expression for names, with a literal fast path.
public struct NamePattern: Sendable {
    public let source: String
    private let literal: String?
    // Regex is immutable once built; matching does not mutate shared state.
    nonisolated(unsafe) private let regex: Regex<AnyRegexOutput>?

    public init(_ pattern: String) throws(Diagnostic) {
        source = pattern
        let meta: Set<Character> = ["\\", ".", "*", "+", "?", "(", ")", "[", "]", "{", "}", "|", "^", "$"]
        if pattern.isEmpty || !pattern.contains(where: { meta.contains($0) }) {
            literal = pattern
            regex = nil
        } else {
            literal = nil
            do { regex = try Regex("^(?:" + pattern + ")$") } catch {
                throw .error("invalid regular expression '\(pattern)' in patch target: \(error)",
                             fix: "fix the pattern, or escape regex characters with a backslash")
            }
        }
    }

    /// Empty pattern matches anything (an unset field in Kustomize).
    public func matches(_ s: String) -> Bool {
        if let literal { return literal.isEmpty || literal == s }
        return (try? regex!.wholeMatch(in: s)) != nil
    }
}

/// A Kubernetes label selector in string form.
public struct LabelSelector: Sendable {
    public enum Requirement: Sendable {
        case equals(String, String)
        case notEquals(String, String)
        case `in`(String, Set<String>)
        case notIn(String, Set<String>)
        case exists(String)
        case notExists(String)
    }
    public var requirements: [Requirement]

    public init(_ text: String) throws(Diagnostic) {
        requirements = []
        // Split on commas outside parentheses.
        var parts: [String] = []
        var cur = ""
        var depth = 0
        for ch in text {
            if ch == "(" { depth += 1 } else if ch == ")" { depth -= 1 }
            if ch == "," && depth == 0 { parts.append(cur); cur = "" } else { cur.append(ch) }
        }
        parts.append(cur)
        func bad(_ p: String) -> Diagnostic {
            .error("invalid label selector '\(text)' (at '\(p)')", fix: "use `key=value`, `key!=value`, `key in (a,b)`, `key notin (a,b)`, `key` or `!key`")
        }
        func trim(_ s: Substring) -> String { String(s.drop(while: { $0 == " " }).reversed().drop(while: { $0 == " " }).reversed()) }
        for raw in parts {
            let p = trim(raw[...])
            if p.isEmpty { if text.trimmingSpaces.isEmpty { continue }; throw bad(p) }
            if let r = p.firstRange(of: "!=") {
                requirements.append(.notEquals(trim(p[..<r.lowerBound]), trim(p[r.upperBound...])))
            } else if let r = p.firstRange(of: "==") {
                requirements.append(.equals(trim(p[..<r.lowerBound]), trim(p[r.upperBound...])))
            } else if let r = p.firstRange(of: "=") {
                requirements.append(.equals(trim(p[..<r.lowerBound]), trim(p[r.upperBound...])))
            } else if let open = p.firstIndex(of: "("), p.hasSuffix(")") {
                let head = trim(p[..<open]).split(separator: " ", omittingEmptySubsequences: true)
                guard head.count == 2 else { throw bad(p) }
                let values = Set(p[p.index(after: open)..<p.index(before: p.endIndex)].split(separator: ",").map { trim($0) })
                switch head[1] {
                case "in": requirements.append(.in(String(head[0]), values))
                case "notin": requirements.append(.notIn(String(head[0]), values))
                default: throw bad(p)
                }
            } else if p.hasPrefix("!") {
                requirements.append(.notExists(trim(p.dropFirst())))
            } else if !p.contains(" ") {
                requirements.append(.exists(p))
            } else {
                throw bad(p)
            }
        }
    }

    public func matches(_ labels: Object) -> Bool {
        for r in requirements {
            switch r {
            case .equals(let k, let v): if labels[k]?.scalarText != v { return false }
            case .notEquals(let k, let v): if labels[k]?.scalarText == v { return false }
            case .in(let k, let vs): guard let v = labels[k]?.scalarText, vs.contains(v) else { return false }
            case .notIn(let k, let vs): if let v = labels[k]?.scalarText, vs.contains(v) { return false }
            case .exists(let k): if labels[k] == nil { return false }
            case .notExists(let k): if labels[k] != nil { return false }
            }
        }
        return true
    }
}

extension String {
    var trimmingSpaces: String {
        String(drop(while: { $0 == " " || $0 == "\n" || $0 == "\t" }).reversed().drop(while: { $0 == " " || $0 == "\n" || $0 == "\t" }).reversed())
    }
}
