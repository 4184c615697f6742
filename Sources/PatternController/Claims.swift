import PatternCore
import KubeClient

/// Which PatternSync resources reconcile a (pattern, site) in a cluster.
///
/// A PatternSync records the site it reconciles in `status.inventory` (pattern, site, record
/// namespace) once it has rendered; before that, `spec.site` is all there is. The CLI refuses to
/// apply a site a non-suspended PatternSync manages (the controller would revert it), and a
/// second PatternSync over the same site goes Stalled naming the first (oldest wins).
public enum SiteClaims {
    /// A PatternSync that reconciles (or may reconcile) a site.
    public struct Claimant: Sendable, Hashable, CustomStringConvertible {
        public var namespace: String
        public var name: String
        public var suspended: Bool
        /// `metadata.creationTimestamp` (RFC 3339 sorts by time).
        public var created: String
        public var description: String { "PatternSync \(namespace)/\(name)" }
    }

    /// The claim a PatternSync status carries.
    static func inventoryStatus(pattern: String, site: String, recordNamespace: String) -> Value {
        ["pattern": .string(pattern), "site": .string(site), "namespace": .string(recordNamespace)]
    }

    /// True when `sync` reconciles (pattern, site) recorded in `recordNamespace` (nil: any).
    static func claims(_ sync: Value, pattern: String, site: String, recordNamespace: String?) -> Bool {
        if let inv = sync[path: ["status", "inventory"]], inv.object != nil {
            return inv["pattern"]?.string == pattern && inv["site"]?.string == site
                && (recordNamespace == nil || inv["namespace"]?.string == recordNamespace)
        }
        return sync[path: ["spec", "site"]]?.string == site
    }

    /// Every PatternSync in the cluster that claims (pattern, site), oldest first. A cluster
    /// without the PatternSync kind has none.
    public static func claimants(_ client: KubeClient, pattern: String, site: String,
                                 recordNamespace: String?) async throws(KubeError) -> [Claimant] {
        let items: [Value]
        do { items = try await client.list(PatternSyncSpec.gvk).items } catch {
            if case .unknownKind = error { return [] }
            if error.isNotFound { return [] }
            throw error
        }
        return items.filter { claims($0, pattern: pattern, site: site, recordNamespace: recordNamespace) }.map {
            Claimant(namespace: $0.metadataNamespace ?? "", name: $0.metadataName ?? "",
                     suspended: $0[path: ["spec", "suspend"]]?.bool ?? false,
                     created: $0[path: ["metadata", "creationTimestamp"]]?.string ?? "")
        }.sorted { ($0.created, $0.namespace, $0.name) < ($1.created, $1.namespace, $1.name) }
    }
}
