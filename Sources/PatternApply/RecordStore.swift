import PatternCore
import PatternCompile
import KubeClient

/// One inventory entry: the identity of an object the site owns and the apiVersion to reach it.
public struct InventoryEntry: Sendable, Hashable {
    public var key: ObjectKey
    public var apiVersion: String
    public var gvk: GroupVersionKind { GroupVersionKind(apiVersion: apiVersion, kind: key.kind) }
    public init(key: ObjectKey, apiVersion: String) { self.key = key; self.apiVersion = apiVersion }
}

/// Everything a (pattern, site) has applied and not pruned.
public struct Inventory: Sendable, Hashable {
    public var entries: [InventoryEntry]
    public init(entries: [InventoryEntry]) { self.entries = entries }
}

/// One apply in the ledger.
public struct LedgerEntry: Sendable, Hashable {
    public var time: String
    public var revision: String
    public var source: String?
    public var sourceCommit: String?
    public var client: String
    public var created: Int
    public var configured: Int
    public var unchanged: Int
    public var pruned: Int
    public var failed: Int
    public var result: String
    /// Changed objects (bounded).
    public var changes: [String]

    static func from(_ r: ApplyResult, site: RenderedSite, source: String?) -> LedgerEntry {
        let changed = r.outcomes.filter { [.created, .configured, .pruned, .failed].contains($0.status) }
        return LedgerEntry(time: Clock.rfc3339Now(), revision: r.revision,
                           source: source ?? site.provenance.source, sourceCommit: site.provenance.commit,
                           client: Clock.clientIdentity(), created: r.count(.created), configured: r.count(.configured),
                           unchanged: r.count(.unchanged), pruned: r.count(.pruned), failed: r.count(.failed),
                           result: r.failed.isEmpty ? "succeeded" : "failed",
                           changes: changed.prefix(RecordStore.maxChangesPerEntry).map { "\($0.status.rawValue) \($0.key)" })
    }
}

/// Keeps inventory and ledger in the cluster as ConfigMaps in `namespace`, so any client sees
/// them: `<pattern-…-site>-inventory` (one line per object) and `<…>-ledger` (the last
/// `maxLedgerEntries` applies as JSON lines). See Docs/diff-apply.md for formats and limits.
public struct RecordStore: Sendable {
    public let client: KubeClient
    public let namespace: String
    public static let maxLedgerEntries = 20
    public static let maxChangesPerEntry = 50
    static let configMap = GroupVersionKind(group: "", version: "v1", kind: "ConfigMap")
    static let namespaceGVK = GroupVersionKind(group: "", version: "v1", kind: "Namespace")

    public init(client: KubeClient, namespace: String) { self.client = client; self.namespace = namespace }

    func labels(_ id: SiteIdentity, role: String) -> Value {
        [PatternLabels.managedBy: "pattern", PatternLabels.pattern: .string(id.pattern), PatternLabels.site: .string(id.site),
         "pattern.dev/record": .string(role)]
    }

    public func loadInventory(_ id: SiteIdentity) async throws(KubeError) -> Inventory? {
        guard let cm = try await client.getIfPresent(RecordStore.configMap, name: id.recordName + "-inventory", namespace: namespace) else { return nil }
        return RecordStore.decodeInventory(cm["data"]?["entries"]?.string ?? "")
    }

    static func encodeInventory(_ inv: Inventory) -> String {
        inv.entries.map { "\($0.apiVersion)|\($0.key.kind)|\($0.key.namespace)|\($0.key.name)" }.joined(separator: "\n")
    }

    static func decodeInventory(_ text: String) -> Inventory {
        var out: [InventoryEntry] = []
        for line in text.split(separator: "\n") {
            let f = line.split(separator: "|", omittingEmptySubsequences: false).map(String.init)
            guard f.count == 4 else { continue }
            let gvk = GroupVersionKind(apiVersion: f[0], kind: f[1])
            out.append(InventoryEntry(key: ObjectKey(group: gvk.group, kind: f[1], namespace: f[2], name: f[3]), apiVersion: f[0]))
        }
        return Inventory(entries: out)
    }

    func ensureNamespace() async throws(KubeError) {
        if try await client.getIfPresent(RecordStore.namespaceGVK, name: namespace) != nil { return }
        let ns: Value = ["apiVersion": "v1", "kind": "Namespace", "metadata": ["name": .string(namespace),
                         "labels": [PatternLabels.managedBy: "pattern"]]]
        _ = try await client.apply(ns, fieldManager: "pattern")
    }

    public func save(inventory: Inventory, identity id: SiteIdentity) async throws(KubeError) {
        try await ensureNamespace()
        let text = RecordStore.encodeInventory(inventory)
        if text.utf8.count > 900_000 {
            throw KubeError.configuration("inventory of \(id.pattern)/\(id.site) is \(text.utf8.count) bytes, over the 900 kB a ConfigMap can safely hold; split the site")
        }
        let cm: Value = ["apiVersion": "v1", "kind": "ConfigMap",
                         "metadata": ["name": .string(id.recordName + "-inventory"), "namespace": .string(namespace), "labels": labels(id, role: "inventory")],
                         "data": ["entries": .string(text), "count": .string(String(inventory.entries.count))]]
        _ = try await client.apply(cm, fieldManager: "pattern", force: true)
    }

    public func loadLedger(_ id: SiteIdentity) async throws(KubeError) -> [LedgerEntry] {
        guard let cm = try await client.getIfPresent(RecordStore.configMap, name: id.recordName + "-ledger", namespace: namespace) else { return [] }
        return RecordStore.decodeLedger(cm["data"]?["entries"]?.string ?? "")
    }

    public func appendLedger(_ entry: LedgerEntry, identity id: SiteIdentity) async throws(KubeError) {
        var entries = try await loadLedger(id)
        entries.append(entry)
        if entries.count > RecordStore.maxLedgerEntries { entries.removeFirst(entries.count - RecordStore.maxLedgerEntries) }
        let cm: Value = ["apiVersion": "v1", "kind": "ConfigMap",
                         "metadata": ["name": .string(id.recordName + "-ledger"), "namespace": .string(namespace), "labels": labels(id, role: "ledger")],
                         "data": ["entries": .string(RecordStore.encodeLedger(entries))]]
        _ = try await client.apply(cm, fieldManager: "pattern", force: true)
    }

    static func encodeLedger(_ entries: [LedgerEntry]) -> String {
        entries.map { e in
            var v: Value = ["time": .string(e.time), "revision": .string(e.revision), "client": .string(e.client),
                            "created": .int(e.created), "configured": .int(e.configured), "unchanged": .int(e.unchanged),
                            "pruned": .int(e.pruned), "failed": .int(e.failed), "result": .string(e.result),
                            "changes": .array(e.changes.map { .string($0) })]
            if let s = e.source { v["source"] = .string(s) }
            if let c = e.sourceCommit { v["sourceCommit"] = .string(c) }
            return JSONWriter.string(v)
        }.joined(separator: "\n")
    }

    static func decodeLedger(_ text: String) -> [LedgerEntry] {
        text.split(separator: "\n").compactMap { line in
            guard let v = try? JSONParser.parse(String(line)) else { return nil }
            return LedgerEntry(time: v["time"]?.string ?? "", revision: v["revision"]?.string ?? "", source: v["source"]?.string,
                               sourceCommit: v["sourceCommit"]?.string, client: v["client"]?.string ?? "",
                               created: v["created"]?.int ?? 0, configured: v["configured"]?.int ?? 0, unchanged: v["unchanged"]?.int ?? 0,
                               pruned: v["pruned"]?.int ?? 0, failed: v["failed"]?.int ?? 0, result: v["result"]?.string ?? "",
                               changes: v["changes"]?.array?.compactMap(\.string) ?? [])
        }
    }
}
