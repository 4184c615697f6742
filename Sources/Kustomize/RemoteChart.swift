import PatternCore
import HelmTemplate
import Helm

/// A chart a `helmCharts:` entry names by `repo:` (an `https://` chart repository or an
/// `oci://` registry) rather than vendors under `chartHome`.
public struct RemoteChartRequest: Sendable, Hashable, CustomStringConvertible {
    /// `https://host/path` (the directory holding `index.yaml`) or `oci://host/path`.
    public var repo: String
    public var name: String
    /// The entry's `version` (`""`: the highest stable version, as `helm pull` picks).
    public var version: String

    public init(repo: String, name: String, version: String) {
        self.repo = repo; self.name = name; self.version = version
    }

    /// True for an `oci://` registry.
    public var isOCI: Bool { repo.lowercased().hasPrefix("oci://") }

    /// What `helm pull` is given: `oci://host/path/<name>` for a registry (Kustomize appends
    /// the name to an `oci://` repo), else the repository URL.
    public var pullURL: String {
        guard isOCI else { return repo }
        var base = repo
        while base.hasSuffix("/") { base.removeLast() }
        return base + "/" + name
    }

    /// True when `version` names one exact version (`1.2.3`, `v1.2.3`, `1.2.3-rc.1+build`):
    /// a pin. An empty version, a partial one (`1.2`, which Helm reads as a range) or a range
    /// (`^1.2`, `1.x`, `>=1 <2`) is not.
    public var isPinned: Bool {
        var v = Substring(version.trimmingSpaces)
        if v.hasPrefix("v") { v = v.dropFirst() }
        let core = v.prefix { $0 != "-" && $0 != "+" }
        let parts = core.split(separator: ".", omittingEmptySubsequences: false)
        guard parts.count == 3, parts.allSatisfy({ p in !p.isEmpty && p.unicodeScalars.allSatisfy { $0 >= "0" && $0 <= "9" } }) else { return false }
        return !v.contains(" ") && !v.contains(",") && (try? SemanticVersion(String(v))) != nil
    }

    public var description: String { "\(pullURL)\(isOCI ? "" : " chart \(name)")\(version.isEmpty ? "" : " version \(version)")" }
}

/// A chart archive fetched for a `helmCharts:` entry.
public struct RemoteChart: Sendable {
    /// The `.tgz` bytes, already checked against the repository's digest.
    public var archive: [UInt8]
    /// The version picked.
    public var version: String
    /// `sha256:<hex>` of the archive.
    public var digest: String
    /// True when the repository could not be reached and the last good copy was used.
    public var stale: Bool

    public init(archive: [UInt8], version: String, digest: String, stale: Bool = false) {
        self.archive = archive; self.version = version; self.digest = digest; self.stale = stale
    }
}

/// Fetches `helmCharts:` charts named by `repo:` (implemented over PatternSource's chart
/// repository and OCI resolvers and their cache, outside this module).
public protocol RemoteChartLoader: Sendable {
    func loadChart(_ request: RemoteChartRequest) throws(RemoteBaseError) -> RemoteChart
}

extension HelmChartsGenerator {
    /// Fetches the chart of a `helmCharts:` entry with `repo:` through `loader.remote.charts`,
    /// with the remote-base pinning rule: the entry's `version` must be one exact version
    /// unless unpinned remotes are allowed. Returns the chart and its display name.
    static func fetchRemote(_ s: Spec, loader: TreeLoader, loc: SourceLocation, looked: [String]) throws(Diagnostics) -> (Chart, String) {
        func fail(_ m: String, _ fix: String) -> Diagnostics { Diagnostics([.error(m, at: loc, fix: fix)]) }
        let request = RemoteChartRequest(repo: s.repo.trimmingSpaces, name: s.name, version: s.version.trimmingSpaces)
        let lower = request.repo.lowercased()
        guard lower.hasPrefix("https://") || lower.hasPrefix("http://") || lower.hasPrefix("oci://") else {
            throw fail("helmCharts repo '\(request.repo)' is not an https:// chart repository or an oci:// registry",
                       "use the chart repository's URL (the directory holding index.yaml) or oci://host/path")
        }
        guard !s.name.contains("/"), s.name != ".", s.name != ".." else {
            throw fail("helmCharts name '\(s.name)' is not a chart name", "use the chart's name as the repository lists it")
        }
        guard let charts = loader.remote.charts else {
            throw fail("chart '\(s.name)' is not in \(looked.joined(separator: " or ")) and this build does not download charts (repo \(request.repo))",
                       "vendor the chart into \(looked.last ?? "charts/\(s.name)"), or render with remote resources enabled (pattern render and site compiles fetch charts through the source cache)")
        }
        if !request.isPinned && !loader.remote.allowUnpinned {
            let why = request.version.isEmpty ? "has no version (the repository's newest version changes)"
                : "version '\(request.version)' is not one exact version"
            throw fail("helmCharts chart '\(s.name)' from \(request.repo) is not pinned: it \(why)",
                       "set version: to one exact chart version (e.g. 1.2.3), or allow unpinned remotes explicitly")
        }
        let fetched: RemoteChart
        do throws(RemoteBaseError) { fetched = try charts.loadChart(request) } catch {
            throw fail("helmCharts chart '\(s.name)' from \(request.repo): \(error.message)", error.fix)
        }
        var repo = request.repo
        while repo.hasSuffix("/") { repo.removeLast() }
        let display = request.isOCI ? "\(request.pullURL):\(fetched.version)" : "\(repo)/\(s.name)-\(fetched.version).tgz"
        let chart: Chart
        do throws(ChartError) { chart = try ChartLoader(yamlLimits: loader.limits.yaml).loadArchive(fetched.archive, origin: display) } catch {
            throw Diagnostics(error.diagnostics)
        }
        if chart.metadata.name != s.name {
            throw fail("\(display) holds chart '\(chart.metadata.name)', not '\(s.name)'", "check the entry's name and repo")
        }
        return (chart, display)
    }
}
