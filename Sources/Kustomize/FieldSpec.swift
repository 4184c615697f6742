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
        // Most paths have no escape: cut the bytes at each slash, one string per segment.
        var text = p
        if let parts = text.withUTF8({ bytes -> [String]? in
            if bytes.contains(backslash) { return nil }
            var parts: [String] = []
            parts.reserveCapacity(8)
            var start = 0
            for i in 0...bytes.count where i == bytes.count || bytes[i] == slash {
                if i > start { parts.append(String(decoding: UnsafeBufferPointer(rebasing: bytes[start..<i]), as: UTF8.self)) }
                start = i + 1
            }
            return parts
        }) {
            return parts
        }
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
        try FieldSpec.walk(&object, path, from: 0, create: create, body)
    }

    /// Walks `path[from...]`. The path is passed whole with a position, not as a slice: a slice
    /// retains the array, and the built-in field specs are shared by every object on every
    /// core (their reference count would be written by both cores at each step).
    static func walk(_ v: inout Value, _ path: [String], from at: Int, create: Bool,
                     _ body: (inout Value?) throws -> Void) rethrows {
        guard at < path.count else { return }
        if case .array = v.kind {
            try v.withArray { items in
                for i in items.indices { try walk(&items[i], path, from: at, create: create, body) }
            }
            return
        }
        guard case .object = v.kind else { return }
        let key = path[at]
        let next = at + 1
        let isList = isListKey(key)
        if !create && !isList {
            // Most objects lack most spec paths: answer that from a read, before taking the map
            // out for writing. (The read's references end with this scope, so the map is still
            // uniquely referenced when it is written below.)
            guard case .object(let o) = v.kind, let child = o[key], !child.isNull else { return }
        }
        if isList {
            let name = String(key.dropLast(2))
            guard case .array? = v[name]?.kind else { return }
            try v.withObject { o in
                try o.modify(name) { list in try walk(&list!, path, from: next, create: create, body) }
            }
            return
        }
        try v.withObject { o in
            let exists = o[key].map { !$0.isNull } ?? false
            if next == path.count {
                if !exists && !create { return }
                try o.modify(key) { val in
                    if val?.isNull == true { val = nil }
                    try body(&val)
                }
                return
            }
            if !exists {
                if !create { return }
                o[key] = .emptyObject
            }
            try o.modify(key) { child in
                guard child != nil else { return }
                try walk(&child!, path, from: next, create: create, body)
            }
        }
    }

    /// Whether a path element names a list (`containers[]`): its last two bytes, read in
    /// place. This runs at every step of every walk, where `hasSuffix` (a `Character`
    /// comparison) was a measurable share of a build.
    @inline(__always) static func isListKey(_ key: String) -> Bool {
        key.utf8.withContiguousStorageIfAvailable { b in
            b.count >= 2 && b[b.count - 1] == UInt8(ascii: "]") && b[b.count - 2] == UInt8(ascii: "[")
        } ?? key.hasSuffix("[]")
    }

    /// True when `path[from...]` leads to an existing value somewhere in `v` (lists walked).
    static func hasField(_ v: Value, _ path: [String], from at: Int = 0) -> Bool {
        guard at < path.count else { return true }
        switch v.kind {
        case .array(let items): return items.contains { hasField($0, path, from: at) }
        case .object(let o):
            let key = path[at]
            guard let child = o[isListKey(key) ? String(key.dropLast(2)) : key] else { return false }
            return hasField(child, path, from: at + 1)
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
