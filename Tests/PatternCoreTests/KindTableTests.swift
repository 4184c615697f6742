import Testing
import PatternCore

/// `isClusterScoped` answers most kinds from a length/first-byte/last-byte filter before the
/// set lookup: it must give the set's answer for every kind, listed or not.
@Suite struct KindTableTests {
    static let namespacedKinds = [
        "ConfigMap", "Secret", "Service", "ServiceAccount", "Deployment", "StatefulSet", "DaemonSet",
        "ReplicaSet", "Pod", "Job", "CronJob", "Ingress", "Role", "RoleBinding", "NetworkPolicy",
        "PersistentVolumeClaim", "HorizontalPodAutoscaler", "PodDisruptionBudget", "LimitRange",
        "ResourceQuota", "Endpoints", "EndpointSlice", "Lease", "Event", "CSIStorageCapacity",
        "", "N", "Namespaces", "namespace", "NamespacE", "Clusterrole", "Gateway", "HTTPRoute",
        "Certificate", "Application", "Kustomization", "HelmRelease", "ÄpiService", "Namespace\u{301}",
        String(repeating: "x", count: 70),
    ]

    @Test func everyListedKindIsClusterScopedInItsGroupOnly() {
        for gk in KindTable.clusterScoped {
            #expect(KindTable.isClusterScoped(gk), "\(gk)")
            #expect(!KindTable.isClusterScoped(GroupKind(group: gk.group + ".example", kind: gk.kind)), "\(gk)")
        }
        #expect(!KindTable.clusterScoped.isEmpty)
    }

    @Test func otherKindsAreNamespacedWhateverTheirGroup() {
        let groups = Set(KindTable.clusterScoped.map(\.group)).union(["apps", "batch", "example.com"])
        for kind in Self.namespacedKinds {
            for group in groups {
                let gk = GroupKind(group: group, kind: kind)
                #expect(KindTable.isClusterScoped(gk) == KindTable.clusterScoped.contains(gk), "\(gk)")
                #expect(!KindTable.isClusterScoped(gk), "\(gk)")
            }
        }
    }
}
