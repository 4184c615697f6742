import PatternCore

/// The cluster a site's render is for, as an Application's `spec.destination` may name it.
public struct LocalCluster: Sendable, Hashable {
    /// The site's name and its `cluster.name` (Argo CD cluster names an Application may use).
    public var names: Set<String>
    /// API server URLs of the site's cluster (besides `https://kubernetes.default.svc`).
    public var servers: Set<String>
    public init(names: Set<String> = [], servers: Set<String> = []) { self.names = names; self.servers = servers }
}

/// Where an expanded Application deploys (`spec.destination.server` / `.name`), as Argo CD users
/// write it and as pattern's one-cluster-per-site model can honour it:
///
/// - no destination cluster, `server: https://kubernetes.default.svc` (Argo CD's own cluster),
///   `name: in-cluster`, or the site's name, `cluster.name` or server URL: this site's cluster,
///   expanded here;
/// - the name (or `clusters`-generator `server`) of another site of the pattern: that site's
///   Application, skipped here with a warning (its own render expands it);
/// - anything else: an error, since pattern would otherwise apply it to the wrong cluster.
public enum Destinations {
    /// Argo CD's in-cluster destination.
    public static let inClusterServer = "https://kubernetes.default.svc"
    public static let inClusterName = "in-cluster"

    public enum Target: Sendable, Hashable {
        case here
        case otherSite(String)
    }

    public static func target(of app: Application, local: LocalCluster,
                              clusters: @Sendable () throws(Diagnostics) -> [ApplicationSetCluster],
                              at loc: SourceLocation) throws(Diagnostics) -> Target {
        let d = app.destination
        let server = d.server.map(normalize).flatMap { $0.isEmpty ? nil : $0 }
        let name = d.name.flatMap { $0.isEmpty ? nil : $0 }
        if server != nil && name != nil {
            throw Diagnostics([.error("Application \(app.name) sets both spec.destination.server and spec.destination.name", at: loc,
                                      fix: "keep one of them (Argo CD refuses both)")])
        }
        if server == nil && name == nil { return .here }
        if let server, server == inClusterServer || local.servers.contains(where: { normalize($0) == server }) || local.names.contains(server) {
            return .here
        }
        if let name, name == inClusterName || local.names.contains(name) { return .here }
        let wanted = server ?? name!
        for c in try clusters() where c.name == wanted || c.server == wanted { return .otherSite(c.name) }
        let field = server != nil ? "spec.destination.server" : "spec.destination.name"
        let here = local.names.sorted().first.map { "site '\($0)'" } ?? "this site"
        throw Diagnostics([.error("Application \(app.name) deploys to cluster '\(wanted)' (\(field)), which is neither \(here)'s cluster nor another site's",
                                  at: loc,
                                  fix: "point \(field) at this cluster (\(server != nil ? inClusterServer : inClusterName)), name the site that is that cluster (its site name or cluster.name), or keep Applications (applications: keep) so Argo CD deploys it")])
    }

    /// A server URL without a trailing slash.
    static func normalize(_ s: String) -> String {
        var s = s
        while s.hasSuffix("/") { s.removeLast() }
        return s
    }
}
