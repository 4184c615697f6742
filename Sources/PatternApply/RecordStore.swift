import PatternCore
import PatternDiff
import PatternRecord
import KubeClient

/// Reads and writes a site's inventory (sharded ConfigMaps, ApplySet parent) and ledger in the
/// cluster, so any client sees them. Formats are PatternRecord's (see Docs/diff-apply.md).
public struct RecordStore: Sendable {
    public let client: KubeClient
    public let namespace: String
    static let configMap = GroupVersionKind(group: "", version: "v1", kind: "ConfigMap")
    static let namespaceGVK = GroupVersionKind(group: "", version: "v1", kind: "Namespace")

    public init(client: KubeClient, namespace: String) { self.client = client; self.namespace = namespace }

    /// The inventory, or nil when the site was never applied. Throws when it is unreadable
    /// (torn or partial): prune must not run then.
    public func loadInventory(_ id: SiteIdentity, requests: RequestCounter = RequestCounter()) async throws(ApplyError) -> Inventory? {
        let empty = Inventory(pattern: id.pattern, site: id.site, namespace: namespace)
        let shards: [Value]
        do {
            shards = try await client.list(RecordStore.configMap, namespace: namespace,
                                           labelSelector: "\(Ownership.inventoryLabel)=\(Ownership.ownerValue(pattern: id.pattern, site: id.site))",
                                           counting: requests).items
        } catch {
            throw ApplyError(.clusterUnavailable, "cannot read the inventory of \(id.pattern)/\(id.site) in \(namespace): \(error)",
                             fix: RecordStore.readFix(error, namespace: namespace))
        }
        if shards.isEmpty { return nil }
        do { return try Inventory.decode(shards) } catch {
            throw ApplyError(.inventoryUnreadable, "the inventory of \(id.pattern)/\(id.site) (\(empty.name) in \(namespace)) is unreadable: \(error.message)",
                             fix: error.fix)
        }
    }

    /// The fix for a failed read of the records: RBAC only when the API refused the identity;
    /// a cluster that could not be reached (refused connection, DNS, TLS, timeout, 502–504)
    /// gets a connection fix.
    static func readFix(_ error: KubeError, namespace: String) -> String {
        switch error {
        case .forbidden, .unauthorized:
            return "check that the identity may list ConfigMaps in \(namespace) (RBAC), or pass --record-namespace"
        case .transport, .timeout, .cancelled:
            return "check that the cluster is up and reachable from here (kubeconfig server URL, network), then retry"
        case .serverError(let s) where s.code == 502 || s.code == 503 || s.code == 504:
            return "the API server (or what is in front of it) is unavailable; retry when it is back"
        default:
            return "check the connection and that the identity may list ConfigMaps in \(namespace)"
        }
    }

    func ensureNamespace(_ requests: RequestCounter) async throws(KubeError) {
        requests.get()
        if try await client.getIfPresent(RecordStore.namespaceGVK, name: namespace) != nil { return }
        let ns: Value = ["apiVersion": "v1", "kind": "Namespace",
                         "metadata": ["name": .string(namespace), "labels": [Ownership.managedByLabel: .string(Ownership.managedByValue)]]]
        requests.write()
        _ = try await client.apply(ns, fieldManager: "pattern")
    }

    /// Writes the inventory: all shards, then deletes shards the new encoding no longer uses.
    /// Every request is counted in `requests`.
    public func save(_ inventory: Inventory, requests: RequestCounter = RequestCounter()) async throws(KubeError) {
        try await ensureNamespace(requests)
        let shards = inventory.encode()
        for cm in shards {
            requests.write()
            _ = try await client.apply(cm, fieldManager: "pattern", force: true)
        }
        let existing = try await client.list(RecordStore.configMap, namespace: namespace,
                                             labelSelector: "\(Ownership.inventoryLabel)=\(Ownership.ownerValue(pattern: inventory.pattern, site: inventory.site))",
                                             counting: requests)
            .items.compactMap(\.metadataName)
        for stale in inventory.staleShards(existing: existing, newCount: shards.count) {
            requests.write()
            do { try await client.delete(RecordStore.configMap, name: stale, namespace: namespace) } catch {
                if !error.isNotFound { throw error }
            }
        }
    }

    public func loadLedger(_ id: SiteIdentity, requests: RequestCounter = RequestCounter()) async throws(ApplyError) -> Ledger {
        let name = Ledger(pattern: id.pattern, site: id.site, namespace: namespace).name
        let cm: Value?
        do {
            requests.get()
            cm = try await client.getIfPresent(RecordStore.configMap, name: name, namespace: namespace)
        } catch {
            throw ApplyError(.clusterUnavailable, "cannot read the ledger \(name) in \(namespace): \(error)",
                             fix: RecordStore.readFix(error, namespace: namespace))
        }
        do { return try Ledger.decode(cm, pattern: id.pattern, site: id.site, namespace: namespace) } catch {
            throw ApplyError(.inventoryUnreadable, "the ledger \(name) is unreadable: \(error.message)", fix: error.fix)
        }
    }

    /// Appends one entry (identical repeated failures fold into the last entry).
    @discardableResult
    public func append(_ entry: LedgerEntry, identity id: SiteIdentity, requests: RequestCounter = RequestCounter()) async throws -> LedgerEntry {
        var ledger = try await loadLedger(id, requests: requests)
        let stored = ledger.append(entry)
        try await ensureNamespace(requests)
        requests.write()
        _ = try await client.apply(ledger.encode(), fieldManager: "pattern", force: true)
        return stored
    }
}

/// Request counts of one run (every LIST, GET and write, records and readiness included).
public final class RequestCounter: @unchecked Sendable {
    private var counts = (lists: 0, gets: 0, writes: 0, dryRuns: 0, watches: 0)
    private let lock = Lock()
    public init() {}
    public func list(_ n: Int = 1) { lock.withLock { counts.lists += n } }
    public func get(_ n: Int = 1) { lock.withLock { counts.gets += n } }
    public func write(_ n: Int = 1) { lock.withLock { counts.writes += n } }
    /// A server dry-run write (`dryRun=All`): a request, but nothing is stored.
    public func dryRun(_ n: Int = 1) { lock.withLock { counts.dryRuns += n } }
    public var dryRuns: Int { lock.withLock { counts.dryRuns } }
    /// A WATCH (readiness waits).
    public func watch(_ n: Int = 1) { lock.withLock { counts.watches += n } }
    public var watches: Int { lock.withLock { counts.watches } }
    public var lists: Int { lock.withLock { counts.lists } }
    public var gets: Int { lock.withLock { counts.gets } }
    public var writes: Int { lock.withLock { counts.writes } }
}

extension KubeClient {
    /// `list`, with every page's request counted in `requests` (a list of 1,200 objects in
    /// pages of 500 is three requests).
    func list(_ gvk: GroupVersionKind, namespace: String? = nil, labelSelector: String? = nil,
              counting requests: RequestCounter) async throws(KubeError) -> ObjectList {
        try await list(gvk, namespace: namespace, labelSelector: labelSelector, onRequest: { requests.list() })
    }
}

extension LedgerEntry {
    static func from(_ r: ApplyResult, site: RenderedSite, client: Client? = nil, message: String? = nil,
                     options: ApplyOptions = ApplyOptions()) -> LedgerEntry {
        let pattern = options.render?.sources.first { $0.url == site.provenance.source && $0.commit == site.provenance.commit }
        let changed = r.outcomes.filter { [.created, .configured, .pruned, .failed].contains($0.status) }
        let (user, host) = client.map { ($0.user, $0.host) } ?? Clock.userAndHost()
        return LedgerEntry(
            time: Clock.rfc3339Now(), revision: r.revision,
            source: Source(url: site.provenance.source, ref: pattern?.ref ?? "", commit: site.provenance.commit ?? "",
                           path: pattern?.path ?? "", fromCache: site.provenance.stale),
            client: Client(user: user, host: host, tool: client?.tool ?? "pattern", version: PatternVersion.current),
            counts: Counts(created: r.count(.created), updated: r.count(.configured), unchanged: r.count(.unchanged),
                           pruned: r.count(.pruned), failed: r.count(.failed)),
            changed: changed.map { "\($0.status.rawValue) \($0.key)" },
            result: r.failed.isEmpty && r.pruneRefused == nil ? .succeeded
                : (r.count(.created) + r.count(.configured) + r.count(.pruned) > 0 ? .partial : .failed),
            message: message ?? r.failed.first.map { "\($0.key): \($0.message ?? "failed")" } ?? "",
            render: options.render, rollbackOf: options.rollbackOf)
    }
}
