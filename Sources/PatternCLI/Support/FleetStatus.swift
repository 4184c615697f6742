import ArgumentParser
import PatternCore
import PatternCompile
import PatternDiff
import PatternReport
import PatternApply
import PatternRecord
import PatternController
import PatternFleet
import KubeClient

// `pattern status` over many sites (Docs/fleet.md, "Many sites"): per site, the last apply
// from its ledger against what the repository renders now, drift, and readiness.

extension FleetRun {
    func status(_ names: [String]) async throws {
        try await runEach(names, command: .status) { t, site in await statusOne(t, site) }
    }

    /// One site's status: connect and probe, one drift read (inventory, ledger, live objects),
    /// the ledger's newest entries, readiness of every rendered object. Outcome, in order:
    /// `failed` when the newest apply failed or an object will not become ready; `drifted`
    /// when never applied; `changed` when the repository renders another revision than the
    /// last apply (the site is behind); `drifted` when objects differ from the last apply;
    /// `progressing` when objects are not ready yet; else `in-sync`.
    func statusOne(_ t: FleetTarget, _ site: RenderedSite) async -> SiteResult {
        let engine: ApplyEngine
        switch await connect(t, site) {
        case .failure(let f): return SiteResult(t, f)
        case .success(let e): engine = e
        }
        do {
            let drift = try await engine.drift(site, namespaces: cluster.observedNamespaces(for: site))
            let ledger = try await engine.records.loadLedger(SiteIdentity(site, recordNamespace: engine.records.namespace))
            return Self.status(t, site, drift: drift, ledger: ledger, now: Double(Timestamp.now().seconds))
        } catch {
            return await failure(t, error, client: engine.client)
        }
    }

    /// The site's result from what was read (pure: no cluster access).
    static func status(_ t: FleetTarget, _ site: RenderedSite, drift: DriftReport, ledger: Ledger, now: Double) -> SiteResult {
        var st = SiteStatus(renderedRevision: site.revision, objects: site.objects.count)
        let applied = ledger.entries.last { $0.result == .succeeded }
        st.appliedRevision = applied?.revision
        st.appliedSeq = applied?.seq
        st.appliedTime = applied?.time
        st.appliedAge = applied.flatMap { Timestamp.parse($0.time) }.map { SyncSummary.age(now - $0) }
        st.lastSeq = ledger.last?.seq
        st.lastResult = ledger.last?.result.rawValue
        var notReady: [String] = []
        var broken: String? = nil
        let live = drift.observed?.observation.live ?? [:]
        for o in site.objects {
            guard let obj = live[o.key] else { notReady.append("\(o.key) not found"); continue }
            let r = ReadinessRules.status(of: obj)
            switch r.status {
            case .current, .unknown: st.ready += 1
            case .inProgress: notReady.append("\(o.key): \(r.message)")
            case .failed: notReady.append("\(o.key): \(r.message)"); if broken == nil { broken = "\(o.key): \(r.message)" }
            }
        }
        var r = SiteResult(site: t.name, cluster: t.site.clusterKey, outcome: .inSync)
        r.status = st
        r.drifted = drift.drifted.count + drift.unmanaged.count + drift.ownedElsewhere.count
        var report = st.document.object ?? Object()
        report.append("inSync", .bool(drift.inSync))
        report.append("neverApplied", .bool(drift.neverApplied))
        if !notReady.isEmpty { report.append("notReady", .array(notReady.prefix(20).map { .string($0) })) }
        r.report = .object(report)
        var detail = ""
        if let last = ledger.last, last.result != .succeeded {
            r.outcome = .failed
            r.message = "the last apply (seq \(last.seq), \(last.time)) \(last.result.rawValue)" + (last.message.isEmpty ? "" : ": \(last.message)")
            r.fix = "see `pattern history \(t.name)`; re-run `pattern apply \(t.name)` or `pattern rollback \(t.name)`"
        } else if let broken {
            r.outcome = .failed
            r.message = "will not become ready: \(broken)"
            r.fix = "see `pattern drift \(t.name)` and the object's status; fix the cause, then re-run `pattern apply \(t.name)`"
        } else if drift.neverApplied || applied == nil {
            r.outcome = .drifted
            r.message = "never applied to this cluster"
        } else if applied?.revision != site.revision {
            // What differs is (at least partly) the pending change, not hand edits.
            r.outcome = .changed
            r.message = "behind: the repository renders \(FleetRun.short(site.revision)), the cluster has \(FleetRun.short(applied?.revision ?? ""))"
        } else if !drift.inSync {
            r.outcome = .drifted
            detail = HumanReport.drift(drift.items, objects: ObjectDrift(missing: drift.missing, unmanaged: drift.unmanaged, ownedElsewhere: drift.ownedElsewhere))
        } else if !notReady.isEmpty {
            r.outcome = .progressing
            r.message = "\(notReady.count) of \(site.objects.count) objects not ready"
        }
        if !notReady.isEmpty { detail += "not ready:\n" + notReady.prefix(20).map { "  " + $0 + "\n" }.joined() }
        r.detail = detail
        return r
    }

    /// `sha256:` and 12 hex digits.
    static func short(_ revision: String) -> String { SyncSummary.short(revision) }
}
