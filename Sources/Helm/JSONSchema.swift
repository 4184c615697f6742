import PatternCore

/// A compact JSON Schema draft-07 validator for `values.schema.json`, as Helm validates the
/// final values of each chart: types, `required`, `properties`, `additionalProperties`,
/// `patternProperties`, `propertyNames`, `dependencies`, `items`/`additionalItems`,
/// `contains`, `uniqueItems`, `enum`, `const`, numeric and length bounds, `multipleOf`,
/// `pattern`, basic `format`s, `allOf`/`anyOf`/`oneOf`/`not`, `if`/`then`/`else`, and
/// `$ref` to the same document (`#`, `#/definitions/…`, `#/$defs/…`). Messages follow the
/// wording Helm users know from gojsonschema.
public struct JSONSchemaValidator: Sendable {
    /// One violation: the dotted path in the values (`(root)` for the top) and what is wrong.
    public struct Violation: Sendable, Hashable, CustomStringConvertible {
        public var path: [String]
        public var message: String
        /// The offending value's position in the file that set it, when known.
        public var mark: Mark
        public var field: String { path.isEmpty ? "(root)" : path.joined(separator: ".") }
        public var description: String { "\(field): \(message)" }
    }

    public let schema: Value
    /// Deepest `$ref`/subschema nesting followed before giving up (cyclic references).
    public var maxDepth: Int = 64

    public init(schema: Value) { self.schema = schema }

    /// Checks the schema itself for what this validator cannot follow (remote `$ref`s,
    /// invalid `pattern`s); nil when it is usable.
    public func problems() -> String? {
        var found: String? = nil
        func walk(_ s: Value, _ depth: Int) {
            if found != nil || depth > 200 { return }
            if let o = s.object {
                if let r = o["$ref"]?.string, !r.hasPrefix("#") { found = "remote $ref \"\(r)\" is not supported"; return }
                if let p = o["pattern"]?.string, (try? Regex(p)) == nil { found = "invalid pattern \"\(p)\""; return }
                for (_, v) in o { walk(v, depth + 1) }
            } else if let a = s.array {
                for v in a { walk(v, depth + 1) }
            }
        }
        walk(schema, 0)
        return found
    }

    /// Every violation of `value`.
    public func validate(_ value: Value) -> [Violation] {
        var out: [Violation] = []
        check(value, schema, path: [], depth: 0, into: &out)
        return out
    }

    func resolve(_ ref: String) -> Value? {
        guard ref.hasPrefix("#") else { return nil }
        var cur = schema
        let pointer = ref.dropFirst()
        if pointer.isEmpty { return cur }
        guard pointer.hasPrefix("/") else { return nil }
        for raw in pointer.dropFirst().split(separator: "/", omittingEmptySubsequences: false) {
            let token = String(raw).replacingOccurrences("~1", "/").replacingOccurrences("~0", "~").percentDecoded
            if let o = cur.object { guard let n = o[token] else { return nil }; cur = n }
            else if let a = cur.array, let i = Int(token), i >= 0, i < a.count { cur = a[i] }
            else { return nil }
        }
        return cur
    }

    func check(_ v: Value, _ s: Value, path: [String], depth: Int, into out: inout [Violation]) {
        func fail(_ m: String) { out.append(Violation(path: path, message: m, mark: v.mark)) }
        if let b = s.bool { if !b { fail("False always fails validation") }; return }
        guard let o = s.object else { return }
        if depth > maxDepth { fail("schema nesting is deeper than \(maxDepth) (cyclic $ref?)"); return }
        if let ref = o["$ref"]?.string {
            // draft-07: $ref makes sibling keywords ignored.
            guard let target = resolve(ref) else { fail("cannot resolve $ref \"\(ref)\""); return }
            check(v, target, path: path, depth: depth + 1, into: &out)
            return
        }

        // type
        if let t = o["type"] {
            let types = t.array?.compactMap(\.string) ?? t.string.map { [$0] } ?? []
            if !types.isEmpty && !types.contains(where: { JSONSchemaValidator.hasType(v, $0) }) {
                fail("Invalid type. Expected: \(types.joined(separator: ", ")), given: \(JSONSchemaValidator.typeName(v))")
                return
            }
        }
        if let e = o["enum"]?.array, !e.contains(v) {
            fail("\(path.last ?? "(root)") must be one of the following: \(e.map { JSONWriter.string($0) }.joined(separator: ", "))")
        }
        if let c = o["const"], c != v { fail("\(path.last ?? "(root)") does not match: \(JSONWriter.string(c))") }

        if let n = v.number, !(v.bool != nil) {
            if let m = o["minimum"]?.number, n < m { fail("Must be greater than or equal to \(fmt(m))") }
            if let m = o["maximum"]?.number, n > m { fail("Must be less than or equal to \(fmt(m))") }
            if let m = o["exclusiveMinimum"]?.number, n <= m { fail("Must be greater than \(fmt(m))") }
            if let m = o["exclusiveMaximum"]?.number, n >= m { fail("Must be less than \(fmt(m))") }
            if let m = o["multipleOf"]?.number, m > 0 {
                let q = n / m
                if q.rounded() != q { fail("Must be a multiple of \(fmt(m))") }
            }
        }
        if let str = v.string {
            let len = str.unicodeScalars.count
            if let m = o["minLength"]?.number, Double(len) < m { fail("String length must be greater than or equal to \(fmt(m))") }
            if let m = o["maxLength"]?.number, Double(len) > m { fail("String length must be less than or equal to \(fmt(m))") }
            if let p = o["pattern"]?.string, let re = try? Regex(p), (try? re.firstMatch(in: str)) == nil {
                fail("Does not match pattern '\(p)'")
            }
            if let f = o["format"]?.string, !JSONSchemaValidator.checkFormat(f, str) { fail("Does not match format '\(f)'") }
        }
        if let a = v.array {
            if let m = o["minItems"]?.number, Double(a.count) < m { fail("Array must have at least \(fmt(m)) items") }
            if let m = o["maxItems"]?.number, Double(a.count) > m { fail("Array must have at most \(fmt(m)) items") }
            if o["uniqueItems"]?.bool == true, Set(a).count != a.count { fail("array items must be unique") }
            if let items = o["items"] {
                if let tuple = items.array {
                    for (i, x) in a.enumerated() {
                        if i < tuple.count { check(x, tuple[i], path: path + [String(i)], depth: depth + 1, into: &out) }
                        else if let add = o["additionalItems"] {
                            if add.bool == false { fail("No additional items allowed on array"); break }
                            check(x, add, path: path + [String(i)], depth: depth + 1, into: &out)
                        }
                    }
                } else {
                    for (i, x) in a.enumerated() { check(x, items, path: path + [String(i)], depth: depth + 1, into: &out) }
                }
            }
            if let c = o["contains"] {
                let ok = a.contains { x in var tmp: [Violation] = []; check(x, c, path: path, depth: depth + 1, into: &tmp); return tmp.isEmpty }
                if !ok { fail("At least one of the items must match") }
            }
        }
        if let obj = v.object {
            if let m = o["minProperties"]?.number, Double(obj.count) < m { fail("Must have at least \(fmt(m)) properties") }
            if let m = o["maxProperties"]?.number, Double(obj.count) > m { fail("Must have at most \(fmt(m)) properties") }
            if let req = o["required"]?.array {
                for r in req { if let k = r.string, obj[k] == nil { fail("\(k) is required") } }
            }
            let props = o["properties"]?.object ?? Object()
            let patterns: [(Regex<AnyRegexOutput>, Value)] = (o["patternProperties"]?.object ?? Object()).compactMap { k, sv in
                (try? Regex(k)).map { ($0, sv) }
            }
            for (k, x) in obj {
                var matched = false
                if let ps = props[k] { matched = true; check(x, ps, path: path + [k], depth: depth + 1, into: &out) }
                for (re, ps) in patterns where (try? re.firstMatch(in: k)) != nil {
                    matched = true
                    check(x, ps, path: path + [k], depth: depth + 1, into: &out)
                }
                if !matched, let add = o["additionalProperties"] {
                    if add.bool == false {
                        out.append(Violation(path: path, message: "Additional property \(k) is not allowed", mark: obj.keyMark(k) ?? x.mark))
                    } else {
                        check(x, add, path: path + [k], depth: depth + 1, into: &out)
                    }
                }
                if let pn = o["propertyNames"] {
                    var tmp: [Violation] = []
                    check(Value(.string(k)), pn, path: path + [k], depth: depth + 1, into: &tmp)
                    if !tmp.isEmpty { fail("Property name \(k) does not match the schema") }
                }
            }
            if let deps = o["dependencies"]?.object {
                for (k, d) in deps where obj[k] != nil {
                    if let names = d.array {
                        for n in names { if let n = n.string, obj[n] == nil { fail("Has a dependency on \(n)") } }
                    } else {
                        check(v, d, path: path, depth: depth + 1, into: &out)
                    }
                }
            }
        }

        // combinators
        func passes(_ sub: Value) -> Bool { var tmp: [Violation] = []; check(v, sub, path: path, depth: depth + 1, into: &tmp); return tmp.isEmpty }
        if let all = o["allOf"]?.array {
            var tmp: [Violation] = []
            for sub in all { check(v, sub, path: path, depth: depth + 1, into: &tmp) }
            if !tmp.isEmpty { out += tmp; fail("Must validate all the schemas (allOf)") }
        }
        if let any = o["anyOf"]?.array, !any.contains(where: passes) { fail("Must validate at least one schema (anyOf)") }
        if let one = o["oneOf"]?.array, one.filter(passes).count != 1 { fail("Must validate one and only one schema (oneOf)") }
        if let not = o["not"], passes(not) { fail("Must not validate the schema (not)") }
        if let cond = o["if"] {
            if passes(cond) {
                if let t = o["then"] { var tmp: [Violation] = []; check(v, t, path: path, depth: depth + 1, into: &tmp)
                    if !tmp.isEmpty { out += tmp; fail("Must validate \"then\" as \"if\" was valid") } }
            } else if let e = o["else"] {
                var tmp: [Violation] = []; check(v, e, path: path, depth: depth + 1, into: &tmp)
                if !tmp.isEmpty { out += tmp; fail("Must validate \"else\" as \"if\" was not valid") }
            }
        }
    }

    func fmt(_ d: Double) -> String { YAMLScalar.format(d) }

    static func hasType(_ v: Value, _ t: String) -> Bool {
        switch (t, v.kind) {
        case ("null", .null), ("boolean", .bool), ("string", .string), ("array", .array), ("object", .object): return true
        case ("number", .int), ("number", .double), ("integer", .int): return true
        case ("integer", .double(let d)): return d.rounded() == d && d.isFinite
        default: return false
        }
    }

    static func typeName(_ v: Value) -> String {
        switch v.kind {
        case .null: return "null"
        case .bool: return "boolean"
        case .int: return "integer"
        case .double(let d): return d.rounded() == d && d.isFinite ? "integer" : "number"
        case .string: return "string"
        case .array: return "array"
        case .object: return "object"
        }
    }

    static func checkFormat(_ f: String, _ s: String) -> Bool {
        let u = Array(s.utf8)
        func digits(_ r: Range<Int>) -> Bool { r.upperBound <= u.count && u[r].allSatisfy { $0 >= 48 && $0 <= 57 } }
        switch f {
        case "date":
            return u.count == 10 && digits(0..<4) && u[4] == 45 && digits(5..<7) && u[7] == 45 && digits(8..<10)
        case "date-time":
            guard u.count >= 20, checkFormat("date", String(decoding: u[0..<10], as: UTF8.self)) else { return false }
            guard u[10] == 84 || u[10] == 116, digits(11..<13), u[13] == 58, digits(14..<16), u[16] == 58, digits(17..<19) else { return false }
            return u.last == 90 || u.last == 122 || u[19...].contains(43) || u[19...].contains(45)
        case "email", "idn-email":
            let parts = s.split(separator: "@", omittingEmptySubsequences: false)
            return parts.count == 2 && !parts[0].isEmpty && !parts[1].isEmpty
        case "hostname", "idn-hostname":
            return !s.isEmpty && s.utf8.count <= 253 && s.split(separator: ".", omittingEmptySubsequences: false).allSatisfy { l in
                !l.isEmpty && l.utf8.count <= 63 && l.first != "-" && l.last != "-" && l.allSatisfy { $0.isLetter || $0.isNumber || $0 == "-" }
            }
        case "ipv4":
            let p = s.split(separator: ".", omittingEmptySubsequences: false)
            return p.count == 4 && p.allSatisfy { !$0.isEmpty && $0.count <= 3 && $0.allSatisfy(\.isASCIIDigit) && Int($0)! <= 255 && !($0.count > 1 && $0.first == "0") }
        case "ipv6":
            return s.contains(":") && s.allSatisfy { $0.isHexDigit || $0 == ":" || $0 == "." } && s.split(separator: ":", omittingEmptySubsequences: false).count <= 8
        case "uri", "iri":
            guard let colon = s.firstIndex(of: ":"), colon != s.startIndex else { return false }
            return s[..<colon].allSatisfy { $0.isLetter || $0.isNumber || $0 == "+" || $0 == "-" || $0 == "." } && s.first!.isLetter
        default:
            return true  // unknown formats are annotations only
        }
    }
}

extension String {
    func replacingOccurrences(_ a: String, _ b: String) -> String {
        guard contains(a) else { return self }
        return replacing(a, with: b)
    }

    var percentDecoded: String {
        guard contains("%") else { return self }
        var out: [UInt8] = []
        let u = Array(utf8)
        var i = 0
        while i < u.count {
            if u[i] == 37, i + 2 < u.count, let h = UInt8(String(decoding: u[(i + 1)...(i + 2)], as: UTF8.self), radix: 16) {
                out.append(h); i += 3
            } else { out.append(u[i]); i += 1 }
        }
        return String(decoding: out, as: UTF8.self)
    }
}
