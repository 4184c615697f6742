import ArgumentParser
import KubeClient
import PatternCore

/// `pattern cluster …`: commands about the cluster connection.
public struct ClusterCommand: AsyncParsableCommand {
    public static let configuration = CommandConfiguration(
        commandName: "cluster",
        abstract: "Inspect the connection to a Kubernetes cluster.",
        subcommands: [Check.self]
    )
    public init() {}

    /// `pattern cluster check`: server version, identity, and whether the credentials can list namespaces.
    public struct Check: AsyncParsableCommand {
        public static let configuration = CommandConfiguration(
            commandName: "check",
            abstract: "Check that the kubeconfig reaches the cluster: server version, identity, namespace access.",
            usage: "pattern cluster check [--kubeconfig <file>] [--context <name>]\n  [-o text|json|yaml]",
            discussion: """
                Exits 0 when every required check passes and 1 otherwise. -o json or yaml prints a \
                ClusterCheck document (ok, serverVersion, username, groups, steps) with the same exit codes.
                """
        )

        @Option(help: "The kubeconfig file to use (default: KUBECONFIG, then ~/.kube/config, then in-cluster).")
        var kubeconfig: String?

        @Option(help: "The kubeconfig context to use (default: current-context).")
        var context: String?

        @Option(name: .shortAndLong, help: "Output: text, json or yaml (a ClusterCheck document).") var output: DocumentFormat = .text

        public init() {}

        public func run() async throws {
            let client: KubeClient
            do {
                client = try KubeClient(kubeconfig: kubeconfig, context: context)
            } catch {
                let message: String
                if case .configuration(let m) = error { message = m } else { message = "\(error)" }
                if output == .text { Output.out("✗ config: \(message)\n") } else { Output.document(ToolReports.clusterCheckConfigFailed(message), output) }
                throw ExitCode(1)
            }
            let report = await client.check()
            if output != .text {
                Output.document(ToolReports.clusterCheck(report), output)
                if !report.ok { throw ExitCode(1) }
                return
            }
            for step in report.steps {
                Output.out("\(step.ok ? "✓" : "✗") \(step.name): \(step.detail)" + "\n")
            }
            if !report.ok { throw ExitCode(1) }
        }
    }
}
