import Testing
import Dispatch
@testable import PatternController

/// Blocking work (libgit2, rendering) runs on the controller's own threads.
@Suite struct ConcurrencyTests {
    @Test func blockingWorkRunsOnTheExecutorsOwnThreads() async {
        let executor = BlockingExecutor.shared
        #expect(await executor.run { executor.ownsCurrentThread })
        // offPool (the git fetch in a reconcile) goes there too; plain tasks do not.
        #expect(await offPool { executor.ownsCurrentThread })
        #expect(await Task.detached { executor.ownsCurrentThread }.value == false)
    }

    /// More blocked jobs than the cooperative pool has threads: if they ran there, the task
    /// that releases them could never run and every wait would time out.
    @Test func blockedJobsLeaveTheCooperativePoolFree() async {
        let executor = BlockingExecutor(threads: 8, name: "test-blocking")
        let gate = DispatchSemaphore(value: 0)
        let jobs = 8
        async let released: [Bool] = withTaskGroup(of: Bool.self) { group in
            for _ in 0..<jobs {
                group.addTask { await executor.run { gate.wait(timeout: .now() + 30) == .success } }
            }
            var out: [Bool] = []
            for await r in group { out.append(r) }
            return out
        }
        // Plain tasks on the cooperative pool still run while all of them block.
        let ran = await Task.detached { () -> Bool in
            for _ in 0..<jobs { gate.signal() }
            return true
        }.value
        #expect(ran)
        let results = await released
        #expect(results.count == jobs && results.allSatisfy { $0 })
    }
}
