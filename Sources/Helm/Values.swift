import PatternCore
import HelmTemplate

/// Helm's values algebra (`pkg/chartutil/coalesce.go`, `values.go`), on ordered `Value` maps.
///
/// - coalesce: a chart's defaults (and its subcharts', under their names) fill in what the
///   given values lack; a `null` given for a key that has a default deletes it; `global`
///   flows from a parent into each subchart and merges top-down.
/// - merge (`merge: true`): the same, but `null`s are kept (used for import-values).
public enum HelmValues {
    /// Non-fatal findings (type conflicts Helm logs as warnings), in Helm's words without its
    /// `warning: ` prefix (the diagnostics that carry them are warnings).
    public struct Warnings: Sendable {
        public var items: [String] = []
        /// What Helm returns as an error instead (a subchart's values that are not a map:
        /// "type mismatch on <subchart>: …"), in Helm's words; the caller fails the render.
        public var errors: [String] = []
        public init() {}
        mutating func add(_ s: String) { if items.count < 100 { items.append(s) } }
        mutating func fail(_ s: String) { if errors.count < 100 { errors.append(s) } }
    }

    /// The render error for `warnings.errors`, if any: Helm's message at the chart's values.
    static func failure(_ warnings: Warnings, chart: Chart) -> ChartError? {
        guard !warnings.errors.isEmpty else { return nil }
        return ChartError(warnings.errors.map {
            .error($0, at: SourceLocation(file: chart.display("values.yaml")),
                   fix: "give the subchart's key a map of its values (or remove it): a subchart's values are always a map under its name")
        })
    }

    /// `chartutil.CoalesceValues`: the chart's values (recursively) under `given`.
    public static func coalesce(_ chart: Chart, _ given: Value, warnings: inout Warnings) -> Value {
        var dest = given.object ?? Object()
        coalesce(chart, &dest, prefix: "", merge: false, warnings: &warnings)
        return Value(.object(dest), mark: given.mark)
    }

    /// `chartutil.MergeValues`: as `coalesce`, keeping nulls.
    public static func merge(_ chart: Chart, _ given: Value, warnings: inout Warnings) -> Value {
        var dest = given.object ?? Object()
        coalesce(chart, &dest, prefix: "", merge: true, warnings: &warnings)
        return Value(.object(dest), mark: given.mark)
    }

    static func coalesce(_ chart: Chart, _ dest: inout Object, prefix: String, merge: Bool, warnings: inout Warnings) {
        coalesceValues(chart, &dest, prefix: prefix, merge: merge, warnings: &warnings)
        coalesceDeps(chart, &dest, prefix: prefix, merge: merge, warnings: &warnings)
    }

    static func concat(_ a: String, _ b: String) -> String { a.isEmpty ? b : a + "." + b }

    static func coalesceDeps(_ chart: Chart, _ dest: inout Object, prefix: String, merge: Bool, warnings: inout Warnings) {
        for sub in chart.dependencies {
            var dv: Object
            if let c = dest[sub.name] {
                guard let o = c.object else {
                    // Helm: `fmt.Errorf("type mismatch on %s: %t", …)`, which stops the coalesce.
                    warnings.fail(GoFormat.sprintf("type mismatch on %s: %t", [.string(sub.name), TemplateConversion.values(c)]))
                    return
                }
                dv = o
            } else {
                dv = Object()
            }
            let subPrefix = concat(prefix, chart.name)
            coalesceGlobals(&dv, dest, prefix: subPrefix, warnings: &warnings)
            coalesce(sub, &dv, prefix: subPrefix, merge: merge, warnings: &warnings)
            let mark = dest[sub.name]?.mark ?? .none
            dest[sub.name] = Value(.object(dv), mark: mark)
        }
    }

    /// Copies `global` of `src` into `dest` (the subchart's values), merging tables top-down.
    static func coalesceGlobals(_ dest: inout Object, _ src: Object, prefix: String, warnings: inout Warnings) {
        var dg: Object
        if let g = dest["global"] {
            guard let o = g.object else { warnings.add("skipping globals because destination global is not a table."); return }
            dg = o
        } else { dg = Object() }
        var sg = Object()
        if let g = src["global"] {
            guard let o = g.object else { warnings.add("skipping globals because source global is not a table."); return }
            sg = o
        }
        for (key, val) in sg {
            if let vo = val.object {
                var vv = vo
                if let destv = dg[key] {
                    if let dvo = destv.object {
                        coalesceTables(&vv, dvo, prefix: concat(prefix, key), merge: true, warnings: &warnings)
                        dg[key] = Value(.object(vv), mark: val.mark)
                    } else {
                        warnings.add("Conflict: cannot merge map onto non-map for \(GoFormat.quote(key)). Skipping.")
                    }
                } else {
                    dg[key] = val
                }
            } else if let dv = dg[key], dv.object != nil {
                warnings.add("key \(key) is table. Skipping")
            } else {
                dg[key] = val
            }
        }
        dest["global"] = Value(.object(dg), mark: dest["global"]?.mark ?? src["global"]?.mark ?? .none)
    }

    static func coalesceValues(_ chart: Chart, _ v: inout Object, prefix: String, merge: Bool, warnings: inout Warnings) {
        let subPrefix = concat(prefix, chart.name)
        guard let defaults = chart.values.object else { return }
        let subchartNames = Set(chart.dependencies.map(\.name))
        for (key, val) in defaults {
            if let value = v[key] {
                if value.isNull && !merge {
                    v.removeValue(forKey: key)
                } else if var dest = value.object {
                    if let src = val.object {
                        let m = subchartNames.contains(key) ? true : merge
                        coalesceTables(&dest, src, prefix: concat(subPrefix, key), merge: m, warnings: &warnings)
                        v[key] = Value(.object(dest), mark: value.mark)
                    } else if !val.isNull {
                        warnings.add("skipped value for \(subPrefix).\(key): Not a table.")
                    }
                }
            } else {
                v[key] = val
            }
        }
    }

    /// `coalesceTablesFullKey`: `dst` is authoritative; `src` fills in.
    static func coalesceTables(_ dst: inout Object, _ src: Object, prefix: String, merge: Bool, warnings: inout Warnings) {
        for (key, val) in src {
            let fullkey = concat(prefix, key)
            if let dv = dst[key] {
                if !merge && dv.isNull {
                    dst.removeValue(forKey: key)
                } else if let so = val.object {
                    if var dvo = dv.object {
                        coalesceTables(&dvo, so, prefix: fullkey, merge: merge, warnings: &warnings)
                        dst[key] = Value(.object(dvo), mark: dv.mark)
                    } else {
                        warnings.add("cannot overwrite table with non table for \(fullkey) (\(goV(val)))")
                    }
                } else if dv.object != nil && !val.isNull {
                    warnings.add("destination for \(fullkey) is a table. Ignoring non-table value (\(goV(val)))")
                }
            } else {
                dst[key] = val
            }
        }
    }

    /// A value as Helm's warnings print it (Go's `%v` of what its values decode to: numbers from
    /// values files are float64, maps print as `map[k:v]` with keys sorted, lists as `[a b]`,
    /// strings bare, null as `<nil>`).
    static func goV(_ v: Value) -> String { GoFormat.v(TemplateConversion.values(v)) }

    /// `CoalesceTables` (nulls in `dst` delete) and `MergeTables` (nulls kept) on whole values.
    public static func coalesceTables(_ dst: Value, _ src: Value, merge: Bool) -> Value {
        guard var d = dst.object else { return dst.isNull ? src : dst }
        guard let s = src.object else { return dst }
        var w = Warnings()
        coalesceTables(&d, s, prefix: "", merge: merge, warnings: &w)
        return Value(.object(d), mark: dst.mark)
    }

    /// Merges user value layers as `helm -f a -f b --set …` does (`mergeMaps`): later layers win,
    /// maps merge deeply, nulls are kept (coalescing removes them later).
    public static func mergeLayers(_ base: Value, _ next: Value) -> Value {
        guard var b = base.object, let n = next.object else { return next.object != nil ? next : base }
        for (k, v) in n {
            if v.object != nil, let existing = b[k], existing.object != nil {
                b[k] = mergeLayers(existing, v)
            } else {
                b[k] = v
            }
        }
        return Value(.object(b), mark: base.mark)
    }

    /// `Values.Table`: the map at a dotted path, if every step is a map.
    public static func table(_ v: Value, _ dotted: String) -> Object? {
        var cur = v
        for part in dotted.split(separator: ".", omittingEmptySubsequences: true) {
            guard let next = cur[String(part)], next.object != nil else { return nil }
            cur = next
        }
        return cur.object
    }

    /// `Values.PathValue`: a non-table value at a dotted path.
    public static func pathValue(_ v: Value, _ dotted: String) -> Value? {
        var parts = dotted.split(separator: ".", omittingEmptySubsequences: true).map(String.init)
        guard let key = parts.popLast() else { return nil }
        guard let t = parts.isEmpty ? v.object : table(v, parts.joined(separator: ".")) else { return nil }
        guard let x = t[key], x.object == nil else { return nil }
        return x
    }

    /// `pathToMap`: `a.b` and a table → `{a: {b: table}}`; `.` is the table itself.
    static func pathToMap(_ path: String, _ data: Object) -> Object {
        if path == "." { return data }
        let parts = path.split(separator: ".", omittingEmptySubsequences: true).map(String.init)
        var cur = Value(.object(data))
        for p in parts.reversed() { var o = Object(); o[p] = cur; cur = Value(.object(o)) }
        return cur.object ?? Object()
    }

    /// Drops null entries recursively (`trimNilValues`).
    static func trimNil(_ o: Object) -> Object {
        var out = Object()
        for (k, v) in o {
            if v.isNull { continue }
            if let c = v.object { out[k] = Value(.object(trimNil(c)), mark: v.mark) } else { out[k] = v }
        }
        return out
    }
}
