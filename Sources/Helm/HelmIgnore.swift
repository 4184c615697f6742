/// `.helmignore` rules with Helm's exact semantics (`pkg/ignore`): one pattern per line,
/// `#` comments, `!` negation, a trailing `/` matches directories only, a leading `/` anchors
/// at the chart root, a pattern with a `/` matches the whole relative path and one without
/// matches the base name; patterns use Go's `filepath.Match` syntax and `**` is rejected.
///
/// A negated rule keeps Helm's behaviour: a path that does *not* match it is ignored.
public struct HelmIgnore: Sendable {
    struct Rule: Sendable {
        enum Scope: Sendable { case rooted, structural, basename }
        var pattern: String
        var negate: Bool
        var mustDir: Bool
        var scope: Scope
    }
    var rules: [Rule] = []

    /// Helm's default rule, added to every chart directory: hidden files under `templates/`.
    public static let defaults = try! HelmIgnore(text: "templates/.?*")

    public init() {}

    /// Parses the text of a `.helmignore`. Errors name the 1-based line.
    public init(text: String) throws(HelmIgnoreError) {
        // Lines as Go's bufio.Scanner cuts them: at each LF byte (a CRLF file too: in Swift
        // "\r\n" is one Character, so a Character split would not cut there), a UTF-8 BOM
        // dropped from the first; the trailing CR goes with the trimming.
        for (i, raw) in text.linesAtLineFeeds().enumerated() {
            var line = raw
            if i == 0, line.hasPrefix("\u{FEFF}") { line = line.dropFirst() }
            var rule = line.trimming(.spacesTabsAndReturns)
            if rule.isEmpty || rule.hasPrefix("#") { continue }
            if rule.contains("**") { throw HelmIgnoreError(line: i + 1, message: "double-star (**) syntax is not supported") }
            guard GoPathMatch.isValid(rule) else { throw HelmIgnoreError(line: i + 1, message: "syntax error in pattern '\(rule)'") }
            var negate = false, mustDir = false
            if rule.hasPrefix("!") { negate = true; rule.removeFirst() }
            if rule.hasSuffix("/") { mustDir = true; rule.removeLast() }
            let scope: Rule.Scope
            if rule.hasPrefix("/") { scope = .rooted; rule.removeFirst() }
            else if rule.contains("/") { scope = .structural }
            else { scope = .basename }
            rules.append(Rule(pattern: rule, negate: negate, mustDir: mustDir, scope: scope))
        }
    }

    /// Adds the rules of `other` after these.
    public mutating func append(_ other: HelmIgnore) { rules += other.rules }

    /// Whether `path` (relative to the chart root, `/`-separated) is ignored.
    public func ignores(_ path: String, isDirectory: Bool) -> Bool {
        if path.isEmpty || path == "." || path == "./" { return false }
        for r in rules {
            let subject = r.scope == .basename ? String(path.split(separator: "/").last ?? "") : path
            if r.negate {
                if r.mustDir && !isDirectory { return true }
                if !GoPathMatch.match(r.pattern, subject) { return true }
                continue
            }
            if r.mustDir && !isDirectory { continue }
            if GoPathMatch.match(r.pattern, subject) { return true }
        }
        return false
    }
}

/// A `.helmignore` syntax error.
public struct HelmIgnoreError: Error, Sendable, Hashable {
    public var line: Int
    public var message: String
}

/// Go's `path/filepath.Match` on `/`-separated paths: `*` (any run of non-`/`), `?` (one
/// non-`/`), `[...]` classes with ranges and `^` negation, `\` escapes.
enum GoPathMatch {
    static func isValid(_ pattern: String) -> Bool {
        // Go validates the whole pattern: an unterminated class or trailing escape is an error.
        let p = Array(pattern.unicodeScalars)
        var i = 0
        while i < p.count {
            if p[i] == "\\" { if i + 1 >= p.count { return false }; i += 2; continue }
            if p[i] == "[" {
                var j = i + 1
                if j < p.count, p[j] == "^" { j += 1 }
                var first = true
                while j < p.count, p[j] != "]" || first {
                    if p[j] == "\\" { j += 1 }
                    j += 1; first = false
                }
                if j >= p.count { return false }
                i = j + 1; continue
            }
            i += 1
        }
        return true
    }

    static func match(_ pattern: String, _ name: String) -> Bool {
        let p = Array(pattern.unicodeScalars), s = Array(name.unicodeScalars)
        return match(p[...], s[...])
    }

    static func match(_ p: ArraySlice<Unicode.Scalar>, _ s: ArraySlice<Unicode.Scalar>) -> Bool {
        var p = p, s = s
        while let c = p.first {
            switch c {
            case "*":
                let rest = p.dropFirst()
                if rest.isEmpty { return !s.contains("/") }
                var t = s
                while true {
                    if match(rest, t) { return true }
                    guard let f = t.first, f != "/" else { return false }
                    t = t.dropFirst()
                }
            case "?":
                guard let f = s.first, f != "/" else { return false }
                p = p.dropFirst(); s = s.dropFirst()
            case "[":
                guard let f = s.first, f != "/" else { return false }
                var j = p.index(after: p.startIndex)
                var negate = false
                if j < p.endIndex, p[j] == "^" { negate = true; j += 1 }
                var matched = false
                var first = true
                while j < p.endIndex, p[j] != "]" || first {
                    first = false
                    var lo = p[j]
                    if lo == "\\", j + 1 < p.endIndex { j += 1; lo = p[j] }
                    var hi = lo
                    if j + 2 < p.endIndex, p[j + 1] == "-", p[j + 2] != "]" {
                        hi = p[j + 2]
                        if hi == "\\", j + 3 < p.endIndex { j += 1; hi = p[j + 2] }
                        j += 2
                    }
                    if lo.value <= f.value && f.value <= hi.value { matched = true }
                    j += 1
                }
                guard j < p.endIndex else { return false }
                if matched == negate { return false }
                p = p[(j + 1)...]; s = s.dropFirst()
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
