
/// A label selector with exactly kubectl's grammar and semantics (k8s.io/apimachinery
/// `labels.Parse`), evaluated over a site's labels (`SiteLabels`).
///
/// Requirements are joined by `,` (AND):
///
/// | form                 | matches when                                          |
/// |----------------------|-------------------------------------------------------|
/// | `k=v`, `k==v`        | `k` is set and equals `v` (`k=` : set and empty)      |
/// | `k!=v`               | `k` is not set, or is set to another value            |
/// | `k in (a,b)`         | `k` is set to one of the values                       |
/// | `k notin (a,b)`      | `k` is not set, or is set to none of the values       |
/// | `k`                  | `k` is set (any value)                                |
/// | `!k`                 | `k` is not set                                        |
/// | `k>3`, `k<3`         | `k` is set to an integer greater / less than the bound|
///
/// Keys are Kubernetes qualified names (`[prefix/]name`), values label values (≤ 63
/// characters); the empty selector matches every site. A syntax error names the column.
public struct SiteSelector: Sendable, Hashable, CustomStringConvertible {
    /// One requirement (`key op values`).
    public struct Requirement: Sendable, Hashable, CustomStringConvertible {
        public enum Operator: String, Sendable, Hashable {
            case equals = "=", doubleEquals = "==", notEquals = "!=", `in` = "in", notIn = "notin"
            case exists = "exists", doesNotExist = "!", greaterThan = ">", lessThan = "<"
        }
        public var key: String
        public var op: Operator
        /// Sorted, without duplicates (a set, as in apimachinery).
        public var values: [String]

        public func matches(_ labels: [String: String]) -> Bool {
            let v = labels[key]
            switch op {
            case .equals, .doubleEquals, .in:
                guard let v else { return false }
                return values.contains(v)
            case .notEquals, .notIn:
                guard let v else { return true }
                return !values.contains(v)
            case .exists: return v != nil
            case .doesNotExist: return v == nil
            case .greaterThan, .lessThan:
                guard let v, let have = Int64(v), let bound = values.first.flatMap({ Int64($0) }) else { return false }
                return op == .greaterThan ? have > bound : have < bound
            }
        }

        public var description: String {
            switch op {
            case .exists: return key
            case .doesNotExist: return "!" + key
            case .in, .notIn: return "\(key) \(op.rawValue) (\(values.joined(separator: ",")))"
            default: return key + op.rawValue + (values.first ?? "")
            }
        }
    }

    /// The requirements, in the order written (all must hold).
    public var requirements: [Requirement]

    /// The selector that matches every site.
    public init() { requirements = [] }

    /// Longest selector text accepted.
    public static let maxLength = 8192

    /// Parses `text` (`tier=edge,region in (eu,us)`). Errors carry the 1-based column in
    /// `source` (`--selector` by default) and a fix.
    public init(parsing text: String, source: String = "--selector") throws(Diagnostic) {
        var p = SelectorParser(text: text, source: source)
        requirements = try p.parse()
    }

    /// True when every requirement holds for `labels`.
    public func matches(_ labels: [String: String]) -> Bool {
        for r in requirements where !r.matches(labels) { return false }
        return true
    }

    public var isEmpty: Bool { requirements.isEmpty }

    public var description: String { requirements.map(\.description).joined(separator: ",") }
}

/// The lexer and recursive-descent parser of apimachinery's `labels.Parse`, token for token.
struct SelectorParser {
    enum Token: Equatable {
        case identifier(String), doesNotExist, notEquals, equals, doubleEquals, greaterThan, lessThan
        case openParen, closeParen, comma, inKeyword, notInKeyword, end
        case error(String)

        /// As the Go parser prints a token in its messages (`found '%s'`).
        var literal: String {
            switch self {
            case .identifier(let s), .error(let s): return s
            case .doesNotExist: return "!"
            case .notEquals: return "!="
            case .equals: return "="
            case .doubleEquals: return "=="
            case .greaterThan: return ">"
            case .lessThan: return "<"
            case .openParen: return "("
            case .closeParen: return ")"
            case .comma: return ","
            case .inKeyword: return "in"
            case .notInKeyword: return "notin"
            case .end: return ""
            }
        }
    }

    let text: String
    let source: String
    let bytes: [UInt8]
    var tokens: [(token: Token, column: Int)] = []
    var position = 0

    init(text: String, source: String) {
        self.text = text
        self.source = source
        bytes = Array(text.utf8)
    }

    static let binaryOperators = "in, notin, =, ==, !=, gt, lt"

    static func isSpecial(_ c: UInt8) -> Bool {
        c == UInt8(ascii: "=") || c == UInt8(ascii: "!") || c == UInt8(ascii: "(") || c == UInt8(ascii: ")")
            || c == UInt8(ascii: ",") || c == UInt8(ascii: ">") || c == UInt8(ascii: "<")
    }

    static func isWhitespace(_ c: UInt8) -> Bool { c == 32 || c == 9 || c == 10 || c == 13 }

    /// Columns count characters (not bytes), 1-based.
    func column(ofByte offset: Int) -> Int {
        String(decoding: bytes[0..<offset], as: UTF8.self).count + 1
    }

    mutating func lex() {
        var i = 0
        while true {
            while i < bytes.count, Self.isWhitespace(bytes[i]) { i += 1 }
            guard i < bytes.count else { tokens.append((.end, column(ofByte: i))); return }
            let start = i
            if Self.isSpecial(bytes[i]) {
                // The longest special-symbol run that is a token (as apimachinery's lexer).
                var run = ""
                var best: Token? = nil
                var bestEnd = i
                while i < bytes.count, Self.isSpecial(bytes[i]) {
                    run.append(Character(Unicode.Scalar(bytes[i])))
                    i += 1
                    if let t = Self.symbol(run) { best = t; bestEnd = i } else { break }
                }
                if let best {
                    tokens.append((best, column(ofByte: start)))
                    i = bestEnd
                } else {
                    tokens.append((.error(run), column(ofByte: start)))
                    tokens.append((.end, column(ofByte: i)))
                    return
                }
            } else {
                while i < bytes.count, !Self.isWhitespace(bytes[i]), !Self.isSpecial(bytes[i]) { i += 1 }
                let word = String(decoding: bytes[start..<i], as: UTF8.self)
                let tok: Token = word == "in" ? .inKeyword : word == "notin" ? .notInKeyword : .identifier(word)
                tokens.append((tok, column(ofByte: start)))
            }
        }
    }

    static func symbol(_ s: String) -> Token? {
        switch s {
        case "!": return .doesNotExist
        case "!=": return .notEquals
        case "(": return .openParen
        case ")": return .closeParen
        case ",": return .comma
        case "=": return .equals
        case "==": return .doubleEquals
        case ">": return .greaterThan
        case "<": return .lessThan
        default: return nil
        }
    }

    enum Context { case keyAndOperator, values }

    /// The next token; in a values context `in`/`notin` are identifiers.
    func lookahead(_ ctx: Context) -> (Token, Int) {
        let (t, c) = tokens[min(position, tokens.count - 1)]
        if ctx == .values, t == .inKeyword || t == .notInKeyword { return (.identifier(t.literal), c) }
        return (t, c)
    }

    mutating func consume(_ ctx: Context) -> (Token, Int) {
        let r = lookahead(ctx)
        if position < tokens.count - 1 { position += 1 }
        return r
    }

    func fail(_ message: String, column: Int, fix: String) -> Diagnostic {
        Diagnostic.error("invalid selector \"\(text)\": \(message)", at: SourceLocation(file: source, line: 1, column: column), fix: fix)
    }

    static let grammarFix = "write requirements joined by ',': key=value, key!=value, key in (a,b), key notin (a,b), key, !key (as kubectl -l)"

    mutating func parse() throws(Diagnostic) -> [SiteSelector.Requirement] {
        guard bytes.count <= SiteSelector.maxLength else {
            throw fail("longer than \(SiteSelector.maxLength) bytes", column: 1, fix: "select fewer sites per requirement, or name groups in the overlays")
        }
        lex()
        var out: [SiteSelector.Requirement] = []
        while true {
            let (t, c) = lookahead(.values)
            switch t {
            case .identifier, .doesNotExist:
                out.append(try parseRequirement())
                let (t2, c2) = consume(.values)
                switch t2 {
                case .end: return out
                case .comma:
                    let (t3, c3) = lookahead(.values)
                    switch t3 {
                    case .identifier, .doesNotExist: continue
                    default: throw fail("found '\(t3.literal)', expected: identifier after ','", column: c3, fix: "remove the trailing ',' or add a requirement after it")
                    }
                default:
                    throw fail("found '\(t2.literal)', expected: ',' or 'end of string'", column: c2, fix: Self.grammarFix)
                }
            case .end:
                return out
            default:
                throw fail("found '\(t.literal)', expected: !, identifier, or 'end of string'", column: c, fix: Self.grammarFix)
            }
        }
    }

    mutating func parseRequirement() throws(Diagnostic) -> SiteSelector.Requirement {
        var (t, c) = consume(.values)
        var op: SiteSelector.Requirement.Operator? = nil
        if t == .doesNotExist {
            op = .doesNotExist
            (t, c) = consume(.values)
        }
        guard case .identifier(let key) = t else {
            throw fail("found '\(t.literal)', expected: identifier", column: c, fix: "put a label key here (tier, region, pattern.dev/site, …)")
        }
        try validateKey(key, column: c)
        let (next, _) = lookahead(.values)
        if next == .end || next == .comma {
            if op == nil { op = .exists }
        }
        if let op, op == .exists || op == .doesNotExist {
            return SiteSelector.Requirement(key: key, op: op, values: [])
        }
        let (ot, oc) = consume(.keyAndOperator)
        let binary: SiteSelector.Requirement.Operator
        switch ot {
        case .inKeyword: binary = .in
        case .notInKeyword: binary = .notIn
        case .equals: binary = .equals
        case .doubleEquals: binary = .doubleEquals
        case .notEquals: binary = .notEquals
        case .greaterThan: binary = .greaterThan
        case .lessThan: binary = .lessThan
        default:
            throw fail("found '\(ot.literal)', expected: \(Self.binaryOperators)", column: oc,
                       fix: "use one of =, ==, !=, in (…), notin (…), > or < after the key '\(key)'")
        }
        var values: Set<String>
        var valueColumn = oc
        switch binary {
        case .in, .notIn: (values, valueColumn) = try parseValues()
        default: (values, valueColumn) = try parseExactValue(after: oc)
        }
        for v in values { try validateValue(v, column: valueColumn) }
        if binary == .greaterThan || binary == .lessThan {
            guard let v = values.first, Int64(v) != nil else {
                throw fail("for 'Gt', 'Lt' operators, the value must be an integer", column: valueColumn, fix: "compare with a whole number, e.g. \(key)>3")
            }
        }
        return SiteSelector.Requirement(key: key, op: binary, values: values.sorted())
    }

    /// `( a, b )`: the values and the column of the opening parenthesis.
    mutating func parseValues() throws(Diagnostic) -> (Set<String>, Int) {
        let (t, c) = consume(.values)
        guard t == .openParen else { throw fail("found '\(t.literal)' expected: '('", column: c, fix: "list the values in parentheses: key in (a,b)") }
        let (t2, c2) = lookahead(.values)
        switch t2 {
        case .identifier, .comma:
            let s = try parseIdentifiersList()
            let (t3, c3) = consume(.values)
            guard t3 == .closeParen else { throw fail("found '\(t3.literal)', expected: ')'", column: c3, fix: "close the value list with ')'") }
            return (s, c)
        case .closeParen:
            _ = consume(.values)
            return ([""], c)
        default:
            throw fail("found '\(t2.literal)', expected: ',', ')' or identifier", column: c2, fix: "list the values in parentheses: key in (a,b)")
        }
    }

    mutating func parseIdentifiersList() throws(Diagnostic) -> Set<String> {
        var s = Set<String>()
        while true {
            let (t, c) = consume(.values)
            switch t {
            case .identifier(let v):
                s.insert(v)
                let (t2, c2) = lookahead(.values)
                switch t2 {
                case .comma: continue
                case .closeParen: return s
                default: throw fail("found '\(t2.literal)', expected: ',' or ')'", column: c2, fix: "separate values with ',' and close the list with ')'")
                }
            case .comma:
                if s.isEmpty { s.insert("") }
                let (t2, _) = lookahead(.values)
                if t2 == .closeParen { s.insert(""); return s }
                if t2 == .comma { _ = consume(.values); s.insert("") }
            default:
                throw fail("found '\(t.literal)', expected: ',', or identifier", column: c, fix: "separate values with ',' and close the list with ')'")
            }
        }
    }

    mutating func parseExactValue(after opColumn: Int) throws(Diagnostic) -> (Set<String>, Int) {
        let (t, c) = lookahead(.values)
        if t == .end || t == .comma { return ([""], c) }
        let (t2, c2) = consume(.values)
        if case .identifier(let v) = t2 { return ([v], c2) }
        throw fail("found '\(t2.literal)', expected: identifier", column: c2, fix: "put a value after the operator (key=value)")
    }

    // MARK: Validation (k8s.io/apimachinery/pkg/util/validation)

    static func isAlnum(_ c: UInt8) -> Bool { (c >= 48 && c <= 57) || (c >= 65 && c <= 90) || (c >= 97 && c <= 122) }

    /// `([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9]`, ≤ 63 (empty allowed only for values).
    static func isLabelName(_ s: Substring, allowEmpty: Bool) -> Bool {
        let u = Array(s.utf8)
        if u.isEmpty { return allowEmpty }
        guard u.count <= 63, isAlnum(u.first!), isAlnum(u.last!) else { return false }
        return u.allSatisfy { isAlnum($0) || $0 == 45 || $0 == 95 || $0 == 46 }
    }

    /// RFC 1123 subdomain: lowercase labels joined by '.', ≤ 253.
    static func isDNSSubdomain(_ s: Substring) -> Bool {
        var s = s
        return s.withUTF8 { DNSName.isSubdomain($0[...]) }
    }

    func validateKey(_ key: String, column: Int) throws(Diagnostic) {
        let parts = key.split(separator: "/", omittingEmptySubsequences: false)
        let fix = "a label key is a name of up to 63 letters, digits, '-', '_' or '.' starting and ending alphanumeric, optionally after a DNS prefix and '/' (pattern.dev/site)"
        switch parts.count {
        case 1:
            guard Self.isLabelName(parts[0], allowEmpty: false) else { throw fail("invalid label key \"\(key)\"", column: column, fix: fix) }
        case 2:
            guard Self.isDNSSubdomain(parts[0]) else { throw fail("invalid label key \"\(key)\": prefix part must be a DNS subdomain", column: column, fix: fix) }
            guard Self.isLabelName(parts[1], allowEmpty: false) else { throw fail("invalid label key \"\(key)\": name part is not valid", column: column, fix: fix) }
        default:
            throw fail("invalid label key \"\(key)\": a qualified name has at most one '/'", column: column, fix: fix)
        }
    }

    func validateValue(_ v: String, column: Int) throws(Diagnostic) {
        guard Self.isLabelName(Substring(v), allowEmpty: true) else {
            throw fail("invalid label value: \"\(v)\": must be 63 characters or less, begin and end with an alphanumeric character, with only '-', '_', '.' and alphanumerics between",
                       column: column, fix: "label values are like label names (no spaces, '/' or ':'); check for a missing ',' or parentheses")
        }
    }
}
