import PatternCore

/// Identity of a resource as Kustomize sees it: group, version, kind, name and namespace.
///
/// Unlike `ObjectKey`, the version is kept (Kustomize's field specs and selectors match on it)
/// and namespaces compare by their *effective* value (`""` and `"default"` are the same
/// namespace for namespaced kinds; cluster-scoped kinds have none).
public struct ResId: Sendable, Hashable, CustomStringConvertible {
    public var gvk: GroupVersionKind
    public var name: String
    public var namespace: String

    public init(gvk: GroupVersionKind, name: String, namespace: String) {
        self.gvk = gvk; self.name = name; self.namespace = namespace
    }

    public var isClusterScoped: Bool { KindTable.isClusterScoped(gvk.groupKind) }

    /// `"default"` for unset namespaces of namespaced kinds, a marker for cluster-scoped kinds.
    public var effectiveNamespace: String {
        if isClusterScoped { return "_non_namespaceable_" }
        return namespace.isEmpty ? "default" : namespace
    }

    public var objectKey: ObjectKey {
        ObjectKey(group: gvk.group, kind: gvk.kind, namespace: isClusterScoped ? "" : namespace, name: name)
    }

    public var description: String {
        let ns = namespace.isEmpty ? "" : "\(namespace)/"
        return "\(gvk.kind)\(gvk.group.isEmpty ? "" : "." + gvk.group) \(ns)\(name)"
    }
}

/// Which built-in generator made an object: `configuredBy` of its origin annotation.
struct GeneratorOrigin: Sendable, Hashable {
    var kind: String
    /// `metadata.name` of a `generators:` plugin configuration.
    var name: String?
}

/// How a generated ConfigMap/Secret combines with one of the same name from a base.
public enum GeneratorBehavior: String, Sendable { case create, merge, replace }

/// One object in a build, with the bookkeeping Kustomize keeps in its build annotations:
/// the original id, ids it had before renames, the name prefixes/suffixes applied, and
/// whether a content-hash suffix is still to be added.
struct KResource: Sendable {
    var value: Value
    /// The bookkeeping below lives in one copy-on-write box: a build copies resources often
    /// (index snapshots, sorting, accumulating bases), and a copy then retains two references
    /// instead of one per field.
    private var meta: Meta

    final class Meta: @unchecked Sendable {
        var file: String
        var orgId: ResId
        var prevIds: [ResId] = []
        var prefixes: [String] = []
        var suffixes: [String] = []
        var needsHashSuffix = false
        var behavior: GeneratorBehavior = .create
        var refVars: [String] = []
        var generatedBy: GeneratorOrigin?
        var transformations: [String] = []

        init(file: String, orgId: ResId) { self.file = file; self.orgId = orgId }

        func copy() -> Meta {
            let m = Meta(file: file, orgId: orgId)
            m.prevIds = prevIds; m.prefixes = prefixes; m.suffixes = suffixes; m.needsHashSuffix = needsHashSuffix
            m.behavior = behavior; m.refVars = refVars; m.generatedBy = generatedBy; m.transformations = transformations
            return m
        }
    }

    /// The box of bookkeeping, for keeping it past the build (`KeepUntilExit`).
    var bookkeeping: AnyObject { meta }

    /// Makes the box this resource's own before a change (a box shared by two copies is never written).
    private mutating func own() -> Meta {
        if !isKnownUniquelyReferenced(&meta) { meta = meta.copy() }
        return meta
    }

    /// File the object came from (or the kustomization that generated it).
    var file: String { get { meta.file } set { own().file = newValue } }
    var orgId: ResId { get { meta.orgId } set { own().orgId = newValue } }
    var prevIds: [ResId] {
        get { meta.prevIds }
        _modify { let m = own(); yield &m.prevIds }
    }
    var prefixes: [String] {
        get { meta.prefixes }
        _modify { let m = own(); yield &m.prefixes }
    }
    var suffixes: [String] {
        get { meta.suffixes }
        _modify { let m = own(); yield &m.suffixes }
    }
    var needsHashSuffix: Bool { get { meta.needsHashSuffix } set { own().needsHashSuffix = newValue } }
    var behavior: GeneratorBehavior { get { meta.behavior } set { own().behavior = newValue } }
    /// Names of `vars` bound to this object.
    var refVars: [String] {
        get { meta.refVars }
        _modify { let m = own(); yield &m.refVars }
    }
    /// The generator that made this object (for `buildMetadata: [originAnnotations]`).
    var generatedBy: GeneratorOrigin? { get { meta.generatedBy } set { own().generatedBy = newValue } }
    /// `buildMetadata: [transformerAnnotations]`: one rendered list entry per transformer
    /// that ran over this object, in order.
    var transformations: [String] {
        get { meta.transformations }
        _modify { let m = own(); yield &m.transformations }
    }

    init(value: Value, file: String) {
        self.value = value
        self.meta = Meta(file: file, orgId: KResource.id(of: value))
    }

    static func id(of v: Value) -> ResId {
        guard case .object(let o) = v.kind else { return ResId(gvk: GroupVersionKind(group: "", version: "", kind: ""), name: "", namespace: "") }
        // Fields read in place (`string(at:)`, `object(at:)`): this runs several times per object.
        let kind = o.string(at: "kind")
        // Kustomize accepts a resource with `kind` and no `apiVersion` (empty group and version).
        let gvk = o.string(at: "apiVersion").flatMap { a in kind.map { GroupVersionKind(apiVersion: a, kind: $0) } }
            ?? GroupVersionKind(group: "", version: "", kind: kind ?? "")
        // metadata is looked up once for both fields.
        guard let m = o.object(at: "metadata") else { return ResId(gvk: gvk, name: "", namespace: "") }
        return ResId(gvk: gvk, name: m.string(at: "name") ?? "", namespace: m.string(at: "namespace") ?? "")
    }

    var curId: ResId { KResource.id(of: value) }
    var name: String { value.metadataName ?? "" }
    var namespace: String { value.metadataNamespace ?? "" }
    var kind: String { value.kindName ?? "" }

    mutating func setName(_ n: String) { value[path: ["metadata", "name"]] = .string(n) }
    mutating func setNamespace(_ n: String) { value[path: ["metadata", "namespace"]] = .string(n) }

    /// Records the current id before a rename (Kustomize's `StorePreviousId`).
    mutating func storePreviousId() { let id = curId; own().prevIds.append(id) }

    var location: SourceLocation { SourceLocation(file: file, mark: value.mark) }

    /// Kustomize's `PrefixesSuffixesEquals`: the shorter list of prefixes (suffixes) is the
    /// tail of the longer one.
    /// With `allowEmpty`, an object without prefixes (suffixes) matches any prefixes (suffixes).
    func prefixesSuffixesEqual(_ o: KResource, allowEmpty: Bool = false) -> Bool {
        if allowEmpty {
            let p = prefixes.isEmpty || o.prefixes.isEmpty || KResource.sameEnding(prefixes, o.prefixes)
            let s = suffixes.isEmpty || o.suffixes.isEmpty || KResource.sameEnding(suffixes, o.suffixes)
            return p && s
        }
        return KResource.sameEnding(prefixes, o.prefixes) && KResource.sameEnding(suffixes, o.suffixes)
    }

    static func sameEnding(_ a: [String], _ b: [String]) -> Bool {
        var short = a, long = b
        if short.count > long.count { swap(&short, &long) }
        let diff = long.count - short.count
        if short.isEmpty { return diff == 0 }
        for i in short.indices where long[i + diff] != short[i] { return false }
        return true
    }
}

/// Finds objects by any name they have had (current, original or previous), by kind and name.
struct AnyIdIndex {
    private struct KindNameFields: Hashable, Sendable {
        var kind: String
        var name: String
    }
    /// Hashed once where made (on all cores), so building the index hashes one word per entry.
    private typealias KindName = Prehashed<KindNameFields>
    private static func kindName(_ kind: String, _ name: String) -> KindName { KindName(KindNameFields(kind: kind, name: name)) }
    private var byKindName: [KindName: [Int]] = [:]

    init(_ m: ResMap) {
        // Each distinct (kind, name) an object has had, once; worked out on all cores.
        let names = ParallelMap.map(m.items) { r -> [KindName] in
            var added = [AnyIdIndex.kindName(r.kind, r.name)]
            func add(_ k: KindName) { if !added.contains(k) { added.append(k) } }
            add(AnyIdIndex.kindName(r.orgId.gvk.kind, r.orgId.name))
            for p in r.prevIds { add(AnyIdIndex.kindName(p.gvk.kind, p.name)) }
            return added
        }
        byKindName.reserveCapacity(m.items.count)
        for (i, list) in names.enumerated() {
            for k in list { byKindName[k, default: []].append(i) }
        }
    }

    func indices(matchingAnyId id: ResId, in m: ResMap) -> [Int] {
        (byKindName[AnyIdIndex.kindName(id.gvk.kind, id.name)] ?? []).filter { ResMap.matchesAnyId(m.items[$0], id) }
    }
}

/// The ordered set of resources being built, indexed by current identity.
struct ResMap: Sendable {
    var items: [KResource] = []
    /// Field specs in force (Kustomize's accumulator carries its `TransformerConfig` too).
    var config = TransformerConfig.builtin
    /// `vars` declared so far (resolved at the end of the top-level build).
    var vars: [VarSpec] = []
    /// The schema strategic merge uses (`openapi:`), chosen once per build.
    var openAPI = OpenAPIState.unset
    /// The top-level directory when `buildMetadata: [transformerAnnotations]` is on (then every
    /// transformer is recorded on every object it ran over), else nil.
    var transformationsRoot: TreePath?

    /// Records that a transformer configured in `file` ran over every object (Kustomize's
    /// `AddTransformerAnnotation`, called after each transformer for the whole accumulator).
    mutating func noteTransformer(_ kind: String, configuredIn file: String, name: String? = nil, namespace: String? = nil,
                                  times: Int = 1) {
        guard let root = transformationsRoot, times > 0 else { return }
        var entry = "- configuredIn: \(KustomizeBuilder.relativePath(file, from: root.string))\n  configuredBy:\n"
        entry += "    apiVersion: builtin\n    kind: \(kind)\n"
        if let name, !name.isEmpty { entry += "    name: \(name)\n" }
        if let namespace, !namespace.isEmpty { entry += "    namespace: \(namespace)\n" }
        for i in items.indices {
            for _ in 0..<times { items[i].transformations.append(entry) }
        }
    }

    var count: Int { items.count }

    /// Current-identity index of all objects, for linear-time appends.
    func keyIndex() -> [Key: Int] {
        var seen: [Key: Int] = [:]
        guard !items.isEmpty else { return seen }
        seen.reserveCapacity(items.count * 2)
        for (i, k) in ParallelMap.map(items, { Self.key($0.curId) }).enumerated() { seen[k] = i }
        return seen
    }

    /// Appends, refusing a second object with the same identity (as Kustomize does).
    /// `seen` must be this map's `keyIndex()`, kept up to date by the caller's appends.
    mutating func append(_ r: KResource, seen: inout [Key: Int]) throws(Diagnostic) {
        try append(r, key: Self.key(r.curId), seen: &seen)
    }

    /// `append(_:seen:)` with `r`'s identity key already worked out (`ResMap.key(r.curId)`).
    mutating func append(_ r: KResource, key k: Key, seen: inout [Key: Int]) throws(Diagnostic) {
        if let i = seen[k] {
            throw Diagnostic.error(
                "may not add resource with an already registered id: \(r.curId)",
                at: r.location,
                fix: "remove one of the two definitions, or give them different names/namespaces",
                related: [items[i].location])
        }
        seen[k] = items.count
        items.append(r)
    }

    /// Appends `rs` in order as `append(_:seen:)` does, their keys worked out on all cores.
    mutating func append(contentsOf rs: [KResource], seen: inout [Key: Int]) throws(Diagnostic) {
        let keys = ParallelMap.map(rs) { ResMap.key($0.curId) }
        seen.reserveCapacity(seen.count + rs.count)
        items.reserveCapacity(items.count + rs.count)
        for i in rs.indices { try append(rs[i], key: keys[i], seen: &seen) }
    }

    mutating func append(_ r: KResource) throws(Diagnostic) {
        var seen = keyIndex()
        try append(r, seen: &seen)
    }

    /// What makes two objects the same in a build: group, version, kind, effective namespace
    /// and name.
    struct KeyFields: Hashable, Sendable {
        var gvk: GroupVersionKind
        var namespace: String
        var name: String
    }
    /// The five strings are hashed once, where the key is made (keys are made on all cores),
    /// so the serial appends into `seen` only hash one word.
    typealias Key = Prehashed<KeyFields>

    static func key(_ id: ResId) -> Key { Key(KeyFields(gvk: id.gvk, namespace: id.effectiveNamespace, name: id.name)) }

    /// Resources whose current or any previous id has `id`'s name, kind and effective namespace.
    func indices(matchingAnyId id: ResId) -> [Int] {
        items.indices.filter { Self.matchesAnyId(items[$0], id) }
    }

    static func matchesAnyId(_ r: KResource, _ id: ResId) -> Bool {
        idMatches(r.curId, id) || r.prevIds.contains(where: { idMatches($0, id) }) || idMatches(r.orgId, id)
    }

    static func idMatches(_ a: ResId, _ sel: ResId) -> Bool {
        a.name == sel.name && a.effectiveNamespace == sel.effectiveNamespace && GvkSelector(sel.gvk).matches(a.gvk)
    }
}

/// Group/version/kind selector where empty fields match anything (Kustomize `Gvk.IsSelected`).
public struct GvkSelector: Sendable, Hashable {
    public var group: String
    public var version: String
    public var kind: String

    public init(group: String = "", version: String = "", kind: String = "") {
        self.group = group; self.version = version; self.kind = kind
    }
    init(_ gvk: GroupVersionKind) { self.init(group: gvk.group, version: gvk.version, kind: gvk.kind) }

    public func matches(_ gvk: GroupVersionKind) -> Bool {
        (group.isEmpty || group == gvk.group) && (version.isEmpty || version == gvk.version) && (kind.isEmpty || kind == gvk.kind)
    }
}

/// A value hashed once, where it is made (often on all cores): a dictionary it keys then
/// hashes one word per insert or lookup; equality still compares the values themselves.
struct Prehashed<Base: Hashable & Sendable>: Hashable, Sendable {
    let base: Base
    private let hashWord: Int

    init(_ base: Base) {
        self.base = base
        var h = Hasher()
        h.combine(base)
        hashWord = h.finalize()
    }

    static func == (a: Prehashed, b: Prehashed) -> Bool { a.hashWord == b.hashWord && a.base == b.base }

    func hash(into hasher: inout Hasher) { hasher.combine(hashWord) }
}
