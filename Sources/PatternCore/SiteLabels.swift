/// The labels a selector sees for a site.
///
/// 1. `cluster.labels` of every overlay in the site's chain, merged in chain order (a later
///    overlay — the site last — overrides an earlier one's value for the same key);
/// 2. `pattern.dev/site: <site>`;
/// 3. `group.pattern.dev/<name>: ""` for every other overlay in the chain (the groups the site
///    extends, directly or not), so `group.pattern.dev/edge` selects the sites of group edge;
/// 4. `pattern.dev/cluster: <cluster.name>` and `pattern.dev/context: <cluster.context>` when the
///    chain sets them.
///
/// The `pattern.dev/` and `group.pattern.dev/` keys are set by pattern and override a
/// `cluster.labels` entry of the same key.
public enum SiteLabels {
    public static let siteKey = "pattern.dev/site"
    public static let groupPrefix = "group.pattern.dev/"
    public static let clusterKey = "pattern.dev/cluster"
    public static let contextKey = "pattern.dev/context"

    /// One overlay of a chain, as far as labels go.
    public struct Layer: Sendable {
        public var name: String
        public var clusterLabels: [String: String]
        public var clusterName: String?
        public var context: String?
        public init(name: String, clusterLabels: [String: String], clusterName: String? = nil, context: String? = nil) {
            self.name = name; self.clusterLabels = clusterLabels; self.clusterName = clusterName; self.context = context
        }
    }

    /// The labels of `site` whose overlay chain is `chain` (extended overlays first, the site last).
    public static func labels(site: String, chain: [Layer]) -> [String: String] {
        var out: [String: String] = [:]
        var clusterName: String? = nil, context: String? = nil
        for layer in chain {
            for (k, v) in layer.clusterLabels { out[k] = v }
            if let n = layer.clusterName { clusterName = n }
            if let c = layer.context { context = c }
        }
        for layer in chain where layer.name != site { out[groupPrefix + layer.name] = "" }
        out[siteKey] = site
        if let clusterName { out[clusterKey] = clusterName }
        if let context { out[contextKey] = context }
        return out
    }
}
