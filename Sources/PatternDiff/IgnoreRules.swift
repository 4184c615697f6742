import PatternCore

/// A path pattern in the spelling diffs print: `.spec.replicas`,
/// `.webhooks[*].clientConfig.caBundle`, `.spec.template.spec.containers[name=main].image`,
/// `.metadata.annotations["example.com/x"]`, `.spec.args[0]`, `.metadata.finalizers[=a.io/x]`.
/// `[*]` matches any list item.
public struct PathPattern: Sendable, Hashable, CustomStringConvertible {
    public enum Step: Sendable, Hashable {
        case field(String)
        /// `[k=v,…]`: values compared as text (`[containerPort=8080,protocol=TCP]`).
        case key([(String, String)])
        case value(String)
        case index(Int)
        case any

        public static func == (a: Step, b: Step) -> Bool {
            switch (a, b) {
            case let (.field(x), .field(y)): return x == y
            case let (.key(x), .key(y)): return x.map { $0.0 + "=" + $0.1 } == y.map { $0.0 + "=" + $0.1 }
            case let (.value(x), .value(y)): return x == y
            case let (.index(x), .index(y)): return x == y
            case (.any, .any): return true
            default: return false
            }
        }

        public func hash(into h: inout Hasher) {
            switch self {
            case .field(let f): h.combine(0); h.combine(f)
            case .key(let kv): h.combine(1); for (k, v) in kv { h.combine(k); h.combine(v) }
            case .value(let v): h.combine(2); h.combine(v)
            case .index(let i): h.combine(3); h.combine(i)
            case .any: h.combine(4)
            }
        }
    }

    public var steps: [Step]
    public let text: String

    public init(_ text: String) throws(Diagnostic) {
        self.text = text
        var steps: [Step] = []
        let c = Array(text)
        var i = 0
        func bad(_ why: String) -> Diagnostic {
            .error("invalid field path \"\(text)\": \(why)",
                   fix: "write paths like .spec.replicas, .spec.template.spec.containers[name=main].image or .webhooks[*].clientConfig.caBundle")
        }
        if c.isEmpty { throw bad("empty") }
        while i < c.count {
            if c[i] == "." {
                i += 1
                var name = ""
                while i < c.count && c[i] != "." && c[i] != "[" { name.append(c[i]); i += 1 }
                if name.isEmpty { throw bad("empty field name") }
                steps.append(.field(name))
            } else if c[i] == "[" {
                guard let close = c[i...].firstIndex(of: "]") else { throw bad("missing ]") }
                // A quoted field may contain "]": find the closing quote first.
                var end = close
                if i + 1 < c.count && c[i + 1] == "\"" {
                    guard let q = c[(i + 2)...].firstIndex(of: "\""), q + 1 < c.count, c[q + 1] == "]" else { throw bad("unterminated quote") }
                    end = q + 1
                    steps.append(.field(String(c[(i + 2)..<q])))
                    i = end + 1
                    continue
                }
                let inner = String(c[(i + 1)..<end])
                if inner == "*" { steps.append(.any) }
                else if inner.hasPrefix("=") { steps.append(.value(String(inner.dropFirst()))) }
                else if let n = Int(inner) { steps.append(.index(n)) }
                else {
                    var kv: [(String, String)] = []
                    for part in inner.split(separator: ",") {
                        let p = part.split(separator: "=", maxSplits: 1)
                        guard p.count == 2, !p[0].isEmpty else { throw bad("expected [key=value] in [\(inner)]") }
                        kv.append((String(p[0]), String(p[1])))
                    }
                    if kv.isEmpty { throw bad("empty []") }
                    steps.append(.key(kv.sorted { $0.0 < $1.0 }))
                }
                i = end + 1
            } else {
                throw bad("expected . or [ at position \(i + 1)")
            }
        }
        self.steps = steps
    }

    public var description: String { text }

    /// True when the pattern matches `path` or one of its prefixes (everything under a matched
    /// path is covered).
    public func covers(_ path: FieldPath) -> Bool {
        guard steps.count <= path.count else { return false }
        for (s, e) in zip(steps, path.elements) {
            switch (s, e) {
            case (.any, .key), (.any, .value), (.any, .index): continue
            case let (.field(a), .field(b)) where a == b: continue
            case let (.index(a), .index(b)) where a == b: continue
            case let (.value(a), .value(b)) where a == (b.scalarText ?? ""): continue
            case let (.key(kv), .key(fields)):
                let want = kv.map { $0.0 + "=" + $0.1 }
                let have = fields.map { $0.name + "=" + ($0.value.scalarText ?? "") }.sorted()
                if want == have { continue }
                return false
            default: return false
            }
        }
        return true
    }
}

/// A user rule: differences on these paths of matching objects are not changes (the field is
/// still applied; it is only left out of diff results, exit codes and drift).
public struct IgnoreRule: Sendable, Hashable {
    /// Match by group/kind/namespace/name; nil matches any.
    public var group: String?
    public var kind: String?
    public var namespace: String?
    public var name: String?
    public var paths: [PathPattern]
    /// JSON pointers and JQ paths (`ignoreDifferences`): resolved against each object, see
    /// `IgnoreDifferences.respectLive`.
    public var valuePaths: [ValuePath] = []
    /// Differences on fields these managers own are not changes (`managedFieldsManagers`).
    public var managers: [String] = []
    /// The objects the rule may apply to; nil: every object of the site. An Argo CD
    /// Application's rules are scoped to the objects it expanded into (as Argo CD applies an
    /// Application's `ignoreDifferences` to its own resources only).
    public var scope: Set<ObjectKey>? = nil

    public init(group: String? = nil, kind: String? = nil, namespace: String? = nil, name: String? = nil,
                paths: [PathPattern], valuePaths: [ValuePath] = [], managers: [String] = []) {
        self.group = group; self.kind = kind; self.namespace = namespace; self.name = name; self.paths = paths
        self.valuePaths = valuePaths; self.managers = managers
    }

    public func matches(_ k: ObjectKey) -> Bool {
        (group == nil || group == k.group) && (kind == nil || kind == k.kind)
            && (namespace == nil || namespace == k.namespace) && (name == nil || name == k.name)
            && (scope?.contains(k) ?? true)
    }
}

/// Options of the owned-field comparison.
public struct DiffOptions: Sendable, Hashable {
    public var ignore: [IgnoreRule]
    /// Differences on fields owned (now) by one of these managers are not changes: e.g. an
    /// autoscaler's `replicas` (Argo CD's `managedFieldsManagers`).
    public var ignoreManagers: Set<String>
    /// Apply the built-in normalizers (see `BuiltinNormalizers`).
    public var builtinNormalizers: Bool
    /// CRD schemas for custom resources (list keys, atomic maps); empty = built-in table only.
    public var schemas: SchemaCatalog

    public init(ignore: [IgnoreRule] = [], ignoreManagers: Set<String> = [], builtinNormalizers: Bool = true,
                schemas: SchemaCatalog = SchemaCatalog()) {
        self.ignore = ignore; self.ignoreManagers = ignoreManagers; self.builtinNormalizers = builtinNormalizers
        self.schemas = schemas
    }

    public static let `default` = DiffOptions()

    /// True when `change` on `key` is to be left out.
    func ignores(_ change: FieldChange, key: ObjectKey, desired: Value, live: Value, entries: [ManagedFieldsEntry]) -> Bool {
        for r in ignore where r.matches(key) {
            if r.paths.contains(where: { $0.covers(change.path) }) { return true }
            if !r.managers.isEmpty,
               ManagedFieldsEntry.entries(of: live).contains(where: { r.managers.contains($0.manager) && $0.fields.owns(change.path) }) {
                return true
            }
        }
        if !ignoreManagers.isEmpty,
           entries.contains(where: { ignoreManagers.contains($0.manager) && $0.fields.owns(change.path) }) {
            return true
        }
        if builtinNormalizers && BuiltinNormalizers.ignores(change.path, key: key, desired: desired) { return true }
        return false
    }
}

/// Built-in rules for fields that controllers own by design, so "changed with no real change"
/// cannot happen by default.
public enum BuiltinNormalizers {
    public static func ignores(_ path: FieldPath, key: ObjectKey, desired: Value) -> Bool {
        let f = path.fieldNames
        // pattern's own bookkeeping (applied hash, rendered revision) is never a change.
        if f.count == 3, f[0] == "metadata", f[1] == "annotations", IgnoreDifferences.bookkeepingAnnotations.contains(f[2]) { return true }
        // Aggregated ClusterRoles: the controller fills `rules` from the aggregationRule.
        if key.kind == "ClusterRole", desired["aggregationRule"] != nil, f.first == "rules" { return true }
        return false
    }
}
