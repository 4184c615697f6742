import PatternCore

/// What changed between two renders of a site (`pattern history --diff`): objects added,
/// removed and changed, and for changed ones the field paths with old → new values. Secret
/// `data`/`stringData` values appear only as fingerprints. The provenance annotations the
/// compiler adds (`pattern.dev/revision`, source and source-commit) are left out: they change
/// with every render and say nothing about the object.
public struct RenderDiff: Sendable, Hashable {
    public struct Field: Sendable, Hashable {
        /// `spec.template.spec.containers[name=web].image`, `data.key`, `metadata.labels.app`.
        public var path: String
        /// nil: the field is not in the old render.
        public var old: Value?
        /// nil: the field is not in the new render.
        public var new: Value?
    }

    public struct Changed: Sendable, Hashable {
        public var key: ObjectKey
        /// Sorted by path; at most `maxFields` (then `truncated`).
        public var fields: [Field]
        public var truncated: Bool
    }

    public var added: [ObjectKey]
    public var removed: [ObjectKey]
    public var changed: [Changed]

    public static let maxFields = 200
    static let maxDepth = 64

    /// Compares the objects of two renders, keyed by identity (one pass each, no quadratic scan).
    public init(old: [RenderedObject], new: [RenderedObject]) {
        var before: [ObjectKey: Value] = [:]
        for o in old { before[o.key] = o.object }
        var added: [ObjectKey] = [], changed: [Changed] = [], seen: Set<ObjectKey> = []
        for o in new {
            seen.insert(o.key)
            guard let b = before[o.key] else { added.append(o.key); continue }
            var fields: [Field] = []
            RenderDiff.walk(RenderDiff.prepared(b), RenderDiff.prepared(o.object), path: "", depth: 0, into: &fields)
            if !fields.isEmpty {
                fields.sort { $0.path < $1.path }
                let truncated = fields.count > RenderDiff.maxFields
                changed.append(Changed(key: o.key, fields: Array(fields.prefix(RenderDiff.maxFields)), truncated: truncated))
            }
        }
        self.added = added.sorted()
        self.removed = before.keys.filter { !seen.contains($0) }.sorted()
        self.changed = changed.sorted { $0.key < $1.key }
    }

    public var isEmpty: Bool { added.isEmpty && removed.isEmpty && changed.isEmpty }

    /// The object without provenance annotations, Secret values as fingerprints.
    static func prepared(_ v: Value) -> Value {
        var o = SecretRedaction.isSecret(v) ? SecretRedaction.redact(SecretRedaction.foldStringData(v)) : v
        if var ann = o[path: ["metadata", "annotations"]]?.object {
            for k in [LabelKeys.revision, LabelKeys.source, LabelKeys.sourceCommit] { ann[k] = nil }
            var meta = o["metadata"] ?? .emptyObject
            meta["annotations"] = ann.isEmpty ? nil : .object(ann)
            o["metadata"] = meta
        }
        return o
    }

    static func join(_ path: String, _ key: String) -> String {
        let plain = !key.isEmpty && key.utf8.allSatisfy { ($0 >= 0x30 && $0 <= 0x39) || ($0 >= 0x41 && $0 <= 0x5a) || ($0 >= 0x61 && $0 <= 0x7a) || $0 == 0x2d || $0 == 0x5f }
        let seg = plain ? key : "[\"" + key + "\"]"
        return path.isEmpty ? seg : (plain ? path + "." + seg : path + seg)
    }

    /// A list element's name: `[name=web]` when every element is a map with a unique string
    /// `name` (containers, ports, env, volumes), else its index.
    static func names(_ list: [Value]) -> [String]? {
        var out: [String] = [], seen: Set<String> = []
        for e in list {
            guard let n = e["name"]?.string, seen.insert(n).inserted else { return nil }
            out.append(n)
        }
        return out
    }

    static func walk(_ a: Value?, _ b: Value?, path: String, depth: Int, into out: inout [Field]) {
        if a == b || out.count > maxFields { return }
        guard depth < maxDepth else { out.append(Field(path: path, old: a, new: b)); return }
        if let ao = a?.object, let bo = b?.object {
            for (k, v) in bo { walk(ao[k], v, path: join(path, k), depth: depth + 1, into: &out) }
            for (k, v) in ao where bo[k] == nil { walk(v, nil, path: join(path, k), depth: depth + 1, into: &out) }
            return
        }
        if let al = a?.array, let bl = b?.array {
            if let an = names(al), let bn = names(bl) {
                var byName: [String: Value] = [:]
                for (n, v) in zip(an, al) { byName[n] = v }
                let bset = Set(bn)
                for (n, v) in zip(bn, bl) { walk(byName[n], v, path: path + "[name=\(n)]", depth: depth + 1, into: &out) }
                for (n, v) in zip(an, al) where !bset.contains(n) { walk(v, nil, path: path + "[name=\(n)]", depth: depth + 1, into: &out) }
                return
            }
            for i in 0..<max(al.count, bl.count) {
                walk(i < al.count ? al[i] : nil, i < bl.count ? bl[i] : nil, path: path + "[\(i)]", depth: depth + 1, into: &out)
            }
            return
        }
        out.append(Field(path: path, old: a, new: b))
    }
}
