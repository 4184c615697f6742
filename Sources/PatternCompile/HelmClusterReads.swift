import PatternCore
import Helm

/// What a site render read from its cluster for Helm charts: the discovered `.Capabilities`
/// and every `lookup` answer. Recorded in the site's cache by renders that read the cluster
/// and replayed by those that do not (`pattern render`, `--offline`), so they give the same
/// bytes.
///
/// Stored as JSON:
/// `{"apiVersion":"pattern.dev/v1alpha1","kind":"HelmClusterReads","site":…,
///   "capabilities":{"kubeVersion":"v1.31.2","apiVersions":[…]},"lookups":{…HelmLookupRecording…}}`.
public struct HelmClusterReads: Sendable, Hashable {
    /// The site the reads belong to.
    public var site: String
    /// The server's `gitVersion` from `/version`, when discovered.
    public var kubeVersion: String?
    /// Group/versions and `group/version/Kind` entries the server serves, when discovered.
    public var apiVersions: [String]?
    /// `lookup` answers.
    public var lookups: LookupRecording

    public init(site: String, kubeVersion: String? = nil, apiVersions: [String]? = nil, lookups: LookupRecording = LookupRecording()) {
        self.site = site; self.kubeVersion = kubeVersion; self.apiVersions = apiVersions; self.lookups = lookups
    }

    /// The discovered capabilities (nil when nothing was discovered).
    public func discoveredCapabilities() -> Capabilities? {
        guard let kv = kubeVersion.flatMap(KubeVersion.init), let apis = apiVersions else { return nil }
        return Capabilities(kubeVersion: kv, apiVersions: apis)
    }

    /// The reads as a JSON document.
    public func encoded() -> Value {
        var doc: Value = ["apiVersion": "pattern.dev/v1alpha1", "kind": "HelmClusterReads", "site": .string(site),
                          "lookups": lookups.encoded()]
        if let kubeVersion, let apiVersions {
            doc["capabilities"] = ["kubeVersion": .string(kubeVersion), "apiVersions": .array(apiVersions.map { .string($0) })]
        }
        return doc
    }

    /// Reads a document written by `encoded()`.
    public init(decoding v: Value, file: String) throws(Diagnostic) {
        guard v["kind"]?.string == "HelmClusterReads", let site = v["site"]?.string, let l = v["lookups"] else {
            throw Diagnostic.error("not a recording of cluster reads (kind HelmClusterReads with site and lookups)",
                                   at: SourceLocation(file: file, mark: v.mark),
                                   fix: "delete the file; the next `pattern diff` or `pattern apply` of the site records it again")
        }
        self.site = site
        lookups = try LookupRecording(decoding: l, file: file)
        if let c = v["capabilities"] {
            guard let kv = c["kubeVersion"]?.string, KubeVersion(kv) != nil, let list = c["apiVersions"]?.array else {
                throw Diagnostic.error("recorded capabilities need kubeVersion and apiVersions", at: SourceLocation(file: file, mark: c.mark),
                                       fix: "delete the file; the next `pattern diff` or `pattern apply` of the site records it again")
            }
            kubeVersion = kv
            apiVersions = list.compactMap(\.string)
        }
    }
}

extension OverlaySpec {
    /// `cluster.helm` of a chain: the last overlay that sets it wins (the site over its groups).
    public static func helmSettings(_ chain: [OverlaySpec]) -> HelmClusterSettings {
        chain.reversed().lazy.compactMap(\.cluster.helm).first ?? HelmClusterSettings()
    }
}
