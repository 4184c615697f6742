import PatternCore
import PatternDiff
import PatternReport
import PatternApply

/// The report of an apply: every object's outcome (also when recording failed), prune
/// notes, field diffs of a dry run, request counts.
public enum ApplyReport {
    /// Text for a terminal or a CI log.
    public static func text(_ r: ApplyResult, site: String, dryRun: Bool, style: Style = Style(color: false)) -> String {
        var out = ""
        if dryRun {
            var diffs = HumanReport.diffs(r.diffs.filter { $0.action != .unchanged }, style: style)
            if !diffs.isEmpty && !diffs.hasSuffix("\n") { diffs += "\n" }
            out += diffs
        }
        for o in r.outcomes where o.status != .unchanged {
            out += o.status.rawValue + String(repeating: " ", count: max(1, 17 - o.status.rawValue.count)) + "\(o.key)"
            if let m = o.message { out += "\n    \(m)" }
            out += "\n"
        }
        let counts = ObjectOutcome.Status.allCases.compactMap { s -> String? in
            let n = r.count(s)
            return n == 0 ? nil : "\(n) \(s.rawValue)"
        }
        out += "\(site): \(counts.joined(separator: ", ")) in \(r.levels) levels; revision \(Revision.short(r.revision))"
        out += "; \(r.writeRequests) writes, \(r.listRequests) lists, \(r.getRequests) gets"
        if r.watchRequests > 0 { out += ", \(r.watchRequests) watches" }
        if r.dryRunRequests > 0 { out += ", \(r.dryRunRequests) server dry-runs" }
        out += ", \((r.durationSeconds * 100).rounded() / 100)s\n"
        if r.pruneCascade > 0 {
            out += "prune \(dryRun ? "would delete" : "deleted") \(r.pruneCascade) more object\(r.pruneCascade == 1 ? "" : "s") inside the pruned namespaces/CRDs\n"
        }
        if let s = r.pruneSkipped { out += "not pruned: \(s)\n" }
        if let refused = r.pruneRefused { out += "prune would be refused: \(refused)\n  (the real apply stops here; --prune-confirm allows it)\n" }
        if dryRun { out += "(dry run: nothing was written; every change was checked by the API server)\n" }
        return out
    }

    /// `-o json`: `{site, revision, succeeded, levels, writeRequests, listRequests, getRequests,
    /// watchRequests, dryRunRequests, durationSeconds, objects: [{object, status, message?, level?}], pruneCascade?,
    /// pruneSkipped?, pruneRefused?, recordError?}`.
    public static func json(_ r: ApplyResult, site: String) -> Value {
        var v: Value = [
            "site": .string(site), "revision": .string(r.revision), "succeeded": .bool(r.succeeded),
            "levels": .int(r.levels), "writeRequests": .int(r.writeRequests), "listRequests": .int(r.listRequests),
            "getRequests": .int(r.getRequests), "watchRequests": .int(r.watchRequests), "dryRunRequests": .int(r.dryRunRequests),
            "durationSeconds": .double(r.durationSeconds),
            "objects": .array(r.outcomes.map { o in
                var v: Value = ["object": MachineReport.object(o.key), "status": .string(o.status.rawValue)]
                if let m = o.message { v["message"] = .string(m) }
                if let l = o.level { v["level"] = .int(l + 1) }
                return v
            }),
        ]
        if r.pruneCascade > 0 { v["pruneCascade"] = .int(r.pruneCascade) }
        if let s = r.pruneSkipped { v["pruneSkipped"] = .string(s) }
        if let s = r.pruneRefused { v["pruneRefused"] = .string(s) }
        if let s = r.recordError { v["recordError"] = .string(s) }
        return v
    }
}
