import PatternCore
import PatternRecord
import KubeClient

/// What Observe saw: live objects by identity, how many requests it took.
public struct Observation: Sendable {
    /// Live objects of the site (found by label) and desired objects found by GET.
    public var live: [ObjectKey: Value]
    /// Objects the site expects (rendered or in its inventory) that exist with another
    /// pattern site's owner label, with that owner (`pattern/site`).
    public var foreign: [ObjectKey: String] = [:]
    /// Those objects as they are live (not in `live`: they are not this site's).
    public var foreignObjects: [ObjectKey: Value] = [:]
    /// Desired kinds the server does not serve yet (e.g. a CRD in the same render that is not
    /// applied yet): their objects are all creates.
    public var unservedKinds: Set<GroupKind>
    public var listRequests: Int
    public var getRequests: Int
}

/// Observe: reads live state with one LIST per kind plus, only when asked, GETs for desired
/// objects the LIST did not return. The LIST selects every object with an owner label
/// (`pattern.dev/owner`, any value): the site's own objects and, in the same response, the
/// objects another pattern site owns, so ownership needs no second LIST. Objects of other
/// owners that the site does not expect are dropped at once.
///
/// Namespaced kinds are listed across the cluster, or per namespace when the site declares its
/// namespaces or when the identity may not list at the cluster scope (a Role-bound identity
/// gets 403 there; Observe then lists in each namespace the site's objects live in).
public struct Observer: Sendable {
    public let client: KubeClient
    public let identity: SiteIdentity
    /// Namespaces to list namespaced kinds in; nil: the whole cluster (falling back per namespace on 403).
    public var namespaces: [String]?
    public var requests: RequestCounter

    public init(client: KubeClient, identity: SiteIdentity, namespaces: [String]? = nil, requests: RequestCounter = RequestCounter()) {
        self.client = client; self.identity = identity; self.namespaces = namespaces; self.requests = requests
    }

    /// Lists every kind in `gvks` once (see the full form).
    public func observe(kinds gvks: [GroupVersionKind], desired: [ObjectKey: GroupVersionKind], expected: Set<ObjectKey> = [],
                        lookUpMissing: Bool, concurrency: Int = 8) async throws(KubeError) -> Observation {
        try await observe(kinds: gvks, desired: desired, expected: expected, lookUpMissing: lookUpMissing, concurrency: concurrency, prefetched: [:])
    }

    /// Lists every kind in `gvks` once (objects with any owner label). Objects with the site's
    /// owner value are `live`; `expected` objects with another owner value are `foreign`.
    /// `lookUp` desired objects not found by label are fetched with GET (diff needs them: an
    /// object may exist without our labels); apply skips that and lets server-side apply
    /// create-or-update.
    ///
    /// `prefetched`: LISTs an `ObservePrefetch` made before the render, by kind; a kind's LIST
    /// is taken from there only when it is exactly the LIST made here (same version, and for a
    /// per-namespace LIST the same namespaces), with its requests counted as if made here.
    func observe(kinds gvks: [GroupVersionKind], desired: [ObjectKey: GroupVersionKind], expected: Set<ObjectKey> = [],
                 lookUpMissing: Bool, concurrency: Int = 8, prefetched: [GroupKind: PrefetchedKind]) async throws(KubeError) -> Observation {
        var live: [ObjectKey: Value] = [:]
        var unserved: Set<GroupKind> = []
        // One LIST per kind (kinds are unique by group+kind; the version only picks the endpoint).
        var seen: Set<GroupKind> = []
        let unique = gvks.filter { seen.insert($0.groupKind).inserted }.sorted()
        var namespacesByKind: [GroupKind: Set<String>] = [:]
        for k in expected.union(desired.keys) where !k.namespace.isEmpty { namespacesByKind[k.groupKind, default: []].insert(k.namespace) }
        var foreign: [ObjectKey: String] = [:]
        var foreignObjects: [ObjectKey: Value] = [:]
        let ours = Ownership.ownerValue(pattern: identity.pattern, site: identity.site)
        var listed: [(GroupVersionKind, Result<[Value], KubeError>)] = []
        var toList: [GroupVersionKind] = []
        for gvk in unique {
            if let p = prefetched[gvk.groupKind], let r = p.reusable(for: gvk, namespaces: (namespacesByKind[gvk.groupKind] ?? []).sorted()) {
                listed.append((gvk, r))
                requests.list(p.lists)
            } else {
                toList.append(gvk)
            }
        }
        listed += await listAll(toList, selector: Ownership.ownerLabel, namespacesByKind: namespacesByKind, concurrency: concurrency)
        listed.sort { $0.0 < $1.0 }
        live.reserveCapacity(desired.count)
        for (gvk, r) in listed {
            switch r {
            case .success(let items):
                // Each item's key and owner read on all cores; the maps are filled in order.
                let read = ParallelMap.map(items) { item in (key: item.objectKey, ours: item.labels[Ownership.ownerLabel]?.string == ours) }
                for (item, r) in zip(items, read) {
                    guard let k = r.key else { continue }
                    if r.ours {
                        live[k] = item
                    } else if expected.contains(k) {
                        foreign[k] = PrunePolicy.ownerName(item) ?? "another site"
                        foreignObjects[k] = item
                    }
                }
            case .failure(let e):
                if case .unknownKind = e { unserved.insert(gvk.groupKind); continue }
                if e.isNotFound { unserved.insert(gvk.groupKind); continue }
                throw e
            }
        }
        var gets = 0
        if lookUpMissing {
            let missing = desired.filter { live[$0.key] == nil && foreign[$0.key] == nil && !unserved.contains($0.key.groupKind) }.sorted { $0.key < $1.key }
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
                case .success(let v):
                    guard let v else { continue }
                    if v.labels[Ownership.ownerLabel] != nil, !identity.owns(v) {
                        foreign[k] = PrunePolicy.ownerName(v) ?? "another site"
                        foreignObjects[k] = v
                    } else {
                        live[k] = v
                    }
                case .failure(let e): if !e.isNotFound { throw e }
                }
            }
            requests.get(gets)
        }
        return Observation(live: live, foreign: foreign, foreignObjects: foreignObjects, unservedKinds: unserved, listRequests: requests.lists, getRequests: requests.gets)
    }

    /// One LIST per kind with `selector`: cluster-wide, or per namespace (declared, or after a
    /// 403 at the cluster scope, in the namespaces the site's objects of that kind live in).
    func listAll(_ kinds: [GroupVersionKind], selector: String, namespacesByKind: [GroupKind: Set<String>], concurrency: Int)
        async -> [(GroupVersionKind, Result<[Value], KubeError>)]
    {
        let declared = namespaces
        let counter = requests
        let results = await withTaskGroup(of: (GroupVersionKind, Result<[Value], KubeError>).self) { group in
            var out: [(GroupVersionKind, Result<[Value], KubeError>)] = []
            var it = kinds.makeIterator()
            func next() -> Bool {
                guard let gvk = it.next() else { return false }
                let kindNamespaces = (namespacesByKind[gvk.groupKind] ?? []).sorted()
                group.addTask {
                    do throws(KubeError) {
                        return (gvk, .success(try await Observer.listKind(client, gvk, selector: selector, declared: declared,
                                                                          namespaces: kindNamespaces, counter: counter).items))
                    } catch { return (gvk, .failure(error)) }
                }
                return true
            }
            for _ in 0..<concurrency { if !next() { break } }
            while let r = await group.next() { out.append(r); _ = next() }
            return out
        }
        return results.sorted { $0.0 < $1.0 }
    }

    /// One kind, by label: across the cluster, or in `declared` namespaces (plus `namespaces`,
    /// where the objects of this kind live), or — when the cluster-wide LIST is forbidden — in
    /// `namespaces`. `clusterWide`: the items came from one cluster-scope LIST (so they do not
    /// depend on `namespaces`).
    static func listKind(_ client: KubeClient, _ gvk: GroupVersionKind, selector: String, declared: [String]?,
                         namespaces: [String], counter: RequestCounter) async throws(KubeError) -> (items: [Value], clusterWide: Bool) {
        let namespaced = try await client.resource(for: gvk).namespaced
        if namespaced, let declared {
            return (try await listIn(client, gvk, Set(declared).union(namespaces).sorted(), selector, counter), false)
        }
        do throws(KubeError) {
            return (try await client.list(gvk, labelSelector: selector, counting: counter).items, true)
        } catch {
            guard namespaced, case .forbidden = error, !namespaces.isEmpty else { throw error }
            return (try await listIn(client, gvk, namespaces, selector, counter), false)
        }
    }

    static func listIn(_ client: KubeClient, _ gvk: GroupVersionKind, _ namespaces: [String], _ selector: String,
                       _ counter: RequestCounter) async throws(KubeError) -> [Value] {
        var items: [Value] = []
        for ns in namespaces {
            do { items += try await client.list(gvk, namespace: ns, labelSelector: selector, counting: counter).items } catch {
                // A namespace that does not exist yet has nothing in it.
                if error.isNotFound { continue }
                throw error
            }
        }
        return items
    }
}
