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
    static func inventoryStatus(pattern: String, site: String, recordNamespace: String, cluster: String? = nil) -> Value {
        var v: Value = ["pattern": .string(pattern), "site": .string(site), "namespace": .string(recordNamespace)]
        if let cluster { v["cluster"] = .string(cluster) }
        return v
    }

    /// The remote cluster a PatternSync applies to: `status.inventory.cluster` once resolved,
    /// else `spec.cluster.name`; "" for a selector not resolved yet; nil for the hub itself.
    static func destination(_ sync: Value) -> String? {
        if let c = sync[path: ["status", "inventory", "cluster"]]?.string { return c }
        if let n = sync[path: ["spec", "cluster", "name"]]?.string { return n }
        if let s = sync[path: ["spec", "clusterSelector"]], !s.isNull { return "" }
        return nil
    }

    /// True when `sync` reconciles (pattern, site) recorded in `recordNamespace` (nil: any) in
    /// `cluster` (nil: the cluster the PatternSyncs live in).
    static func claims(_ sync: Value, pattern: String, site: String, recordNamespace: String?, cluster: String? = nil) -> Bool {
        if destination(sync) != cluster { return false }
        if let inv = sync[path: ["status", "inventory"]], inv.object != nil {
            return inv["pattern"]?.string == pattern && inv["site"]?.string == site
                && (recordNamespace == nil || inv["namespace"]?.string == recordNamespace)
        }
        return sync[path: ["spec", "site"]]?.string == site
    }

    /// Every PatternSync in the cluster that claims (pattern, site), oldest first. A cluster
    /// without the PatternSync kind has none.
    public static func claimants(_ client: KubeClient, pattern: String, site: String,
                                 recordNamespace: String?, cluster: String? = nil) async throws(KubeError) -> [Claimant] {
        let listed: Result<[Value], KubeError>
        do { listed = .success(try await client.list(PatternSyncSpec.gvk).items) } catch { listed = .failure(error) }
        return try claimants(listed: listed, pattern: pattern, site: site, recordNamespace: recordNamespace, cluster: cluster)
    }

    /// `claimants` from a LIST of every PatternSync already made (`listed`, e.g. read while the
    /// site rendered): a cluster that does not serve the kind has none; other errors are thrown.
    public static func claimants(listed: Result<[Value], KubeError>, pattern: String, site: String,
                                 recordNamespace: String?, cluster: String? = nil) throws(KubeError) -> [Claimant] {
        let items: [Value]
        switch listed {
        case .success(let i): items = i
        case .failure(let error):
            if case .unknownKind = error { return [] }
            if error.isNotFound { return [] }
            throw error
        }
        return claimants(in: items, pattern: pattern, site: site, recordNamespace: recordNamespace, cluster: cluster)
    }

    /// The claimants of (pattern, site) among `items` (PatternSync objects), oldest first.
    public static func claimants(in items: [Value], pattern: String, site: String, recordNamespace: String?,
                                 cluster: String? = nil) -> [Claimant] {
        items.filter { claims($0, pattern: pattern, site: site, recordNamespace: recordNamespace, cluster: cluster) }.map {
            Claimant(namespace: $0.metadataNamespace ?? "", name: $0.metadataName ?? "",
                     suspended: $0[path: ["spec", "suspend"]]?.bool ?? false,
                     created: $0[path: ["metadata", "creationTimestamp"]]?.string ?? "")
        }.sorted { ($0.created, $0.namespace, $0.name) < ($1.created, $1.namespace, $1.name) }
    }
}
