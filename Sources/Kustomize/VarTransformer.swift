import PatternCore

/// `vars:` (deprecated in Kustomize in favour of `replacements`, still honoured by it).
///
/// Each var names an object (`objref`: apiVersion/group/version, kind, name, namespace) and a
/// field (`fieldref.fieldpath`, default `metadata.name`). A kustomization binds its vars to the
/// objects present after its transformers; bindings travel with the objects to the
/// including kustomizations. At the very end of the build (after name references) every
/// `$(NAME)` in the `varReference` fields (container command/args/env values, volume mount
/// paths, Ingress hosts, Service ports, metadata labels and annotations, … plus
/// `configurations`) is replaced by the field's final value: a field that is exactly
/// `$(NAME)` takes the value's type; `$$` is a literal `$`; unknown names stay as written.
struct VarSpec: Sendable {
    var name: String
    var target: GvkSelector
    var objName: String
    var objNamespace: String
    var fieldPath = "metadata.name"
    var mark: Mark
    var file: String
}

enum VarTransformer {
    static func parse(_ entries: [Value], file: String) throws(Diagnostics) -> [VarSpec] {
        var out: [VarSpec] = []
        var diags: [Diagnostic] = []
        func loc(_ m: Mark) -> SourceLocation { SourceLocation(file: file, mark: m) }
        for e in entries {
            guard let o = e.object, let name = o["name"]?.string, !name.isEmpty, let ref = o["objref"]?.object else {
                diags.append(.error("a var needs `name` and `objref`", at: loc(e.mark),
                                    fix: "write `- name: X`, `objref: {kind: …, name: …, apiVersion: …}`"))
                continue
            }
            var g = GvkSelector()
            if let av = ref["apiVersion"]?.string {
                let gv = GroupVersionKind(apiVersion: av, kind: "")
                g.group = gv.group; g.version = gv.version
            }
            if let x = ref["group"]?.string { g.group = x }
            if let x = ref["version"]?.string { g.version = x }
            g.kind = ref["kind"]?.string ?? ""
            var v = VarSpec(name: name, target: g, objName: ref["name"]?.string ?? "",
                            objNamespace: ref["namespace"]?.string ?? "", mark: e.mark, file: file)
            if let fp = o["fieldref"]?["fieldpath"]?.string, !fp.isEmpty { v.fieldPath = fp }
            for k in o.keys where !["name", "objref", "fieldref"].contains(k) {
                diags.append(.error("unknown field '\(k)' in var", at: loc(o.keyMark(k) ?? e.mark), fix: "use name, objref, fieldref"))
            }
            out.append(v)
        }
        if !diags.isEmpty { throw Diagnostics(diags) }
        return out
    }

    /// Binds this kustomization's vars to their objects (Kustomize's `MergeVars`).
    static func bind(_ vars: [VarSpec], in m: inout ResMap) throws(Diagnostic) {
        for v in vars {
            let loc = SourceLocation(file: v.file, mark: v.mark)
            if m.vars.contains(where: { $0.name == v.name }) {
                throw .error("var '\(v.name)' is already defined", at: loc, fix: "give the var a unique name")
            }
            let matches = m.items.indices.filter { i in
                let r = m.items[i]
                return ([r.curId, r.orgId] + r.prevIds).contains { id in
                    id.name == v.objName && v.target.matches(id.gvk)
                        && (v.objNamespace.isEmpty || id.effectiveNamespace == (v.objNamespace.isEmpty ? "default" : v.objNamespace))
                }
            }
            if matches.count > 1 {
                throw .error("var '\(v.name)' matches \(matches.count) objects", at: loc, fix: "add objref.namespace or apiVersion to disambiguate")
            }
            if let i = matches.first { m.items[i].refVars.append(v.name) }
            m.vars.append(v)
        }
    }

    /// Replaces `$(NAME)` references; run once, at the end of the top-level build.
    static func resolve(_ m: inout ResMap) throws(Diagnostic) {
        guard !m.vars.isEmpty else { return }
        var values: [String: Value] = [:]
        for v in m.vars {
            guard let r = m.items.first(where: { $0.refVars.contains(v.name) }) else {
                throw .error("var '\(v.name)' cannot be mapped to a field in the set of known resources",
                             at: SourceLocation(file: v.file, mark: v.mark), fix: "check the var's objref against the resources")
            }
            var found: [Value] = []
            ReplacementTransformer.collect(r.value, fieldPath(v.fieldPath)[...], into: &found)
            guard let value = found.first else {
                throw .error("var '\(v.name)': field '\(v.fieldPath)' not found in \(r.curId)",
                             at: SourceLocation(file: v.file, mark: v.mark), fix: "fix fieldref.fieldpath")
            }
            values[v.name] = value
        }
        let specs = m.config.varReference
        for i in m.items.indices {
            guard let gvk = m.items[i].value.gvk else { continue }
            for spec in specs where spec.gvk.matches(gvk) {
                spec.visit(&m.items[i].value) { field in
                    guard let f = field else { return }
                    field = substitute(f, values, typed: true)
                }
            }
        }
    }

    /// `spec.ports[0].port` → `spec`, `ports`, `0`, `port`.
    static func fieldPath(_ p: String) -> [String] {
        var out: [String] = []
        for part in ReplacementTransformer.split(p) {
            if let open = part.firstIndex(of: "["), part.hasSuffix("]"), !part.contains("=") {
                let head = String(part[..<open])
                if !head.isEmpty { out.append(head) }
                out.append(String(part[part.index(after: open)..<part.index(before: part.endIndex)]))
            } else {
                out.append(part)
            }
        }
        return out
    }

    static func substitute(_ v: Value, _ values: [String: Value], typed: Bool) -> Value {
        switch v.kind {
        case .string(let s):
            guard s.contains("$") else { return v }
            return expand(s, values, typed: typed).map { r in var x = r; x.mark = v.mark; return x } ?? v
        case .array(let a):
            return Value(.array(a.map { substitute($0, values, typed: true) }), mark: v.mark)
        case .object(let o):
            var out = Object()
            for (k, x) in o { out.append(k, substitute(x, values, typed: false)) }
            return Value(.object(out), mark: v.mark)
        default:
            return v
        }
    }

    /// Kubernetes-style `$(VAR)` expansion; a string that is exactly one reference takes the
    /// value's type when `typed`.
    static func expand(_ s: String, _ values: [String: Value], typed: Bool) -> Value? {
        let u = Array(s.utf8)
        if typed, u.count > 3, u[0] == 36, u[1] == 40, u.last == 41, !u[2..<(u.count - 1)].contains(41),
           let v = values[String(decoding: u[2..<(u.count - 1)], as: UTF8.self)], v.isScalar {
            return v
        }
        var out: [UInt8] = []
        var i = 0
        while i < u.count {
            let c = u[i]
            guard c == 36, i + 1 < u.count else { out.append(c); i += 1; continue }
            let n = u[i + 1]
            if n == 36 { out.append(36); i += 2; continue }
            if n == 40, let close = u[(i + 2)...].firstIndex(of: 41) {
                let name = String(decoding: u[(i + 2)..<close], as: UTF8.self)
                if let v = values[name], let text = v.scalarText, v.isScalar {
                    out.append(contentsOf: text.utf8)
                } else {
                    out.append(contentsOf: u[i...close])
                }
                i = close + 1
                continue
            }
            out.append(36); out.append(n); i += 2
        }
        return .string(String(decoding: out, as: UTF8.self))
    }
}
