import ArgumentParser
import PatternCore
import PatternCompile

/// `pattern validate`: everything render checks, without output.
public struct ValidateCommand: AsyncParsableCommand {
    public static let configuration = CommandConfiguration(
        commandName: "validate",
        abstract: "Check sites without printing manifests; list every problem with file:line:column.",
        usage: "pattern validate (<site> | --all) [-C <repo>] [--cache-dir <dir>]\n  [--require-fresh] [--offline]",
        discussion: """
            Checks the pattern and overlay files (unknown fields, types, references), values against \
            declared parameters, variable substitution, Kustomize directories, and object sanity \
            (apiVersion, kind, DNS-1123 names, namespaced vs cluster-scoped, the same object defined twice).
            Prints nothing and exits 0 when everything is valid; exits 1 listing all errors otherwise.

            Examples:
              pattern validate --all
              pattern validate edge-eu
            """
    )

    @OptionGroup public var repoOptions: RepoOptions
    @Argument(help: "Site to validate.") public var site: String?
    @Flag(help: "Validate every site in overlays/.") public var all = false

    public init() {}

    public func validate() throws {
        if all == (site != nil) { throw ValidationError("give a site to validate, or --all") }
    }

    public func run() async throws {
        let ws = repoOptions.workspace
        let sites: [String]
        if all {
            do { sites = try ws.siteNames() } catch { Output.report(error.items); throw ReportedFailure() }
            if sites.isEmpty {
                // Validating nothing is not a success: a wrong --repo must not pass CI.
                Output.report([.error("no sites found in \(repoOptions.repo)/overlays", fix: "add overlays/<site>/overlay.yaml with kind: Site, or pass --repo <pattern repository>")])
                throw ReportedFailure()
            }
        } else if case .site(let s) = RenderTarget.parse(site!, repo: repoOptions.repo) {
            sites = [s]
        } else {
            _ = try Renderer.kustomize(site!)
            return
        }
        _ = try repoOptions.compile(sites)
    }
}
