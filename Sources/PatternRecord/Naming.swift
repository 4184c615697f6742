import PatternCore

/// Labels, annotations and names pattern puts on cluster objects.
public enum Ownership {
    public static let managedByLabel = LabelKeys.managedBy
    public static let managedByValue = LabelKeys.managedByValue
    public static let siteLabel = LabelKeys.site
    public static let patternLabel = LabelKeys.pattern
    /// On every applied object: `<pattern>.<site>` (hashed when too long); LIST selects by it.
    public static let ownerLabel = LabelKeys.owner
    /// On inventory shards: which inventory they belong to (same value as the owner label).
    public static let inventoryLabel = "pattern.dev/inventory"
    /// On ledger ConfigMaps.
    public static let ledgerLabel = "pattern.dev/ledger"

    /// kubectl ApplySet (KEP-3659) keys, so other tools can see what the inventory holds.
    public static let applySetIDLabel = "applyset.kubernetes.io/id"
    public static let applySetPartOfLabel = "applyset.kubernetes.io/part-of"
    public static let applySetToolingAnnotation = "applyset.kubernetes.io/tooling"
    public static let applySetGroupKindsAnnotation = "applyset.kubernetes.io/contains-group-kinds"
    public static let toolingValue = "pattern/v1"

    /// The owner label value for (pattern, site): `pattern.site`, made a valid label value.
    public static func ownerValue(pattern: String, site: String) -> String {
        labelValue("\(pattern).\(site)")
    }

    /// Makes `s` a valid label value (≤ 63 characters of `[A-Za-z0-9._-]`, alphanumeric at both
    /// ends). Values that had to change or were too long get a 10-hex SHA-256 suffix of the
    /// original, so distinct inputs stay distinct.
    public static func labelValue(_ s: String) -> String {
        if isValidLabelValue(s) { return s }
        var cleaned = String(s.map { c -> Character in
            (c.isASCII && (c.isLetter || c.isNumber || c == "-" || c == "_" || c == ".")) ? c : "-"
        })
        let hash = String(SHA256.hex(s).prefix(10))
        cleaned = String(cleaned.prefix(63 - 11))
        while let l = cleaned.last, !(l.isASCII && (l.isLetter || l.isNumber)) { cleaned.removeLast() }
        while let f = cleaned.first, !(f.isASCII && (f.isLetter || f.isNumber)) { cleaned.removeFirst() }
        return cleaned.isEmpty ? hash : cleaned + "-" + hash
    }

    public static func isValidLabelValue(_ s: String) -> Bool {
        let u = s.utf8
        guard let f = u.first, let l = u.last else { return true }
        guard u.count <= 63 else { return false }
        func alphanumeric(_ c: UInt8) -> Bool {
            (c >= UInt8(ascii: "a") && c <= UInt8(ascii: "z")) || (c >= UInt8(ascii: "A") && c <= UInt8(ascii: "Z"))
                || (c >= UInt8(ascii: "0") && c <= UInt8(ascii: "9"))
        }
        for c in u where !alphanumeric(c) && c != UInt8(ascii: "-") && c != UInt8(ascii: "_") && c != UInt8(ascii: ".") { return false }
        return alphanumeric(f) && alphanumeric(l)
    }

    /// A DNS-1123 subdomain name `<prefix>-<parts joined by ->` (lowercase, ≤ 253), hashed
    /// like `labelValue` when it had to change. `maxLength` leaves room for shard suffixes.
    public static func objectName(prefix: String, _ parts: [String], maxLength: Int = 240) -> String {
        let raw = ([prefix] + parts).joined(separator: "-")
        let valid = raw.utf8.count <= maxLength && raw.allSatisfy {
            $0.isASCII && ($0.isLowercase || $0.isNumber || $0 == "-" || $0 == ".")
        } && (raw.last.map { $0.isLowercase || $0.isNumber } ?? false)
        if valid { return raw }
        var cleaned = String(raw.lowercased().map { c -> Character in
            (c.isASCII && (c.isLetter || c.isNumber || c == "-" || c == ".")) ? c : "-"
        })
        cleaned = String(cleaned.prefix(maxLength - 11))
        while let l = cleaned.last, !(l.isLetter || l.isNumber) { cleaned.removeLast() }
        return cleaned + "-" + String(SHA256.hex(raw).prefix(10))
    }

    /// Labels every applied object carries (`ownerValue`: `ownerValue(pattern:site:)`).
    public static func memberLabels(ownerValue: String, applySetID: String) -> [(String, String)] {
        [(managedByLabel, managedByValue), (ownerLabel, ownerValue), (applySetPartOfLabel, applySetID)]
    }

    /// `object` with the member labels added (other labels kept). Use this on rendered objects
    /// before both diff and apply, so the labels are part of what is owned and compared.
    public static func withMemberLabels(_ object: Value, pattern: String, site: String, applySetID: String) -> Value {
        withMemberLabels(object, ownerValue: ownerValue(pattern: pattern, site: site), applySetID: applySetID)
    }

    /// `withMemberLabels` with the owner label value already made (`ownerValue(pattern:site:)`,
    /// once per site rather than once per object). The labels map is reached once and changed
    /// where it is, as the path setter would (a missing or non-map `metadata` or `labels`
    /// becomes a map).
    public static func withMemberLabels(_ object: Value, ownerValue: String, applySetID: String) -> Value {
        var o = object
        o.withObject { top in
            top.modify("metadata") { metadata in
                if metadata?.object == nil { metadata = .emptyObject }
                metadata!.withObject { m in
                    m.modify("labels") { labels in
                        if labels?.object == nil { labels = .emptyObject }
                        labels!.withObject { l in
                            for (k, v) in memberLabels(ownerValue: ownerValue, applySetID: applySetID) { l[k] = .string(v) }
                        }
                    }
                }
            }
        }
        return o
    }

    /// Label selector for LISTing the objects of (pattern, site).
    public static func ownerSelector(pattern: String, site: String) -> String {
        "\(ownerLabel)=\(ownerValue(pattern: pattern, site: site))"
    }

    /// ApplySet id of a parent object (KEP-3659):
    /// `applyset-<base64url(sha256("<name>.<namespace>.<kind>.<group>"))>-v1`.
    public static func applySetID(name: String, namespace: String, kind: String = "ConfigMap", group: String = "") -> String {
        var h = SHA256()
        h.update("\(name).\(namespace).\(kind).\(group)")
        return "applyset-" + Base64.encodeRawURL(h.finalize()) + "-v1"
    }
}
