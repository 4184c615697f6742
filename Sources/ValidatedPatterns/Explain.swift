import PatternCore
import Helm

/// Merged values with, for every leaf, the file and line that set it: the answer to "which of
/// these eight files set this?".
public struct ExplainedValues: Sendable {
    /// One leaf (a scalar, a list or an empty map) of the merged values.
    public struct Leaf: Sendable {
        public var path: [String]
        public var value: Value
        public var file: String
        /// Line and column in `file` (`.none` for values that have no source text).
        public var mark: Mark
        public var dotted: String { path.joined(separator: ".") }
    }

    public var values: Value
    /// Leaves in the merged values' key order.
    public var leaves: [Leaf]
    /// The value files considered, in order, and whether each exists.
    public var files: [VPValueFile]
    /// What to do about `files` entries whose names need facts that are not set (nil: none do).
    public var factsHint: String?

    /// Merges `layers` (lowest first) over the chart's `defaults` as Helm does: user layers merge
    /// with maps merging deeply, lists and scalars replacing and `null` kept; the chart's
    /// values.yaml then fills what is unset, and a user `null` deletes the chart's key.
    public static func merge(_ layers: [ValueLayer], defaults: ValueLayer? = nil, files: [VPValueFile] = [],
                             factsHint: String? = nil) -> ExplainedValues {
        var root = Value.emptyObject
        var origins: [[String]: String] = [:]
        for l in layers where l.value.object != nil { root = merge(root, l.value, path: [], file: l.file, origins: &origins) }
        if let defaults, defaults.value.object != nil { root = coalesce(root, defaults.value, path: [], file: defaults.file, origins: &origins) }
        var leaves: [Leaf] = []
        collect(root, path: [], origins: origins, into: &leaves)
        return ExplainedValues(values: root, leaves: leaves, files: files, factsHint: factsHint)
    }

    static func merge(_ base: Value, _ layer: Value, path: [String], file: String, origins: inout [[String]: String]) -> Value {
        guard let lo = layer.object else { return base }
        var out = base.object ?? Object()
        for (k, v) in lo {
            if v.object != nil, let existing = out[k], existing.object != nil {
                out[k] = merge(existing, v, path: path + [k], file: file, origins: &origins)
            } else {
                out[k] = v
                record(v, path: path + [k], file: file, origins: &origins)
            }
        }
        return Value(.object(out), mark: base.mark)
    }

    /// Helm's `coalesceTables(user, chart)`: chart keys the user left unset are added, a user
    /// `null` deletes the chart's key, maps on both sides coalesce.
    static func coalesce(_ user: Value, _ chart: Value, path: [String], file: String, origins: inout [[String]: String]) -> Value {
        guard let co = chart.object, var out = user.object else { return user }
        for (k, cv) in co {
            guard let existing = out[k] else {
                if !cv.isNull { out[k] = cv; record(cv, path: path + [k], file: file, origins: &origins) }
                continue
            }
            if existing.isNull { _ = out.removeValue(forKey: k) } else if existing.object != nil, cv.object != nil {
                out[k] = coalesce(existing, cv, path: path + [k], file: file, origins: &origins)
            }
        }
        return Value(.object(out), mark: user.mark)
    }

    static func record(_ v: Value, path: [String], file: String, origins: inout [[String]: String]) {
        origins[path] = file
        guard let o = v.object else { return }
        for (k, c) in o { record(c, path: path + [k], file: file, origins: &origins) }
    }

    static func collect(_ v: Value, path: [String], origins: [[String]: String], into leaves: inout [Leaf]) {
        if let o = v.object, !o.isEmpty {
            for (k, c) in o { collect(c, path: path + [k], origins: origins, into: &leaves) }
            return
        }
        if path.isEmpty { return }
        leaves.append(Leaf(path: path, value: v, file: origins[path] ?? "?", mark: v.mark))
    }

    /// `file:line:column` of a leaf (just the file when it has no position).
    public static func location(_ leaf: Leaf) -> String {
        leaf.mark.line > 0 ? "\(leaf.file):\(leaf.mark.line):\(leaf.mark.column)" : leaf.file
    }

    /// The machine form: `{values, sources: {<dotted path>: "file:line:column"}, files: [{path,
    /// present, missingFacts?}]}` (`missingFacts` only on entries that need facts not set).
    public var document: Value {
        var sources = Object()
        for l in leaves { sources[l.dotted] = .string(ExplainedValues.location(l)) }
        let fileList: [Value] = files.map { f in
            var e: Value = ["path": .string(f.path), "present": .bool(f.present)]
            if !f.missingFacts.isEmpty { e["missingFacts"] = .array(f.missingFacts.map { .string($0) }) }
            return e
        }
        return ["values": values, "sources": .object(sources), "files": .array(fileList)]
    }

    /// The human form: the files considered, then one line per leaf with where it was set.
    public var text: String {
        var out = ""
        if !files.isEmpty {
            out += "# value files, lowest precedence first (missing ones are skipped):\n"
            for f in files {
                let note = !f.missingFacts.isEmpty ? "  (not read: \(f.missingFacts.joined(separator: ", ")) not set)" : f.present ? "" : "  (missing)"
                out += "#   \(f.path)\(note)\n"
            }
            if let factsHint { out += "# \(factsHint)\n" }
        }
        let width = min(60, leaves.map { $0.dotted.count + 2 + short($0.value).count }.max() ?? 0)
        for l in leaves {
            let left = "\(l.dotted): \(short(l.value))"
            out += left + String(repeating: " ", count: max(1, width - left.count + 2)) + "# " + ExplainedValues.location(l) + "\n"
        }
        return out
    }

    func short(_ v: Value) -> String {
        let s = JSONWriter.string(v)
        return s.count > 80 ? String(s.prefix(77)) + "..." : s
    }
}
