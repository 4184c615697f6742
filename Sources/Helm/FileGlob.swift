/// Glob patterns of `.Files.Glob` (gobwas/glob with `/` as separator, as Helm uses it):
/// `*` matches within one path segment, `**` across segments, `?` one character,
/// `[abc]`/`[a-z]`/`[!x]` classes, `{a,b}` alternatives, `\` escapes.
enum FileGlob {
    static func match(_ pattern: String, _ name: String) -> Bool {
        var steps = 0
        return match(Array(pattern.unicodeScalars)[...], Array(name.unicodeScalars)[...], &steps)
    }

    static func match(_ p: ArraySlice<Unicode.Scalar>, _ s: ArraySlice<Unicode.Scalar>, _ steps: inout Int) -> Bool {
        steps += 1
        if steps > 100_000 { return false }  // pathological patterns fail closed
        var p = p, s = s
        while let c = p.first {
            switch c {
            case "*":
                let double = p.dropFirst().first == "*"
                let rest = double ? p.dropFirst(2) : p.dropFirst()
                var t = s
                while true {
                    if match(rest, t, &steps) { return true }
                    guard let f = t.first, double || f != "/" else { return false }
                    t = t.dropFirst()
                }
            case "?":
                guard let f = s.first, f != "/" else { return false }
                p = p.dropFirst(); s = s.dropFirst()
            case "{":
                guard let close = p.firstIndex(of: "}") else { return false }
                let body = p[p.index(after: p.startIndex)..<close]
                let rest = p[(close + 1)...]
                for alt in body.split(separator: ",", omittingEmptySubsequences: false) {
                    if match(ArraySlice(Array(alt) + Array(rest)), s, &steps) { return true }
                }
                return false
            case "[":
                guard let f = s.first, let close = p.dropFirst().firstIndex(of: "]") else { return false }
                var body = p[p.index(after: p.startIndex)..<close]
                var negate = false
                if body.first == "!" || body.first == "^" { negate = true; body = body.dropFirst() }
                var ok = false
                var i = body.startIndex
                while i < body.endIndex {
                    let lo = body[i]
                    if i + 2 < body.endIndex, body[i + 1] == "-" {
                        if lo.value <= f.value && f.value <= body[i + 2].value { ok = true }
                        i += 3
                    } else {
                        if lo == f { ok = true }
                        i += 1
                    }
                }
                if ok == negate { return false }
                p = p[(close + 1)...]; s = s.dropFirst()
            case "\\":
                let q = p.dropFirst()
                guard let e = q.first, let f = s.first, e == f else { return false }
                p = q.dropFirst(); s = s.dropFirst()
            default:
                guard let f = s.first, f == c else { return false }
                p = p.dropFirst(); s = s.dropFirst()
            }
        }
        return s.isEmpty
    }
}

import PatternCore

extension HelmValues {
    /// Marks the integers of a `--set` layer so they reach templates as int64 (Helm's strvals
    /// gives int64; values files give float64). The mark is `Value.quoted`, which numbers
    /// otherwise never carry and equality ignores.
    public static func markSetIntegers(_ v: Value) -> Value {
        switch v.kind {
        case .int: var x = v; x.quoted = true; return x
        case .array(let a): return Value(.array(a.map(markSetIntegers)), mark: v.mark)
        case .object(let o):
            var out = Object()
            for (k, c) in o { out[k] = markSetIntegers(c) }
            return Value(.object(out), mark: v.mark)
        default: return v
        }
    }
}
