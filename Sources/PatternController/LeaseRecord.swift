import PatternCore
import KubeClient

/// The `coordination.k8s.io/v1` Lease writes shared by leader election and shard leases: a new
/// Lease held by one identity, a Lease taken or renewed by it, and its release.
enum LeaseRecord {
    /// A new Lease held by `identity` from `now` (MicroTime).
    static func new(name: String, namespace: String, identity: String, durationSeconds: Int, now: String) -> Value {
        [
            "apiVersion": "coordination.k8s.io/v1", "kind": "Lease",
            "metadata": ["name": .string(name), "namespace": .string(namespace)],
            "spec": ["holderIdentity": .string(identity), "leaseDurationSeconds": .int(durationSeconds),
                     "acquireTime": .string(now), "renewTime": .string(now), "leaseTransitions": 0],
        ]
    }

    /// `lease` renewed by `identity` at `now`; when another identity (or none) held it, a take-over:
    /// a new `acquireTime` and one more `leaseTransitions`.
    static func claimed(_ lease: Value, identity: String, durationSeconds: Int, now: String) -> Value {
        var lease = lease
        var spec = lease["spec"] ?? .emptyObject
        let previous = spec["holderIdentity"]?.string ?? ""
        spec["holderIdentity"] = .string(identity)
        spec["leaseDurationSeconds"] = .int(durationSeconds)
        spec["renewTime"] = .string(now)
        if previous != identity {
            spec["acquireTime"] = .string(now)
            spec["leaseTransitions"] = .int((spec["leaseTransitions"]?.int ?? 0) + 1)
        }
        lease["spec"] = spec
        return lease
    }

    /// Clears the Lease when it still names `identity`, even if the last renewal was late (a
    /// stopping replica must not leave its name on it until it expires). A write conflict
    /// (someone touched the Lease in between) re-reads, up to three times.
    static func release(_ client: KubeClient, name: String, namespace: String, identity: String) async {
        for _ in 0..<3 {
            guard var lease = try? await client.getIfPresent(LeaderElector.gvk, name: name, namespace: namespace),
                  lease[path: ["spec", "holderIdentity"]]?.string == identity else { return }
            lease[path: ["spec", "holderIdentity"]] = ""
            lease[path: ["spec", "leaseDurationSeconds"]] = 1
            lease[path: ["spec", "renewTime"]] = .string(Timestamp.micro())
            do {
                _ = try await client.update(lease, fieldManager: "pattern-controller")
                return
            } catch {
                guard case .conflict = error else { return }
            }
        }
    }
}
