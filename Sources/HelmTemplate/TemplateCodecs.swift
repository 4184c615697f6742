import PatternCore

/// `toYaml`/`toJson`/`toToml` and `fromYaml`/`fromJson` as Helm computes them
/// (sigs.k8s.io/yaml, encoding/json, BurntSushi/toml).
public enum TemplateCodecs {
    struct Unsupported: Error { var message: String }

    // MARK: JSON (encoding/json)

    /// `json.Marshal` (sorted keys, `<>&` escaped as `\u003c` etc.); "" when Go's encoder fails (NaN, ±Inf).
    public static func toJSON(_ v: TemplateValue, indent: String = "", escapeHTML: Bool = true) -> String {
        var out = ""
        do {
            try writeJSON(v, indent: indent, level: 0, escapeHTML: escapeHTML, depth: 0, into: &out)
        } catch {
            return ""
        }
        return out
    }

    static func writeJSON(_ v: TemplateValue, indent: String, level: Int, escapeHTML: Bool, depth: Int, into out: inout String) throws {
        if depth > 256 { throw Unsupported(message: "json: unsupported value: encountered a cycle") }
        func nl(_ l: Int) {
            guard !indent.isEmpty else { return }
            out += "\n"
            for _ in 0..<l { out += indent }
        }
        switch v {
        case .null: out += "null"
        case .bool(let b): out += b ? "true" : "false"
        case .int(let i): out += String(i)
        case .int64(let i): out += String(i)
        case .float64(let d):
            guard d.isFinite else { throw Unsupported(message: "json: unsupported value: \(GoFormat.v(v))") }
            out += GoFormat.jsonFloat(d)
        case .string(let s): writeJSONString(s, escapeHTML: escapeHTML, into: &out)
        case .list(let l):
            if l.isEmpty { out += "[]"; return }
            out += "["
            for (n, e) in l.enumerated() {
                if n > 0 { out += "," }
                nl(level + 1)
                try writeJSON(e, indent: indent, level: level + 1, escapeHTML: escapeHTML, depth: depth + 1, into: &out)
            }
            nl(level)
            out += "]"
        case .map(let m):
            let entries = m.sortedEntries
            if entries.isEmpty { out += "{}"; return }
            out += "{"
            for (n, (k, x)) in entries.enumerated() {
                if n > 0 { out += "," }
                nl(level + 1)
                writeJSONString(k, escapeHTML: escapeHTML, into: &out)
                out += indent.isEmpty ? ":" : ": "
                try writeJSON(x, indent: indent, level: level + 1, escapeHTML: escapeHTML, depth: depth + 1, into: &out)
            }
            nl(level)
            out += "}"
        case .object(let o):
            if let d = o.dataValue {
                try writeJSON(d, indent: indent, level: level, escapeHTML: escapeHTML, depth: depth + 1, into: &out)
            } else {
                out += "{}"
            }
        }
    }

    static func writeJSONString(_ s: String, escapeHTML: Bool, into out: inout String) {
        out += "\""
        let hex = Array("0123456789abcdef".unicodeScalars)
        for c in s.unicodeScalars {
            switch c {
            case "\"": out += "\\\""
            case "\\": out += "\\\\"
            case "\n": out += "\\n"
            case "\r": out += "\\r"
            case "\t": out += "\\t"
            case "\u{08}": out += "\\b"
            case "\u{0C}": out += "\\f"
            case "<", ">", "&":
                if escapeHTML {
                    out += "\\u00"
                    out.unicodeScalars.append(hex[Int(c.value >> 4)])
                    out.unicodeScalars.append(hex[Int(c.value & 15)])
                } else {
                    out.unicodeScalars.append(c)
                }
            case "\u{2028}": out += "\\u2028"
            case "\u{2029}": out += "\\u2029"
            default:
                if c.value < 0x20 {
                    out += "\\u00"
                    out.unicodeScalars.append(hex[Int(c.value >> 4)])
                    out.unicodeScalars.append(hex[Int(c.value & 15)])
                } else {
                    out.unicodeScalars.append(c)
                }
            }
        }
        out += "\""
    }

    /// Helm's `fromJson`: a map (numbers as float64); on failure `{"Error": message}`.
    public static func fromJSON(_ s: String) -> TemplateValue {
        do {
            let v = try JSONParser.parse(s, file: "fromJson")
            guard case .object = v.kind else {
                return .dict(["Error": .string("json: cannot unmarshal \(jsonKindName(v)) into Go value of type map[string]interface {}")])
            }
            return TemplateValue(helmValues: v)
        } catch {
            return .dict(["Error": .string(error.message)])
        }
    }

    /// Helm's `fromJsonArray`: a list; on failure a one-element list holding the message.
    public static func fromJSONArray(_ s: String) -> TemplateValue {
        do {
            let v = try JSONParser.parse(s, file: "fromJsonArray")
            guard case .array = v.kind else {
                return .list([.string("json: cannot unmarshal \(jsonKindName(v)) into Go value of type []interface {}")])
            }
            return TemplateValue(helmValues: v)
        } catch {
            return .list([.string(error.message)])
        }
    }

    static func jsonKindName(_ v: Value) -> String {
        switch v.kind {
        case .null: return "null"
        case .bool: return "bool"
        case .int, .double: return "number"
        case .string: return "string"
        case .array: return "array"
        case .object: return "object"
        }
    }

    // MARK: YAML (sigs.k8s.io/yaml)

    /// Converts to the data `json.Marshal` + `yaml.JSONToYAML` would see: integral floats become
    /// integers (their JSON text has no `.`), objects their data.
    static func jsonRoundTrip(_ v: TemplateValue, depth: Int) throws -> Value {
        if depth > 256 { throw Unsupported(message: "json: unsupported value: encountered a cycle") }
        switch v {
        case .null: return .null
        case .bool(let b): return .bool(b)
        case .int(let i): return .int(i)
        case .int64(let i): return .int(Int(i))
        case .float64(let d):
            guard d.isFinite else { throw Unsupported(message: "json: unsupported value: \(GoFormat.v(v))") }
            let text = GoFormat.jsonFloat(d)
            if !text.contains("."), !text.contains("e"), let i = Int(text) { return .int(i) }
            return .double(d)
        case .string(let s): return .string(s)
        case .list(let l): return .array(try l.map { try jsonRoundTrip($0, depth: depth + 1) })
        case .map(let m):
            var o = Object()
            let entries = m.sortedEntries
            o.reserveCapacity(entries.count)
            for (k, x) in entries { o[k] = try jsonRoundTrip(x, depth: depth + 1) }
            return .object(o)
        case .object(let obj):
            if let d = obj.dataValue { return try jsonRoundTrip(d, depth: depth + 1) }
            return .emptyObject
        }
    }

    /// Helm's `toYaml`: sigs.k8s.io/yaml output (keys sorted, go-yaml v2 layout) without the
    /// final newline; "" when the value cannot be encoded.
    public static func toYAML(_ v: TemplateValue) -> String {
        if let fast = FastYAML.toYAML(v) { return fast }
        return toYAMLGeneral(v)
    }

    /// `toYAML` through `PatternCore.Value` and `YAMLEmitter` (every value; `FastYAML` covers the common ones).
    static func toYAMLGeneral(_ v: TemplateValue) -> String {
        guard let data = try? jsonRoundTrip(v, depth: 0) else { return "" }
        // jsonRoundTrip already inserted the keys in sorted order.
        var s = YAMLEmitter(options: .init(sortKeys: false)).emit(data)
        if s.hasSuffix("\n") { s.removeLast() }
        return s
    }

    /// Helm's `fromYaml`: a map (numbers as float64, as sigs.k8s.io/yaml's JSON step gives);
    /// on failure `{"Error": message}`.
    public static func fromYAML(_ s: String) -> TemplateValue {
        do {
            let docs = try YAMLParser.parseStream(s, file: "fromYaml")
            guard let v = docs.first?.value else { return .dict([:]) }
            switch v.kind {
            case .object: return TemplateValue(helmValues: v)
            case .null: return .dict([:])
            default:
                return .dict(["Error": .string("error unmarshaling JSON: while decoding JSON: json: cannot unmarshal \(jsonKindName(v)) into Go value of type map[string]interface {}")])
            }
        } catch {
            return .dict(["Error": .string("error converting YAML to JSON: yaml: \(error.message)")])
        }
    }

    /// Helm's `fromYamlArray`: a list; on failure a one-element list holding the message.
    public static func fromYAMLArray(_ s: String) -> TemplateValue {
        do {
            let docs = try YAMLParser.parseStream(s, file: "fromYamlArray")
            guard let v = docs.first?.value else { return .list([]) }
            switch v.kind {
            case .array: return TemplateValue(helmValues: v)
            case .null: return .list([])
            default:
                return .list([.string("error unmarshaling JSON: while decoding JSON: json: cannot unmarshal \(jsonKindName(v)) into Go value of type []interface {}")])
            }
        } catch {
            return .list([.string("error converting YAML to JSON: yaml: \(error.message)")])
        }
    }

    // MARK: TOML (BurntSushi/toml encoder)

    /// Helm's `toToml`; the encoder's error text when the value cannot be encoded.
    public static func toTOML(_ v: TemplateValue) -> String {
        guard case .map(let m) = v else { return "toml: top-level values must be Go maps or structs" }
        var out = ""
        var hasWritten = false
        do {
            try tomlTable(m, key: [], out: &out, hasWritten: &hasWritten, depth: 0)
        } catch {
            return (error as? Unsupported)?.message ?? "\(error)"
        }
        return out
    }

    static func tomlKey(_ k: String) -> String {
        if !k.isEmpty && k.utf8.allSatisfy({ ($0 >= 48 && $0 <= 57) || ($0 >= 65 && $0 <= 90) || ($0 >= 97 && $0 <= 122) || $0 == 95 || $0 == 45 }) {
            return k
        }
        return tomlString(k)
    }

    static func tomlString(_ s: String) -> String {
        var out = "\""
        for c in s.unicodeScalars {
            switch c {
            case "\"": out += "\\\""
            case "\\": out += "\\\\"
            case "\u{08}": out += "\\b"
            case "\t": out += "\\t"
            case "\n": out += "\\n"
            case "\u{0C}": out += "\\f"
            case "\r": out += "\\r"
            default:
                if c.value < 0x20 || c.value == 0x7F {
                    var h = String(c.value, radix: 16)
                    while h.count < 4 { h = "0" + h }
                    out += "\\u" + h
                } else {
                    out.unicodeScalars.append(c)
                }
            }
        }
        return out + "\""
    }

    static func isTable(_ v: TemplateValue) -> Bool {
        switch v {
        case .map: return true
        case .list(let l): return !l.isEmpty && l.allSatisfy { if case .map = $0 { return true } else { return false } }
        default: return false
        }
    }

    static func tomlValue(_ v: TemplateValue, depth: Int) throws -> String {
        if depth > 256 { throw Unsupported(message: "toml: value nested too deeply") }
        switch v {
        case .null: throw Unsupported(message: "toml: cannot encode array with nil element")
        case .bool(let b): return b ? "true" : "false"
        case .int(let i): return String(i)
        case .int64(let i): return String(i)
        case .float64(let d):
            if d.isNaN { return "nan" }
            if d.isInfinite { return d > 0 ? "inf" : "-inf" }
            var s = GoFormat.formatFloat(d, fmt: "f", prec: -1)
            if !s.contains(".") { s += ".0" }
            return s
        case .string(let s): return tomlString(s)
        case .list(let l): return "[" + (try l.map { try tomlValue($0, depth: depth + 1) }).joined(separator: ", ") + "]"
        case .map(let m):
            return "{" + (try m.sortedEntries.filter { !$0.value.isNull }.map { "\(tomlKey($0.key)) = \(try tomlValue($0.value, depth: depth + 1))" }).joined(separator: ", ") + "}"
        case .object(let o):
            return try tomlValue(o.dataValue ?? .dict([:]), depth: depth + 1)
        }
    }

    static func tomlTable(_ m: TemplateMap, key: [String], out: inout String, hasWritten: inout Bool, depth: Int) throws {
        if depth > 100 { throw Unsupported(message: "toml: value nested too deeply") }
        let entries = m.sortedEntries
        let indent = String(repeating: "  ", count: max(key.count - 0, 0))
        let keyIndent = String(repeating: "  ", count: key.count)
        _ = indent
        for (k, v) in entries where !isTable(v) && !v.isNull {
            out += keyIndent + tomlKey(k) + " = " + (try tomlValue(v, depth: depth + 1)) + "\n"
            hasWritten = true
        }
        for (k, v) in entries where isTable(v) {
            let sub = key + [k]
            let header = sub.map(tomlKey).joined(separator: ".")
            let hIndent = String(repeating: "  ", count: sub.count - 1)
            switch v {
            case .map(let sm):
                if sub.count == 1 && hasWritten { out += "\n" }
                out += hIndent + "[" + header + "]\n"
                hasWritten = true
                try tomlTable(sm, key: sub, out: &out, hasWritten: &hasWritten, depth: depth + 1)
            case .list(let l):
                for e in l {
                    if case .map(let sm) = e {
                        if hasWritten { out += "\n" }
                        out += hIndent + "[[" + header + "]]\n"
                        hasWritten = true
                        try tomlTable(sm, key: sub, out: &out, hasWritten: &hasWritten, depth: depth + 1)
                    }
                }
            default: break
            }
        }
    }
}
