import ArgumentParser
import PatternCore
import PatternCompile
import PatternReport
import PatternSource
import Kustomize
import Helm

/// `pattern render`: compile sites (or a plain Kustomize directory) into manifests.
public struct RenderCommand: AsyncParsableCommand {
    public static let configuration = CommandConfiguration(
        commandName: "render",
        abstract: "Compile a site (pattern + overlays) into Kubernetes manifests, offline.",
        usage: "pattern render (<site> | --all | <dir>) [-o yaml|json]\n  [--out-dir <dir>] [--commit-to <branch>] [-C <repo>]",
        discussion: """
            Objects come out in apply order (CRDs and namespaces first, then the usual kind order), each \
            labelled with its pattern, site and component and annotated with the rendered revision (a \
            content hash of the output). The same inputs always give identical bytes.

            Examples:
              pattern render hub                      the hub site as YAML on stdout
              pattern render edge-eu -o json          as a JSON List
              pattern render --all -o json            one List holding one List per site
              pattern render --all --out-dir out/     every site, one file per object:
                                                      out/<site>/<namespace|_cluster>/<kind>-<name>.yaml
                                                      (kind lower-case, with .<group> when not core:
                                                      hub/web/deployment.apps-web.yaml)
              pattern render ./base                   a plain Kustomize directory, exactly as
                                                      `kubectl kustomize ./base` prints it
              pattern render ./charts/web -f prod.yaml --set image.tag=1.2 --release-name web -n shop
                                                      a Helm chart, as `helm template` prints it
                                                      (# Source: lines; chart options below)
              pattern render hub --expand-applications
                                                      Argo CD Applications in the render replaced by
                                                      the objects they sync (app of apps, recursively)
              pattern render --all --commit-to rendered
                                                      commit every site's manifests as the content of
                                                      branch `rendered` (no commit when nothing changed)
            """
    )

    @OptionGroup public var repoOptions: RepoOptions

    @Argument(help: "Site name (overlays/<site>), overlay directory, a Kustomize directory, or a Helm chart (directory or .tgz).")
    public var target: String?

    @Flag(help: "Render every site in overlays/.")
    public var all = false

    @Option(name: .shortAndLong, help: "Output format: yaml or json.")
    public var output: OutputFormat = .yaml

    @Option(help: "Write one file per object under <dir>/<site>/ instead of printing.")
    public var outDir: String?

    @Option(help: "Commit the rendered sites as the whole content of this branch (one directory per site).")
    public var commitTo: String?

    @Option(help: "Git repository to commit into with --commit-to (default: the pattern repository).")
    public var commitRepo: String?

    @Flag(inversion: .prefixedNo, help: ArgumentHelp(
        "Expand Argo CD Applications and ApplicationSets into the objects they sync (or, with --no-expand-applications, keep them as objects).",
        discussion: "Overrides the site's `applications: expand | keep` for this render, so an app-of-apps tree can be previewed locally either way. Expanded sources are rendered with pattern's own Helm, Kustomize and directory engines; see Docs/argocd.md."))
    public var expandApplications: Bool?

    @OptionGroup(title: "Helm chart options") public var chartOptions: ChartOptions

    @Option(help: ArgumentHelp(
        "Which files a Kustomize directory may read: LoadRestrictionsRootOnly or LoadRestrictionsNone.",
        discussion: "As `kubectl kustomize --load-restrictor`. The default (root only) refuses files outside the directory of the kustomization that names them, e.g. a configMapGenerator reading ../../etc/hostname; other kustomization directories (bases) may still be referenced."))
    public var loadRestrictor: LoadRestrictorOption = .rootOnly

    @Flag(help: ArgumentHelp(
        "Accept remote Kustomize bases and files that are not pinned (no ?ref=, a branch, or an https file without #sha256=).",
        discussion: "Remote bases (github.com/org/repo//dir?ref=v1.2.3, https://host/org/repo.git//dir?ref=…, git@host:org/repo//dir?ref=…) are fetched through the git source cache (--cache-dir, --offline). Plain files (https://host/path/deploy.yaml#sha256=<sha256sum>) are downloaded into the same cache; the #sha256= fragment pins their content and is not sent to the server, so kubectl kustomize reads the same entry. helmCharts: entries with repo: (an https:// chart repository or oci://host/path) pull the chart into the same cache, pinned by an exact version:. By default the ref must be a tag or a full commit id, a file must carry #sha256= and a chart an exact version, so a render is reproducible. For sites, set spec.kustomize.allowUnpinnedRemotes in the overlay instead."))
    public var allowUnpinnedRemotes = false

    /// `--load-restrictor` values, spelled as kubectl spells them.
    public enum LoadRestrictorOption: String, ExpressibleByArgument, Sendable, CaseIterable {
        case rootOnly = "LoadRestrictionsRootOnly"
        case none = "LoadRestrictionsNone"
    }

    public enum OutputFormat: String, ExpressibleByArgument, Sendable { case yaml, json }

    /// Renders a plain Kustomize directory to stdout, as `kubectl kustomize` prints it.
    static func renderKustomize(_ dir: String, resolver: SourceResolver, allowUnpinned: Bool, restrictToRoot: Bool,
                                format: OutputFormat) throws {
        var remote = RemotePolicy.sourceCache(resolver, allowUnpinned: allowUnpinned)
        let chartWarnings = ChartWarningSink()
        remote.chartWarnings = chartWarnings
        let objects = try Renderer.kustomize(dir, restrictToRoot: restrictToRoot, remote: remote)
        // helmCharts: render warnings go to stderr, beside the objects on stdout.
        let warnings = chartWarnings.all
        if !warnings.isEmpty { Output.report(warnings) }
        if format == .yaml {
            // Streamed document by document: the same bytes as `formatKustomize`, without two
            // more copies of the whole output at once (peak memory of large renders).
            Output.outDocuments(YAMLEmitter(options: .kubectlKustomize).emitDocuments(objects), separator: "---\n")
        } else {
            Output.out(Renderer.formatKustomize(objects, as: format))
        }
        // The process ends after printing: releasing every object's tree one node at a time
        // costs ~5% of a large render's CPU (free-list consolidation included) and buys nothing.
        KeepUntilExit.keep(objects)
    }

    /// The start-up fast path for the commonest invocation, `pattern render <kustomize-dir>` with
    /// no options: the directory when `arguments` are exactly `render <dir>` and `<dir>` is a
    /// Kustomize directory (as the parsed command would decide), nil otherwise.
    ///
    /// Building ArgumentParser's command tree reflects every command and option group (a third of
    /// a one-object render's CPU time); with no options there is nothing to parse, so `PatternMain`
    /// renders straight away with `run()`'s defaults. Anything else goes through the parser.
    static func plainKustomizeDirectory(_ arguments: [String]) -> String? {
        guard arguments.count == 2, arguments[0] == "render", let target = arguments.last,
              !target.isEmpty, !target.hasPrefix("-") else { return nil }
        if case .kustomizeDirectory(let dir) = RenderTarget.parse(target, repo: ".") { return dir }
        return nil
    }

    /// Runs the fast path (see `plainKustomizeDirectory`) with every option at its default.
    static func renderPlainKustomizeDirectory(_ dir: String) throws {
        let resolver = SourceResolver(cache: .default, requireFresh: false, offline: false, deadlines: .default)
        try renderKustomize(dir, resolver: resolver, allowUnpinned: false, restrictToRoot: true, format: .yaml)
    }

    /// The start-up fast path for one site with no options but the repository:
    /// `render <site>`, `render -C <repo> <site>`, `render --repo[=]<repo> <site>`. Returns the
    /// repository and site when `arguments` are exactly that and the target names a site (as
    /// the parsed command would decide), nil otherwise.
    static func plainSite(_ arguments: [String]) -> (repo: String, site: String)? {
        guard arguments.first == "render", let target = arguments.last, !target.isEmpty, !target.hasPrefix("-") else { return nil }
        let repo: String
        switch arguments.count {
        case 2: repo = "."
        case 3 where arguments[1].hasPrefix("--repo="): repo = String(arguments[1].dropFirst("--repo=".count))
        case 4 where arguments[1] == "-C" || arguments[1] == "--repo": repo = arguments[2]
        default: return nil
        }
        guard !repo.isEmpty, case .site(let site) = RenderTarget.parse(target, repo: repo) else { return nil }
        return (repo, site)
    }

    /// Runs the site fast path (see `plainSite`) with every other option at its default.
    static func renderPlainSite(_ site: String, repo: String) throws {
        let rendered = try RepoContext(repo: repo).compile([site], chartReleases: ChartReleases(upgradeAll: false))
        printOneSite(rendered)
    }

    /// One rendered site as YAML on stdout, streamed document by document (the bytes
    /// `Renderer.format` would join). Rendered sites are released at exit, not object by
    /// object (see `renderKustomize`).
    static func printOneSite(_ rendered: [RenderedSite]) {
        KeepUntilExit.keep(rendered)
        Output.outDocuments(YAMLEmitter(options: .init(sortKeys: true)).emitDocuments(rendered[0].objects.map(\.object)), separator: "---\n")
    }

    public init() {}

    public func validate() throws {
        if all == (target != nil) { throw ValidationError("give a site (or directory) to render, or --all") }
        if commitTo != nil && outDir != nil { throw ValidationError("--commit-to and --out-dir cannot be combined") }
        if let commitTo, let problem = RefName.branchProblem(commitTo) {
            throw ValidationError("--commit-to '\(commitTo)': \(problem); use a name like 'rendered' or 'env/prod'")
        }
    }

    public func run() async throws {
        if let target, case .chart(let dir) = RenderTarget.parse(target, repo: repoOptions.repo) {
            try ChartRenderCommand.run(dir, chartOptions, format: output)
            return
        }
        if let target, case .kustomizeDirectory(let dir) = RenderTarget.parse(target, repo: repoOptions.repo) {
            let src = repoOptions.source
            let resolver = SourceResolver(cache: src.cacheDir.map { SourceCache(directory: $0) } ?? .default,
                                          requireFresh: src.requireFresh, offline: src.offline, deadlines: src.network.deadlines)
            try Self.renderKustomize(dir, resolver: resolver, allowUnpinned: allowUnpinnedRemotes,
                                     restrictToRoot: loadRestrictor == .rootOnly, format: output)
            return
        }
        let ws = repoOptions.workspace
        let sites: [String]
        if all {
            do { sites = try ws.siteNames() } catch { Output.report(error.items); throw ReportedFailure() }
            if sites.isEmpty {
                Output.report([.error("no sites found in \(repoOptions.repo)/overlays", fix: "add overlays/<site>/overlay.yaml with kind: Site")])
                throw ReportedFailure()
            }
        } else if case .site(let s) = RenderTarget.parse(target!, repo: repoOptions.repo) {
            sites = [s]
        } else { sites = [] }

        let rendered = try repoOptions.compile(sites, chartReleases: ChartReleases(upgradeAll: chartOptions.isUpgrade),
                                               expandApplications: expandApplications)
        if let commitTo {
            try Hydration.commit(rendered, branch: commitTo, repository: commitRepo ?? repoOptions.repo,
                                 sourceRepository: repoOptions.repo, format: output)
            return
        }
        if let outDir {
            for r in rendered { try Renderer.writeFiles(r, to: outDir, format: output) }
            Output.err(rendered.map { "\($0.site): \($0.objects.count) objects, revision \(Renderer.short($0.revision)) → \(outDir)/\($0.site)/\n" }.joined())
            return
        }
        if rendered.count > 1 && output == .json {
            // One document: a List of one List per site, in the order the sites were named.
            let lists: [Value] = rendered.map { ["apiVersion": "v1", "kind": "List", "items": .array($0.objects.map(\.object)), "metadata": [:]] }
            let all: Value = ["apiVersion": "v1", "kind": "List", "items": .array(lists), "metadata": [:]]
            Output.out(JSONWriter.string(all, options: .init(indent: 4, sortKeys: true)) + "\n")
            return
        }
        if rendered.count == 1 && output == .yaml {
            Self.printOneSite(rendered)
            return
        }
        KeepUntilExit.keep(rendered)
        var text = ""
        for r in rendered {
            if rendered.count > 1 && output == .yaml {
                if !text.isEmpty { text += "---\n" }
                text += "# site: \(r.site) revision: \(r.revision)\n"
            }
            text += Renderer.format(r.objects.map(\.object), as: output)
        }
        Output.out(text)
    }
}

/// Shared rendering steps for render, validate and the cluster commands.
public enum Renderer {
    /// Compiles the sites, printing all diagnostics and failing (exit 1) if there are any errors.
    public static func compile(sites: [String], workspace: Workspace, resolver: (any PatternSourceResolver)? = nil,
                               chartReleases: ChartReleases = .install, expandApplications: Bool? = nil,
                               helmReads: ((String) throws(Diagnostic) -> HelmClusterReads?)? = nil) throws -> [RenderedSite] {
        let (out, diagnostics) = compileCollecting(sites: sites, workspace: workspace, resolver: resolver,
                                                   chartReleases: chartReleases, expandApplications: expandApplications,
                                                   helmReads: helmReads)
        let warnings = diagnostics.filter { $0.diagnostic.severity == .warning }.map(\.diagnostic)
        let problems = diagnostics.filter { $0.diagnostic.severity == .error }.map(\.diagnostic)
        if !warnings.isEmpty { Output.report(warnings) }
        if !problems.isEmpty {
            Output.report(problems)
            throw ReportedFailure()
        }
        return out
    }

    /// Compiles every site (one failing site does not stop the others) and returns what compiled
    /// and every site's diagnostics (warnings of compiled sites, errors of failed ones).
    public static func compileCollecting(sites: [String], workspace: Workspace, resolver: (any PatternSourceResolver)? = nil,
                                         chartReleases: ChartReleases = .install, expandApplications: Bool? = nil,
                                         helmReads: ((String) throws(Diagnostic) -> HelmClusterReads?)? = nil,
                                         resolverFor: ((String) -> any PatternSourceResolver)? = nil)
        -> ([RenderedSite], [ValidationReport.Item])
    {
        var compiler = SiteCompiler(workspace: workspace, resolver: resolver)
        compiler.chartReleases = chartReleases
        compiler.expandApplications = expandApplications
        var out: [RenderedSite] = []
        var items: [ValidationReport.Item] = []
        for s in sites {
            do {
                // Recorded cluster reads replay (the site uses them only when its cluster.helm asks).
                do { compiler.helmReads = try helmReads?(s) } catch {
                    items.append(.init(site: s, diagnostic: error))
                    continue
                }
                // A resolver per site (fleet applies record each site's sources on its own).
                if let resolverFor { compiler.resolver = resolverFor(s) }
                let r = try compiler.compile(site: s)
                for w in r.warnings { items.append(.init(site: s, diagnostic: w)) }
                out.append(r)
            } catch {
                for d in error.items { items.append(.init(site: s, diagnostic: d)) }
            }
        }
        return (out, items)
    }

    public static func kustomize(_ dir: String, restrictToRoot: Bool = true, remote: RemotePolicy = .none) throws -> [Value] {
        do {
            return try KustomizeRender.build(directory: dir, restrictToRoot: restrictToRoot, remote: remote)
        } catch let d as Diagnostics {
            Output.report(d.items)
            throw ReportedFailure()
        }
    }

    public static func format(_ objects: [Value], as format: RenderCommand.OutputFormat) -> String {
        switch format {
        case .yaml:
            return YAMLEmitter(options: .init(sortKeys: true)).emitStream(objects)
        case .json:
            let list: Value = ["apiVersion": "v1", "kind": "List", "items": .array(objects), "metadata": [:]]
            return JSONWriter.string(list, options: .init(indent: 4, sortKeys: true)) + "\n"
        }
    }

    /// A Kustomize build's objects as `kubectl kustomize` prints them (`YAMLEmitter.Options.kubectlKustomize`
    /// for YAML; JSON as `format`).
    public static func formatKustomize(_ objects: [Value], as format: RenderCommand.OutputFormat) -> String {
        guard format == .yaml else { return Renderer.format(objects, as: format) }
        return YAMLEmitter(options: .kubectlKustomize).emitStream(objects)
    }

    public static func short(_ revision: String) -> String { Revision.short(revision) }

    /// Stable path of an object in `--out-dir` output: `<namespace|_cluster>/<kind>[.group]-<name>.<ext>`.
    ///
    /// Every segment is built from a safe alphabet (letters, digits, `.`, `-`, `_`; anything
    /// else becomes `_`), and a segment can never be `.` or `..`, so the path stays below the
    /// output directory whatever the object says (compile validation refuses such objects
    /// first; this is the second line).
    public static func relativePath(_ key: ObjectKey, ext: String) -> String {
        let ns = key.namespace.isEmpty ? "_cluster" : key.namespace
        let kind = key.group.isEmpty ? key.kind.lowercased() : "\(key.kind.lowercased()).\(key.group)"
        return "\(safeSegment(ns))/\(safeSegment(kind + "-" + key.name)).\(ext)"
    }

    /// `s` with every byte outside `[A-Za-z0-9._-]` replaced by `_`; `.`, `..` and the empty
    /// string become `_`.
    static func safeSegment(_ s: String) -> String {
        var out = ""
        out.reserveCapacity(s.utf8.count)
        for u in s.unicodeScalars {
            let ok = (u >= "a" && u <= "z") || (u >= "A" && u <= "Z") || (u >= "0" && u <= "9") || u == "." || u == "-" || u == "_"
            out.unicodeScalars.append(ok ? u : "_")
        }
        if out.isEmpty || out.allSatisfy({ $0 == "." }) { return String(repeating: "_", count: max(out.count, 1)) }
        return out
    }

    public static func writeFiles(_ r: RenderedSite, to outDir: String, format: RenderCommand.OutputFormat) throws {
        let siteDir = outDir + "/" + safeSegment(r.site)
        try FileSystem.makeDirectories(siteDir)
        guard let realSite = FileSystem.realpath(siteDir), let realOut = FileSystem.realpath(outDir),
              realSite.hasPrefix(realOut == "/" ? "/" : realOut + "/") else {
            throw Diagnostic.error("\(siteDir) is a symlink that leaves \(outDir)", fix: "remove the symlink or choose another --out-dir")
        }
        FileSystem.removeRenderedFiles(in: siteDir)
        var checked: Set<String> = []
        for o in r.objects {
            let rel = relativePath(o.key, ext: format == .yaml ? "yaml" : "json")
            let path = siteDir + "/" + rel
            let dir = String(path[..<path.lastIndex(of: "/")!])
            if checked.insert(dir).inserted {
                try FileSystem.makeDirectories(dir)
                // A pre-existing symlink inside the output tree must not lead writes elsewhere.
                guard let real = FileSystem.realpath(dir), real.hasPrefix(realSite + "/") || real == realSite else {
                    throw Diagnostic.error("\(dir) is a symlink that leaves \(outDir)", fix: "remove the symlink or choose another --out-dir")
                }
            }
            let text = format == .yaml ? YAMLEmitter(options: .init(sortKeys: true)).emit(o.object)
                                       : JSONWriter.string(o.object, options: .init(indent: 4, sortKeys: true)) + "\n"
            try FileSystem.write(path, Array(text.utf8))
        }
    }
}
