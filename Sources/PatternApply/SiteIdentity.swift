import PatternCore
import PatternCompile

/// How a (pattern, site) pair is identified in a cluster: the ownership labels the compiler
/// puts on every object, the label selector Observe lists with, and where inventory and
/// ledger live.
public struct SiteIdentity: Sendable, Hashable {
    public var pattern: String
    public var site: String
    /// Namespace holding the inventory and ledger ConfigMaps.
    public var recordNamespace: String

    public init(pattern: String, site: String, recordNamespace: String = "pattern-system") {
        self.pattern = pattern; self.site = site; self.recordNamespace = recordNamespace
    }

    public init(_ r: RenderedSite, recordNamespace: String = "pattern-system") {
        self.init(pattern: r.pattern, site: r.site, recordNamespace: recordNamespace)
    }

    /// `pattern.dev/pattern=<p>,pattern.dev/site=<s>`: what one LIST per kind selects.
    public var labelSelector: String { "\(PatternLabels.pattern)=\(pattern),\(PatternLabels.site)=\(site)" }

    /// True when a live object carries this site's ownership labels.
    public func owns(_ live: Value) -> Bool {
        let l = live.labels
        return l[PatternLabels.pattern]?.string == pattern && l[PatternLabels.site]?.string == site
    }

    /// Name stem of the record objects: `pattern-<pattern>-<site>` (truncated with a hash when long).
    public var recordName: String {
        let raw = "pattern-\(pattern)-\(site)"
        if raw.count <= 200 { return raw }
        return String(raw.prefix(180)) + "-" + String(SHA256.hex(raw).prefix(12))
    }
}
