import Foundation
import PatternCore

/// A stand-in for kube-controller-manager (opt-in): after `delay` seconds, workloads report
/// rolled out, Jobs complete, PVCs bind. Status writes go through the status subresource as
/// manager `kube-controller-manager`, like the real controllers.
final class SimulatedControllers: @unchecked Sendable {
    let store: ObjectStore
    let delay: Double

    init(store: ObjectStore, delay: Double) {
        self.store = store
        self.delay = delay
    }

    func observe(_ info: ResourceInfo, _ ev: WatchEvent) {
        guard ev.type == "ADDED" || ev.type == "MODIFIED" else { return }
        let obj = ev.object
        guard obj[path: ["metadata", "deletionTimestamp"]] == nil else { return }
        let gen = obj[path: ["metadata", "generation"]]?.int ?? 0
        let observed = obj[path: ["status", "observedGeneration"]]?.int ?? -1
        switch (info.group, info.kind) {
        case ("apps", "Deployment"), ("apps", "StatefulSet"), ("apps", "ReplicaSet"), ("apps", "DaemonSet"):
            guard observed != gen else { return }
        case ("batch", "Job"):
            guard obj[path: ["status", "completionTime"]] == nil else { return }
        case ("", "PersistentVolumeClaim"):
            guard obj[path: ["status", "phase"]]?.string != "Bound" else { return }
        case ("", "Pod"):
            guard obj[path: ["status", "phase"]]?.string == "Pending" else { return }
        case ("", "Service"):
            guard obj[path: ["spec", "type"]]?.string == "LoadBalancer", obj[path: ["status", "loadBalancer", "ingress"]] == nil else { return }
        case ("networking.k8s.io", "Ingress"):
            guard obj[path: ["status", "loadBalancer", "ingress"]] == nil else { return }
        default:
            return
        }
        let ns = obj.metadataNamespace ?? ""
        let name = obj.metadataName ?? ""
        let uid = obj[path: ["metadata", "uid"]]
        store.schedule(after: delay) { [store] in
            guard let cur = store.get(group: info.group, resource: info.resource, namespace: ns, name: name),
                  cur[path: ["metadata", "uid"]] == uid else { return }
            if let s = SimulatedControllers.status(info, cur) {
                _ = try? store.setStatus(group: info.group, resource: info.resource, namespace: ns, name: name, status: s)
            }
        }
    }

    static func status(_ info: ResourceInfo, _ o: Value) -> Value? {
        let t = Clock.rfc3339()
        let gen = o[path: ["metadata", "generation"]] ?? 1
        let replicas = o[path: ["spec", "replicas"]]?.int ?? 1
        switch info.kind {
        case "Deployment":
            let name = o.metadataName ?? ""
            return [
                "observedGeneration": gen, "replicas": .int(replicas), "updatedReplicas": .int(replicas),
                "readyReplicas": .int(replicas), "availableReplicas": .int(replicas),
                "conditions": [
                    ["type": "Available", "status": "True", "lastUpdateTime": .string(t), "lastTransitionTime": .string(t),
                     "reason": "MinimumReplicasAvailable", "message": "Deployment has minimum availability."],
                    ["type": "Progressing", "status": "True", "lastUpdateTime": .string(t), "lastTransitionTime": .string(t),
                     "reason": "NewReplicaSetAvailable", "message": .string("ReplicaSet \"\(name)-5d4f8c7b9\" has successfully progressed.")],
                ],
            ]
        case "StatefulSet":
            return ["observedGeneration": gen, "replicas": .int(replicas), "readyReplicas": .int(replicas), "currentReplicas": .int(replicas),
                    "updatedReplicas": .int(replicas), "availableReplicas": .int(replicas),
                    "currentRevision": .string("\(o.metadataName ?? "")-7b9c5d6f8"), "updateRevision": .string("\(o.metadataName ?? "")-7b9c5d6f8"),
                    "collisionCount": 0]
        case "ReplicaSet":
            return ["observedGeneration": gen, "replicas": .int(replicas), "fullyLabeledReplicas": .int(replicas),
                    "readyReplicas": .int(replicas), "availableReplicas": .int(replicas)]
        case "DaemonSet":
            return ["observedGeneration": gen, "currentNumberScheduled": 1, "numberMisscheduled": 0, "desiredNumberScheduled": 1,
                    "numberReady": 1, "updatedNumberScheduled": 1, "numberAvailable": 1]
        case "Job":
            let completions = o[path: ["spec", "completions"]]?.int ?? 1
            return ["startTime": .string(t), "completionTime": .string(t), "succeeded": .int(completions),
                    "conditions": [["type": "Complete", "status": "True", "lastProbeTime": .string(t), "lastTransitionTime": .string(t)]]]
        case "Pod":
            let containers = (o[path: ["spec", "containers"]]?.array ?? []).map { c -> Value in
                ["name": c["name"] ?? "", "image": c["image"] ?? "", "ready": true, "started": true, "restartCount": 0,
                 "state": ["running": ["startedAt": .string(t)]]]
            }
            return ["phase": "Running", "qosClass": "BestEffort", "startTime": .string(t), "podIP": "10.244.0.10", "hostIP": "192.0.2.1",
                    "conditions": .array(["Initialized", "Ready", "ContainersReady", "PodScheduled"].map {
                        ["type": .string($0), "status": "True", "lastProbeTime": .null, "lastTransitionTime": .string(t)]
                    }),
                    "containerStatuses": .array(containers)]
        case "Service", "Ingress":
            var st = o["status"] ?? .emptyObject
            st["loadBalancer"] = ["ingress": [["ip": "192.0.2.100"]]]
            return st
        case "PersistentVolumeClaim":
            let size = o[path: ["spec", "resources", "requests", "storage"]] ?? "1Gi"
            return ["phase": "Bound", "accessModes": o[path: ["spec", "accessModes"]] ?? ["ReadWriteOnce"], "capacity": ["storage": size]]
        default:
            return nil
        }
    }
}
