import PatternCore
import PatternDiff
import PatternRecord

/// Machine output: stable JSON documents (schema in Docs/diff-apply.md). Every document has
/// `apiVersion: pattern.dev/v1alpha1` (the API group of the pattern and PatternSync files) and a
/// `kind`; field names only change with a new version.
public enum MachineReport {
    public static let apiVersion = "pattern.dev/v1alpha1"

    public static func object(_ k: ObjectKey) -> Value {
        ["group": .string(k.group), "kind": .string(k.kind), "namespace": .string(k.namespace), "name": .string(k.name)]
    }

    static func counts(_ diffs: [ObjectDiff]) -> Value {
        var o = Object()
        for a in DiffAction.allCases { o.append(a.rawValue, .int(diffs.filter { $0.action == a }.count)) }
        return .object(o)
    }

    /// `kind: DiffReport`: summary counts and per-object action, changed fields and diff text.
    /// Secret values are already fingerprints in `ObjectDiff`.
    public static func diff(_ diffs: [ObjectDiff], revision: String = "") -> Value {
        let objects: [Value] = diffs.map { d in
            var o = Object()
            for (k, v) in object(d.key).object! { o.append(k, v) }
            o.append("action", .string(d.action.rawValue))
            o.append("changes", .array(d.changes.map { c in
                var x = Object()
                x.append("path", .string(c.path.description))
                x.append("op", .string(c.kind.rawValue))
                x.append("desired", c.desired ?? .null)
                x.append("live", c.live ?? .null)
                return .object(x)
            }))
            o.append("diff", .string(d.text))
            if let owner = d.ownedBy { o.append("ownedBy", .string(owner)) }
            return .object(o)
        }
        return [
            "apiVersion": .string(apiVersion), "kind": "DiffReport", "revision": .string(revision),
            "summary": counts(diffs), "objects": .array(objects),
        ]
    }

    /// `kind: Plan`: levels (index, tier, objects) and edges (from, to, reason), warnings.
    public static func plan(_ plan: Plan) -> Value {
        let levels: [Value] = plan.levels.enumerated().map { i, l in
            let t = l.first.flatMap { plan.tiers[$0] } ?? 0
            return ["index": .int(i), "tier": .string(Planner.tierNames[min(t, Planner.tierNames.count - 1)]),
                    "objects": .array(l.map(object))]
        }
        let edges: [Value] = plan.edges.map {
            ["from": object($0.from), "to": object($0.to), "reason": .string($0.reason.description)]
        }
        return [
            "apiVersion": .string(apiVersion), "kind": "Plan", "levels": .array(levels), "edges": .array(edges),
            "warnings": .array(plan.warnings.map { .string($0.message) }),
        ]
    }

    /// `kind: DriftReport`: drifted fields with owners, missing and unmanaged objects.
    public static func drift(_ items: [DriftItem], objects: ObjectDrift = ObjectDrift(missing: [], unmanaged: [])) -> Value {
        let fields: [Value] = items.map { i in
            [
                "object": object(i.key), "path": .string(i.path.description), "op": .string(i.kind.rawValue),
                "applied": i.applied ?? .null, "live": i.live ?? .null,
                "owners": .array(i.owners.map {
                    ["manager": .string($0.manager), "operation": .string($0.operation), "time": .string($0.time),
                     "subresource": .string($0.subresource)]
                }),
            ]
        }
        return [
            "apiVersion": .string(apiVersion), "kind": "DriftReport", "fields": .array(fields),
            "missing": .array(objects.missing.map(object)), "unmanaged": .array(objects.unmanaged.map(object)),
            "ownedElsewhere": .array(objects.ownedElsewhere.sorted { $0.key < $1.key }.map { k, owner in
                var v = object(k)
                v["owner"] = .string(owner)
                return v
            }),
        ]
    }

    /// Changes not yet applied, as `pattern drift` lists them apart from drift: `{object, path,
    /// op, desired, live}` (`desired`: the render's value; Secret values as fingerprints).
    public static func pendingFields(_ items: [DriftItem]) -> Value {
        .array(items.map { i in
            ["object": object(i.key), "path": .string(i.path.description), "op": .string(i.kind.rawValue),
             "desired": i.applied ?? .null, "live": i.live ?? .null]
        })
    }

    /// `kind: History`: ledger entries, newest first.
    public static func history(_ entries: [LedgerEntry]) -> Value {
        ["apiVersion": .string(apiVersion), "kind": "History",
         "entries": .array(entries.sorted { $0.seq > $1.seq }.map(\.value))]
    }

    /// `kind: Readiness`: status per object.
    public static func readiness(_ items: [(ObjectKey, Readiness)]) -> Value {
        ["apiVersion": .string(apiVersion), "kind": "Readiness",
         "objects": .array(items.map { k, r in
             ["object": object(k), "status": .string(r.status.rawValue), "message": .string(r.message)]
         })]
    }

    /// Indented JSON text (stable key order as built) with a trailing newline.
    public static func text(_ v: Value) -> String { JSONWriter.string(v, options: .init(indent: 2)) + "\n" }
}
