import PatternCore

/// The API version of the project's own file formats.
public let patternAPIVersion = "pattern.dev/v1alpha1"

/// A base pattern: `patterns/<name>/pattern.yaml`.
///
/// ```yaml
/// apiVersion: pattern.dev/v1alpha1
/// kind: Pattern
/// metadata: {name: multicloud-platform}
/// spec:
///   version: 1.4.0
///   valueFiles: [values-global.yaml]
///   values: {replicas: 1}
///   parameters:
///   - {name: clusterDomain, type: string, required: true}
///   components:
///   - {name: namespaces, path: components/namespaces}
///   - {name: web, path: components/web, dependsOn: [namespaces]}
/// ```
public struct PatternSpec: Sendable {
    public var name: String
    public var version: String?
    public var description: String?
    /// Files (relative to the pattern directory) merged in order below `values`.
    public var valueFiles: [(path: String, mark: Mark)]
    public var values: Value
    public var parameters: [Parameter]
    public var components: [Component]
    /// Where pattern.yaml was read from (for diagnostics).
    public var file: String

    public struct Component: Sendable {
        public var name: String
        /// Directory relative to the pattern directory: plain manifests or a kustomization.
        public var path: String
        public var dependsOn: [(name: String, mark: Mark)]
        public var enabled: Bool
        public var description: String?
        public var mark: Mark
        /// The component may render no objects (otherwise that is an error: an emptied file must
        /// not silently empty a component and let apply prune it).
        public var mayBeEmpty: Bool = false
        /// Set when the component is a Helm chart (then `path` is unused).
        public var chart: ChartComponentSpec? = nil
    }

    /// A declared value: its dotted path in the values tree, type and constraints.
    public struct Parameter: Sendable {
        public enum ValueType: String, Sendable, CaseIterable { case string, integer, number, boolean, map, list }
        public var name: String
        public var type: ValueType?
        public var required: Bool
        public var defaultValue: Value?
        public var allowed: [Value]?
        public var description: String?
        public var mark: Mark
    }
}

extension PatternSpec {
    static let knownTop = ["apiVersion", "kind", "metadata", "spec"]
    static let knownSpec = ["version", "description", "valueFiles", "values", "parameters", "components"]
    static let knownComponent = ["name", "path", "dependsOn", "enabled", "description", "mayBeEmpty", "chart"]
    static let knownParameter = ["name", "type", "required", "default", "enum", "description"]

    /// Decodes and validates a pattern file, collecting every problem.
    public static func decode(_ doc: Value, file: String) throws(Diagnostics) -> PatternSpec {
        var r = FieldReader(file: file)
        guard let top = r.object(doc, "pattern file") else {
            throw Diagnostics([.error("pattern file is empty or not a map", at: SourceLocation(file: file, mark: doc.mark),
                                      fix: "start it with 'apiVersion: \(patternAPIVersion)' and 'kind: Pattern'")])
        }
        r.checkKnown(top, knownTop, in: "pattern file")
        checkHeader(&r, top, kind: "Pattern", file: file)
        let meta = r.object(top["metadata"], "metadata") ?? Object()
        let name = r.string(meta, "name", in: "metadata", required: true) ?? ""
        let spec = r.object(top["spec"], "spec") ?? Object()
        r.checkKnown(spec, knownSpec, in: "spec")

        var values = Value.emptyObject
        if let v = spec["values"], !v.isNull {
            if v.object == nil { r.error("'values' must be a map, found \(v.typeName)", at: v) } else { values = v }
        }

        var params: [Parameter] = []
        if let pv = spec["parameters"], !pv.isNull {
            if let list = pv.array {
                for item in list {
                    guard let o = r.object(item, "parameter") else { continue }
                    r.checkKnown(o, knownParameter, in: "parameter")
                    let pname = r.string(o, "name", in: "parameter", required: true) ?? ""
                    var type: Parameter.ValueType? = nil
                    if let t = r.string(o, "type", in: "parameter '\(pname)'") {
                        type = Parameter.ValueType(rawValue: t)
                        if type == nil {
                            r.error("unknown parameter type '\(t)'", at: o["type"]!,
                                    fix: "use one of: \(Parameter.ValueType.allCases.map(\.rawValue).joined(separator: ", "))")
                        }
                    }
                    var allowed: [Value]? = nil
                    if let e = o["enum"] {
                        if let a = e.array { allowed = a } else { r.error("'enum' must be a list", at: e) }
                    }
                    if let type, let d = o["default"], !d.isNull, !ParameterCheck.matches(d, type) {
                        r.error("default of parameter '\(pname)' must be \(ParameterCheck.describe(type)), found \(d.typeName)", at: d,
                                fix: type == .string ? "quote the value" : "change the default or the parameter's type")
                    }
                    params.append(Parameter(name: pname, type: type, required: r.bool(o, "required", in: "parameter") ?? false,
                                            defaultValue: o["default"], allowed: allowed,
                                            description: r.string(o, "description", in: "parameter"), mark: item.mark))
                }
            } else {
                r.error("'parameters' must be a list", at: pv, fix: "write '- name: ...' entries")
            }
        }

        var components: [Component] = []
        var seen: [String: Mark] = [:]
        if let cv = spec["components"], let list = cv.array {
            for item in list {
                guard let o = r.object(item, "component") else { continue }
                r.checkKnown(o, knownComponent, in: "component")
                let cname = r.string(o, "name", in: "component", required: true) ?? ""
                if let prev = seen[cname] {
                    r.diagnostics.append(.error("duplicate component '\(cname)'", at: r.loc(item),
                                                fix: "give each component a unique name", related: [r.loc(prev)]))
                }
                seen[cname] = item.mark
                if !isDNSLabel(cname) && !cname.isEmpty {
                    r.error("component name '\(cname)' must be a DNS-1123 label (lowercase letters, digits, '-')", at: o["name"]!)
                }
                let chart = o["chart"].flatMap { ChartComponentSpec.decode($0, reader: &r) }
                if chart != nil, let p = o["path"] {
                    r.error("component '\(cname)' has both 'path' and 'chart'", at: p, fix: "keep 'chart.path' and remove 'path'")
                }
                components.append(Component(
                    name: cname, path: r.string(o, "path", in: "component '\(cname)'") ?? "components/\(cname)",
                    dependsOn: r.strings(o, "dependsOn", in: "component '\(cname)'").map { (name: $0.0, mark: $0.1) },
                    enabled: r.bool(o, "enabled", in: "component '\(cname)'") ?? true,
                    description: r.string(o, "description", in: "component"), mark: item.mark,
                    mayBeEmpty: r.bool(o, "mayBeEmpty", in: "component '\(cname)'") ?? false, chart: chart))
            }
        } else if let cv = spec["components"], !cv.isNull {
            r.error("'components' must be a list", at: cv)
        } else {
            r.diagnostics.append(.error("pattern has no components", at: SourceLocation(file: file, mark: doc.mark),
                                        fix: "list its components under spec.components"))
        }
        for c in components {
            for d in c.dependsOn where seen[d.name] == nil {
                r.diagnostics.append(.error("component '\(c.name)' depends on unknown component '\(d.name)'", at: r.loc(d.mark),
                                            fix: "known components: \(components.map(\.name).joined(separator: ", "))"))
            }
        }
        if let cycle = dependencyCycle(components) {
            r.diagnostics.append(.error("component dependencies form a cycle: \(cycle.joined(separator: " → "))",
                                        at: SourceLocation(file: file), fix: "remove one of the dependsOn entries"))
        }

        // Read every remaining field before deciding, so a wrong type is reported, not dropped.
        let version = r.string(spec, "version", in: "spec")
        let description = r.string(spec, "description", in: "spec")
        let valueFiles = r.strings(spec, "valueFiles", in: "spec").map { (path: $0.0, mark: $0.1) }
        if !r.diagnostics.isEmpty { throw Diagnostics(r.diagnostics) }
        return PatternSpec(name: name, version: version,
                           description: description,
                           valueFiles: valueFiles,
                           values: values, parameters: params, components: components, file: file)
    }

    static func dependencyCycle(_ components: [Component]) -> [String]? {
        let deps = Dictionary(components.map { ($0.name, $0.dependsOn.map(\.name)) }, uniquingKeysWith: { a, _ in a })
        var state: [String: Int] = [:]  // 1 visiting, 2 done
        var stack: [String] = []
        func visit(_ n: String) -> [String]? {
            if state[n] == 2 { return nil }
            if state[n] == 1 { return Array(stack[stack.firstIndex(of: n)!...]) + [n] }
            state[n] = 1; stack.append(n)
            for d in deps[n] ?? [] where deps[d] != nil { if let c = visit(d) { return c } }
            stack.removeLast(); state[n] = 2
            return nil
        }
        for c in components { if let cycle = visit(c.name) { return cycle } }
        return nil
    }
}

/// Checks apiVersion and kind of one of the project's own files.
func checkHeader(_ r: inout FieldReader, _ top: Object, kind: String, file: String, otherKinds: [String] = []) {
    if let av = top["apiVersion"] {
        if av.string != patternAPIVersion {
            r.error("unsupported apiVersion \(av.description)", at: av, fix: "use 'apiVersion: \(patternAPIVersion)'")
        }
    } else {
        r.diagnostics.append(.error("missing apiVersion", at: SourceLocation(file: file), fix: "add 'apiVersion: \(patternAPIVersion)'"))
    }
    let kinds = [kind] + otherKinds
    if let k = top["kind"] {
        if !(k.string.map(kinds.contains) ?? false) {
            r.error("expected kind \(kinds.joined(separator: " or ")), found \(k.description)", at: k)
        }
    } else {
        r.diagnostics.append(.error("missing kind", at: SourceLocation(file: file), fix: "add 'kind: \(kind)'"))
    }
}

/// RFC 1123 label: lowercase alphanumerics and '-', starting and ending alphanumeric, ≤ 63.
public func isDNSLabel(_ s: String) -> Bool {
    var s = s
    return s.withUTF8 { DNSName.isLabel($0[...]) }
}

/// RFC 1123 subdomain: dot-separated labels, ≤ 253.
public func isDNSSubdomain(_ s: String) -> Bool {
    var s = s
    return s.withUTF8 { DNSName.isSubdomain($0[...]) }
}
