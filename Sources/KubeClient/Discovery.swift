import PatternCore

/// A resource the API server serves: what a kind maps to in URLs.
public struct APIResource: Sendable, Hashable, CustomStringConvertible {
    /// Plural resource name used in paths (`deployments`).
    public var name: String
    public var singularName: String
    public var kind: String
    public var group: String
    public var version: String
    public var namespaced: Bool
    public var verbs: [String]
    public var shortNames: [String]

    public init(name: String, singularName: String = "", kind: String, group: String, version: String,
                namespaced: Bool, verbs: [String] = [], shortNames: [String] = []) {
        self.name = name; self.singularName = singularName; self.kind = kind; self.group = group
        self.version = version; self.namespaced = namespaced; self.verbs = verbs; self.shortNames = shortNames
    }

    public var gvk: GroupVersionKind { GroupVersionKind(group: group, version: version, kind: kind) }
    public var groupVersion: String { group.isEmpty ? version : "\(group)/\(version)" }
    public var description: String { "\(name).\(groupVersion) (\(kind), \(namespaced ? "namespaced" : "cluster-scoped"))" }

    /// The URL path of the collection (`namespace` nil: all namespaces / cluster-scoped) or of
    /// one object (`name` set). Namespaces are ignored for cluster-scoped resources.
    public func path(namespace: String?, name objectName: String? = nil, subresource: String? = nil) -> String {
        var p = group.isEmpty ? "/api/\(version)" : "/apis/\(group)/\(version)"
        if namespaced, let namespace, !namespace.isEmpty { p += "/namespaces/\(percentEncode(namespace))" }
        p += "/\(name)"
        if let objectName { p += "/\(percentEncode(objectName))" }
        if let subresource { p += "/\(subresource)" }
        return p
    }

    /// Decodes an `APIResourceList` document (`/api/v1`, `/apis/apps/v1`), skipping subresources.
    public static func parseList(_ doc: Value) -> [APIResource] {
        let gv = doc["groupVersion"]?.string ?? ""
        let parsed = GroupVersionKind(apiVersion: gv, kind: "")
        var out: [APIResource] = []
        for r in doc["resources"]?.array ?? [] {
            guard let name = r["name"]?.string, !name.contains("/"), let kind = r["kind"]?.string else { continue }
            out.append(APIResource(
                name: name, singularName: r["singularName"]?.string ?? "", kind: kind,
                group: r["group"]?.string ?? parsed.group, version: r["version"]?.string ?? parsed.version,
                namespaced: r["namespaced"]?.bool ?? false,
                verbs: (r["verbs"]?.array ?? []).compactMap(\.string),
                shortNames: (r["shortNames"]?.array ?? []).compactMap(\.string)))
        }
        return out
    }
}

/// The aggregated discovery documents (`/api` and `/apis` as `APIGroupDiscoveryList`) read
/// into resources per group version and preferred versions per group.
struct AggregatedDiscovery: Sendable {
    /// The `Accept` of a client that prefers aggregated discovery v2 and takes the plain
    /// documents otherwise (what kubectl sends, without the v2beta1 of older servers).
    static let accept = "application/json;g=apidiscovery.k8s.io;v=v2;as=APIGroupDiscoveryList,application/json"

    /// Resources of every group version marked current.
    var resources: [String: [APIResource]] = [:]
    /// Group → preferred version (the first listed: versions come most preferred first).
    var preferred: [String: String] = [:]

    /// Nil unless both documents are `APIGroupDiscoveryList`s (a server without aggregated
    /// discovery answers `APIVersions` and `APIGroupList`).
    init?(core: Value, groups: Value) {
        for doc in [core, groups] {
            guard doc["kind"]?.string == "APIGroupDiscoveryList", let items = doc["items"]?.array else { return nil }
            for item in items {
                let group = item[path: ["metadata", "name"]]?.string ?? ""
                let versions = item["versions"]?.array ?? []
                if let first = versions.first?["version"]?.string { preferred[group] = first }
                for v in versions {
                    guard let version = v["version"]?.string, v["freshness"]?.string ?? "Current" == "Current" else { continue }
                    let gv = group.isEmpty ? version : "\(group)/\(version)"
                    resources[gv] = (v["resources"]?.array ?? []).compactMap { r in
                        guard let name = r["resource"]?.string, !name.contains("/"), let kind = r[path: ["responseKind", "kind"]]?.string else { return nil }
                        return APIResource(name: name, singularName: r["singularResource"]?.string ?? "", kind: kind,
                                           group: group, version: version, namespaced: r["scope"]?.string == "Namespaced",
                                           verbs: (r["verbs"]?.array ?? []).compactMap(\.string),
                                           shortNames: (r["shortNames"]?.array ?? []).compactMap(\.string))
                    }
                }
            }
        }
    }
}

/// Cached discovery, one group version document at a time, primed once by aggregated discovery
/// where the server has it. A kind missing from the cached document triggers one refetch (a
/// CRD applied a moment ago), rate-limited per group version.
actor DiscoveryCache {
    private struct Entry { var resources: [APIResource]; var served: Bool; var fetchedAt: Double }
    private var entries: [String: Entry] = [:]
    /// The aggregated read, once (shared by concurrent first lookups), and whether its result
    /// is in `entries` and `preferred`.
    private var priming: Task<AggregatedDiscovery?, Never>?
    private var primed = false
    private var preferred: [String: String] = [:]
    private var inflight: [String: Task<[APIResource]?, any Error>] = [:]
    /// Minimum seconds between refetches of one group version caused by misses.
    let minRefreshInterval: Double

    init(minRefreshInterval: Double = 0.25) { self.minRefreshInterval = minRefreshInterval }

    /// The resources of `groupVersion` (nil when the server does not serve it), and whether
    /// they were fetched by this call.
    /// `aggregated` reads aggregated discovery, once, before the first lookup that is not a
    /// refresh (a refresh, for a kind missing from the cache, asks for its group version alone).
    func resources(_ groupVersion: String, refresh: Bool, aggregated: @escaping @Sendable () async -> AggregatedDiscovery?,
                   fetch: @escaping @Sendable (String) async throws -> [APIResource]?) async throws -> (resources: [APIResource]?, fresh: Bool) {
        if !refresh { await primeOnce(aggregated) }
        if let e = entries[groupVersion], !refresh || monotonicNow() - e.fetchedAt < minRefreshInterval {
            return (e.served ? e.resources : nil, false)
        }
        let task: Task<[APIResource]?, any Error>
        if let t = inflight[groupVersion] { task = t } else {
            task = Task { try await fetch(groupVersion) }
            inflight[groupVersion] = task
        }
        defer { inflight[groupVersion] = nil }
        let r = try await task.value
        entries[groupVersion] = Entry(resources: r ?? [], served: r != nil, fetchedAt: monotonicNow())
        return (r, true)
    }

    func invalidate() {
        entries.removeAll()
        priming = nil; primed = false; preferred = [:]
    }

    /// Reads aggregated discovery with `fetch` unless that was done (or is under way), and
    /// caches what it gave: group versions already fetched one at a time are kept.
    private func primeOnce(_ fetch: @escaping @Sendable () async -> AggregatedDiscovery?) async {
        if primed { return }
        let task: Task<AggregatedDiscovery?, Never>
        if let t = priming { task = t } else {
            task = Task { await fetch() }
            priming = task
        }
        let result = await task.value
        guard !primed, priming == task else { return }
        primed = true
        guard let result else { return }
        let now = monotonicNow()
        for (gv, resources) in result.resources where entries[gv] == nil {
            entries[gv] = Entry(resources: resources, served: true, fetchedAt: now)
        }
        preferred = result.preferred
    }

    /// A group's preferred version from aggregated discovery (read with `aggregated` if it was
    /// not yet); nil without aggregated discovery, or when the group is not served.
    func preferredVersion(_ group: String, aggregated: @escaping @Sendable () async -> AggregatedDiscovery?) async -> String? {
        await primeOnce(aggregated)
        return preferred[group]
    }

    func seed(_ groupVersion: String, _ resources: [APIResource]) {
        entries[groupVersion] = Entry(resources: resources, served: true, fetchedAt: monotonicNow())
    }
}

/// Percent-encodes everything but RFC 3986 unreserved characters.
func percentEncode(_ s: String) -> String {
    var out = ""
    out.reserveCapacity(s.utf8.count)
    let hex = Array("0123456789ABCDEF".utf8)
    for b in s.utf8 {
        switch b {
        case UInt8(ascii: "a")...UInt8(ascii: "z"), UInt8(ascii: "A")...UInt8(ascii: "Z"),
             UInt8(ascii: "0")...UInt8(ascii: "9"), UInt8(ascii: "-"), UInt8(ascii: "."), UInt8(ascii: "_"), UInt8(ascii: "~"):
            out.unicodeScalars.append(Unicode.Scalar(b))
        default:
            out.append("%")
            out.unicodeScalars.append(Unicode.Scalar(hex[Int(b >> 4)]))
            out.unicodeScalars.append(Unicode.Scalar(hex[Int(b & 15)]))
        }
    }
    return out
}
