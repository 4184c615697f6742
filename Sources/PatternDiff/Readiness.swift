import PatternCore

/// Readiness of a live object, after kstatus (sigs.k8s.io/cli-utils/pkg/kstatus).
public struct Readiness: Sendable, Hashable, CustomStringConvertible {
    public enum Status: String, Sendable, Hashable {
        /// Reconciled: the apply can move on.
        case current
        /// Still converging (rollout, binding, generation not observed yet, being deleted).
        case inProgress
        /// Will not converge without a change (deadline exceeded, Job failed, Stalled).
        case failed
        /// Not an object we can read status from.
        case unknown
    }

    public var status: Status
    /// `Deployment edge-eu/web: 1/3 available`.
    public var message: String

    public init(_ status: Status, _ message: String) { self.status = status; self.message = message }
    public var isReady: Bool { status == .current }
    public var description: String { "\(status.rawValue): \(message)" }
}

public enum ReadinessRules {
    /// Readiness of a live object. Pure: looks only at the object.
    public static func status(of live: Value) -> Readiness {
        guard let kind = live.kindName, let name = live.metadataName else {
            return Readiness(.unknown, "not a Kubernetes object")
        }
        let ns = live.metadataNamespace ?? ""
        let who = "\(kind) \(ns.isEmpty ? name : "\(ns)/\(name)")"
        func r(_ s: Readiness.Status, _ m: String) -> Readiness { Readiness(s, "\(who): \(m)") }

        if let ts = live[path: ["metadata", "deletionTimestamp"]], !ts.isNull {
            return r(.inProgress, "being deleted")
        }
        let status = live["status"] ?? .null
        let conditions = status["conditions"]?.array ?? []
        func condition(_ type: String) -> Value? { conditions.first { $0["type"]?.string == type } }
        func isTrue(_ type: String) -> Bool? {
            guard let c = condition(type), let s = c["status"]?.string else { return nil }
            return s == "True"
        }
        // Generation observed?
        if let gen = live[path: ["metadata", "generation"]]?.int {
            if let obs = status["observedGeneration"]?.int, obs < gen {
                return r(.inProgress, "generation \(gen) not observed yet (observed \(obs))")
            }
            if status["observedGeneration"] == nil && ["Deployment", "StatefulSet", "DaemonSet", "ReplicaSet"].contains(kind) {
                return r(.inProgress, "waiting for the controller to observe generation \(gen)")
            }
        }
        let group = live.gvk?.group ?? ""
        // Kstatus generic conditions first for custom resources.
        switch (group, kind) {
        case ("apps", "Deployment"):
            if let c = condition("Progressing"), c["reason"]?.string == "ProgressDeadlineExceeded" {
                return r(.failed, "progress deadline exceeded" + msg(c))
            }
            let want = live[path: ["spec", "replicas"]]?.int ?? 1
            let updated = status["updatedReplicas"]?.int ?? 0
            let total = status["replicas"]?.int ?? 0
            let available = status["availableReplicas"]?.int ?? 0
            let ready = status["readyReplicas"]?.int ?? 0
            if updated < want { return r(.inProgress, "\(updated)/\(want) updated") }
            if total > updated { return r(.inProgress, "\(total - updated) old replicas pending termination") }
            if available < want { return r(.inProgress, "\(available)/\(want) available") }
            if ready < want { return r(.inProgress, "\(ready)/\(want) ready") }
            return r(.current, "\(available)/\(want) available")
        case ("apps", "StatefulSet"):
            let want = live[path: ["spec", "replicas"]]?.int ?? 1
            let ready = status["readyReplicas"]?.int ?? 0
            let updated = status["updatedReplicas"]?.int ?? 0
            if ready < want { return r(.inProgress, "\(ready)/\(want) ready") }
            if live[path: ["spec", "updateStrategy", "type"]]?.string == "OnDelete" { return r(.current, "\(ready)/\(want) ready") }
            let partition = live[path: ["spec", "updateStrategy", "rollingUpdate", "partition"]]?.int ?? 0
            if partition > 0 {
                if updated < want - partition { return r(.inProgress, "\(updated)/\(want - partition) updated (partition \(partition))") }
                return r(.current, "\(ready)/\(want) ready, partitioned rollout at \(partition)")
            }
            if let cur = status["currentRevision"]?.string, let upd = status["updateRevision"]?.string, cur != upd {
                return r(.inProgress, "rolling update: \(updated)/\(want) updated")
            }
            return r(.current, "\(ready)/\(want) ready")
        case ("apps", "DaemonSet"):
            guard let want = status["desiredNumberScheduled"]?.int else { return r(.inProgress, "waiting for the controller") }
            let updated = status["updatedNumberScheduled"]?.int ?? 0
            let available = status["numberAvailable"]?.int ?? 0
            if updated < want { return r(.inProgress, "\(updated)/\(want) updated") }
            if available < want { return r(.inProgress, "\(available)/\(want) available") }
            return r(.current, "\(available)/\(want) available")
        case ("apps", "ReplicaSet"):
            let want = live[path: ["spec", "replicas"]]?.int ?? 1
            let available = status["availableReplicas"]?.int ?? 0
            if available < want { return r(.inProgress, "\(available)/\(want) available") }
            return r(.current, "\(available)/\(want) available")
        case ("batch", "Job"):
            if isTrue("Failed") == true { return r(.failed, "failed" + msg(condition("Failed"))) }
            if isTrue("Complete") == true { return r(.current, "complete") }
            let active = status["active"]?.int ?? 0, succeeded = status["succeeded"]?.int ?? 0
            return r(.inProgress, "running (active \(active), succeeded \(succeeded))")
        case ("apiextensions.k8s.io", "CustomResourceDefinition"):
            if isTrue("NamesAccepted") == false { return r(.failed, "names not accepted" + msg(condition("NamesAccepted"))) }
            if isTrue("Established") == true { return r(.current, "established") }
            return r(.inProgress, "not established yet")
        case ("", "Namespace"):
            if status["phase"]?.string == "Terminating" { return r(.inProgress, "terminating") }
            return r(.current, "active")
        case ("", "PersistentVolumeClaim"):
            switch status["phase"]?.string {
            case "Bound": return r(.current, "bound")
            case "Lost": return r(.failed, "lost its volume")
            default: return r(.inProgress, "not bound yet")
            }
        case ("", "Pod"):
            switch status["phase"]?.string {
            case "Succeeded": return r(.current, "succeeded")
            case "Failed": return r(.failed, "failed")
            default:
                if isTrue("Ready") == true { return r(.current, "ready") }
                return r(.inProgress, "not ready (\(status["phase"]?.string ?? "Pending"))")
            }
        case ("", "Service"):
            return r(.current, "ready")
        default:
            // kstatus conventions for everything else, custom resources included.
            if isTrue("Stalled") == true { return r(.failed, "stalled" + msg(condition("Stalled"))) }
            if isTrue("Reconciling") == true { return r(.inProgress, "reconciling" + msg(condition("Reconciling"))) }
            if let ready = isTrue("Ready") {
                return ready ? r(.current, "ready") : r(.inProgress, "not ready" + msg(condition("Ready")))
            }
            if let available = isTrue("Available") {
                return available ? r(.current, "available") : r(.inProgress, "not available" + msg(condition("Available")))
            }
            return r(.current, "ready")
        }
    }

    private static func msg(_ c: Value?) -> String {
        guard let m = c?["message"]?.string, !m.isEmpty else { return "" }
        return " (\(m))"
    }
}
