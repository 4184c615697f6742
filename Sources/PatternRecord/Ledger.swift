import PatternCore

/// One apply, as recorded in the ledger.
public struct LedgerEntry: Sendable, Hashable {
    public enum Result: String, Sendable, Hashable, CaseIterable {
        case succeeded, failed, partial
    }

    public struct Source: Sendable, Hashable {
        public var url: String
        public var ref: String
        public var commit: String
        public var path: String
        /// True when every remote failed and the cached commit was used.
        public var fromCache: Bool
        public init(url: String = "", ref: String = "", commit: String = "", path: String = "", fromCache: Bool = false) {
            self.url = url; self.ref = ref; self.commit = commit; self.path = path; self.fromCache = fromCache
        }
    }

    public struct Client: Sendable, Hashable {
        public var user: String
        public var host: String
        public var tool: String
        public var version: String
        public init(user: String = "", host: String = "", tool: String = "pattern", version: String = "") {
            self.user = user; self.host = host; self.tool = tool; self.version = version
        }
    }

    public struct Counts: Sendable, Hashable {
        public var created = 0, updated = 0, unchanged = 0, pruned = 0, failed = 0
        public init(created: Int = 0, updated: Int = 0, unchanged: Int = 0, pruned: Int = 0, failed: Int = 0) {
            self.created = created; self.updated = updated; self.unchanged = unchanged; self.pruned = pruned; self.failed = failed
        }
    }

    /// Sequence number, assigned by `Ledger.append` (1, 2, …; never reused).
    public var seq: Int
    /// RFC 3339 UTC time, given by the caller.
    public var time: String
    /// Rendered revision (content hash of the render).
    public var revision: String
    public var source: Source
    public var client: Client
    public var counts: Counts
    /// Changed objects (`create ConfigMap app/cfg`, …), at most `Ledger.maxChanged` kept.
    public var changed: [String]
    /// How many changed objects there were in total (≥ `changed.count`).
    public var changedTotal: Int
    public var result: Result
    /// Short message (error summary), at most `Ledger.maxMessageBytes`.
    public var message: String
    /// How many identical failed attempts this entry stands for (a retrying controller
    /// records one entry with a count, not one entry per retry); `time` is the latest.
    public var repeats: Int
    /// Time of the first of the repeated attempts (equal to `time` when `repeats` is 1).
    public var firstTime: String
    /// What the render needs to be repeated exactly (nil in entries written before it existed).
    public var render: Render?
    /// The `seq` of the entry this apply rolled back to (`pattern rollback`), nil otherwise.
    public var rollbackOf: Int?

    public init(seq: Int = 0, time: String, revision: String, source: Source = Source(), client: Client = Client(),
                counts: Counts = Counts(), changed: [String] = [], changedTotal: Int? = nil,
                result: Result, message: String = "", repeats: Int = 1, firstTime: String? = nil,
                render: Render? = nil, rollbackOf: Int? = nil) {
        self.seq = seq; self.time = time; self.revision = revision; self.source = source; self.client = client
        self.counts = counts; self.changed = changed; self.changedTotal = changedTotal ?? changed.count
        self.result = result; self.message = message
        self.repeats = max(1, repeats); self.firstTime = firstTime ?? time
        self.render = render?.bounded; self.rollbackOf = rollbackOf
    }

    /// True when `other` is the same failed attempt again (same revision, commit, counts,
    /// changes and message): such retries collapse into one entry.
    public func isRepeat(of other: LedgerEntry) -> Bool {
        result != .succeeded && other.result == result && other.revision == revision && other.source.commit == source.commit
            && other.counts == counts && other.changed == changed && other.message == message
    }

    /// Stable JSON shape (see Docs/diff-apply.md).
    public var value: Value {
        var v: Value = [
            "seq": .int(seq), "time": .string(time), "revision": .string(revision),
            "source": ["url": .string(source.url), "ref": .string(source.ref), "commit": .string(source.commit),
                       "path": .string(source.path), "fromCache": .bool(source.fromCache)],
            "client": ["user": .string(client.user), "host": .string(client.host), "tool": .string(client.tool),
                       "version": .string(client.version)],
            "counts": ["created": .int(counts.created), "updated": .int(counts.updated), "unchanged": .int(counts.unchanged),
                       "pruned": .int(counts.pruned), "failed": .int(counts.failed)],
            "changed": .array(changed.map { .string($0) }),
            "changedTotal": .int(changedTotal),
            "result": .string(result.rawValue),
            "message": .string(message),
            "repeats": .int(repeats),
            "firstTime": .string(firstTime),
        ]
        if let r = render { v["render"] = r.value }
        if let r = rollbackOf { v["rollbackOf"] = .int(r) }
        return v
    }

    public init(value v: Value) throws(Diagnostic) {
        guard let seq = v["seq"]?.int, let time = v["time"]?.string, let r = v["result"]?.string,
              let result = Result(rawValue: r) else {
            throw .error("ledger entry is missing seq, time or result: \(v)")
        }
        let s = v["source"] ?? .emptyObject, c = v["client"] ?? .emptyObject, n = v["counts"] ?? .emptyObject
        self.init(seq: seq, time: time, revision: v["revision"]?.string ?? "",
                  source: Source(url: s["url"]?.string ?? "", ref: s["ref"]?.string ?? "", commit: s["commit"]?.string ?? "",
                                 path: s["path"]?.string ?? "", fromCache: s["fromCache"]?.bool ?? false),
                  client: Client(user: c["user"]?.string ?? "", host: c["host"]?.string ?? "", tool: c["tool"]?.string ?? "",
                                 version: c["version"]?.string ?? ""),
                  counts: Counts(created: n["created"]?.int ?? 0, updated: n["updated"]?.int ?? 0,
                                 unchanged: n["unchanged"]?.int ?? 0, pruned: n["pruned"]?.int ?? 0, failed: n["failed"]?.int ?? 0),
                  changed: (v["changed"]?.array ?? []).compactMap(\.string),
                  changedTotal: v["changedTotal"]?.int, result: result, message: v["message"]?.string ?? "",
                  repeats: v["repeats"]?.int ?? 1, firstTime: v["firstTime"]?.string,
                  render: v["render"].map { Render(value: $0) }, rollbackOf: v["rollbackOf"]?.int)
    }
}

/// Bounded history of applies for (pattern, site), stored as one ConfigMap: one data key per
/// entry (`entry-00000042`, compact JSON), oldest trimmed first.
public struct Ledger: Sendable, Hashable {
    public var pattern: String
    public var site: String
    public var namespace: String
    /// Oldest first.
    public var entries: [LedgerEntry]
    public var limit: Int

    public static let format = "pattern.dev/ledger/v1"
    public static let defaultLimit = 20
    public static let maxChanged = 100
    public static let maxMessageBytes = 1024

    public init(pattern: String, site: String, namespace: String = Inventory.defaultNamespace,
                entries: [LedgerEntry] = [], limit: Int = Ledger.defaultLimit) {
        self.pattern = pattern; self.site = site; self.namespace = namespace; self.entries = entries; self.limit = limit
    }

    public var name: String { Ownership.objectName(prefix: "pattern-ledger", [pattern, site]) }
    public var last: LedgerEntry? { entries.last }

    /// Appends `entry` with the next sequence number, bounding its lists and message, and trims
    /// the oldest entries beyond `limit`. A failure identical to the last entry (see
    /// `LedgerEntry.isRepeat`) is folded into it: its `repeats` grows and its `time` moves,
    /// so retries cannot push real history out. Returns the stored entry.
    @discardableResult
    public mutating func append(_ entry: LedgerEntry) -> LedgerEntry {
        var e = entry
        e.message = Ledger.bounded(e.message)
        e.render = e.render?.bounded
        if e.changed.count > Ledger.maxChanged { e.changed = Array(e.changed.prefix(Ledger.maxChanged)) }
        if var last = entries.last, e.isRepeat(of: last) {
            last.repeats += 1
            last.time = e.time
            entries[entries.count - 1] = last
            return last
        }
        e.seq = (entries.last?.seq ?? 0) + 1
        e.changedTotal = max(e.changedTotal, entry.changed.count)
        entries.append(e)
        if entries.count > limit { entries.removeFirst(entries.count - limit) }
        return e
    }

    static func bounded(_ message: String) -> String {
        guard message.utf8.count > Ledger.maxMessageBytes else { return message }
        var m = ""
        for c in message {
            if m.utf8.count + String(c).utf8.count > Ledger.maxMessageBytes - 3 { break }
            m.append(c)
        }
        return m + "..."
    }

    static func dataKey(_ seq: Int) -> String {
        let s = String(seq)
        return "entry-" + String(repeating: "0", count: max(0, 8 - s.count)) + s
    }

    /// The ledger ConfigMap.
    public func encode() -> Value {
        var data: Object = [
            "format": .string(Ledger.format), "pattern": .string(pattern), "site": .string(site),
        ]
        for e in entries { data[Ledger.dataKey(e.seq)] = .string(JSONWriter.string(e.value)) }
        return [
            "apiVersion": "v1",
            "kind": "ConfigMap",
            "metadata": [
                "name": .string(name),
                "namespace": .string(namespace),
                "labels": [
                    Ownership.managedByLabel: .string(Ownership.managedByValue),
                    Ownership.patternLabel: .string(Ownership.labelValue(pattern)),
                    Ownership.siteLabel: .string(Ownership.labelValue(site)),
                    Ownership.ledgerLabel: .string(Ownership.ownerValue(pattern: pattern, site: site)),
                ],
            ],
            "data": .object(data),
        ]
    }

    /// Reads a ledger ConfigMap (`nil`: no ledger yet, an empty one).
    public static func decode(_ configMap: Value?, pattern: String, site: String, namespace: String = Inventory.defaultNamespace,
                              limit: Int = Ledger.defaultLimit) throws(Diagnostic) -> Ledger {
        var l = Ledger(pattern: pattern, site: site, namespace: namespace, limit: limit)
        guard let cm = configMap else { return l }
        guard let data = cm["data"]?.object, data["format"]?.string == format else {
            throw .error("ledger \(cm.metadataName ?? "?") is not a \(format) ConfigMap")
        }
        for (k, v) in data where k.hasPrefix("entry-") {
            guard let text = v.string else { continue }
            let parsed: Value
            do { parsed = try JSONParser.parse(text, file: "\(cm.metadataName ?? "ledger")/\(k)") } catch {
                throw .error("ledger \(cm.metadataName ?? "?") entry \(k) is not valid JSON: \(error.message)")
            }
            l.entries.append(try LedgerEntry(value: parsed))
        }
        l.entries.sort { $0.seq < $1.seq }
        if l.entries.count > limit { l.entries.removeFirst(l.entries.count - limit) }
        return l
    }
}
