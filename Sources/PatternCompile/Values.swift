import PatternCore

/// The merged values of a site, with the file each setting came from.
///
/// Layers merge Helm-style: maps deep-merge, lists and scalars replace, `null` deletes.
/// Order: pattern value files < pattern `values` < each extended overlay (its value files,
/// then its `values`) < the site.
public struct MergedValues: Sendable {
    public private(set) var root: Value = .emptyObject
    /// Dotted path → file that last set it (for error messages).
    public private(set) var origins: [String: String] = [:]

    public init() {}

    /// Merges `layer` (read from `file`) over what is there.
    public mutating func merge(_ layer: Value, from file: String) {
        guard layer.object != nil else { return }
        MergedValues.merge(&root, layer, path: "", file: file, origins: &origins)
    }

    static func merge(_ base: inout Value, _ layer: Value, path: String, file: String, origins: inout [String: String]) {
        guard let lo = layer.object else { base = layer; origins[path] = file; return }
        if base.object == nil { base = .emptyObject }
        base.withObject { bo in
            for (k, v) in lo {
                let p = path.isEmpty ? k : path + "." + k
                if v.isNull {
                    bo.removeValue(forKey: k)
                    origins[p] = nil
                    continue
                }
                if v.object != nil, let existing = bo[k], existing.object != nil {
                    bo.modify(k) { slot in
                        var cur = slot ?? .emptyObject
                        merge(&cur, v, path: p, file: file, origins: &origins)
                        slot = cur
                    }
                } else {
                    bo[k] = v
                    origins[p] = file
                    recordLeaves(v, path: p, file: file, origins: &origins)
                }
            }
        }
    }

    static func recordLeaves(_ v: Value, path: String, file: String, origins: inout [String: String]) {
        guard let o = v.object else { return }
        for (k, c) in o {
            let p = path + "." + k
            origins[p] = file
            recordLeaves(c, path: p, file: file, origins: &origins)
        }
    }

    /// The value at a dotted path (`image.tag`).
    public func value(at dotted: String) -> Value? {
        root[path: dotted.split(separator: ".").map(String.init)]
    }

    /// Sets a value (used for parameter defaults) without touching origins of other keys.
    public mutating func set(_ dotted: String, _ v: Value, from file: String) {
        root[path: dotted.split(separator: ".").map(String.init)] = v
        origins[dotted] = file
    }

    /// The file that set `dotted`, or the closest parent that did.
    public func origin(of dotted: String) -> String? {
        var parts = dotted.split(separator: ".").map(String.init)
        while !parts.isEmpty {
            if let f = origins[parts.joined(separator: ".")] { return f }
            parts.removeLast()
        }
        return nil
    }
}
