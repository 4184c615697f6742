#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// Go's `fmt` (`Sprint`, `Sprintln`, `Sprintf`) and `strconv` formatting for `TemplateValue`s.
public enum GoFormat {
    // MARK: Sprint / Sprintln

    /// `fmt.Sprint`: operands printed with `%v`, a space between two operands when neither is a string.
    public static func sprint(_ args: [TemplateValue]) -> String {
        var out = ""
        var prevString = false
        for (i, a) in args.enumerated() {
            let isString: Bool
            if case .string = a { isString = true } else { isString = false }
            if i > 0 && !isString && !prevString { out += " " }
            formatV(a, flags: Flags(), into: &out)
            prevString = isString
        }
        return out
    }

    /// `fmt.Sprintln`: operands with `%v`, always space-separated, newline appended.
    public static func sprintln(_ args: [TemplateValue]) -> String {
        var out = ""
        for (i, a) in args.enumerated() {
            if i > 0 { out += " " }
            formatV(a, flags: Flags(), into: &out)
        }
        out += "\n"
        return out
    }

    /// `%v` of one value.
    public static func v(_ a: TemplateValue) -> String {
        var out = ""
        formatV(a, flags: Flags(), into: &out)
        return out
    }

    struct Flags {
        var minus = false, plus = false, sharp = false, space = false, zero = false
        var width: Int? = nil
        var precision: Int? = nil
    }

    // MARK: Sprintf

    /// `fmt.Sprintf` with Go's verbs, flags, width and precision, and its error forms
    /// (`%!d(string=x)`, `%!s(MISSING)`, `%!(EXTRA int=1)`, `%!(NOVERB)`).
    public static func sprintf(_ format: String, _ args: [TemplateValue]) -> String {
        var out = ""
        out.reserveCapacity(format.utf8.count + 16 * args.count)
        let f = Array(format.unicodeScalars)
        var i = 0
        var argNum = 0
        var reordered = false
        while i < f.count {
            let c = f[i]
            if c != "%" {
                out.unicodeScalars.append(c)
                i += 1
                continue
            }
            i += 1
            var fl = Flags()
            // flags
            flagLoop: while i < f.count {
                switch f[i] {
                case "#": fl.sharp = true
                case "0": fl.zero = !fl.minus
                case "+": fl.plus = true
                case "-": fl.minus = true; fl.zero = false
                case " ": fl.space = true
                default: break flagLoop
                }
                i += 1
            }
            // argument index [n]
            func argIndex() {
                if i < f.count && f[i] == "[" {
                    var j = i + 1
                    var n = 0
                    var ok = false
                    while j < f.count, let d = f[j].properties.numericType != nil ? Int(String(f[j])) : nil { n = n * 10 + d; j += 1; ok = true }
                    if ok && j < f.count && f[j] == "]" {
                        argNum = n - 1
                        reordered = true
                        i = j + 1
                    }
                }
            }
            argIndex()
            // width
            if i < f.count && f[i] == "*" {
                i += 1
                if argNum < args.count {
                    if let w = intArg(args[argNum]), w <= 1_000_000, w >= -1_000_000 {
                        fl.width = abs(w)
                        if w < 0 { fl.minus = true; fl.zero = false }
                    } else {
                        out += "%!(BADWIDTH)"
                    }
                    argNum += 1
                } else {
                    out += "%!(BADWIDTH)"
                }
            } else {
                var w = 0
                var has = false
                while i < f.count, let d = digit(f[i]) { w = min(w * 10 + d, 10_000_000); i += 1; has = true }
                // Go refuses widths over 10^6 (fmt's tooLarge).
                if has { if w > 1_000_000 { out += "%!(BADWIDTH)" } else { fl.width = w } }
            }
            // precision
            if i < f.count && f[i] == "." {
                i += 1
                argIndex()
                if i < f.count && f[i] == "*" {
                    i += 1
                    if argNum < args.count, let p = intArg(args[argNum]), p <= 1_000_000 {
                        fl.precision = p < 0 ? nil : p
                        argNum += 1
                    } else {
                        if argNum < args.count { argNum += 1 }
                        out += "%!(BADPREC)"
                    }
                } else {
                    var p = 0
                    while i < f.count, let d = digit(f[i]) { p = min(p * 10 + d, 10_000_000); i += 1 }
                    if p > 1_000_000 { out += "%!(BADPREC)" } else { fl.precision = p }
                }
            }
            argIndex()
            guard i < f.count else {
                out += "%!(NOVERB)"
                break
            }
            let verb = f[i]
            i += 1
            if verb == "%" {
                out += "%"
                continue
            }
            guard argNum < args.count else {
                out += "%!"
                out.unicodeScalars.append(verb)
                out += "(MISSING)"
                continue
            }
            let arg = args[argNum]
            argNum += 1
            GoFormat.format(arg, verb: verb, flags: fl, into: &out)
        }
        if !reordered && argNum < args.count {
            out += "%!(EXTRA "
            for (n, a) in args[argNum...].enumerated() {
                if n > 0 { out += ", " }
                if case .null = a {
                    out += "<nil>"
                } else {
                    out += a.goTypeName
                    out += "="
                    formatV(a, flags: Flags(), into: &out)
                }
            }
            out += ")"
        }
        return out
    }

    static func digit(_ c: Unicode.Scalar) -> Int? {
        c.value >= 48 && c.value <= 57 ? Int(c.value - 48) : nil
    }

    static func intArg(_ v: TemplateValue) -> Int? {
        switch v {
        case .int(let i): return i
        case .int64(let i): return Int(i)
        default: return nil
        }
    }

    // MARK: One operand

    static func badVerb(_ v: TemplateValue, _ verb: Unicode.Scalar, into out: inout String) {
        out += "%!"
        out.unicodeScalars.append(verb)
        out += "("
        if case .null = v {
            out += "<nil>"
        } else {
            out += v.goTypeName
            out += "="
            formatV(v, flags: Flags(), into: &out)
        }
        out += ")"
    }

    static func format(_ v: TemplateValue, verb: Unicode.Scalar, flags fl: Flags, into out: inout String) {
        if verb == "T" {
            pad(v.goTypeName, fl, into: &out)
            return
        }
        if verb == "v" {
            formatV(v, flags: fl, into: &out, top: true)
            return
        }
        switch v {
        case .null:
            if verb == "v" { pad("<nil>", fl, into: &out) } else { badVerb(v, verb, into: &out) }
        case .bool(let b):
            if verb == "t" || verb == "v" { pad(b ? "true" : "false", fl, into: &out) } else { badVerb(v, verb, into: &out) }
        case .int(let i):
            formatInt(Int64(i), verb: verb, fl, v, into: &out)
        case .int64(let i):
            formatInt(i, verb: verb, fl, v, into: &out)
        case .float64(let d):
            formatFloatVerb(d, verb: verb, fl, v, into: &out)
        case .string(let s):
            formatString(s, verb: verb, fl, v, into: &out)
        case .list(let l):
            if verb == "s" || verb == "q" || verb == "x" || verb == "X" || verb == "d" || verb == "f" || verb == "e"
                || verb == "g" || verb == "t" || verb == "o" || verb == "b" || verb == "c" || verb == "U" || verb == "E"
                || verb == "G" || verb == "F"
            {
                out += "["
                for (n, e) in l.enumerated() {
                    if n > 0 { out += " " }
                    format(e, verb: verb, flags: fl, into: &out)
                }
                out += "]"
            } else {
                badVerb(v, verb, into: &out)
            }
        case .map(let m):
            out += "map["
            for (n, (k, x)) in m.sortedEntries.enumerated() {
                if n > 0 { out += " " }
                format(.string(k), verb: verb, flags: fl, into: &out)
                out += ":"
                format(x, verb: verb, flags: fl, into: &out)
            }
            out += "]"
        case .object:
            var s = ""
            formatV(v, flags: fl, into: &s)
            if verb == "s" || verb == "v" { pad(s, fl, into: &out) } else { badVerb(v, verb, into: &out) }
        }
    }

    /// `%v` (and `%+v`, which prints the same for these types).
    static func formatV(_ v: TemplateValue, flags fl: Flags, into out: inout String, top: Bool = false, depth: Int = 0) {
        if depth > 100 { out += "..."; return }  // a map that contains itself
        var fl = fl
        if !top { fl.width = nil; fl.precision = nil }
        switch v {
        case .null: pad("<nil>", fl, into: &out)
        case .bool(let b): pad(b ? "true" : "false", fl, into: &out)
        case .int(let i): formatInt(Int64(i), verb: "d", fl, v, into: &out)
        case .int64(let i): formatInt(i, verb: "d", fl, v, into: &out)
        case .float64(let d): formatFloatVerb(d, verb: "g", fl, v, shortestV: true, into: &out)
        case .string(let s): formatString(s, verb: "s", fl, v, into: &out)
        case .list(let l):
            var s = "["
            for (n, e) in l.enumerated() {
                if n > 0 { s += " " }
                formatV(e, flags: fl, into: &s, depth: depth + 1)
            }
            s += "]"
            out += s
        case .map(let m):
            var s = "map["
            for (n, (k, x)) in m.sortedEntries.enumerated() {
                if n > 0 { s += " " }
                s += k
                s += ":"
                formatV(x, flags: fl, into: &s, depth: depth + 1)
            }
            s += "]"
            out += s
        case .object(let o):
            if let f = o.goFormatted { pad(f, fl, into: &out); return }
            var s = o.goKind == "ptr" ? "&{" : "{"
            if let d = o.dataValue, case .map(let m) = d {
                for (n, (_, x)) in m.sortedEntries.enumerated() {
                    if n > 0 { s += " " }
                    formatV(x, flags: fl, into: &s, depth: depth + 1)
                }
            }
            s += "}"
            pad(s, fl, into: &out)
        }
    }

    static func pad(_ s: String, _ fl: Flags, into out: inout String, zeroOK: Bool = false) {
        guard let w = fl.width else { out += s; return }
        var n = 0
        for _ in s.unicodeScalars { n += 1 }
        if n >= w { out += s; return }
        let fill = String(repeating: (fl.zero && zeroOK && !fl.minus) ? "0" : " ", count: w - n)
        if fl.minus { out += s; out += fill } else { out += fill; out += s }
    }

    static func formatInt(_ i: Int64, verb: Unicode.Scalar, _ fl: Flags, _ v: TemplateValue, into out: inout String) {
        let neg = i < 0
        let mag = i.magnitude
        var digits: String
        var prefix = ""
        switch verb {
        case "d", "v": digits = String(mag)
        case "x": digits = String(mag, radix: 16); if fl.sharp { prefix = "0x" }
        case "X": digits = String(mag, radix: 16, uppercase: true); if fl.sharp { prefix = "0X" }
        case "o": digits = String(mag, radix: 8); if fl.sharp { prefix = "0" }
        case "O": digits = String(mag, radix: 8); prefix = "0o"
        case "b": digits = String(mag, radix: 2)
        case "c":
            pad(Unicode.Scalar(UInt32(truncatingIfNeeded: i)).map { String(Character($0)) } ?? "\u{FFFD}", fl, into: &out)
            return
        case "q":
            pad(quoteRune(Unicode.Scalar(UInt32(truncatingIfNeeded: i)) ?? "\u{FFFD}"), fl, into: &out)
            return
        case "U":
            var h = String(mag, radix: 16, uppercase: true)
            if h.count < 4 { h = String(repeating: "0", count: 4 - h.count) + h }
            var s = "U+" + h
            if fl.sharp, let sc = Unicode.Scalar(UInt32(truncatingIfNeeded: i)) { s += " '" + String(Character(sc)) + "'" }
            pad(s, fl, into: &out)
            return
        case "e", "E", "f", "F", "g", "G", "s", "t":
            badVerb(v, verb, into: &out)
            return
        default:
            badVerb(v, verb, into: &out)
            return
        }
        if let p = fl.precision {
            if p == 0 && mag == 0 { digits = "" }
            if digits.count < p { digits = String(repeating: "0", count: p - digits.count) + digits }
        }
        var sign = ""
        if neg { sign = "-" } else if fl.plus { sign = "+" } else if fl.space { sign = " " }
        if let w = fl.width, fl.zero, !fl.minus, fl.precision == nil {
            let body = prefix + digits
            let total = sign.count + body.count
            if total < w {
                out += sign + prefix + String(repeating: "0", count: w - total) + digits
                return
            }
        }
        pad(sign + prefix + digits, fl, into: &out)
    }

    static func formatFloatVerb(_ d: Double, verb: Unicode.Scalar, _ fl: Flags, _ v: TemplateValue, shortestV: Bool = false, into out: inout String) {
        var body: String
        switch verb {
        case "e", "E", "f", "F", "g", "G":
            let c: Character = verb == "F" ? "f" : Character(String(verb).lowercased())
            body = formatFloat(d, fmt: c, prec: fl.precision ?? (c == "g" ? -1 : 6))
            if verb == "E" || verb == "G" { body = body.uppercased() }
        case "v":
            body = formatFloat(d, fmt: "g", prec: fl.precision ?? -1)
        default:
            badVerb(v, verb, into: &out)
            return
        }
        if fl.sharp && !body.contains(".") && d.isFinite {
            if let e = body.firstIndex(where: { $0 == "e" || $0 == "E" }) {
                body.insert(".", at: e)
            } else {
                body += "."
            }
        }
        if d.isInfinite || d.isNaN {
            var s = body
            if d.isNaN { s = "NaN"; if fl.plus { s = "+NaN" } else if fl.space { s = " NaN" } }
            else if d > 0 { s = fl.plus ? "+Inf" : (fl.space ? " Inf" : "+Inf") ; if !fl.plus && !fl.space { s = "+Inf" } }
            else { s = "-Inf" }
            var f2 = fl
            f2.zero = false
            pad(s, f2, into: &out)
            return
        }
        if !body.hasPrefix("-") {
            if fl.plus { body = "+" + body } else if fl.space { body = " " + body }
        }
        if let w = fl.width, fl.zero, !fl.minus, body.count < w {
            var sign = ""
            if let f = body.first, f == "-" || f == "+" || f == " " { sign = String(f); body.removeFirst() }
            out += sign + String(repeating: "0", count: w - sign.count - body.count) + body
            return
        }
        pad(body, fl, into: &out)
    }

    static func formatString(_ s: String, verb: Unicode.Scalar, _ fl: Flags, _ v: TemplateValue, into out: inout String) {
        switch verb {
        case "s", "v":
            var t = s
            if let p = fl.precision { t = String(String.UnicodeScalarView(s.unicodeScalars.prefix(p))) }
            pad(t, fl, into: &out)
        case "q":
            var t = s
            if let p = fl.precision { t = String(String.UnicodeScalarView(s.unicodeScalars.prefix(p))) }
            if fl.sharp && !t.contains("`") && t.unicodeScalars.allSatisfy({ $0 == "\t" || isGoPrint($0) }) {
                pad("`" + t + "`", fl, into: &out)
            } else {
                pad(quote(t, asciiOnly: fl.plus), fl, into: &out)
            }
        case "x", "X":
            let hex = verb == "x" ? "0123456789abcdef" : "0123456789ABCDEF"
            let h = Array(hex.unicodeScalars)
            var bytes = Array(s.utf8)
            if let p = fl.precision, p < bytes.count { bytes = Array(bytes.prefix(p)) }
            var t = ""
            for (n, b) in bytes.enumerated() {
                if fl.space && n > 0 { t += " " }
                if fl.sharp && (fl.space || n == 0) { t += verb == "x" ? "0x" : "0X" }
                t.unicodeScalars.append(h[Int(b >> 4)])
                t.unicodeScalars.append(h[Int(b & 15)])
            }
            pad(t, fl, into: &out)
        default:
            badVerb(v, verb, into: &out)
        }
    }

    // MARK: strconv

    /// Go's `unicode.IsPrint` (letters, marks, numbers, punctuation, symbols and ASCII space).
    static func isGoPrint(_ c: Unicode.Scalar) -> Bool {
        if c.value < 0x80 { return c.value >= 0x20 && c.value < 0x7F }
        switch c.properties.generalCategory {
        case .uppercaseLetter, .lowercaseLetter, .titlecaseLetter, .modifierLetter, .otherLetter,
             .nonspacingMark, .spacingMark, .enclosingMark, .decimalNumber, .letterNumber, .otherNumber,
             .connectorPunctuation, .dashPunctuation, .openPunctuation, .closePunctuation, .initialPunctuation,
             .finalPunctuation, .otherPunctuation, .mathSymbol, .currencySymbol, .modifierSymbol, .otherSymbol:
            return true
        default:
            return false
        }
    }

    /// `strconv.Quote` (or `QuoteToASCII` when `asciiOnly`).
    public static func quote(_ s: String, asciiOnly: Bool = false) -> String {
        var out = "\""
        for c in s.unicodeScalars { appendEscaped(c, quote: "\"", asciiOnly: asciiOnly, into: &out) }
        out += "\""
        return out
    }

    static func quoteRune(_ c: Unicode.Scalar) -> String {
        var out = "'"
        appendEscaped(c, quote: "'", asciiOnly: false, into: &out)
        out += "'"
        return out
    }

    static func appendEscaped(_ c: Unicode.Scalar, quote: Unicode.Scalar, asciiOnly: Bool, into out: inout String) {
        if c == quote || c == "\\" { out += "\\"; out.unicodeScalars.append(c); return }
        if asciiOnly {
            if c.value < 0x80 && isGoPrint(c) { out.unicodeScalars.append(c); return }
        } else if isGoPrint(c) {
            out.unicodeScalars.append(c)
            return
        }
        switch c {
        case "\u{07}": out += "\\a"
        case "\u{08}": out += "\\b"
        case "\u{0C}": out += "\\f"
        case "\n": out += "\\n"
        case "\r": out += "\\r"
        case "\t": out += "\\t"
        case "\u{0B}": out += "\\v"
        default:
            let hex = Array("0123456789abcdef".unicodeScalars)
            if c.value < 0x20 || c.value == 0x7F {
                out += "\\x"
                out.unicodeScalars.append(hex[Int(c.value >> 4)])
                out.unicodeScalars.append(hex[Int(c.value & 15)])
            } else if c.value < 0x10000 {
                out += "\\u"
                for sh in stride(from: 12, through: 0, by: -4) { out.unicodeScalars.append(hex[Int((c.value >> UInt32(sh)) & 15)]) }
            } else {
                out += "\\U"
                for sh in stride(from: 28, through: 0, by: -4) { out.unicodeScalars.append(hex[Int((c.value >> UInt32(sh)) & 15)]) }
            }
        }
    }

    /// Shortest decimal digits and decimal-point position of `d` (`d = 0.DIGITS × 10^dp`), as
    /// Go's shortest formatting finds them.
    static func shortestDigits(_ d: Double) -> (digits: [UInt8], dp: Int) {
        if d == 0 { return ([], 0) }
        // Swift's description is the shortest round-tripping representation.
        let s = abs(d).description
        var mant = Substring(s)
        var exp = 0
        if let e = s.firstIndex(where: { $0 == "e" || $0 == "E" }) {
            mant = s[..<e]
            exp = Int(s[s.index(after: e)...]) ?? 0
        }
        var digits: [UInt8] = []
        var dp = 0
        var seenDot = false
        for c in mant.utf8 {
            if c == UInt8(ascii: ".") { seenDot = true; continue }
            digits.append(c)
            if !seenDot { dp += 1 }
        }
        // strip leading zeros
        while let f = digits.first, f == UInt8(ascii: "0") { digits.removeFirst(); dp -= 1 }
        while let l = digits.last, l == UInt8(ascii: "0") { digits.removeLast() }
        return (digits, dp + exp)
    }

    /// `strconv.FormatFloat(d, fmt, prec, 64)` for fmt `e`, `f`, `g` (prec -1 = shortest).
    public static func formatFloat(_ d: Double, fmt: Character, prec: Int) -> String {
        if d.isNaN { return "NaN" }
        if d.isInfinite { return d < 0 ? "-Inf" : "+Inf" }
        let neg = d.sign == .minus
        if prec < 0 {
            var (digits, dp) = shortestDigits(d)
            if digits.isEmpty { digits = [UInt8(ascii: "0")]; dp = 1 }
            var s = ""
            switch fmt {
            case "e":
                s = fmtE(digits, dp: dp, prec: digits.count - 1)
            case "f":
                s = fmtF(digits, dp: dp, prec: max(digits.count - dp, 0))
            default:
                // Go: shortest %g uses %e when the exponent is < -4 or >= 6 (eprec = 6).
                let exp = dp - 1
                if exp < -4 || exp >= 6 {
                    s = fmtE(digits, dp: dp, prec: digits.count - 1)
                } else {
                    s = fmtF(digits, dp: dp, prec: max(digits.count - dp, 0))
                }
            }
            return (neg ? "-" : "") + s
        }
        // Fixed precision: the C library rounds the exact binary value correctly, as Go does.
        var spec: String
        switch fmt {
        case "e": spec = "%.\(prec)e"
        case "f": spec = "%.\(prec)f"
        default:
            // Go %g with precision: digits = prec (0 → 1), %e if exp < -4 || exp >= prec.
            let p = prec == 0 ? 1 : prec
            let eForm = cFormat("%.\(p - 1)e", d)
            // exponent of the rounded value
            let expPart = eForm.split(separator: "e").last.flatMap { Int($0) } ?? 0
            let mantissa = eForm.split(separator: "e").first.map(String.init) ?? eForm
            if expPart < -4 || expPart >= p {
                var m = mantissa
                if m.contains(".") { while m.hasSuffix("0") { m.removeLast() }; if m.hasSuffix(".") { m.removeLast() } }
                return m + "e" + (expPart < 0 ? "-" : "+") + (abs(expPart) < 10 ? "0" : "") + String(abs(expPart))
            }
            var f = cFormat("%.\(max(p - 1 - expPart, 0))f", d)
            if f.contains(".") { while f.hasSuffix("0") { f.removeLast() }; if f.hasSuffix(".") { f.removeLast() } }
            return f
        }
        return cFormat(spec, d)
    }

    static func cFormat(_ spec: String, _ d: Double) -> String {
        var buf = [CChar](repeating: 0, count: 512)
        let n = withVaList([d]) { va in
            buf.withUnsafeMutableBufferPointer { vsnprintf($0.baseAddress, 512, spec, va) }
        }
        if n >= 512 {
            var big = [CChar](repeating: 0, count: Int(n) + 1)
            _ = withVaList([d]) { va in big.withUnsafeMutableBufferPointer { vsnprintf($0.baseAddress, Int(n) + 1, spec, va) } }
            return String(decoding: big.prefix(Int(n)).map { UInt8(bitPattern: $0) }, as: UTF8.self)
        }
        return String(decoding: buf.prefix(Int(n)).map { UInt8(bitPattern: $0) }, as: UTF8.self)
    }

    static func fmtE(_ digits: [UInt8], dp: Int, prec: Int) -> String {
        var s = String(UnicodeScalar(digits[0]))
        if prec > 0 {
            s += "."
            for i in 1...prec { s += i < digits.count ? String(UnicodeScalar(digits[i])) : "0" }
        }
        let exp = digits.count == 1 && digits[0] == UInt8(ascii: "0") ? 0 : dp - 1
        s += exp < 0 ? "e-" : "e+"
        let a = abs(exp)
        s += a < 10 ? "0\(a)" : "\(a)"
        return s
    }

    static func fmtF(_ digits: [UInt8], dp: Int, prec: Int) -> String {
        var s = ""
        if dp > 0 {
            for i in 0..<dp { s += i < digits.count ? String(UnicodeScalar(digits[i])) : "0" }
        } else {
            s = "0"
        }
        if prec > 0 {
            s += "."
            for i in 0..<prec {
                let j = dp + i
                s += j >= 0 && j < digits.count ? String(UnicodeScalar(digits[j])) : "0"
            }
        }
        return s
    }

    /// The JSON form of a float64 as Go's `encoding/json` writes it.
    public static func jsonFloat(_ d: Double) -> String {
        let a = abs(d)
        if a != 0 && (a < 1e-6 || a >= 1e21) {
            // 'e' format, shortest, exponent without leading zero padding beyond one digit
            var s = formatFloat(d, fmt: "e", prec: -1)
            // clean up e-07 to e-7
            if let e = s.firstIndex(of: "e") {
                let after = s.index(e, offsetBy: 2)
                if s.distance(from: after, to: s.endIndex) == 2 && s[after] == "0" { s.remove(at: after) }
            }
            return s
        }
        return formatFloat(d, fmt: "f", prec: -1)
    }
}
