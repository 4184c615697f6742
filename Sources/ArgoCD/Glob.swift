/// Argo CD's `glob.Match` (gobwas/glob compiled without separators), as `directory.include`
/// and `exclude` use it: `*` and `**` match any text including `/`, `?` one character,
/// `[abc]`, `[a-z]`, `[!abc]` a class, `{a,b}` alternatives (which may hold wildcards),
/// `\x` a literal `x`. A pattern that does not compile matches nothing, as in Argo CD.
struct Glob: Sendable {
    enum Token: Sendable, Hashable {
        case literal(Character)
        case any          // *
        case anyDeep      // ** when `*` stops at `/`
        case one          // ?
        case set([ClosedRange<Character>], negated: Bool)
    }

    /// Alternatives after brace expansion (each a token list); empty when invalid.
    let alternatives: [[Token]]
    /// Go's `path.Match` flavour (ApplicationSet git generators): `*` and `?` do not match
    /// `/`, `**` does.
    let slashStops: Bool
    static let maxAlternatives = 256

    init(_ pattern: String, slashStops: Bool = false) {
        var out: [[Token]] = []
        Glob.expand(Array(pattern)[...], prefix: [], slashStops: slashStops, into: &out)
        alternatives = out.count > Glob.maxAlternatives ? [] : out
        self.slashStops = slashStops
    }

    func matches(_ text: String) -> Bool {
        let t = Array(text)
        return alternatives.contains { Glob.match($0[...], t[...], slashStops: slashStops) }
    }

    /// Expands the first `{…}` group (recursively), tokenizing everything else.
    static func expand(_ p: ArraySlice<Character>, prefix: [Token], slashStops: Bool, into out: inout [[Token]]) {
        if out.count > maxAlternatives { return }
        var tokens = prefix
        var i = p.startIndex
        while i < p.endIndex {
            let c = p[i]
            switch c {
            case "\\":
                i = p.index(after: i)
                guard i < p.endIndex else { return }  // trailing backslash: invalid
                tokens.append(.literal(p[i]))
            case "*":
                let next = p.index(after: i)
                if slashStops, next < p.endIndex, p[next] == "*" {
                    if tokens.last != .anyDeep { tokens.append(.anyDeep) }
                    i = next
                } else if tokens.last != .any && tokens.last != .anyDeep { tokens.append(.any) }
            case "?": tokens.append(.one)
            case "[":
                var j = p.index(after: i)
                var negated = false
                if j < p.endIndex, p[j] == "!" { negated = true; j = p.index(after: j) }
                var ranges: [ClosedRange<Character>] = []
                while j < p.endIndex, p[j] != "]" {
                    let lo = p[j]
                    if p.index(after: j) < p.endIndex, p[p.index(after: j)] == "-", p.index(j, offsetBy: 2) < p.endIndex, p[p.index(j, offsetBy: 2)] != "]" {
                        let hi = p[p.index(j, offsetBy: 2)]
                        guard lo <= hi else { return }
                        ranges.append(lo...hi)
                        j = p.index(j, offsetBy: 3)
                    } else {
                        ranges.append(lo...lo)
                        j = p.index(after: j)
                    }
                }
                guard j < p.endIndex, !ranges.isEmpty else { return }  // unterminated or empty class
                tokens.append(.set(ranges, negated: negated))
                i = j
            case "{":
                // Find the matching close and the top-level commas.
                var depth = 0
                var j = i
                var parts: [ArraySlice<Character>] = []
                var start = p.index(after: i)
                while j < p.endIndex {
                    let x = p[j]
                    if x == "\\" { j = p.index(j, offsetBy: 2, limitedBy: p.endIndex) ?? p.endIndex; continue }
                    if x == "{" { depth += 1 }
                    else if x == "}" {
                        depth -= 1
                        if depth == 0 { parts.append(p[start..<j]); break }
                    } else if x == ",", depth == 1 { parts.append(p[start..<j]); start = p.index(after: j) }
                    j = p.index(after: j)
                }
                guard j < p.endIndex else { return }  // unterminated
                let rest = p[p.index(after: j)...]
                for part in parts { expand(part + rest, prefix: tokens, slashStops: slashStops, into: &out) }
                return
            default:
                tokens.append(.literal(c))
            }
            i = p.index(after: i)
        }
        out.append(tokens)
    }

    /// Wildcard match, memoized over (pattern, text) positions: O(pattern × text), never exponential.
    static func match(_ pattern: ArraySlice<Token>, _ text: ArraySlice<Character>, slashStops: Bool) -> Bool {
        let p = Array(pattern), t = Array(text)
        var memo = [Int8](repeating: -1, count: (p.count + 1) * (t.count + 1))
        func m(_ pi: Int, _ ti: Int) -> Bool {
            let slot = pi * (t.count + 1) + ti
            if memo[slot] >= 0 { return memo[slot] == 1 }
            let r: Bool
            if pi == p.count { r = ti == t.count }
            else {
                switch p[pi] {
                case .any, .anyDeep:
                    let deep = p[pi] == .anyDeep || !slashStops
                    r = m(pi + 1, ti) || (ti < t.count && (deep || t[ti] != "/") && m(pi, ti + 1))
                default:
                    r = ti < t.count && step(p[pi], t[ti], slashStops: slashStops) && m(pi + 1, ti + 1)
                }
            }
            memo[slot] = r ? 1 : 0
            return r
        }
        return m(0, 0)
    }

    static func step(_ token: Token, _ c: Character, slashStops: Bool) -> Bool {
        switch token {
        case .literal(let l): return l == c
        case .one: return !(slashStops && c == "/")
        case .any, .anyDeep: return false
        case .set(let ranges, let negated): return ranges.contains { $0.contains(c) } != negated
        }
    }
}
