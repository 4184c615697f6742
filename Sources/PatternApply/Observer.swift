import PatternCore
import KubeClient

/// What Observe saw: live objects by identity, how many requests it took.
public struct Observation: Sendable {
    /// Live objects of the site (found by label) and desired objects found by GET.
    public var live: [ObjectKey: Value]
    /// Desired kinds the server does not serve yet (e.g. a CRD in the same render that is not
    /// applied yet): their objects are all creates.
    public var unservedKinds: Set<GroupKind>
    public var listRequests: Int
    public var getRequests: Int
}

/// Observe: reads live state with one LIST per kind (by the site's ownership labels) plus,
/// only when asked, GETs for desired objects the LIST did not return.
public struct Observer: Sendable {
    public let client: KubeClient
    public let identity: SiteIdentity

    public init(client: KubeClient, identity: SiteIdentity) { self.client = client; self.identity = identity }

    /// Lists every kind in `gvks` once. `lookUp` desired objects not found by label are fetched
    /// with GET (diff needs them: an object may exist without our labels); apply skips that and
    /// lets server-side apply create-or-update.
    public func observe(kinds gvks: [GroupVersionKind], desired: [ObjectKey: GroupVersionKind], lookUpMissing: Bool,
                        concurrency: Int = 8) async throws(KubeError) -> Observation {
        var live: [ObjectKey: Value] = [:]
        var unserved: Set<GroupKind> = []
        var lists = 0
        // One LIST per kind (kinds are unique by group+kind; the version only picks the endpoint).
        var seen: Set<GroupKind> = []
        let unique = gvks.filter { seen.insert($0.groupKind).inserted }.sorted()
        let results = await withTaskGroup(of: (GroupVersionKind, Result<[Value], KubeError>).self) { group in
            var out: [(GroupVersionKind, Result<[Value], KubeError>)] = []
            var it = unique.makeIterator()
            func next() -> Bool {
                guard let gvk = it.next() else { return false }
                group.addTask {
                    do throws(KubeError) { return (gvk, .success(try await client.list(gvk, labelSelector: identity.labelSelector).items)) }
                    catch { return (gvk, .failure(error)) }
                }
                return true
            }
            for _ in 0..<concurrency { if !next() { break } }
            while let r = await group.next() { out.append(r); _ = next() }
            return out
        }
        for (gvk, r) in results.sorted(by: { $0.0 < $1.0 }) {
            switch r {
            case .success(let items):
                lists += 1
                for item in items { if let k = item.objectKey { live[k] = item } }
            case .failure(let e):
                if case .unknownKind = e { unserved.insert(gvk.groupKind); continue }
                if e.isNotFound { unserved.insert(gvk.groupKind); continue }
                throw e
            }
        }
        var gets = 0
        if lookUpMissing {
            let missing = desired.filter { live[$0.key] == nil && !unserved.contains($0.key.groupKind) }.sorted { $0.key < $1.key }
            let fetched = await withTaskGroup(of: (ObjectKey, Result<Value?, KubeError>).self) { group in
                var out: [(ObjectKey, Result<Value?, KubeError>)] = []
                var it = missing.makeIterator()
                func next() -> Bool {
                    guard let (k, gvk) = it.next() else { return false }
                    group.addTask {
                        do throws(KubeError) { return (k, .success(try await client.getIfPresent(gvk, name: k.name, namespace: k.namespace.isEmpty ? nil : k.namespace))) }
                        catch { return (k, .failure(error)) }
                    }
                    return true
                }
                for _ in 0..<concurrency { if !next() { break } }
                while let r = await group.next() { out.append(r); _ = next() }
                return out
            }
            for (k, r) in fetched {
                gets += 1
                switch r {
                case .success(let v): if let v { live[k] = v }
                case .failure(let e): if !e.isNotFound { throw e }
                }
            }
        }
        return Observation(live: live, unservedKinds: unserved, listRequests: lists, getRequests: gets)
    }
}
