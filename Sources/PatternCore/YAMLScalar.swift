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
        case UInt8(ascii: "0")...UInt8(ascii: "9"), UInt8(ascii: "+"), UInt8(ascii: "-"), UInt8(ascii: "."):
            return resolveNumber(s) ?? .string(s)
        default:
            return .string(s)
        }
    }

    static func resolveNumber(_ s: String) -> Value.Kind? {
        switch s {
        case ".inf", ".Inf", ".INF", "+.inf", "+.Inf", "+.INF": return .double(.infinity)
        case "-.inf", "-.Inf", "-.INF": return .double(-.infinity)
        case ".nan", ".NaN", ".NAN": return .double(.nan)
        default: break
        }
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

    /// Words and forms a YAML 1.1 reader (go-yaml v2, the API server's apply decoder) or a 1.2
    /// reader takes for something other than a string.
    public static func isAmbiguous(_ s: String) -> Bool {
        if s.isEmpty { return true }
        switch s {
        case "y", "Y", "yes", "Yes", "YES", "n", "N", "no", "No", "NO",
             "on", "On", "ON", "off", "Off", "OFF", "true", "True", "TRUE", "false", "False", "FALSE",
             "null", "Null", "NULL", "~", "<<", "=":
            return true
        default: break
        }
        if case .string = resolvePlain(s) {} else { return true }
        let u = s.utf8
        let f = u.first!
        let startsNumeric = (f >= 48 && f <= 57) || f == UInt8(ascii: "+") || f == UInt8(ascii: "-") || f == UInt8(ascii: ".")
        if startsNumeric {
            // 1.1 numbers (sexagesimal `1:20`, `1_000`, `0b1`, `.5`, `1.`) and timestamps.
            var numberLike = true
            for c in u {
                switch c {
                case 48...57, UInt8(ascii: "+"), UInt8(ascii: "-"), UInt8(ascii: "."), UInt8(ascii: "_"),
                     UInt8(ascii: ":"), UInt8(ascii: "e"), UInt8(ascii: "E"), UInt8(ascii: "x"), UInt8(ascii: "X"),
                     UInt8(ascii: "o"), UInt8(ascii: "b"), UInt8(ascii: "a")...UInt8(ascii: "d"), UInt8(ascii: "f"),
                     UInt8(ascii: "A")...UInt8(ascii: "F"):
                    continue
                default:
                    numberLike = false
                }
                if !numberLike { break }
            }
            if numberLike && u.contains(where: { $0 >= 48 && $0 <= 57 }) { return true }
            if looksLikeTimestamp(u) { return true }
        }
        return false
    }

    static func looksLikeTimestamp(_ u: String.UTF8View) -> Bool {
        // yyyy-m(m)-d(d)...
        let a = Array(u.prefix(10))
        guard a.count >= 8, a[0...3].allSatisfy({ $0 >= 48 && $0 <= 57 }), a[4] == UInt8(ascii: "-") else { return false }
        return a[5] >= 48 && a[5] <= 57
    }

    /// The style the emitter uses for a string value or key (go-yaml v2's choice, which is what
    /// `kubectl kustomize` prints).
    public static func style(for s: String, allowLiteral: Bool = true) -> Style {
        var hasNewline = false
        var special = false  // characters only double quotes can carry
        for c in s.unicodeScalars {
            if c == "\n" { hasNewline = true; continue }
            if !isPrintable(c) { special = true }
        }
        if hasNewline {
            if allowLiteral && !special && literalAllowed(s) { return .literal }
            return .doubleQuoted
        }
        if special { return .doubleQuoted }
        if isAmbiguous(s) { return .doubleQuoted }
        if plainAllowed(s) { return .plain }
        return .singleQuoted
    }

    static func isPrintable(_ c: Unicode.Scalar) -> Bool {
        let v = c.value
        if v == 0x0A { return true }
        if v >= 0x20 && v <= 0x7E { return true }
        if v == 0x85 || (v >= 0xA0 && v <= 0xD7FF) || (v >= 0xE000 && v <= 0xFFFD && v != 0xFEFF) { return true }
        // go-yaml's is_printable stops at 3-byte UTF-8: characters beyond the BMP (emoji) are
        // written double-quoted as \UXXXXXXXX, which is what `kubectl kustomize` prints.
        return false
    }

    static func plainAllowed(_ s: String) -> Bool {
        let u = Array(s.utf8)
        guard let f = u.first, let l = u.last else { return false }
        if f == UInt8(ascii: " ") || l == UInt8(ascii: " ") { return false }
        if u.starts(with: Array("---".utf8)) || u.starts(with: Array("...".utf8)) { return false }
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

    static func literalAllowed(_ s: String) -> Bool {
        // No leading space on the first line (would need an indentation indicator) and no
        // space right before a line break (libyaml refuses block style then).
        if s.hasPrefix(" ") || s.hasPrefix("\n") { return false }
        var prev: UInt8 = 0
        for c in s.utf8 {
            if c == UInt8(ascii: "\n") && prev == UInt8(ascii: " ") { return false }
            if c == UInt8(ascii: "\t") { return false }
            prev = c
        }
        return true
    }
}
