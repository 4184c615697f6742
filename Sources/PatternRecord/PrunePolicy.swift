import PatternCore

/// Per-object annotations that change how apply and prune treat one object.
public enum Lifecycle {
    /// `pattern.dev/prune: disabled` on the rendered or the live object: never deleted by
    /// prune; when the render drops it, it leaves the inventory and stays in the cluster.
    public static let pruneAnnotation = "pattern.dev/prune"
    public static let pruneDisabled = "disabled"
    /// `pattern.dev/apply` on the rendered object: `if-not-present` creates the object when it
    /// is missing and never updates it afterwards (for objects other tools own once created);
    /// `ignore` (rendered or live) skips the object entirely.
    public static let applyAnnotation = "pattern.dev/apply"

    /// How apply treats one object.
    public enum ApplyMode: String, Sendable, Hashable, CaseIterable {
        case always, ifNotPresent = "if-not-present", ignore
    }

    /// The apply mode of a rendered object, overridden by `ignore` on the live object.
    public static func applyMode(rendered: Value, live: Value?) -> ApplyMode {
        if live?.annotations[applyAnnotation]?.string == ApplyMode.ignore.rawValue { return .ignore }
        return rendered.annotations[applyAnnotation]?.string.flatMap(ApplyMode.init(rawValue:)) ?? .always
    }

    /// True when `object` opts out of prune.
    public static func pruneDisabled(_ object: Value?) -> Bool {
        object?.annotations[pruneAnnotation]?.string == pruneDisabled
    }
}

/// What deleting a Namespace or a CustomResourceDefinition would delete with it.
public struct Cascade: Sendable, Hashable {
    /// Objects inside (namespace contents, custom resources) that are not prune candidates
    /// themselves and that the API server would delete with the container.
    public var inside: Int
    /// Objects inside that another pattern site owns, with the owner (`pattern/site`).
    public var foreign: [ObjectKey: String]
    public init(inside: Int = 0, foreign: [ObjectKey: String] = [:]) { self.inside = inside; self.foreign = foreign }

    /// True for the kinds whose deletion cascades to objects of other kinds.
    public static func isContainer(_ key: ObjectKey) -> Bool {
        (key.group.isEmpty && key.kind == "Namespace")
            || (key.group == "apiextensions.k8s.io" && key.kind == "CustomResourceDefinition")
    }
}

/// Why a prune was refused before anything was written.
public enum PruneRefusal: Error, Sendable, Hashable, CustomStringConvertible {
    /// The render is empty: everything would go.
    case emptyRender(wouldDelete: [ObjectKey], cascade: Int)
    /// More than `limit` (a fraction) of the inventory would go, counting cascades.
    case overBudget(wouldDelete: [ObjectKey], cascade: Int, inventory: Int, limit: Double)

    /// The objects prune would have deleted (sorted).
    public var wouldDelete: [ObjectKey] {
        switch self { case .emptyRender(let k, _), .overBudget(let k, _, _, _): return k }
    }

    /// Objects inside deleted Namespaces/CRDs that would have gone with them.
    public var cascade: Int {
        switch self { case .emptyRender(_, let c), .overBudget(_, let c, _, _): return c }
    }

    public var description: String {
        func list(_ keys: [ObjectKey], cascade: Int) -> String {
            let shown = keys.prefix(20).map { "  \($0)" }.joined(separator: "\n")
            let more = keys.count > 20 ? "\n  … and \(keys.count - 20) more" : ""
            let inside = cascade > 0 ? "\n  plus \(cascade) object\(cascade == 1 ? "" : "s") inside namespaces/CRDs that would be deleted with them" : ""
            return shown + more + inside
        }
        switch self {
        case .emptyRender(let keys, let c):
            return "refusing to prune all \(keys.count) objects (and \(c) inside them): the render is empty. Would delete:\n" + list(keys, cascade: c)
        case .overBudget(let keys, let c, let n, let limit):
            return "refusing to prune \(keys.count + c) objects (\(keys.count) of \(n) inventory objects, \(c) by cascade): more than \(Int(limit * 100))%. Would delete:\n"
                + list(keys, cascade: c)
        }
    }
}

/// The prune rules of one apply, decided in one place (the engine only carries them out).
///
/// Candidates are inventory objects the render no longer has. A candidate is *released* (leaves
/// the inventory, stays in the cluster) when it is gone, when another site now owns it, when it
/// carries `pattern.dev/prune: disabled`, or when its kind is not in the site's prune allowlist.
/// A Namespace or CRD that holds objects another site owns is *kept* (in the cluster and the
/// inventory) — deleting it would delete them. Everything a delete would take with it counts
/// against the safety budget.
public struct PrunePolicy: Sendable, Hashable {
    /// Prune at all (`--no-prune` turns it off).
    public var enabled = true
    /// Allow a prune that the budget or the empty-render rule refuses (`--prune-confirm`).
    public var confirmed = false
    /// Refuse to delete more than this fraction of the inventory (cascades included) unconfirmed.
    public var maxFraction = 0.5
    /// Prune even though the source is stale (`--prune-stale`); off by default: a cached
    /// commit is not evidence that objects were removed.
    public var allowStaleSource = false
    /// Kinds prune may delete; nil: every kind.
    public var kinds: Set<GroupKind>? = nil

    public init(enabled: Bool = true, confirmed: Bool = false, maxFraction: Double = 0.5,
                allowStaleSource: Bool = false, kinds: Set<GroupKind>? = nil) {
        self.enabled = enabled; self.confirmed = confirmed; self.maxFraction = maxFraction
        self.allowStaleSource = allowStaleSource; self.kinds = kinds
    }

    /// The outcome of the rules.
    public struct Decision: Sendable, Hashable {
        /// Delete these (sorted; the engine orders them dependents first).
        public var delete: [ObjectKey] = []
        /// Leave the inventory without being deleted, with the reason (empty: already gone).
        public var release: [ObjectKey: String] = [:]
        /// Stay in the cluster and the inventory, with the reason.
        public var keep: [ObjectKey: String] = [:]
        /// Objects inside deleted Namespaces/CRDs that go with them.
        public var cascade: Int = 0
        /// Why prune did not run at all (candidates then stay in the inventory).
        public var skipped: String? = nil
        public init() {}
    }

    /// Decides the prune of one apply. `live` holds the live candidates (objects this site owns
    /// are recognised by `owns`), `cascades` what deleting each Namespace/CRD candidate would take.
    public func decide(inventory: Inventory?, desired: Set<ObjectKey>, live: [ObjectKey: Value],
                       owns: (Value) -> Bool, staleSource: Bool,
                       cascades: [ObjectKey: Cascade] = [:]) throws(PruneRefusal) -> Decision {
        var d = Decision()
        guard let inventory else { return d }
        let candidates = inventory.pruneCandidates(desired: desired)
        if candidates.isEmpty { return d }
        if !enabled { d.skipped = "prune is off"; return d }
        if staleSource && !allowStaleSource {
            d.skipped = "the source is stale (every remote failed; a cached commit was rendered): nothing is pruned unless --prune-stale"
            return d
        }
        for k in candidates {
            guard let l = live[k] else { d.release[k] = ""; continue }
            if !owns(l) { d.release[k] = "now owned by \(Self.ownerName(l) ?? "another owner"): released, not deleted"; continue }
            if Lifecycle.pruneDisabled(l) { d.release[k] = "\(Lifecycle.pruneAnnotation): \(Lifecycle.pruneDisabled): left in the cluster"; continue }
            if let kinds, !kinds.contains(k.groupKind) {
                d.release[k] = "kind \(k.groupKind) is not in the site's prunable kinds: left in the cluster"; continue
            }
            if let c = cascades[k], !c.foreign.isEmpty {
                let owners = Set(c.foreign.values).sorted().joined(separator: ", ")
                let sample = c.foreign.keys.sorted().prefix(3).map(\.description).joined(separator: ", ")
                d.keep[k] = "not pruned: it holds \(c.foreign.count) object\(c.foreign.count == 1 ? "" : "s") owned by \(owners) (\(sample)\(c.foreign.count > 3 ? ", …" : ""))"
                continue
            }
            d.delete.append(k)
            d.cascade += cascades[k]?.inside ?? 0
        }
        if confirmed || d.delete.isEmpty { return d }
        if desired.isEmpty { throw .emptyRender(wouldDelete: d.delete, cascade: d.cascade) }
        let total = d.delete.count + d.cascade
        if total >= 2, Double(total) / Double(max(1, inventory.objects.count)) > maxFraction {
            throw .overBudget(wouldDelete: d.delete, cascade: d.cascade, inventory: inventory.objects.count, limit: maxFraction)
        }
        return d
    }

    /// `pattern/site` of a live object applied by pattern, from its labels.
    public static func ownerName(_ live: Value) -> String? {
        let l = live.labels
        guard let owner = l[Ownership.ownerLabel]?.string else { return nil }
        if let p = l[Ownership.patternLabel]?.string, let s = l[Ownership.siteLabel]?.string { return "\(p)/\(s)" }
        return owner
    }
}
