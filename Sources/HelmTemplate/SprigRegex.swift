/// Sprig's regex functions. Patterns are compiled by Swift's `Regex` with Unicode-scalar
/// semantics (leftmost-first like Go's RE2); RE2-only syntax differences are listed in Docs/helm.md.
extension Sprig {
    static func compile(_ pattern: String) throws -> Regex<AnyRegexOutput> {
        do {
            return try Regex(pattern).matchingSemantics(.unicodeScalar)
        } catch {
            throw err("error parsing regexp: \(error)")
        }
    }

    static func addRegex(_ m: inout FunctionMap) {
        for (name, must) in [("regexMatch", false), ("mustRegexMatch", true)] {
            m[name] = f([.string, .string]) { a in
                do { return .bool(try compile(s(a[0])).firstMatch(in: s(a[1])) != nil) } catch { if must { throw error }; return .bool(false) }
            }
        }
        for (name, must) in [("regexFindAll", false), ("mustRegexFindAll", true)] {
            m[name] = f([.string, .string, .int]) { a in
                do {
                    let r = try compile(s(a[0]))
                    let n = i(a[2])
                    var out: [TemplateValue] = []
                    for mt in s(a[1]).matches(of: r) {
                        if n >= 0 && out.count >= n { break }
                        out.append(.string(String(s(a[1])[mt.range])))
                    }
                    return .list(out)
                } catch { if must { throw error }; return .list([]) }
            }
        }
        for (name, must) in [("regexFind", false), ("mustRegexFind", true)] {
            m[name] = f([.string, .string]) { a in
                do {
                    let str = s(a[1])
                    guard let mt = try compile(s(a[0])).firstMatch(in: str) else { return .string("") }
                    return .string(String(str[mt.range]))
                } catch { if must { throw error }; return .string("") }
            }
        }
        for (name, must, literal) in [("regexReplaceAll", false, false), ("mustRegexReplaceAll", true, false),
                                      ("regexReplaceAllLiteral", false, true), ("mustRegexReplaceAllLiteral", true, true)] {
            m[name] = f([.string, .string, .string]) { a in
                do {
                    let r = try compile(s(a[0]))
                    return .string(replace(s(a[1]), r, s(a[2]), literal: literal))
                } catch { if must { throw error }; return .string(s(a[1])) }
            }
        }
        for (name, must) in [("regexSplit", false), ("mustRegexSplit", true)] {
            m[name] = f([.string, .string, .int]) { a in
                do {
                    return .list(try split(s(a[1]), compile(s(a[0])), n: i(a[2]), patternEmpty: s(a[0]).isEmpty).map { .string($0) })
                } catch { if must { throw error }; return .list([]) }
            }
        }
        m["regexQuoteMeta"] = f([.string]) { a in
            var out = ""
            for c in s(a[0]).unicodeScalars {
                if "\\.+*?()|[]{}^$".unicodeScalars.contains(c) { out += "\\" }
                out.unicodeScalars.append(c)
            }
            return .string(out)
        }
    }

    /// Go's `Regexp.Split`.
    static func split(_ s: String, _ r: Regex<AnyRegexOutput>, n: Int, patternEmpty: Bool) -> [String] {
        if n == 0 { return [] }
        if !patternEmpty && s.isEmpty { return [""] }
        var out: [String] = []
        var beg = s.startIndex
        var end = s.startIndex
        for mt in s.matches(of: r) {
            if n > 0 && out.count == n - 1 { break }
            end = mt.range.lowerBound
            if mt.range.upperBound != s.startIndex { out.append(String(s[beg..<end])) }
            beg = mt.range.upperBound
        }
        if end != s.endIndex { out.append(String(s[beg...])) }
        return out
    }

    /// `ReplaceAllString` (with Go's `$1`/`${name}` expansion) or `ReplaceAllLiteralString`.
    static func replace(_ s: String, _ r: Regex<AnyRegexOutput>, _ repl: String, literal: Bool) -> String {
        var out = ""
        var last = s.startIndex
        for mt in s.matches(of: r) {
            out += s[last..<mt.range.lowerBound]
            if literal { out += repl } else { out += expand(repl, mt) }
            last = mt.range.upperBound
        }
        out += s[last...]
        return out
    }

    /// Go's `Regexp.Expand` template syntax.
    static func expand(_ template: String, _ mt: Regex<AnyRegexOutput>.Match) -> String {
        var out = ""
        let t = Array(template.unicodeScalars)
        var i = 0
        func group(_ name: String) -> String {
            if let n = Int(name) {
                guard n < mt.output.count, let sub = mt.output[n].substring else { return "" }
                return String(sub)
            }
            guard let g = mt.output[name], let sub = g.substring else { return "" }
            return String(sub)
        }
        while i < t.count {
            if t[i] != "$" { out.unicodeScalars.append(t[i]); i += 1; continue }
            i += 1
            if i < t.count && t[i] == "$" { out += "$"; i += 1; continue }
            var name = ""
            if i < t.count && t[i] == "{" {
                var j = i + 1
                while j < t.count && t[j] != "}" { name.unicodeScalars.append(t[j]); j += 1 }
                if j >= t.count || name.isEmpty || !name.unicodeScalars.allSatisfy({ isWordScalar($0) }) {
                    out += "$"
                    continue
                }
                i = j + 1
            } else {
                while i < t.count && isWordScalar(t[i]) { name.unicodeScalars.append(t[i]); i += 1 }
                if name.isEmpty { out += "$"; continue }
            }
            out += group(name)
        }
        return out
    }

    static func isWordScalar(_ c: Unicode.Scalar) -> Bool {
        c == "_" || (c.value < 0x80 && (c.properties.isAlphabetic || (c.value >= 48 && c.value <= 57)))
    }
}
