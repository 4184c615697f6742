import KubeTestServer
import PatternCore

extension ObjectStore {
    /// The site ledger's entries in `pattern-system` (the first `pattern-ledger…` ConfigMap),
    /// oldest first; none when there is no ledger yet.
    func ledgerEntries() throws -> [Value] {
        guard let cm = list(resource: "configmaps", namespace: "pattern-system")
                .first(where: { ($0.metadataName ?? "").hasPrefix("pattern-ledger") }) else { return [] }
        var out: [Value] = []
        for (k, v) in cm["data"]?.object ?? Object() where k.hasPrefix("entry-") { out.append(try JSONParser.parse(v.string ?? "")) }
        return out.sorted { ($0["seq"]?.int ?? 0) < ($1["seq"]?.int ?? 0) }
    }
}
