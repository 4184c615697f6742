import Foundation
import PatternCore
import Synchronization

/// A watch event as the server sends it.
public struct WatchEvent: Sendable {
    public var type: String
    public var object: Value
    public var json: Value { ["type": .string(type), "object": object] }
}

/// The object store of the test API server: every resource by group/resource/namespace/name,
/// a global resourceVersion counter, a bounded event history for watches, and the write
/// pipeline (defaulting, validation, server-side apply field management, generation).
///
/// Thread-safe; tests may call it directly (`server.store.get(…)`, `server.store.setStatus(…)`).
///
/// Concurrency: all state sits behind one non-reentrant `Mutex`. A write operation runs whole
/// under it (a read-modify-write never loses a concurrent write; the real server retries on
/// resourceVersion instead), on the state passed `inout` to internal functions. What a write
/// sets off — the `afterWrite` hook (simulated controllers), establishing a created CRD, the
/// garbage collector's cascade, delayed finalization — is queued as an `Effect` and run after
/// the lock is released, where it may write again through the public verbs; the verb that
/// caused it returns only after its effects ran.
public final class ObjectStore: Sendable {
    /// Everything the store holds.
    struct State {
        var rv = 1000
        var resourcesByPath: [String: ResourceInfo] = [:]   // "group/version/resource"
        var resourcesByKind: [GroupKind: ResourceInfo] = [:]
        var customResources: [String: [ResourceInfo]] = [:]  // CRD name → resources
        var objects: [GroupResource: [String: Value]] = [:]
        var history: [(rv: Int, gr: GroupResource, event: WatchEvent, old: Value?)] = []
        /// Watches may start at any resourceVersion ≥ this one.
        var oldestWatchableRV = 1000
        var historyLimit = 10_000
        var watchers: [Int: Watcher] = [:]
        var nextWatcherID = 0
        var ipCounter = 10
        var afterWrite: (@Sendable (ResourceInfo, WatchEvent) -> Void)?
        var namespaceFinalizeDelay: Double = 0.5
        var foregroundDeletionDelay: Double = 0.5

        mutating func register(_ r: ResourceInfo) {
            resourcesByPath["\(r.group)/\(r.version)/\(r.resource)"] = r
            if r.group != "autoscaling" || r.version == "v2" || resourcesByKind[GroupKind(group: r.group, kind: r.kind)] == nil {
                resourcesByKind[GroupKind(group: r.group, kind: r.kind)] = r
            }
        }

        func namespaceExists(_ ns: String) -> Value? {
            objects[GroupResource(group: "", resource: "namespaces")]?[ns]
        }
    }

    /// What a write leaves to do after the lock is released (see the type's comment).
    enum Effect: Sendable {
        /// The `afterWrite` hook for a stored event.
        case written(ResourceInfo, WatchEvent)
        /// A CRD was created: the apiextensions controllers establish it.
        case establish(Value)
        /// The garbage collector deletes (or orphans) the owner's dependents.
        case collect(owner: Value, orphan: Bool)
        /// Work a controller does later (namespace finalization, foreground deletion).
        case later(Double, @Sendable () -> Void)
    }

    private let state: Mutex<State>

    public init() {
        var s = State()
        for r in BuiltinResources.all { s.register(r) }
        state = Mutex(s)
    }

    /// Runs a write under the lock, then its effects.
    private func write<R: Sendable>(_ body: (inout State, inout [Effect]) throws(APIError) -> R) throws(APIError) -> R {
        var effects: [Effect] = []
        defer { run(effects) }
        return try state.withLock { (s: inout State) throws(APIError) -> R in try body(&s, &effects) }
    }

    private func run(_ effects: [Effect]) {
        for e in effects {
            switch e {
            case .written(let info, let ev):
                if let hook = state.withLock({ $0.afterWrite }) { hook(info, ev) }
            case .establish(let crd): establish(crd)
            case .collect(let owner, let orphan): collectDependents(of: owner, orphan: orphan)
            case .later(let seconds, let work): schedule(after: seconds, work)
            }
        }
    }

    /// Watch events kept for watches from an older resourceVersion.
    public var historyLimit: Int {
        get { state.withLock { $0.historyLimit } }
        set { state.withLock { $0.historyLimit = newValue } }
    }
    /// Called after every stored write, outside the lock (hooks may write again): simulated
    /// controllers hook here.
    var afterWrite: (@Sendable (ResourceInfo, WatchEvent) -> Void)? {
        get { state.withLock { $0.afterWrite } }
        set { state.withLock { $0.afterWrite = newValue } }
    }
    var namespaceFinalizeDelay: Double {
        get { state.withLock { $0.namespaceFinalizeDelay } }
        set { state.withLock { $0.namespaceFinalizeDelay = newValue } }
    }
    var foregroundDeletionDelay: Double {
        get { state.withLock { $0.foregroundDeletionDelay } }
        set { state.withLock { $0.foregroundDeletionDelay = newValue } }
    }

    // MARK: Resources

    /// The resource served at group/version/resource, if any.
    public func resource(group: String, version: String, resource: String) -> ResourceInfo? {
        state.withLock { $0.resourcesByPath["\(group)/\(version)/\(resource)"] }
    }

    public func resource(for gk: GroupKind) -> ResourceInfo? {
        state.withLock { $0.resourcesByKind[gk] }
    }

    /// All served resources (built-in and from established CRDs).
    public var resources: [ResourceInfo] {
        state.withLock { Array($0.resourcesByPath.values) }
    }

    // MARK: Reading

    /// The current global resourceVersion.
    public var currentResourceVersion: String { state.withLock { String($0.rv) } }

    static func key(_ ns: String, _ name: String) -> String { ns.isEmpty ? name : "\(ns)/\(name)" }

    /// An object as stored (nil when absent). `group` is "" for the core group.
    public func get(group: String = "", resource: String, namespace: String = "", name: String) -> Value? {
        state.withLock { $0.objects[GroupResource(group: group, resource: resource)]?[ObjectStore.key(namespace, name)] }
    }

    /// Every stored object of a resource, sorted by namespace/name.
    public func list(group: String = "", resource: String, namespace: String? = nil) -> [Value] {
        let all = state.withLock { $0.objects[GroupResource(group: group, resource: resource)] ?? [:] }
        return all.keys.sorted().compactMap { k in
            let v = all[k]!
            if let namespace, (v.metadataNamespace ?? "") != namespace { return nil }
            return v
        }
    }

    /// Number of objects stored (all resources).
    public var count: Int { state.withLock { $0.objects.values.reduce(0) { $0 + $1.count } } }

    // MARK: Seeding and test hooks

    /// Stores an object as if a client had created it (manager `seed`, operation Update).
    @discardableResult
    public func seed(_ object: Value, manager: String = "seed") throws -> Value {
        guard let gvk = object.gvk, let info = resource(for: gvk.groupKind) else {
            throw APIError.badRequest("seed: unknown kind in \(object)")
        }
        let ns = info.namespaced ? (object.metadataNamespace ?? "default") : ""
        if info.namespaced, state.withLock({ $0.namespaceExists(ns) }) == nil {
            _ = try create(resourceInfo(forGroup: "", resource: "namespaces"), namespace: "", body: ["apiVersion": "v1", "kind": "Namespace", "metadata": ["name": .string(ns)]], manager: manager, dryRun: false)
        }
        return try create(info, namespace: ns, body: object, manager: manager, dryRun: false)
    }

    /// The served resource for group + plural name (any version), if any.
    public func resource(group g: String, resource r: String) -> ResourceInfo? {
        state.withLock { s in s.resourcesByPath.values.filter { $0.group == g && $0.resource == r }
            .max { ResourceVersionOrder.priority($0.version) < ResourceVersionOrder.priority($1.version) } }
    }

    func resourceInfo(forGroup g: String, resource r: String) -> ResourceInfo {
        state.withLock { s in s.resourcesByPath.values.first { $0.group == g && $0.resource == r }! }
    }

    /// Replaces `status` as a controller would (an Update on the status subresource by
    /// `manager`), bumping resourceVersion and emitting MODIFIED.
    @discardableResult
    public func setStatus(group: String = "", resource: String, namespace: String = "", name: String, status: Value,
                          manager: String = "kube-controller-manager", metadataChanges: ((inout Value) -> Void)? = nil) throws -> Value {
        guard let info = self.resource(group: group, resource: resource) else {
            throw APIError(code: 404, reason: "NotFound", message: "the server could not find the requested resource (\(GroupResource(group: group, resource: resource)))")
        }
        return try update(info, namespace: namespace, name: name, manager: manager, subresource: "status", dryRun: false, precondition: nil) { old in
            var n = old
            n["status"] = status
            metadataChanges?(&n)
            return n
        }
    }

    /// The oldest resourceVersion still in the history (watches and continue tokens from before it get 410).
    var oldestResourceVersion: Int { state.withLock { $0.oldestWatchableRV } }

    /// Drops the watch history: watches from any earlier resourceVersion get 410 Expired.
    public func compactHistory() {
        state.withLock { s in
            s.history.removeAll()
            s.oldestWatchableRV = s.rv
        }
    }

    // MARK: Write pipeline

    private func now() -> String { Clock.rfc3339() }

    func schema(_ st: inout State, for info: ResourceInfo) -> MergeSchema {
        var s = MergeSchema(group: info.group, kind: info.kind, crdSchema: nil)
        if info.isCustom {
            let crd = st.objects[GroupResource(group: "apiextensions.k8s.io", resource: "customresourcedefinitions")]?["\(info.resource).\(info.group)"]
            if let versions = crd?[path: ["spec", "versions"]]?.array,
               let v = versions.first(where: { $0["name"]?.string == info.version }) {
                s.crdSchema = v[path: ["schema", "openAPIV3Schema"]] ?? ["type": "object", "x-kubernetes-preserve-unknown-fields": true]
            } else {
                s.crdSchema = ["type": "object", "x-kubernetes-preserve-unknown-fields": true]
            }
        }
        return s
    }

    static let systemMetadata: Set<String> = ["name", "namespace", "uid", "resourceVersion", "generation", "creationTimestamp",
                                              "managedFields", "selfLink", "deletionTimestamp", "deletionGracePeriodSeconds"]

    /// The part of an object field management looks at.
    func stripped(_ v: Value, info: ResourceInfo, subresource: String) -> Value {
        var o = v.object ?? Object()
        o.removeValue(forKey: "apiVersion")
        o.removeValue(forKey: "kind")
        if var md = o["metadata"]?.object {
            for k in ObjectStore.systemMetadata { md.removeValue(forKey: k) }
            o.set("metadata", .object(md))
        }
        if subresource == "status" {
            o = o.filter { k, _ in k == "status" || k == "metadata" }
        } else if info.hasStatus {
            o.removeValue(forKey: "status")
        }
        return .object(o)
    }

    /// Metadata in the order the real server writes it, other top-level keys after.
    static func canonicalOrder(_ v: Value, info: ResourceInfo) -> Value {
        guard let o = v.object else { return v }
        var out = Object()
        out.append("kind", .string(info.kind))
        out.append("apiVersion", .string(info.apiVersion))
        if let md = o["metadata"]?.object {
            var m = Object()
            let order = ["name", "generateName", "namespace", "selfLink", "uid", "resourceVersion", "generation", "creationTimestamp",
                         "deletionTimestamp", "deletionGracePeriodSeconds", "labels", "annotations", "ownerReferences", "finalizers", "managedFields"]
            for k in order { if let x = md[k] { m.append(k, x) } }
            for (k, x) in md where !order.contains(k) { m.append(k, x) }
            out.append("metadata", .object(m))
        }
        for (k, x) in o where k != "kind" && k != "apiVersion" && k != "metadata" && k != "status" { out.append(k, x) }
        if let s = o["status"] { out.append("status", s) }
        return .object(out)
    }

    /// What bumps `generation`: everything but metadata (and status, when it is a subresource).
    func specPart(_ v: Value?, _ info: ResourceInfo) -> Value {
        guard let o = v?.object else { return .null }
        return .object(o.filter { k, _ in !["metadata", "apiVersion", "kind"].contains(k) && !(k == "status" && info.hasStatus) })
    }

    static func randomSuffix() -> String {
        let alphabet = Array("bcdfghjklmnpqrstvwxz2456789")
        return String((0..<5).map { _ in alphabet.randomElement()! })
    }

    /// Finishes a write: strategy fill, system metadata, generation, managedFields; stores it
    /// unless dry-run or a no-op. Returns the object and whether anything was written.
    private func finish(_ s: inout State, _ info: ResourceInfo, namespace: String, old: Value?, new newIn: Value, entries: [ManagedFieldsEntry],
                        dryRun: Bool, expectedResourceVersion: String? = nil, effects: inout [Effect]) throws(APIError) -> (Value, Bool) {
        var new = newIn
        let name = new.metadataName ?? ""
        if info.isCustom, let schema = schema(&s, for: info).crdSchema { MergeSchema.pruneUnknown(&new, schema, isRoot: true) }
        let uid = old?[path: ["metadata", "uid"]]?.string ?? UUID().uuidString.lowercased()
        new[path: ["metadata", "uid"]] = .string(uid)
        Defaults.strategyFill(&new, old: old, group: info.group, kind: info.kind) { ObjectStore.allocateIP(&s) }
        var md = new["metadata"]?.object ?? Object()
        md.set("name", .string(name))
        if info.namespaced { md.set("namespace", .string(namespace)) } else { md.removeValue(forKey: "namespace") }
        if let old {
            for k in ["uid", "creationTimestamp", "deletionTimestamp", "deletionGracePeriodSeconds"] {
                if let x = old[path: ["metadata", k]] { md.set(k, x) } else { md.removeValue(forKey: k) }
            }
            if info.hasGeneration {
                var g = old[path: ["metadata", "generation"]]?.int ?? 1
                if specPart(old, info) != specPart(new, info) { g += 1 }
                md.set("generation", .int(g))
            }
        } else {
            md.set("uid", .string(uid))
            md.set("creationTimestamp", .string(now()))
            if info.hasGeneration { md.set("generation", 1) }
            for k in ["deletionTimestamp", "deletionGracePeriodSeconds", "resourceVersion"] { md.removeValue(forKey: k) }
        }
        let encoded = ManagedFieldsEntry.encode(entries)
        if encoded.array?.isEmpty ?? true { md.removeValue(forKey: "managedFields") } else { md.set("managedFields", encoded) }
        if let old, let orv = old[path: ["metadata", "resourceVersion"]] { md.set("resourceVersion", orv) }
        new["metadata"] = .object(md)
        new = ObjectStore.canonicalOrder(new, info: info)
        if old == nil {
            let causes = Defaults.validate(new, info: info)
            if !causes.isEmpty { throw APIError.invalid(info, name, causes) }
        }
        if let old, old == new { return (old, false) }
        if let old {
            let causes = Defaults.validateUpdate(old: old, new: new, info: info)
            if !causes.isEmpty { throw APIError.invalid(info, name, causes) }
        }
        // Finalizers emptied on an object being deleted: it goes away now.
        if let old, old[path: ["metadata", "deletionTimestamp"]] != nil, (new[path: ["metadata", "finalizers"]]?.array ?? []).isEmpty {
            if dryRun { return (new, false) }
            s.rv += 1
            new[path: ["metadata", "resourceVersion"]] = .string(String(s.rv))
            s.objects[info.groupResource]?[ObjectStore.key(namespace, name)] = nil
            let ev = WatchEvent(type: "DELETED", object: new)
            record(&s, info, ev, old: old)
            effects.append(.written(info, ev))
            return (new, true)
        }
        if dryRun { return (new, false) }
        // A conditional update (client-sent resourceVersion) is atomic: another write since
        // this one read the object is a conflict, as on a real API server.
        if let expected = expectedResourceVersion,
           s.objects[info.groupResource]?[ObjectStore.key(namespace, name)]?[path: ["metadata", "resourceVersion"]]?.string != expected {
            throw APIError.conflict(info, name)
        }
        s.rv += 1
        new[path: ["metadata", "resourceVersion"]] = .string(String(s.rv))
        s.objects[info.groupResource, default: [:]][ObjectStore.key(namespace, name)] = new
        let ev = WatchEvent(type: old == nil ? "ADDED" : "MODIFIED", object: new)
        record(&s, info, ev, old: old)
        effects.append(.written(info, ev))
        return (new, true)
    }

    private static func allocateIP(_ s: inout State) -> String {
        s.ipCounter += 1
        return "10.96.\(s.ipCounter / 250).\(s.ipCounter % 250 + 1)"
    }

    private func checkNamespace(_ s: inout State, _ info: ResourceInfo, _ namespace: String, creating name: String) throws(APIError) {
        guard info.namespaced else { return }
        let ns = s.namespaceExists(namespace)
        guard let ns else { throw APIError.namespaceNotFound(namespace) }
        if ns[path: ["metadata", "deletionTimestamp"]] != nil {
            throw APIError(code: 403, reason: "Forbidden",
                           message: "\(info.qualifiedResource) \"\(name)\" is forbidden: unable to create new content in namespace \(namespace) because it is being terminated",
                           details: APIError.details(name: name, group: info.group, kind: info.resource,
                                                     causes: [["reason": "NamespaceTerminating", "message": .string("namespace \(namespace) is being terminated"), "field": "metadata.namespace"]]))
        }
    }

    /// Managed fields after an Update operation by `manager` (structured-merge-diff `Update`).
    func updateEntries(_ s: inout State, _ entries: [ManagedFieldsEntry], old: Value?, new: Value, info: ResourceInfo, manager: String,
                       subresource: String, apiVersion: String) -> [ManagedFieldsEntry] {
        let schema = schema(&s, for: info)
        let cmp = schema.compare(old.map { stripped($0, info: info, subresource: subresource) }, stripped(new, info: info, subresource: subresource))
        let changed = cmp.changed
        var out: [ManagedFieldsEntry] = []
        var mine = ManagedFieldsEntry(manager: manager, operation: "Update", apiVersion: apiVersion, time: now(), subresource: subresource, fields: FieldSet())
        var hadMine = false
        for var e in entries {
            if e.manager == manager && e.operation == "Update" && e.subresource == subresource {
                mine.fields = e.fields
                mine.time = e.time
                hadMine = true
                continue
            }
            e.fields = e.fields.difference(changed).difference(cmp.removed)
            out.append(e)
        }
        let newFields = mine.fields.union(changed).difference(cmp.removed)
        if subresource == "scale" {
            // The scale subresource's field manager maps the Scale's replicas back onto the
            // parent and copies the parent entry's time, which a scale entry never has: the
            // real server writes no time on it (ScaleHandler.ToParent).
            mine.time = ""
        } else if newFields != mine.fields || !hadMine || !(changed.isEmpty && cmp.removed.isEmpty) {
            mine.time = now()
        }
        mine.fields = newFields
        mine.apiVersion = apiVersion
        out.append(mine)
        return out
    }

    /// What an empty object of the kind looks like to field management on create: typed Go
    /// objects have their non-pointer structs (metadata, spec, pod template parts) present,
    /// so creating them is not an "added" entry (no `.` in managedFields for them).
    static func emptyTyped(_ new: Value, _ info: ResourceInfo) -> Value {
        var o: Value = ["metadata": .emptyObject]
        if info.isCustom { return o }
        if new["spec"] != nil { o["spec"] = .emptyObject }
        // `containers` has no omitempty: the typed empty object holds null there (present, so
        // no `.` entry for it); omitempty maps and lists (labels, ports, data) are absent.
        if new[path: ["spec", "template"]] != nil { o[path: ["spec", "template"]] = ["metadata": .emptyObject, "spec": ["containers": .null]] }
        if info.kind == "Pod", new["spec"] != nil { o["spec"] = ["containers": .null] }
        if new[path: ["spec", "strategy"]] != nil, info.kind == "Deployment" { o[path: ["spec", "strategy"]] = .emptyObject }
        if new["status"] != nil, !info.hasStatus { o["status"] = .emptyObject }
        return o
    }

    // MARK: Verbs

    /// POST: creates an object (Update operation by `manager`).
    func strictCheck(_ s: inout State, _ info: ResourceInfo, _ body: Value) throws(APIError) {
        guard info.isCustom, let schema = schema(&s, for: info).crdSchema else { return }
        let unknown = MergeSchema.unknownFields(body, schema)
        if !unknown.isEmpty {
            throw APIError.badRequest("strict decoding error: " + unknown.map { "unknown field \"\($0)\"" }.joined(separator: ", "))
        }
    }

    public func create(_ info: ResourceInfo, namespace: String, body bodyIn: Value, manager: String, dryRun: Bool,
                       strictFields: Bool = false) throws(APIError) -> Value {
        try write { (s, effects) throws(APIError) in
            try create(&s, info, namespace: namespace, body: bodyIn, manager: manager, dryRun: dryRun, strictFields: strictFields, effects: &effects)
        }
    }

    private func create(_ s: inout State, _ info: ResourceInfo, namespace: String, body bodyIn: Value, manager: String, dryRun: Bool,
                        strictFields: Bool, effects: inout [Effect]) throws(APIError) -> Value {
        var body = bodyIn
        guard body.object != nil else { throw APIError.badRequest("the body of the request was not a JSON object") }
        try checkKind(body, info)
        if strictFields { try strictCheck(&s, info, body) }
        Defaults.stripRenderOnly(&body)
        if let bns = body.metadataNamespace, info.namespaced, !bns.isEmpty, bns != namespace {
            throw APIError.badRequest("the namespace of the provided object does not match the namespace sent on the request")
        }
        var name = body.metadataName ?? ""
        if name.isEmpty, let gen = body[path: ["metadata", "generateName"]]?.string {
            name = gen + ObjectStore.randomSuffix()
            body[path: ["metadata", "name"]] = .string(name)
        }
        if !name.isEmpty {
            let causes = Defaults.validate(body, info: info)
            if !causes.isEmpty { throw APIError.invalid(info, name, causes) }
        }
        try checkNamespace(&s, info, namespace, creating: name)
        let exists = s.objects[info.groupResource]?[ObjectStore.key(namespace, name)] != nil
        if exists { throw APIError.alreadyExists(info, name) }
        if info.hasStatus { body["status"] = nil }
        body[path: ["metadata", "managedFields"]] = nil
        Defaults.decodeDefaults(&body, group: info.group, kind: info.kind)
        body[path: ["metadata", "namespace"]] = info.namespaced ? .string(namespace) : nil
        let entries = updateEntries(&s, [], old: ObjectStore.emptyTyped(body, info), new: body, info: info, manager: manager, subresource: "", apiVersion: info.apiVersion)
        let (obj, _) = try finish(&s, info, namespace: namespace, old: nil, new: body, entries: entries, dryRun: dryRun, effects: &effects)
        if !dryRun { afterCreate(info, obj, &effects) }
        return obj
    }

    func checkKind(_ body: Value, _ info: ResourceInfo) throws(APIError) {
        if let k = body.kindName, k != info.kind {
            throw APIError.badRequest("the API version in the data (\(body.apiVersion ?? "")) does not match the expected API version (\(info.apiVersion))")
        }
        if let av = body.apiVersion {
            let g = GroupVersionKind(apiVersion: av, kind: "").group
            if g != info.group { throw APIError.badRequest("the API version in the data (\(av)) does not match the expected API version (\(info.apiVersion))") }
        }
    }

    /// Read-modify-write with an Update operation (PUT, JSON/merge/strategic patch, status).
    public func update(_ info: ResourceInfo, namespace: String, name: String, manager: String, subresource: String = "", dryRun: Bool,
                       precondition: String?, strictFields: Bool = false, mutate: (Value) throws(APIError) -> Value) throws(APIError) -> Value {
        try write { (s, effects) throws(APIError) in
            try update(&s, info, namespace: namespace, name: name, manager: manager, subresource: subresource, dryRun: dryRun,
                       precondition: precondition, strictFields: strictFields, mutate: mutate, effects: &effects)
        }
    }

    private func update(_ s: inout State, _ info: ResourceInfo, namespace: String, name: String, manager: String, subresource: String, dryRun: Bool,
                        precondition: String?, strictFields: Bool, mutate: (Value) throws(APIError) -> Value,
                        effects: inout [Effect]) throws(APIError) -> Value {
        let old = s.objects[info.groupResource]?[ObjectStore.key(namespace, name)]
        guard let old else { throw APIError.notFound(info, name) }
        var new = try mutate(old)
        try checkKind(new, info)
        if strictFields { try strictCheck(&s, info, new) }
        Defaults.stripRenderOnly(&new)
        let conditional = new[path: ["metadata", "resourceVersion"]]?.string ?? precondition
        if let p = conditional, !p.isEmpty,
           p != old[path: ["metadata", "resourceVersion"]]?.string {
            throw APIError.conflict(info, name)
        }
        if let uid = new[path: ["metadata", "uid"]]?.string, uid != old[path: ["metadata", "uid"]]?.string {
            throw APIError.conflictPrecondition(info, name, "Precondition failed: UID in precondition: \(uid), UID in object meta: \(old[path: ["metadata", "uid"]]?.string ?? "")")
        }
        if let n = new.metadataName, n != name {
            throw APIError.badRequest("the name of the object (\(n)) does not match the name on the URL (\(name))")
        }
        new[path: ["metadata", "name"]] = .string(name)
        if subresource == "status" {
            // Only status (and metadata) change through /status.
            var s = old
            s["status"] = new["status"]
            if let md = new["metadata"] { s["metadata"] = md }
            new = s
        } else if info.hasStatus {
            new["status"] = old["status"]
        }
        var entries = ManagedFieldsEntry.decode(old)
        if let mf = new[path: ["metadata", "managedFields"]], mf != old[path: ["metadata", "managedFields"]] ?? .array([]) {
            entries = ManagedFieldsEntry.decode(new)
        }
        new[path: ["metadata", "managedFields"]] = nil
        Defaults.decodeDefaults(&new, group: info.group, kind: info.kind)
        let causes = Defaults.validate(new, info: info)
        if !causes.isEmpty { throw APIError.invalid(info, name, causes) }
        let gvAPI = new.apiVersion ?? info.apiVersion
        entries = updateEntries(&s, entries, old: old, new: new, info: info, manager: manager, subresource: subresource, apiVersion: gvAPI)
        let (obj, _) = try finish(&s, info, namespace: namespace, old: old, new: new, entries: entries, dryRun: dryRun,
                                  expectedResourceVersion: (conditional?.isEmpty ?? true) ? nil : conditional, effects: &effects)
        return obj
    }

    /// Server-side apply. Returns the object and whether it was created.
    public func apply(_ info: ResourceInfo, namespace: String, name: String, config configIn: Value, manager: String, force: Bool,
                      subresource: String = "", dryRun: Bool) throws(APIError) -> (Value, Bool) {
        try write { (s, effects) throws(APIError) in
            try apply(&s, info, namespace: namespace, name: name, config: configIn, manager: manager, force: force,
                      subresource: subresource, dryRun: dryRun, effects: &effects)
        }
    }

    private func apply(_ s: inout State, _ info: ResourceInfo, namespace: String, name: String, config configIn: Value, manager: String, force: Bool,
                       subresource: String, dryRun: Bool, effects: inout [Effect]) throws(APIError) -> (Value, Bool) {
        var config = configIn
        guard config.object != nil else { throw APIError.badRequest("error decoding YAML: the applied configuration is not an object") }
        guard let av = config.apiVersion, !av.isEmpty else { throw APIError.badRequest("invalid object type: /, Kind=") }
        guard let kind = config.kindName, !kind.isEmpty else { throw APIError.badRequest("Object 'Kind' is missing in '\(JSONWriter.string(config))'") }
        try checkKind(config, info)
        if let n = config.metadataName, n != name {
            throw APIError.badRequest("the name of the object (\(n)) does not match the name on the URL (\(name))")
        }
        if info.namespaced, let n = config.metadataNamespace, !n.isEmpty, n != namespace {
            throw APIError.badRequest("the namespace of the provided object does not match the namespace sent on the request")
        }
        if config[path: ["metadata", "managedFields"]] != nil {
            throw APIError.badRequest("metadata.managedFields must be nil")
        }
        let schema = schema(&s, for: info)
        if let e = schema.typeError(config) {
            throw APIError(code: 500, reason: "", message: "failed to create typed patch object (\(info.namespaced ? "\(namespace)/" : "")\(name); \(GroupVersionKind(apiVersion: av, kind: kind))): \(e)")
        }
        Defaults.stripRenderOnly(&config)
        Defaults.canonicalizeQuantities(&config)
        let old = s.objects[info.groupResource]?[ObjectStore.key(namespace, name)]
        if old == nil {
            try checkNamespace(&s, info, namespace, creating: name)
            let causes = Defaults.validateName(name, info: info)
            if !causes.isEmpty { throw APIError.invalid(info, name, causes) }
        }
        if let p = config[path: ["metadata", "resourceVersion"]]?.string, !p.isEmpty {
            if p != old?[path: ["metadata", "resourceVersion"]]?.string { throw APIError.conflict(info, name) }
        }
        // Drop what apply must not set: server metadata, and status (or spec) per subresource.
        config.withObject { o in
            o.modify("metadata") { md in
                guard var m = md?.object else { return }
                for k in ObjectStore.systemMetadata where k != "name" && k != "namespace" { m.removeValue(forKey: k) }
                md = .object(m)
            }
            if subresource == "status" {
                o = o.filter { k, _ in ["apiVersion", "kind", "metadata", "status"].contains(k) }
            } else if info.hasStatus {
                o.removeValue(forKey: "status")
            }
        }
        let base: Value = old ?? ["apiVersion": .string(av), "kind": .string(kind), "metadata": ["name": .string(name)]]
        var entries = ManagedFieldsEntry.decode(base)
        var strippedConfig = stripped(config, info: info, subresource: subresource)
        if strippedConfig["metadata"]?.object?.isEmpty == true { strippedConfig.withObject { $0.removeValue(forKey: "metadata") } }
        let newSet = schema.fieldSet(of: strippedConfig)
        let myIndex = entries.firstIndex { $0.manager == manager && $0.operation == "Apply" && $0.subresource == subresource }
        let lastSet = myIndex.map { entries[$0].fields }
        var merged = schema.merge(base, config) ?? base
        // Prune what this manager applied before, no longer applies, and nobody else owns.
        if let lastSet {
            var owned = newSet
            for (i, e) in entries.enumerated() where i != myIndex { owned = owned.union(e.fields) }
            let toRemove = lastSet.withNamedFieldsAsMembers().difference(owned.withNamedFieldsAsMembers())
            if !toRemove.isEmpty {
                var s = stripped(merged, info: info, subresource: subresource)
                schema.remove(toRemove, from: &s)
                // Put back what field management does not look at.
                var full = s
                for k in ["apiVersion", "kind"] { full[k] = merged[k] }
                var md = full["metadata"] ?? .emptyObject
                for k in ObjectStore.systemMetadata { if let x = merged[path: ["metadata", k]] { md[k] = x } }
                full["metadata"] = md
                if subresource == "status" {
                    for (k, x) in merged.object ?? Object() where k != "status" && k != "metadata" { full[k] = x }
                } else if info.hasStatus, let st = merged["status"] {
                    full["status"] = st
                }
                merged = full
            }
        }
        let cmp = schema.compare(stripped(base, info: info, subresource: subresource), stripped(merged, info: info, subresource: subresource))
        let changed = cmp.changed
        var conflicts: [(manager: ManagedFieldsEntry, path: [String])] = []
        for (i, e) in entries.enumerated() where i != myIndex {
            let c = e.fields.intersection(changed)
            for p in c.paths { conflicts.append((e, p)) }
        }
        if !conflicts.isEmpty && !force {
            conflicts.sort { ($0.manager.manager, $0.path.joined()) < ($1.manager.manager, $1.path.joined()) }
            throw APIError.applyConflict(conflicts)
        }
        var out: [ManagedFieldsEntry] = []
        for (i, var e) in entries.enumerated() where i != myIndex {
            e.fields = e.fields.difference(changed).difference(cmp.removed)
            out.append(e)
        }
        var mine = myIndex.map { entries[$0] } ?? ManagedFieldsEntry(manager: manager, operation: "Apply", apiVersion: av, time: now(), subresource: subresource, fields: FieldSet())
        if mine.fields != newSet || !changed.isEmpty || !cmp.removed.isEmpty || mine.apiVersion != av { mine.time = now() }
        mine.fields = newSet
        mine.apiVersion = av
        out.append(mine)
        entries = out
        Defaults.decodeDefaults(&merged, group: info.group, kind: info.kind)
        if let old {
            let causes = Defaults.validate(merged, info: info)
            if !causes.isEmpty { throw APIError.invalid(info, name, causes) }
            // A no-op keeps the stored object (and its resourceVersion) as it is.
            var probe = merged
            probe[path: ["metadata", "managedFields"]] = nil
            var oldProbe = old
            oldProbe[path: ["metadata", "managedFields"]] = nil
            let sameEntries = ManagedFieldsEntry.decode(old).map(\.fields) == ManagedFieldsEntry.decode(["metadata": ["managedFields": ManagedFieldsEntry.encode(entries)]]).map(\.fields)
            if sameEntries, stripped(probe, info: info, subresource: "") == stripped(oldProbe, info: info, subresource: ""),
               probe["status"] == oldProbe["status"] || subresource != "status" {
                return (old, false)
            }
        }
        let (obj, _) = try finish(&s, info, namespace: namespace, old: old, new: merged, entries: entries, dryRun: dryRun, effects: &effects)
        if old == nil && !dryRun { afterCreate(info, obj, &effects) }
        return (obj, old == nil)
    }

    /// DELETE. Returns the object when it stays (finalizers, foreground, namespaces), or nil
    /// with the deleted object's uid when it is gone.
    public func delete(_ info: ResourceInfo, namespace: String, name: String, propagation: String?, dryRun: Bool,
                       preconditionUID: String? = nil, preconditionRV: String? = nil) throws(APIError) -> (remaining: Value?, deleted: Value) {
        try write { (s, effects) throws(APIError) in
            try delete(&s, info, namespace: namespace, name: name, propagation: propagation, dryRun: dryRun,
                       preconditionUID: preconditionUID, preconditionRV: preconditionRV, effects: &effects)
        }
    }

    private func delete(_ s: inout State, _ info: ResourceInfo, namespace: String, name: String, propagation: String?, dryRun: Bool,
                        preconditionUID: String?, preconditionRV: String?, effects: inout [Effect]) throws(APIError) -> (remaining: Value?, deleted: Value) {
        let old = s.objects[info.groupResource]?[ObjectStore.key(namespace, name)]
        guard let old else { throw APIError.notFound(info, name) }
        if let u = preconditionUID, u != old[path: ["metadata", "uid"]]?.string {
            throw APIError.conflictPrecondition(info, name, "Precondition failed: UID in precondition: \(u), UID in object meta: \(old[path: ["metadata", "uid"]]?.string ?? "")")
        }
        if let r = preconditionRV, r != old[path: ["metadata", "resourceVersion"]]?.string {
            throw APIError.conflictPrecondition(info, name, "Precondition failed: ResourceVersion in precondition: \(r), ResourceVersion in object meta: \(old[path: ["metadata", "resourceVersion"]]?.string ?? "")")
        }
        var finalizers = old[path: ["metadata", "finalizers"]]?.array ?? []
        let isNamespace = info.group.isEmpty && info.resource == "namespaces"
        if old[path: ["metadata", "deletionTimestamp"]] != nil {
            return (old, old)  // already being deleted
        }
        if propagation == "Foreground" && !finalizers.contains("foregroundDeletion") { finalizers.append("foregroundDeletion") }
        if propagation == "Orphan" && !finalizers.contains("orphan") && hasDependents(&s, old) { finalizers.append("orphan") }
        if finalizers.isEmpty && !isNamespace {
            if dryRun { return (nil, old) }
            s.rv += 1
            var gone = old
            gone[path: ["metadata", "resourceVersion"]] = .string(String(s.rv))
            s.objects[info.groupResource]?[ObjectStore.key(namespace, name)] = nil
            let ev = WatchEvent(type: "DELETED", object: gone)
            record(&s, info, ev, old: old)
            effects.append(.written(info, ev))
            effects.append(.collect(owner: old, orphan: propagation == "Orphan"))
            return (nil, gone)
        }
        // Graceful: mark, keep, finish later.
        var marked = old
        marked[path: ["metadata", "deletionTimestamp"]] = .string(now())
        if !isNamespace { marked[path: ["metadata", "deletionGracePeriodSeconds"]] = 0 }
        if !finalizers.isEmpty { marked[path: ["metadata", "finalizers"]] = .array(finalizers) }
        if isNamespace { marked[path: ["status", "phase"]] = "Terminating" }
        if info.hasGeneration { marked[path: ["metadata", "generation"]] = .int((old[path: ["metadata", "generation"]]?.int ?? 1) + 1) }
        marked = ObjectStore.canonicalOrder(marked, info: info)
        if dryRun { return (marked, old) }
        s.rv += 1
        marked[path: ["metadata", "resourceVersion"]] = .string(String(s.rv))
        s.objects[info.groupResource]?[ObjectStore.key(namespace, name)] = marked
        let ev = WatchEvent(type: "MODIFIED", object: marked)
        record(&s, info, ev, old: old)
        effects.append(.written(info, ev))
        if isNamespace {
            effects.append(.later(s.namespaceFinalizeDelay) { [self] in finalizeNamespace(name) })
        } else if finalizers.allSatisfy({ $0.string == "foregroundDeletion" || $0.string == "orphan" }) {
            let orphan = finalizers.contains("orphan")
            let owner = marked
            effects.append(.later(s.foregroundDeletionDelay) { [self] in
                collectDependents(of: owner, orphan: orphan)
                removeSystemFinalizers(info, namespace: namespace, name: name)
            })
        }
        return (marked, old)
    }

    func schedule(after seconds: Double, _ work: @escaping @Sendable () -> Void) {
        DispatchQueue.global().asyncAfter(deadline: .now() + seconds, execute: work)
    }

    private func hasDependents(_ s: inout State, _ owner: Value) -> Bool {
        guard let uid = owner[path: ["metadata", "uid"]]?.string else { return false }
        for (_, objs) in s.objects {
            for (_, o) in objs where (o[path: ["metadata", "ownerReferences"]]?.array ?? []).contains(where: { $0["uid"]?.string == uid }) { return true }
        }
        return false
    }

    /// The garbage collector, cheaply: dependents (by ownerReferences uid) are deleted, or
    /// orphaned (owner reference removed).
    func collectDependents(of owner: Value, orphan: Bool) {
        guard let uid = owner[path: ["metadata", "uid"]]?.string else { return }
        let victims = state.withLock { s in
            var victims: [(ResourceInfo, String, String)] = []
            for (gr, objs) in s.objects {
                for (_, o) in objs where (o[path: ["metadata", "ownerReferences"]]?.array ?? []).contains(where: { $0["uid"]?.string == uid }) {
                    if let info = s.resourcesByPath.values.first(where: { $0.groupResource == gr }) {
                        victims.append((info, o.metadataNamespace ?? "", o.metadataName ?? ""))
                    }
                }
            }
            return victims
        }
        for (info, ns, name) in victims {
            if orphan {
                _ = try? update(info, namespace: ns, name: name, manager: "kube-controller-manager", dryRun: false, precondition: nil) { o in
                    var n = o
                    let refs = (o[path: ["metadata", "ownerReferences"]]?.array ?? []).filter { $0["uid"]?.string != uid }
                    n[path: ["metadata", "ownerReferences"]] = refs.isEmpty ? nil : .array(refs)
                    return n
                }
            } else {
                _ = try? delete(info, namespace: ns, name: name, propagation: "Background", dryRun: false)
            }
        }
    }

    private func removeSystemFinalizers(_ info: ResourceInfo, namespace: String, name: String) {
        _ = try? update(info, namespace: namespace, name: name, manager: "kube-controller-manager", dryRun: false, precondition: nil) { o in
            var n = o
            let f = (o[path: ["metadata", "finalizers"]]?.array ?? []).filter { $0.string != "foregroundDeletion" && $0.string != "orphan" }
            n[path: ["metadata", "finalizers"]] = f.isEmpty ? nil : .array(f)
            return n
        }
    }

    /// The namespace controller: delete everything in the namespace, then the namespace.
    func finalizeNamespace(_ ns: String) {
        let victims = state.withLock { s in
            var victims: [(ResourceInfo, String)] = []
            for (gr, objs) in s.objects {
                guard let info = s.resourcesByPath.values.first(where: { $0.groupResource == gr && $0.namespaced }) else { continue }
                for (_, o) in objs where o.metadataNamespace == ns { victims.append((info, o.metadataName ?? "")) }
            }
            return victims
        }
        for (info, name) in victims {
            _ = try? delete(info, namespace: ns, name: name, propagation: "Background", dryRun: false)
            removeAllFinalizers(info, namespace: ns, name: name)
        }
        let effects = state.withLock { s -> [Effect] in
            let nsInfo = s.resourcesByPath["/v1/namespaces"]!
            guard let old = s.objects[nsInfo.groupResource]?[ns] else { return [] }
            s.rv += 1
            var gone = old
            gone[path: ["metadata", "resourceVersion"]] = .string(String(s.rv))
            gone[path: ["spec", "finalizers"]] = nil
            s.objects[nsInfo.groupResource]?[ns] = nil
            let ev = WatchEvent(type: "DELETED", object: gone)
            record(&s, nsInfo, ev, old: old)
            return [.written(nsInfo, ev)]
        }
        run(effects)
    }

    private func removeAllFinalizers(_ info: ResourceInfo, namespace: String, name: String) {
        guard get(group: info.group, resource: info.resource, namespace: namespace, name: name) != nil else { return }
        _ = try? update(info, namespace: namespace, name: name, manager: "kube-controller-manager", dryRun: false, precondition: nil) { o in
            var n = o
            n[path: ["metadata", "finalizers"]] = nil
            return n
        }
    }

    // MARK: CRDs

    private func afterCreate(_ info: ResourceInfo, _ obj: Value, _ effects: inout [Effect]) {
        if info.group == "apiextensions.k8s.io" && info.resource == "customresourcedefinitions" {
            effects.append(.establish(obj))
        }
    }

    /// What the apiextensions controllers do right after a CRD is stored: accept names,
    /// mark Established, serve the resource.
    func establish(_ crd: Value) {
        guard let name = crd.metadataName, let spec = crd["spec"], let group = spec["group"]?.string,
              let names = spec["names"], let plural = names["plural"]?.string, let kind = names["kind"]?.string else { return }
        let namespaced = spec["scope"]?.string != "Cluster"
        var infos: [ResourceInfo] = []
        for v in spec["versions"]?.array ?? [] where v["served"]?.bool != false {
            guard let vn = v["name"]?.string else { continue }
            var subs: [String] = []
            if v[path: ["subresources", "status"]] != nil { subs.append("status") }
            if v[path: ["subresources", "scale"]] != nil { subs.append("scale") }
            infos.append(ResourceInfo(group: group, version: vn, resource: plural, kind: kind, singular: names["singular"]?.string ?? kind.lowercased(),
                                      namespaced: namespaced, shortNames: (names["shortNames"]?.array ?? []).compactMap(\.string),
                                      categories: (names["categories"]?.array ?? []).compactMap(\.string), verbs: ResourceInfo.customVerbs,
                                      subresources: subs, hasGeneration: true, isCustom: true))
        }
        state.withLock { s in
            for r in s.customResources[name] ?? [] { s.resourcesByPath["\(r.group)/\(r.version)/\(r.resource)"] = nil }
            s.customResources[name] = infos
            for r in infos { s.register(r) }
        }
        let t = now()
        var accepted = Object()
        for k in ["plural", "singular", "shortNames", "kind", "listKind", "categories"] { if let x = names[k] { accepted.append(k, x) } }
        if accepted["singular"] == nil { accepted["singular"] = .string(kind.lowercased()) }
        if accepted["listKind"] == nil { accepted["listKind"] = .string(kind + "List") }
        let status: Value = [
            "conditions": [
                ["type": "NamesAccepted", "status": "True", "lastTransitionTime": .string(t), "reason": "NoConflicts", "message": "no conflicts found"],
                ["type": "Established", "status": "True", "lastTransitionTime": .string(t), "reason": "InitialNamesAccepted", "message": "the initial names have been accepted"],
            ],
            "acceptedNames": .object(accepted),
            "storedVersions": .array((spec["versions"]?.array ?? []).filter { $0["storage"]?.bool == true }.compactMap { $0["name"] }),
        ]
        _ = try? setStatus(group: "apiextensions.k8s.io", resource: "customresourcedefinitions", name: name, status: status, manager: "Go-http-client")
    }

    func crdDeleted(_ crd: Value) {
        guard let name = crd.metadataName else { return }
        state.withLock { s in
            let infos = s.customResources[name] ?? []
            for r in infos { s.resourcesByPath["\(r.group)/\(r.version)/\(r.resource)"] = nil; s.resourcesByKind[GroupKind(group: r.group, kind: r.kind)] = nil }
            s.customResources[name] = nil
            if let r = infos.first { s.objects[r.groupResource] = nil }
        }
    }

    // MARK: Events and watches

    private func record(_ s: inout State, _ info: ResourceInfo, _ ev: WatchEvent, old: Value?) {
        s.history.append((s.rv, info.groupResource, ev, old))
        if s.history.count > s.historyLimit + s.historyLimit / 8 + 1 {
            let drop = s.history.count - s.historyLimit
            s.oldestWatchableRV = s.history[drop - 1].rv
            s.history.removeFirst(drop)
        }
        for (_, w) in s.watchers where w.gr == info.groupResource { w.offer(ev, old: old) }
        if info.group == "apiextensions.k8s.io" && info.resource == "customresourcedefinitions" && ev.type == "DELETED" {
            let obj = ev.object
            DispatchQueue.global().async { [self] in crdDeleted(obj) }
        }
    }

    /// Opens a watch. `fromRV` nil or "0": synthetic ADDED events for current objects first.
    func watch(_ info: ResourceInfo, namespace: String?, labels: LabelSelector, fields: FieldSelector, fromRV: String?) throws(APIError) -> Watcher {
        try state.withLock { (s: inout State) throws(APIError) -> Watcher in
        let w = Watcher(gr: info.groupResource, namespace: namespace, labels: labels, fields: fields)
        if let from = fromRV, from != "0", !from.isEmpty {
            guard let start = Int(from) else { throw APIError.badRequest("invalid resource version: \(from)") }
            if start < s.oldestWatchableRV {
                w.pending.append(WatchEvent(type: "ERROR", object: APIError.expired("too old resource version: \(start) (\(s.oldestWatchableRV))").status))
                w.closeAfterPending = true
            } else {
                for h in s.history where h.rv > start && h.gr == info.groupResource { w.offer(h.event, old: h.old) }
            }
        } else {
            let all = s.objects[info.groupResource] ?? [:]
            for k in all.keys.sorted() {
                let o = all[k]!
                if w.matches(o) { w.pending.append(WatchEvent(type: "ADDED", object: o)) }
            }
        }
        s.nextWatcherID += 1
        w.id = s.nextWatcherID
        s.watchers[w.id] = w
        return w
        }
    }

    func endWatch(_ w: Watcher) {
        state.withLock { $0.watchers[w.id] = nil }
    }

    /// The resourceVersion a BOOKMARK on `w` may carry: the current one when every event up to
    /// it has been sent, nil while events are still queued for it (they go first). Read under
    /// the store lock, which every event is queued under, so no event at or below the returned
    /// version can still arrive: a client that resumes from a bookmark misses nothing (the real
    /// server's bookmarks carry the version its watch cache has delivered up to).
    func bookmarkResourceVersion(_ w: Watcher) -> String? {
        state.withLock { s in
            w.cond.lock(); defer { w.cond.unlock() }
            return w.pending.isEmpty ? String(s.rv) : nil
        }
    }

    var watcherCount: Int { state.withLock { $0.watchers.count } }

    /// Sends an event to every open watch of `resource` (e.g. an `ERROR` with a Status, to test
    /// a client's handling), optionally ending those watches after it.
    public func injectWatchEvent(group: String = "", resource: String, type: String = "ERROR",
                                 object: Value = APIError.internalError("injected watch error").status, thenClose: Bool = true) {
        let ws = state.withLock { s in s.watchers.values.filter { $0.gr == GroupResource(group: group, resource: resource) } }
        for w in ws {
            w.cond.lock()
            w.pending.append(WatchEvent(type: type, object: object))
            if thenClose { w.closeAfterPending = true }
            w.cond.signal()
            w.cond.unlock()
        }
    }

    /// Closes every open watch (restart, tests).
    public func closeAllWatches() {
        let ws = state.withLock { Array($0.watchers.values) }
        for w in ws { w.close() }
    }
}

/// One open watch: filters and a queue of events to send.
final class Watcher: @unchecked Sendable {
    let gr: GroupResource
    let namespace: String?
    let labels: LabelSelector
    let fields: FieldSelector
    var id = 0
    let cond = NSCondition()
    var pending: [WatchEvent] = []
    var closed = false
    var closeAfterPending = false

    init(gr: GroupResource, namespace: String?, labels: LabelSelector, fields: FieldSelector) {
        self.gr = gr; self.namespace = namespace; self.labels = labels; self.fields = fields
    }

    func matches(_ o: Value) -> Bool {
        if let namespace, (o.metadataNamespace ?? "") != namespace { return false }
        return labels.matches(o.labels) && fields.matches(o)
    }

    /// Queues an event, translating selector entry/exit into ADDED/DELETED as the server does:
    /// an object leaving the selector is DELETED with its previous content (the labels that
    /// matched) and this event's resourceVersion, as the API server's watch cache sends it.
    func offer(_ ev: WatchEvent, old: Value?) {
        let now = matches(ev.object)
        let before = old.map(matches) ?? false
        var out: WatchEvent? = nil
        switch ev.type {
        case "MODIFIED":
            if now && before { out = ev } else if now { out = WatchEvent(type: "ADDED", object: ev.object) } else if before, var prev = old {
                prev[path: ["metadata", "resourceVersion"]] = ev.object[path: ["metadata", "resourceVersion"]]
                out = WatchEvent(type: "DELETED", object: prev)
            }
        case "DELETED":
            if now || before { out = ev }
        default:
            if now { out = ev }
        }
        guard let out else { return }
        cond.lock()
        pending.append(out)
        cond.signal()
        cond.unlock()
    }

    /// Next event, or nil at the deadline / when closed.
    func next(until deadline: Date) -> WatchEvent?? {
        cond.lock(); defer { cond.unlock() }
        while pending.isEmpty && !closed {
            if closeAfterPending { return .some(nil) }
            if !cond.wait(until: deadline) { return nil }
        }
        if !pending.isEmpty { return .some(pending.removeFirst()) }
        return .some(nil)
    }

    func close() {
        cond.lock()
        closed = true
        cond.broadcast()
        cond.unlock()
    }
}
