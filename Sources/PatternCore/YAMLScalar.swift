/// Scalar rules shared by the YAML parser and emitter.
///
/// Reading follows the YAML 1.2 core schema as Kustomize (yaml.v3) does, plus the 1.1 forms
/// yaml.v3 still accepts for numbers (`0123` octal, `1_000`). Writing quotes every string that
/// *any* common reader would take for something else — including the YAML 1.1 rules
/// (`on`, `off`, `yes`, `y`, `n`, timestamps, sexagesimal numbers) that the Kubernetes API
/// server applies to `application/apply-patch+yaml` bodies.
public enum YAMLScalar {
    /// Resolves an untagged plain scalar to a typed value.
    public static func resolvePlain(_ s: String) -> Value.Kind {
        guard let first = s.utf8.first else { return .null }
        switch first {
        case UInt8(ascii: "~"):
            return s == "~" ? .null : .string(s)
        case UInt8(ascii: "n"), UInt8(ascii: "N"):
            return (s == "null" || s == "Null" || s == "NULL") ? .null : .string(s)
        case UInt8(ascii: "t"), UInt8(ascii: "T"):
            return (s == "true" || s == "True" || s == "TRUE") ? .bool(true) : .string(s)
        case UInt8(ascii: "f"), UInt8(ascii: "F"):
            return (s == "false" || s == "False" || s == "FALSE") ? .bool(false) : .string(s)
        case UInt8(ascii: "0")...UInt8(ascii: "9"):
            if let t = timestamp(s) { return .string(t) }
            return resolveNumber(s) ?? .string(s)
        case UInt8(ascii: "+"), UInt8(ascii: "-"), UInt8(ascii: "."):
            return resolveNumber(s) ?? .string(s)
        default:
            return .string(s)
        }
    }

    static func resolveNumber(_ s: String) -> Value.Kind? {
        if let v = plainDecimalInt(s) { return .int(v) }
        switch s {
        case ".inf", ".Inf", ".INF", "+.inf", "+.Inf", "+.INF": return .double(.infinity)
        case "-.inf", "-.Inf", "-.INF": return .double(-.infinity)
        case ".nan", ".NaN", ".NAN": return .double(.nan)
        default: break
        }
        // Text holding a byte no number can hold (`100m`, `128Mi`) is refused in one pass,
        // before any slicing.
        return fitsNumericAlphabet(s.utf8) ? readNumber(s) : nil
    }

    /// The general reading of `resolveNumber` (underscores, signs, `0x`/`0o`/`0b`, leading-zero
    /// octal, floats), for text `plainDecimalInt` and the infinity/NaN spellings did not take.
    static func readNumber(_ s: String) -> Value.Kind? {
        var t = Substring(s)
        if t.contains("_") { t = Substring(t.filter { $0 != "_" }) }
        var negative = false
        var body = t
        if body.first == "+" || body.first == "-" { negative = body.first == "-"; body = body.dropFirst() }
        guard !body.isEmpty else { return nil }
        let radix: Int
        var digits = body
        if body.hasPrefix("0x") || body.hasPrefix("0X") { radix = 16; digits = body.dropFirst(2) }
        else if body.hasPrefix("0o") || body.hasPrefix("0O") { radix = 8; digits = body.dropFirst(2) }
        else if body.hasPrefix("0b") || body.hasPrefix("0B") { radix = 2; digits = body.dropFirst(2) }
        else if body.count > 1, body.first == "0", body.allSatisfy({ $0 >= "0" && $0 <= "7" }) { radix = 8; digits = body.dropFirst() }
        else { radix = 10 }
        if !digits.isEmpty, let v = Int(digits, radix: radix) {
            return .int(negative ? -v : v)
        }
        if radix == 10, isFloatSyntax(t), let d = Double(t) { return .double(d) }
        return nil
    }

    /// The commonest number, `[-+]?(0|[1-9][0-9]{0,17})` (no underscore, no octal leading zero,
    /// never overflowing), read straight from the bytes; nil for anything else.
    static func plainDecimalInt(_ s: String) -> Int? {
        let u = s.utf8
        guard let first = u.first, u.count <= 19 else { return nil }
        var negative = false
        var digits = 0
        var v = 0
        var i = u.startIndex
        if first == UInt8(ascii: "-") || first == UInt8(ascii: "+") { negative = first == UInt8(ascii: "-"); i = u.index(after: i) }
        let firstDigit = i
        while i != u.endIndex {
            let c = u[i]
            guard c >= 48, c <= 57, digits < 18 else { return nil }
            v = v * 10 + Int(c - 48)
            digits += 1
            i = u.index(after: i)
        }
        guard digits >= 1, digits == 1 || u[firstDigit] != UInt8(ascii: "0") else { return nil }
        return negative ? -v : v
    }

    /// `[-+]?(\.[0-9]+|[0-9]+(\.[0-9]*)?)([eE][-+]?[0-9]+)?`
    static func isFloatSyntax(_ s: Substring) -> Bool {
        var u = Array(s.utf8)[...]
        if let f = u.first, f == UInt8(ascii: "+") || f == UInt8(ascii: "-") { u = u.dropFirst() }
        func digits(_ u: inout ArraySlice<UInt8>) -> Int {
            var n = 0
            while let c = u.first, c >= 48, c <= 57 { u = u.dropFirst(); n += 1 }
            return n
        }
        let intDigits = digits(&u)
        var fracDigits = 0
        if u.first == UInt8(ascii: ".") { u = u.dropFirst(); fracDigits = digits(&u) }
        else if intDigits == 0 { return false }
        if intDigits == 0 && fracDigits == 0 { return false }
        if let e = u.first, e == UInt8(ascii: "e") || e == UInt8(ascii: "E") {
            u = u.dropFirst()
            if let sgn = u.first, sgn == UInt8(ascii: "+") || sgn == UInt8(ascii: "-") { u = u.dropFirst() }
            if digits(&u) == 0 { return false }
        }
        return u.isEmpty
    }

    /// A Double as YAML/JSON text: integral values without a fraction (as Go does), others in
    /// the shortest round-tripping form.
    public static func format(_ d: Double) -> String {
        if d.isNaN { return ".nan" }
        if d.isInfinite { return d < 0 ? "-.inf" : ".inf" }
        if d == d.rounded(), abs(d) < 1e15 { return String(Int(d)) }
        return d.description
    }

    // MARK: Emitting

    public enum Style: Sendable { case plain, singleQuoted, doubleQuoted, literal }

    /// The YAML 1.1 words go-yaml reads as booleans or null, and the merge and value keys,
    /// packed by `packWord`: one hashed integer instead of up to 28 string comparisons.
    static let reservedWords: Set<UInt64> = Set([
        "y", "Y", "yes", "Yes", "YES", "n", "N", "no", "No", "NO",
        "on", "On", "ON", "off", "Off", "OFF", "true", "True", "TRUE", "false", "False", "FALSE",
        "null", "Null", "NULL", "~", "<<", "=",
    ].map { packWord($0.utf8) })

    /// Whether `s` is one of `reservedWords`. For a simple word (`isSimpleWord`), which starts
    /// with a letter and so is never a number, a time or a base-60 form, this is `isAmbiguous`.
    static func isReservedWord(_ s: String) -> Bool {
        let u = s.utf8
        guard u.count <= 5, let first = u.first else { return false }
        return startsWord(first) && reservedWords.contains(packWord(u))
    }

    /// A text of at most seven bytes as one integer: its length, then its bytes.
    @inline(__always) static func packWord(_ u: String.UTF8View) -> UInt64 {
        var k = UInt64(u.count)
        for b in u { k = k << 8 | UInt64(b) }
        return k
    }

    /// Whether `b` starts one of the reserved words (y Y n N o O t T f F ~ < =).
    @inline(__always) static func startsWord(_ b: UInt8) -> Bool {
        switch b {
        case UInt8(ascii: "y"), UInt8(ascii: "Y"), UInt8(ascii: "n"), UInt8(ascii: "N"), UInt8(ascii: "o"), UInt8(ascii: "O"),
             UInt8(ascii: "t"), UInt8(ascii: "T"), UInt8(ascii: "f"), UInt8(ascii: "F"), UInt8(ascii: "~"), UInt8(ascii: "<"),
             UInt8(ascii: "="):
            return true
        default: return false
        }
    }

    /// Words and forms a YAML 1.1 reader (go-yaml v2, the API server's apply decoder) or a 1.2
    /// reader takes for something other than a string.
    public static func isAmbiguous(_ s: String) -> Bool {
        if s.isEmpty || isReservedWord(s) { return true }
        let u = s.utf8
        let f = u.first!
        let startsNumeric = (f >= 48 && f <= 57) || f == UInt8(ascii: "+") || f == UInt8(ascii: "-") || f == UInt8(ascii: ".")
        // A byte no number, time, base-60 form or YAML word can hold (`100m`, `128Mi`,
        // `-Xmx512m`) settles it without parsing the text several ways.
        if startsNumeric, !fitsNumericAlphabet(u) { return false }
        if case .string = resolvePlain(s) {} else { return true }
        if startsNumeric {
            // What go-yaml v2 (the API server's apply decoder) reads as a number or a time:
            // Go's ParseInt(base 0)/ParseFloat on the text without '_', base-60 forms, timestamps.
            if isGoNumber(s) || isBase60(s) || looksLikeTimestamp(u) { return true }
        }
        return false
    }

    /// Whether every byte of `u` may occur in something `isAmbiguous` takes for a non-string
    /// when the text starts like a number: digits, `+ - . _ :`, space (timestamps), and the
    /// letters of hex digits, radix prefixes, exponents, `inf`/`infinity`/`nan` and timestamps.
    /// `resolveNumber` refuses text outside it before reading it.
    static func fitsNumericAlphabet(_ u: String.UTF8View) -> Bool {
        for c in u {
            switch c {
            case UInt8(ascii: "0")...UInt8(ascii: "9"), UInt8(ascii: "+"), UInt8(ascii: "-"), UInt8(ascii: "."),
                 UInt8(ascii: "_"), UInt8(ascii: ":"), UInt8(ascii: " "), 0x09:
                continue
            default:
                switch c | 0x20 {
                case UInt8(ascii: "a")...UInt8(ascii: "f"), UInt8(ascii: "i"), UInt8(ascii: "n"), UInt8(ascii: "o"),
                     UInt8(ascii: "p"), UInt8(ascii: "t"), UInt8(ascii: "x"), UInt8(ascii: "y"), UInt8(ascii: "z"):
                    continue
                default:
                    return false
                }
            }
        }
        return true
    }

    /// Go's `strconv.ParseInt(s, 0, 64)` or `ParseFloat(s, 64)` would accept `s` (after
    /// removing underscores, as go-yaml does).
    static func isGoNumber(_ s: String) -> Bool {
        var u = Array(s.utf8.filter { $0 != UInt8(ascii: "_") })[...]
        if let f = u.first, f == UInt8(ascii: "+") || f == UInt8(ascii: "-") { u = u.dropFirst() }
        if u.isEmpty { return false }
        let lower = String(decoding: u, as: UTF8.self).lowercased()
        if lower == "inf" || lower == "infinity" || lower == "nan" { return true }
        func all(_ x: ArraySlice<UInt8>, _ ok: (UInt8) -> Bool) -> Bool { !x.isEmpty && x.allSatisfy(ok) }
        let isHex: (UInt8) -> Bool = { ($0 >= 48 && $0 <= 57) || ($0 >= 97 && $0 <= 102) || ($0 >= 65 && $0 <= 70) }
        if u.count > 2 && u.first == UInt8(ascii: "0") {
            let p = u[u.startIndex + 1] | 0x20
            let rest = u.dropFirst(2)
            if p == UInt8(ascii: "x") {
                // hex integer, or hex float with a 'p' exponent
                if all(rest, isHex) { return true }
                if let pi = rest.firstIndex(where: { $0 | 0x20 == UInt8(ascii: "p") }) {
                    let mant = rest[..<pi].filter { $0 != UInt8(ascii: ".") }
                    var exp = rest[(pi + 1)...]
                    if let f = exp.first, f == UInt8(ascii: "+") || f == UInt8(ascii: "-") { exp = exp.dropFirst() }
                    return all(mant[...], isHex) && all(exp, { $0 >= 48 && $0 <= 57 })
                }
                return false
            }
            if p == UInt8(ascii: "b") { return all(rest, { $0 == 48 || $0 == 49 }) }
            if p == UInt8(ascii: "o") { return all(rest, { $0 >= 48 && $0 <= 55 }) }
        }
        return isFloatSyntax(Substring(String(decoding: u, as: UTF8.self)))
    }

    /// YAML 1.1 base-60 numbers (`190:20:30`, `1:20.5`, `0:30`), which go-yaml quotes: exactly
    /// its `^[-+]?[0-9][0-9_]*(?::[0-5]?[0-9])+(?:\.[0-9_]*)?$` (`1:60` and `9:4.x` are not).
    static func isBase60(_ s: String) -> Bool {
        let u = Array(s.utf8)
        var i = 0
        @inline(__always) func digit(_ k: Int) -> Bool { k < u.count && u[k] >= 48 && u[k] <= 57 }
        if i < u.count, u[i] == UInt8(ascii: "+") || u[i] == UInt8(ascii: "-") { i += 1 }
        guard digit(i) else { return false }
        i += 1
        while i < u.count, digit(i) || u[i] == UInt8(ascii: "_") { i += 1 }
        var segments = 0
        while i < u.count, u[i] == UInt8(ascii: ":") {
            i += 1
            // [0-5]?[0-9]: one digit, or two whose first is 0-5.
            guard digit(i) else { return false }
            if digit(i + 1) {
                guard u[i] <= UInt8(ascii: "5") else { return false }
                i += 2
            } else {
                i += 1
            }
            segments += 1
        }
        guard segments > 0 else { return false }
        if i < u.count, u[i] == UInt8(ascii: ".") {
            i += 1
            while i < u.count, digit(i) || u[i] == UInt8(ascii: "_") { i += 1 }
        }
        return i == u.count
    }

    static func looksLikeTimestamp(_ u: String.UTF8View) -> Bool {
        timestamp(String(u)) != nil
    }

    /// An untagged plain timestamp as go-yaml reads it (Go layouts `2006-1-2T15:4:5.999999999Z07:00`,
    /// the same with `t`, `2006-1-2 15:4:5.999999999`, `2006-1-2`), in the form Kubernetes
    /// tools print it: RFC 3339 with nanoseconds and no trailing zeros (`2001-12-14` →
    /// `2001-12-14T00:00:00Z`). Nil when `s` is no timestamp.
    public static func timestamp(_ s: String) -> String? {
        let n = s.utf8.count
        // The '-' after the year is checked before the bytes are copied.
        guard n >= 8, n <= 64, s.utf8.dropFirst(4).first == UInt8(ascii: "-") else { return nil }
        let u = Array(s.utf8)
        var i = 0
        func digits(_ min: Int, _ max: Int) -> Int? {
            var n = 0, v = 0
            while i < u.count, n < max, u[i] >= 48, u[i] <= 57 { v = v * 10 + Int(u[i] - 48); i += 1; n += 1 }
            return n >= min ? v : nil
        }
        func expect(_ c: UInt8) -> Bool { if i < u.count && u[i] == c { i += 1; return true }; return false }
        guard let year = digits(4, 4), expect(UInt8(ascii: "-")), let month = digits(1, 2), expect(UInt8(ascii: "-")),
              let day = digits(1, 2), (1...12).contains(month) else { return nil }
        let leap = (year % 4 == 0 && year % 100 != 0) || year % 400 == 0
        let monthDays = [31, leap ? 29 : 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31][month - 1]
        guard day >= 1, day <= monthDays else { return nil }
        func pad(_ v: Int, _ w: Int) -> String { let t = String(v); return String(repeating: "0", count: max(0, w - t.count)) + t }
        let date = "\(pad(year, 4))-\(pad(month, 2))-\(pad(day, 2))"
        if i == u.count { return date + "T00:00:00Z" }
        let sep = u[i]
        guard sep == UInt8(ascii: "T") || sep == UInt8(ascii: "t") || sep == UInt8(ascii: " ") else { return nil }
        i += 1
        guard let hour = digits(1, 2), expect(UInt8(ascii: ":")), let minute = digits(1, 2), expect(UInt8(ascii: ":")),
              let second = digits(1, 2), hour < 24, minute < 60, second < 60 else { return nil }
        var fraction = ""
        if i < u.count && u[i] == UInt8(ascii: ".") {
            i += 1
            let start = i
            while i < u.count, u[i] >= 48, u[i] <= 57 { i += 1 }
            guard i > start, i - start <= 9 else { return nil }
            fraction = String(decoding: u[start..<i], as: UTF8.self)
            while fraction.hasSuffix("0") { fraction.removeLast() }
            if !fraction.isEmpty { fraction = "." + fraction }
        }
        var zone = "Z"
        if sep == UInt8(ascii: " ") {
            guard i == u.count else { return nil }  // `2006-1-2 15:4:5.999999999` has no zone
        } else {
            guard i < u.count else { return nil }
            if u[i] == UInt8(ascii: "Z") {
                i += 1
            } else if u[i] == UInt8(ascii: "+") || u[i] == UInt8(ascii: "-") {
                let sign = u[i]
                i += 1
                guard let zh = digits(2, 2), expect(UInt8(ascii: ":")), let zm = digits(2, 2), zh < 24, zm < 60 else { return nil }
                zone = zh == 0 && zm == 0 ? "Z" : "\(sign == UInt8(ascii: "+") ? "+" : "-")\(pad(zh, 2)):\(pad(zm, 2))"
            } else {
                return nil
            }
            guard i == u.count else { return nil }
        }
        return "\(date)T\(pad(hour, 2)):\(pad(minute, 2)):\(pad(second, 2))\(fraction)\(zone)"
    }

    /// The style the emitter uses for a string value or key (go-yaml v2's choice, which is what
    /// `kubectl kustomize` prints). `allowLiteral` is false for keys written as simple keys;
    /// a key with a line break is written as a complex key (`? `), where block styles are allowed.
    public static func style(for s: String, allowLiteral: Bool = true) -> Style {
        // Fast path for the common case: identifiers, names, image references, paths.
        if isSimpleWord(s) { return isReservedWord(s) ? .doubleQuoted : .plain }
        // go-yaml v2 (`encode.go` stringv): a string another type would claim is double-quoted,
        // one with "\n" asks for a literal block, everything else for plain.
        if isAmbiguous(s) { return .doubleQuoted }
        let a = analyze(s)
        if a.hasNewline {
            return allowLiteral && a.blockAllowed ? .literal : .doubleQuoted
        }
        // `select_scalar_style`: plain falls back to single quotes, single quotes to double.
        if a.plainAllowed && plainAllowed(s) { return .plain }
        return a.singleQuotedAllowed ? .singleQuoted : .doubleQuoted
    }

    /// What go-yaml's `yaml_emitter_analyze_scalar` finds in a string.
    struct Analysis {
        var hasNewline = false
        /// Any line break: `\n`, `\r`, U+0085, U+2028, U+2029 (YAML 1.1 breaks).
        var lineBreaks = false
        var plainAllowed = true
        var singleQuotedAllowed = true
        var blockAllowed = true
    }

    /// YAML 1.1 line breaks (what go-yaml's `is_break` and libyaml readers take for one).
    @inline(__always) static func isBreak(_ v: UInt32) -> Bool {
        v == 0x0A || v == 0x0D || v == 0x85 || v == 0x2028 || v == 0x2029
    }

    static func analyze(_ s: String) -> Analysis {
        var a = Analysis()
        var special = false, spaceBreak = false, breakSpace = false
        var prevSpace = false, prevBreak = false
        var first = true
        var leading = false, trailingSpace = false, trailingBreak = false
        for c in s.unicodeScalars {
            let v = c.value
            if v == 0x0A { a.hasNewline = true }
            if !isPrintable(c) { special = true }
            let isSpace = v == 0x20
            let brk = isBreak(v)
            if first && (isSpace || brk) { leading = true }
            if isSpace {
                prevSpace = true
                if prevBreak { breakSpace = true }
                prevBreak = false
            } else if brk {
                a.lineBreaks = true
                if prevSpace { spaceBreak = true }
                prevBreak = true
                prevSpace = false
            } else {
                prevSpace = false
                prevBreak = false
            }
            first = false
            trailingSpace = isSpace
            trailingBreak = brk
        }
        if leading || trailingSpace || trailingBreak { a.plainAllowed = false }
        if trailingSpace { a.blockAllowed = false }
        if breakSpace { a.plainAllowed = false; a.singleQuotedAllowed = false }
        if spaceBreak || special { a.plainAllowed = false; a.singleQuotedAllowed = false; a.blockAllowed = false }
        if a.lineBreaks { a.plainAllowed = false }
        return a
    }

    /// A string with a line break can't be a simple key: go-yaml writes `? key` then `: value`.
    public static func needsComplexKey(_ s: String) -> Bool {
        // ASCII text (nearly every key): only LF and CR are breaks; one pass over the bytes.
        if let ascii = s.utf8.withContiguousStorageIfAvailable({ b -> Bool? in
            for c in b {
                if c >= 0x80 { return nil }
                if c == 0x0A || c == 0x0D { return true }
            }
            return false
        }), let answer = ascii { return answer }
        for c in s.unicodeScalars where isBreak(c.value) { return true }
        return false
    }

    /// go-yaml v2's order of map keys (`sorter.go`, what `kubectl kustomize` prints): rune by
    /// rune; two letters by code point; a letter sorts after a non-letter; runs of digits
    /// compare as numbers (`item2 < item10`, `v1.2.9 < v1.2.10`); a prefix sorts first.
    public static func keyLess(_ a: String, _ b: String) -> Bool {
        // Fast path: ASCII letters only differ → byte order is the same. The bytes are read in
        // place (the emitter checks every adjacent pair of keys of every map it writes).
        let fast = a.utf8.withContiguousStorageIfAvailable { au in
            b.utf8.withContiguousStorageIfAvailable { bu -> Bool? in keyLessFast(au, bu) } ?? nil
        } ?? nil
        if let fast { return fast }
        return keyLessSlow(Array(a.unicodeScalars), Array(b.unicodeScalars))
    }

    /// `keyLess` decided from the bytes when one key is a prefix of the other or they first
    /// differ at two ASCII letters; nil when the rune-level comparison must decide.
    @inline(__always) static func keyLessFast(_ au: UnsafeBufferPointer<UInt8>, _ bu: UnsafeBufferPointer<UInt8>) -> Bool? {
        let n = min(au.count, bu.count)
        var i = 0
        while i < n && au[i] == bu[i] { i += 1 }
        if i == n { return au.count < bu.count }
        let ca = au[i], cb = bu[i]
        if isASCIILetter(ca), isASCIILetter(cb) { return ca < cb }
        return nil
    }

    @inline(__always) static func isASCIILetter(_ c: UInt8) -> Bool { (c | 0x20) >= 97 && (c | 0x20) <= 122 }

    static func isLetter(_ c: Unicode.Scalar) -> Bool {
        if c.value < 0x80 { return isASCIILetter(UInt8(c.value)) }
        switch c.properties.generalCategory {
        case .uppercaseLetter, .lowercaseLetter, .titlecaseLetter, .modifierLetter, .otherLetter: return true
        default: return false
        }
    }

    static func isDigit(_ c: Unicode.Scalar) -> Bool {
        if c.value < 0x80 { return c.value >= 48 && c.value <= 57 }
        return c.properties.generalCategory == .decimalNumber
    }

    static func keyLessSlow(_ ar: [Unicode.Scalar], _ br: [Unicode.Scalar]) -> Bool {
        var i = 0
        while i < ar.count && i < br.count {
            if ar[i] == br[i] { i += 1; continue }
            let al = isLetter(ar[i]), bl = isLetter(br[i])
            if al && bl { return ar[i].value < br[i].value }
            if al || bl { return bl }
            var an: Int64 = 0, bn: Int64 = 0
            if ar[i] == "0" || br[i] == "0" {
                var j = i - 1
                while j >= 0 && isDigit(ar[j]) {
                    if ar[j] != "0" { an = 1; bn = 1; break }
                    j -= 1
                }
            }
            var ai = i
            while ai < ar.count && isDigit(ar[ai]) {
                an = an &* 10 &+ (Int64(ar[ai].value) &- 48); ai += 1
            }
            var bi = i
            while bi < br.count && isDigit(br[bi]) {
                bn = bn &* 10 &+ (Int64(br[bi].value) &- 48); bi += 1
            }
            if an != bn { return an < bn }
            if ai != bi { return ai < bi }
            return ar[i].value < br[i].value
        }
        return ar.count < br.count
    }

    /// A letter followed by letters, digits, `.`, `/`, `_`, `-`, `:` (not last), `@`: always
    /// plain unless it is one of the short YAML 1.1 words.
    static func isSimpleWord(_ s: String) -> Bool {
        if let r = s.utf8.withContiguousStorageIfAvailable({ isSimpleWord(bytes: $0) }) { return r }
        return isSimpleWord(bytes: Array(s.utf8))
    }

    static func isSimpleWord<C: Collection<UInt8>>(bytes: C) -> Bool {
        var first = true
        var last: UInt8 = 0
        for c in bytes {
            switch c {
            case UInt8(ascii: "a")...UInt8(ascii: "z"), UInt8(ascii: "A")...UInt8(ascii: "Z"): break
            case UInt8(ascii: "0")...UInt8(ascii: "9"), UInt8(ascii: "."), UInt8(ascii: "/"), UInt8(ascii: "_"),
                 UInt8(ascii: "-"), UInt8(ascii: ":"), UInt8(ascii: "@"):
                if first { return false }
            default: return false
            }
            first = false
            last = c
        }
        return !first && last != UInt8(ascii: ":")
    }

    static func isPrintable(_ c: Unicode.Scalar) -> Bool {
        let v = c.value
        if v == 0x0A { return true }
        if v >= 0x20 && v <= 0x7E { return true }
        if (v >= 0xA0 && v <= 0xD7FF) || (v >= 0xE000 && v <= 0xFFFD && v != 0xFEFF) { return true }
        // go-yaml's is_printable stops at 3-byte UTF-8: characters beyond the BMP (emoji) are
        // written double-quoted as \UXXXXXXXX, which is what `kubectl kustomize` prints.
        return false
    }

    static func plainAllowed(_ s: String) -> Bool {
        if let r = s.utf8.withContiguousStorageIfAvailable({ plainAllowed(bytes: $0) }) { return r }
        return Array(s.utf8).withUnsafeBufferPointer { plainAllowed(bytes: $0) }
    }

    static func plainAllowed(bytes u: UnsafeBufferPointer<UInt8>) -> Bool {
        guard let f = u.first, let l = u.last else { return false }
        if f == UInt8(ascii: " ") || l == UInt8(ascii: " ") { return false }
        if u.count >= 3, (u[0] == UInt8(ascii: "-") && u[1] == UInt8(ascii: "-") && u[2] == UInt8(ascii: "-"))
            || (u[0] == UInt8(ascii: ".") && u[1] == UInt8(ascii: ".") && u[2] == UInt8(ascii: ".")) { return false }
        switch f {
        case UInt8(ascii: "#"), UInt8(ascii: ","), UInt8(ascii: "["), UInt8(ascii: "]"), UInt8(ascii: "{"),
             UInt8(ascii: "}"), UInt8(ascii: "&"), UInt8(ascii: "*"), UInt8(ascii: "!"), UInt8(ascii: "|"),
             UInt8(ascii: ">"), UInt8(ascii: "'"), UInt8(ascii: "\""), UInt8(ascii: "%"), UInt8(ascii: "@"),
             UInt8(ascii: "`"):
            return false
        case UInt8(ascii: "?"), UInt8(ascii: ":"), UInt8(ascii: "-"):
            if u.count == 1 || u[1] == UInt8(ascii: " ") { return false }
        default: break
        }
        for i in u.indices {
            let c = u[i]
            if c == UInt8(ascii: ":") && (i + 1 == u.count || u[i + 1] == UInt8(ascii: " ")) { return false }
            if c == UInt8(ascii: "#") && i > 0 && u[i - 1] == UInt8(ascii: " ") { return false }
        }
        return true
    }
}
