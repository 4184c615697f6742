/// Semantic versions and constraints with Masterminds/semver v3 semantics (as Helm uses for
/// dependency versions and `kubeVersion`): `=`, `!=`, `>`, `<`, `>=`, `<=`, `~`, `^`, `x`/`*`
/// wildcards, `a - b` ranges, `,`/space for AND and `||` for OR. A version with a pre-release
/// matches only constraints that carry a pre-release themselves.
enum VersionRange {
    struct Version: Comparable {
        var major = 0, minor = 0, patch = 0
        var pre: [Substring] = []

        /// Parses `v1.2.3-pre+build`; `parts` is how many numeric parts were given (wildcards end it).
        static func parse(_ s: Substring) -> (Version, parts: Int)? {
            var t = s
            if t.first == "v" || t.first == "V" { t = t.dropFirst() }
            if let plus = t.firstIndex(of: "+") { t = t[..<plus] }
            var core = t, pre: Substring = ""
            if let dash = t.firstIndex(of: "-") { core = t[..<dash]; pre = t[t.index(after: dash)...] }
            var v = Version()
            var parts = 0
            for (i, p) in core.split(separator: ".", omittingEmptySubsequences: false).enumerated() {
                if i > 2 { return nil }
                if p == "x" || p == "X" || p == "*" { break }
                guard let n = Int(p), !p.isEmpty else { return nil }
                if i == 0 { v.major = n } else if i == 1 { v.minor = n } else { v.patch = n }
                parts = i + 1
            }
            if !pre.isEmpty { v.pre = pre.split(separator: ".", omittingEmptySubsequences: false) }
            return (v, parts)
        }

        static func < (a: Version, b: Version) -> Bool {
            if (a.major, a.minor, a.patch) != (b.major, b.minor, b.patch) { return (a.major, a.minor, a.patch) < (b.major, b.minor, b.patch) }
            if a.pre.isEmpty || b.pre.isEmpty { return !a.pre.isEmpty && b.pre.isEmpty }
            for (x, y) in zip(a.pre, b.pre) where x != y {
                switch (Int(x), Int(y)) {
                case let (i?, j?): return i < j
                case (_?, nil): return true
                case (nil, _?): return false
                default: return x < y
                }
            }
            return a.pre.count < b.pre.count
        }
    }

    /// Whether `version` satisfies `constraint` (empty matches everything; an unparsable
    /// constraint or version matches nothing, as Helm's `IsCompatibleRange`).
    static func compatible(_ constraint: String, _ version: String) -> Bool {
        let c = constraint.trimmingCharacters(" \t")
        guard let (v, _) = Version.parse(Substring(version.trimmingCharacters(" \t"))) else { return false }
        if c.isEmpty { return true }
        for group in c.components(separatedBy: "||") {
            guard let terms = parseGroup(group) else { return false }
            let allowPre = terms.contains { !$0.1.pre.isEmpty }
            if !v.pre.isEmpty && !allowPre { continue }
            if terms.allSatisfy({ $0.0(v) }) { return true }
        }
        return false
    }

    typealias Term = ((Version) -> Bool, Version)

    static func parseGroup(_ g: String) -> [Term]? {
        // Hyphen ranges first: "1.2 - 1.4".
        var text = g.trimmingCharacters(" \t")
        var terms: [Term] = []
        let hyphen = text.components(separatedBy: " - ")
        if hyphen.count == 2 {
            guard let (lo, _) = Version.parse(Substring(hyphen[0].trimmingCharacters(" "))),
                  let (hi, hp) = Version.parse(Substring(hyphen[1].trimmingCharacters(" "))) else { return nil }
            terms.append(({ $0 >= lo }, lo))
            if hp == 3 { terms.append(({ $0 <= hi }, hi)) } else { let up = bump(hi, hp); terms.append(({ $0 < up }, hi)) }
            return terms
        }
        text = text.replacingOccurrences(",", " ")
        var tokens: [String] = []
        for raw in text.split(separator: " ", omittingEmptySubsequences: true) {
            // "> 1.2" → ">1.2"
            if let last = tokens.last, ["=", "!=", ">", "<", ">=", "<=", "~", "^", "~>"].contains(last) { tokens[tokens.count - 1] = last + raw }
            else { tokens.append(String(raw)) }
        }
        for tok in tokens {
            guard let t = term(tok) else { return nil }
            terms += t
        }
        return terms.isEmpty ? [({ _ in true }, Version())] : terms
    }

    static func bump(_ v: Version, _ parts: Int) -> Version {
        var u = Version()
        switch parts {
        case 0: u.major = Int.max
        case 1: u.major = v.major + 1
        case 2: u.major = v.major; u.minor = v.minor + 1
        default: u = v; u.patch += 1; u.pre = []
        }
        return u
    }

    static func term(_ tok: String) -> [Term]? {
        var op = ""
        var rest = Substring(tok)
        for candidate in [">=", "<=", "!=", "~>", "=", ">", "<", "~", "^"] where rest.hasPrefix(candidate) {
            op = candidate; rest = rest.dropFirst(candidate.count); break
        }
        rest = Substring(String(rest).trimmingCharacters(" "))
        if rest == "*" || rest == "x" || rest == "X" || rest.isEmpty { return [({ _ in true }, Version())] }
        guard let (v, parts) = Version.parse(rest) else { return nil }
        let up = bump(v, parts)
        switch op {
        case "", "=":
            if parts == 3 { return [({ $0 == v && $0.pre == v.pre }, v)] }
            return [({ $0 >= v }, v), ({ $0 < up }, v)]
        case "!=":
            if parts == 3 { return [({ !($0 == v && $0.pre == v.pre) }, v)] }
            return [({ $0 < v || $0 >= up }, v)]
        case ">": return parts == 3 ? [({ $0 > v }, v)] : [({ $0 >= up }, v)]
        case ">=": return [({ $0 >= v }, v)]
        case "<": return [({ $0 < v }, v)]
        case "<=": return parts == 3 ? [({ $0 <= v }, v)] : [({ $0 < up }, v)]
        case "~", "~>":
            var hi = Version(); hi.major = v.major
            if parts >= 2 { hi.minor = v.minor + 1 } else { hi.major = v.major + 1 }
            return [({ $0 >= v }, v), ({ $0 < hi }, v)]
        case "^":
            var hi = Version()
            if v.major > 0 || parts == 1 { hi.major = v.major + 1 }
            else if v.minor > 0 || parts == 2 { hi.minor = v.minor + 1 }
            else { hi.patch = v.patch + 1 }
            return [({ $0 >= v }, v), ({ $0 < hi }, v)]
        default: return nil
        }
    }
}

extension String {
    func components(separatedBy sep: String) -> [String] {
        var out: [String] = []
        var rest = Substring(self)
        while let r = rest.firstRange(of: sep) { out.append(String(rest[..<r.lowerBound])); rest = rest[r.upperBound...] }
        out.append(String(rest))
        return out
    }
}
