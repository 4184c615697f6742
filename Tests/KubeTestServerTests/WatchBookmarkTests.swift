import Foundation
import PatternCore
import Testing
@testable import KubeTestServer

/// Bookmarks never run ahead of the events a watch still has to send.
@Suite struct WatchBookmarkTests {
    /// The server used to read the store's current resourceVersion for a bookmark after its wait
    /// for events timed out; an event written in between was queued for the watch but not yet
    /// sent, so the bookmark carried a version past it. A client resuming from that bookmark
    /// (informers do, and the watch ends right after a final bookmark) never saw the event: a
    /// watch that delivers nothing until the waiter's bound.
    @Test func aBookmarkWaitsForQueuedEvents() throws {
        let store = ObjectStore()
        let info = store.resourceInfo(forGroup: "", resource: "configmaps")
        _ = try store.seed(["apiVersion": "v1", "kind": "ConfigMap", "metadata": ["name": "a", "namespace": "default"]])
        let w = try store.watch(info, namespace: nil, labels: LabelSelector(), fields: FieldSelector(), fromRV: store.currentResourceVersion)
        defer { store.endWatch(w) }
        // Nothing queued: the bookmark may carry the current version.
        #expect(store.bookmarkResourceVersion(w) == store.currentResourceVersion)
        // A write lands after the wait timed out: its event is queued, not sent yet.
        _ = try store.seed(["apiVersion": "v1", "kind": "ConfigMap", "metadata": ["name": "b", "namespace": "default"]])
        #expect(store.bookmarkResourceVersion(w) == nil)
        let sent = try #require(w.next(until: Date()) ?? nil)
        #expect(sent.object.metadataName == "b")
        // Sent: a bookmark now carries the version of that event.
        #expect(store.bookmarkResourceVersion(w) == sent.object[path: ["metadata", "resourceVersion"]]?.string)
    }

    /// An object whose labels stop matching a watch's selector is DELETED for that watch with
    /// its previous content (the labels the watcher selected it by, so it can still tell whose
    /// object it was) and the new resourceVersion, as Kubernetes' watch cache sends it
    /// (`cacheWatcher`: "a delete event with the previous object content, but with the event's
    /// resource version"). It was sent with the new, unlabelled object.
    @Test func anObjectLeavingTheSelectorIsDeletedWithItsPreviousContent() throws {
        let store = ObjectStore()
        let info = store.resourceInfo(forGroup: "", resource: "configmaps")
        _ = try store.seed(["apiVersion": "v1", "kind": "ConfigMap", "metadata": ["name": "a", "namespace": "default", "labels": ["owner": "x"]]])
        let w = try store.watch(info, namespace: nil, labels: try LabelSelector(parsing: "owner=x"), fields: FieldSelector(), fromRV: store.currentResourceVersion)
        defer { store.endWatch(w) }
        let now = try store.update(info, namespace: "default", name: "a", manager: "test", dryRun: false, precondition: nil) { o in
            var o = o
            o[path: ["metadata", "labels"]] = .emptyObject
            return o
        }
        let ev = try #require(w.next(until: Date().addingTimeInterval(5)) ?? nil)
        #expect(ev.type == "DELETED")
        #expect(ev.object[path: ["metadata", "labels", "owner"]]?.string == "x")
        #expect(ev.object[path: ["metadata", "resourceVersion"]] == now[path: ["metadata", "resourceVersion"]])
    }
}
