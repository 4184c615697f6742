import PatternCore
import PatternDiff
import PatternApply
import PatternRecord
import KubeClient

/// One site of a rollout against its cluster: the render to roll out, the apply engine for the
/// site's cluster and record namespace, and the apply options.
public struct ClusterSite: Sendable {
    public var rendered: RenderedSite
    public var engine: ApplyEngine
    public var options: ApplyOptions
    public init(rendered: RenderedSite, engine: ApplyEngine, options: ApplyOptions = ApplyOptions()) {
        self.rendered = rendered; self.engine = engine; self.options = options
    }
}

/// Returns a site to an earlier revision from its ledger (the rollback API): site, the site's
/// cluster entry, the rendered revision to return to.
public typealias SiteReverter = @Sendable (String, ClusterSite, String) async -> SiteStep

/// `RolloutSites` against real clusters: the ledger's last successful entry is the revision a
/// site had before, `ApplyEngine.apply` applies, readiness rules over one observe of the
/// render's objects (plus the wave's checks) decide health, and `revert` rolls back. A cluster
/// that fails a `/version` request is unreachable, any other failure is the site's.
public struct ClusterRolloutSites: RolloutSites {
    public let sites: [String: ClusterSite]
    public let revert: SiteReverter
    /// Asked before each apply (`refusal(_:)`): a reason to refuse the site, e.g. a
    /// PatternSync reconciles it. nil: no check.
    public var refuse: (@Sendable (String, ClusterSite) async -> String?)? = nil

    public init(sites: [String: ClusterSite], revert: @escaping SiteReverter) {
        self.sites = sites; self.revert = revert
    }

    func site(_ name: String) -> ClusterSite? { sites[name] }

    /// Whether the cluster answers at all (typed: transport errors and timeouts are "unreachable").
    static func reachable(_ client: KubeClient) async -> String? {
        do { _ = try await client.serverVersion(); return nil } catch {
            switch error {
            case .transport, .timeout, .serverError, .cancelled: return "\(error)"
            default: return nil
            }
        }
    }

    func classify(_ s: ClusterSite, _ error: ApplyError) async -> SiteStep {
        if error.kind == .clusterUnavailable, let why = await Self.reachable(s.engine.client) { return .unreachable(why) }
        return .failed(error.message + (error.fix.map { " (fix: \($0))" } ?? ""))
    }

    public func currentRevision(_ name: String) async -> SiteStep {
        guard let s = site(name) else { return .failed("no render for site \(name)") }
        do {
            let ledger = try await s.engine.records.loadLedger(SiteIdentity(s.rendered, recordNamespace: s.engine.records.namespace))
            return .ok(ledger.entries.last { $0.result == .succeeded }?.revision)
        } catch { return await classify(s, error) }
    }

    public func apply(_ name: String) async -> SiteStep {
        guard let s = site(name) else { return .failed("no render for site \(name)") }
        do {
            let result = try await s.engine.apply(s.rendered, options: s.options)
            if result.succeeded { return .ok(s.rendered.revision) }
            if let f = result.failed.first {
                return .failed("\(result.failed.count) object\(result.failed.count == 1 ? "" : "s") failed; first: \(f.key): \(f.message ?? "failed")")
            }
            return .failed(result.pruneRefused ?? result.recordError ?? "the apply did not succeed")
        } catch { return await classify(s, error) }
    }

    public func health(_ name: String, checks: [RolloutPlan.HealthCheck]) async -> SiteHealth {
        guard let s = site(name) else { return .failed("no render for site \(name)") }
        let live: [ObjectKey: Value]
        do { live = try await s.engine.diff(s.rendered, namespaces: s.options.namespaces).observation.live } catch {
            switch await classify(s, error) {
            case .unreachable(let m): return .unreachable(m)
            case .failed(let m), .ok(let m?): return .progressing(m)
            case .ok(nil): return .progressing("cannot observe")
            }
        }
        var waiting: [String] = []
        for o in s.rendered.objects {
            guard let obj = live[o.key] else { waiting.append("\(o.key) not found"); continue }
            let r = ReadinessRules.status(of: obj)
            switch r.status {
            case .failed: return .failed(r.message)
            case .inProgress: waiting.append(r.message)
            case .current, .unknown: break
            }
        }
        for check in checks {
            switch await self.check(check, client: s.engine.client) {
            case .healthy: break
            case .failed(let m): return .failed(m)
            case .unreachable(let m): return .unreachable(m)
            case .progressing(let m): waiting.append(m)
            }
        }
        if waiting.isEmpty { return .healthy }
        return .progressing(waiting.prefix(3).joined(separator: "; ") + (waiting.count > 3 ? " (+\(waiting.count - 3) more)" : ""))
    }

    func check(_ check: RolloutPlan.HealthCheck, client: KubeClient) async -> SiteHealth {
        let gvk: GroupVersionKind, ns: String?, name: String
        switch check {
        case .job(let n, let jn): gvk = GroupVersionKind(group: "batch", version: "v1", kind: "Job"); ns = n; name = jn
        case .condition(let api, let kind, let n, let cn, _, _):
            let parts = api.split(separator: "/", maxSplits: 1).map(String.init)
            gvk = parts.count == 2 ? GroupVersionKind(group: parts[0], version: parts[1], kind: kind) : GroupVersionKind(group: "", version: api, kind: kind)
            ns = n; name = cn
        }
        let obj: Value?
        do { obj = try await client.getIfPresent(gvk, name: name, namespace: ns) } catch {
            if let why = await Self.reachable(client) { return .unreachable(why) }
            return .progressing("\(check): \(error)")
        }
        guard let obj else { return .progressing("\(check): not found") }
        switch check {
        case .job:
            let r = ReadinessRules.status(of: obj)
            switch r.status {
            case .current: return .healthy
            case .failed: return .failed(r.message)
            case .inProgress, .unknown: return .progressing(r.message)
            }
        case .condition(_, _, _, _, let type, let want):
            let got = (obj[path: ["status", "conditions"]]?.array ?? []).first { $0["type"]?.string == type }?["status"]?.string
            if got == want { return .healthy }
            return .progressing("\(check): is \(got ?? "absent")")
        }
    }

    public func refusal(_ name: String) async -> String? {
        guard let s = site(name), let refuse else { return nil }
        return await refuse(name, s)
    }

    public func rollBack(_ name: String, to revision: String) async -> SiteStep {
        guard let s = site(name) else { return .failed("no render for site \(name)") }
        return await revert(name, s, revision)
    }
}
