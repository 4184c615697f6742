import PatternCore
import KubeClient
import Synchronization

/// Writes core/v1 Events about PatternSync resources, as `kubectl describe` shows them.
/// Repeats of the same reason and message for the same object bump `count` instead of
/// creating a new Event.
public final class EventRecorder: Sendable {
    let client: KubeClient
    let component: String
    let instance: String
    private struct Recent: Sendable { var name: String; var namespace: String; var count: Int }
    private struct State: Sendable {
        /// (object uid, reason, message) → (event name, count)
        var recent: [String: Recent] = [:]
        var seq = 0
    }
    private let state = Mutex(State())

    public init(client: KubeClient, component: String = "pattern-controller", instance: String) {
        self.client = client; self.component = component; self.instance = instance
    }

    public enum EventType: String, Sendable { case normal = "Normal", warning = "Warning" }

    /// Records an event; failures to write events are ignored (they must never fail a reconcile).
    /// The message's advice is phrased for a PatternSync (`PatternSyncAdvice`).
    public func emit(_ involved: Value, _ type: EventType, reason: String, message rawMessage: String) async {
        let message = PatternSyncAdvice.rewrite(rawMessage)
        let uid = involved[path: ["metadata", "uid"]]?.string ?? ""
        let ns = involved.metadataNamespace ?? "default"
        let name = involved.metadataName ?? ""
        let msg = message.count > 1000 ? String(message.prefix(997)) + "..." : message
        let key = "\(uid)\u{0}\(reason)\u{0}\(msg)"
        let now = Timestamp.rfc3339()
        if let prev = state.withLock({ $0.recent[key] }) {
            let patch: Value = ["count": .int(prev.count + 1), "lastTimestamp": .string(now)]
            if (try? await client.patch(GroupVersionKind(group: "", version: "v1", kind: "Event"), name: prev.name,
                                        namespace: prev.namespace, patch: patch, type: .merge)) != nil {
                state.withLock { $0.recent[key] = Recent(name: prev.name, namespace: prev.namespace, count: prev.count + 1) }
                return
            }
        }
        let n = state.withLock { s -> Int in s.seq += 1; return s.seq }
        let eventName = "\(name).\(String(Timestamp.now().seconds, radix: 16))\(String(n, radix: 16))\(String(UInt32.random(in: 0..<UInt32.max), radix: 16))"
        let event: Value = [
            "apiVersion": "v1", "kind": "Event",
            "metadata": ["name": .string(eventName), "namespace": .string(ns)],
            "involvedObject": [
                "apiVersion": .string(PatternSyncSpec.gvk.apiVersion), "kind": .string(PatternSyncSpec.kind),
                "name": .string(name), "namespace": .string(ns), "uid": .string(uid),
                "resourceVersion": involved[path: ["metadata", "resourceVersion"]] ?? "",
            ],
            "reason": .string(reason), "message": .string(msg), "type": .string(type.rawValue),
            "source": ["component": .string(component)],
            "reportingComponent": .string(component), "reportingInstance": .string(instance),
            "firstTimestamp": .string(now), "lastTimestamp": .string(now), "count": 1,
        ]
        if (try? await client.create(event, fieldManager: component)) != nil {
            state.withLock { s in
                if s.recent.count > 1000 { s.recent.removeAll() }
                s.recent[key] = Recent(name: eventName, namespace: ns, count: 1)
            }
        }
    }
}

/// Advice that fits a PatternSync. The engine's errors end in what a CLI user would do
/// (`re-run with --prune-confirm`, `--force-conflicts`, …); under the controller there is no
/// command line to re-run, so conditions and Events say which PatternSync field or which
/// one-off command does the same.
public enum PatternSyncAdvice {
    /// (CLI advice, PatternSync advice), longest first so a longer phrase wins.
    static let replacements: [(String, String)] = [
        ("if removing everything is intended, re-run with --prune-confirm",
         "if removing everything is intended, suspend this PatternSync (spec.suspend: true) and run `pattern apply <site> --prune-confirm` once, then resume it"),
        ("if the render really shrank this much, re-run with --prune-confirm; --no-prune skips pruning",
         "if the render really shrank this much, suspend this PatternSync (spec.suspend: true) and run `pattern apply <site> --prune-confirm` once, then resume it; spec.prune: false keeps the objects instead"),
        ("re-run with --force-conflicts to take them over, or drop them from the render",
         "set spec.driftPolicy: heal to take them over (heal applies with force), or drop them from the render"),
        ("(pass --allow-empty to prune anyway)",
         "(suspend this PatternSync and run `pattern apply <site> --allow-empty` once if that is intended; spec.prune: false keeps them)"),
        ("(raise --prune-budget to confirm)",
         "(suspend this PatternSync and run `pattern apply <site> --prune-budget N` once if that is intended; spec.prune: false keeps them)"),
        ("re-run with --prune-confirm", "suspend this PatternSync (spec.suspend: true) and run `pattern apply <site> --prune-confirm` once"),
        ("--force-conflicts", "spec.driftPolicy: heal"),
        ("--no-prune", "spec.prune: false"),
    ]

    /// `message` with CLI advice replaced by PatternSync advice (unchanged when it has none).
    public static func rewrite(_ message: String) -> String {
        guard message.contains("--") else { return message }
        var out = message
        for (cli, sync) in replacements where out.contains(cli) { out = out.replacing(cli, with: sync) }
        return out
    }
}
