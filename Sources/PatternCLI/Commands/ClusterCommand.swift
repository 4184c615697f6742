import ArgumentParser
import KubeClient

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
            discussion: "Exits 0 when every required check passes and 1 otherwise."
        )

        @Option(help: "The kubeconfig file to use (default: KUBECONFIG, then ~/.kube/config, then in-cluster).")
        var kubeconfig: String?

        @Option(help: "The kubeconfig context to use (default: current-context).")
        var context: String?

        public init() {}

        public func run() async throws {
            let client: KubeClient
            do {
                client = try KubeClient(kubeconfig: kubeconfig, context: context)
            } catch {
                if case .configuration(let message) = error { Output.out("✗ config: \(message)" + "\n") } else { Output.out("✗ config: \(error)" + "\n") }
                throw ExitCode(1)
            }
            let report = await client.check()
            for step in report.steps {
                Output.out("\(step.ok ? "✓" : "✗") \(step.name): \(step.detail)" + "\n")
            }
            if !report.ok { throw ExitCode(1) }
        }
    }
}
