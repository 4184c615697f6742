import PatternCore

/// The result of one command over many sites: the matrix, the totals, the exit code, and the
/// `FleetReport` document (`apiVersion: pattern.dev/v1alpha1`) for CI.
public struct FleetReport: Sendable {
    /// Which command ran (`diff`, `apply`, `drift`, `status`): decides the columns that apply.
    public enum Command: String, Sendable { case diff, apply, drift, status }

    /// Above this many sites the text matrix is compact: it lists only the sites that are not
    /// in sync (changes, drift, errors) and says how many in-sync rows it left out; `all` in
    /// `matrix(all:)` (the commands' `--detail`) lists every site.
    public static let compactAbove = 20

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
    /// for drift 1 when any site drifted (or was never applied), for status 1 when any site is
    /// behind, drifted or not ready; else 0. Apply: 0 when every site was applied (changed or
    /// not), 2 otherwise.
    public var exitCode: Int32 {
        if count(.failed) > 0 || count(.unreachable) > 0 { return 2 }
        if command != .apply && (count(.changed) > 0 || count(.drifted) > 0 || count(.progressing) > 0) { return 1 }
        return 0
    }

    // MARK: Text

    /// One row per site, then the totals: SITE, CLUSTER, the counts and the RESULT. Above
    /// `compactAbove` sites (and unless `all`), in-sync rows are left out and a line says how
    /// many.
    public func matrix(all: Bool = true) -> String {
        let headers: [String]
        switch command {
        case .diff: headers = ["CREATE", "CHANGE", "PRUNE", "FAILED"]
        case .apply: headers = ["CREATED", "CHANGED", "PRUNED", "FAILED"]
        case .drift: headers = ["DRIFTED"]
        case .status: headers = ["APPLIED", "AGE", "READY", "DRIFTED"]
        }
        func counts(_ r: SiteResult) -> [Int] {
            switch command {
            case .drift: return [r.drifted]
            case .status: return [r.drifted]
            case .diff, .apply: return [r.created, r.changed, r.pruned, r.failed]
            }
        }
        let compact = !all && results.count > Self.compactAbove
        var rows: [[String]] = [["SITE", "CLUSTER"] + headers + ["RESULT"]]
        var totals = [Int](repeating: 0, count: command == .status || command == .drift ? 1 : 4)
        var hidden = 0
        for r in results {
            let ran = r.outcome != .unreachable && r.report != nil
            let c = counts(r)
            for i in c.indices { totals[i] += c[i] }
            if compact && r.outcome == .inSync { hidden += 1; continue }
            var result = r.outcome.rawValue
            if let m = r.message { result += ": " + m }
            var cells = c.map { ran ? String($0) : "-" }
            if command == .status {
                let s = r.status
                cells = [s?.appliedRevision.map(Self.short) ?? "-", s?.appliedAge ?? "-",
                         s.map { $0.objects > 0 || ran ? "\($0.ready)/\($0.objects)" : "-" } ?? "-"] + cells
            }
            rows.append([r.site, r.cluster] + cells + [result])
        }
        var summary: [String] = []
        for o in SiteOutcome.allCases where count(o) > 0 { summary.append("\(count(o)) \(o.rawValue)") }
        let totalCells = (command == .status ? ["", "", ""] : []) + totals.map(String.init)
        rows.append(["TOTAL", "\(results.count) site\(results.count == 1 ? "" : "s")"] + totalCells + [summary.joined(separator: ", ")])
        var widths = [Int](repeating: 0, count: rows[0].count)
        for row in rows { for (i, cell) in row.enumerated() where i < row.count - 1 { widths[i] = max(widths[i], cell.count) } }
        // Counts are right-aligned; status's revision and age columns are text.
        let firstNumber = command == .status ? 4 : 2
        var out = ""
        for row in rows {
            var line = ""
            for (i, cell) in row.enumerated() {
                if i == row.count - 1 { line += cell; break }
                let pad = String(repeating: " ", count: widths[i] - cell.count)
                line += (i >= firstNumber ? pad + cell : cell + pad) + "  "
            }
            while line.hasSuffix(" ") { line.removeLast() }
            out += line + "\n"
        }
        if hidden > 0 {
            out += "(\(hidden) in-sync site\(hidden == 1 ? "" : "s") not listed; --detail lists every site)\n"
        }
        return out
    }

    /// `sha256:` and 12 hex digits.
    static func short(_ revision: String) -> String {
        let hex = revision.hasPrefix("sha256:") ? revision.dropFirst(7) : Substring(revision)
        return "sha256:" + hex.prefix(12)
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
            if let st = r.status { s.append("status", st.document) }
            if let rep = r.report { s.append("report", rep) }
            sites.append(.object(s))
        }
        o.append("sites", .array(sites))
        return .object(o)
    }
}
