extension Sprig {
    // MARK: lists

    static func addLists(_ m: inout FunctionMap) {
        m["list"] = f([], .any) { .list($0) }
        m["tuple"] = f([], .any) { .list($0) }
        for (name, must) in [("first", false), ("mustFirst", true)] {
            _ = must
            m[name] = f([.any]) { a in
                let l = try list(a[0], "find first")
                return l.first ?? .null
            }
        }
        for name in ["last", "mustLast"] {
            m[name] = f([.any]) { a in try list(a[0], "find last").last ?? .null }
        }
        for name in ["rest", "mustRest"] {
            m[name] = f([.any]) { a in
                let l = try list(a[0], "find rest")
                return l.isEmpty ? .null : .list(Array(l.dropFirst()))
            }
        }
        for name in ["initial", "mustInitial"] {
            m[name] = f([.any]) { a in
                let l = try list(a[0], "find initial")
                return l.isEmpty ? .null : .list(Array(l.dropLast()))
            }
        }
        for name in ["append", "push", "mustAppend", "mustPush"] {
            m[name] = f([.any, .any]) { a in
                if case .null = a[0] { return .list([a[1]]) }
                return .list(try list(a[0], "push") + [a[1]])
            }
        }
        for name in ["prepend", "mustPrepend"] {
            m[name] = f([.any, .any]) { a in
                if case .null = a[0] { return .list([a[1]]) }
                return .list([a[1]] + (try list(a[0], "prepend")))
            }
        }
        m["concat"] = f([], .any) { a in
            var out: [TemplateValue] = []
            for x in a {
                guard case .list(let l) = x else { throw err("Cannot concat type \(x.goTypeName) as list") }
                out += l
            }
            return .list(out)
        }
        for name in ["uniq", "mustUniq"] {
            m[name] = f([.any]) { a in
                let l = try list(a[0], "uniq")
                var out: [TemplateValue] = []
                for x in l where !out.contains(x) { out.append(x) }
                return .list(out)
            }
        }
        for name in ["without", "mustWithout"] {
            m[name] = f([.any], .any) { a in
                let l = try list(a[0], "find without")
                let omit = Array(a.dropFirst())
                return .list(l.filter { !omit.contains($0) })
            }
        }
        for name in ["has", "mustHas"] {
            m[name] = f([.any, .any]) { a in
                if case .null = a[1] { return .bool(false) }
                let l = try list(a[1], "find has")
                return .bool(l.contains(a[0]))
            }
        }
        for name in ["compact", "mustCompact"] {
            m[name] = f([.any]) { a in .list(try list(a[0], "compact").filter { !isEmpty($0) }) }
        }
        for name in ["reverse", "mustReverse"] {
            m[name] = f([.any]) { a in .list(try list(a[0], "find reverse").reversed()) }
        }
        m["sortAlpha"] = f([.any]) { a in
            guard case .list = a[0] else { return .list([.string(strval(a[0]))]) }
            return .list(strslice(a[0]).sorted(by: goLess).map { .string($0) })
        }
        for name in ["slice", "mustSlice"] {
            m[name] = f([.any], .any) { a in
                guard case .list(let l) = a[0] else { throw err("list should be type of slice or array but \(a[0].goKind)") }
                if l.isEmpty { return .null }
                let ix = a.dropFirst().map { Int(toInt64($0)) }
                let start = ix.count > 0 ? ix[0] : 0
                let end = ix.count > 1 ? ix[1] : l.count
                guard start >= 0, end <= l.count, start <= end else { throw err("runtime error: slice bounds out of range [\(start):\(end)]") }
                return .list(Array(l[start..<end]))
            }
        }
        m["until"] = f([.int]) { a in
            let c = i(a[0])
            return .list(try untilStep(0, c, c < 0 ? -1 : 1))
        }
        m["untilStep"] = f([.int, .int, .int]) { a in .list(try untilStep(i(a[0]), i(a[1]), i(a[2]))) }
        m["seq"] = f([], .int) { a in
            let p = a.map { i($0) }
            func run(_ start: Int, _ end: Int, _ step: Int) throws -> TemplateValue {
                var v: [String] = []
                if step == 0 { return .string("") }
                var x = start
                var n = 0
                if step > 0 { while x <= end { v.append(String(x)); x += step; n += 1; if n > 10_000_000 { throw err("seq: too many values") } } }
                else { while x >= end { v.append(String(x)); x += step; n += 1; if n > 10_000_000 { throw err("seq: too many values") } } }
                return .string(v.joined(separator: " "))
            }
            switch p.count {
            case 0: return .string("")
            case 1:
                let end = p[0]
                if end == 0 { return .string("1 0") }  // sprig: seq 0 → "1 0"
                return try run(1, end, end < 1 ? -1 : 1)
            case 2:
                return try run(p[0], p[1], p[1] < p[0] ? -1 : 1)
            case 3:
                if p[1] == 0 { return .string("") }
                if p[2] > p[0] && p[1] < 0 { return .string("") }
                if p[2] < p[0] && p[1] > 0 { return .string("") }
                return try run(p[0], p[2], p[1])
            default:
                return .string("")
            }
        }
    }

    static func untilStep(_ start: Int, _ stop: Int, _ step: Int) throws -> [TemplateValue] {
        var v: [TemplateValue] = []
        let limit = 10_000_000
        if stop < start {
            if step >= 0 { return v }
            var x = start
            while x > stop { v.append(.int(x)); x += step; if v.count > limit { throw err("until: more than \(limit) values") } }
            return v
        }
        if step <= 0 { return v }
        var x = start
        while x < stop { v.append(.int(x)); x += step; if v.count > limit { throw err("until: more than \(limit) values") } }
        return v
    }

    // MARK: dicts

    static func addDicts(_ m: inout FunctionMap) {
        m["dict"] = f([], .any) { a in
            var d: [String: TemplateValue] = [:]
            var k = 0
            while k < a.count {
                let key = strval(a[k])
                d[key] = k + 1 < a.count ? a[k + 1] : .string("")
                k += 2
            }
            return .dict(d)
        }
        m["get"] = f([.map, .string]) { a in
            guard let d = a[0].mapValue else { return .string("") }
            return d[s(a[1])] ?? .string("")
        }
        m["set"] = f([.map, .string, .any]) { a in
            guard let d = a[0].mapValue else { throw err("assignment to entry in nil map") }
            d[s(a[1])] = a[2]
            return a[0]
        }
        m["unset"] = f([.map, .string]) { a in
            a[0].mapValue?.removeValue(forKey: s(a[1]))
            return a[0]
        }
        m["hasKey"] = f([.map, .string]) { a in .bool(a[0].mapValue?[s(a[1])] != nil) }
        m["pluck"] = f([.string], .map) { a in
            let k = s(a[0])
            return .list(a.dropFirst().compactMap { $0.mapValue?[k] })
        }
        m["keys"] = f([], .map) { a in
            var out: [TemplateValue] = []
            for d in a { if let d = d.mapValue { out += d.sortedKeys.map { .string($0) } } }
            return .list(out)
        }
        m["pick"] = f([.map], .string) { a in
            var out: [String: TemplateValue] = [:]
            if let d = a[0].mapValue {
                for k in a.dropFirst() { if let v = d[s(k)] { out[s(k)] = v } }
            }
            return .dict(out)
        }
        m["omit"] = f([.map], .string) { a in
            var out = a[0].mapValue?.entries ?? [:]
            for k in a.dropFirst() { out.removeValue(forKey: s(k)) }
            return .dict(out)
        }
        m["values"] = f([.map]) { a in .list(a[0].mapValue?.sortedEntries.map { $0.value } ?? []) }
        for (name, overwrite) in [("merge", false), ("mustMerge", false), ("mergeOverwrite", true), ("mustMergeOverwrite", true)] {
            m[name] = f([.map], .map) { a in
                guard let dst = a[0].mapValue else { return a[0] }
                for src in a.dropFirst() {
                    if let src = src.mapValue { mergeMaps(dst, src, overwrite: overwrite, depth: 0) }
                }
                return a[0]
            }
        }
        for name in ["deepCopy", "mustDeepCopy"] {
            m[name] = f([.any]) { a in deepCopy(a[0], depth: 0) }
        }
        m["dig"] = f([], .any) { a in
            if a.count < 3 { throw err("dig needs at least three arguments") }
            guard case .map(var d) = a[a.count - 1] else {
                throw err("interface conversion: interface {} is \(a[a.count - 1].goTypeName), not map[string]interface {}")
            }
            let def = a[a.count - 2]
            let ks = a[..<(a.count - 2)]
            var idx = ks.startIndex
            while true {
                guard case .string(let k) = ks[idx] else {
                    throw err("interface conversion: interface {} is \(ks[idx].goTypeName), not string")
                }
                guard let step = d[k] else { return def }
                idx += 1
                if idx == ks.endIndex { return step }
                guard case .map(let next) = step else {
                    throw err("interface conversion: interface {} is \(step.goTypeName), not map[string]interface {}")
                }
                d = next
            }
        }
    }

    /// mergo.Merge (and WithOverride) for `map[string]interface{}`, in place.
    static func mergeMaps(_ dst: TemplateMap, _ src: TemplateMap, overwrite: Bool, depth: Int) {
        if depth > 100 || dst === src { return }
        for (k, sv) in src.sortedEntries {
            let dv = dst[k]
            if case .null = sv {
                if overwrite { dst[k] = .null }
                continue
            }
            if case .map(let sm) = sv, case .map(let dm)? = dv {
                mergeMaps(dm, sm, overwrite: overwrite, depth: depth + 1)
                if !isEmpty(.map(dm)) { continue }
            }
            if let dv, !isEmpty(dv), case .list = sv { if !overwrite { continue } }
            if overwrite || dv == nil || isEmpty(dv!) {
                dst[k] = sv
            }
        }
    }

    static func deepCopy(_ v: TemplateValue, depth: Int) -> TemplateValue {
        if depth > 256 { return .null }
        switch v {
        case .list(let l): return .list(l.map { deepCopy($0, depth: depth + 1) })
        case .map(let m):
            var d: [String: TemplateValue] = [:]
            for (k, x) in m.entries { d[k] = deepCopy(x, depth: depth + 1) }
            return .dict(d)
        default: return v
        }
    }

    // MARK: math

    static func addMath(_ m: inout FunctionMap) {
        m["add1"] = f([.any]) { a in .int64(toInt64(a[0]) &+ 1) }
        m["add"] = f([], .any) { a in .int64(a.reduce(Int64(0)) { $0 &+ toInt64($1) }) }
        m["sub"] = f([.any, .any]) { a in .int64(toInt64(a[0]) &- toInt64(a[1])) }
        m["mul"] = f([.any], .any) { a in .int64(a.dropFirst().reduce(toInt64(a[0])) { $0 &* toInt64($1) }) }
        m["div"] = f([.any, .any]) { a in
            let d = toInt64(a[1])
            if d == 0 { throw err("runtime error: integer divide by zero") }
            return .int64(toInt64(a[0]).dividedReportingOverflow(by: d).partialValue)
        }
        m["mod"] = f([.any, .any]) { a in
            let d = toInt64(a[1])
            if d == 0 { throw err("runtime error: integer divide by zero") }
            return .int64(toInt64(a[0]).remainderReportingOverflow(dividingBy: d).partialValue)
        }
        for name in ["max", "biggest"] {
            m[name] = f([.any], .any) { a in .int64(a.dropFirst().reduce(toInt64(a[0])) { Swift.max($0, toInt64($1)) }) }
        }
        m["min"] = f([.any], .any) { a in .int64(a.dropFirst().reduce(toInt64(a[0])) { Swift.min($0, toInt64($1)) }) }
        m["maxf"] = f([.any], .any) { a in .float64(a.dropFirst().reduce(toFloat64(a[0])) { Swift.max($0, toFloat64($1)) }) }
        m["minf"] = f([.any], .any) { a in .float64(a.dropFirst().reduce(toFloat64(a[0])) { Swift.min($0, toFloat64($1)) }) }
        m["floor"] = f([.any]) { a in .float64(toFloat64(a[0]).rounded(.down)) }
        m["ceil"] = f([.any]) { a in .float64(toFloat64(a[0]).rounded(.up)) }
        m["round"] = f([.any, .int], .float64) { a in
            let x = toFloat64(a[0])
            let p = i(a[1])
            let rOpt = a.count > 2 ? toFloat64(a[2]) : 0.5
            var pow = 1.0
            for _ in 0..<Swift.max(p, 0) { pow *= 10 }
            let digit = pow * x
            let (intPart, frac) = (digit.rounded(.towardZero), digit - digit.rounded(.towardZero))
            let r = frac >= rOpt ? (intPart + 1) : intPart
            return .float64(r / pow)
        }
        m["addf"] = f([], .any) { a in .float64(Decimalish.sum(a.map { toFloat64($0) })) }
        m["add1f"] = f([.any]) { a in .float64(Decimalish.sum([toFloat64(a[0]), 1])) }
        m["subf"] = f([.any], .any) { a in
            .float64(a.dropFirst().reduce(toFloat64(a[0])) { Decimalish.sum([$0, -toFloat64($1)]) })
        }
        m["mulf"] = f([.any], .any) { a in
            .float64(a.dropFirst().reduce(toFloat64(a[0])) { Decimalish.product($0, toFloat64($1)) })
        }
        m["divf"] = f([.any], .any) { a in
            .float64(a.dropFirst().reduce(toFloat64(a[0])) { Decimalish.quotient($0, toFloat64($1)) })
        }
    }

    // MARK: conversions

    static func addConversions(_ m: inout FunctionMap) {
        m["atoi"] = f([.string]) { a in
            if let (neg, mag) = Parser.parseGoInt(s(a[0])), !s(a[0]).contains("_"), !(s(a[0]).hasPrefix("0") && s(a[0]).count > 1),
               mag <= UInt64(Int.max)
            {
                return .int(neg ? -Int(mag) : Int(mag))
            }
            return .int(0)
        }
        m["int"] = f([.any]) { .int(Int(toInt64($0[0]))) }
        m["int64"] = f([.any]) { .int64(toInt64($0[0])) }
        m["float64"] = f([.any]) { .float64(toFloat64($0[0])) }
        m["toDecimal"] = f([.any]) { a in
            let str = strval(a[0])
            var v: Int64 = 0
            for c in str.utf8 {
                guard c >= 48 && c <= 55 else { return .int64(0) }
                v = v &* 8 &+ Int64(c - 48)
            }
            return .int64(str.isEmpty ? 0 : v)
        }
    }
}

/// Sprig's `addf`/`subf`/`mulf`/`divf` compute with shopspring/decimal from each float's
/// shortest decimal form; this does the same for sums and products of moderate precision.
enum Decimalish {
    /// (digits as integer, exponent) of the shortest decimal form.
    static func decompose(_ d: Double) -> (Int64, Int)? {
        if d == 0 { return (0, 0) }
        guard d.isFinite else { return nil }
        let (digits, dp) = GoFormat.shortestDigits(d)
        guard digits.count <= 17 else { return nil }
        var v: Int64 = 0
        for c in digits { v = v * 10 + Int64(c - 48) }
        if d < 0 { v = -v }
        return (v, dp - digits.count)
    }

    static func compose(_ v: Int64, _ e: Int) -> Double {
        // Through text, so the result is the nearest double to the exact decimal.
        let s = "\(v)e\(e)"
        return Double(s) ?? Double(v)
    }

    static func sum(_ xs: [Double]) -> Double {
        var parts: [(Int64, Int)] = []
        for x in xs {
            guard let p = decompose(x) else { return xs.reduce(0, +) }
            parts.append(p)
        }
        guard let minE = parts.map({ $0.1 }).min() else { return 0 }
        var total: Int64 = 0
        for (v, e) in parts {
            var scaled = v
            for _ in 0..<(e - minE) {
                let (r, o) = scaled.multipliedReportingOverflow(by: 10)
                if o { return xs.reduce(0, +) }
                scaled = r
            }
            let (t, o) = total.addingReportingOverflow(scaled)
            if o { return xs.reduce(0, +) }
            total = t
        }
        return compose(total, minE)
    }

    static func product(_ a: Double, _ b: Double) -> Double {
        guard let (va, ea) = decompose(a), let (vb, eb) = decompose(b) else { return a * b }
        let (p, o) = va.multipliedReportingOverflow(by: vb)
        if o { return a * b }
        return compose(p, ea + eb)
    }

    static func quotient(_ a: Double, _ b: Double) -> Double {
        // decimal.Div rounds to 16 digits; the double quotient rounded the same way.
        if b == 0 { return a / b }
        let q = a / b
        return Double(GoFormat.formatFloat(q, fmt: "e", prec: 15)) ?? q
    }
}
