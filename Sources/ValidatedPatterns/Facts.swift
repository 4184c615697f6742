import PatternCore
import PatternCompile
import KubeClient

/// The cluster facts the Validated Patterns operator injects as Helm parameters
/// (`global.clusterPlatform`, `global.clusterVersion`, …), kept in a file the user commits,
/// `overlays/<site>/facts.yaml`, so every render (laptop, CI, controller) is reproducible offline:
///
/// ```yaml
/// apiVersion: pattern.dev/v1alpha1
/// kind: SiteFacts
/// metadata: {name: hub}
/// spec:
///   kubeVersion: v1.31.2
///   global:
///     clusterPlatform: AWS
///     clusterVersion: "4.18"
///     localClusterDomain: apps.hub.example.com
/// ```
///
/// `pattern facts <site>` writes it from the cluster; the site's overlay `values.global.*`
/// still wins over it.
public struct SiteFacts: Sendable, Hashable {
    /// The `global.*` keys a facts file may set, as the operator names them.
    public static let keys = ["pattern", "namespace", "repoURL", "originURL", "targetRevision", "hubClusterDomain",
                              "localClusterDomain", "clusterDomain", "clusterPlatform", "clusterVersion", "localClusterName"]
    public static let kind = "SiteFacts"

    /// `global.<key>` → value (keys from `SiteFacts.keys`).
    public var global: [String: String]
    /// The Kubernetes version (`.Capabilities.KubeVersion` of the render).
    public var kubeVersion: String?

    public init(global: [String: String] = [:], kubeVersion: String? = nil) {
        self.global = global; self.kubeVersion = kubeVersion
    }

    /// `overlays/<site>/facts.yaml`.
    public static func path(site: String, workspace: Workspace) -> TreePath {
        workspace.overlaysDir.appending(site).appending("facts.yaml")
    }

    /// The facts file of `site` as a values layer (`{global: …}`, marks kept for `--explain`)
    /// and its Kubernetes version; nil when the site has none.
    public static func load(site: String, workspace: Workspace) throws(Diagnostics) -> (layer: Value, file: String, kubeVersion: String?)? {
        let p = path(site: site, workspace: workspace)
        guard workspace.tree.resolvedKind(p) == .file else { return nil }
        let docs = try workspace.readYAML(p)
        guard let doc = docs.first?.value, let top = doc.object else {
            throw Diagnostics([.error("facts file is empty or not a map", at: SourceLocation(file: p.string),
                                      fix: "write it again with `pattern facts \(site)`")])
        }
        var problems: [Diagnostic] = []
        if top["kind"]?.string != kind {
            problems.append(.error("expected 'kind: \(kind)' in a facts file", at: SourceLocation(file: p.string, mark: (top["kind"] ?? doc).mark),
                                   fix: "write it again with `pattern facts \(site)`"))
        }
        let spec = top["spec"] ?? .emptyObject
        var global = Object()
        if let g = spec["global"]?.object {
            for (k, v) in g {
                if !keys.contains(k) {
                    problems.append(.error("unknown fact 'global.\(k)'", at: SourceLocation(file: p.string, mark: g.keyMark(k) ?? v.mark),
                                           fix: "facts are \(keys.joined(separator: ", ")); put other values in the site's overlay"))
                } else if !v.isScalar || v.isNull {
                    problems.append(.error("fact 'global.\(k)' must be a string", at: SourceLocation(file: p.string, mark: v.mark)))
                } else {
                    global.set(k, v, keyMark: g.keyMark(k) ?? .none)
                }
            }
        }
        if !problems.isEmpty { throw Diagnostics(problems) }
        return (Value(.object(["global": Value(.object(global))])), p.string, spec["kubeVersion"]?.scalarText)
    }

    /// The facts as a document: `apiVersion: pattern.dev/v1alpha1`, `kind: SiteFacts`,
    /// `metadata.name` (the site) and `spec` (`kubeVersion`, `global` with keys sorted).
    public func document(site: String) -> Value {
        var g = Object()
        for k in global.keys.sorted() { g[k] = .string(global[k]!) }
        var spec = Object()
        if let kubeVersion { spec["kubeVersion"] = .string(kubeVersion) }
        spec["global"] = .object(g)
        return ["apiVersion": .string(patternAPIVersion), "kind": .string(SiteFacts.kind),
                "metadata": ["name": .string(site)], "spec": .object(spec)]
    }

    /// The facts file text (keys sorted, so rewriting unchanged facts changes no byte).
    public func fileText(site: String) -> String {
        "# Cluster facts of site '\(site)', written by `pattern facts \(site)`; commit this file so renders are reproducible.\n"
            + YAMLEmitter().emit(document(site: site))
    }

    /// Facts from the API answers the operator reads: `/version`, and on OpenShift the
    /// `config.openshift.io/v1` Infrastructure `cluster` (`spec.platformSpec.type`),
    /// ClusterVersion `version` (last Completed history entry, else `status.desired`) and
    /// Ingress `cluster` (`spec.domain`: `apps.<name>.<domain>`). `hubClusterDomain` is not a
    /// fact of one cluster: the layout takes it from the hub's facts.
    public static func from(version: Value, infrastructure: Value?, clusterVersion: Value?, ingress: Value?) -> SiteFacts {
        var f = SiteFacts()
        f.kubeVersion = version["gitVersion"]?.string
        if let platform = infrastructure?[path: ["spec", "platformSpec", "type"]]?.string ?? infrastructure?[path: ["status", "platformStatus", "type"]]?.string,
           !platform.isEmpty {
            f.global["clusterPlatform"] = platform
        }
        var v: String? = nil
        if let cv = clusterVersion {
            for h in cv[path: ["status", "history"]]?.array ?? [] where h["state"]?.string == "Completed" {
                v = h["version"]?.string; break
            }
            v = v ?? cv[path: ["status", "desired", "version"]]?.string
        } else if let major = version["major"]?.string, let minor = version["minor"]?.string {
            v = major + "." + minor.filter(\.isNumber)
        }
        if let v {
            let parts = v.split(separator: ".")
            if parts.count >= 2 { f.global["clusterVersion"] = parts[0] + "." + parts[1] }
        }
        if let domain = ingress?[path: ["spec", "domain"]]?.string, !domain.isEmpty {
            let labels = domain.split(separator: ".").map(String.init)
            f.global["localClusterDomain"] = domain
            if labels.count > 1 {
                f.global["clusterDomain"] = labels.dropFirst().joined(separator: ".")
                f.global["localClusterName"] = labels[1]
            }
        }
        return f
    }

    /// Reads the facts from a cluster: `/version` always, the OpenShift config objects when
    /// the server serves `config.openshift.io/v1` (other clusters have no platform or domain).
    public static func read(from client: KubeClient) async throws(KubeError) -> SiteFacts {
        let version = try await client.serverVersion()
        let served = try await client.groupVersionResources("config.openshift.io/v1") ?? []
        func object(_ kind: String, _ name: String) async throws(KubeError) -> Value? {
            guard served.contains(where: { $0.kind == kind }) else { return nil }
            return try await client.getIfPresent(GroupVersionKind(group: "config.openshift.io", version: "v1", kind: kind), name: name)
        }
        return from(version: version, infrastructure: try await object("Infrastructure", "cluster"),
                    clusterVersion: try await object("ClusterVersion", "version"), ingress: try await object("Ingress", "cluster"))
    }
}
