import PatternCore

/// Helm's `--set` syntax (`pkg/strvals`), exactly: `a.b=c,d=e`, lists `a={x,y}`, indexes
/// `a[0].b=1`, `\` escapes, and Helm's typing (`true`/`false`/`null`, base-10 integers that do
/// not start with `0` become int64; everything else, floats included, stays a string).
public enum StrVals {
    /// How the right-hand sides are read.
    public enum Mode: Sendable { case typed, string, json }

    /// A `--set` syntax error, in Helm's words.
    public struct ParseError: Error, Sendable, Hashable, CustomStringConvertible {
        public var message: String
        public var description: String { message }
        public init(message: String) { self.message = message }
    }

    static let maxNestedNameLevel = 30
    static let maxIndex = 65536

    /// Parses `text` into `base` (as `strvals.ParseInto`).
    public static func parse(into base: inout Value, _ text: String, mode: Mode = .typed) throws(ParseError) {
        var data = base.object ?? Object()
        var p = Parser(s: Array(text.unicodeScalars), mode: mode)
        while true {
            do {
                try p.key(&data, 0)
            } catch {
                switch error {
                case .eof: base = .object(data); return
                case .error(let m): throw ParseError(message: m)
                }
            }
        }
        base = .object(data)
    }

    /// `--set-file key=path` (as `strvals.ParseIntoFile`): the syntax of `--set-string`, each
    /// value a file path whose contents (read by `read`) become the string value. Lists of
    /// paths (`a={x,y}`) read every file.
    public static func parseFiles(into base: inout Value, _ text: String,
                                  read: (String) throws(ParseError) -> String) throws(ParseError) {
        var paths: Value = .emptyObject
        try parse(into: &paths, text, mode: .string)
        func load(_ v: Value) throws(ParseError) -> Value {
            if let path = v.string { return .string(try read(path)) }
            if let a = v.array {
                var out: [Value] = []
                for x in a { out.append(try load(x)) }
                return .array(out)
            }
            if let o = v.object {
                var out = Object()
                for (k, x) in o { out[k] = try load(x) }
                return .object(out)
            }
            return v
        }
        base = HelmValues.mergeLayers(base, try load(paths))
    }

    enum Failure: Error { case eof, error(String) }
    struct NotList: Error {}

    struct Parser {
        let s: [Unicode.Scalar]
        var i = 0
        let mode: Mode

        mutating func read() -> Unicode.Scalar? { guard i < s.count else { return nil }; defer { i += 1 }; return s[i] }

        /// Runes up to (not including) a stop rune, which is consumed and returned (nil at EOF).
        mutating func until(_ stop: Set<Unicode.Scalar>) -> ([Unicode.Scalar], Unicode.Scalar?) {
            var v: [Unicode.Scalar] = []
            while let r = read() {
                if stop.contains(r) { return (v, r) }
                if r == "\\" {
                    guard let next = read() else { return (v, nil) }
                    v.append(next)
                } else {
                    v.append(r)
                }
            }
            return (v, nil)
        }

        func typed(_ v: [Unicode.Scalar]) -> Value {
            let val = String(String.UnicodeScalarView(v))
            if mode == .string { return .string(val) }
            let lower = val.lowercased()
            if lower == "true" { return .bool(true) }
            if lower == "false" { return .bool(false) }
            if lower == "null" { return .null }
            if val == "0" { return .int(0) }
            if let f = val.first, f != "0", let iv = Int64(val) { return .int(Int(iv)) }
            return .string(val)
        }

        mutating func key(_ data: inout Object, _ level: Int) throws(Failure) {
            let (k, last) = until(["=", "[", ",", "."])
            let ks = String(String.UnicodeScalarView(k))
            guard let last else {
                if k.isEmpty { throw .eof }
                throw .error("key \"\(ks)\" has no value")
            }
            switch last {
            case "[":
                let idx = try keyIndex()
                var list: [Value] = []
                if let existing = data[ks] {
                    guard let a = existing.array else { throw .error("unable to parse key: interface conversion: \(ks) is not a list") }
                    list = a
                }
                var err: Failure? = nil
                do { try listItem(&list, idx, level) } catch { err = error }
                data[ks] = .array(list)
                if let err { throw err }
            case "=":
                if mode == .json {
                    if try emptyVal() { data[ks] = .null; return }
                    data[ks] = try jsonValue()
                    _ = try emptyVal()
                    return
                }
                switch valList() {
                case .success(let vl): data[ks] = .array(vl)
                case .failure(let f):
                    switch f {
                    case .eof: data[ks] = .string(""); throw .eof
                    case .error(let m): throw .error(m)
                    }
                case .none:
                    let (rs, _) = until([","])
                    data[ks] = typed(rs)
                }
            case ",":
                data[ks] = .string("")
                throw .error("key \"\(ks)\" has no value (cannot end with ,)")
            default:  // "."
                let next = level + 1
                if next > StrVals.maxNestedNameLevel {
                    throw .error("value name nested level is greater than maximum supported nested level of \(StrVals.maxNestedNameLevel)")
                }
                var inner = Object()
                if let existing = data[ks] {
                    guard let o = existing.object else { throw .error("unable to parse key: interface conversion: \(ks) is not a map") }
                    inner = o
                }
                var err: Failure? = nil
                do { try key(&inner, next) } catch { err = error }
                if err == nil && inner.isEmpty { throw .error("key map \"\(ks)\" has no value") }
                if !inner.isEmpty { data[ks] = .object(inner) }
                if let err { throw err }
            }
        }

        /// nil: not a list (nothing consumed).
        mutating func valList() -> Result<[Value], Failure>? {
            guard let r = read() else { return .failure(.eof) }
            if r != "{" { i -= 1; return nil }
            var list: [Value] = []
            while true {
                let (rs, last) = until([",", "}"])
                guard let last else { return .failure(.error("list must terminate with '}'")) }
                if last == "}" {
                    if let r = read(), r != "," { i -= 1 }
                    list.append(typed(rs))
                    return .success(list)
                }
                list.append(typed(rs))
            }
        }

        mutating func keyIndex() throws(Failure) -> Int {
            let (v, last) = until(["]"])
            guard last != nil else { throw .error("error parsing index: EOF") }
            let text = String(String.UnicodeScalarView(v))
            guard let n = Int(text) else { throw .error("error parsing index: strconv.Atoi: parsing \"\(text)\": invalid syntax") }
            if n > StrVals.maxIndex { throw .error("error parsing index: index of \(n) is greater than maximum supported index of \(StrVals.maxIndex)") }
            if n < 0 { throw .error("error parsing index: negative \(n) index not allowed") }
            return n
        }

        func setIndex(_ list: inout [Value], _ idx: Int, _ v: Value) {
            while list.count <= idx { list.append(.null) }
            list[idx] = v
        }

        mutating func listItem(_ list: inout [Value], _ idx: Int, _ level: Int) throws(Failure) {
            let (k, last) = until(["[", ".", "="])
            if !k.isEmpty { throw .error("unexpected data at end of array index: \"\(String(String.UnicodeScalarView(k)))\"") }
            guard let last else { throw .eof }
            switch last {
            case "=":
                if mode == .json {
                    if try emptyVal() { setIndex(&list, idx, .null); return }
                    setIndex(&list, idx, try jsonValue())
                    _ = try emptyVal()
                    return
                }
                switch valList() {
                case .success(let vl): setIndex(&list, idx, .array(vl))
                case .failure(let f):
                    if case .error(let m) = f { throw .error(m) }
                    setIndex(&list, idx, .string(""))
                case .none:
                    let (rs, _) = until([","])
                    setIndex(&list, idx, typed(rs))
                }
            case "[":
                let next = try keyIndex()
                var crt: [Value] = []
                if list.count > idx, !list[idx].isNull {
                    guard let a = list[idx].array else { throw .error("unable to parse key: index \(idx) is not a list") }
                    crt = a
                }
                try listItem(&crt, next, level)
                setIndex(&list, idx, .array(crt))
            default:  // "."
                var inner = Object()
                if list.count > idx, let o = list[idx].object { inner = o }
                try key(&inner, level)
                setIndex(&list, idx, .object(inner))
            }
        }

        /// Skips blanks; true when the value is empty (`k=` or `k=,`), consuming the comma.
        mutating func emptyVal() throws(Failure) -> Bool {
            while i < s.count, s[i] == " " || s[i] == "\t" || s[i] == "\n" { i += 1 }
            if i >= s.count { return true }
            if s[i] == "," { i += 1; return true }
            return false
        }

        /// One JSON value from the current position (as Go's json.Decoder.Decode).
        mutating func jsonValue() throws(Failure) -> Value {
            let rest = Array(String(String.UnicodeScalarView(s[i...])).utf8)
            guard let end = JSONSpan.end(of: rest) else { throw .error("invalid JSON value in --set-json") }
            let text = String(decoding: rest[0..<end], as: UTF8.self)
            do {
                let v = try JSONParser.parse(text, file: "--set-json")
                i += text.unicodeScalars.count
                return v
            } catch {
                throw .error(error.message)
            }
        }
    }
}

/// Finds where the first JSON value in a buffer ends (strings, nesting), for `--set-json`.
enum JSONSpan {
    static func end(of u: [UInt8]) -> Int? {
        var i = 0
        while i < u.count, u[i] == 32 || u[i] == 9 || u[i] == 10 { i += 1 }
        guard i < u.count else { return nil }
        var depth = 0
        var inString = false
        let start = i
        while i < u.count {
            let c = u[i]
            if inString {
                if c == 92 { i += 2; continue }
                if c == 34 { inString = false; if depth == 0 { return i + 1 } }
                i += 1; continue
            }
            switch c {
            case 34: inString = true
            case 123, 91: depth += 1
            case 125, 93:
                depth -= 1
                if depth == 0 { return i + 1 }
                if depth < 0 { return nil }
            case 44, 32, 9, 10:
                if depth == 0 { return i > start ? i : nil }
            default: break
            }
            i += 1
        }
        return depth == 0 && !inString ? u.count : nil
    }
}
