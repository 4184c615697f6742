import Testing
import Synchronization
import PatternCore
@testable import PatternRollout

/// A store whose first save is committed at once but answered only when the test says so, as
/// a hub API server that wrote the state while its response is still on the way.
final class HeldAnswerStore: RolloutStore {
    let inner = MemoryRolloutStore()
    private let held = Mutex<(saves: Int, answer: CheckedContinuation<Void, Never>?, committed: Bool)>((0, nil, false))

    func load(_ name: String) async throws(RolloutError) -> RolloutState? { try await inner.load(name) }

    func save(_ state: RolloutState) async throws(RolloutError) -> RolloutState {
        let stored = try await inner.save(state)
        let first = held.withLock { s -> Bool in s.saves += 1; if s.saves == 2 { s.committed = true }; return s.saves == 2 }
        if first {
            await withCheckedContinuation { c in held.withLock { $0.answer = c } }
        }
        return stored
    }

    /// Whether the held save has reached the store.
    var committed: Bool { held.withLock { $0.committed } }
    /// Whether the held save waits for its answer.
    var holding: Bool { held.withLock { $0.answer != nil } }
    func answer() { held.withLock { s in s.answer?.resume(); s.answer = nil } }
}

@Suite struct StateKeeperTests {
    /// Two sites of one wave update the state at once. The first site's write reaches the store
    /// but its answer is slow; the second site's write meets a conflict, reloads, and must not
    /// write over the first site's change with the new resourceVersion (before the fix its
    /// retry started from the copy without the first change, and the first site's `touched`
    /// mark was lost, so a failed wave was not rolled back).
    @Test func concurrentUpdatesNeverLoseEachOthersChange() async throws {
        let store = HeldAnswerStore()
        let p = plan([.init(name: "half", sites: ["b", "c"], maxParallel: 2)])
        let initial = try await store.save(RolloutState(plan: p, revision: "v2", now: 1))
        let keeper = StateKeeper(state: initial, store: store, driverID: "t", clock: VirtualClock())

        let first = Task { try await keeper.update { $0.waves[0].sites[0].touched = true } }
        while !store.holding { await Task.yield() }
        let second = Task { try await keeper.update { $0.waves[0].sites[1].touched = true } }
        // Give the second update every chance to run (and, before the fix, to finish) while
        // the first one's answer is held.
        for _ in 0..<200 { await Task.yield() }
        store.answer()
        _ = try await first.value
        _ = try await second.value

        let stored = try #require(try await store.load("r1"))
        #expect(stored.waves[0].sites.map(\.touched) == [true, true])
        let local = await keeper.state
        #expect(local.waves[0].sites.map(\.touched) == [true, true])
        #expect(local.resourceVersion == stored.resourceVersion)
    }
}
