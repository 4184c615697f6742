import PatternCore
import Helm

/// Fetches chart archives for chart components that name a chart repository. Implemented
/// over `PatternSource.ChartSourceResolver` (cache, digests, offline, mirrors) by
/// `GitPatternResolver` in PatternController, which the CLI and the controller pass to
/// `SiteCompiler` as its resolver.
public protocol ChartArchiveResolver: Sendable {
    /// The archive's bytes (already checked against its digest) and a display name
    /// (`<repo>/<name>-<version>.tgz`), plus warnings (stale cache, failed mirrors).
    func fetchChart(_ ref: ChartRepositoryRef) throws -> (bytes: [UInt8], display: String, warnings: [String])
    /// The same with credentials given as values (an Argo CD repository Secret in the render)
    /// rather than named in `ref.credentials`. The default ignores `secrets`.
    func fetchChart(_ ref: ChartRepositoryRef, secrets: ChartRepositorySecrets) throws -> (bytes: [UInt8], display: String, warnings: [String])
}

extension ChartArchiveResolver {
    public func fetchChart(_ ref: ChartRepositoryRef, secrets: ChartRepositorySecrets) throws -> (bytes: [UInt8], display: String, warnings: [String]) {
        try fetchChart(ref)
    }
}

/// Credentials as values, for one fetch: never stored in a `ChartRepositoryRef` (which the
/// ledger records), never printed.
public struct ChartRepositorySecrets: Sendable, CustomStringConvertible {
    public var username: String?
    public var password: String?
    public init(username: String? = nil, password: String? = nil) { self.username = username; self.password = password }
    public var isEmpty: Bool { username == nil && password == nil }
    public var description: String { isEmpty ? "no credentials" : "credentials for \(username ?? "<no user>")" }
}

/// `chart: {repo, name, version, digest, mirrors, credentials}` of a chart component, or
/// `chart: {oci: oci://host[:port]/path/chart, version, digest, mirrors, credentials, plainHTTP}`
/// (then `repo` holds the `oci://` URL, `name` is its last path component and `digest` pins the
/// manifest).
public struct ChartRepositoryRef: Sendable, Hashable {
    public var repo: String
    public var mirrors: [String]
    public var name: String
    public var version: String?
    public var digest: String?
    /// Where credentials come from: `username`, `passwordEnv`, `passwordFile`, `tokenEnv`,
    /// `tokenFile`, `caBundle` (never the secrets).
    public var credentials: [String: String]
    /// OCI only: plain HTTP to the registry (`helm --plain-http`).
    public var plainHTTP: Bool
    public var mark: Mark

    /// A reference made by code (Application sources, Validated Patterns' clustergroup chart)
    /// rather than read from a pattern file; `mark` is where it was read, if anywhere.
    public init(repo: String, mirrors: [String] = [], name: String, version: String? = nil, digest: String? = nil,
                credentials: [String: String] = [:], plainHTTP: Bool = false, mark: Mark = Mark(line: 0, column: 0)) {
        self.repo = repo; self.mirrors = mirrors; self.name = name; self.version = version; self.digest = digest
        self.credentials = credentials; self.plainHTTP = plainHTTP; self.mark = mark
    }

    /// True when `repo` is an `oci://` registry reference.
    public var isOCI: Bool { repo.lowercased().hasPrefix("oci://") }

    static let known = ["repo", "name", "version", "digest", "mirrors", "credentials", "oci", "plainHTTP"]
    public static let credentialKeys = ["username", "passwordEnv", "passwordFile", "tokenEnv", "tokenFile", "caBundle"]

    static func decode(_ o: Object, at v: Value, reader r: inout FieldReader) -> ChartRepositoryRef? {
        let oci = o["oci"] != nil
        guard oci || o["repo"] != nil || o["name"] != nil || o["version"] != nil || o["digest"] != nil else { return nil }
        if o["path"] != nil {
            r.error("a chart has one of 'path', 'repo' + 'name' or 'oci', not several", at: v, fix: "remove all but one of them")
        }
        var repo = "", name = ""
        if oci {
            if o["repo"] != nil || o["name"] != nil {
                r.error("a chart has either 'oci' or 'repo' + 'name', not both", at: v,
                        fix: "for an OCI registry write only oci: oci://host/path/chart (the chart name is its last component)")
            }
            repo = r.string(o, "oci", in: "chart", required: true) ?? ""
            var trimmed = repo
            while trimmed.hasSuffix("/") { trimmed.removeLast() }
            name = String(trimmed.split(separator: "/").last ?? "")
            if !repo.lowercased().hasPrefix("oci://") || trimmed.dropFirst(6).split(separator: "/").count < 2, let ov = o["oci"] {
                r.error("chart 'oci' must be oci://host[:port]/path/chart, found '\(repo)'", at: ov,
                        fix: "write the registry, repository path and chart name, e.g. oci://ghcr.io/acme/charts/web")
            }
        } else {
            if let pv = o["plainHTTP"] { r.error("'plainHTTP' applies to OCI registries only", at: pv, fix: "remove it, or use chart.oci") }
            repo = r.string(o, "repo", in: "chart", required: true) ?? ""
            name = r.string(o, "name", in: "chart", required: true) ?? ""
        }
        var version: String? = nil
        if let vv = o["version"], !vv.isNull {
            if let s = vv.string { version = s } else {
                r.error("'version' in chart must be a string, found \(vv.typeName) \(vv.description)", at: vv,
                        fix: "quote the version so YAML keeps it as written, e.g. version: \"1.10\"")
            }
        }
        var creds: [String: String] = [:]
        if let co = r.object(o["credentials"], "chart.credentials") {
            r.checkKnown(co, credentialKeys, in: "chart.credentials")
            for k in credentialKeys { if let s = r.string(co, k, in: "chart.credentials") { creds[k] = s } }
        }
        return ChartRepositoryRef(repo: repo, mirrors: r.strings(o, "mirrors", in: "chart").map(\.0), name: name, version: version,
                                  digest: r.string(o, "digest", in: "chart"), credentials: creds,
                                  plainHTTP: oci ? (r.bool(o, "plainHTTP", in: "chart") ?? false) : false, mark: v.mark)
    }

    static func fetch(_ ref: ChartRepositoryRef, with resolver: (any ChartArchiveResolver)?, component: String,
                      at location: SourceLocation, warnings: ChartFetchWarnings?) throws(Diagnostics) -> (bytes: [UInt8], display: String) {
        guard let resolver else {
            throw Diagnostics([.error("component '\(component)': charts from chart repositories are not available here", at: location,
                                      fix: "render with the pattern CLI or controller, or vendor the chart into the pattern (chart.path)")])
        }
        do {
            let r = try resolver.fetchChart(ref)
            for w in r.warnings { warnings?.add(Diagnostic(.warning, at: location, "component '\(component)': \(w)")) }
            return (r.bytes, r.display)
        } catch let d as Diagnostics {
            throw Diagnostics(d.items.map { item in
                var item = item
                if item.location == nil { item.location = location }
                item.message = "component '\(component)': " + item.message
                return item
            })
        } catch {
            throw Diagnostics([.error("component '\(component)': cannot fetch chart \(ref.name): \(error)", at: location)])
        }
    }
}

/// Warnings of chart fetches (stale cache, failed mirrors) and chart renders, collected from
/// the concurrent chart renders and reported by the site compiler.
typealias ChartFetchWarnings = ChartWarningSink
