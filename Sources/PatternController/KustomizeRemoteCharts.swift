import PatternCore
import PatternSource
import Kustomize

/// Pulls Kustomize `helmCharts:` charts named by `repo:` through PatternSource's chart
/// repository and OCI resolvers: the same content-addressed cache, digest checks, offline,
/// last-good and freshness rules as chart components (`Docs/sources.md`). No credentials:
/// Kustomize passes none to `helm pull` either. An `oci://` registry on a loopback host
/// (`localhost`, `127.0.0.1`, `::1`) is spoken to over plain HTTP, as Helm's registry client
/// (containerd's `MatchLocalhost`) does; every other registry over https.
public struct CachedRemoteChartLoader: RemoteChartLoader {
    public let resolver: SourceResolver

    public init(resolver: SourceResolver) { self.resolver = resolver }

    /// True for `oci://localhost[:port]/…`, `oci://127.0.0.1…`, `oci://[::1]…`.
    public static func isLoopback(_ ociURL: String) -> Bool {
        var rest = Substring(ociURL.dropFirst("oci://".count))
        if let slash = rest.firstIndex(of: "/") { rest = rest[..<slash] }
        var host = rest
        if host.hasPrefix("[") { host = host.dropFirst().prefix { $0 != "]" } }
        else if let colon = host.lastIndex(of: ":") { host = host[..<colon] }
        return host.lowercased() == "localhost" || host == "127.0.0.1" || host == "::1"
    }

    public func loadChart(_ request: RemoteChartRequest) throws(RemoteBaseError) -> RemoteChart {
        let version = request.version.isEmpty ? nil : request.version
        let ref = request.isOCI
            ? ChartReference(oci: request.pullURL, version: version, plainHTTP: Self.isLoopback(request.pullURL))
            : ChartReference(repo: request.repo, name: request.name, version: version)
        do throws(SourceError) {
            let r = try ChartSourceResolver(settings: resolver).resolve(ref)
            guard let bytes = r.readArchive() else {
                throw SourceError(.invalidSource, "cannot read cached chart archive '\(r.archivePath)'", fix: "delete it; the next run fetches it again")
            }
            return RemoteChart(archive: bytes, version: r.version, digest: r.digest, stale: r.stale)
        } catch {
            throw RemoteBaseError(error.message, fix: error.fix ?? "check repo, name and version, or vendor the chart under chartHome")
        }
    }
}
