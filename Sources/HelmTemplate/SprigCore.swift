/// Sprig v3's function map (Masterminds/sprig `TxtFuncMap`), as Helm uses it.
enum Sprig {
    typealias Args = [TemplateValue]

    static func f(_ params: [TemplateParam], _ variadic: TemplateParam? = nil, nondeterministic: Bool = false,
                  _ body: @escaping @Sendable (Args) throws -> TemplateValue) -> TemplateFunction {
        TemplateFunction(params: params, variadic: variadic, nondeterministic: nondeterministic) { try body($0.args) }
    }

    static func err(_ m: String) -> TemplateFunctionError { TemplateFunctionError(m) }

    static func map() -> FunctionMap {
        var m = FunctionMap()
        addStrings(&m)
        addDefaults(&m)
        addLists(&m)
        addDicts(&m)
        addMath(&m)
        addConversions(&m)
        addMore(&m)
        return m
    }

    // MARK: helpers shared by the Sprig functions

    /// Sprig's `strval`: strings as is, anything else with `%v`.
    static func strval(_ v: TemplateValue) -> String {
        if case .string(let s) = v { return s }
        if case .object(let o) = v, let f = o.goFormatted { return f }
        return GoFormat.v(v)
    }

    /// Sprig's `strslice`: a list's non-nil elements as strings; a scalar as a one-element list; nil as empty.
    static func strslice(_ v: TemplateValue) -> [String] {
        switch v {
        case .list(let l): return l.compactMap { $0.isNull ? nil : strval($0) }
        case .null: return []
        default: return [strval(v)]
        }
    }

    static func s(_ a: TemplateValue) -> String { a.stringValue ?? "" }
    static func i(_ a: TemplateValue) -> Int {
        switch a {
        case .int(let x): return x
        case .int64(let x): return Int(x)
        default: return 0
        }
    }

    /// cast.ToInt64 (errors give 0, as Sprig ignores them).
    static func toInt64(_ v: TemplateValue) -> Int64 {
        switch v {
        case .int(let x): return Int64(x)
        case .int64(let x): return x
        case .float64(let d):
            if d.isNaN { return Int64.min }
            if d >= 9.223372036854775807e18 || d < -9.223372036854775808e18 { return Int64.min }
            return Int64(d)
        case .bool(let b): return b ? 1 : 0
        case .string(let s):
            if let (neg, mag) = Parser.parseGoInt(trimZeroDecimal(s)), mag <= UInt64(Int64.max) {
                return neg ? -Int64(mag) : Int64(mag)
            }
            return 0
        default: return 0
        }
    }

    /// cast.ToFloat64.
    static func toFloat64(_ v: TemplateValue) -> Double {
        switch v {
        case .int(let x): return Double(x)
        case .int64(let x): return Double(x)
        case .float64(let d): return d
        case .bool(let b): return b ? 1 : 0
        case .string(let s): return Parser.parseGoFloat(s) ?? 0
        default: return 0
        }
    }

    static func trimZeroDecimal(_ s: String) -> String {
        var foundZero = false
        let u = Array(s.utf8)
        var i = u.count - 1
        while i >= 0 {
            switch u[i] {
            case UInt8(ascii: "."):
                if foundZero { return String(decoding: u[..<i], as: UTF8.self) }
                return s
            case UInt8(ascii: "0"):
                foundZero = true
            default:
                return s
            }
            i -= 1
        }
        return s
    }

    static func list(_ v: TemplateValue, _ what: String) throws -> [TemplateValue] {
        if case .list(let l) = v { return l }
        throw err("Cannot \(what) on type \(v.goTypeName)")
    }

    static func isEmpty(_ v: TemplateValue) -> Bool { !v.isTrue }

    // MARK: strings

    static func addStrings(_ m: inout FunctionMap) {
        m["upper"] = f([.string]) { .string(s($0[0]).uppercased()) }
        m["lower"] = f([.string]) { .string(s($0[0]).lowercased()) }
        m["title"] = f([.string]) { .string(title(s($0[0]))) }
        m["untitle"] = f([.string]) { .string(untitle(s($0[0]))) }
        m["trim"] = f([.string]) { .string(trimSpace(s($0[0]))) }
        m["trimAll"] = f([.string, .string]) { a in .string(trimSet(s(a[1]), Set(s(a[0]).unicodeScalars), left: true, right: true)) }
        m["trimPrefix"] = f([.string, .string]) { a in
            let p = s(a[0]), x = s(a[1])
            return .string(x.utf8.starts(with: p.utf8) ? String(decoding: Array(x.utf8).dropFirst(p.utf8.count), as: UTF8.self) : x)
        }
        m["trimSuffix"] = f([.string, .string]) { a in
            let p = s(a[0]), x = s(a[1])
            return .string(x.utf8.reversed().starts(with: p.utf8.reversed()) ? String(decoding: Array(x.utf8).dropLast(p.utf8.count), as: UTF8.self) : x)
        }
        m["replace"] = f([.string, .string, .string]) { a in .string(replaceAll(s(a[2]), s(a[0]), s(a[1]))) }
        m["quote"] = f([], .any) { a in
            .string(a.filter { !$0.isNull }.map { GoFormat.quote(strval($0)) }.joined(separator: " "))
        }
        m["squote"] = f([], .any) { a in
            .string(a.filter { !$0.isNull }.map { "'" + GoFormat.v($0) + "'" }.joined(separator: " "))
        }
        m["indent"] = f([.int, .string]) { a in .string(try indentChecked(i(a[0]), s(a[1]))) }
        m["nindent"] = f([.int, .string]) { a in .string(try indentChecked(i(a[0]), s(a[1]), newlineFirst: true)) }
        m["contains"] = f([.string, .string]) { a in .bool(contains(s(a[1]), s(a[0]))) }
        m["hasPrefix"] = f([.string, .string]) { a in .bool(s(a[1]).utf8.starts(with: s(a[0]).utf8)) }
        m["hasSuffix"] = f([.string, .string]) { a in .bool(s(a[1]).utf8.reversed().starts(with: s(a[0]).utf8.reversed())) }
        m["trunc"] = f([.int, .string]) { a in
            let c = i(a[0])
            let u = Array(s(a[1]).utf8)
            if c < 0 && u.count + c > 0 { return .string(String(decoding: u[(u.count + c)...], as: UTF8.self)) }
            if c >= 0 && u.count > c { return .string(String(decoding: u[..<c], as: UTF8.self)) }
            return .string(s(a[1]))
        }
        m["substr"] = f([.int, .int, .string]) { a in
            let start = i(a[0]), end = i(a[1])
            let u = Array(s(a[2]).utf8)
            if start < 0 {
                guard end >= 0 && end <= u.count else { throw err("runtime error: slice bounds out of range [:\(end)] with length \(u.count)") }
                return .string(String(decoding: u[..<end], as: UTF8.self))
            }
            if end < 0 || end > u.count {
                guard start <= u.count else { throw err("runtime error: slice bounds out of range [\(start):\(u.count)]") }
                return .string(String(decoding: u[start...], as: UTF8.self))
            }
            guard start <= end else { throw err("runtime error: slice bounds out of range [\(start):\(end)]") }
            return .string(String(decoding: u[start..<end], as: UTF8.self))
        }
        m["repeat"] = f([.int, .string]) { a in
            let n = i(a[0])
            if n < 0 { throw err("strings: negative Repeat count") }
            if n * max(s(a[1]).utf8.count, 1) > 64 << 20 { throw err("repeat: result larger than 64 MiB") }
            return .string(String(repeating: s(a[1]), count: n))
        }
        m["nospace"] = f([.string]) { .string(String(String.UnicodeScalarView(s($0[0]).unicodeScalars.filter { !isUnicodeSpace($0) }))) }
        m["cat"] = f([], .any) { a in
            .string(GoFormat.sprintf(trimSpace(String(repeating: "%v ", count: a.count)), a))
        }
        m["splitList"] = f([.string, .string]) { a in .list(split(s(a[1]), s(a[0])).map { .string($0) }) }
        m["split"] = f([.string, .string]) { a in
            var d: [String: TemplateValue] = [:]
            for (k, p) in split(s(a[1]), s(a[0])).enumerated() { d["_\(k)"] = .string(p) }
            return .dict(d)
        }
        m["splitn"] = f([.string, .int, .string]) { a in
            var d: [String: TemplateValue] = [:]
            for (k, p) in split(s(a[2]), s(a[0]), n: i(a[1])).enumerated() { d["_\(k)"] = .string(p) }
            return .dict(d)
        }
        m["join"] = f([.string, .any]) { a in .string(strslice(a[1]).joined(separator: s(a[0]))) }
        m["toString"] = f([.any]) { .string(strval($0[0])) }
        m["toStrings"] = f([.any]) { a in
            if case .list(let l) = a[0] { return .list(l.map { .string(strval($0)) }) }
            return .list(strslice(a[0]).map { .string($0) })
        }
        m["plural"] = f([.string, .string, .int]) { a in i(a[2]) == 1 ? a[0] : a[1] }
        m["swapcase"] = f([.string]) { a in
            .string(String(s(a[0]).map { c -> String in
                let str = String(c)
                if str.lowercased() == str { return str.uppercased() }
                return str.lowercased()
            }.joined()))
        }
        m["initials"] = f([.string]) { a in
            var out = ""
            var lastSpace = true
            for c in s(a[0]).unicodeScalars {
                if isUnicodeSpace(c) { lastSpace = true; continue }
                if lastSpace { out.unicodeScalars.append(c) }
                lastSpace = false
            }
            return .string(out)
        }
        m["abbrev"] = f([.int, .string]) { a in .string(abbreviate(s(a[1]), offset: 0, width: i(a[0]))) }
        m["abbrevboth"] = f([.int, .int, .string]) { a in .string(abbreviate(s(a[2]), offset: i(a[0]), width: i(a[1]))) }
        m["wrap"] = f([.int, .string]) { a in .string(wrap(s(a[1]), width: i(a[0]), newline: "\n", wrapLong: false)) }
        m["wrapWith"] = f([.int, .string, .string]) { a in .string(wrap(s(a[2]), width: i(a[0]), newline: s(a[1]), wrapLong: true)) }
        m["camelcase"] = f([.string]) { .string(camelCase(s($0[0]))) }
        m["snakecase"] = f([.string]) { .string(delimitedCase(s($0[0]), "_")) }
        m["kebabcase"] = f([.string]) { .string(delimitedCase(s($0[0]), "-")) }
        m["hello"] = f([]) { _ in .string("Hello!") }
    }

    static func isUnicodeSpace(_ c: Unicode.Scalar) -> Bool {
        switch c.value {
        case 0x09...0x0D, 0x20, 0x85, 0xA0, 0x1680, 0x2000...0x200A, 0x2028, 0x2029, 0x202F, 0x205F, 0x3000: return true
        default: return false
        }
    }

    /// strings.TrimSpace.
    static func trimSpace(_ s: String) -> String {
        let u = Array(s.unicodeScalars)
        var a = 0, b = u.count
        while a < b && isUnicodeSpace(u[a]) { a += 1 }
        while b > a && isUnicodeSpace(u[b - 1]) { b -= 1 }
        if a == 0 && b == u.count { return s }
        return String(String.UnicodeScalarView(u[a..<b]))
    }

    static func trimSet(_ s: String, _ set: Set<Unicode.Scalar>, left: Bool, right: Bool) -> String {
        let u = Array(s.unicodeScalars)
        var a = 0, b = u.count
        if left { while a < b && set.contains(u[a]) { a += 1 } }
        if right { while b > a && set.contains(u[b - 1]) { b -= 1 } }
        return String(String.UnicodeScalarView(u[a..<b]))
    }

    /// strings.ReplaceAll (byte-wise; an empty `old` inserts `new` around every rune as Go does).
    static func replaceAll(_ s: String, _ old: String, _ new: String) -> String {
        if old.isEmpty {
            var out = new
            for c in s.unicodeScalars { out.unicodeScalars.append(c); out += new }
            return out
        }
        var src = s, pat = old, rep = new
        let bytes: [UInt8]? = src.withUTF8 { u in
            pat.withUTF8 { o in
                rep.withUTF8 { r -> [UInt8]? in
                    guard u.count >= o.count else { return nil }
                    let first = o[0]
                    var out: [UInt8] = []
                    var i = 0
                    var copied = 0
                    let last = u.count - o.count
                    while i <= last {
                        if u[i] == first {
                            var ok = true
                            var k = 1
                            while k < o.count { if u[i + k] != o[k] { ok = false; break }; k += 1 }
                            if ok {
                                if out.isEmpty { out.reserveCapacity(u.count + 16 * r.count) }
                                out.append(contentsOf: UnsafeBufferPointer(rebasing: u[copied..<i]))
                                out.append(contentsOf: r)
                                i += o.count
                                copied = i
                                continue
                            }
                        }
                        i += 1
                    }
                    if copied == 0 && out.isEmpty { return nil }
                    out.append(contentsOf: UnsafeBufferPointer(rebasing: u[copied..<u.count]))
                    return out
                }
            }
        }
        guard let bytes else { return s }
        return String(decoding: bytes, as: UTF8.self)
    }

    static func contains(_ s: String, _ sub: String) -> Bool {
        if sub.isEmpty { return true }
        let u = Array(s.utf8), o = Array(sub.utf8)
        guard u.count >= o.count else { return false }
        for i in 0...(u.count - o.count) where u[i] == o[0] {
            var ok = true
            for k in 1..<o.count where u[i + k] != o[k] { ok = false; break }
            if ok { return true }
        }
        return false
    }

    /// strings.Split (all pieces; `n` > 0 limits the count as SplitN).
    static func split(_ s: String, _ sep: String, n: Int = -1) -> [String] {
        if n == 0 { return [] }
        if sep.isEmpty {
            var parts = s.unicodeScalars.map { String(Character($0)) }
            if n > 0 && parts.count > n {
                let rest = parts[(n - 1)...].joined()
                parts = Array(parts[..<(n - 1)]) + [rest]
            }
            return parts
        }
        let u = Array(s.utf8), o = Array(sep.utf8)
        var parts: [String] = []
        var start = 0
        var i = 0
        while i + o.count <= u.count {
            if n > 0 && parts.count == n - 1 { break }
            if u[i] == o[0] {
                var ok = true
                for k in 1..<o.count where u[i + k] != o[k] { ok = false; break }
                if ok {
                    parts.append(String(decoding: u[start..<i], as: UTF8.self))
                    i += o.count
                    start = i
                    continue
                }
            }
            i += 1
        }
        parts.append(String(decoding: u[start...], as: UTF8.self))
        return parts
    }

    /// `indent` with a bounded result (a runaway count would allocate without end).
    static func indentChecked(_ n: Int, _ s: String, newlineFirst: Bool = false) throws -> String {
        var text = s
        let lines = text.withUTF8 { u in
            var lines = 1
            for c in u where c == 10 { lines += 1 }
            return lines
        }
        if n > 0 && n.multipliedReportingOverflow(by: lines).partialValue > 64 << 20 || n > 64 << 20 {
            throw err("indent: \(n) spaces × \(lines) lines is larger than 64 MiB")
        }
        return indent(n, s, newlineFirst: newlineFirst)
    }

    static func indent(_ n: Int, _ s: String) -> String { indent(n, s, newlineFirst: false) }

    /// `pad + strings.ReplaceAll(s, "\n", "\n" + pad)` (with a leading line break for `nindent`),
    /// written in one pass into one buffer.
    static func indent(_ n: Int, _ s: String, newlineFirst: Bool) -> String {
        let width = max(n, 0)
        var s = s
        return s.withUTF8 { u in
            var lines = 1
            for c in u where c == 10 { lines += 1 }
            let size = u.count + width * lines + (newlineFirst ? 1 : 0)
            return String(unsafeUninitializedCapacity: size) { buf in
                var i = 0
                if newlineFirst { buf[0] = 10; i = 1 }
                for _ in 0..<width { buf[i] = 32; i += 1 }
                for c in u {
                    buf[i] = c
                    i += 1
                    if c == 10 { for _ in 0..<width { buf[i] = 32; i += 1 } }
                }
                return i
            }
        }
    }

    /// strings.Title: upper-case the first letter of each word (words separated by non-letters/digits).
    static func title(_ s: String) -> String {
        var out = ""
        var prev: Unicode.Scalar = " "
        for c in s.unicodeScalars {
            if isSeparator(prev) { out += String(c).uppercased() } else { out.unicodeScalars.append(c) }
            prev = c
        }
        return out
    }

    static func isSeparator(_ r: Unicode.Scalar) -> Bool {
        if r.value <= 0x7F {
            let c = r.value
            if (c >= 48 && c <= 57) || (c >= 97 && c <= 122) || (c >= 65 && c <= 90) || c == 95 { return false }
            return true
        }
        if r.properties.isAlphabetic || r.properties.numericType != nil { return false }
        return isUnicodeSpace(r)
    }

    static func untitle(_ s: String) -> String {
        var out = ""
        var prevSpace = true
        for c in s.unicodeScalars {
            if prevSpace && !isUnicodeSpace(c) { out += String(c).lowercased() } else { out.unicodeScalars.append(c) }
            prevSpace = isUnicodeSpace(c)
        }
        return out
    }

    /// goutils.Abbreviate / AbbreviateFull.
    static func abbreviate(_ str: String, offset: Int, width: Int) -> String {
        let r = Array(str.unicodeScalars)
        func sub(_ a: Int, _ b: Int) -> String { String(String.UnicodeScalarView(r[max(a, 0)..<min(b, r.count)])) }
        let abrevMarker = "..."
        if width < 4 { return "" }  // error in goutils → sprig returns ""
        if r.count <= width { return str }
        var offset = offset
        if offset > r.count { offset = r.count }
        if r.count - offset < width - 3 { offset = r.count - (width - 3) }
        if offset <= 4 { return sub(0, width - 3) + abrevMarker }
        if width < 7 { return "" }
        if offset + width - 3 < r.count { return abrevMarker + abbreviate(sub(offset, r.count), offset: 0, width: width - 3) }
        return abrevMarker + sub(r.count - (width - 3), r.count)
    }

    /// goutils.WrapCustom.
    static func wrap(_ str: String, width: Int, newline: String, wrapLong: Bool) -> String {
        let r = Array(str.unicodeScalars)
        let wrapLength = width < 1 ? 1 : width
        var out = ""
        var offset = 0
        let inputLineLength = r.count
        func sub(_ a: Int, _ b: Int) -> String { String(String.UnicodeScalarView(r[a..<b])) }
        while inputLineLength - offset > wrapLength {
            if r[offset] == " " { offset += 1; continue }
            let end = min(wrapLength + offset + 1, r.count)
            var spaceToWrapAt = -1
            var k = end - 1
            while k >= offset { if r[k] == " " { spaceToWrapAt = k; break }; k -= 1 }
            if spaceToWrapAt >= offset {
                out += sub(offset, spaceToWrapAt) + newline
                offset = spaceToWrapAt + 1
            } else if wrapLong {
                out += sub(offset, wrapLength + offset) + newline
                offset += wrapLength
            } else {
                var j = wrapLength + offset
                spaceToWrapAt = -1
                while j < r.count { if r[j] == " " { spaceToWrapAt = j; break }; j += 1 }
                if spaceToWrapAt >= 0 {
                    out += sub(offset, spaceToWrapAt) + newline
                    offset = spaceToWrapAt + 1
                } else {
                    out += sub(offset, r.count)
                    offset = inputLineLength
                }
            }
        }
        out += sub(offset, r.count)
        return out
    }

    /// xstrings.ToCamelCase: `_`-separated words joined with the first letter of each upper-cased.
    static func camelCase(_ s: String) -> String {
        if s.isEmpty { return s }
        var out = ""
        var upperNext = true
        for c in s.unicodeScalars {
            if c == "_" {
                if upperNext { out.unicodeScalars.append(c) }
                upperNext = true
                continue
            }
            if upperNext { out += String(c).uppercased(); upperNext = false } else { out.unicodeScalars.append(c) }
        }
        return out
    }

    /// xstrings.ToSnakeCase / ToKebabCase: words split at case changes, digits and separators, lower-cased.
    static func delimitedCase(_ s: String, _ delimiter: String) -> String {
        var words: [String] = []
        var cur = ""
        var prev: Unicode.Scalar? = nil
        let scalars = Array(s.unicodeScalars)
        for (idx, c) in scalars.enumerated() {
            let isSep = c == "_" || c == "-" || c == " " || c == "." || isUnicodeSpace(c)
            if isSep {
                if !cur.isEmpty { words.append(cur); cur = "" }
                prev = nil
                continue
            }
            if let p = prev {
                let pu = p.properties.isUppercase, cu = c.properties.isUppercase
                let pd = p.properties.numericType != nil, cd = c.properties.numericType != nil
                var boundary = false
                if cu && !pu && !pd { boundary = true }  // aB
                if cu && pu, idx + 1 < scalars.count, scalars[idx + 1].properties.isLowercase { boundary = true }  // ABc → A Bc
                if cd != pd { boundary = true }
                if boundary && !cur.isEmpty { words.append(cur); cur = "" }
            }
            cur.unicodeScalars.append(c)
            prev = c
        }
        if !cur.isEmpty { words.append(cur) }
        return words.map { $0.lowercased() }.joined(separator: delimiter)
    }

    // MARK: defaults and flow

    static func addDefaults(_ m: inout FunctionMap) {
        m["default"] = f([.any], .any) { a in
            if a.count < 2 || isEmpty(a[1]) { return a[0] }
            return a[1]
        }
        m["empty"] = f([.any]) { .bool(isEmpty($0[0])) }
        m["coalesce"] = f([], .any) { a in a.first { !isEmpty($0) } ?? .null }
        m["all"] = f([], .any) { a in .bool(a.allSatisfy { !isEmpty($0) }) }
        m["any"] = f([], .any) { a in .bool(a.contains { !isEmpty($0) }) }
        m["ternary"] = f([.any, .any, .bool]) { a in a[2] == .bool(true) ? a[0] : a[1] }
        m["fail"] = f([.string]) { a in throw err(s(a[0])) }
        m["deepEqual"] = f([.any, .any]) { a in .bool(a[0] == a[1]) }
        m["kindOf"] = f([.any]) { .string($0[0].goKind) }
        m["kindIs"] = f([.string, .any]) { a in .bool(s(a[0]) == a[1].goKind) }
        m["typeOf"] = f([.any]) { .string($0[0].goTypeName) }
        m["typeIs"] = f([.string, .any]) { a in .bool(s(a[0]) == a[1].goTypeName) }
        m["typeIsLike"] = f([.string, .any]) { a in
            let t = a[1].goTypeName
            return .bool(s(a[0]) == t || "*" + s(a[0]) == t)
        }
    }
}
