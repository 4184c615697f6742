import PatternCore
import PatternDiff
import PatternRecord

/// A plain text table: left-aligned text columns, right-aligned number columns, two spaces
/// between columns, no trailing spaces.
public struct TextTable: Sendable {
    public var headers: [String]
    public var rows: [[String]]
    /// Columns aligned right (numbers).
    public var rightAligned: Set<Int>

    public init(headers: [String], rows: [[String]] = [], rightAligned: Set<Int> = []) {
        self.headers = headers; self.rows = rows; self.rightAligned = rightAligned
    }

    public func render() -> String {
        let all = [headers] + rows
        var widths = [Int](repeating: 0, count: headers.count)
        for r in all { for (i, c) in r.enumerated() where i < widths.count { widths[i] = max(widths[i], c.count) } }
        var out = ""
        for r in all {
            var line = ""
            for i in 0..<headers.count {
                let c = i < r.count ? r[i] : ""
                let pad = String(repeating: " ", count: widths[i] - c.count)
                if i > 0 { line += "  " }
                line += rightAligned.contains(i) ? pad + c : c + pad
            }
            while line.last == " " { line.removeLast() }
            out += line + "\n"
        }
        return out
    }
}

/// ANSI styling, applied only when the caller says the output is a terminal (or asked for it).
public struct Style: Sendable {
    public var color: Bool
    public init(color: Bool) { self.color = color }

    public static let reset = "\u{1B}[0m"
    public static let bold = "\u{1B}[1m"
    public static let red = "\u{1B}[31m"
    public static let green = "\u{1B}[32m"
    public static let yellow = "\u{1B}[33m"
    public static let cyan = "\u{1B}[36m"

    public func apply(_ code: String, _ s: String) -> String { color && !s.isEmpty ? code + s + Style.reset : s }
}

public enum HumanReport {
    // MARK: Diff

    /// Summary per kind: create / update / prune / unchanged counts, kinds sorted, a total row.
    public static func summary(_ diffs: [ObjectDiff]) -> String {
        var perKind: [String: [DiffAction: Int]] = [:]
        for d in diffs { perKind[d.key.groupKind.description, default: [:]][d.action, default: 0] += 1 }
        let actions: [DiffAction] = [.create, .update, .prune, .unchanged]
        var t = TextTable(headers: ["KIND", "CREATE", "UPDATE", "PRUNE", "UNCHANGED"], rightAligned: [1, 2, 3, 4])
        var total: [DiffAction: Int] = [:]
        for (kind, counts) in perKind.sorted(by: { $0.key < $1.key }) {
            t.rows.append([kind] + actions.map { String(counts[$0] ?? 0) })
            for a in actions { total[a, default: 0] += counts[a] ?? 0 }
        }
        t.rows.append(["total"] + actions.map { String(total[$0] ?? 0) })
        return t.render()
    }

    /// One line per changed object (`~ update Deployment.apps edge-eu/web (2 fields)`).
    public static func changeList(_ diffs: [ObjectDiff], style: Style = Style(color: false)) -> String {
        var out = ""
        for d in diffs where d.action != .unchanged {
            switch d.action {
            case .create: out += style.apply(Style.green, "+ create \(d.key)") + "\n"
            case .update: out += style.apply(Style.yellow, "~ update \(d.key) (\(d.changes.count) field\(d.changes.count == 1 ? "" : "s"))") + "\n"
            case .prune: out += style.apply(Style.red, "- prune  \(d.key)") + "\n"
            case .unchanged: break
            }
        }
        return out
    }

    /// The unified diffs of all changed objects, colored when `style.color`.
    /// Unified diffs; an object another site owns is announced before its diff.
    public static func diffs(_ diffs: [ObjectDiff], style: Style = Style(color: false)) -> String {
        diffs.filter { !$0.text.isEmpty || $0.ownedBy != nil }.map { d in
            (d.ownedBy.map { style.apply(Style.bold, "# \(d.key): owned by \($0) (apply refuses it unless --adopt)") + "\n" } ?? "")
                + colorize(d.text, style: style)
        }.joined()
    }

    /// Colors a unified diff: headers bold, hunk lines cyan, removals red, additions green.
    public static func colorize(_ text: String, style: Style) -> String {
        guard style.color else { return text }
        var out = ""
        for line in text.split(separator: "\n", omittingEmptySubsequences: false).dropLast(text.hasSuffix("\n") ? 1 : 0) {
            let l = String(line)
            if l.hasPrefix("+++ ") || l.hasPrefix("--- ") { out += style.apply(Style.bold, l) }
            else if l.hasPrefix("@@") { out += style.apply(Style.cyan, l) }
            else if l.hasPrefix("+") { out += style.apply(Style.green, l) }
            else if l.hasPrefix("-") { out += style.apply(Style.red, l) }
            else { out += l }
            out += "\n"
        }
        return out
    }

    // MARK: Progress

    /// `[2/5] workloads: 3/7 applied` plus `, waiting for <first not-ready message>` (+N more).
    public static func levelProgress(level: Int, of levels: Int, tier: String, applied: Int, total: Int,
                                     waiting: [Readiness] = []) -> String {
        var s = "[\(level + 1)/\(levels)] \(tier): \(applied)/\(total) applied"
        let pending = waiting.filter { !$0.isReady }
        if let first = pending.first {
            s += ", waiting for \(first.message)"
            if pending.count > 1 { s += " (+\(pending.count - 1) more)" }
        }
        return s
    }

    /// `Deployment edge-eu/web: 1/3 available` with a status marker.
    public static func readinessLine(_ r: Readiness, style: Style = Style(color: false)) -> String {
        switch r.status {
        case .current: return style.apply(Style.green, "ready") + "  " + r.message
        case .inProgress: return style.apply(Style.yellow, "wait") + "   " + r.message
        case .failed: return style.apply(Style.red, "failed") + " " + r.message
        case .unknown: return "?" + "      " + r.message
        }
    }

    // MARK: History and drift

    /// Ledger entries, newest first.
    public static func history(_ entries: [LedgerEntry]) -> String {
        var t = TextTable(headers: ["SEQ", "TIME", "RESULT", "REVISION", "COMMIT", "CREATED", "UPDATED", "PRUNED", "CLIENT"],
                          rightAligned: [0, 5, 6, 7])
        for e in entries.sorted(by: { $0.seq > $1.seq }) {
            let client = [e.client.user, e.client.host].filter { !$0.isEmpty }.joined(separator: "@")
            t.rows.append([String(e.seq), e.time, e.result.rawValue, String(e.revision.prefix(12)),
                           String(e.source.commit.prefix(12)) + (e.source.fromCache ? " (cached)" : ""),
                           String(e.counts.created), String(e.counts.updated), String(e.counts.pruned),
                           client + (e.client.version.isEmpty ? "" : " \(e.client.tool)/\(e.client.version)")])
        }
        return t.render()
    }

    /// Drifted fields: object, path, the value applied → the live value (Secret values as
    /// fingerprints, long values shortened), who owns it now (newest manager first), operation, time.
    public static func drift(_ items: [DriftItem], objects: ObjectDrift? = nil) -> String {
        var t = TextTable(headers: ["OBJECT", "FIELD", "APPLIED → LIVE", "MANAGER", "OPERATION", "TIME"])
        for i in items {
            let o = i.owners.first
            t.rows.append([i.key.description, i.path.description + (i.kind == .added ? " (missing)" : ""),
                           shortValue(i.applied) + " → " + shortValue(i.live),
                           o?.manager ?? "unknown", o?.operation ?? "", o?.time ?? ""])
        }
        var out = t.render()
        if let objects {
            for k in objects.missing { out += "missing: \(k)\n" }
            for (k, owner) in objects.ownedElsewhere.sorted(by: { $0.key < $1.key }) { out += "owned by another site (\(owner)): \(k)\n" }
            for k in objects.unmanaged { out += "unmanaged (labelled, not in inventory): \(k)\n" }
        }
        return out
    }

    /// Changes not yet applied (not drift): `OBJECT FIELD LIVE → RENDER`, values as in `drift`.
    public static func pending(_ items: [DriftItem]) -> String {
        var t = TextTable(headers: ["OBJECT", "FIELD", "LIVE → RENDER"])
        for i in items {
            t.rows.append([i.key.description, i.path.description + (i.kind == .added ? " (new)" : ""),
                           shortValue(i.live) + " → " + shortValue(i.applied)])
        }
        return t.render()
    }

    /// A value in one short line: scalars as text (strings quoted when empty), maps and lists as
    /// compact JSON, cut at 40 characters; "(none)" when absent.
    static func shortValue(_ v: Value?) -> String {
        guard let v, !v.isNull else { return "(none)" }
        var s: String
        if case .string(let text) = v.kind { s = text.isEmpty ? "\"\"" : text } else { s = v.scalarText ?? JSONWriter.string(v) }
        s = String(s.map { $0 == "\n" ? " " : $0 })
        return s.count > 40 ? String(s.prefix(39)) + "…" : s
    }
}
