/// Small tables of knowledge about built-in kinds: scope and apply order.
/// Kept as data, not generated types (see Docs/architecture.md).
public enum KindTable {
    /// Built-in kinds that are cluster-scoped. Anything else is assumed namespaced unless a CRD
    /// in the same render, or discovery, says otherwise.
    public static let clusterScoped: Set<GroupKind> = [
        GroupKind(group: "", kind: "Namespace"),
        GroupKind(group: "", kind: "Node"),
        GroupKind(group: "", kind: "PersistentVolume"),
        GroupKind(group: "", kind: "ComponentStatus"),
        GroupKind(group: "apiextensions.k8s.io", kind: "CustomResourceDefinition"),
        GroupKind(group: "apiregistration.k8s.io", kind: "APIService"),
        GroupKind(group: "rbac.authorization.k8s.io", kind: "ClusterRole"),
        GroupKind(group: "rbac.authorization.k8s.io", kind: "ClusterRoleBinding"),
        GroupKind(group: "storage.k8s.io", kind: "StorageClass"),
        GroupKind(group: "storage.k8s.io", kind: "CSIDriver"),
        GroupKind(group: "storage.k8s.io", kind: "CSINode"),
        GroupKind(group: "storage.k8s.io", kind: "VolumeAttachment"),
        GroupKind(group: "scheduling.k8s.io", kind: "PriorityClass"),
        GroupKind(group: "node.k8s.io", kind: "RuntimeClass"),
        GroupKind(group: "networking.k8s.io", kind: "IngressClass"),
        GroupKind(group: "admissionregistration.k8s.io", kind: "MutatingWebhookConfiguration"),
        GroupKind(group: "admissionregistration.k8s.io", kind: "ValidatingWebhookConfiguration"),
        GroupKind(group: "admissionregistration.k8s.io", kind: "ValidatingAdmissionPolicy"),
        GroupKind(group: "admissionregistration.k8s.io", kind: "ValidatingAdmissionPolicyBinding"),
        GroupKind(group: "certificates.k8s.io", kind: "CertificateSigningRequest"),
        GroupKind(group: "flowcontrol.apiserver.k8s.io", kind: "FlowSchema"),
        GroupKind(group: "flowcontrol.apiserver.k8s.io", kind: "PriorityLevelConfiguration"),
        GroupKind(group: "gateway.networking.k8s.io", kind: "GatewayClass"),
        GroupKind(group: "snapshot.storage.k8s.io", kind: "VolumeSnapshotClass"),
    ]

    public static func isClusterScoped(_ gk: GroupKind) -> Bool {
        // Most objects are of kinds no cluster-scoped kind shares a length, first byte and last
        // byte with (ConfigMap, Service, Deployment…): they are answered without hashing.
        let mayBe = gk.kind.utf8.withContiguousStorageIfAvailable { b -> Bool in
            let n = b.count
            return n > 0 && n < 64 && lengthsByFirstByte[Int(b[0])] & (1 << UInt64(n)) != 0
                && lengthsByLastByte[Int(b[n - 1])] & (1 << UInt64(n)) != 0
        } ?? true
        return mayBe && clusterScoped.contains(gk)
    }

    /// For each byte, the lengths (as bits) of the cluster-scoped kind names starting with it.
    static let lengthsByFirstByte: [UInt64] = lengthTable { $0.first! }
    /// For each byte, the lengths (as bits) of the cluster-scoped kind names ending with it.
    static let lengthsByLastByte: [UInt64] = lengthTable { $0.last! }

    static func lengthTable(_ byte: (String.UTF8View) -> UInt8) -> [UInt64] {
        var t = [UInt64](repeating: 0, count: 256)
        for gk in clusterScoped {
            let u = gk.kind.utf8
            precondition(!u.isEmpty && u.count < 64, "cluster-scoped kind names are 1 to 63 bytes")
            t[Int(byte(u))] |= 1 << UInt64(u.count)
        }
        return t
    }

    /// Apply order of kinds (Flux `ssa` ReconcileOrder / cli-utils, which follow Helm's list):
    /// definitions and namespaces first, then policy, identity and config, then workloads;
    /// webhooks last so they cannot block the objects they would validate. Unknown kinds
    /// (custom resources) sort after all known ones but before webhooks.
    public static let applyOrder: [String] = [
        "CustomResourceDefinition", "Namespace", "ClusterRole", "ClusterClass", "RuntimeClass", "PriorityClass",
        "StorageClass", "VolumeSnapshotClass", "IngressClass", "GatewayClass", "ClusterRoleBinding",
        "ResourceQuota", "LimitRange", "NetworkPolicy", "PodSecurityPolicy", "PodDisruptionBudget",
        "ServiceAccount", "Role", "RoleBinding", "Secret", "ConfigMap", "PersistentVolume",
        "PersistentVolumeClaim", "Service", "DaemonSet", "Pod", "ReplicationController", "ReplicaSet",
        "Deployment", "HorizontalPodAutoscaler", "StatefulSet", "Job", "CronJob", "Ingress", "APIService",
    ]

    static let lastKinds: [String] = ["MutatingWebhookConfiguration", "ValidatingWebhookConfiguration"]

    static let rank: [String: Int] = {
        var r: [String: Int] = [:]
        for (i, k) in applyOrder.enumerated() { r[k] = i }
        for (i, k) in lastKinds.enumerated() { r[k] = 10_000 + i }
        return r
    }()

    /// Sort rank of a kind in apply order (unknown kinds: after the known ones, before webhooks).
    public static func applyRank(_ kind: String) -> Int { rank[kind] ?? 5_000 }
}
