import PatternCore

/// The result of one command over many sites: the matrix, the totals, the exit code, and the
/// `FleetReport` document (`apiVersion: pattern.dev/v1alpha1`) for CI.
public struct FleetReport: Sendable {
    /// Which command ran (`diff`, `apply`, `drift`): decides the columns that apply.
    public enum Command: String, Sendable { case diff, apply, drift }

    public var command: Command
    public var results: [SiteResult]
    /// The selector the sites were chosen by, when one was given.
    public var selector: String?

    public init(command: Command, results: [SiteResult], selector: String? = nil) {
        self.command = command; self.results = results; self.selector = selector
    }

    public func count(_ o: SiteOutcome) -> Int {
        var n = 0
        for r in results where r.outcome == o { n += 1 }
        return n
    }

    /// 2 when any site failed or was unreachable; else for diff 1 when any site has changes,
    /// for drift 1 when any site drifted (or was never applied); else 0. Apply: 0 when every
    /// site was applied (changed or not), 2 otherwise.
    public var exitCode: Int32 {
        if count(.failed) > 0 || count(.unreachable) > 0 { return 2 }
        if command != .apply && (count(.changed) > 0 || count(.drifted) > 0) { return 1 }
        return 0
    }

    // MARK: Text

    /// One row per site, then the totals: SITE, CLUSTER, the counts and the RESULT.
    public func matrix() -> String {
        let countHeaders: [String]
        switch command {
        case .diff: countHeaders = ["CREATE", "CHANGE", "PRUNE", "FAILED"]
        case .apply: countHeaders = ["CREATED", "CHANGED", "PRUNED", "FAILED"]
        case .drift: countHeaders = ["DRIFTED"]
        }
        func counts(_ r: SiteResult) -> [Int] {
            command == .drift ? [r.drifted] : [r.created, r.changed, r.pruned, r.failed]
        }
        var rows: [[String]] = [["SITE", "CLUSTER"] + countHeaders + ["RESULT"]]
        var totals = [Int](repeating: 0, count: countHeaders.count)
        for r in results {
            let ran = r.outcome != .unreachable && r.report != nil
            let c = counts(r)
            for i in c.indices { totals[i] += c[i] }
            var result = r.outcome.rawValue
            if let m = r.message { result += ": " + m }
            rows.append([r.site, r.cluster] + c.map { ran ? String($0) : "-" } + [result])
        }
        var summary: [String] = []
        for o in SiteOutcome.allCases where count(o) > 0 { summary.append("\(count(o)) \(o.rawValue)") }
        rows.append(["TOTAL", "\(results.count) site\(results.count == 1 ? "" : "s")"] + totals.map(String.init) + [summary.joined(separator: ", ")])
        var widths = [Int](repeating: 0, count: rows[0].count)
        for row in rows { for (i, cell) in row.enumerated() where i < row.count - 1 { widths[i] = max(widths[i], cell.count) } }
        var out = ""
        for row in rows {
            var line = ""
            for (i, cell) in row.enumerated() {
                if i == row.count - 1 { line += cell; break }
                let numeric = i >= 2
                let pad = String(repeating: " ", count: widths[i] - cell.count)
                line += (numeric ? pad + cell : cell + pad) + "  "
            }
            while line.hasSuffix(" ") { line.removeLast() }
            out += line + "\n"
        }
        return out
    }

    /// Per-site detail: every site with `all`, else the sites that failed or are unreachable.
    public func details(all: Bool) -> String {
        var out = ""
        for r in results where all || r.outcome == .failed || r.outcome == .unreachable {
            out += "\n== \(r.site) (\(r.cluster)): \(r.outcome.rawValue)\n"
            if let m = r.message { out += "error: \(m)\n" }
            if let f = r.fix { out += "  fix: \(f)\n" }
            if !r.detail.isEmpty { out += r.detail.hasSuffix("\n") ? r.detail : r.detail + "\n" }
        }
        return out
    }

    // MARK: Machine

    /// The `FleetReport` document.
    public var document: Value {
        var o = Object()
        o.append("apiVersion", "pattern.dev/v1alpha1")
        o.append("kind", "FleetReport")
        o.append("command", .string(command.rawValue))
        if let selector { o.append("selector", .string(selector)) }
        var totals = Object()
        totals.append("sites", .int(results.count))
        for oc in SiteOutcome.allCases { totals.append(oc.rawValue, .int(count(oc))) }
        var created = 0, changed = 0, pruned = 0, drifted = 0, failed = 0
        for r in results { created += r.created; changed += r.changed; pruned += r.pruned; drifted += r.drifted; failed += r.failed }
        totals.append("objects", ["created": .int(created), "changed": .int(changed), "pruned": .int(pruned),
                                  "drifted": .int(drifted), "failed": .int(failed)])
        o.append("totals", .object(totals))
        o.append("exitCode", .int(Int(exitCode)))
        var sites: [Value] = []
        for r in results {
            var s = Object()
            s.append("site", .string(r.site))
            s.append("cluster", .string(r.cluster))
            s.append("outcome", .string(r.outcome.rawValue))
            s.append("created", .int(r.created))
            s.append("changed", .int(r.changed))
            s.append("pruned", .int(r.pruned))
            s.append("drifted", .int(r.drifted))
            s.append("failed", .int(r.failed))
            s.append("unchanged", .int(r.unchanged))
            if let m = r.message { s.append("message", .string(m)) }
            if let f = r.fix { s.append("fix", .string(f)) }
            if let rep = r.report { s.append("report", rep) }
            sites.append(.object(s))
        }
        o.append("sites", .array(sites))
        return .object(o)
    }
}
