import PatternCore

/// Base64 (RFC 4648, standard alphabet, padded), as the API stores Secret `data`.
public enum Base64 {
    static let alphabet: [UInt8] = Array("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/".utf8)
    static let decodeTable: [Int8] = {
        var t = [Int8](repeating: -1, count: 256)
        for (i, c) in alphabet.enumerated() { t[Int(c)] = Int8(i) }
        return t
    }()

    public static func encode<S: Sequence>(_ bytes: S) -> String where S.Element == UInt8 {
        let b = Array(bytes)
        var out: [UInt8] = []
        out.reserveCapacity((b.count + 2) / 3 * 4)
        var i = 0
        while i + 2 < b.count {
            let n = UInt32(b[i]) << 16 | UInt32(b[i + 1]) << 8 | UInt32(b[i + 2])
            out += [alphabet[Int(n >> 18 & 63)], alphabet[Int(n >> 12 & 63)], alphabet[Int(n >> 6 & 63)], alphabet[Int(n & 63)]]
            i += 3
        }
        let rest = b.count - i
        if rest == 1 {
            let n = UInt32(b[i]) << 16
            out += [alphabet[Int(n >> 18 & 63)], alphabet[Int(n >> 12 & 63)], 61, 61]
        } else if rest == 2 {
            let n = UInt32(b[i]) << 16 | UInt32(b[i + 1]) << 8
            out += [alphabet[Int(n >> 18 & 63)], alphabet[Int(n >> 12 & 63)], alphabet[Int(n >> 6 & 63)], 61]
        }
        return String(decoding: out, as: UTF8.self)
    }

    /// Decodes padded or unpadded standard base64; nil on any invalid character.
    public static func decode(_ s: String) -> [UInt8]? {
        var out: [UInt8] = []
        var acc: UInt32 = 0
        var bits = 0
        for c in s.utf8 {
            if c == 61 { break }
            if c == 10 || c == 13 { continue }
            let v = decodeTable[Int(c)]
            if v < 0 { return nil }
            acc = acc << 6 | UInt32(v)
            bits += 6
            if bits >= 8 {
                bits -= 8
                out.append(UInt8(truncatingIfNeeded: acc >> UInt32(bits)))
            }
        }
        return out
    }
}

/// Secret handling for diffs: values never leave as text, only fingerprints.
public enum SecretRedaction {
    /// `sha256:<first 12 hex>` of the decoded bytes of a base64 `data` value (of the string
    /// itself when it is not valid base64).
    public static func fingerprint(base64 value: String) -> String {
        let bytes = Base64.decode(value) ?? Array(value.utf8)
        return "sha256:" + String(SHA256.hex(bytes).prefix(12))
    }

    public static func isSecret(_ obj: Value) -> Bool {
        obj.kindName == "Secret" && (obj.apiVersion ?? "v1") == "v1"
    }

    /// Moves `stringData` into `data` (base64), as the API server does on write.
    public static func foldStringData(_ obj: Value) -> Value {
        guard isSecret(obj), let sd = obj["stringData"]?.object else { return obj }
        var out = obj
        var data = obj["data"]?.object ?? Object()
        for (k, v) in sd { data[k] = .string(Base64.encode(Array((v.scalarText ?? "").utf8))) }
        out["stringData"] = nil
        out["data"] = .object(data)
        return out
    }

    /// Replaces every `data`/`stringData` value of a Secret by its fingerprint.
    public static func redact(_ obj: Value) -> Value {
        guard isSecret(obj) else { return obj }
        var out = obj
        for field in ["data", "stringData"] {
            guard let o = obj[field]?.object else { continue }
            var r = Object()
            for (k, v) in o {
                let s = v.scalarText ?? ""
                let b64 = field == "data" ? s : Base64.encode(Array(s.utf8))
                r.append(k, .string(fingerprint(base64: b64)))
            }
            out[field] = .object(r)
        }
        return out
    }

    /// Redacts a single value found at `path` in a Secret (for field-change lists).
    static func redact(_ v: Value?, at path: FieldPath, field: String = "data") -> Value? {
        guard let v else { return nil }
        let names = path.fieldNames
        guard let first = names.first, first == "data" || first == "stringData" else { return v }
        if names.count == 1, let o = v.object {
            var r = Object()
            for (k, x) in o { r.append(k, .string(fingerprint(base64: first == "data" ? (x.scalarText ?? "") : Base64.encode(Array((x.scalarText ?? "").utf8))))) }
            return .object(r)
        }
        let s = v.scalarText ?? JSONWriter.string(v)
        return .string(fingerprint(base64: first == "data" ? s : Base64.encode(Array(s.utf8))))
    }
}
