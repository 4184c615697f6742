import PatternCore

/// A field manager that owns a path, from `metadata.managedFields`.
public struct FieldOwner: Sendable, Hashable, CustomStringConvertible {
    public var manager: String
    /// `Apply` or `Update`.
    public var operation: String
    /// RFC 3339 time of the manager's last write ("" when unknown).
    public var time: String
    public var subresource: String

    public init(manager: String, operation: String, time: String, subresource: String = "") {
        self.manager = manager; self.operation = operation; self.time = time; self.subresource = subresource
    }

    public var description: String { "\(manager) (\(operation)\(time.isEmpty ? "" : " at \(time)"))" }
}

/// One drifted field: live differs from what we last applied, and who owns it now.
public struct DriftItem: Sendable, Hashable {
    public var key: ObjectKey
    public var path: FieldPath
    /// `changed` (other value) or `added` (we set it, live no longer has it).
    public var kind: FieldChange.Kind
    public var applied: Value?
    public var live: Value?
    /// Other managers owning the path (newest first); empty when no one does (e.g. deleted).
    public var owners: [FieldOwner]

    public init(key: ObjectKey, path: FieldPath, kind: FieldChange.Kind, applied: Value?, live: Value?, owners: [FieldOwner]) {
        self.key = key; self.path = path; self.kind = kind; self.applied = applied; self.live = live; self.owners = owners
    }
}

/// Objects that drifted as a whole.
public struct ObjectDrift: Sendable, Hashable {
    /// In the inventory (we applied them) but not in the cluster.
    public var missing: [ObjectKey]
    /// Carry our ownership label but are not in the inventory (created by copy, or left over
    /// from a lost inventory): reported, never pruned automatically.
    public var unmanaged: [ObjectKey]
    /// In the inventory and still rendered, but another pattern site's owner label is on them
    /// now (that site took them): not "missing", with the owner (`pattern/site`).
    public var ownedElsewhere: [ObjectKey: String]
    public init(missing: [ObjectKey], unmanaged: [ObjectKey], ownedElsewhere: [ObjectKey: String] = [:]) {
        self.missing = missing; self.unmanaged = unmanaged; self.ownedElsewhere = ownedElsewhere
    }
}

public enum Drift {
    /// Fields where live differs from `lastApplied` (the object as we last applied it), with
    /// attribution from managedFields.
    public static func fields(lastApplied: Value, live: Value, manager: String, options: DiffOptions = .default) -> [DriftItem] {
        let key = live.objectKey ?? lastApplied.objectKey ?? ObjectKey(group: "", kind: "", namespace: "", name: "")
        let changes = OwnedFields.compare(desired: lastApplied, live: live, manager: manager, options: options)
            .filter { $0.kind != .removed }
        let entries = ManagedFieldsEntry.entries(of: live)
        return changes.map { c in
            DriftItem(key: key, path: c.path, kind: c.kind, applied: c.desired, live: c.live,
                      owners: owners(of: c.path, entries: entries, excluding: manager))
        }
    }

    /// Fields where applying `desired` without `force` would conflict: desired sets a value
    /// different from live and another manager owns the field (the API answers 409 naming
    /// them). Lets `pattern diff` warn before `apply` and `apply` explain `--force-conflicts`.
    public static func conflicts(desired: Value, live: Value, manager: String) -> [DriftItem] {
        fields(lastApplied: desired, live: live, manager: manager, options: DiffOptions(builtinNormalizers: false)).filter {
            $0.kind == .changed && $0.owners.contains { $0.subresource.isEmpty }
        }
    }

    /// Managers other than `excluding` that own `path`, an atomic ancestor of it, or a field below it.
    public static func owners(of path: FieldPath, entries: [ManagedFieldsEntry], excluding: String?) -> [FieldOwner] {
        entries.filter { $0.manager != excluding && $0.fields.touches(path) }
            .map { FieldOwner(manager: $0.manager, operation: $0.operation, time: $0.time, subresource: $0.subresource) }
            .sorted { ($0.time, $0.manager) > ($1.time, $1.manager) }
    }

    /// Objects missing from the cluster and labelled objects missing from the inventory.
    public static func objects(inventory: [ObjectKey], liveKeys: Set<ObjectKey>, labeled: [ObjectKey]) -> ObjectDrift {
        let inv = Set(inventory)
        return ObjectDrift(missing: inventory.filter { !liveKeys.contains($0) }.sorted(),
                           unmanaged: Set(labeled).subtracting(inv).sorted())
    }
}
