import PatternCore

/// `replacements:` — copies a field of one object (the source) into fields of others
/// (targets), as Kustomize's ReplacementTransformer does, after all other transformers of the
/// kustomization.
///
/// - `source`: `group`/`version`/`kind`/`name`/`namespace` (exact, matched against current or
///   previous ids; exactly one object must match), `fieldPath` (default `metadata.name`),
///   `options.delimiter` + `options.index` to take one part of a scalar.
/// - `targets[]`: `select` and `reject` (group/version/kind/name/namespace compared literally,
///   not as regular expressions, as kubectl kustomize v5.5.0 does; label and annotation selectors), `fieldPaths` (default `metadata.name`), `options.create`,
///   `options.delimiter` + `options.index` to replace one part of a scalar (a negative index
///   prepends, one past the end appends).
/// - Field paths are `.`-separated; `[key=value]` picks list elements, `*` all elements, a
///   number one element; a `.` inside brackets does not split.
/// - Scalars keep the target's type (copying `"3"` into `replicas: 1` gives `replicas: 3`).
struct Replacement: Sendable {
    struct Source: Sendable {
        var id = ResId(gvk: GroupVersionKind(group: "", version: "", kind: ""), name: "", namespace: "")
        var fieldPath = "metadata.name"
        var delimiter = ""
        var index = 0
    }
    struct Target: Sendable {
        var select: PatchTarget
        var reject: [PatchTarget] = []
        var fieldPaths: [String] = ["metadata.name"]
        var create = false
        var delimiter = ""
        var index = 0
        var mark: Mark
    }
    var source: Source
    var targets: [Target]
    var mark: Mark
    var file: String
}

enum ReplacementTransformer {
    /// Reads `replacements` entries (inline, or `path:` files holding a list of them).
    static func load(_ entries: [Value], kust: Kustomization, loader: TreeLoader) throws(Diagnostics) -> [Replacement] {
        var out: [Replacement] = []
        var diags: [Diagnostic] = []
        for e in entries {
            do throws(Diagnostic) {
                if let path = e["path"]?.string {
                    let loc = SourceLocation(file: kust.file, mark: e.mark)
                    let p = try loader.resolve(path, from: kust.dir, at: loc, what: "replacements file")
                    for doc in try loader.parseStream(p, at: loc, what: "replacements file") where !doc.value.isNull {
                        for item in doc.value.array ?? [doc.value] { out.append(try parse(item, file: p.string)) }
                    }
                } else {
                    out.append(try parse(e, file: kust.file))
                }
            } catch { diags.append(error) }
        }
        if !diags.isEmpty { throw Diagnostics(diags) }
        return out
    }

    static func parse(_ v: Value, file: String) throws(Diagnostic) -> Replacement {
        func loc(_ m: Mark) -> SourceLocation { SourceLocation(file: file, mark: m) }
        guard let o = v.object else {
            throw .error("a replacement must be a map with `source` and `targets`", at: loc(v.mark), fix: "see Docs/kustomize.md")
        }
        for k in o.keys where k != "source" && k != "targets" {
            throw .error("unknown field '\(k)' in replacement", at: loc(o.keyMark(k) ?? v.mark), fix: "use `source` and `targets`")
        }
        guard let s = o["source"]?.object, let ts = o["targets"]?.array, !ts.isEmpty else {
            throw .error("replacements must specify a source and at least one target", at: loc(v.mark),
                         fix: "add `source: {kind: …, name: …, fieldPath: …}` and `targets:`")
        }
        var src = Replacement.Source()
        for (k, x) in s {
            let text = x.scalarText ?? ""
            switch k {
            case "group": src.id.gvk.group = text
            case "version": src.id.gvk.version = text
            case "kind": src.id.gvk.kind = text
            case "name": src.id.name = text
            case "namespace": src.id.namespace = text
            case "fieldPath": src.fieldPath = text
            case "options":
                for (ok, ov) in x.object ?? Object() {
                    switch ok {
                    case "delimiter": src.delimiter = ov.scalarText ?? ""
                    case "index": src.index = ov.int ?? 0
                    default: throw .error("unknown source option '\(ok)'", at: loc(ov.mark), fix: "use delimiter and index")
                    }
                }
            default: throw .error("unknown field '\(k)' in replacement source", at: loc(s.keyMark(k) ?? x.mark),
                                  fix: "use group, version, kind, name, namespace, fieldPath, options")
            }
        }
        var targets: [Replacement.Target] = []
        for t in ts {
            guard let to = t.object, let sel = to["select"] else {
                throw .error("a replacement target must specify resources to `select`", at: loc(t.mark), fix: "add `select: {kind: …}`")
            }
            var target = Replacement.Target(select: try PatchTarget(parsing: sel, file: file), mark: t.mark)
            for (k, x) in to {
                switch k {
                case "select": break
                case "reject":
                    for r in x.array ?? [] { target.reject.append(try PatchTarget(parsing: r, file: file)) }
                case "fieldPaths": target.fieldPaths = (x.array ?? []).compactMap(\.string)
                case "options":
                    for (ok, ov) in x.object ?? Object() {
                        switch ok {
                        case "create": target.create = ov.bool ?? false
                        case "delimiter": target.delimiter = ov.scalarText ?? ""
                        case "index": target.index = ov.int ?? 0
                        default: throw .error("unknown target option '\(ok)'", at: loc(ov.mark), fix: "use create, delimiter and index")
                        }
                    }
                default: throw .error("unknown field '\(k)' in replacement target", at: loc(to.keyMark(k) ?? x.mark),
                                      fix: "use select, reject, fieldPaths, options")
                }
            }
            if target.fieldPaths.isEmpty { target.fieldPaths = ["metadata.name"] }
            targets.append(target)
        }
        return Replacement(source: src, targets: targets, mark: v.mark, file: file)
    }

    static func apply(_ replacements: [Replacement], to m: inout ResMap) throws(Diagnostic) {
        for r in replacements {
            let loc = SourceLocation(file: r.file, mark: r.mark)
            let ids = m.items.map { [$0.curId] + $0.prevIds }
            let sources = m.items.indices.filter { i in ids[i].contains { selected($0, by: r.source.id) } }
            guard sources.count == 1 else {
                throw .error(sources.isEmpty ? "replacement source \(r.source.id) selects nothing"
                                             : "replacement source \(r.source.id) selects \(sources.count) objects",
                             at: loc, fix: "make the source's kind/name/namespace match exactly one object")
            }
            let path = split(r.source.fieldPath)
            var found: [Value] = []
            collect(m.items[sources[0]].value, path[...], into: &found)
            guard var value = found.first, !value.isNull else {
                throw .error("fieldPath '\(r.source.fieldPath)' is missing in replacement source \(m.items[sources[0]].curId)",
                             at: loc, fix: "fix the source fieldPath")
            }
            if !r.source.delimiter.isEmpty {
                guard let text = value.scalarText, value.isScalar else {
                    throw .error("delimiter option can only be used with scalar nodes", at: loc, fix: "remove the delimiter option")
                }
                let parts = text.split(separator: Substring(r.source.delimiter), omittingEmptySubsequences: false)
                guard r.source.index >= 0 && r.source.index < parts.count else {
                    throw .error("options.index \(r.source.index) is out of bounds for value \(text)", at: loc, fix: "fix the index")
                }
                value = .string(String(parts[r.source.index]))
            }
            for t in r.targets {
                for i in m.items.indices {
                    let r0 = m.items[i]
                    let names = ids[i]
                    guard t.selects(r0.value, ids: names) else { continue }
                    for fp in t.fieldPaths {
                        var hits = 0
                        var failure: Diagnostic?
                        set(&m.items[i].value, split(fp)[...], create: t.create) { field in
                            hits += 1
                            do throws(Diagnostic) { field = try combine(field, value, t, at: SourceLocation(file: r.file, mark: t.mark)) } catch { failure = error }
                        }
                        if let failure { throw failure }
                        if hits == 0 {
                            throw .error("unable to \(t.create ? "find or create" : "find") field \"\(fp)\" in replacement target \(r0.curId)",
                                         at: SourceLocation(file: r.file, mark: t.mark),
                                         fix: t.create ? "check the field path" : "check the field path, or set `options.create: true`")
                        }
                    }
                }
            }
        }
    }

    /// `IsSelectedBy`: unset selector fields match anything; namespaces compare effectively.
    static func selected(_ id: ResId, by sel: ResId) -> Bool {
        (sel.name.isEmpty || sel.name == id.name)
            && (sel.namespace.isEmpty || sel.effectiveNamespace == id.effectiveNamespace)
            && GvkSelector(sel.gvk).matches(id.gvk)
    }

    static func combine(_ field: Value?, _ value: Value, _ t: Replacement.Target, at loc: SourceLocation) throws(Diagnostic) -> Value {
        var v = value
        if !t.delimiter.isEmpty {
            guard let f = field, f.isScalar, let text = f.scalarText else {
                throw .error("delimiter option can only be used with scalar nodes", at: loc, fix: "remove the delimiter option")
            }
            var parts = text.split(separator: Substring(t.delimiter), omittingEmptySubsequences: false).map(String.init)
            let s = v.scalarText ?? ""
            if t.index < 0 { parts.insert(s, at: 0) } else if t.index >= parts.count { parts.append(s) } else { parts[t.index] = s }
            v = .string(parts.joined(separator: t.delimiter))
        }
        // Scalars keep the target's type; a created or non-scalar field takes the source node.
        guard let f = field, f.isScalar, !f.isNull, v.isScalar, let text = v.scalarText else {
            if field == nil, let text = v.scalarText, v.isScalar, case .string = v.kind { return Value(YAMLScalar.resolvePlain(text)) }
            return v
        }
        if case .string = f.kind { return Value(.string(text), mark: f.mark) }
        return Value(YAMLScalar.resolvePlain(text), mark: f.mark)
    }

    /// Splits on `.` outside `[...]`.
    static func split(_ path: String) -> [String] {
        var parts: [String] = []
        var cur = ""
        var depth = 0
        for ch in path {
            if ch == "[" { depth += 1 } else if ch == "]" { depth -= 1 }
            if ch == "." && depth == 0 { parts.append(cur); cur = "" } else { cur.append(ch) }
        }
        parts.append(cur)
        return parts.filter { !$0.isEmpty }
    }

    enum Segment {
        case key(String)
        case match(String, String)
        case all
        case index(Int)

        init(_ s: String) {
            if s == "*" { self = .all; return }
            if s.hasPrefix("["), s.hasSuffix("]"), let eq = s.firstIndex(of: "=") {
                self = .match(String(s[s.index(after: s.startIndex)..<eq]), String(s[s.index(after: eq)..<s.index(before: s.endIndex)]))
                return
            }
            if let i = Int(s), i >= 0 { self = .index(i); return }
            self = .key(s)
        }
    }

    static func collect(_ v: Value, _ path: ArraySlice<String>, into out: inout [Value]) {
        guard let first = path.first else { out.append(v); return }
        let rest = path.dropFirst()
        switch (Segment(first), v.kind) {
        case (.key(let k), .object(let o)): if let c = o[k] { collect(c, rest, into: &out) }
        case (.match(let k, let val), .array(let a)):
            for e in a where e[k]?.scalarText == val { collect(e, rest, into: &out) }
        case (.all, .array(let a)): for e in a { collect(e, rest, into: &out) }
        case (.index(let i), .array(let a)): if i < a.count { collect(a[i], rest, into: &out) }
        default: break
        }
    }

    /// Calls `body` for each field the path reaches (creating maps, list elements matched by
    /// `[k=v]`, and the final field when `create`).
    static func set(_ v: inout Value, _ path: ArraySlice<String>, create: Bool, _ body: (inout Value?) -> Void) {
        guard let first = path.first else { return }
        let rest = path.dropFirst()
        switch Segment(first) {
        case .key(let k):
            guard case .object = v.kind else { return }
            v.withObject { o in
                if rest.isEmpty {
                    if o[k] == nil && !create { return }
                    o.modify(k) { body(&$0) }
                    return
                }
                if o[k] == nil {
                    guard create else { return }
                    o[k] = Segment(rest.first!).isListSegment ? .array([]) : .emptyObject
                }
                o.modify(k) { c in if c != nil { set(&c!, rest, create: create, body) } }
            }
        case .match(let k, let val):
            guard case .array = v.kind else { return }
            var any = false
            v.withArray { arr in
                for j in arr.indices where arr[j][k]?.scalarText == val {
                    any = true
                    if rest.isEmpty { var e: Value? = arr[j]; body(&e); if let e { arr[j] = e } } else { set(&arr[j], rest, create: create, body) }
                }
                if !any && create {
                    var e: Value = [k: .string(val)]
                    if rest.isEmpty { var x: Value? = e; body(&x); e = x ?? e } else { set(&e, rest, create: create, body) }
                    arr.append(e)
                }
            }
        case .all:
            guard case .array = v.kind else { return }
            v.withArray { arr in
                for j in arr.indices {
                    if rest.isEmpty { var e: Value? = arr[j]; body(&e); if let e { arr[j] = e } } else { set(&arr[j], rest, create: create, body) }
                }
            }
        case .index(let i):
            guard case .array(let a) = v.kind, i < a.count else { return }
            v.withArray { arr in
                if rest.isEmpty { var e: Value? = arr[i]; body(&e); if let e { arr[i] = e } } else { set(&arr[i], rest, create: create, body) }
            }
        }
    }
}

extension ReplacementTransformer.Segment {
    var isListSegment: Bool {
        switch self {
        case .key: return false
        default: return true
        }
    }
}

extension Replacement.Target {
    /// Whether this target takes `object` (known by its current and previous `ids`), exactly as
    /// kubectl kustomize v5.5.0 decides: `select`'s label and annotation selectors must match and
    /// no `reject`'s may; then some id must be selected by `select`'s group/version/kind, name and
    /// namespace compared literally (not as regular expressions) while no id is selected by a
    /// `reject` that names any of those fields.
    func selects(_ object: Value, ids: [ResId]) -> Bool {
        guard select.matchesSelectors(object) else { return false }
        for r in reject where (r.labelSelector != nil || r.annotationSelector != nil) && r.matchesSelectors(object) { return false }
        guard ids.contains(where: { select.selectsLiterally($0) }) else { return false }
        for r in reject where r.namesResource {
            if ids.contains(where: { r.selectsLiterally($0) }) { return false }
        }
        return true
    }
}

extension PatchTarget {
    /// Label and annotation selectors only (unset ones match).
    func matchesSelectors(_ object: Value) -> Bool {
        if let labelSelector, !labelSelector.matches(object.labels) { return false }
        if let annotationSelector, !annotationSelector.matches(object.annotations) { return false }
        return true
    }

    /// Whether any of group, version, kind, name or namespace is set.
    var namesResource: Bool { !gvk.group.isEmpty || !gvk.version.isEmpty || !gvk.kind.isEmpty || name != nil || namespace != nil }

    /// Kustomize's `ResId.IsSelectedBy`: unset fields match anything, set ones compare literally,
    /// namespaces effectively (unset means `default`).
    func selectsLiterally(_ id: ResId) -> Bool {
        guard gvk.matches(id.gvk) else { return false }
        if let name, !name.source.isEmpty, name.source != id.name { return false }
        if let namespace, !namespace.source.isEmpty {
            let sel = ResId(gvk: GroupVersionKind(group: gvk.group, version: gvk.version, kind: gvk.kind), name: "", namespace: namespace.source)
            if sel.effectiveNamespace != id.effectiveNamespace { return false }
        }
        return true
    }

}
