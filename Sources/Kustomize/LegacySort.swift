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
        let ns = v.metadataNamespace.flatMap { $0.isEmpty ? nil : $0 } ?? "~X"
        let nm = v.metadataName.flatMap { $0.isEmpty ? nil : $0 } ?? "~N"
        return Key(rank: rank[gvk.kind] ?? 0, gvk: Array("\(g)_\(ver)_\(k)".utf8),
                   isCoreNamespace: gvk.group.isEmpty, kindIsNamespace: gvk.kind == "Namespace",
                   id: Array("\(ns)|\(nm)".utf8))
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
        let keys = objects.map(key)
        return objects.indices.sorted { less(keys[$0], keys[$1]) }.map { objects[$0] }
    }
}
