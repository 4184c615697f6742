import PatternCore

/// A Kustomize field spec: which kinds (group/version/kind, empty = any) and which field
/// path inside them a transformer touches, and whether missing fields are created.
///
/// Paths are `/`-separated map keys (`\/` escapes a slash inside a key, as in annotation
/// names); a `[]` suffix marks a list. Lists met along the path are walked element by
/// element, as Kustomize's `fieldspec` filter does.
public struct FieldSpec: Sendable, Hashable {
    public var gvk: GvkSelector
    public var path: [String]
    public var create: Bool

    public init(gvk: GvkSelector = GvkSelector(), path: String, create: Bool = false) {
        self.gvk = gvk
        self.path = FieldSpec.splitPath(path)
        self.create = create
    }

    public var pathString: String { path.map { $0.replacingSlashes() }.joined(separator: "/") }

    /// Splits on `/` except `\/`. A `[]` suffix stays on its segment: it marks a list, which
    /// is walked when present and never created. Empty segments are dropped.
    static func splitPath(_ p: String) -> [String] {
        let slash = UInt8(ascii: "/"), backslash = UInt8(ascii: "\\")
        var parts: [String] = []
        var segment: [UInt8] = []
        var pendingBackslash = false
        func flush() {
            if !segment.isEmpty { parts.append(String(decoding: segment, as: UTF8.self)) }
            segment.removeAll(keepingCapacity: true)
        }
        for c in p.utf8 {
            if pendingBackslash {
                pendingBackslash = false
                if c == slash { segment.append(slash); continue }
                segment.append(backslash)
            }
            if c == backslash { pendingBackslash = true } else if c == slash { flush() } else { segment.append(c) }
        }
        if pendingBackslash { segment.append(backslash) }
        flush()
        return parts
    }

    /// Calls `body` with the value at this spec's path in `object` (in place). `body` gets
    /// `nil` for a missing final field only when `create` is set. Intermediate maps are
    /// created when `create` is set; lists along the way are walked element by element.
    func visit(_ object: inout Value, _ body: (inout Value?) throws -> Void) rethrows {
        try FieldSpec.walk(&object, path[...], create: create, body)
    }

    static func walk(_ v: inout Value, _ path: ArraySlice<String>, create: Bool,
                     _ body: (inout Value?) throws -> Void) rethrows {
        guard let key = path.first else { return }
        if case .array = v.kind {
            try v.withArray { items in
                for i in items.indices { try walk(&items[i], path, create: create, body) }
            }
            return
        }
        guard case .object = v.kind else { return }
        let rest = path.dropFirst()
        if key.hasSuffix("[]") {
            let name = String(key.dropLast(2))
            guard case .array? = v[name]?.kind else { return }
            try v.withObject { o in
                try o.modify(name) { list in try walk(&list!, rest, create: create, body) }
            }
            return
        }
        try v.withObject { o in
            if rest.isEmpty {
                let exists = o[key].map { !$0.isNull } ?? false
                if !exists && !create { return }
                try o.modify(key) { val in
                    if val?.isNull == true { val = nil }
                    try body(&val)
                }
                return
            }
            let exists = o[key].map { !$0.isNull } ?? false
            if !exists {
                if !create { return }
                o[key] = .emptyObject
            }
            try o.modify(key) { child in
                guard child != nil else { return }
                try walk(&child!, rest, create: create, body)
            }
        }
    }

    /// True when the path leads to an existing value somewhere in `v` (lists walked).
    static func hasField(_ v: Value, _ path: ArraySlice<String>) -> Bool {
        guard let key = path.first else { return true }
        switch v.kind {
        case .array(let items): return items.contains { hasField($0, path) }
        case .object(let o):
            guard let child = o[key.hasSuffix("[]") ? String(key.dropLast(2)) : key] else { return false }
            return hasField(child, path.dropFirst())
        default: return false
        }
    }
}

extension String {
    func replacingSlashes() -> String {
        var out = ""
        for ch in self { if ch == "/" { out += "\\/" } else { out.append(ch) } }
        return out
    }
}
