import PatternCore

/// The objects pattern applied for one (pattern, site): what prune may delete.
///
/// Stored as one or more ConfigMaps ("shards") in the inventory namespace, in the spirit of
/// kubectl ApplySets: the first shard is the ApplySet parent. Each shard holds a compact list,
/// one object per line, `group|kind|namespace|name` (sorted; core group and cluster scope
/// empty). See Docs/diff-apply.md for limits.
public struct Inventory: Sendable, Hashable {
    public var pattern: String
    public var site: String
    /// Namespace of the inventory ConfigMaps.
    public var namespace: String
    public var objects: Set<ObjectKey>

    public static let defaultNamespace = "pattern-system"
    public static let format = "pattern.dev/inventory/v1"
    /// Per-shard budget for the `objects` text: the API limits a ConfigMap's data to 1 MiB;
    /// 900 KiB leaves room for metadata and the other keys.
    public static let defaultShardBytes = 900 * 1024
    public static let shardAnnotation = "pattern.dev/shard"          // "i/n"
    public static let revisionAnnotation = "pattern.dev/inventory-revision"

    public init(pattern: String, site: String, namespace: String = Inventory.defaultNamespace, objects: Set<ObjectKey> = []) {
        self.pattern = pattern; self.site = site; self.namespace = namespace; self.objects = objects
    }

    /// Name of shard 0 (the ApplySet parent); shard i > 0 is `<name>-<i>`.
    public var name: String { Ownership.objectName(prefix: "pattern-inventory", [pattern, site]) }
    public func shardName(_ i: Int) -> String { i == 0 ? name : "\(name)-\(i)" }
    public var applySetID: String { Ownership.applySetID(name: name, namespace: namespace) }

    // MARK: Lines

    public static func line(_ k: ObjectKey) -> String { "\(k.group)|\(k.kind)|\(k.namespace)|\(k.name)" }

    public static func parseLine(_ s: Substring) -> ObjectKey? {
        var line = String(s)
        return line.withUTF8 { parseLine(UnsafeBufferPointer(rebasing: $0[...])) }
    }

    /// `group|kind|namespace|name` (kind and name not empty; no carriage return), read as bytes.
    static func parseLine(_ b: UnsafeBufferPointer<UInt8>) -> ObjectKey? {
        var bars = (0, 0, 0), n = 0
        for i in b.indices {
            switch b[i] {
            case UInt8(ascii: "|"):
                if n == 0 { bars.0 = i } else if n == 1 { bars.1 = i } else if n == 2 { bars.2 = i } else { return nil }
                n += 1
            case 0x0D: return nil
            default: continue
            }
        }
        guard n == 3, bars.1 > bars.0 + 1, bars.2 + 1 < b.count else { return nil }
        func text(_ from: Int, _ to: Int) -> String { String(decoding: UnsafeBufferPointer(rebasing: b[from..<to]), as: UTF8.self) }
        return ObjectKey(group: text(0, bars.0), kind: text(bars.0 + 1, bars.1), namespace: text(bars.1 + 1, bars.2),
                         name: text(bars.2 + 1, b.count))
    }

    /// Adds the keys of a shard's `objects` text (one line each, empty lines skipped) to
    /// `objects`; returns the first line that is not a key, if any.
    static func parseLines(_ text: String, into objects: inout Set<ObjectKey>) -> String? {
        var text = text
        return text.withUTF8 { b -> String? in
            var start = 0
            while start < b.count {
                var end = start
                while end < b.count, b[end] != 0x0A { end += 1 }
                if end > start {
                    let line = UnsafeBufferPointer(rebasing: b[start..<end])
                    guard let k = parseLine(line) else { return String(decoding: line, as: UTF8.self) }
                    objects.insert(k)
                }
                start = end + 1
            }
            return nil
        }
    }

    // MARK: Encode / decode

    /// The ConfigMaps holding this inventory (shard 0 first). Lines are sorted, so the same
    /// set gives the same bytes; every shard carries the count and a revision hash of the whole
    /// list so a reader can tell a torn write from a complete one.
    public func encode(maxShardBytes: Int = Inventory.defaultShardBytes) -> [Value] {
        let lines = objects.sorted().map(Inventory.line)
        var shards: [[String]] = [[]]
        var size = 0
        for l in lines {
            let n = l.utf8.count + 1
            if size + n > maxShardBytes && !shards[shards.count - 1].isEmpty { shards.append([]); size = 0 }
            shards[shards.count - 1].append(l)
            size += n
        }
        var h = SHA256()
        for l in lines { h.update(l); h.update([10]) }
        let revision = String(h.finalize().hexString.prefix(16))
        let owner = Ownership.ownerValue(pattern: pattern, site: site)
        let groupKinds = Set(objects.map { $0.groupKind.description }).sorted().joined(separator: ",")
        return shards.enumerated().map { i, body in
            var labels: Object = [
                Ownership.managedByLabel: .string(Ownership.managedByValue),
                Ownership.patternLabel: .string(Ownership.labelValue(pattern)),
                Ownership.siteLabel: .string(Ownership.labelValue(site)),
                Ownership.inventoryLabel: .string(owner),
            ]
            var annotations: Object = [
                Inventory.shardAnnotation: .string("\(i)/\(shards.count)"),
                Inventory.revisionAnnotation: .string(revision),
            ]
            if i == 0 {
                labels[Ownership.applySetIDLabel] = .string(applySetID)
                annotations[Ownership.applySetToolingAnnotation] = .string(Ownership.toolingValue)
                annotations[Ownership.applySetGroupKindsAnnotation] = .string(groupKinds)
            }
            let text = body.isEmpty ? "" : body.joined(separator: "\n") + "\n"
            return [
                "apiVersion": "v1",
                "kind": "ConfigMap",
                "metadata": [
                    "name": .string(shardName(i)),
                    "namespace": .string(namespace),
                    "labels": .object(labels),
                    "annotations": .object(annotations),
                ],
                "data": [
                    "format": .string(Inventory.format),
                    "pattern": .string(pattern),
                    "site": .string(site),
                    "objects": .string(text),
                ],
            ]
        }
    }

    /// Reads an inventory from its shards (in any order; extra stale shards are ignored).
    /// Fails when shard 0 is missing, a shard of the declared count is missing, or shards
    /// disagree on the revision (a torn write): prune must not run on a partial inventory.
    public static func decode(_ configMaps: [Value]) throws(Diagnostic) -> Inventory {
        var byIndex: [Int: (Value, Int, String)] = [:]
        for cm in configMaps {
            guard let shard = cm.annotations[shardAnnotation]?.string else { continue }
            let parts = shard.split(separator: "/")
            guard parts.count == 2, let i = Int(parts[0]), let n = Int(parts[1]), i >= 0, i < n else {
                throw .error("inventory \(cm.metadataName ?? "?"): invalid \(shardAnnotation) \"\(shard)\"")
            }
            byIndex[i] = (cm, n, cm.annotations[revisionAnnotation]?.string ?? "")
        }
        guard let (first, count, revision) = byIndex[0] else {
            throw .error("inventory shard 0 is missing", fix: "nothing will be pruned; re-run apply to rewrite the inventory")
        }
        guard first["data"]?["format"]?.string == format else {
            throw .error("inventory \(first.metadataName ?? "?") has format \"\(first["data"]?["format"]?.string ?? "")\", expected \(format)")
        }
        var inv = Inventory(pattern: first["data"]?["pattern"]?.string ?? "", site: first["data"]?["site"]?.string ?? "",
                            namespace: first.metadataNamespace ?? defaultNamespace)
        for i in 0..<count {
            guard let (cm, n, rev) = byIndex[i] else {
                throw .error("inventory \(inv.name) is incomplete: shard \(i) of \(count) is missing",
                             fix: "nothing will be pruned; re-run apply to rewrite the inventory")
            }
            guard n == count, rev == revision else {
                throw .error("inventory \(inv.name) is inconsistent: shard \(i) belongs to another revision (torn write)",
                             fix: "nothing will be pruned; re-run apply to rewrite the inventory")
            }
            if let bad = parseLines(cm["data"]?["objects"]?.string ?? "", into: &inv.objects) {
                throw .error("inventory \(cm.metadataName ?? "?"): bad line \"\(bad)\"")
            }
        }
        return inv
    }

    /// Shard names among `existing` that the new encoding no longer uses (delete them after
    /// the new shards are written).
    public func staleShards(existing: [String], newCount: Int) -> [String] {
        let keep = Set((0..<newCount).map(shardName))
        return existing.filter { !keep.contains($0) }.sorted()
    }

    /// The inventory with `keys` added: written *before* those objects are created, so an
    /// object never exists in the cluster without being listed (a failed or killed run leaves
    /// it listed, and the next run can still prune it).
    public func adding(_ keys: some Sequence<ObjectKey>) -> Inventory {
        var out = self
        out.objects.formUnion(keys)
        return out
    }

    /// The inventory with `keys` removed: written *after* those objects were deleted (or found
    /// gone, or released).
    public func removing(_ keys: some Sequence<ObjectKey>) -> Inventory {
        var out = self
        out.objects.subtract(keys)
        return out
    }

    /// True when every key of `render` is listed: only then may an apply that changes nothing
    /// skip writing the inventory.
    public func covers(_ render: some Sequence<ObjectKey>) -> Bool {
        render.allSatisfy { objects.contains($0) }
    }

    // MARK: Prune

    /// Objects in the inventory that the render no longer has, sorted.
    public func pruneCandidates(desired: some Sequence<ObjectKey>) -> [ObjectKey] {
        objects.subtracting(desired).sorted()
    }
}
