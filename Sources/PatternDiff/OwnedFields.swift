import PatternCore

/// One difference on a field this tool applies.
public struct FieldChange: Sendable, Hashable, CustomStringConvertible {
    public enum Kind: String, Sendable, Hashable {
        /// Desired sets the field; live does not have it.
        case added
        /// Both have it with different values.
        case changed
        /// We applied it before (our managedFields entry), desired no longer sets it and no other
        /// manager owns it: the next apply removes it.
        case removed
    }

    public var path: FieldPath
    public var kind: Kind
    /// Desired value (nil for `removed`). Secret values are fingerprints.
    public var desired: Value?
    /// Live value (nil for `added`). Secret values are fingerprints.
    public var live: Value?

    public init(path: FieldPath, kind: Kind, desired: Value?, live: Value?) {
        self.path = path; self.kind = kind; self.desired = desired; self.live = live
    }

    public var description: String { "\(kind.rawValue) \(path)" }
}

/// One entry of `metadata.managedFields`, decoded.
public struct ManagedFieldsEntry: Sendable, Hashable {
    public var manager: String
    /// `Apply` or `Update`.
    public var operation: String
    public var apiVersion: String
    /// RFC 3339 time as the server wrote it ("" when absent).
    public var time: String
    /// `status`, `scale`, … or "" for the main resource.
    public var subresource: String
    public var fields: FieldSet

    public init(manager: String, operation: String, apiVersion: String = "", time: String = "",
                subresource: String = "", fields: FieldSet) {
        self.manager = manager; self.operation = operation; self.apiVersion = apiVersion
        self.time = time; self.subresource = subresource; self.fields = fields
    }

    /// Decodes every entry of `metadata.managedFields` of a live object.
    public static func entries(of live: Value) -> [ManagedFieldsEntry] {
        guard let list = live[path: ["metadata", "managedFields"]]?.array else { return [] }
        return list.compactMap { e in
            guard let m = e["manager"]?.string else { return nil }
            return ManagedFieldsEntry(
                manager: m, operation: e["operation"]?.string ?? "", apiVersion: e["apiVersion"]?.string ?? "",
                time: e["time"]?.string ?? "", subresource: e["subresource"]?.string ?? "",
                fields: FieldSet(fieldsV1: e["fieldsV1"] ?? .emptyObject))
        }
    }
}

/// Owned-field comparison: desired (the rendered object, treated as a server-side-apply
/// configuration) against live, on the fields desired sets, plus fields we applied before that
/// desired dropped. See Docs/diff-apply.md.
public enum OwnedFields {
    /// Desired as it will be compared: `stringData` folded into base64 `data` for Secrets.
    public static func normalizeDesired(_ desired: Value) -> Value {
        SecretRedaction.foldStringData(desired)
    }

    /// The set of fields an apply of `desired` would own, shaped like the server's managedFields
    /// entry: list items keyed as the server keys them, atomic values as leaves, ignored paths
    /// (status, server metadata, identity) left out.
    public static func fieldSet(of desired: Value, schemas: SchemaCatalog = SchemaCatalog()) -> FieldSet {
        var set = FieldSet()
        let ctx = SchemaContext(object: desired, catalog: schemas)
        collect(desired, path: FieldPath(), fields: [], ctx: ctx, into: &set)
        return set
    }

    /// Members are what the server records: scalars, atomic values, empty maps and lists, and
    /// list items (`.`); a non-empty granular map is only the parent of its members.
    private static func collect(_ v: Value, path: FieldPath, fields: [String], ctx: SchemaContext, into set: inout FieldSet) {
        switch v.kind {
        case .object(let o):
            if o.isEmpty || ctx.isAtomicMap(fields) { if !path.isEmpty { set.insert(path) }; return }
            if case .key = path.last { set.insert(path) }
            for (k, child) in o {
                let f = fields + [k]
                if MergeSchema.isIgnored(f) { continue }
                collect(child, path: path.appending(.field(k)), fields: f, ctx: ctx, into: &set)
            }
        case .array(let a):
            let lt = ctx.listType(fields)
            let elems = a.enumerated().map { MergeSchema.element(for: $0.element, in: lt, index: $0.offset) }
            if a.isEmpty || lt == .atomic || elems.contains(where: { $0 == nil }) { set.insert(path); return }
            for (item, e) in zip(a, elems) {
                collect(item, path: path.appending(e!), fields: fields, ctx: ctx, into: &set)
            }
        default:
            set.insert(path)
        }
    }

    /// Our manager's `Apply` entry for the main resource, if any.
    public static func previouslyApplied(live: Value, manager: String) -> FieldSet? {
        // Parse only our own entry: the others are needed only when a removal is found.
        guard let list = live[path: ["metadata", "managedFields"]]?.array else { return nil }
        for e in list where e["manager"]?.string == manager && e["operation"]?.string == "Apply"
            && (e["subresource"]?.string ?? "").isEmpty {
            return FieldSet(fieldsV1: e["fieldsV1"] ?? .emptyObject)
        }
        return nil
    }

    /// Differences on owned fields (sorted by path), without those `options` ignore. Secret
    /// values in the result are fingerprints.
    public static func compare(desired: Value, live: Value, manager: String, options: DiffOptions = .default) -> [FieldChange] {
        compareSplit(desired: desired, live: live, manager: manager, options: options).changes
    }

    /// Differences split into those that count and those an ignore rule or normalizer dropped.
    public static func compareSplit(desired rawDesired: Value, live: Value, manager: String,
                                    options: DiffOptions = .default) -> (changes: [FieldChange], ignored: [FieldChange]) {
        let desired = normalizeDesired(rawDesired)
        let ctx = SchemaContext(object: desired.kindName == nil ? live : desired, catalog: options.schemas)
        var changes: [FieldChange] = []
        var path = FieldPath(), fields: [String] = []
        walk(desired, live, path: &path, fields: &fields, ctx: ctx, into: &changes)
        changes += removals(desired: rawDesired, normalized: desired, live: live, manager: manager, schemas: options.schemas)
        changes.sort { $0.path < $1.path }
        if SecretRedaction.isSecret(desired) {
            changes = changes.map {
                var c = $0
                c.desired = SecretRedaction.redact(c.desired, at: c.path)
                c.live = SecretRedaction.redact(c.live, at: c.path)
                return c
            }
        }
        guard !changes.isEmpty, let key = desired.objectKey ?? live.objectKey else { return (changes, []) }
        let entries = options.ignoreManagers.isEmpty ? [] : ManagedFieldsEntry.entries(of: live)
        var kept: [FieldChange] = [], ignored: [FieldChange] = []
        for c in changes {
            if options.ignores(c, key: key, desired: desired, live: live, entries: entries) { ignored.append(c) } else { kept.append(c) }
        }
        return (kept, ignored)
    }

    /// Fields we owned (our `Apply` entry) that desired no longer sets and no one else owns.
    public static func removals(desired raw: Value, normalized: Value, live: Value, manager: String,
                                schemas: SchemaCatalog = SchemaCatalog()) -> [FieldChange] {
        // Live was applied from exactly this configuration: our applied fields are desired's.
        if AppliedHash.matches(prepared: raw, live: live) { return [] }
        guard let prev = previouslyApplied(live: live, manager: manager) else { return [] }
        var want = fieldSet(of: normalized, schemas: schemas)
        if raw != normalized { for p in fieldSet(of: raw, schemas: schemas).members { want.insert(p) } }  // Secret stringData
        var othersCache: [ManagedFieldsEntry]? = nil
        func others() -> [ManagedFieldsEntry] {
            if let o = othersCache { return o }
            let o = ManagedFieldsEntry.entries(of: live).filter { !($0.manager == manager && $0.operation == "Apply" && $0.subresource.isEmpty) }
            othersCache = o
            return o
        }
        let ctx = SchemaContext(object: raw.kindName == nil ? live : raw, catalog: schemas)
        var out: [FieldChange] = []
        var reported: [FieldPath] = []
        for p in prev.members {
            if reported.contains(where: { p.hasPrefix($0) }) { continue }
            let lead = p.leadingFields
            if (1...max(1, lead.count)).contains(where: { MergeSchema.isIgnored(Array(lead.prefix($0))) }) { continue }
            if want.owns(p) || want.node(at: p).map({ !$0.isEmpty }) == true { continue }
            if others().contains(where: { $0.fields.owns(p) }) { continue }
            guard let lv = value(at: p, in: live, context: ctx) else { continue }
            out.append(FieldChange(path: p, kind: .removed, desired: nil, live: lv))
            reported.append(p)
        }
        return out
    }

    // MARK: Walk

    /// Null, an empty list, or a map with only such values: the API drops these, so they equal absent.
    static func isEmptyish(_ v: Value) -> Bool {
        switch v.kind {
        case .null: return true
        case .object(let o): return !o.containsValue { !isEmptyish($0) }
        case .array(let a): return a.isEmpty
        default: return false
        }
    }

    /// `path` and `fields` are the position of `d`, grown and shrunk in place as the walk goes
    /// down and up (no new arrays per field visited); a change copies the path it was found at.
    private static func walk(_ d: Value, _ l: Value?, path: inout FieldPath, fields: inout [String], ctx: SchemaContext,
                             into out: inout [FieldChange]) {
        guard let l, !l.isNull else {
            if !isEmptyish(d) { out.append(FieldChange(path: path, kind: .added, desired: d, live: nil)) }
            return
        }
        switch d.kind {
        case .object(let o):
            guard let lo = l.object else {
                if !(isEmptyish(d) && isEmptyish(l)) { out.append(FieldChange(path: path, kind: .changed, desired: d, live: l)) }
                return
            }
            if ctx.isAtomicMap(fields) {
                if !strictEqual(d, l, fields: &fields) { out.append(FieldChange(path: path, kind: .changed, desired: d, live: l)) }
                return
            }
            // Entries read in place (`forEachEntry` hands each over borrowed, where iterating
            // the map copies every key and value out).
            o.forEachEntry(sorted: false) { k, dv in
                fields.append(k)
                if !MergeSchema.isIgnored(fields) {
                    path.elements.append(.field(k))
                    walk(dv, lo[k], path: &path, fields: &fields, ctx: ctx, into: &out)
                    path.elements.removeLast()
                }
                fields.removeLast()
            }
        case .array(let a):
            guard let la = l.array else {
                if !(isEmptyish(d) && isEmptyish(l)) { out.append(FieldChange(path: path, kind: .changed, desired: d, live: l)) }
                return
            }
            let lt = ctx.listType(fields)
            switch lt {
            case .atomic:
                if !atomicEqual(d, l, fields: &fields) { out.append(FieldChange(path: path, kind: .changed, desired: d, live: l)) }
            case .set:
                for item in a where !la.contains(item) {
                    out.append(FieldChange(path: path.appending(.value(item)), kind: .added, desired: item, live: nil))
                }
            case .map:
                let dElems = a.enumerated().map { MergeSchema.element(for: $0.element, in: lt, index: $0.offset) }
                if dElems.contains(where: { $0 == nil }) {
                    if !atomicEqual(d, l, fields: &fields) { out.append(FieldChange(path: path, kind: .changed, desired: d, live: l)) }
                    return
                }
                // Live items by key (the first of equal keys); a short list is searched, not hashed.
                let lElems = la.indices.map { MergeSchema.element(for: la[$0], in: lt, index: $0) }
                var index: [PathElement: Value] = [:]
                if la.count > 8 {
                    for (i, e) in lElems.enumerated() { if let e, index[e] == nil { index[e] = la[i] } }
                }
                for (item, e) in zip(a, dElems) {
                    let live = la.count > 8 ? index[e!] : lElems.firstIndex(where: { $0 == e }).map { la[$0] }
                    path.elements.append(e!)
                    walk(item, live, path: &path, fields: &fields, ctx: ctx, into: &out)
                    path.elements.removeLast()
                }
            }
        default:
            if !scalarEqual(d, l, fields: fields) { out.append(FieldChange(path: path, kind: .changed, desired: d, live: l)) }
        }
    }

    /// Scalars: structural equality (1 == 1.0), or equal amounts at quantity paths.
    public static func scalarEqual(_ d: Value, _ l: Value, fields: [String]) -> Bool {
        if d == l { return true }
        if MergeSchema.isQuantityPath(fields), let qd = Quantity(d), let ql = Quantity(l) { return qd == ql }
        return false
    }

    /// Atomic values: same list lengths, maps compared on desired's keys (defaults the server
    /// fills inside are not differences), scalars as above.
    static func atomicEqual(_ d: Value, _ l: Value, fields: [String]) -> Bool {
        var fields = fields
        return atomicEqual(d, l, fields: &fields)
    }

    /// `atomicEqual`, with the field names grown and shrunk in place (no array per key).
    static func atomicEqual(_ d: Value, _ l: Value, fields: inout [String]) -> Bool {
        switch (d.kind, l.kind) {
        case let (.object(a), .object(b)):
            for (k, v) in a {
                guard let w = b[k], !w.isNull else { if isEmptyish(v) { continue } else { return false } }
                fields.append(k)
                let equal = atomicEqual(v, w, fields: &fields)
                fields.removeLast()
                if !equal { return false }
            }
            return true
        case let (.array(a), .array(b)):
            guard a.count == b.count else { return false }
            for i in a.indices where !atomicEqual(a[i], b[i], fields: &fields) { return false }
            return true
        default:
            return scalarEqual(d, l, fields: fields)
        }
    }

    /// Strict structural equality (same keys, same list lengths; empty entries ignored),
    /// scalars compared with `scalarEqual`. Used for atomic maps such as label selectors.
    static func strictEqual(_ d: Value, _ l: Value, fields: [String]) -> Bool {
        var fields = fields
        return strictEqual(d, l, fields: &fields)
    }

    /// `strictEqual`, with the field names grown and shrunk in place; the key sets are
    /// compared by lookups and counts, not built.
    static func strictEqual(_ d: Value, _ l: Value, fields: inout [String]) -> Bool {
        switch (d.kind, l.kind) {
        case let (.object(a), .object(b)):
            // Same non-empty keys: each of desired's is in live (not empty), and live has no more.
            var count = 0
            for (k, v) in a where !isEmptyish(v) {
                guard let w = b[k], !isEmptyish(w) else { return false }
                count += 1
                fields.append(k)
                let equal = strictEqual(v, w, fields: &fields)
                fields.removeLast()
                if !equal { return false }
            }
            var liveCount = 0
            for (_, w) in b where !isEmptyish(w) { liveCount += 1 }
            return liveCount == count
        case let (.array(a), .array(b)):
            guard a.count == b.count else { return false }
            for i in a.indices where !strictEqual(a[i], b[i], fields: &fields) { return false }
            return true
        default:
            return scalarEqual(d, l, fields: fields)
        }
    }

    // MARK: Paths into values

    /// The value at `path` in an object (nil when absent), matching keyed items with the same
    /// defaults the server uses for keys.
    public static func value(at path: FieldPath, in root: Value, kind: String) -> Value? {
        value(at: path, in: root, context: SchemaContext(kind: kind))
    }

    /// The value at `path`, with list keys from `context` (CRD schemas for custom resources).
    public static func value(at path: FieldPath, in root: Value, context ctx: SchemaContext) -> Value? {
        var cur = root
        var fields: [String] = []
        for e in path.elements {
            switch e {
            case .field(let f):
                guard let n = cur[f] else { return nil }
                cur = n
                fields.append(f)
            case .key:
                guard let a = cur.array else { return nil }
                let lt = ctx.listType(fields)
                guard let hit = a.enumerated().first(where: { MergeSchema.element(for: $0.element, in: lt, index: $0.offset) == e }) else { return nil }
                cur = hit.element
            case .value(let v):
                guard let a = cur.array, a.contains(v) else { return nil }
                cur = v
            case .index(let i):
                guard let a = cur.array, i >= 0, i < a.count else { return nil }
                cur = a[i]
            }
        }
        return cur
    }

    /// Live restricted to the fields desired sets (in desired's order), for showing a diff.
    /// Scalars equal after normalization (quantities, empty-vs-absent) take desired's spelling
    /// so they do not show as changes.
    public static func project(live: Value, onto desired: Value, schemas: SchemaCatalog = SchemaCatalog()) -> Value? {
        project(live, desired, fields: [], ctx: SchemaContext(object: desired, catalog: schemas))
    }

    private static func project(_ l: Value?, _ d: Value, fields: [String], ctx: SchemaContext) -> Value? {
        guard let l, !l.isNull else { return isEmptyish(d) ? d : nil }
        switch (d.kind, l.kind) {
        case let (.object(dobj), .object(lobj)):
            if ctx.isAtomicMap(fields) { return strictEqual(d, l, fields: fields) ? d : l }
            var o = Object()
            for (k, dv) in dobj {
                let f = fields + [k]
                if MergeSchema.isIgnored(f) {
                    // keep identity so both sides of a diff show which object it is
                    if isIdentity(f), let lv = lobj[k] { o.append(k, lv) }
                    continue
                }
                if let pv = project(lobj[k], dv, fields: f, ctx: ctx) { o.append(k, pv) }
            }
            return .object(o)
        case let (.array(da), .array(la)):
            let lt = ctx.listType(fields)
            switch lt {
            case .map:
                var index: [PathElement: Value] = [:]
                for (i, item) in la.enumerated() {
                    if let e = MergeSchema.element(for: item, in: lt, index: i), index[e] == nil { index[e] = item }
                }
                var out: [Value] = []
                for (i, item) in da.enumerated() {
                    guard let e = MergeSchema.element(for: item, in: lt, index: i) else { return atomicProject(l, d, fields: fields) }
                    if let pv = project(index[e], item, fields: fields, ctx: ctx) { out.append(pv) }
                }
                return .array(out)
            case .set:
                return .array(da.filter { la.contains($0) })
            case .atomic:
                return atomicProject(l, d, fields: fields)
            }
        default:
            if d.isScalar && l.isScalar && scalarEqual(d, l, fields: fields) { return d }
            return l
        }
    }

    private static func atomicProject(_ l: Value, _ d: Value, fields: [String]) -> Value {
        if atomicEqual(d, l, fields: fields) { return d }
        return l
    }

    static func isIdentity(_ f: [String]) -> Bool {
        f == ["apiVersion"] || f == ["kind"] || f == ["metadata", "name"] || f == ["metadata", "namespace"]
    }

    /// Desired as shown in a diff: normalized, ignored fields dropped (identity kept at the top).
    public static func display(desired: Value) -> Value {
        let n = normalizeDesired(desired)
        return strip(n, fields: [])
    }

    /// Removes ignored fields (status, server metadata) at any level of an object's top.
    public static func strip(_ v: Value, fields: [String]) -> Value {
        guard let o = v.object else { return v }
        var r = Object()
        for (k, child) in o {
            let f = fields + [k]
            if MergeSchema.isIgnored(f) {
                if !isIdentity(f) { continue }
                r.append(k, child)
                continue
            }
            if f == ["metadata"] { r.append(k, strip(child, fields: f)) } else { r.append(k, child) }
        }
        return .object(r)
    }
}
