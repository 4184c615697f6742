/// A progressive rollout resolved to sites: the hand-off from the rollout file reader
/// (PatternCompile's `RolloutFile`) to the rollout state machine (PatternRollout), so neither
/// links the other. See `Docs/fleet.md`, "Progressive rollouts".
public struct RolloutPlan: Sendable, Hashable {
    /// `metadata.name` of `rollouts/<name>.yaml`.
    public var name: String
    /// The file it was read from (for messages).
    public var file: String
    /// The site whose cluster holds the rollout state (`spec.hub`); nil: `--hub-context` decides.
    public var hubSite: String?
    /// Unreachable sites fail (count against the budget) instead of being deferred.
    public var requireAll: Bool
    /// How often an unreachable site is tried before it stays deferred, and how long apart.
    public var retry: Retry
    /// Waves in order; every site is in at most one wave.
    public var waves: [Wave]

    public init(name: String, file: String = "", hubSite: String? = nil, requireAll: Bool = false,
                retry: Retry = Retry(), waves: [Wave]) {
        self.name = name; self.file = file; self.hubSite = hubSite; self.requireAll = requireAll
        self.retry = retry; self.waves = waves
    }

    /// Retries of unreachable sites (bounded).
    public struct Retry: Sendable, Hashable {
        /// Apply attempts per site before it stays deferred (≥ 1).
        public var attempts: Int
        /// Seconds between attempts.
        public var intervalSeconds: Double
        public init(attempts: Int = 3, intervalSeconds: Double = 30) {
            self.attempts = attempts; self.intervalSeconds = intervalSeconds
        }
    }

    /// One wave: its sites (resolved), how many are applied at once, the soak and the gate.
    public struct Wave: Sendable, Hashable {
        public var name: String
        /// Sites in the order they are applied.
        public var sites: [String]
        /// Sites applied at the same time (≥ 1).
        public var maxParallel: Int
        /// Seconds the wave must stay healthy after every site is healthy.
        public var soakSeconds: Double
        /// Failed sites the wave tolerates before it is rolled back.
        public var failureBudget: FailureBudget
        /// What "healthy" means for a site of this wave.
        public var health: HealthGate

        public init(name: String, sites: [String], maxParallel: Int = 1, soakSeconds: Double = 0,
                    failureBudget: FailureBudget = .count(0), health: HealthGate = HealthGate()) {
            self.name = name; self.sites = sites; self.maxParallel = maxParallel; self.soakSeconds = soakSeconds
            self.failureBudget = failureBudget; self.health = health
        }
    }

    /// Failed sites a wave may have: a count, or a percentage of the wave's sites (rounded down).
    public enum FailureBudget: Sendable, Hashable, CustomStringConvertible {
        case count(Int)
        case percent(Int)

        /// Failures allowed in a wave of `sites` sites.
        public func allowed(of sites: Int) -> Int {
            switch self {
            case .count(let n): return n
            case .percent(let p): return sites * p / 100
            }
        }

        public var description: String {
            switch self {
            case .count(let n): return "\(n)"
            case .percent(let p): return "\(p)%"
            }
        }
    }

    /// A site is healthy when every object it applied is ready by the readiness rules
    /// (PatternDiff's `ReadinessRules`) and every check holds.
    public struct HealthGate: Sendable, Hashable {
        /// Longest wait for a site to become healthy after its apply.
        public var timeoutSeconds: Double
        public var checks: [HealthCheck]
        public init(timeoutSeconds: Double = 300, checks: [HealthCheck] = []) {
            self.timeoutSeconds = timeoutSeconds; self.checks = checks
        }
    }

    /// An extra health check on each site of a wave.
    public enum HealthCheck: Sendable, Hashable, CustomStringConvertible {
        /// The Job must complete (a failed Job fails the site); typically a smoke test the
        /// render carries, re-created per revision.
        case job(namespace: String, name: String)
        /// The object's `status.conditions[type]` must have `status` on every check, through the soak.
        case condition(apiVersion: String, kind: String, namespace: String?, name: String, type: String, status: String)

        public var description: String {
            switch self {
            case .job(let ns, let n): return "Job \(ns)/\(n) complete"
            case .condition(_, let kind, let ns, let n, let t, let s):
                return "\(kind) \(ns.map { "\($0)/" } ?? "")\(n) condition \(t)=\(s)"
            }
        }
    }
}
