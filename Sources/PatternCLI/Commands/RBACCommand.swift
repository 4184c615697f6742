import ArgumentParser
import PatternCore
import PatternCompile
import PatternRecord

/// `pattern rbac`: the least-privilege RBAC to apply and prune sites.
public struct RBACCommand: ParsableCommand {
    public static let configuration = CommandConfiguration(
        commandName: "rbac",
        abstract: "Print the smallest Roles and ClusterRoles that can apply and prune the given sites.",
        usage: "pattern rbac <site> ... [--service-account <namespace>/<name>]\n  [--name <name>] [--record-namespace <namespace>] [--cluster-wide]\n  [-o text|json|yaml]",
        discussion: """
            Renders the sites and prints, as YAML, the RBAC a ServiceAccount (the controller's, or a CI job's) \
            needs to apply and prune exactly those renders, and bindings to it:

              <name>-read      ClusterRole: get, list, watch on every rendered resource (observe and wait
                               list by owner label in every namespace; the controller watches the same way)
              <name>-cluster   ClusterRole: create cluster-scoped kinds; patch and delete only the names in
                               the render; escalate/bind only on the roles the render holds or binds
              <name>           Role per namespace: create, patch, delete the rendered resources there; in
                               the records namespace, the inventory and ledger ConfigMaps

            Nothing grants bind or escalate on every role, writes RBAC outside the render's namespaces, or \
            deletes a Namespace or CRD the render does not name. Resources come from a built-in table of \
            kinds and from CRDs in the render; a kind found in neither is guessed (lower-case plural) and \
            reported on stderr.

            -o json or yaml prints an RBAC document instead (apiVersion pattern.dev/v1alpha1): the sites, \
            the subject, the guessed kinds, and the same objects under `items`.

            Apply the output as a cluster admin, after the render's namespaces exist. To widen it (new kinds, \
            objects that left the render but still need pruning), re-run it over every site the identity \
            manages, or add rules in a separate Role; see Docs/operating.md, "Least privilege".

            Examples:
              pattern rbac hub                           for the controller's ServiceAccount
              pattern rbac hub edge-eu edge-us --name pattern-apply --service-account ci/deployer
              pattern rbac dev hub edge-eu edge-us --cluster-wide   the shipped controller's
            """
    )

    @Argument(help: ArgumentHelp("Sites whose renders the identity applies.", valueName: "site"), completion: .custom(Completions.sites))
    public var sites: [String]

    @Option(help: "ServiceAccount to bind, as namespace/name.") public var serviceAccount: String = "pattern-system/pattern-controller"
    @Option(help: "Name of the Roles and ClusterRoles (the ClusterRoles get -read and -cluster appended).") public var name: String = "pattern-apply"
    @Option(help: "Namespace holding inventories and ledgers.") public var recordNamespace: String = Inventory.defaultNamespace
    @Flag(help: "One ClusterRole for the namespaced writes instead of a Role per namespace (for installs before the namespaces exist).")
    public var clusterWide = false
    @Option(name: .shortAndLong, help: "Output: text, json or yaml (a RBAC document).") public var output: DocumentFormat = .text
    @OptionGroup public var repo: RepoOptions

    public init() {}

    public func validate() throws {
        if sites.isEmpty { throw ValidationError("name at least one site") }
        let parts = serviceAccount.split(separator: "/", omittingEmptySubsequences: false)
        if parts.count != 2 || parts.contains(where: \.isEmpty) { throw ValidationError("--service-account takes namespace/name, not '\(serviceAccount)'") }
    }

    public func run() throws {
        let rendered = try repo.compile(sites)
        let plan = RBACPlan(objects: rendered.flatMap { $0.objects.map(\.object) }, recordNamespace: recordNamespace)
        for gk in plan.guessed {
            Output.err("warning: \(gk) is neither a built-in kind nor a CRD in the render: its resource name is guessed\n  fix: check it with `kubectl api-resources` and correct the printed rule\n")
        }
        let parts = serviceAccount.split(separator: "/").map(String.init)
        let docs = plan.manifests(name: name, subject: (parts[0], parts[1]), clusterWide: clusterWide)
        if output != .text {
            Output.document(ToolReports.rbac(sites: sites, serviceAccount: serviceAccount, guessed: plan.guessed.map(\.description), items: docs), output)
            return
        }
        var text = "# pattern rbac \(sites.joined(separator: " ")): apply and prune these renders, nothing more.\n"
        text += YAMLEmitter().emitStream(docs)
        Output.out(text)
    }
}
