import PatternCore
import PatternDiff
import PatternRecord

/// How a (pattern, site) pair is identified in a cluster: the member labels apply adds to
/// every object (`pattern.dev/owner`, ApplySet `part-of`), the selector Observe lists with, and
/// the inventory/ledger names.
public struct SiteIdentity: Sendable, Hashable {
    public var pattern: String { didSet { derive() } }
    public var site: String { didSet { derive() } }
    /// Namespace holding the inventory and ledger ConfigMaps.
    public var recordNamespace: String { didSet { derive() } }
    /// The ApplySet id of the site's inventory (`applyset.kubernetes.io/part-of` of every
    /// member): a SHA-256 of the inventory's name, made once, not once per object.
    public private(set) var applySetID: String = ""
    /// The `pattern.dev/owner` value of every member (`Ownership.ownerValue`), made once.
    public private(set) var ownerValue: String = ""
    /// What every applied hash of this site hashes first (`AppliedHash.sitePrefix`), hashed once.
    private var appliedHashSite = AppliedHash.Site(ownerValue: "", applySetID: "")

    public init(pattern: String, site: String, recordNamespace: String = Inventory.defaultNamespace) {
        self.pattern = pattern; self.site = site; self.recordNamespace = recordNamespace
        derive()
    }

    /// Makes the values that depend on the pattern, site and record namespace.
    private mutating func derive() {
        applySetID = emptyInventory.applySetID
        ownerValue = Ownership.ownerValue(pattern: pattern, site: site)
        appliedHashSite = AppliedHash.Site(ownerValue: ownerValue, applySetID: applySetID)
    }

    public init(_ r: RenderedSite, recordNamespace: String = Inventory.defaultNamespace) {
        self.init(pattern: r.pattern, site: r.site, recordNamespace: recordNamespace)
    }

    public var emptyInventory: Inventory { Inventory(pattern: pattern, site: site, namespace: recordNamespace) }

    /// `pattern.dev/owner=<pattern>.<site>`: what the one LIST per kind selects.
    public var labelSelector: String { Ownership.ownerSelector(pattern: pattern, site: site) }

    /// True when a live object carries this site's owner label (prune never touches others).
    public func owns(_ live: Value) -> Bool {
        live.labels[Ownership.ownerLabel]?.string == ownerValue
    }

    /// The object as it is applied: the render plus the member labels, without fields whose
    /// value is null (see `NullFields`), with its applied hash (`appliedHash(of:)`).
    public func prepare(_ object: Value) -> Value {
        prepare(object, hash: AppliedHash.current(ObjectDigest(of: object), site: appliedHashSite))
    }

    /// `prepare(o.object)`, with the content digest the render computed when it is known.
    public func prepare(_ o: RenderedObject) -> Value {
        prepare(o.object, hash: appliedHash(of: o))
    }

    /// The `pattern.dev/applied-hash` `prepare(o)` sets (`AppliedHash.current`), without
    /// preparing the object.
    public func appliedHash(of o: RenderedObject) -> String {
        AppliedHash.current(o.contentDigest ?? ObjectDigest(of: o.object), site: appliedHashSite)
    }

    private func prepare(_ object: Value, hash: String) -> Value {
        var v = Ownership.withMemberLabels(NullFields.dropped(object), ownerValue: ownerValue, applySetID: applySetID)
        v[path: ["metadata", "annotations", LabelKeys.appliedHash]] = .string(hash)
        return v
    }
}

/// Map fields whose value is null (`spec:` with nothing after it, `resources: null`), which
/// charts often render, mean "not set": Helm creates such objects with the field absent, and
/// `kubectl apply` drops them. Applied as they are, server-side apply would make the field
/// owned as null while the API server fills it in (a Namespace's `spec.finalizers`): every
/// diff would show a change and every apply would write again. They are left out of what is
/// applied and compared; nulls inside lists are values and stay.
enum NullFields {
    /// `value` without null map fields, at any depth (unchanged, not copied, when it has none).
    static func dropped(_ value: Value) -> Value {
        guard contains(value) else { return value }
        var v = value
        strip(&v)
        return v
    }

    /// Whether a map anywhere in `value` holds a null field (a read-only walk).
    static func contains(_ value: Value) -> Bool {
        switch value.kind {
        case .object(let o):
            return o.containsValue { $0.isNull || contains($0) }
        case .array(let a):
            for v in a where contains(v) { return true }
            return false
        default:
            return false
        }
    }

    static func strip(_ value: inout Value) {
        switch value.kind {
        case .object:
            value.withObject { o in
                o = o.filter { _, v in !v.isNull }
                o.updateValues(where: { contains($0) }) { _, v in strip(&v) }
            }
        case .array:
            value.withArray { a in
                for i in a.indices where contains(a[i]) { strip(&a[i]) }
            }
        default:
            break
        }
    }
}
