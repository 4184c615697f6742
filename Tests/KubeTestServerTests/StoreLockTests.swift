import Foundation
import PatternCore
import Synchronization
import Testing
@testable import KubeTestServer

/// The store's lock is not re-entered: what a write sets off runs after it is released.
@Suite struct StoreLockTests {
    /// With the recursive lock, write hooks ran inside it: a hook that handed work to another
    /// thread and waited for it (a controller reading the store from its own worker) deadlocked
    /// until the wait gave up. Hooks now run after the lock is released, before the write
    /// returns, and see the write stored.
    @Test func writeHooksRunOutsideTheLockAndSeeTheWrite() throws {
        let store = ObjectStore()
        defer { store.afterWrite = nil }
        let seen = Mutex<[String]>([])
        let timedOut = Mutex(0)
        store.afterWrite = { [unowned store] _, ev in
            let name = ev.object.metadataName ?? ""
            let done = DispatchSemaphore(value: 0)
            Thread {
                let stored = store.get(resource: "configmaps", namespace: "default", name: name) != nil
                seen.withLock { $0.append("\(name):\(stored)") }
                done.signal()
            }.start()
            // A liveness bound: another thread's read blocks for as long as the writer holds the lock.
            if done.wait(timeout: .now() + 5) == .timedOut { timedOut.withLock { $0 += 1 } }
        }
        _ = try store.seed(["apiVersion": "v1", "kind": "ConfigMap", "metadata": ["name": "a", "namespace": "default"]])
        // The namespace (seeded first) and the ConfigMap, each read by the other thread while the hook waited.
        #expect(timedOut.withLock { $0 } == 0, "the hook ran inside the writer's lock")
        #expect(seen.withLock { $0 } == ["default:false", "a:true"])
    }

    /// Cascades write through the verbs after the owner's delete released the lock: deleting an
    /// owner removes its dependents, and every write is one event in resourceVersion order.
    @Test func aCascadeWritesAfterTheOwnerInResourceVersionOrder() throws {
        let store = ObjectStore()
        let owner = try store.seed(["apiVersion": "v1", "kind": "ConfigMap", "metadata": ["name": "owner", "namespace": "default"]])
        let uid = try #require(owner[path: ["metadata", "uid"]])
        _ = try store.seed(["apiVersion": "v1", "kind": "ConfigMap", "metadata": [
            "name": "dependent", "namespace": "default",
            "ownerReferences": [["apiVersion": "v1", "kind": "ConfigMap", "name": "owner", "uid": uid]]]])
        let info = store.resourceInfo(forGroup: "", resource: "configmaps")
        let w = try store.watch(info, namespace: nil, labels: LabelSelector(), fields: FieldSelector(), fromRV: store.currentResourceVersion)
        defer { store.endWatch(w) }
        _ = try store.delete(info, namespace: "default", name: "owner", propagation: "Background", dryRun: false)
        // The dependent is gone when delete returns.
        #expect(store.get(resource: "configmaps", namespace: "default", name: "dependent") == nil)
        var events: [(String, String, Int)] = []
        while let e = w.next(until: Date()) ?? nil {
            events.append((e.type, e.object.metadataName ?? "", Int(e.object[path: ["metadata", "resourceVersion"]]?.string ?? "") ?? 0))
        }
        #expect(events.map { "\($0.0) \($0.1)" } == ["DELETED owner", "DELETED dependent"])
        #expect(events.count == 2 && events[0].2 < events[1].2)
    }
}
