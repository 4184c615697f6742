import ArgumentParser
import PatternCore
import PatternCompile
import PatternReport
import PatternApply

/// `pattern history`: the ledger of applies kept in the cluster.
public struct HistoryCommand: AsyncParsableCommand {
    public static let configuration = CommandConfiguration(
        commandName: "history",
        abstract: "Show the recent applies of a site: time, revision, source commit, client, counts.",
        usage: "pattern history <site> [-o text|json|yaml] [--context <name>]\n  [-C <repo>]",
        discussion: """
            The ledger lives in the cluster (a ConfigMap in the record namespace), so every client sees \
            the same history. It keeps the last 20 applies. The site is read from the checkout (-C): its \
            overlay names the pattern, the cluster context and the record namespace, so history needs the \
            pattern repository, not only a kubeconfig.

            Examples:
              pattern history hub
              pattern history hub -o json
            """
    )

    @OptionGroup public var repoOptions: RepoOptions
    @OptionGroup public var cluster: ClusterOptions
    @Argument(help: "Site.") public var site: String
    @Option(name: .shortAndLong, help: "Output: text, json or yaml (a History).") public var output: ReportFormat = .text

    public init() {}

    public func run() async throws {
        let (rendered, engine) = try cluster.renderAndConnect(site, repo: repoOptions, errorExit: 1)
        let ledger = try await engine.records.loadLedger(SiteIdentity(rendered, recordNamespace: engine.records.namespace))
        switch output {
        case .json, .yaml: Output.document(MachineReport.history(ledger.entries), output)
        case .text:
            Output.out(ledger.entries.isEmpty ? "no applies recorded for \(rendered.site)\n" : HumanReport.history(ledger.entries))
        }
    }
}
