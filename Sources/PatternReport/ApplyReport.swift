import PatternCore
import PatternDiff
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
        out += outcomeLines(r.outcomes)
        var counts: [String] = []
        for s in ObjectOutcome.Status.allCases {
            let n = r.count(s)
            if n > 0 { counts.append("\(n) \(word(s))") }
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

    /// The outcome as a lower-case word or phrase (`not attempted`, `would create`); JSON keeps
    /// the stable `rawValue` (`notAttempted`, `wouldCreate`).
    public static func word(_ s: ObjectOutcome.Status) -> String {
        switch s {
        case .notAttempted: return "not attempted"
        case .wouldCreate: return "would create"
        case .wouldConfigure: return "would configure"
        case .wouldPrune: return "would prune"
        default: return s.rawValue
        }
    }

    /// How many objects of one group are named before `… and N more`.
    public static let groupNames = 3

    /// One line per changed object (`created          Namespace app`), except that objects
    /// with the same outcome and the same message are one group: `failed           200 objects:
    /// namespaces "edge-eu" not found` and the first `groupNames` objects — a missing namespace
    /// is one failure, not 200 lines plus 400 "an earlier level failed".
    static func outcomeLines(_ outcomes: [ObjectOutcome]) -> String {
        struct GroupKey: Hashable { var status: ObjectOutcome.Status; var message: String }
        var groups: [GroupKey: [ObjectKey]] = [:]
        for o in outcomes where o.status != .unchanged {
            guard let m = o.message else { continue }
            let g = GroupKey(status: o.status, message: m)
            groups[g, default: []].append(o.key)
        }
        func pad(_ w: String) -> String { w + String(repeating: " ", count: max(1, 17 - w.count)) }
        var out = ""
        var printed: Set<GroupKey> = []
        for o in outcomes where o.status != .unchanged {
            guard let m = o.message else {
                out += pad(word(o.status)) + "\(o.key)\n"
                continue
            }
            let g = GroupKey(status: o.status, message: m)
            let keys = groups[g]!
            if keys.count == 1 { out += pad(word(o.status)) + "\(o.key)\n    \(m)\n"; continue }
            guard printed.insert(g).inserted else { continue }
            out += pad(word(o.status)) + "\(keys.count) objects: \(m)\n    "
                + keys.prefix(groupNames).map(\.description).joined(separator: ", ")
                + (keys.count > groupNames ? ", … and \(keys.count - groupNames) more" : "") + "\n"
        }
        return out
    }

    /// `-o json`: `{apiVersion, kind: ApplyReport, site, revision, succeeded, levels, writeRequests, listRequests, getRequests,
    /// watchRequests, dryRunRequests, durationSeconds, objects: [{object, status, message?, level?}], pruneCascade?,
    /// pruneSkipped?, pruneRefused?, recordError?}`.
    public static func json(_ r: ApplyResult, site: String) -> Value {
        var v: Value = [
            "apiVersion": .string(MachineReport.apiVersion), "kind": "ApplyReport",
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
