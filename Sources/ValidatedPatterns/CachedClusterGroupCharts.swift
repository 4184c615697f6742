import PatternCore
import PatternCompile
import Helm

/// The clustergroup chart from outside the pattern repository through the same resolvers as
/// chart components and Application sources: a chart repository (`clusterGroupChartVersion`)
/// through `ChartArchiveResolver` (PatternSource's chart cache in the CLI and the controller),
/// a git repository (`clusterGroupGitRepoUrl`) through the pattern's git source resolver.
public struct CachedClusterGroupCharts: ClusterGroupChartResolver {
    public var charts: any ChartArchiveResolver
    public var git: (any PatternSourceResolver)?

    public init(charts: any ChartArchiveResolver, git: (any PatternSourceResolver)? = nil) {
        self.charts = charts; self.git = git
    }

    public func chart(_ source: ClusterGroupChartSource, limits: YAMLLimits) throws(Diagnostics) -> Chart {
        let location = SourceLocation(file: VPRepo.globalFile)
        switch source {
        case .path(let p):
            throw Diagnostics([.error("the clustergroup chart at \(p) is read from the repository, not fetched", at: location)])
        case .repository(let url, let name, let version):
            if url.lowercased().hasPrefix("oci://") {
                throw Diagnostics([.error("the clustergroup chart comes from the OCI registry \(url), which this build cannot fetch yet", at: location,
                                          fix: "set main.multiSourceConfig.helmRepoUrl to a chart repository (index.yaml), or vendor the chart and set main.multiSourceConfig.enabled: false")])
            }
            let fetched: (bytes: [UInt8], display: String, warnings: [String])
            do { fetched = try charts.fetchChart(ChartRepositoryRef(repo: url, name: name, version: version)) } catch {
                throw Self.located(error, at: location, what: "the clustergroup chart \(name) \(version) from \(url)")
            }
            do { return try ChartLoader(yamlLimits: limits).loadArchive(fetched.bytes, origin: fetched.display) } catch {
                throw Diagnostics(error.diagnostics)
            }
        case .git(let url, let revision, let path):
            guard let git else {
                throw Diagnostics([.error("the clustergroup chart comes from the git repository \(url), and git sources are not available here", at: location,
                                          fix: "render with the pattern CLI or controller, or vendor the chart and set main.multiSourceConfig.enabled: false")])
            }
            let tree: any SourceTree
            do { tree = try git.resolve(PatternRef.GitRef(url: url, ref: revision)).tree } catch {
                throw Self.located(error, at: location, what: "the clustergroup chart from \(url)@\(revision)")
            }
            let chartPath: TreePath
            do { chartPath = try TreePath(path) } catch {
                throw Diagnostics([.error("clustergroup chart path '\(path)': \(error)", at: location, fix: "use a path relative to the repository root")])
            }
            do { return try ChartLoader(yamlLimits: limits).load(tree: tree, path: chartPath, display: "\(url)@\(revision):\(path)") } catch {
                throw Diagnostics(error.diagnostics)
            }
        }
    }

    static func located(_ error: any Error, at location: SourceLocation, what: String) -> Diagnostics {
        if let d = error as? Diagnostics {
            return Diagnostics(d.items.map { item in
                var item = item
                if item.location == nil { item.location = location }
                item.message = "\(what): " + item.message
                return item
            })
        }
        return Diagnostics([.error("\(what): \(error)", at: location)])
    }
}
