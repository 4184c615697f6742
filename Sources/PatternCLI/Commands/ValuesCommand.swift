import ArgumentParser
import PatternCore
import PatternCompile
import ValidatedPatterns

/// `pattern values <site>`: the merged values of a Validated Patterns site, and with
/// `--explain` the file and line that set every leaf.
public struct ValuesCommand: AsyncParsableCommand {
    public static let configuration = CommandConfiguration(
        commandName: "values",
        abstract: "Show a Validated Patterns site's merged values, and which file and line set each one.",
        usage: "pattern values <site> [--explain] [-o text|json|yaml] [-C <repo>]",
        discussion: """
            Offline. Merges what the clustergroup chart of a Validated Patterns checkout sees, lowest \
            precedence first: the chart's values.yaml, values-global.yaml, values-<clusterGroup>.yaml, \
            the platform/version/cluster files the operator lists (values-<platform>.yaml, \
            values-<platform>-<version>.yaml, values-<platform>-<group>.yaml, values-<version>-<group>.yaml, \
            values-<clusterName>.yaml; missing ones skipped), the rendered sharedValueFiles (hub), then the \
            injected facts (overlays/<site>/facts.yaml, see `pattern facts`), a spoke group's helmOverrides, \
            and the site's overlay values. Maps merge, lists and scalars replace, null deletes.

            --explain lists the value files considered (and which are missing), then every leaf with \
            the file:line:column that set it — "which of these eight files set this?". A file name that \
            needs a cluster fact that is not set is listed with the fact in its place \
            (values-<clusterPlatform>.yaml) and not read; `pattern facts <site>` writes the facts.

            Output: text (the default) prints the merged values as YAML, or with --explain the annotated \
            list. -o json or -o yaml prints a Values document: apiVersion pattern.dev/v1alpha1, kind \
            Values, site, values, and with --explain also sources ({<dotted path>: file:line:column}) and \
            files ([{path, present, missingFacts}]).

            Examples:
              pattern values hub                      merged values as YAML
              pattern values hub --explain            every leaf with where it was set
              pattern values factory-1 --explain -o json | jq '.sources["global.clusterPlatform"]'
              pattern values hub -o json | jq .values.global

            Exit codes: 0 printed, 1 not a Validated Patterns checkout or a value file is wrong, 2 usage errors.
            """
    )

    @OptionGroup public var repoOptions: RepoOptions
    @Argument(help: "Site (the hub clusterGroup, or an overlay that extends a managed cluster group).",
              completion: .custom(Completions.sites)) public var site: String
    @Flag(help: "Show the file and line that set every value.") public var explain = false
    @Option(name: .shortAndLong, help: "Output: text (values as YAML; with --explain, annotated), json or yaml (a Values document).")
    public var output: DocumentFormat = .text

    public init() {}

    public func run() async throws {
        let ws = repoOptions.workspace
        guard VPRepo.detect(ws) else {
            throw Diagnostic.error("\(repoOptions.repo) is not a Validated Patterns checkout (no \(VPRepo.globalFile))",
                                   fix: "run it in a Validated Patterns repository, or pass -C <repo>; for pattern.yaml repositories see `pattern render`")
        }
        guard let e = try ValidatedPatternsLayout().explain(site: site, workspace: ws) else {
            throw Diagnostic.error("\(VPRepo.globalFile) has no 'main:' section, so \(repoOptions.repo) is not a Validated Patterns checkout",
                                   at: SourceLocation(file: VPRepo.globalFile),
                                   fix: "add 'main: {clusterGroupName: hub}' to \(VPRepo.globalFile) if it is one")
        }
        switch output {
        case .text: Output.out(explain ? e.text : YAMLEmitter().emit(e.values))
        case .json, .yaml:
            var doc = ToolReports.header("Values")
            doc.append("site", .string(site))
            doc.append("values", e.values)
            if explain {
                let d = e.document
                doc.append("sources", d["sources"] ?? .emptyObject)
                doc.append("files", d["files"] ?? .array([]))
            }
            Output.document(.object(doc), output)
        }
    }
}
