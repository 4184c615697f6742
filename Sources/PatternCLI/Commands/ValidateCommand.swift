import ArgumentParser
import PatternCore
import PatternCompile
import PatternReport

/// `pattern validate`: everything render checks, without output.
public struct ValidateCommand: AsyncParsableCommand {
    public static let configuration = CommandConfiguration(
        commandName: "validate",
        abstract: "Check sites without printing manifests; list every problem with file:line:column.",
        usage: "pattern validate (<site> | --all) [-o text|json|yaml]\n  [--format github|gitlab] [-C <repo>] [--offline]",
        discussion: """
            Checks the pattern and overlay files (unknown fields, types, references), values against \
            declared parameters, variable substitution, Kustomize directories, and object sanity \
            (apiVersion, kind, DNS-1123 names, namespaced vs cluster-scoped, the same object defined twice).
            Prints nothing and exits 0 when everything is valid; exits 1 listing all errors otherwise, \
            of every site (one failing site does not hide the next one's errors).

            -o json|yaml prints a ValidationReport (per site: valid, error and warning counts; every \
            diagnostic with site, severity, file, line, column, message and fix) on stdout. --format github \
            prints GitHub Actions annotations (::error file=…,line=…,col=…::message); --format gitlab \
            prints a GitLab code quality report (artifacts: reports: codequality).

            Examples:
              pattern validate --all
              pattern validate edge-eu
              pattern validate --all -o json           machine-readable diagnostics
              pattern validate --all --format github   annotations on the pull request
              pattern validate --all --format gitlab > gl-code-quality-report.json
            """
    )

    @OptionGroup public var repoOptions: RepoOptions
    @Argument(help: "Site to validate.") public var site: String?
    @Flag(help: "Validate every site in overlays/.") public var all = false
    @Option(name: .shortAndLong, help: "Output: text (diagnostics on stderr), json or yaml (a ValidationReport on stdout).") public var output: DocumentFormat = .text
    @Option(help: "CI annotations on stdout instead: github (workflow commands) or gitlab (code quality JSON).") public var format: AnnotationFormat?

    /// CI annotation formats of `validate --format`.
    public enum AnnotationFormat: String, ExpressibleByArgument, CaseIterable, Sendable { case github, gitlab }

    public init() {}

    public func validate() throws {
        if all == (site != nil) { throw ValidationError("give a site to validate, or --all") }
        if format != nil && output != .text { throw ValidationError("choose one of -o \(output.rawValue) and --format \(format!.rawValue)") }
    }

    public func run() async throws {
        let ws = repoOptions.workspace
        let sites: [String]
        if all {
            do { sites = try ws.siteNames() } catch {
                // Listing the sites reads every overlay: report what it found in the asked format.
                guard output != .text || format != nil else { Output.report(error.items); throw ReportedFailure() }
                let items = error.items.map { ValidationReport.Item(site: ValidateCommand.site(of: $0), diagnostic: $0) }
                var names: [String] = []
                for i in items where !names.contains(i.site) { names.append(i.site) }
                try printReport(sites: names, items: items)
                return
            }
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
        if output == .text && format == nil {
            _ = try repoOptions.compile(sites)
            return
        }
        let (_, items) = Renderer.compileCollecting(sites: sites, workspace: ws, resolver: repoOptions.source.resolver)
        try printReport(sites: sites, items: items)
    }

    /// The site a diagnostic is about, from its file (`overlays/<site>/…`); "" when unknown.
    static func site(of d: Diagnostic) -> String {
        let parts = (d.location?.file ?? "").split(separator: "/")
        guard let i = parts.firstIndex(of: "overlays"), i + 1 < parts.count else { return "" }
        return String(parts[i + 1])
    }

    func printReport(sites: [String], items: [ValidationReport.Item]) throws {
        switch (format, output) {
        case (.github?, _): Output.out(ValidationReport.github(items))
        case (.gitlab?, _): Output.out(MachineReport.text(ValidationReport.gitlab(items)))
        case (nil, .yaml): Output.out(YAMLEmitter().emit(ValidationReport.document(sites: sites, items: items)))
        case (nil, _): Output.out(MachineReport.text(ValidationReport.document(sites: sites, items: items)))
        }
        if items.contains(where: { $0.diagnostic.severity == .error }) { throw ReportedFailure() }
    }
}
