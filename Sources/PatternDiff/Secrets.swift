import PatternCore

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
