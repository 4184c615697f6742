import PatternCore
import PatternRecord
import KubeClient
import Synchronization
#if canImport(Glibc)
import Glibc
#endif

/// One watch per destination cluster and kind, shared by every PatternSync that renders that
/// kind into that cluster, as an informer is in controller-runtime.
///
/// Each watch selects every object carrying the owner label (`pattern.dev/owner`, whatever its
/// value) and routes each event to the PatternSyncs whose owner value (`<pattern>.<site>`) the
/// object carries: a lookup by that value, so an event costs the same with one site or a
/// thousand on the cluster. A (re)list goes to each subscriber as the part of the list it owns.
/// A watch starts with its first subscriber and stops with its last, so a hub with 1,000 sites
/// of four kinds on ten clusters holds 40 watch connections instead of 4,000.
///
/// A cluster is keyed by its `ClusterTarget.generation` (Secret name and resourceVersion): a
/// rotated credential starts new watches with the new client as the PatternSyncs move to it,
/// and the old ones stop when their last subscriber leaves.
public final class SharedWatches: Sendable {
    /// What a subscriber receives: its part of a (re)list, or one event on an object it owns.
    public typealias Handler = @Sendable (InformerEvent) -> Void

    struct Key: Hashable, Sendable {
        var cluster: String
        var gvk: GroupVersionKind
    }

    private struct Entry: Sendable {
        var task: Task<Void, Never>?
        /// Owner label value → subscriber id → handler.
        var byOwner: [String: [String: Handler]] = [:]
        var count = 0
    }
    private let state = Mutex<[Key: Entry]>([:])

    public init() {}

    /// Watch connections open now (one per cluster and kind with at least one subscriber).
    public var watchCount: Int { state.withLock { $0.count } }

    /// Subscribes `id` (a PatternSync key) to the objects of `gvk` whose owner label is `owner`,
    /// on the cluster `cluster` (a `ClusterTarget.generation`; "" for the hub) read with
    /// `client`. Starts the cluster's watch of that kind when it is the first subscriber.
    public func subscribe(cluster: String, client: KubeClient, gvk: GroupVersionKind, owner: String, id: String,
                          handler: @escaping Handler) {
        let key = Key(cluster: cluster, gvk: gvk)
        let start = state.withLock { s -> Bool in
            var e = s[key] ?? Entry()
            let fresh = e.task == nil
            if e.byOwner[owner, default: [:]].updateValue(handler, forKey: id) == nil { e.count += 1 }
            s[key] = e
            return fresh
        }
        guard start else { return }
        let task = Task { [weak self] () async -> Void in
            guard let self else { return }
            await self.run(key, client: client)
        }
        let orphan = state.withLock { s -> Bool in
            guard var e = s[key], e.count > 0 else { return true }
            e.task = task
            s[key] = e
            return false
        }
        if orphan { task.cancel() }
    }

    /// Ends `id`'s subscription to `gvk` on `cluster` (the watch stops with its last subscriber).
    public func unsubscribe(cluster: String, gvk: GroupVersionKind, owner: String, id: String) {
        let key = Key(cluster: cluster, gvk: gvk)
        let stop = state.withLock { s -> Task<Void, Never>? in
            guard var e = s[key], e.byOwner[owner]?.removeValue(forKey: id) != nil else { return nil }
            if e.byOwner[owner]?.isEmpty == true { e.byOwner[owner] = nil }
            e.count -= 1
            if e.count == 0 { s[key] = nil; return e.task }
            s[key] = e
            return nil
        }
        stop?.cancel()
    }

    /// The handlers of `owner` on `key` (taken under the lock, called outside it).
    private func handlers(_ key: Key, owner: String) -> [Handler] {
        state.withLock { s in s[key]?.byOwner[owner].map { Array($0.values) } ?? [] }
    }

    /// Delivers a (re)list: each subscriber gets the items it owns (possibly none).
    func deliver(listed list: ObjectList, key: Key) {
        var byOwner: [String: [Value]] = [:]
        for item in list.items {
            if let o = item.labels[Ownership.ownerLabel]?.string { byOwner[o, default: []].append(item) }
        }
        let all = state.withLock { s -> [(String, [Handler])] in
            (s[key]?.byOwner ?? [:]).map { ($0.key, Array($0.value.values)) }
        }
        for (owner, hs) in all {
            let part = InformerEvent.listed(ObjectList(items: byOwner[owner] ?? [], resourceVersion: list.resourceVersion))
            for h in hs { h(part) }
        }
    }

    /// Delivers one event to the subscribers of the owner value the object carries.
    func deliver(event: WatchEvent, key: Key) {
        guard let owner = event.object.labels[Ownership.ownerLabel]?.string else { return }
        for h in handlers(key, owner: owner) { h(.event(event)) }
    }

    private func run(_ key: Key, client: KubeClient) async {
        var failures = 0
        while !Task.isCancelled {
            do {
                for try await ev in client.watchWithRelist(key.gvk, labelSelector: Ownership.ownerLabel, timeoutSeconds: 300) {
                    failures = 0
                    switch ev {
                    case .listed(let list): deliver(listed: list, key: key)
                    case .event(let e): if e.type != .bookmark { deliver(event: e, key: key) }
                    }
                }
                return
            } catch {
                failures += 1
                // A kind whose CRD is in the same render is served a moment after the apply:
                // retry it soon (discovery is refetched for unknown kinds).
                let delay: Double
                if case .unknownKind? = error as? KubeError { delay = min(10, Double(failures)) } else { delay = min(60, pow(2, Double(failures - 1)) * 0.5) }
                try? await Task.sleep(for: .seconds(delay))
            }
        }
    }
}
