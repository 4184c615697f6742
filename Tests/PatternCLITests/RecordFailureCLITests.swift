import Testing
import TestSupport
import Foundation
import PatternCore
import KubeTestServer
#if canImport(Glibc)
import Glibc
#endif

/// Issue 11 "Inventory and records never lie", as a user sees it: a failed ledger write keeps
/// the apply report, says so, and the next apply records it.
@Suite(.serialized) struct RecordFailureCLITests {
    @Test func aFailedLedgerWritePrintsEveryOutcomeStatesTheFailureAndTheNextApplyRecordsIt() async throws {
        let server = try TestAPIServer.start()
        defer { server.stop() }
        let dir = TemporaryDirectories.make("pattern-cli-record")
        defer { TemporaryDirectories.remove(dir) }
        let kubeconfig = dir + "/config"
        let fd = open(kubeconfig, O_WRONLY | O_CREAT | O_TRUNC, 0o600)
        _ = server.kubeconfig().withCString { write(fd, $0, strlen($0)) }
        close(fd)
        func pattern(_ args: [String]) async -> CLI.Result {
            await CLI.runInProcess(args + ["--kubeconfig", kubeconfig, "--context", "test", "--allow-other-context"])
        }
        let fault = server.faults.add(FaultRule(pathContains: "pattern-ledger", verb: "apply", times: nil, action: .internalError("etcd timeout")))
        let failed = await pattern(["apply", "dev", "--no-wait"])
        #expect(failed.status == 1)
        // Every object's outcome is still printed, then the record failure with a fix.
        let lines = failed.stdout.split(separator: "\n")
        #expect(lines.contains { $0.hasPrefix("created ") && $0.hasSuffix("Namespace hello-world") }, "\(failed.stdout)")
        #expect(failed.stdout.contains("dev: ") && failed.stdout.contains(" created"))
        #expect(failed.stderr.contains("cannot write the ledger entry of this apply"), "\(failed.stderr)")
        #expect(failed.stderr.contains("fix:"))
        #expect(await pattern(["history", "dev"]).stdout.contains("no applies of dev recorded"))
        server.faults.remove(fault)
        // The next apply has nothing to write but records the converged revision.
        let again = await pattern(["apply", "dev", "--no-wait"])
        #expect(again.status == 0, "\(again.stderr)")
        let history = await pattern(["history", "dev"])
        #expect(!history.stdout.contains("no applies of dev recorded"), "\(history.stdout)")
        #expect(history.stdout.contains("succeeded"))
    }
}
