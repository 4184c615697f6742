import PatternCore

/// Drives a rollout: wave after wave, sites applied at most `maxParallel` at once, each waited
/// for until healthy (or its health timeout), the wave soaked, the failure budget checked after
/// every batch and through the soak. A wave that breaks its budget stops the rollout and its
/// applied sites are rolled back to the revision each had before. Unreachable sites are
/// deferred and retried (bounded), or fail with `requireAll`.
///
/// Every transition is written to the `RolloutStore` at once (optimistic concurrency), so a
/// `pause` or `abort` from another client is seen at the next write or poll, and a driver that
/// crashed is resumed from exactly where the state says it was. Soak and retry times come from
/// recorded timestamps and the injected clock.
public struct RolloutRunner: Sendable {
    public var store: any RolloutStore
    public var sites: any RolloutSites
    public var clock: any RolloutClock
    /// Who drives (recorded in the state): `user@host/pid`.
    public var driverID: String
    /// Seconds between health polls and control checks.
    public var pollSeconds: Double = 5
    /// A driver whose last write is older than this is taken to be gone (crashed).
    public var staleDriverSeconds: Double = 120
    /// Told every transition, for progress lines (`wave canary: edge-eu soaking`).
    public var onEvent: @Sendable (String) -> Void = { _ in }

    public init(store: any RolloutStore, sites: any RolloutSites, clock: any RolloutClock = SystemRolloutClock(), driverID: String) {
        self.store = store; self.sites = sites; self.clock = clock; self.driverID = driverID
    }

    // MARK: Commands

    /// Starts rollout `plan` at `revision` and drives it until it succeeds, fails, is paused or
    /// aborted. A rollout of the same name that is running or paused is refused; a finished one
    /// is replaced. `sourceRef` is recorded in the state (`RolloutState.sourceRef`).
    public func start(_ plan: RolloutPlan, revision: String, sourceRef: String? = nil) async throws(RolloutError) -> RolloutState {
        let existing = try await store.load(plan.name)
        if let existing, !existing.phase.isFinal {
            throw RolloutError(.alreadyRunning, "rollout \(plan.name) is \(existing.phase.rawValue) (revision \(existing.revision))",
                               fix: "`pattern rollout resume \(plan.name)` continues it; `pattern rollout abort \(plan.name)` ends it")
        }
        let now = clock.now()
        var state = RolloutState(plan: plan, revision: revision, now: now)
        state.sourceRef = sourceRef
        state.driver = .init(id: driverID, heartbeat: now)
        state.resourceVersion = existing?.resourceVersion
        state = try await store.save(state)
        onEvent("rollout \(plan.name): started (\(plan.waves.count) waves, revision \(revision))")
        return try await drive(state)
    }

    /// Resumes a paused rollout, or one whose driver is gone (its heartbeat is stale), and
    /// drives it. `takeOver` resumes even though another driver's heartbeat is fresh.
    public func resume(_ name: String, takeOver: Bool = false) async throws(RolloutError) -> RolloutState {
        guard var state = try await store.load(name) else { throw Self.notFound(name) }
        let now = clock.now()
        switch state.phase {
        case .paused: break
        case .running:
            if let d = state.driver, d.id != driverID, now - d.heartbeat < staleDriverSeconds, !takeOver {
                throw RolloutError(.drivenElsewhere, "rollout \(name) is driven by \(d.id) (last write \(Timestamp.duration(now - d.heartbeat)) ago)",
                                   fix: "watch it with `pattern rollout status \(name)`; if that client is gone, wait \(Timestamp.duration(staleDriverSeconds)) or pass --take-over")
            }
        case .pending, .aborted, .failed, .succeeded:
            throw RolloutError(.invalidTransition, "rollout \(name) is \(state.phase.rawValue): nothing to resume",
                               fix: "start it again with `pattern rollout start \(name)`")
        }
        state.phase = .running
        state.message = nil
        if let wi = state.currentWave, state.waves[wi].phase == .paused { state.waves[wi].phase = .running }
        if let wi = state.currentWave, let started = state.waves[wi].soakStartedAt, !state.waves[wi].phase.isFinal {
            // Time nobody watched the wave (paused, or since a crashed driver's last write)
            // does not count towards its soak: the soak start moves forward by it.
            let since = state.waves[wi].soakPausedAt ?? state.driver?.heartbeat ?? now
            if now > since { state.waves[wi].soakStartedAt = started + (now - since) }
            state.waves[wi].soakPausedAt = nil
        }
        // Deferred sites that used up their attempts get a fresh set.
        for wi in state.waves.indices where !state.waves[wi].phase.isFinal {
            for si in state.waves[wi].sites.indices where state.waves[wi].sites[si].status == .deferred {
                state.waves[wi].sites[si].attempts = 0
                state.waves[wi].sites[si].nextAttemptAt = nil
            }
        }
        state.driver = .init(id: driverID, heartbeat: now)
        state.updatedAt = now
        state = try await store.save(state)
        onEvent("rollout \(name): resumed")
        return try await drive(state)
    }

    /// Pauses a running rollout: its driver stops at its next write or poll (a site being
    /// applied finishes first).
    public static func pause(_ name: String, store: any RolloutStore, by who: String, now: Double) async throws(RolloutError) -> RolloutState {
        try await control(name, store: store) { (state: inout RolloutState) throws(RolloutError) in
            guard state.phase == .running else {
                throw RolloutError(.invalidTransition, "rollout \(name) is \(state.phase.rawValue), not running", fix: nil)
            }
            state.phase = .paused
            state.message = "paused by \(who) at \(Timestamp.format(now))"
            if let wi = state.currentWave, state.waves[wi].phase == .running {
                state.waves[wi].phase = .paused
                if state.waves[wi].soakStartedAt != nil { state.waves[wi].soakPausedAt = now }
            }
            state.updatedAt = now
        }
    }

    /// Aborts a running or paused rollout: nothing more is applied; sites keep what they have
    /// (`pattern rollback <site>` reverts one).
    public static func abort(_ name: String, store: any RolloutStore, by who: String, now: Double) async throws(RolloutError) -> RolloutState {
        try await control(name, store: store) { (state: inout RolloutState) throws(RolloutError) in
            guard !state.phase.isFinal else {
                throw RolloutError(.invalidTransition, "rollout \(name) is already \(state.phase.rawValue)", fix: nil)
            }
            state.phase = .aborted
            state.message = "aborted by \(who) at \(Timestamp.format(now))"
            if let wi = state.currentWave, state.waves[wi].phase != .pending {
                state.waves[wi].phase = .aborted
                state.waves[wi].finishedAt = now
            }
            state.driver = nil
            state.updatedAt = now
        }
    }

    static func control(_ name: String, store: any RolloutStore,
                        _ change: (inout RolloutState) throws(RolloutError) -> Void) async throws(RolloutError) -> RolloutState {
        for _ in 0..<5 {
            guard var state = try await store.load(name) else { throw notFound(name) }
            try change(&state)
            do { return try await store.save(state) } catch where error.kind == .conflict { continue }
        }
        throw RolloutError(.conflict, "the state of rollout \(name) kept changing while this client wrote it", fix: "re-run the command")
    }

    /// The error for a rollout without state in the store.
    public static func notFound(_ name: String) -> RolloutError {
        RolloutError(.notFound, "no rollout named \(name) in the hub cluster",
                     fix: "start it with `pattern rollout start \(name)`; check --hub-context and --record-namespace")
    }

    // MARK: Driving

    /// Drives `state` until it is no longer running.
    func drive(_ initial: RolloutState) async throws(RolloutError) -> RolloutState {
        let keeper = StateKeeper(state: initial, store: store, driverID: driverID, clock: clock)
        while true {
            if Task.isCancelled { throw RolloutError(.interrupted, "interrupted; the state in the hub cluster is where it stopped", fix: "`pattern rollout resume \(initial.name)`") }
            let s = await keeper.state
            guard s.phase == .running else { return s }
            guard let wi = s.currentWave else {
                let done = try await keeper.update { st in
                    st.phase = .succeeded
                    let deferred = st.waves.flatMap(\.sites).filter { $0.status == .deferred }.map(\.name)
                    st.message = deferred.isEmpty ? nil : "succeeded; deferred (unreachable): \(deferred.joined(separator: ", "))"
                    st.driver = nil
                }
                onEvent("rollout \(done.name): succeeded")
                return done
            }
            try await runWave(wi, keeper)
        }
    }

    func runWave(_ wi: Int, _ keeper: StateKeeper) async throws(RolloutError) {
        let plan = await keeper.state.plan
        let wave = plan.waves[wi]
        let name = wave.name
        if await keeper.state.waves[wi].phase != .running {
            _ = try await keeper.update { $0.waves[wi].phase = .running }
            onEvent("wave \(name): running (\(wave.sites.count) sites, maxParallel \(wave.maxParallel))")
        }
        // Apply and wait for health, in batches; deferred sites are retried when due.
        while true {
            guard try await keeper.isRunning() else { return }
            let s = await keeper.state
            let now = clock.now()
            var due: [String] = [], nextRetry: Double? = nil
            for site in s.waves[wi].sites {
                switch site.status {
                case .pending, .applying: due.append(site.name)
                case .deferred where site.attempts < plan.retry.attempts:
                    let t = site.nextAttemptAt ?? 0
                    if t <= now { due.append(site.name) } else { nextRetry = min(nextRetry ?? t, t) }
                default: break
                }
            }
            if due.isEmpty {
                guard let t = nextRetry else { break }
                try await wait(until: t, keeper)
                continue
            }
            var i = 0
            while i < due.count {
                let batch = Array(due[i..<min(due.count, i + wave.maxParallel)])
                i += batch.count
                let failure: RolloutError? = await withTaskGroup(of: RolloutError?.self) { group in
                    for site in batch {
                        group.addTask {
                            do throws(RolloutError) { try await self.process(site, wave: wi, plan: plan, keeper) ; return nil } catch { return error }
                        }
                    }
                    var first: RolloutError? = nil
                    for await e in group { if first == nil, let e { first = e } }
                    return first
                }
                if let failure { throw failure }
                if Task.isCancelled { throw RolloutError(.interrupted, "interrupted; the state in the hub cluster is where it stopped", fix: nil) }
                if try await budgetBroken(wi, keeper) { return try await rollBack(wi, keeper) }
                guard try await keeper.isRunning() else { return }
            }
        }
        // Soak: every site that applied is healthy; it has to stay so for `soak`.
        var started = await keeper.state.waves[wi].soakStartedAt
        if started == nil {
            let now = clock.now()
            _ = try await keeper.update { $0.waves[wi].soakStartedAt = now }
            started = now
            if wave.soakSeconds > 0 { onEvent("wave \(name): soaking for \(Timestamp.duration(wave.soakSeconds))") }
        }
        let end = started! + wave.soakSeconds
        while clock.now() < end {
            guard try await keeper.isRunning() else { return }
            do { try await clock.sleep(seconds: min(pollSeconds, end - clock.now())) } catch {
                throw RolloutError(.interrupted, "interrupted while wave \(name) soaked; the state in the hub cluster is where it stopped", fix: nil)
            }
            guard try await keeper.isRunning() else { return }
            for site in await keeper.state.waves[wi].sites where site.status == .soaking {
                switch await sites.health(site.name, checks: wave.health.checks) {
                case .healthy: break
                case .failed(let m), .progressing(let m):
                    try await mark(site.name, wi, keeper, .failed, "unhealthy during the soak: \(m)")
                case .unreachable(let m):
                    onEvent("wave \(name): \(site.name) unreachable during the soak (\(m)); still soaking")
                }
            }
            if try await budgetBroken(wi, keeper) { return try await rollBack(wi, keeper) }
            try await keeper.heartbeat()
        }
        guard try await keeper.isRunning() else { return }
        let now = clock.now()
        _ = try await keeper.update { st in
            for si in st.waves[wi].sites.indices where st.waves[wi].sites[si].status == .soaking {
                st.waves[wi].sites[si].status = .healthy
                st.waves[wi].sites[si].updatedAt = now
            }
            st.waves[wi].phase = .succeeded
            st.waves[wi].finishedAt = now
            let deferred = st.waves[wi].sites.filter { $0.status == .deferred }.count
            let failed = st.waves[wi].sites.filter { $0.status == .failed }.count
            var parts: [String] = []
            if failed > 0 { parts.append("\(failed) failed within budget \(wave.failureBudget)") }
            if deferred > 0 { parts.append("\(deferred) deferred") }
            st.waves[wi].message = parts.isEmpty ? nil : parts.joined(separator: ", ")
        }
        onEvent("wave \(name): succeeded")
    }

    /// One site: before-revision from its ledger, apply, then wait until healthy.
    func process(_ name: String, wave wi: Int, plan: RolloutPlan, _ keeper: StateKeeper) async throws(RolloutError) {
        let wave = plan.waves[wi]
        guard let pos = await keeper.state.index(of: name) else { return }
        let si = pos.site
        let site = await keeper.state.waves[wi].sites[si]
        if site.status != .applying {
            let now = clock.now()
            _ = try await keeper.update { st in
                st.waves[wi].sites[si].status = .applying
                st.waves[wi].sites[si].attempts += 1
                st.waves[wi].sites[si].reason = nil
                st.waves[wi].sites[si].nextAttemptAt = nil
                st.waves[wi].sites[si].updatedAt = now
            }
            onEvent("wave \(wave.name): \(name) applying")
        }
        if !site.beforeKnown {
            let current = await sites.currentRevision(name)
            try Self.checkCancelled(name)
            switch current {
            case .ok(let r):
                _ = try await keeper.update { st in
                    st.waves[wi].sites[si].beforeKnown = true
                    st.waves[wi].sites[si].beforeRevision = r
                }
            case .unreachable(let m): return try await unreachable(name, wi, si, plan, keeper, m)
            case .failed(let m): return try await mark(name, wi, keeper, .failed, "cannot read its ledger: \(m)")
            }
        }
        if let why = await sites.refusal(name) {
            try Self.checkCancelled(name)
            return try await mark(name, wi, keeper, .failed, "refused (nothing written): \(why)")
        }
        _ = try await keeper.update { $0.waves[wi].sites[si].touched = true }
        let applied = await sites.apply(name)
        // An interrupted driver records nothing it did not see finish (a killed one could not).
        try Self.checkCancelled(name)
        switch applied {
        case .ok(let r): _ = try await keeper.update { $0.waves[wi].sites[si].appliedRevision = r }
        case .unreachable(let m): return try await unreachable(name, wi, si, plan, keeper, m)
        case .failed(let m): return try await mark(name, wi, keeper, .failed, "apply failed: \(m)")
        }
        let deadline = clock.now() + wave.health.timeoutSeconds
        while true {
            let last: String
            let health = await sites.health(name, checks: wave.health.checks)
            try Self.checkCancelled(name)
            switch health {
            case .healthy: return try await mark(name, wi, keeper, .soaking, nil)
            case .failed(let m): return try await mark(name, wi, keeper, .failed, "unhealthy: \(m)")
            case .progressing(let m), .unreachable(let m): last = m
            }
            if clock.now() >= deadline {
                return try await mark(name, wi, keeper, .failed, "not healthy within \(Timestamp.duration(wave.health.timeoutSeconds)): \(last)")
            }
            do { try await clock.sleep(seconds: min(pollSeconds, max(0, deadline - clock.now()))) } catch {
                throw RolloutError(.interrupted, "interrupted while waiting for \(name); the state in the hub cluster is where it stopped", fix: nil)
            }
            try await keeper.heartbeat()
        }
    }

    static func checkCancelled(_ site: String) throws(RolloutError) {
        if Task.isCancelled {
            throw RolloutError(.interrupted, "interrupted while working on \(site); the state in the hub cluster is where it stopped", fix: nil)
        }
    }

    func unreachable(_ name: String, _ wi: Int, _ si: Int, _ plan: RolloutPlan, _ keeper: StateKeeper, _ m: String) async throws(RolloutError) {
        if plan.requireAll { return try await mark(name, wi, keeper, .failed, "unreachable (the rollout requires all sites): \(m)") }
        let now = clock.now()
        let st = try await keeper.update { st in
            var s = st.waves[wi].sites[si]
            s.status = .deferred
            s.nextAttemptAt = now + plan.retry.intervalSeconds
            s.reason = "unreachable: \(m)" + (s.attempts >= plan.retry.attempts ? " (tried \(s.attempts) times; `pattern rollout resume` tries again)" : "")
            s.updatedAt = now
            st.waves[wi].sites[si] = s
        }
        onEvent("wave \(plan.waves[wi].name): \(name) deferred (\(st.waves[wi].sites[si].reason ?? ""))")
    }

    func mark(_ name: String, _ wi: Int, _ keeper: StateKeeper, _ status: RolloutState.SiteStatus, _ reason: String?) async throws(RolloutError) {
        let now = clock.now()
        _ = try await keeper.update { st in
            guard let si = st.index(of: name)?.site else { return }
            st.waves[wi].sites[si].status = status
            st.waves[wi].sites[si].reason = RolloutState.cut(reason)
            st.waves[wi].sites[si].updatedAt = now
        }
        let waveName = await keeper.state.waves[wi].name
        onEvent("wave \(waveName): \(name) \(status.rawValue)" + (reason.map { " (\($0))" } ?? ""))
    }

    func budgetBroken(_ wi: Int, _ keeper: StateKeeper) async throws(RolloutError) -> Bool {
        let s = await keeper.state
        let failed = s.waves[wi].sites.filter { $0.status == .failed }.count
        return failed > s.plan.waves[wi].failureBudget.allowed(of: s.waves[wi].sites.count)
    }

    /// The wave broke its budget: every site it wrote to goes back to its revision from before.
    func rollBack(_ wi: Int, _ keeper: StateKeeper) async throws(RolloutError) {
        let s = await keeper.state
        let wave = s.plan.waves[wi]
        let failedSites = s.waves[wi].sites.filter { $0.status == .failed }.map(\.name)
        // The sites that failed are named (the first few: the message stays one line at fleet size).
        let names = failedSites.prefix(5).joined(separator: ", ") + (failedSites.count > 5 ? ", …" : "")
        let why = "\(failedSites.count) of \(s.waves[wi].sites.count) sites failed (budget \(wave.failureBudget)): \(names)"
        onEvent("wave \(wave.name): \(why); rolling back")
        for site in s.waves[wi].sites where site.touched && site.status != .rolledBack {
            let prior = site.reason.map { $0 + "; " } ?? ""
            guard let before = site.beforeRevision else {
                try await mark(site.name, wi, keeper, .failed, prior + "not rolled back: its ledger had no earlier revision")
                continue
            }
            switch await sites.rollBack(site.name, to: before) {
            case .ok: try await mark(site.name, wi, keeper, .rolledBack, prior + "rolled back to \(Revision.short(before))")
            case .failed(let m), .unreachable(let m): try await mark(site.name, wi, keeper, .failed, prior + "rollback failed: \(m)")
            }
        }
        let now = clock.now()
        _ = try await keeper.update { st in
            st.waves[wi].phase = .failed
            st.waves[wi].finishedAt = now
            st.waves[wi].message = why + "; its applied sites were rolled back"
            st.phase = .failed
            st.message = "wave \(wave.name) failed: \(why)"
            st.driver = nil
        }
        onEvent("rollout \(s.name): failed in wave \(wave.name)")
    }

    func wait(until t: Double, _ keeper: StateKeeper) async throws(RolloutError) {
        while clock.now() < t {
            do { try await clock.sleep(seconds: min(pollSeconds, t - clock.now())) } catch {
                throw RolloutError(.interrupted, "interrupted; the state in the hub cluster is where it stopped", fix: nil)
            }
            guard try await keeper.isRunning() else { return }
            try await keeper.heartbeat()
        }
    }
}

/// The driver's copy of the state; every change is written through at once. A write that
/// conflicts reloads the stored state: a pause or abort written by another client wins (the
/// driver stops), a driver that took over ends this one.
actor StateKeeper {
    private(set) var state: RolloutState
    let store: any RolloutStore
    let driverID: String
    let clock: any RolloutClock
    private var lastWrite: Double

    init(state: RolloutState, store: any RolloutStore, driverID: String, clock: any RolloutClock) {
        self.state = state; self.store = store; self.driverID = driverID; self.clock = clock
        lastWrite = clock.now()
    }

    /// Whether a write (or a reload) is under way; others wait in `waiters`, in order.
    private var busy = false
    private var waiters: [CheckedContinuation<Void, Never>] = []

    /// One write or reload at a time: an actor is re-entered at every `await`, and two sites of
    /// a wave updating at once would otherwise both start from the same state, the second
    /// (after its 409 and reload) overwriting the first's change.
    private func acquire() async {
        if !busy { busy = true; return }
        await withCheckedContinuation { waiters.append($0) }
    }

    private func release() {
        if waiters.isEmpty { busy = false } else { waiters.removeFirst().resume() }
    }

    /// Applies `change` and writes the state (one update at a time).
    @discardableResult
    func update(_ change: @Sendable (inout RolloutState) -> Void) async throws(RolloutError) -> RolloutState {
        await acquire()
        defer { release() }
        for _ in 0..<5 {
            var next = state
            change(&next)
            let now = clock.now()
            next.updatedAt = now
            if next.phase == .running { next.driver = .init(id: driverID, heartbeat: now) }
            do {
                state = try await store.save(next)
                lastWrite = now
                return state
            } catch where error.kind == .conflict {
                try await adoptRemote()
            }
        }
        throw RolloutError(.conflict, "the state of rollout \(state.name) kept changing while this driver wrote it", fix: "`pattern rollout resume \(state.name)`")
    }

    /// Takes control changes (pause, abort, take-over) from the stored state.
    func adoptRemote() async throws(RolloutError) {
        guard let remote = try await store.load(state.name) else {
            throw RolloutError(.conflict, "the state of rollout \(state.name) was deleted while it ran", fix: "start it again")
        }
        if remote.phase == .running, let d = remote.driver, d.id != driverID {
            throw RolloutError(.drivenElsewhere, "rollout \(state.name) was taken over by \(d.id); this client stops", fix: nil)
        }
        if remote.phase != .running {
            state.phase = remote.phase
            state.message = remote.message
            state.driver = remote.driver
            for wi in state.waves.indices where wi < remote.waves.count {
                if [.paused, .aborted].contains(remote.waves[wi].phase) {
                    state.waves[wi].phase = remote.waves[wi].phase
                    state.waves[wi].finishedAt = remote.waves[wi].finishedAt
                    state.waves[wi].soakPausedAt = remote.waves[wi].soakPausedAt
                }
            }
        }
        state.resourceVersion = remote.resourceVersion
    }

    /// Whether the rollout still runs, after looking at the stored state when it changed.
    func isRunning() async throws(RolloutError) -> Bool {
        await acquire()
        defer { release() }
        if state.phase == .running, let remote = try await store.load(state.name), remote.resourceVersion != state.resourceVersion {
            try await adoptRemote()
        }
        return state.phase == .running
    }

    /// Writes the driver's heartbeat when the last write is older than 30 seconds.
    func heartbeat() async throws(RolloutError) {
        guard state.phase == .running, clock.now() - lastWrite >= 30 else { return }
        try await update { _ in }
    }
}
