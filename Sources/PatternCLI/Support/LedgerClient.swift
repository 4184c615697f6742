import PatternCore
import PatternRecord
import KubeClient

/// Who the ledger says applied, for CLI applies.
enum LedgerClient {
    /// The Kubernetes identity (SelfSubjectReview, else the kubeconfig user), tool `pattern`
    /// (the controller records `pattern-controller`); never the local `$USER@host`. One request
    /// per run.
    static func cli(_ client: KubeClient) async -> LedgerEntry.Client {
        LedgerEntry.Client(user: await client.identity()?.username ?? "unknown", host: "", tool: "pattern", version: PatternVersion.current)
    }
}
