import ArgumentParser
import PatternCore

/// The `pattern` command and its subcommands.
public struct PatternCommand: AsyncParsableCommand {
    public static let configuration = CommandConfiguration(
        commandName: "pattern",
        abstract: "Compile GitOps patterns and site overlays into manifests, and reconcile clusters with them.",
        discussion: """
            A pattern repository holds base patterns in patterns/<name>/pattern.yaml and site overlays in \
            overlays/<site>/overlay.yaml. Typical workflow:

              pattern validate --all          check every site, list every problem
              pattern render hub              print the hub site's manifests in apply order
              pattern render --all --out-dir out/   one file per object, per site
              pattern render path/to/kustomize-dir  render a plain Kustomize directory

            A Validated Patterns checkout (values-global.yaml) needs no overlay files: its hub \
            clusterGroup is a site (see Docs/validated-patterns.md):

              pattern facts hub               save the cluster's platform, version, domains
              pattern values hub --explain    merged values, and which file and line set each

            Working with the controller (PatternSyncs in the cluster):

              pattern get -A                  every PatternSync, Ready or not
              pattern status hub              conditions, last apply, counts, drift
              pattern reconcile hub --wait    reconcile now, report the result

            Exit codes: 0 success, 1 validation errors (or changes found, for diff), \
            2 usage errors.

            Every command takes --color=auto|always|never (NO_COLOR is honoured). \
            Shell completion: pattern --generate-completion-script bash|zsh|fish \
            (see Docs/cli.md). See Docs/ for the pattern and overlay format reference.
            """,
        version: VersionCommand.line,
        subcommands: [RenderCommand.self, ValidateCommand.self, DiffCommand.self, ApplyCommand.self, DriftCommand.self,
                      HistoryCommand.self, GraphCommand.self, ClusterCommand.self, SourceCommand.self, ForkCommand.self,
                      UpdateCommand.self, ControllerCommand.self, GetCommand.self, StatusCommand.self,
                      ReconcileCommand.self, SuspendCommand.self, ResumeCommand.self, EventsCommand.self, RBACCommand.self, TreeCommand.self,
                      ValuesCommand.self, FactsCommand.self,
                      RollbackCommand.self,
                      RolloutCommand.self,
                      VersionCommand.self]
    )
    public init() {}
}
