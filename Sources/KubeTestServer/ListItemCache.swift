import PatternCore
import Synchronization

/// The JSON of each object as a LIST answer writes it, kept per object version: an object is
/// encoded once after each change, not once per LIST (kube-apiserver likewise encodes a watch
/// event's object once for all its watchers, `cachingObject`).
///
/// An entry is served only while its resourceVersion is the stored object's (every write
/// changes it), so nothing stale is ever written. Entries of deleted objects are dropped with
/// all the others when the cache would grow past twice the objects stored (at least 2,000).
final class ListItemCache: Sendable {
    struct Key: Hashable, Sendable {
        var apiVersion: String
        var resource: String
        var namespace: String
        var name: String
    }

    private struct Entry: Sendable {
        var resourceVersion: String
        var bytes: [UInt8]
    }

    private let entries = Mutex<[Key: Entry]>([:])

    /// The JSON of every item, in order: cached bytes where the version matches, `encode`
    /// (on all cores) for the others, which are then kept. `storedCount` is the number of
    /// objects the store holds (the bound on entries kept).
    func items(_ items: [Value], apiVersion: String, resource: String, storedCount: Int,
               encode: @Sendable (Value) -> [UInt8]) -> [[UInt8]] {
        let keys = items.map {
            Key(apiVersion: apiVersion, resource: resource, namespace: $0.metadataNamespace ?? "", name: $0.metadataName ?? "")
        }
        let versions = items.map { $0[path: ["metadata", "resourceVersion"]]?.string }
        var out: [[UInt8]?] = entries.withLock { e in
            keys.indices.map { i in
                guard let v = versions[i], let hit = e[keys[i]], hit.resourceVersion == v else { return nil }
                return hit.bytes
            }
        }
        let missing = out.indices.filter { out[$0] == nil }
        guard !missing.isEmpty else { return out.map { $0! } }
        let encoded = ParallelMap.map(missing) { encode(items[$0]) }
        for (i, b) in zip(missing, encoded) { out[i] = b }
        entries.withLock { e in
            if e.count + missing.count > 2 * max(storedCount, 1_000) { e.removeAll(keepingCapacity: true) }
            for (i, b) in zip(missing, encoded) {
                if let v = versions[i] { e[keys[i]] = Entry(resourceVersion: v, bytes: b) }
            }
        }
        return out.map { $0! }
    }
}
