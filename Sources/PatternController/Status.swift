import PatternCore

/// Builds a PatternSync status: conditions in the usual Kubernetes shape
/// (`type`, `status`, `reason`, `message`, `lastTransitionTime`, `observedGeneration`), where
/// `lastTransitionTime` only moves when `status` changes.
public struct StatusBuilder: Sendable {
    public var value: Value
    let previous: Value
    let generation: Int
    static let order = ["Ready", "Reconciling", "Stalled", "ClusterReady", "ClusterTLSVerified", "SourceReady", "Drifted"]

    init(previous: Value, generation: Int) {
        self.previous = previous
        self.generation = generation
        var v = previous.object == nil ? Value.emptyObject : previous
        v["observedGeneration"] = .int(generation)
        self.value = v
    }

    static func conditionOf(_ status: Value, _ type: String) -> Value? {
        status["conditions"]?.array?.first { $0["type"]?.string == type }
    }

    /// Drops a condition type (one that no longer applies, e.g. `ClusterTLSVerified` once TLS is verified).
    mutating func remove(_ type: String) {
        guard let list = value["conditions"]?.array, list.contains(where: { $0["type"]?.string == type }) else { return }
        value["conditions"] = .array(list.filter { $0["type"]?.string != type })
    }

    mutating func condition(_ type: String, _ ok: Bool, reason: String, message: String) {
        let s = ok ? "True" : "False"
        let old = StatusBuilder.conditionOf(previous, type)
        let time = (old?["status"]?.string == s ? old?["lastTransitionTime"]?.string : nil) ?? Timestamp.rfc3339()
        let c: Value = ["type": .string(type), "status": .string(s), "reason": .string(reason), "message": .string(message),
                        "lastTransitionTime": .string(time), "observedGeneration": .int(generation)]
        var list = value["conditions"]?.array ?? []
        if let i = list.firstIndex(where: { $0["type"]?.string == type }) { list[i] = c } else { list.append(c) }
        list.sort { (StatusBuilder.order.firstIndex(of: $0["type"]?.string ?? "") ?? 99) < (StatusBuilder.order.firstIndex(of: $1["type"]?.string ?? "") ?? 99) }
        value["conditions"] = .array(list)
    }
}
