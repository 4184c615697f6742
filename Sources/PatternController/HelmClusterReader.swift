import PatternCore
import PatternCompile
import Helm
import KubeClient

/// Feeds the Helm charts of a site whose `cluster.helm` asks for it from its cluster — the one
/// implementation of the CLI (`pattern diff`/`apply`) and the controller (`PatternSync`):
/// `.Capabilities` from `/version` and discovery, `lookup` answers from read-only GET/LISTs.
///
/// The template functions are synchronous and never wait for the cluster: a render is a
/// pre-render pass in which `lookup` answers from what was read so far and collects the calls
/// it could not answer; those objects are then read (async, off the template engine) and the
/// site is compiled again, until a pass needs nothing new (a lookup whose arguments come from
/// another lookup's answer takes one more pass). Bounded: `maxPasses` passes, `maxLookups`
/// reads per render.
public enum HelmClusterReader {
    public static let maxPasses = 4
    public static let maxLookups = 256

    /// Compiles `site` in passes: `compile` gets what was read so far and, for `lookup: live`,
    /// the collector of calls it could not answer. `reads` holds what is already known (a
    /// replayed recording for `lookup: replay`); discovery runs here when the settings ask
    /// for it. Returns the last pass's result (success or compile errors) and every read;
    /// throws for a failed read or discovery and for the bounds.
    public static func compile(site: String, settings: HelmClusterSettings, client: KubeClient, reads start: HelmClusterReads,
                               compile: (HelmClusterReads, LookupMisses?) async -> Result<RenderedSite, Diagnostics>)
        async throws(Diagnostic) -> (result: Result<RenderedSite, Diagnostics>, reads: HelmClusterReads) {
        var reads = start
        if settings.capabilities == .discover {
            do {
                (reads.kubeVersion, reads.apiVersions) = try await discover(client)
            } catch {
                throw Diagnostic.error("cannot discover the cluster's version and API groups for site '\(site)': \(error)",
                                       fix: "check the connection, or set cluster.helm.capabilities: declared with cluster.kubeVersion/apiVersions")
            }
        }
        var count = 0
        for pass in 1...maxPasses {
            let misses = LookupMisses()
            let result = await compile(reads, settings.lookup == .live ? misses : nil)
            let missing = misses.missing
            if missing.isEmpty { return (result, reads) }
            if pass == maxPasses { break }
            for key in missing {
                count += 1
                if count > maxLookups {
                    throw Diagnostic.error("site '\(site)': the charts' lookup calls need more than \(maxLookups) reads",
                                           fix: "look up fewer objects (a LIST with an empty name reads a whole kind in one call)")
                }
                reads.lookups.entries[key] = try await read(key, client: client, settings: settings, site: site)
            }
        }
        throw Diagnostic.error("site '\(site)': lookup calls still asked for new objects after \(maxPasses) render passes (each lookup's arguments come from another lookup's answer)",
                               fix: "make lookup arguments depend on values, not on other lookups, at most \(maxPasses - 1) levels deep")
    }

    /// `.Capabilities` from the cluster: `/version`'s `gitVersion`; every served group/version
    /// (`/api`, `/apis`) and `group/version/Kind` of the preferred versions, as Helm's
    /// `GetVersionSet`; sorted.
    public static func discover(_ client: KubeClient) async throws -> (String, [String]) {
        let version = try await client.serverVersion()
        guard let git = version["gitVersion"]?.string, KubeVersion(git) != nil else {
            throw Diagnostic.error("the server's /version has no usable gitVersion")
        }
        var set: Set<String> = []
        for v in try await client.sendJSON(.get, "/api")["versions"]?.array ?? [] { if let s = v.string { set.insert(s) } }
        for g in try await client.sendJSON(.get, "/apis")["groups"]?.array ?? [] {
            for v in g["versions"]?.array ?? [] { if let gv = v["groupVersion"]?.string { set.insert(gv) } }
        }
        for r in try await client.serverResources() { set.insert(r.groupVersion + "/" + r.kind) }
        return (git, set.sorted())
    }

    /// One `lookup`, read-only. A kind the server does not serve finds nothing (an empty map).
    /// Secrets only when the site allows them.
    public static func read(_ key: LookupRecording.Key, client: KubeClient, settings: HelmClusterSettings, site: String) async throws(Diagnostic) -> Value {
        let gvk = GroupVersionKind(apiVersion: key.apiVersion, kind: key.kind)
        if gvk.group.isEmpty && key.kind == "Secret" && !settings.lookupSecrets {
            throw Diagnostic.error("site '\(site)': a chart looks up Secret \(key.namespace.isEmpty ? "" : key.namespace + "/")\(key.name.isEmpty ? "(all)" : key.name), and the site does not allow Secret lookups",
                                   fix: "set cluster.helm.lookupSecrets: true in the site's overlay (the Secret's data is then kept in the site's recorded reads)")
        }
        do {
            if key.name.isEmpty {
                return LookupRecording.answer(items: try await client.list(gvk, namespace: key.namespace.isEmpty ? nil : key.namespace).items)
            }
            return LookupRecording.answer(object: try await client.getIfPresent(gvk, name: key.name, namespace: key.namespace.isEmpty ? nil : key.namespace))
        } catch {
            if case .unknownKind = error { return .emptyObject }
            throw Diagnostic.error("site '\(site)': lookup \(key.apiVersion) \(key.kind) \(key.namespace)/\(key.name) failed: \(error)",
                                   fix: "check the identity's read access to that kind, or set cluster.helm.lookup: off")
        }
    }
}
