import PatternCore
import PatternDiff
import PatternRecord

/// How a (pattern, site) pair is identified in a cluster: the member labels apply adds to
/// every object (`pattern.dev/owner`, ApplySet `part-of`), the selector Observe lists with, and
/// the inventory/ledger names.
public struct SiteIdentity: Sendable, Hashable {
    public var pattern: String { didSet { applySetID = emptyInventory.applySetID } }
    public var site: String { didSet { applySetID = emptyInventory.applySetID } }
    /// Namespace holding the inventory and ledger ConfigMaps.
    public var recordNamespace: String { didSet { applySetID = emptyInventory.applySetID } }
    /// The ApplySet id of the site's inventory (`applyset.kubernetes.io/part-of` of every
    /// member): a SHA-256 of the inventory's name, made once, not once per object.
    public private(set) var applySetID: String = ""

    public init(pattern: String, site: String, recordNamespace: String = Inventory.defaultNamespace) {
        self.pattern = pattern; self.site = site; self.recordNamespace = recordNamespace
        applySetID = emptyInventory.applySetID
    }

    public init(_ r: RenderedSite, recordNamespace: String = Inventory.defaultNamespace) {
        self.init(pattern: r.pattern, site: r.site, recordNamespace: recordNamespace)
    }

    public var emptyInventory: Inventory { Inventory(pattern: pattern, site: site, namespace: recordNamespace) }

    /// `pattern.dev/owner=<pattern>.<site>`: what the one LIST per kind selects.
    public var labelSelector: String { Ownership.ownerSelector(pattern: pattern, site: site) }

    /// True when a live object carries this site's owner label (prune never touches others).
    public func owns(_ live: Value) -> Bool {
        live.labels[Ownership.ownerLabel]?.string == Ownership.ownerValue(pattern: pattern, site: site)
    }

    /// The object as it is applied: the render plus the member labels.
    public func prepare(_ object: Value) -> Value {
        var v = Ownership.withMemberLabels(object, pattern: pattern, site: site, applySetID: applySetID)
        v[path: ["metadata", "annotations", LabelKeys.appliedHash]] = .string(SiteIdentity.configHash(v))
        return v
    }

    /// SHA-256 (first 16 hex) of the JSON of `object` without the applied-hash and
    /// rendered-revision annotations. Keys are written in the render's own (deterministic)
    /// order: a different order only costs the full removal check, never a wrong answer.
    static func configHash(_ object: Value) -> String {
        var v = object
        v.withObject { o in
            o.modify("metadata") { m in
                m?.withObject { mo in
                    mo.modify("annotations") { a in
                        a?.withObject { ao in
                            ao.removeValue(forKey: LabelKeys.appliedHash)
                            ao.removeValue(forKey: LabelKeys.revision)
                        }
                    }
                }
            }
        }
        var bytes: [UInt8] = []
        bytes.reserveCapacity(1024)
        JSONWriter.write(v, into: &bytes)
        return String(SHA256.hex(bytes).prefix(16))
    }
}
