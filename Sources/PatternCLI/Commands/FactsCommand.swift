import ArgumentParser
import PatternCore
import PatternCompile
import KubeClient
import ValidatedPatterns

/// `pattern facts <site>`: reads the cluster facts the Validated Patterns operator injects and
/// writes them to `overlays/<site>/facts.yaml`, so renders stay reproducible offline.
public struct FactsCommand: AsyncParsableCommand {
    public static let configuration = CommandConfiguration(
        commandName: "facts",
        abstract: "Read a site's cluster facts (platform, version, domains) and save them for offline renders.",
        usage: "pattern facts <site> [--print] [-o text|json|yaml]\n  [--kubeconfig <file>] [--context <name>] [-C <repo>]",
        discussion: """
            Reads what the Validated Patterns operator reads: the server's /version and, on OpenShift, \
            the config.openshift.io/v1 Infrastructure 'cluster' (platform), ClusterVersion 'version' \
            (<major>.<minor> of the last completed update) and Ingress 'cluster' (apps domain, cluster \
            domain and name). Other clusters give their Kubernetes version only. Only reads (GET).

            Writes overlays/<site>/facts.yaml (keys sorted, so unchanged facts change no byte). Commit \
            it: every render — laptop, CI, the controller — then sees the same global.clusterPlatform, \
            global.clusterVersion, … and picks the same value files. Values in the site's overlay \
            (values.global.*) still win over the file. A spoke's global.hubClusterDomain comes from the \
            hub's facts file.

            The cluster is the site's cluster.context (from its overlay chain), else --context, else the \
            current context.

            -o json or -o yaml prints the facts as a SiteFacts document (apiVersion pattern.dev/v1alpha1, \
            kind SiteFacts, metadata.name, spec.kubeVersion, spec.global) on stdout; the file is still \
            written unless --print is given. Exit codes: 0 read (and written), 1 the cluster or the \
            repository cannot be read or written, 2 usage errors.

            Examples:
              pattern facts hub                   write overlays/hub/facts.yaml
              pattern facts factory-1 --print     show the facts, write nothing
              pattern facts hub --print -o json   the facts as JSON, write nothing
            """
    )

    @OptionGroup public var repoOptions: RepoOptions
    @Argument(help: "Site.", completion: .custom(Completions.sites)) public var site: String
    @Option(help: "Path to the kubeconfig file (default: $KUBECONFIG, then ~/.kube/config).") public var kubeconfig: String?
    @Option(help: "kubeconfig context (default: the site's cluster.context, else the current context).",
            completion: .custom(Completions.contexts)) public var context: String?
    @Flag(help: "Print the facts file instead of writing it.") public var print = false
    @Option(name: .shortAndLong, help: "Output format: text (the file, with --print), json or yaml (a SiteFacts document).")
    public var output: DocumentFormat = .text

    public init() {}

    public func run() async throws {
        let ws = repoOptions.workspace
        let chain = try ws.overlayChain(site)
        guard chain.last?.kind == .site else {
            throw Diagnostic.error("'\(site)' is a group, not a site", fix: "name a site; facts belong to one cluster")
        }
        let ctx = context ?? chain.reversed().compactMap(\.cluster.context).first
        let client: KubeClient
        do { client = try KubeClient(kubeconfig: kubeconfig, context: ctx) } catch {
            throw Diagnostic.error("cannot configure the cluster connection: \(error)", fix: "check --kubeconfig/--context and the site's cluster.context")
        }
        let facts: SiteFacts
        do { facts = try await SiteFacts.read(from: client) } catch {
            throw Diagnostic.error("cannot read the cluster facts: \(error)", fix: "check that the cluster is reachable (`pattern cluster check`)")
        }
        let text = facts.fileText(site: site)
        if output != .text { Output.document(facts.document(site: site), output) }
        if print {
            if output == .text { Output.out(text) }
            return
        }
        let path = SiteFacts.path(site: site, workspace: ws)
        let file = repoOptions.repo + "/" + path.string
        try FileSystem.makeDirectories(repoOptions.repo + "/" + path.parent.string)
        try FileSystem.write(file, Array(text.utf8))
        Output.err("wrote \(path.string)\n")
    }
}
