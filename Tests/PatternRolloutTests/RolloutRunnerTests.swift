import Testing
import Synchronization
import PatternCore
import PatternRollout

/// A clock whose sleep advances time at once (plus a real yield), so soaks and retries of
/// minutes take no wall time and timestamps are exact.
final class VirtualClock: RolloutClock {
    let t: Mutex<Double>
    let realSleepMilliseconds: Int
    init(start: Double = 1_790_000_000, realSleepMilliseconds: Int = 0) { t = Mutex(start); self.realSleepMilliseconds = realSleepMilliseconds }
    func now() -> Double { t.withLock { $0 } }
    func sleep(seconds: Double) async throws {
        try Task.checkCancellation()
        if realSleepMilliseconds > 0 { try await Task.sleep(for: .milliseconds(realSleepMilliseconds)) } else { await Task.yield() }
        t.withLock { $0 += max(seconds, 0.001) }
    }
    func advance(_ s: Double) { t.withLock { $0 += s } }
}

/// Sites whose behaviour a test scripts: which are unreachable, which never become healthy,
/// which turn unhealthy during a soak; every call is logged.
final class ScriptedSites: RolloutSites {
    struct State {
        var revisions: [String: String?] = [:]
        var unreachable: Set<String> = []
        var unhealthy: Set<String> = []
        var log: [String] = []
        var healthCalls: [String: Int] = [:]
        /// Site → health call number from which it reports failed (soak failures).
        var failsAfter: [String: Int] = [:]
    }
    let state = Mutex(State())
    /// Called after a site's apply (e.g. to pause or cancel from "another client").
    let afterApply: (@Sendable (String) async -> Void)?
    /// Sites whose apply blocks until the task is cancelled.
    let blocking: Set<String>
    let newRevision: String

    init(revisions: [String: String?], newRevision: String = "sha256:new", blocking: Set<String> = [],
         afterApply: (@Sendable (String) async -> Void)? = nil) {
        state.withLock { $0.revisions = revisions }
        self.newRevision = newRevision; self.blocking = blocking; self.afterApply = afterApply
    }

    var log: [String] { state.withLock { $0.log } }
    func revision(_ s: String) -> String? { state.withLock { $0.revisions[s] ?? nil } }

    func currentRevision(_ site: String) async -> SiteStep {
        state.withLock { st in
            if st.unreachable.contains(site) { return .unreachable("connection refused") }
            return .ok(st.revisions[site] ?? nil)
        }
    }

    func apply(_ site: String) async -> SiteStep {
        if blocking.contains(site) {
            while !Task.isCancelled { try? await Task.sleep(for: .milliseconds(5)) }
            state.withLock { $0.log.append("apply \(site) interrupted") }
            return .failed("interrupted")
        }
        let r: SiteStep = state.withLock { st in
            if st.unreachable.contains(site) { st.log.append("apply \(site) unreachable"); return .unreachable("connection refused") }
            st.log.append("apply \(site)")
            st.revisions[site] = newRevision
            return .ok(newRevision)
        }
        await afterApply?(site)
        return r
    }

    func health(_ site: String, checks: [RolloutPlan.HealthCheck]) async -> SiteHealth {
        state.withLock { st in
            let n = (st.healthCalls[site] ?? 0) + 1
            st.healthCalls[site] = n
            if st.unhealthy.contains(site) { return .progressing("Deployment web/app: 0/1 available") }
            if let after = st.failsAfter[site], n >= after { return .failed("Deployment web/app: progress deadline exceeded") }
            return .healthy
        }
    }

    func rollBack(_ site: String, to revision: String) async -> SiteStep {
        state.withLock { st in
            st.log.append("rollback \(site) to \(revision)")
            st.revisions[site] = revision
            return .ok(revision)
        }
    }
}

/// A memory store whose saves take a few milliseconds of real time.
final class SlowStore: RolloutStore {
    let inner = MemoryRolloutStore()
    func load(_ name: String) async throws(RolloutError) -> RolloutState? { try await inner.load(name) }
    func save(_ state: RolloutState) async throws(RolloutError) -> RolloutState {
        try? await Task.sleep(for: .milliseconds(Int.random(in: 1...4)))
        return try await inner.save(state)
    }
}

func plan(_ waves: [RolloutPlan.Wave], requireAll: Bool = false, retry: RolloutPlan.Retry = .init(attempts: 3, intervalSeconds: 30)) -> RolloutPlan {
    RolloutPlan(name: "r1", file: "rollouts/r1.yaml", requireAll: requireAll, retry: retry, waves: waves)
}

func statuses(_ s: RolloutState) -> [String: RolloutState.SiteStatus] {
    var out: [String: RolloutState.SiteStatus] = [:]
    for w in s.waves { for site in w.sites { out[site.name] = site.status } }
    return out
}

func site(_ s: RolloutState, _ name: String) -> RolloutState.Site? {
    s.waves.flatMap(\.sites).first { $0.name == name }
}

@Suite struct RolloutRunnerTests {
    let old: String? = "sha256:old"

    @Test func threeWavesSecondFailsItsGateAndIsRolledBackFirstStays() async throws {
        let sites = ScriptedSites(revisions: ["a": old, "b": old, "c": old, "d": old])
        sites.state.withLock { $0.unhealthy = ["c"] }
        let store = MemoryRolloutStore()
        var runner = RolloutRunner(store: store, sites: sites, clock: VirtualClock(), driverID: "t")
        runner.pollSeconds = 10
        let p = plan([.init(name: "canary", sites: ["a"], soakSeconds: 600),
                      .init(name: "half", sites: ["b", "c"], maxParallel: 2, health: .init(timeoutSeconds: 120)),
                      .init(name: "rest", sites: ["d"])])
        let end = try await runner.start(p, revision: "v2")
        #expect(end.phase == .failed)
        #expect(end.waves.map(\.phase) == [.succeeded, .failed, .pending])
        #expect(statuses(end) == ["a": .healthy, "b": .rolledBack, "c": .rolledBack, "d": .pending])
        #expect(sites.revision("a") == "sha256:new")
        #expect(sites.revision("b") == old && sites.revision("c") == old)
        #expect(!sites.log.contains("apply d"))
        #expect(site(end, "c")?.reason?.contains("not healthy within 2m") == true)
        #expect(site(end, "c")?.reason?.contains("rolled back to") == true)
        // What any client reads back from the store is the same.
        let stored = try #require(try await store.load("r1"))
        #expect(statuses(stored) == statuses(end))
        #expect(stored.phase == .failed)
        #expect(stored.waves[0].soakStartedAt != nil && stored.waves[0].finishedAt! - stored.waves[0].soakStartedAt! >= 600)
    }

    @Test func budgetToleratesFailuresWithinIt() async throws {
        let sites = ScriptedSites(revisions: ["a": old, "b": old])
        sites.state.withLock { $0.unhealthy = ["b"] }
        let runner = RolloutRunner(store: MemoryRolloutStore(), sites: sites, clock: VirtualClock(), driverID: "t")
        let end = try await runner.start(plan([.init(name: "all", sites: ["a", "b"], failureBudget: .percent(50), health: .init(timeoutSeconds: 30))]), revision: "v2")
        #expect(end.phase == .succeeded)
        #expect(statuses(end) == ["a": .healthy, "b": .failed])
        #expect(end.waves[0].message?.contains("1 failed within budget 50%") == true)
        #expect(!sites.log.contains { $0.hasPrefix("rollback") })
    }

    @Test func unreachableSiteIsDeferredAndRetriedABoundedNumberOfTimes() async throws {
        let sites = ScriptedSites(revisions: ["a": old, "b": old])
        sites.state.withLock { $0.unreachable = ["b"] }
        let clock = VirtualClock()
        let runner = RolloutRunner(store: MemoryRolloutStore(), sites: sites, clock: clock, driverID: "t")
        let start = clock.now()
        let end = try await runner.start(plan([.init(name: "w", sites: ["a", "b"]), .init(name: "w2", sites: [])]), revision: "v2")
        #expect(end.phase == .succeeded)
        #expect(statuses(end) == ["a": .healthy, "b": .deferred])
        let b = try #require(site(end, "b"))
        #expect(b.attempts == 3)
        #expect(b.reason?.contains("tried 3 times") == true)
        #expect(end.message?.contains("deferred (unreachable): b") == true)
        // Retries waited the interval between attempts (recorded time, not wall time).
        #expect(clock.now() - start >= 60)
    }

    @Test func requireAllFailsAnUnreachableSiteAndRollsBackTheWave() async throws {
        let sites = ScriptedSites(revisions: ["a": old, "b": old])
        sites.state.withLock { $0.unreachable = ["b"] }
        let runner = RolloutRunner(store: MemoryRolloutStore(), sites: sites, clock: VirtualClock(), driverID: "t")
        let end = try await runner.start(plan([.init(name: "w", sites: ["a", "b"])], requireAll: true), revision: "v2")
        #expect(end.phase == .failed)
        #expect(statuses(end) == ["a": .rolledBack, "b": .failed])
        #expect(site(end, "b")?.reason?.contains("requires all") == true)
    }

    @Test func aSiteThatTurnsUnhealthyDuringTheSoakFailsTheWave() async throws {
        let sites = ScriptedSites(revisions: ["a": old, "b": nil])
        sites.state.withLock { $0.failsAfter = ["a": 3] }
        var runner = RolloutRunner(store: MemoryRolloutStore(), sites: sites, clock: VirtualClock(), driverID: "t")
        runner.pollSeconds = 60
        let end = try await runner.start(plan([.init(name: "w", sites: ["a", "b"], soakSeconds: 600)]), revision: "v2")
        #expect(end.phase == .failed)
        #expect(statuses(end) == ["a": .rolledBack, "b": .failed])
        #expect(site(end, "a")?.reason?.contains("unhealthy during the soak") == true)
        // b had no earlier revision: it cannot be rolled back, and says so.
        #expect(site(end, "b")?.reason?.contains("no earlier revision") == true)
    }

    @Test func pauseStopsTheDriverAndResumeContinuesTheSoakFromItsRecordedStart() async throws {
        let store = MemoryRolloutStore()
        let clock = VirtualClock()
        let sites = ScriptedSites(revisions: ["a": old, "b": old]) { site in
            if site == "b" { _ = try? await RolloutRunner.pause("r1", store: store, by: "other", now: clock.now()) }
        }
        var runner = RolloutRunner(store: store, sites: sites, clock: clock, driverID: "t")
        runner.pollSeconds = 60
        let p = plan([.init(name: "one", sites: ["a"]), .init(name: "two", sites: ["b"], soakSeconds: 600), .init(name: "three", sites: ["a2"])])
        sites.state.withLock { $0.revisions["a2"] = "sha256:old" }
        let paused = try await runner.start(p, revision: "v2")
        #expect(paused.phase == .paused)
        #expect(paused.waves.map(\.phase) == [.succeeded, .paused, .pending])
        #expect(paused.message?.contains("paused by other") == true)
        #expect(!sites.log.contains("apply a2"))
        // Resume: the soak of wave two runs from its recorded start, not from the resume.
        let before = try #require(try await store.load("r1"))
        let soakStart = before.waves[1].soakStartedAt
        clock.advance(500)
        let done = try await runner.resume("r1")
        #expect(done.phase == .succeeded)
        #expect(done.waves[1].soakStartedAt == soakStart || soakStart == nil)
        if let s = done.waves[1].soakStartedAt { #expect(done.waves[1].finishedAt! - s >= 600 && done.waves[1].finishedAt! - s < 700) }
        #expect(sites.log.filter { $0 == "apply b" }.count == 1)
        #expect(sites.log.contains("apply a2"))
    }

    @Test func timePausedDuringASoakDoesNotCountTowardsIt() async throws {
        let store = MemoryRolloutStore()
        // Each poll sleeps 60 s of virtual time and 5 ms of real time, so the test can pause
        // while the 600 s soak runs.
        let clock = VirtualClock(realSleepMilliseconds: 5)
        let sites = ScriptedSites(revisions: ["a": old])
        var runner = RolloutRunner(store: store, sites: sites, clock: clock, driverID: "t")
        runner.pollSeconds = 60
        let p = plan([.init(name: "w", sites: ["a"], soakSeconds: 600)])
        let driver = runner
        let task = Task { try await driver.start(p, revision: "v2") }
        var soakStart: Double? = nil
        for _ in 0..<5000 {
            if let s = try await store.load("r1"), let t = s.waves[0].soakStartedAt { soakStart = t; break }
            try await Task.sleep(for: .milliseconds(1))
        }
        let start = try #require(soakStart)
        let pausedAt = clock.now()
        _ = try await RolloutRunner.pause("r1", store: store, by: "other", now: pausedAt)
        let paused = try await task.value
        #expect(paused.phase == .paused)
        let watched = pausedAt - start
        #expect(watched < 600)
        #expect(paused.waves[0].soakPausedAt == pausedAt)
        // Paused for two hours: none of it is soak time.
        clock.advance(7200)
        let callsBefore = sites.state.withLock { $0.healthCalls["a"] ?? 0 }
        let resumeAt = clock.now()
        let done = try await runner.resume("r1")
        #expect(done.phase == .succeeded)
        let s = try #require(done.waves[0].soakStartedAt)
        // The soak start moved forward by the paused time: the wave was watched 600 s in all.
        #expect(s == start + (resumeAt - pausedAt))
        #expect(resumeAt - pausedAt >= 7200)
        #expect(done.waves[0].finishedAt! - s >= 600)
        #expect(done.waves[0].soakPausedAt == nil)
        // After the resume the site was checked through the rest of the soak (not ended at once).
        let callsAfter = sites.state.withLock { $0.healthCalls["a"] ?? 0 }
        #expect(callsAfter - callsBefore >= Int((600 - watched) / 60) - 1, "\(callsAfter - callsBefore) health checks after resume")
        #expect(callsAfter - callsBefore >= 1)
    }

    @Test func sitesOfAWaveUpdatingAtOnceLoseNoChange() async throws {
        // Saves that take a moment (as a real API call does): the wave's parallel sites write
        // the state while another write is in flight. Every site must end touched and rolled back.
        let store = SlowStore()
        let names = (1...6).map { "s\($0)" }
        var revisions: [String: String?] = [:]
        for n in names { revisions[n] = old }
        let sites = ScriptedSites(revisions: revisions)
        sites.state.withLock { $0.unhealthy = Set(names) }
        var runner = RolloutRunner(store: store, sites: sites, clock: VirtualClock(), driverID: "t")
        runner.pollSeconds = 60
        let end = try await runner.start(plan([.init(name: "w", sites: names, maxParallel: 6, health: .init(timeoutSeconds: 60))]), revision: "v2")
        #expect(end.phase == .failed)
        for n in names {
            #expect(site(end, n)?.touched == true, "\(n) lost its touched flag")
            #expect(site(end, n)?.status == .rolledBack, "\(n): \(String(describing: site(end, n)))")
        }
        #expect(sites.log.filter { $0.hasPrefix("rollback") }.count == 6)
    }

    @Test func abortStopsForGoodAndResumeIsRefused() async throws {
        let store = MemoryRolloutStore()
        let clock = VirtualClock()
        let sites = ScriptedSites(revisions: ["a": old, "b": old]) { site in
            if site == "a" { _ = try? await RolloutRunner.abort("r1", store: store, by: "other", now: clock.now()) }
        }
        let runner = RolloutRunner(store: store, sites: sites, clock: clock, driverID: "t")
        let end = try await runner.start(plan([.init(name: "one", sites: ["a"]), .init(name: "two", sites: ["b"])]), revision: "v2")
        #expect(end.phase == .aborted)
        #expect(!sites.log.contains("apply b"))
        #expect(!sites.log.contains { $0.hasPrefix("rollback") })
        await #expect(throws: RolloutError.self) { _ = try await runner.resume("r1") }
        do { _ = try await runner.resume("r1") } catch { #expect(error.kind == .invalidTransition) }
        // A new start replaces the aborted rollout (over site b: applying a aborts, by script).
        let again = try await runner.start(plan([.init(name: "one", sites: ["b"])]), revision: "v3")
        #expect(again.phase == .succeeded)
    }

    @Test func startIsRefusedWhileARolloutOfThatNameRuns() async throws {
        let store = MemoryRolloutStore()
        let clock = VirtualClock()
        let sites = ScriptedSites(revisions: ["a": old])
        let runner = RolloutRunner(store: store, sites: sites, clock: clock, driverID: "t")
        _ = try await store.save(RolloutState(plan: plan([.init(name: "w", sites: ["a"])]), revision: "v1", now: clock.now()))
        do { _ = try await runner.start(plan([.init(name: "w", sites: ["a"])]), revision: "v2"); Issue.record("started twice") } catch {
            #expect(error.kind == .alreadyRunning)
        }
        #expect(sites.log.isEmpty)
    }

    @Test func anInterruptedDriverIsResumedFromTheStoredStateByAnotherClient() async throws {
        let store = MemoryRolloutStore()
        let clock = VirtualClock()
        let first = ScriptedSites(revisions: ["a": old, "b": old, "c": old], blocking: ["c"])
        var runner = RolloutRunner(store: store, sites: first, clock: clock, driverID: "client-1")
        runner.pollSeconds = 5
        let p = plan([.init(name: "one", sites: ["a"]), .init(name: "two", sites: ["b", "c"], maxParallel: 2)])
        let task = Task { try await runner.start(p, revision: "v2") }
        // Wait until c's apply is under way, then cancel (a killed client).
        for _ in 0..<2000 {
            if let s = try await store.load("r1"), site(s, "c")?.status == .applying, site(s, "c")?.touched == true { break }
            try await Task.sleep(for: .milliseconds(2))
        }
        task.cancel()
        _ = await task.result
        let mid = try #require(try await store.load("r1"))
        #expect(mid.phase == .running)
        #expect(site(mid, "a")?.status == .healthy)
        #expect(site(mid, "c")?.status == .applying)
        #expect(site(mid, "c")?.beforeRevision == old)
        // Another client: refused while the first one's heartbeat is fresh, then resumes.
        let second = ScriptedSites(revisions: ["a": "sha256:new", "b": first.revision("b"), "c": "sha256:new-partial"])
        var runner2 = RolloutRunner(store: store, sites: second, clock: clock, driverID: "client-2")
        runner2.pollSeconds = 5
        do { _ = try await runner2.resume("r1"); Issue.record("resumed over a live driver") } catch { #expect(error.kind == .drivenElsewhere) }
        clock.advance(300)
        let done = try await runner2.resume("r1")
        #expect(done.phase == .succeeded)
        #expect(!second.log.contains("apply a"))      // done before the interruption
        #expect(second.log.contains("apply c"))
        // c's revision from before is the one recorded before the interruption, not what it had since.
        #expect(site(done, "c")?.beforeRevision == old)
    }

    @Test func stateRoundTripsThroughItsDocument() throws {
        var s = RolloutState(plan: plan([.init(name: "w", sites: ["a", "b"], maxParallel: 2, soakSeconds: 90, failureBudget: .percent(10),
                                               health: .init(timeoutSeconds: 60, checks: [.job(namespace: "web", name: "smoke"),
                                                                                         .condition(apiVersion: "v1", kind: "Node", namespace: nil, name: "n1", type: "Ready", status: "True")]))]),
                             revision: "v2", now: 1_790_000_000)
        s.waves[0].sites[0].status = .deferred
        s.waves[0].sites[0].beforeKnown = true
        s.waves[0].sites[0].nextAttemptAt = 1_790_000_030
        s.waves[0].sites[1].beforeKnown = true
        s.waves[0].sites[1].beforeRevision = "sha256:x"
        s.waves[0].soakStartedAt = 1_790_000_010
        let back = try RolloutState(value: JSONParser.parse(JSONWriter.string(s.value)), resourceVersion: "7")
        #expect(back.plan == s.plan)
        #expect(back.waves == s.waves)
        #expect(back.resourceVersion == "7")
        #expect(throws: RolloutError.self) { try RolloutState(value: ["format": "other"], resourceVersion: nil) }
    }

    @Test func timestampsRoundTrip() {
        #expect(Timestamp.format(0) == "1970-01-01T00:00:00Z")
        #expect(Timestamp.parse("2026-11-28T06:41:41Z") == 1_795_848_101)
        #expect(Timestamp.parse(Timestamp.format(1_795_848_101)) == 1_795_848_101)
        #expect(Timestamp.parse("2026-11-28 06:41:41") == nil)
        #expect(Timestamp.duration(90) == "1m30s")
    }
}
