import PatternCore

/// The content-hash name suffix Kustomize appends to generated ConfigMaps and Secrets
/// (sigs.k8s.io/kustomize/api/hasher).
///
/// A ConfigMap hashes the Go `json.Marshal` encoding of `{"kind", "name", "data"}` (plus
/// `binaryData` when it is a map); a Secret of `{"kind", "name", "type", "data"}` (plus
/// `stringData`). Missing fields encode as `""`. Kustomize looks the name up with a single
/// path segment `metadata/name`, which never matches, so `"name"` is always `""` — the
/// suffix depends on the content only (verified against `kubectl kustomize` v5.5.0). The first 10 hex digits of the SHA-256 of
/// that text are kept, with `0 1 3 a e` mapped to `g h k m t` so the suffix never looks like a
/// number or a word.
public enum GeneratorHash {
    public static func suffix(for object: Value) -> String {
        var m = Object()
        func field(_ key: String) -> Value {
            guard let v = object[key] else { return .string("") }
            return v
        }
        switch object.kindName {
        case "Secret":
            m["kind"] = "Secret"
            m["type"] = field("type")
            m["name"] = ""
            m["data"] = field("data")
            if let sd = object["stringData"], sd.object != nil { m["stringData"] = sd }
        default:
            m["kind"] = .string(object.kindName ?? "ConfigMap")
            m["name"] = ""
            m["data"] = field("data")
            if let bd = object["binaryData"], bd.object != nil { m["binaryData"] = bd }
        }
        var out: [UInt8] = []
        out.reserveCapacity(256)
        goJSON(.object(m), into: &out)
        return encode(SHA256.hex(out))
    }

    static func encode(_ hex: String) -> String {
        var s = ""
        for c in hex.prefix(10) {
            switch c {
            case "0": s.append("g")
            case "1": s.append("h")
            case "3": s.append("k")
            case "a": s.append("m")
            case "e": s.append("t")
            default: s.append(c)
            }
        }
        return s
    }

    /// Go `encoding/json` output: sorted map keys, HTML-safe escaping, no spaces.
    static func goJSON(_ v: Value, into out: inout [UInt8]) {
        switch v.kind {
        case .null: out.append(contentsOf: "null".utf8)
        case .bool(let b): out.append(contentsOf: (b ? "true" : "false").utf8)
        case .int(let i): out.append(contentsOf: String(i).utf8)
        case .double(let d): out.append(contentsOf: YAMLScalar.format(d).utf8)
        case .string(let s): goString(s, into: &out)
        case .array(let a):
            out.append(UInt8(ascii: "["))
            for (i, x) in a.enumerated() {
                if i > 0 { out.append(UInt8(ascii: ",")) }
                goJSON(x, into: &out)
            }
            out.append(UInt8(ascii: "]"))
        case .object(let o):
            out.append(UInt8(ascii: "{"))
            let keys = o.keys.sorted { $0.utf8.lexicographicallyPrecedes($1.utf8) }
            for (i, k) in keys.enumerated() {
                if i > 0 { out.append(UInt8(ascii: ",")) }
                goString(k, into: &out)
                out.append(UInt8(ascii: ":"))
                goJSON(o[k]!, into: &out)
            }
            out.append(UInt8(ascii: "}"))
        }
    }

    static func goString(_ s: String, into out: inout [UInt8]) {
        let hex = Array("0123456789abcdef".utf8)
        out.append(UInt8(ascii: "\""))
        for sc in s.unicodeScalars {
            switch sc.value {
            case 0x22: out.append(contentsOf: "\\\"".utf8)
            case 0x5C: out.append(contentsOf: "\\\\".utf8)
            case 0x0A: out.append(contentsOf: "\\n".utf8)
            case 0x0D: out.append(contentsOf: "\\r".utf8)
            case 0x09: out.append(contentsOf: "\\t".utf8)
            case 0x08: out.append(contentsOf: "\\b".utf8)
            case 0x0C: out.append(contentsOf: "\\f".utf8)
            case 0..<0x20, 0x3C, 0x3E, 0x26:
                out.append(contentsOf: "\\u00".utf8)
                out.append(hex[Int(sc.value >> 4)]); out.append(hex[Int(sc.value & 0xF)])
            case 0x2028: out.append(contentsOf: "\\u2028".utf8)
            case 0x2029: out.append(contentsOf: "\\u2029".utf8)
            default: out.append(contentsOf: String(sc).utf8)
            }
        }
        out.append(UInt8(ascii: "\""))
    }
}

