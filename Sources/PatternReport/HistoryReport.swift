import PatternCore
import PatternDiff
import PatternRecord

/// Reports of `pattern history --all` (entries across sites) and `pattern history --diff`.
public enum HistoryReport {
    /// One ledger entry of one site.
    public struct SiteEntry: Sendable, Hashable {
        public var site: String
        public var entry: LedgerEntry
        public init(site: String, entry: LedgerEntry) { self.site = site; self.entry = entry }
    }

    /// Newest first (time, then site and seq for a stable order).
    public static func sorted(_ rows: [SiteEntry]) -> [SiteEntry] {
        rows.sorted { a, b in
            if a.entry.time != b.entry.time { return a.entry.time > b.entry.time }
            if a.site != b.site { return a.site < b.site }
            return a.entry.seq > b.entry.seq
        }
    }

    /// `TIME SITE SEQ RESULT REVISION COMMIT CREATED UPDATED PRUNED WHO`, newest first; a
    /// rollback says `rollback of <seq>` after the result.
    public static func fleet(_ rows: [SiteEntry]) -> String {
        var t = TextTable(headers: ["TIME", "SITE", "SEQ", "RESULT", "REVISION", "COMMIT", "CREATED", "UPDATED", "PRUNED", "WHO"],
                          rightAligned: [2, 6, 7, 8])
        for r in sorted(rows) {
            let e = r.entry
            t.rows.append([e.time, r.site, String(e.seq), e.result.rawValue + (e.rollbackOf.map { " (rollback of \($0))" } ?? ""),
                           Revision.short(e.revision), String(e.source.commit.prefix(12)) + (e.source.fromCache ? " (cached)" : ""),
                           String(e.counts.created), String(e.counts.updated), String(e.counts.pruned),
                           [e.client.user, e.client.host].filter { !$0.isEmpty }.joined(separator: "@")])
        }
        return t.render()
    }

    /// `kind: FleetHistory`: every entry with its site, newest first.
    public static func fleetDocument(_ rows: [SiteEntry]) -> Value {
        ["apiVersion": .string(MachineReport.apiVersion), "kind": "FleetHistory",
         "entries": .array(sorted(rows).map { r in
             var v = r.entry.value
             v["site"] = .string(r.site)
             return v
         })]
    }

    /// Objects added, removed and changed from entry `a` to entry `b`, with field paths and
    /// old → new values (Secret values as fingerprints).
    public static func diff(_ d: RenderDiff, site: String, a: LedgerEntry, b: LedgerEntry) -> String {
        var out = "\(site): entry \(a.seq) (\(Revision.short(a.revision))) → entry \(b.seq) (\(Revision.short(b.revision)))\n"
        if d.isEmpty { return out + "no differences\n" }
        for k in d.added { out += "  added    \(k)\n" }
        for k in d.removed { out += "  removed  \(k)\n" }
        for c in d.changed {
            out += "  changed  \(c.key)\n"
            for f in c.fields {
                out += "    \(f.path): \(f.old.map { HumanReport.shortValue($0) } ?? "(none)") → \(f.new.map { HumanReport.shortValue($0) } ?? "(none)")\n"
            }
            if c.truncated { out += "    … more than \(RenderDiff.maxFields) fields changed\n" }
        }
        return out + "\(d.added.count) added, \(d.removed.count) removed, \(d.changed.count) changed\n"
    }

    /// `kind: HistoryDiff` of two renders (`basis: render`; see `ledgerDiffDocument` for the
    /// ledger-only form).
    public static func diffDocument(_ d: RenderDiff, site: String, a: LedgerEntry, b: LedgerEntry) -> Value {
        func entry(_ e: LedgerEntry) -> Value { ["seq": .int(e.seq), "revision": .string(e.revision), "time": .string(e.time)] }
        return ["apiVersion": .string(MachineReport.apiVersion), "kind": "HistoryDiff", "site": .string(site), "basis": "render",
                "from": entry(a), "to": entry(b),
                "added": .array(d.added.map(MachineReport.object)),
                "removed": .array(d.removed.map(MachineReport.object)),
                "changed": .array(d.changed.map { c in
                    ["object": MachineReport.object(c.key), "truncated": .bool(c.truncated),
                     "fields": .array(c.fields.map { f in
                         var v: Value = ["path": .string(f.path)]
                         if let o = f.old { v["old"] = o }
                         if let n = f.new { v["new"] = n }
                         return v
                     })]
                })]
    }
}
