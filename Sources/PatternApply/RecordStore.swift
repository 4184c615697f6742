import PatternCore
import PatternCompile
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
    public func loadInventory(_ id: SiteIdentity) async throws -> Inventory? {
        let empty = Inventory(pattern: id.pattern, site: id.site, namespace: namespace)
        let shards = try await client.list(RecordStore.configMap, namespace: namespace,
                                           labelSelector: "\(Ownership.inventoryLabel)=\(Ownership.ownerValue(pattern: id.pattern, site: id.site))").items
        if shards.isEmpty { return nil }
        do { return try Inventory.decode(shards) } catch {
            throw ApplyError("the inventory of \(id.pattern)/\(id.site) (\(empty.name) in \(namespace)) is unreadable: \(error.message)",
                             fix: error.fix)
        }
    }

    func ensureNamespace() async throws(KubeError) {
        if try await client.getIfPresent(RecordStore.namespaceGVK, name: namespace) != nil { return }
        let ns: Value = ["apiVersion": "v1", "kind": "Namespace",
                         "metadata": ["name": .string(namespace), "labels": [Ownership.managedByLabel: .string(Ownership.managedByValue)]]]
        _ = try await client.apply(ns, fieldManager: "pattern")
    }

    /// Writes the inventory: all shards, then deletes shards the new encoding no longer uses.
    /// Returns the number of write requests made.
    @discardableResult
    public func save(_ inventory: Inventory) async throws(KubeError) -> Int {
        try await ensureNamespace()
        let shards = inventory.encode()
        for cm in shards { _ = try await client.apply(cm, fieldManager: "pattern", force: true) }
        var writes = shards.count
        let existing = try await client.list(RecordStore.configMap, namespace: namespace,
                                             labelSelector: "\(Ownership.inventoryLabel)=\(Ownership.ownerValue(pattern: inventory.pattern, site: inventory.site))")
            .items.compactMap(\.metadataName)
        for stale in inventory.staleShards(existing: existing, newCount: shards.count) {
            writes += 1
            do { try await client.delete(RecordStore.configMap, name: stale, namespace: namespace) } catch {
                if !error.isNotFound { throw error }
            }
        }
        return writes
    }

    public func loadLedger(_ id: SiteIdentity) async throws -> Ledger {
        let name = Ledger(pattern: id.pattern, site: id.site, namespace: namespace).name
        let cm = try await client.getIfPresent(RecordStore.configMap, name: name, namespace: namespace)
        do { return try Ledger.decode(cm, pattern: id.pattern, site: id.site, namespace: namespace) } catch {
            throw ApplyError("the ledger \(name) is unreadable: \(error.message)", fix: error.fix)
        }
    }

    @discardableResult
    public func append(_ entry: LedgerEntry, identity id: SiteIdentity) async throws -> LedgerEntry {
        var ledger = try await loadLedger(id)
        let stored = ledger.append(entry)
        try await ensureNamespace()
        _ = try await client.apply(ledger.encode(), fieldManager: "pattern", force: true)
        return stored
    }
}

extension LedgerEntry {
    static func from(_ r: ApplyResult, site: RenderedSite) -> LedgerEntry {
        let changed = r.outcomes.filter { [.created, .configured, .pruned, .failed].contains($0.status) }
        let (user, host) = Clock.userAndHost()
        return LedgerEntry(
            time: Clock.rfc3339Now(), revision: r.revision,
            source: Source(url: site.provenance.source, commit: site.provenance.commit ?? "", fromCache: site.provenance.stale),
            client: Client(user: user, host: host, tool: "pattern", version: PatternVersion.current),
            counts: Counts(created: r.count(.created), updated: r.count(.configured), unchanged: r.count(.unchanged),
                           pruned: r.count(.pruned), failed: r.count(.failed)),
            changed: changed.map { "\($0.status.rawValue) \($0.key)" },
            result: r.failed.isEmpty ? .succeeded : .failed,
            message: r.failed.first.map { "\($0.key): \($0.message ?? "failed")" } ?? "")
    }
}

/// The tool's version, recorded in the ledger.
public enum PatternVersion { public static let current = "0.1.0" }
