import PatternCore

/// One site of a fleet run and the cluster it goes to.
public struct FleetSite: Sendable, Hashable {
    public var name: String
    /// Sites with the same key share a cluster and its per-cluster bound: the kubeconfig
    /// context when the site names one (else the server URL, else "(current context)").
    public var clusterKey: String
    public init(name: String, clusterKey: String) { self.name = name; self.clusterKey = clusterKey }
}

/// How many sites run at once.
public struct FleetLimits: Sendable, Hashable {
    /// Sites running at once over the whole fleet (`--parallel`).
    public var parallel: Int
    /// Sites running at once on one cluster (`--per-cluster`).
    public var perCluster: Int
    public init(parallel: Int = 8, perCluster: Int = 1) {
        self.parallel = max(1, parallel); self.perCluster = max(1, perCluster)
    }
}

/// What happened to one site.
public enum SiteOutcome: String, Sendable, Hashable, CaseIterable {
    /// Nothing to change (diff, apply) or no drift (drift).
    case inSync = "in-sync"
    /// diff found changes; apply made changes; status: the repository renders another
    /// revision than the one last applied (the site is behind).
    case changed
    /// drift found drift (or the site was never applied); status: drift, or never applied.
    case drifted
    /// status: applied and in sync, but some objects are not ready yet.
    case progressing
    /// The site could not be handled: render error, refused apply, failed objects, an API error.
    case failed
    /// The cluster could not be reached (connection refused, DNS, TLS, timeout, 502/503).
    /// Never reported as in sync.
    case unreachable
}

/// The result of one site: its outcome, counts, and per-site detail.
public struct SiteResult: Sendable {
    public var site: String
    public var cluster: String
    public var outcome: SiteOutcome
    /// Objects created / changed (updated, configured) / pruned: planned by diff, done by apply.
    public var created = 0
    public var changed = 0
    public var pruned = 0
    /// Drifted objects (drift: changed by hand, missing, unmanaged).
    public var drifted = 0
    /// Objects that failed (apply), server dry-run rejections (diff --server-side).
    public var failed = 0
    /// Objects that already match.
    public var unchanged = 0
    /// Why the site failed or is unreachable (one line, no secrets).
    public var message: String?
    public var fix: String?
    /// The human-readable per-site detail (field diffs, the apply report, the drift list).
    public var detail: String = ""
    /// The site's own machine report (DiffReport, ApplyReport, DriftReport) when it ran.
    public var report: Value?
    /// `status`: what the site's records and live objects say.
    public var status: SiteStatus?

    public init(site: String, cluster: String, outcome: SiteOutcome) {
        self.site = site; self.cluster = cluster; self.outcome = outcome
    }

    /// A site that could not be handled.
    public static func failure(_ site: FleetSite, _ outcome: SiteOutcome, _ message: String, fix: String? = nil) -> SiteResult {
        var r = SiteResult(site: site.name, cluster: site.clusterKey, outcome: outcome)
        r.message = message
        r.fix = fix
        return r
    }
}

/// What `pattern status` found for one site: its last apply (from the ledger) against what the
/// repository renders now, and how many of the rendered objects are ready.
public struct SiteStatus: Sendable, Hashable {
    /// The revision of the last succeeded apply (nil: never applied successfully).
    public var appliedRevision: String?
    /// Its ledger seq and time (RFC 3339).
    public var appliedSeq: Int?
    public var appliedTime: String?
    /// How long ago it was applied, as kubectl prints ages (`45s`, `12m`, `3h`, `5d`).
    public var appliedAge: String?
    /// The newest ledger entry's seq and result (it may be a failed apply after the last success).
    public var lastSeq: Int?
    public var lastResult: String?
    /// The revision the repository renders now.
    public var renderedRevision: String
    /// Rendered objects, and how many of them are live and ready by the readiness rules.
    public var objects: Int
    public var ready: Int

    public init(renderedRevision: String, objects: Int = 0, ready: Int = 0) {
        self.renderedRevision = renderedRevision; self.objects = objects; self.ready = ready
    }

    /// The `status` field of a site in the FleetReport.
    public var document: Value {
        var o = Object()
        if let r = appliedRevision { o.append("appliedRevision", .string(r)) }
        if let n = appliedSeq { o.append("appliedSeq", .int(n)) }
        if let t = appliedTime { o.append("appliedTime", .string(t)) }
        if let n = lastSeq { o.append("lastSeq", .int(n)) }
        if let r = lastResult { o.append("lastResult", .string(r)) }
        o.append("renderedRevision", .string(renderedRevision))
        o.append("objects", .int(objects))
        o.append("ready", .int(ready))
        return .object(o)
    }
}

/// Runs one operation per site concurrently: at most `limits.parallel` at once, and at most
/// `limits.perCluster` at once on sites sharing a `clusterKey`. Sites start in the order given
/// (a site waits while its cluster is busy; sites of other clusters go ahead). When the calling
/// task is cancelled no new site starts, running ones see the cancellation, and sites that
/// never started are reported `failed` ("cancelled before it started"), never in sync.
public enum FleetRunner {
    public static func run(_ sites: [FleetSite], limits: FleetLimits,
                           operation: @escaping @Sendable (FleetSite) async -> SiteResult) async -> [SiteResult] {
        var results = [SiteResult?](repeating: nil, count: sites.count)
        // Pending sites per cluster, clusters in order of first appearance.
        var queues: [String: [Int]] = [:]
        var clusterOrder: [String] = []
        for (i, s) in sites.enumerated() {
            if queues[s.clusterKey] == nil { clusterOrder.append(s.clusterKey) }
            queues[s.clusterKey, default: []].append(i)
        }
        var heads: [String: Int] = [:]
        var busy: [String: Int] = [:]
        var running = 0

        /// The pending site that comes first in the input among clusters with room.
        func next() -> Int? {
            var best: Int? = nil
            for key in clusterOrder {
                guard busy[key, default: 0] < limits.perCluster, let q = queues[key] else { continue }
                let h = heads[key, default: 0]
                guard h < q.count else { continue }
                if best == nil || q[h] < best! { best = q[h] }
            }
            return best
        }

        await withTaskGroup(of: (Int, SiteResult).self) { group in
            func startMore() {
                while running < limits.parallel, !Task.isCancelled, let i = next() {
                    let site = sites[i]
                    heads[site.clusterKey, default: 0] += 1
                    busy[site.clusterKey, default: 0] += 1
                    running += 1
                    group.addTask { (i, await operation(site)) }
                }
            }
            startMore()
            while let (i, r) = await group.next() {
                results[i] = r
                busy[sites[i].clusterKey, default: 1] -= 1
                running -= 1
                startMore()
            }
        }
        var out: [SiteResult] = []
        out.reserveCapacity(sites.count)
        for (i, r) in results.enumerated() {
            out.append(r ?? .failure(sites[i], .failed, "cancelled before it started", fix: "re-run the command for this site"))
        }
        return out
    }
}
