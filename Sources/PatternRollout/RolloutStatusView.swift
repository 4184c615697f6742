import PatternCore

/// `pattern rollout status`: the state wave by wave, as text or as a `RolloutStatus` document.
public enum RolloutStatusView {
    /// What a site's status means to a reader.
    static func label(_ s: RolloutState.Site, wave: RolloutState.Wave) -> String {
        switch s.status {
        case .pending: return wave.phase == .pending ? "waiting" : "waiting (next in this wave)"
        case .applying: return "applying"
        case .soaking: return "soaking"
        case .healthy: return "done"
        case .failed: return "failed"
        case .deferred: return "deferred"
        case .rolledBack: return "rolled back"
        }
    }

    /// Human text: a header line, then per wave its phase and one line per site with why.
    public static func text(_ state: RolloutState, now: Double) -> String {
        var out = "Rollout \(state.name): \(state.phase.rawValue)  revision \(state.revision)  started \(Timestamp.format(state.startedAt))\n"
        if let m = state.message { out += "  \(m)\n" }
        if let d = state.driver, state.phase == .running {
            out += "  driven by \(d.id), last write \(Timestamp.duration(now - d.heartbeat)) ago\n"
        }
        for (wi, w) in state.waves.enumerated() {
            let plan = wi < state.plan.waves.count ? state.plan.waves[wi] : RolloutPlan.Wave(name: w.name, sites: [])
            var phase = w.phase.rawValue
            if w.phase == .running, let t = w.soakStartedAt, plan.soakSeconds > 0 {
                phase = "soaking \(Timestamp.duration(min(now - t, plan.soakSeconds))) of \(Timestamp.duration(plan.soakSeconds))"
            }
            let count = w.sites.count
            out += "\nwave \(wi + 1) \(w.name): \(phase)  (\(count) site\(count == 1 ? "" : "s"), maxParallel \(plan.maxParallel), budget \(plan.failureBudget))\n"
            if let m = w.message { out += "  \(m)\n" }
            let width = max(8, w.sites.map(\.name.count).max() ?? 0)
            for s in w.sites {
                var line = "  " + s.name.padding(width) + "  " + label(s, wave: w).padding(12)
                if let r = s.appliedRevision, s.status != .rolledBack { line += "  " + Revision.short(r) }
                if let reason = s.reason { line += "  " + reason }
                out += line.trimmingTrailingSpaces + "\n"
            }
        }
        return out
    }

    /// `kind: RolloutStatus`: the stored document with counts per wave.
    public static func document(_ state: RolloutState) -> Value {
        var o = Object()
        o.append("apiVersion", "pattern.dev/v1alpha1")
        o.append("kind", "RolloutStatus")
        var doc = state.value
        doc.withObject { d in
            d.modify("waves") { waves in
                guard var list = waves?.array else { return }
                for i in list.indices where i < state.waves.count {
                    var counts = Object()
                    for st in RolloutState.SiteStatus.allCases {
                        let n = state.waves[i].sites.filter { $0.status == st }.count
                        if n > 0 { counts.append(st.rawValue, .int(n)) }
                    }
                    list[i].withObject { $0.append("counts", .object(counts)) }
                }
                waves = .array(list)
            }
        }
        for (k, v) in doc.object ?? Object() where k != "format" { o.append(k, v) }
        return .object(o)
    }
}

extension String {
    fileprivate func padding(_ n: Int) -> String { count >= n ? self : self + String(repeating: " ", count: n - count) }
    fileprivate var trimmingTrailingSpaces: String {
        var s = Substring(self)
        while s.last == " " { s.removeLast() }
        return String(s)
    }
}
