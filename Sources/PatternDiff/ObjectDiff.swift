import PatternCore

/// What an apply would do to one object.
public enum DiffAction: String, Sendable, Hashable, CaseIterable {
    case create, update, unchanged, prune
}

/// The diff of one object: action, changed owned fields and a unified YAML diff restricted to
/// the fields desired sets (Secret values as `sha256:` fingerprints).
public struct ObjectDiff: Sendable, Hashable {
    public var key: ObjectKey
    public var action: DiffAction
    public var changes: [FieldChange]
    /// Unified diff (`--- live/…`, `+++ desired/…`); empty for `unchanged`.
    public var text: String
    /// When the live object belongs to another pattern site: that owner (`pattern/site`).
    /// Apply refuses such objects unless they are adopted explicitly.
    public var ownedBy: String?

    public init(key: ObjectKey, action: DiffAction, changes: [FieldChange], text: String, ownedBy: String? = nil) {
        self.key = key; self.action = action; self.changes = changes; self.text = text; self.ownedBy = ownedBy
    }
}

public enum ObjectDiffer {
    /// `live/<group>/<kind>/<namespace>/<name>` style label for diff headers.
    public static func label(_ key: ObjectKey) -> String {
        let g = key.group.isEmpty ? "core" : key.group
        return key.namespace.isEmpty ? "\(g)/\(key.kind)/\(key.name)" : "\(g)/\(key.kind)/\(key.namespace)/\(key.name)"
    }

    static let emitter = YAMLEmitter()

    /// Diffs one object. `desired == nil` means the object is a prune candidate (in the
    /// inventory, not in the render); `live == nil` means it does not exist yet.
    public static func diff(desired: Value?, live: Value?, manager: String, options: DiffOptions = .default) -> ObjectDiff {
        let key = desired?.objectKey ?? live?.objectKey ?? ObjectKey(group: "", kind: "", namespace: "", name: "")
        // The header label only where a text is made (an unchanged object, the usual case, has none).
        var name: String { label(key) }
        switch (desired, live) {
        case (let d?, nil):
            let shown = SecretRedaction.redact(OwnedFields.display(desired: d))
            let text = TextDiff.unified("", emitter.emit(shown), fromName: "/dev/null", toName: "desired/" + name)
            return ObjectDiff(key: key, action: .create, changes: [], text: text)
        case (nil, let l?):
            let shown = SecretRedaction.redact(OwnedFields.strip(l, fields: []))
            let text = TextDiff.unified(emitter.emit(shown), "", fromName: "live/" + name, toName: "/dev/null")
            return ObjectDiff(key: key, action: .prune, changes: [], text: text)
        case (let d?, let l?):
            let (changes, ignored) = OwnedFields.compareSplit(desired: d, live: l, manager: manager, options: options)
            if changes.isEmpty { return ObjectDiff(key: key, action: .unchanged, changes: [], text: "") }
            let shownDesired = OwnedFields.display(desired: d)
            var shownLive = OwnedFields.project(live: l, onto: shownDesired, schemas: options.schemas) ?? .emptyObject
            let ctx = SchemaContext(object: d, catalog: options.schemas)
            // Ignored differences show as equal: live takes desired's value there.
            for c in ignored where c.kind != .removed {
                if let v = OwnedFields.value(at: c.path, in: shownDesired, context: ctx) { insert(v, at: c.path, into: &shownLive, ctx: ctx) }
            }
            for c in changes where c.kind == .removed {
                if let v = OwnedFields.value(at: c.path, in: l, context: ctx) { insert(v, at: c.path, into: &shownLive, ctx: ctx) }
            }
            let text = TextDiff.unified(emitter.emit(SecretRedaction.redact(shownLive)),
                                        emitter.emit(SecretRedaction.redact(shownDesired)),
                                        fromName: "live/" + name, toName: "desired/" + name)
            return ObjectDiff(key: key, action: .update, changes: changes, text: text)
        case (nil, nil):
            return ObjectDiff(key: key, action: .unchanged, changes: [], text: "")
        }
    }

    /// Diffs a whole render against live objects and the prune candidates.
    /// Results are in desired order, then prunes sorted by key.
    public static func diffAll(desired: [Value], live: [ObjectKey: Value], prune: [Value], manager: String,
                               options: DiffOptions = .default) -> [ObjectDiff] {
        var out: [ObjectDiff] = []
        out.reserveCapacity(desired.count + prune.count)
        for d in desired {
            let l = d.objectKey.flatMap { live[$0] }
            out.append(diff(desired: d, live: l, manager: manager, options: options))
        }
        for p in prune.sorted(by: { ($0.objectKey.map { "\($0)" } ?? "") < ($1.objectKey.map { "\($0)" } ?? "") }) {
            out.append(diff(desired: nil, live: p, manager: manager))
        }
        return out
    }

    /// Best-effort insertion of `v` at `path` (creating maps; keyed items appended).
    static func insert(_ v: Value, at path: FieldPath, into root: inout Value, ctx: SchemaContext) {
        insert(v, path.elements[...], into: &root, fields: [], ctx: ctx)
    }

    private static func insert(_ v: Value, _ path: ArraySlice<PathElement>, into cur: inout Value, fields: [String], ctx: SchemaContext) {
        guard let first = path.first else { cur = v; return }
        let rest = path.dropFirst()
        switch first {
        case .field(let f):
            var child = cur[f] ?? (rest.first.map { if case .field = $0 { return Value.emptyObject } else { return Value.array([]) } } ?? .null)
            insert(v, rest, into: &child, fields: fields + [f], ctx: ctx)
            cur[f] = child
        case .key, .value, .index:
            var a = cur.array ?? []
            let lt = ctx.listType(fields)
            if let i = a.indices.first(where: { MergeSchema.element(for: a[$0], in: lt, index: $0) == first }) {
                var child = a[i]
                insert(v, rest, into: &child, fields: fields, ctx: ctx)
                a[i] = child
            } else if rest.isEmpty {
                a.append(v)
            } else {
                var child = Value.emptyObject
                if case .key(let kf) = first { for f in kf { child[f.name] = f.value } }
                insert(v, rest, into: &child, fields: fields, ctx: ctx)
                a.append(child)
            }
            cur = .array(a)
        }
    }
}
