import PatternCore
import PatternDiff

/// The change table `pattern apply` shows before it writes (as `kapp deploy` does): one row per
/// object that will be created, updated or pruned, the level it is applied in, and what apply
/// waits for before the next level. Objects that already match are counted, not listed, unless
/// `showUnchanged`.
public struct ChangePreview: Sendable {
    public var diffs: [ObjectDiff]
    /// Level (0-based) of each rendered object in the apply plan.
    public var levels: [ObjectKey: Int]
    /// Whether apply waits for readiness (`--no-wait` turns it off).
    public var wait: Bool

    public init(diffs: [ObjectDiff], levels: [ObjectKey: Int] = [:], wait: Bool = true) {
        self.diffs = diffs; self.levels = levels; self.wait = wait
    }

    public var creates: Int { diffs.reduce(0) { $0 + ($1.action == .create ? 1 : 0) } }
    public var updates: Int { diffs.reduce(0) { $0 + ($1.action == .update ? 1 : 0) } }
    public var prunes: Int { diffs.reduce(0) { $0 + ($1.action == .prune ? 1 : 0) } }
    public var unchanged: Int { diffs.reduce(0) { $0 + ($1.action == .unchanged ? 1 : 0) } }
    /// Whether apply would write or delete anything.
    public var hasChanges: Bool { diffs.contains { $0.action != .unchanged } }

    /// What apply waits for after writing an object of this kind (the readiness rules of
    /// `ReadinessRules`): `rollout`, `completion`, `established`, …; `delete` for a prune;
    /// empty when the kind has no readiness (ConfigMaps, RBAC, …).
    public static func waitsFor(_ key: ObjectKey, action: DiffAction) -> String {
        if action == .prune { return "delete" }
        switch (key.group, key.kind) {
        case ("apps", "Deployment"), ("apps", "StatefulSet"), ("apps", "DaemonSet"): return "rollout"
        case ("apps", "ReplicaSet"): return "replicas available"
        case ("batch", "Job"): return "completion"
        case ("apiextensions.k8s.io", "CustomResourceDefinition"): return "established"
        case ("apiregistration.k8s.io", "APIService"): return "available"
        case ("", "PersistentVolumeClaim"): return "bound"
        case ("", "Pod"): return "ready"
        case ("", "Namespace"): return "not terminating"
        default:
            return builtInGroups.contains(key.group) ? "" : "ready conditions"
        }
    }

    /// API groups Kubernetes itself serves (their kinds without status have no readiness).
    static let builtInGroups: Set<String> = [
        "", "apps", "batch", "autoscaling", "policy", "rbac.authorization.k8s.io", "networking.k8s.io",
        "storage.k8s.io", "scheduling.k8s.io", "coordination.k8s.io", "node.k8s.io", "discovery.k8s.io",
        "admissionregistration.k8s.io", "certificates.k8s.io", "flowcontrol.apiserver.k8s.io", "resource.k8s.io",
        "events.k8s.io", "apiextensions.k8s.io", "apiregistration.k8s.io",
    ]

    /// The table: `NAMESPACE KIND NAME OP LEVEL WAIT FOR`, in apply order (level, then the
    /// render's order), prunes last; then `Op: 2 create, 1 update, 1 prune, 40 unchanged`.
    public func text(showUnchanged: Bool = false, style: Style = Style(color: false)) -> String {
        var t = TextTable(headers: ["NAMESPACE", "KIND", "NAME", "OP", "LEVEL", "WAIT FOR"], rightAligned: [4])
        var order: [(Int, Int, ObjectDiff)] = []
        for (i, d) in diffs.enumerated() where showUnchanged || d.action != .unchanged {
            order.append((d.action == .prune ? Int.max : levels[d.key] ?? Int.max - 1, i, d))
        }
        order.sort { ($0.0, $0.1) < ($1.0, $1.1) }
        for (_, _, d) in order {
            let op: String
            switch d.action {
            case .create: op = "create"
            case .update: op = "update"
            case .prune: op = "prune"
            case .unchanged: op = "no-op"
            }
            let level = d.action == .prune ? "last" : levels[d.key].map { String($0 + 1) } ?? ""
            var wait = d.action == .unchanged ? "" : ChangePreview.waitsFor(d.key, action: d.action)
            if !self.wait && d.action != .prune { wait = "" }
            let kind = d.key.group.isEmpty ? d.key.kind : "\(d.key.kind).\(d.key.group)"
            t.rows.append([d.key.namespace.isEmpty ? "(cluster)" : d.key.namespace, kind, d.key.name, op, level, wait])
        }
        var out = ""
        if !order.isEmpty {
            // Colour the OP cell only: padding is computed on the plain text first.
            for line in t.render().split(separator: "\n", omittingEmptySubsequences: false).dropLast() {
                out += colorOp(String(line), style: style) + "\n"
            }
        }
        out += summaryLine + "\n"
        return out
    }

    /// `Op: 2 create, 1 update, 1 prune, 40 unchanged`.
    public var summaryLine: String {
        "Op: \(creates) create, \(updates) update, \(prunes) prune, \(unchanged) unchanged"
    }

    func colorOp(_ line: String, style: Style) -> String {
        guard style.color else { return line }
        for (word, code) in [(" create ", Style.green), (" update ", Style.yellow), (" prune ", Style.red)] {
            if let r = line.firstRange(of: word) {
                return String(line[..<r.lowerBound]) + " " + style.apply(code, String(word.dropFirst().dropLast())) + " " + String(line[r.upperBound...])
            }
        }
        return line
    }
}
