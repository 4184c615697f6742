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
}
