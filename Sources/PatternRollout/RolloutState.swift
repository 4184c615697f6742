import PatternCore

/// The persisted state of one rollout: its plan (resolved waves, so a resume never re-resolves
/// against a changed repository), the overall phase, every wave and every site, and who drives
/// it. Written to the hub cluster after every transition (`RolloutStore`).
public struct RolloutState: Sendable, Hashable {
    /// Overall and per-wave phase.
    public enum Phase: String, Sendable, Hashable, CaseIterable {
        /// Not started (waves after the current one).
        case pending
        case running
        /// Stopped by `pattern rollout pause`; `resume` continues where it stopped.
        case paused
        /// Stopped by `pattern rollout abort`; sites keep what they have, nothing more is applied.
        case aborted
        /// A wave broke its failure budget; that wave's applied sites were rolled back.
        case failed
        case succeeded

        /// Nothing more will happen without a new `start`.
        public var isFinal: Bool { self == .aborted || self == .failed || self == .succeeded }
    }

    /// Where one site is.
    public enum SiteStatus: String, Sendable, Hashable, CaseIterable {
        /// Waiting for its turn.
        case pending
        /// Being applied and waited for (its health gate).
        case applying
        /// Healthy; its wave is soaking.
        case soaking
        /// Its wave soaked and succeeded.
        case healthy
        case failed
        /// Its cluster could not be reached; retried (bounded), then left for `resume`.
        case deferred
        /// Applied in a wave that failed, and returned to the revision it had before.
        case rolledBack
    }

    public struct Site: Sendable, Hashable {
        public var name: String
        public var status: SiteStatus = .pending
        /// Why it is where it is (failure, deferral, rollback), for `status`.
        public var reason: String?
        /// The rendered revision its ledger's last entry had before this rollout applied it;
        /// `beforeKnown` without a revision: the site had never been applied.
        public var beforeRevision: String?
        public var beforeKnown = false
        /// The rendered revision this rollout applied.
        public var appliedRevision: String?
        /// This rollout wrote to the site (an apply started), so a rollback must revert it.
        public var touched = false
        /// Apply attempts (unreachable clusters are retried up to the plan's `retry.attempts`).
        public var attempts = 0
        /// When a deferred site is tried again (seconds since the epoch).
        public var nextAttemptAt: Double?
        /// Last change (seconds since the epoch).
        public var updatedAt: Double = 0

        public init(name: String) { self.name = name }
    }

    public struct Wave: Sendable, Hashable {
        public var name: String
        public var phase: Phase = .pending
        public var sites: [Site]
        /// When every site of the wave was healthy and the soak began (seconds since the epoch).
        public var soakStartedAt: Double?
        /// When the rollout was paused during this wave's soak: on resume the soak start moves
        /// forward by the paused time, so time nobody watched never counts as soak.
        public var soakPausedAt: Double?
        public var finishedAt: Double?
        public var message: String?

        public init(name: String, sites: [Site]) { self.name = name; self.sites = sites }
    }

    /// The client driving the rollout, and when it last wrote (a crashed driver's heartbeat goes stale).
    public struct Driver: Sendable, Hashable {
        public var id: String
        public var heartbeat: Double
        public init(id: String, heartbeat: Double) { self.id = id; self.heartbeat = heartbeat }
    }

    public var plan: RolloutPlan
    /// What is rolled out (e.g. a git commit or tag of the pattern repository), as given to `start`.
    public var revision: String
    /// The git revision (tag, branch or commit) every site's git pattern source was rendered at
    /// instead of the ref its overlay names (`pattern rollout start --revision`); nil: the
    /// overlays' refs. A resume renders at the same revision.
    public var sourceRef: String?
    public var phase: Phase = .running
    public var message: String?
    public var waves: [Wave]
    public var startedAt: Double
    public var updatedAt: Double
    public var driver: Driver?
    /// The store's version of this state (a Kubernetes resourceVersion); not part of the document.
    public var resourceVersion: String?

    public var name: String { plan.name }

    /// A new rollout of `plan` at `revision`: every wave pending.
    public init(plan: RolloutPlan, revision: String, now: Double) {
        self.plan = plan; self.revision = revision; self.startedAt = now; self.updatedAt = now
        waves = plan.waves.map { w in Wave(name: w.name, sites: w.sites.map { Site(name: $0) }) }
    }

    /// The first wave that has not succeeded (nil: every wave succeeded).
    public var currentWave: Int? { waves.firstIndex { $0.phase != .succeeded } }

    /// Site `name`'s position.
    public func index(of site: String) -> (wave: Int, site: Int)? {
        for (wi, w) in waves.enumerated() { if let si = w.sites.firstIndex(where: { $0.name == site }) { return (wi, si) } }
        return nil
    }
}

// MARK: Encoding (a JSON document in the state ConfigMap)

extension RolloutState {
    /// Format tag of the encoded document.
    public static let format = "pattern.dev/rollout/v1"
    /// Reasons are cut to this many bytes (the state is one ConfigMap, at most 1 MiB).
    public static let maxReasonBytes = 512

    static func cut(_ s: String?) -> String? {
        guard let s else { return nil }
        guard s.utf8.count > maxReasonBytes else { return s }
        var out = ""
        for c in s { if out.utf8.count + c.utf8.count > maxReasonBytes - 3 { break }; out.append(c) }
        return out + "…"
    }

    /// The state as a document (times as RFC 3339, no resourceVersion).
    public var value: Value {
        var o = Object()
        o.append("format", .string(Self.format))
        o.append("name", .string(name))
        o.append("revision", .string(revision))
        if let sourceRef { o.append("sourceRef", .string(sourceRef)) }
        o.append("phase", .string(phase.rawValue))
        if let message { o.append("message", .string(message)) }
        o.append("startedAt", .string(Timestamp.format(startedAt)))
        o.append("updatedAt", .string(Timestamp.format(updatedAt)))
        if let d = driver { o.append("driver", ["id": .string(d.id), "heartbeat": .string(Timestamp.format(d.heartbeat))]) }
        o.append("plan", PlanCodec.encode(plan))
        o.append("waves", .array(waves.map(Self.encode)))
        return .object(o)
    }

    static func encode(_ w: Wave) -> Value {
        var o = Object()
        o.append("name", .string(w.name))
        o.append("phase", .string(w.phase.rawValue))
        if let t = w.soakStartedAt { o.append("soakStartedAt", .string(Timestamp.format(t))) }
        if let t = w.soakPausedAt { o.append("soakPausedAt", .string(Timestamp.format(t))) }
        if let t = w.finishedAt { o.append("finishedAt", .string(Timestamp.format(t))) }
        if let m = w.message { o.append("message", .string(m)) }
        o.append("sites", .array(w.sites.map(encode)))
        return .object(o)
    }

    static func encode(_ s: Site) -> Value {
        var o = Object()
        o.append("name", .string(s.name))
        o.append("status", .string(s.status.rawValue))
        if let r = s.reason { o.append("reason", .string(r)) }
        if s.beforeKnown { o.append("beforeRevision", s.beforeRevision.map(Value.string) ?? .null) }
        if let r = s.appliedRevision { o.append("appliedRevision", .string(r)) }
        if s.touched { o.append("touched", true) }
        if s.attempts > 0 { o.append("attempts", .int(s.attempts)) }
        if let t = s.nextAttemptAt { o.append("nextAttemptAt", .string(Timestamp.format(t))) }
        o.append("updatedAt", .string(Timestamp.format(s.updatedAt)))
        return .object(o)
    }

    /// Decodes a document `value` wrote; a document of another format or shape is an error
    /// (never a guessed state).
    public init(value v: Value, resourceVersion: String?) throws(RolloutError) {
        func bad(_ what: String) -> RolloutError {
            RolloutError(.stateUnreadable, "the rollout state is unreadable: \(what)",
                         fix: "inspect it with `pattern rollout status -o yaml`; delete the state ConfigMap to start over")
        }
        guard v["format"]?.string == Self.format else { throw bad("format is not \(Self.format)") }
        guard let phase = v["phase"]?.string.flatMap(Phase.init(rawValue:)) else { throw bad("no phase") }
        guard let planValue = v["plan"], let plan = PlanCodec.decode(planValue) else { throw bad("no plan") }
        guard let started = v["startedAt"]?.string.flatMap(Timestamp.parse),
              let updated = v["updatedAt"]?.string.flatMap(Timestamp.parse) else { throw bad("no times") }
        self.plan = plan
        self.revision = v["revision"]?.string ?? ""
        self.sourceRef = v["sourceRef"]?.string
        self.phase = phase
        self.message = v["message"]?.string
        self.startedAt = started
        self.updatedAt = updated
        self.resourceVersion = resourceVersion
        if let d = v["driver"], let id = d["id"]?.string, let hb = d["heartbeat"]?.string.flatMap(Timestamp.parse) {
            driver = Driver(id: id, heartbeat: hb)
        }
        var waves: [Wave] = []
        for wv in v["waves"]?.array ?? [] {
            guard let name = wv["name"]?.string, let wp = wv["phase"]?.string.flatMap(Phase.init(rawValue:)) else { throw bad("a wave without name or phase") }
            var sites: [Site] = []
            for sv in wv["sites"]?.array ?? [] {
                guard let sn = sv["name"]?.string, let st = sv["status"]?.string.flatMap(SiteStatus.init(rawValue:)) else { throw bad("a site without name or status") }
                var s = Site(name: sn)
                s.status = st
                s.reason = sv["reason"]?.string
                if let b = sv["beforeRevision"] { s.beforeKnown = true; s.beforeRevision = b.string }
                s.appliedRevision = sv["appliedRevision"]?.string
                s.touched = sv["touched"]?.bool ?? false
                s.attempts = sv["attempts"]?.int ?? 0
                s.nextAttemptAt = sv["nextAttemptAt"]?.string.flatMap(Timestamp.parse)
                s.updatedAt = sv["updatedAt"]?.string.flatMap(Timestamp.parse) ?? 0
                sites.append(s)
            }
            var w = Wave(name: name, sites: sites)
            w.phase = wp
            w.soakStartedAt = wv["soakStartedAt"]?.string.flatMap(Timestamp.parse)
            w.soakPausedAt = wv["soakPausedAt"]?.string.flatMap(Timestamp.parse)
            w.finishedAt = wv["finishedAt"]?.string.flatMap(Timestamp.parse)
            w.message = wv["message"]?.string
            waves.append(w)
        }
        guard waves.map(\.name) == plan.waves.map(\.name) else { throw bad("waves differ from the plan") }
        self.waves = waves
        self.plan.name = v["name"]?.string ?? ""
        for i in self.plan.waves.indices { self.plan.waves[i].sites = waves[i].sites.map(\.name) }
    }
}

/// The plan inside the state document.
enum PlanCodec {
    static func encode(_ p: RolloutPlan) -> Value {
        var o = Object()
        if !p.file.isEmpty { o.append("file", .string(p.file)) }
        if let h = p.hubSite { o.append("hub", .string(h)) }
        o.append("requireAll", .bool(p.requireAll))
        o.append("retry", ["attempts": .int(p.retry.attempts), "intervalSeconds": .double(p.retry.intervalSeconds)])
        o.append("waves", .array(p.waves.map { w in
            var wo = Object()
            wo.append("name", .string(w.name))
            wo.append("maxParallel", .int(w.maxParallel))
            wo.append("soakSeconds", .double(w.soakSeconds))
            wo.append("failureBudget", .string(w.failureBudget.description))
            wo.append("healthTimeoutSeconds", .double(w.health.timeoutSeconds))
            if !w.health.checks.isEmpty { wo.append("checks", .array(w.health.checks.map(encode))) }
            return .object(wo)
        }))
        return .object(o)
    }

    static func encode(_ c: RolloutPlan.HealthCheck) -> Value {
        switch c {
        case .job(let ns, let n): return ["job": ["namespace": .string(ns), "name": .string(n)]]
        case .condition(let api, let kind, let ns, let n, let t, let s):
            var o: Object = ["apiVersion": .string(api), "kind": .string(kind), "name": .string(n), "type": .string(t), "status": .string(s)]
            if let ns { o.set("namespace", .string(ns)) }
            return ["condition": .object(o)]
        }
    }

    /// The plan's waves carry no sites here: the state's waves hold them.
    static func decode(_ v: Value) -> RolloutPlan? {
        guard let wl = v["waves"]?.array else { return nil }
        var waves: [RolloutPlan.Wave] = []
        for wv in wl {
            guard let name = wv["name"]?.string else { return nil }
            var budget = RolloutPlan.FailureBudget.count(0)
            if let b = wv["failureBudget"]?.string {
                if b.hasSuffix("%"), let p = Int(b.dropLast()) { budget = .percent(p) } else if let n = Int(b) { budget = .count(n) } else { return nil }
            }
            var checks: [RolloutPlan.HealthCheck] = []
            for cv in wv["checks"]?.array ?? [] {
                if let j = cv["job"], let ns = j["namespace"]?.string, let n = j["name"]?.string { checks.append(.job(namespace: ns, name: n)) }
                else if let c = cv["condition"], let api = c["apiVersion"]?.string, let k = c["kind"]?.string, let n = c["name"]?.string,
                        let t = c["type"]?.string {
                    checks.append(.condition(apiVersion: api, kind: k, namespace: c["namespace"]?.string, name: n, type: t, status: c["status"]?.string ?? "True"))
                } else { return nil }
            }
            waves.append(RolloutPlan.Wave(name: name, sites: [], maxParallel: max(1, wv["maxParallel"]?.int ?? 1),
                                          soakSeconds: wv["soakSeconds"]?.number ?? 0, failureBudget: budget,
                                          health: RolloutPlan.HealthGate(timeoutSeconds: wv["healthTimeoutSeconds"]?.number ?? 300, checks: checks)))
        }
        let r = v["retry"]
        return RolloutPlan(name: "", file: v["file"]?.string ?? "", hubSite: v["hub"]?.string, requireAll: v["requireAll"]?.bool ?? false,
                           retry: RolloutPlan.Retry(attempts: max(1, r?["attempts"]?.int ?? 3), intervalSeconds: r?["intervalSeconds"]?.number ?? 30),
                           waves: waves)
    }
}
