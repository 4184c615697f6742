/// Go's `text/template` built-in functions (funcs.go).
enum Builtins {
    static func fn(_ params: [TemplateParam], _ variadic: TemplateParam? = nil,
                   _ body: @escaping @Sendable ([TemplateValue]) throws -> TemplateValue) -> TemplateFunction {
        TemplateFunction(params: params, variadic: variadic) { call in try body(call.args) }
    }

    static func err(_ m: String) -> TemplateFunctionError { TemplateFunctionError(m) }

    static func map() -> FunctionMap {
        var m = FunctionMap()
        var and = TemplateFunction(params: [.any], variadic: .any) { _ in .null }
        and.special = .and
        m["and"] = and
        var or = TemplateFunction(params: [.any], variadic: .any) { _ in .null }
        or.special = .or
        m["or"] = or
        m["not"] = fn([.any]) { .bool(!$0[0].isTrue) }
        m["len"] = fn([.any]) { a in
            switch a[0] {
            case .string(let s): return .int(s.utf8.count)
            case .list(let l): return .int(l.count)
            case .map(let d): return .int(d.count)
            case .null: throw err("len of nil pointer")
            default: throw err("len of type \(a[0].goTypeName)")
            }
        }
        m["index"] = fn([.any], .any) { a in try index(a[0], Array(a.dropFirst())) }
        m["slice"] = fn([.any], .any) { a in try slice(a[0], Array(a.dropFirst())) }
        m["print"] = fn([], .any) { .string(GoFormat.sprint($0)) }
        m["println"] = fn([], .any) { .string(GoFormat.sprintln($0)) }
        m["printf"] = fn([.string], .any) { a in .string(GoFormat.sprintf(a[0].stringValue ?? "", Array(a.dropFirst()))) }
        m["html"] = fn([], .any) { .string(htmlEscape(evalArgs($0))) }
        m["js"] = fn([], .any) { .string(jsEscape(evalArgs($0))) }
        m["urlquery"] = fn([], .any) { .string(queryEscape(evalArgs($0))) }
        m["call"] = fn([.any], .any) { a in
            if case .null = a[0] { throw err("call of nil") }
            throw err("non-function \(GoFormat.v(a[0])) of type \(a[0].goTypeName)")
        }
        m["eq"] = fn([.any], .any) { a in
            if a.count < 2 { throw err("missing argument for comparison") }
            for b in a.dropFirst() where try eq(a[0], b) { return .bool(true) }
            return .bool(false)
        }
        m["ne"] = fn([.any, .any]) { a in .bool(!(try eq(a[0], a[1]))) }
        m["lt"] = fn([.any, .any]) { a in .bool(try lt(a[0], a[1])) }
        m["le"] = fn([.any, .any]) { a in .bool(try lt(a[0], a[1]) || eq(a[0], a[1])) }
        m["gt"] = fn([.any, .any]) { a in .bool(!(try lt(a[0], a[1]) || eq(a[0], a[1]))) }
        m["ge"] = fn([.any, .any]) { a in .bool(!(try lt(a[0], a[1]))) }
        return m
    }

    /// `fmt.Sprint` of the arguments, or the single string argument.
    static func evalArgs(_ a: [TemplateValue]) -> String {
        if a.count == 1, case .string(let s) = a[0] { return s }
        return GoFormat.sprint(a)
    }

    enum BasicKind { case invalid, bool, int, float, string }

    static func basicKind(_ v: TemplateValue) -> BasicKind {
        switch v {
        case .bool: return .bool
        case .int, .int64: return .int
        case .float64: return .float
        case .string: return .string
        default: return .invalid
        }
    }

    static func intOf(_ v: TemplateValue) -> Int64 {
        switch v {
        case .int(let i): return Int64(i)
        case .int64(let i): return i
        default: return 0
        }
    }

    /// Go's `eq` for one pair.
    static func eq(_ a: TemplateValue, _ b: TemplateValue) throws -> Bool {
        let k1 = basicKind(a), k2 = basicKind(b)
        if k1 != k2 {
            if !a.isNull && !b.isNull {
                throw err("incompatible types for comparison: \(a.goTypeName) and \(b.goTypeName)")
            }
            return false
        }
        // Go compares ints of different widths as intKind (Int() of both).
        switch k1 {
        case .bool:
            if case .bool(let x) = a, case .bool(let y) = b { return x == y }
        case .int:
            return intOf(a) == intOf(b)
        case .float:
            if case .float64(let x) = a, case .float64(let y) = b { return x == y }
        case .string:
            if case .string(let x) = a, case .string(let y) = b { return x == y }
        case .invalid:
            if a.isNull || b.isNull { return a.isNull == b.isNull }
            // maps, slices: not comparable in Go
            switch b {
            case .list, .map:
                throw err("non-comparable type \(GoFormat.v(b)): \(b.goTypeName)")
            default:
                if a.goTypeName != b.goTypeName {
                    throw err("non-comparable types \(GoFormat.v(a)): \(a.goTypeName), \(b.goTypeName): \(GoFormat.v(b))")
                }
                return a == b
            }
        }
        return false
    }

    /// Go's `lt`.
    static func lt(_ a: TemplateValue, _ b: TemplateValue) throws -> Bool {
        let k1 = basicKind(a), k2 = basicKind(b)
        if k1 == .invalid || k2 == .invalid { throw err("invalid type for comparison") }
        if k1 != k2 { throw err("incompatible types for comparison: \(a.goTypeName) and \(b.goTypeName)") }
        switch (a, b) {
        case let (.float64(x), .float64(y)): return x < y
        case let (.string(x), .string(y)): return Array(x.utf8).lexicographicallyPrecedes(Array(y.utf8))
        case (.bool, .bool): throw err("invalid type for comparison")
        default: return intOf(a) < intOf(b)
        }
    }

    static func indexArg(_ v: TemplateValue, cap: Int) throws -> Int {
        let x: Int64
        switch v {
        case .int(let i): x = Int64(i)
        case .int64(let i): x = i
        case .null: throw err("cannot index slice/array with nil")
        default: throw err("cannot index slice/array with type \(v.goTypeName)")
        }
        if x < 0 || x > Int64(cap) { throw err("index out of range: \(x)") }
        return Int(x)
    }

    static func index(_ item: TemplateValue, _ indexes: [TemplateValue]) throws -> TemplateValue {
        var item = item
        if case .null = item { throw err("index of untyped nil") }
        for ix in indexes {
            switch item {
            case .list(let l):
                let x = try indexArg(ix, cap: l.count)
                if x == l.count { throw err("index out of range: \(x)") }
                item = l[x]
            case .string(let s):
                let u = Array(s.utf8)
                let x = try indexArg(ix, cap: u.count)
                if x == u.count { throw err("index out of range: \(x)") }
                // Go returns a byte (uint8); we give its int value.
                item = .int(Int(u[x]))
            case .map(let m):
                guard case .string(let k) = ix else {
                    if case .null = ix { item = .null; continue }
                    throw err("value has type \(ix.goTypeName); should be string")
                }
                item = m[k] ?? .null
            case .null:
                throw err("index of nil pointer")
            default:
                throw err("can't index item of type \(item.goTypeName)")
            }
        }
        return item
    }

    static func slice(_ item: TemplateValue, _ indexes: [TemplateValue]) throws -> TemplateValue {
        if case .null = item { throw err("slice of untyped nil") }
        if indexes.count > 3 { throw err("too many slice indexes: \(indexes.count)") }
        let len: Int
        switch item {
        case .string(let s):
            if indexes.count == 3 { throw err("cannot 3-index slice a string") }
            len = s.utf8.count
        case .list(let l): len = l.count
        default: throw err("can't slice item of type \(item.goTypeName)")
        }
        var idx = [0, len, len]
        for (i, ix) in indexes.enumerated() { idx[i] = try indexArg(ix, cap: len) }
        if idx[0] > idx[1] { throw err("invalid slice index: \(idx[0]) > \(idx[1])") }
        if indexes.count == 3 && idx[1] > idx[2] { throw err("invalid slice index: \(idx[1]) > \(idx[2])") }
        switch item {
        case .string(let s):
            return .string(String(decoding: Array(s.utf8)[idx[0]..<idx[1]], as: UTF8.self))
        case .list(let l):
            return .list(Array(l[idx[0]..<idx[1]]))
        default:
            return .null
        }
    }

    static func htmlEscape(_ s: String) -> String {
        var out = ""
        out.reserveCapacity(s.utf8.count)
        for c in s.unicodeScalars {
            switch c {
            case "\u{0}": out += "\u{FFFD}"
            case "\"": out += "&#34;"
            case "'": out += "&#39;"
            case "&": out += "&amp;"
            case "<": out += "&lt;"
            case ">": out += "&gt;"
            default: out.unicodeScalars.append(c)
            }
        }
        return out
    }

    static func jsEscape(_ s: String) -> String {
        var out = ""
        let hex = Array("0123456789ABCDEF".unicodeScalars)
        for c in s.unicodeScalars {
            switch c {
            case "\\": out += "\\\\"
            case "'": out += "\\'"
            case "\"": out += "\\\""
            case "<": out += "\\u003C"
            case ">": out += "\\u003E"
            case "&": out += "\\u0026"
            case "=": out += "\\u003D"
            default:
                if c.value < 0x20 {
                    out += "\\u00"
                    out.unicodeScalars.append(hex[Int(c.value >> 4)])
                    out.unicodeScalars.append(hex[Int(c.value & 15)])
                } else if c.value >= 0x80 && !GoFormat.isGoPrint(c) {
                    var h = String(c.value, radix: 16, uppercase: true)
                    while h.count < 4 { h = "0" + h }
                    out += "\\u" + h
                } else {
                    out.unicodeScalars.append(c)
                }
            }
        }
        return out
    }

    /// Go's `url.QueryEscape`.
    static func queryEscape(_ s: String) -> String {
        var out = ""
        let hex = Array("0123456789ABCDEF".unicodeScalars)
        for b in s.utf8 {
            switch b {
            case UInt8(ascii: "a")...UInt8(ascii: "z"), UInt8(ascii: "A")...UInt8(ascii: "Z"), UInt8(ascii: "0")...UInt8(ascii: "9"),
                 UInt8(ascii: "-"), UInt8(ascii: "_"), UInt8(ascii: "."), UInt8(ascii: "~"):
                out.unicodeScalars.append(Unicode.Scalar(b))
            case UInt8(ascii: " "):
                out += "+"
            default:
                out += "%"
                out.unicodeScalars.append(hex[Int(b >> 4)])
                out.unicodeScalars.append(hex[Int(b & 15)])
            }
        }
        return out
    }
}
