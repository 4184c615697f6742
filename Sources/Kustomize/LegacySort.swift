import PatternCore

/// Kustomize's default output order (`--reorder legacy`, SortOrderTransformer): kinds in a
/// fixed order (Namespace, ResourceQuota, StorageClass, CRD, ServiceAccount, … with webhook
/// configurations last, other kinds in between), then `group_version_kind`, then namespace
/// (`~X` when unset), then name.
public enum LegacySort {
    static let orderFirst = [
        "Namespace", "ResourceQuota", "StorageClass", "CustomResourceDefinition", "ServiceAccount",
        "PodSecurityPolicy", "Role", "ClusterRole", "RoleBinding", "ClusterRoleBinding", "ConfigMap", "Secret",
        "Endpoints", "Service", "LimitRange", "PriorityClass", "PersistentVolume", "PersistentVolumeClaim",
        "Deployment", "StatefulSet", "CronJob", "PodDisruptionBudget",
    ]
    static let orderLast = ["MutatingWebhookConfiguration", "ValidatingWebhookConfiguration"]
    static let rank: [String: Int] = {
        var m: [String: Int] = [:]
        for (i, k) in orderFirst.enumerated() { m[k] = -orderFirst.count + i }
        for (i, k) in orderLast.enumerated() { m[k] = 1 + i }
        return m
    }()

    struct Key {
        var rank: Int
        var gvk: [UInt8]
        var isCoreNamespace: Bool
        var kindIsNamespace: Bool
        var id: [UInt8]
    }

    /// Kind ranks for custom `orderFirst`/`orderLast` lists (they replace the defaults).
    static func rank(orderFirst: [String], orderLast: [String]) -> [String: Int] {
        var m: [String: Int] = [:]
        for (i, k) in orderFirst.enumerated() where m[k] == nil { m[k] = -orderFirst.count + i }
        for (i, k) in orderLast.enumerated() where m[k] == nil { m[k] = 1 + i }
        return m
    }

    static func key(_ v: Value) -> Key { key(v, rank: rank) }

    static func key(_ v: Value, rank: [String: Int]) -> Key {
        let gvk = v.gvk ?? GroupVersionKind(group: "", version: "", kind: "")
        let g = gvk.group.isEmpty ? "~G" : gvk.group
        let ver = gvk.version.isEmpty ? "~V" : gvk.version
        let k = gvk.kind.isEmpty ? "~K" : gvk.kind
        return Key(rank: rank[gvk.kind] ?? 0, gvk: Array("\(g)_\(ver)_\(k)".utf8),
                   isCoreNamespace: gvk.group.isEmpty, kindIsNamespace: gvk.kind == "Namespace",
                   id: idBytes(v))
    }

    static func less(_ a: Key, _ b: Key) -> Bool {
        if a.gvk != b.gvk {
            if a.rank != b.rank { return a.rank < b.rank }
            if a.kindIsNamespace && b.kindIsNamespace && (a.isCoreNamespace || b.isCoreNamespace) {
                return b.gvk.lexicographicallyPrecedes(a.gvk)
            }
            return a.gvk.lexicographicallyPrecedes(b.gvk)
        }
        return a.id.lexicographicallyPrecedes(b.id)
    }

    /// Sorts objects into Kustomize's legacy order.
    public static func sorted(_ objects: [Value]) -> [Value] {
        order(objects, rank: rank).map { objects[$0] }
    }

    /// The indices of `objects` in legacy order (`less` over each object's `key`).
    ///
    /// A build holds few distinct `group_version_kind`s, so those are ordered once and each
    /// object gets its group's ordinal: sorting then compares an integer and, within a group,
    /// the namespace/name bytes a word at a time (the generic byte-by-byte comparison of both
    /// arrays was most of a large build's sort).
    static func order(_ objects: [Value], rank: [String: Int]) -> [Int] {
        // Per object, on all cores: its gvk and its `namespace|name` bytes.
        let parts = ParallelMap.map(objects) { v -> (gvk: GroupVersionKind?, id: [UInt8]) in (v.gvk, idBytes(v)) }
        // One representative per distinct gvk, in first-seen order, with its whole key.
        var groupOf: [GroupVersionKind?: Int] = [:]
        var representatives: [Key] = []
        var group = [Int](repeating: 0, count: parts.count)
        for i in parts.indices {
            if let g = groupOf[parts[i].gvk] { group[i] = g; continue }
            groupOf[parts[i].gvk] = representatives.count
            group[i] = representatives.count
            representatives.append(key(objects[i], rank: rank))
        }
        // Each group's place (`less` between keys of different gvk texts depends only on rank,
        // gvk text and the Namespace flags, not on the id); groups whose gvk texts are equal
        // share a place, as `less` compares their objects by id alone.
        var ordinal = [Int](repeating: 0, count: representatives.count)
        var place = -1
        var previous: [UInt8]?
        for g in representatives.indices.sorted(by: { less(representatives[$0], representatives[$1]) }) {
            if representatives[g].gvk != previous { place += 1; previous = representatives[g].gvk }
            ordinal[g] = place
        }
        return parts.indices.sorted { a, b in
            let ga = ordinal[group[a]], gb = ordinal[group[b]]
            if ga != gb { return ga < gb }
            return bytesPrecede(parts[a].id, parts[b].id)
        }
    }

    /// `Key.id` (`namespace|name`, `~X`/`~N` when unset or empty), built in one buffer.
    static func idBytes(_ v: Value) -> [UInt8] {
        let ns = v.metadataNamespace.flatMap { $0.isEmpty ? nil : $0 } ?? "~X"
        let nm = v.metadataName.flatMap { $0.isEmpty ? nil : $0 } ?? "~N"
        var out: [UInt8] = []
        out.reserveCapacity(ns.utf8.count + nm.utf8.count + 1)
        YAMLEmitter.appendUTF8(ns, to: &out)
        out.append(UInt8(ascii: "|"))
        YAMLEmitter.appendUTF8(nm, to: &out)
        return out
    }

    /// `a.lexicographicallyPrecedes(b)`, eight bytes at a time.
    static func bytesPrecede(_ a: [UInt8], _ b: [UInt8]) -> Bool {
        a.withUnsafeBytes { pa in
            b.withUnsafeBytes { pb in
                let n = min(pa.count, pb.count)
                var i = 0
                while i + 8 <= n {
                    // Big-endian words compare as their bytes do, first byte most significant.
                    let x = UInt64(bigEndian: pa.loadUnaligned(fromByteOffset: i, as: UInt64.self))
                    let y = UInt64(bigEndian: pb.loadUnaligned(fromByteOffset: i, as: UInt64.self))
                    if x != y { return x < y }
                    i += 8
                }
                while i < n {
                    if pa[i] != pb[i] { return pa[i] < pb[i] }
                    i += 1
                }
                return pa.count < pb.count
            }
        }
    }
}
