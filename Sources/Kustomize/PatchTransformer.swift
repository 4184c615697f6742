import PatternCore

/// `patches`, `patchesStrategicMerge` and `patchesJson6902`: loads each patch (file or
/// inline), decides strategic-merge vs JSON 6902 (a YAML list is JSON 6902), selects targets
/// and applies the engines in `StrategicMerge` / `JSONPatch`.
enum PatchTransformer {
    enum Kind { case strategicMerge, json6902, either }

    /// `sequential` skips the per-object plan (tests compare the two ways).
    static func apply(_ specs: [PatchSpec], kind: Kind, kust: Kustomization, loader: TreeLoader,
                      to m: inout ResMap, sequential: Bool = false) throws(Diagnostics) {
        guard !specs.isEmpty else { return }
        var diags: [Diagnostic] = []
        // Names and kinds do not change while patching (SMP keeps them), so one index and one
        // set of ids serve the whole batch; deleted objects are dropped at the end.
        var batch = Batch(m)
        // Reading and parsing each patch is independent of the objects: all cores, up front.
        let parsed = ParallelMap.map(specs, minimum: 16) { spec in
            Result { () throws(Diagnostic) -> ParsedPatch in try load(spec, kust: kust, loader: loader) }
        }
        if !sequential, let plan = Plan(specs, parsed, kind: kind, in: m, batch), plan.applyInParallel(specs, to: &m) { return }
        for (spec, patch) in zip(specs, parsed) {
            do throws(Diagnostic) {
                try apply(spec, patch: try patch.get(), kind: kind, kust: kust, to: &m, batch: &batch)
            } catch { diags.append(error) }
        }
        for i in batch.deleted.sorted(by: >) { m.items.remove(at: i) }
        if !diags.isEmpty { throw Diagnostics(diags) }
    }

    struct Batch {
        var ids: [ResId]
        var index: AnyIdIndex
        var deleted = Set<Int>()
        init(_ m: ResMap) {
            ids = ParallelMap.map(m.items) { $0.curId }
            index = AnyIdIndex(m)
        }
    }

    /// A patch's documents (nulls dropped) and the file they were read from.
    struct ParsedPatch: Sendable {
        var docs: [Value]
        var file: String
    }

    /// Reads and parses one `patches` entry (its file, or the inline text).
    static func load(_ spec: PatchSpec, kust: Kustomization, loader: TreeLoader) throws(Diagnostic) -> ParsedPatch {
        let loc = SourceLocation(file: kust.file, mark: spec.mark)
        var docs: [Value]
        var patchFile = kust.file
        if let path = spec.path {
            let p = try loader.resolve(path, from: kust.dir, at: loc, what: "patch")
            docs = try loader.parseStream(p, at: loc, what: "patch", annotationText: true).map(\.value)
            patchFile = p.string
        } else {
            do throws(Diagnostic) {
                let text = spec.inline ?? ""
                docs = try YAMLParser.parseStream(text, file: kust.file, limits: loader.limits.yaml).map(\.value)
                let bytes = Array(text.utf8)
                for i in docs.indices where AnnotationText.needed(docs[i]) {
                    bytes.withUnsafeBufferPointer { AnnotationText.restore(&docs[i], source: $0) }
                }
            } catch {
                var e = error
                e.message = "inline patch: " + e.message
                e.location = loc
                throw e
            }
        }
        docs.removeAll { $0.isNull }
        if docs.isEmpty { throw .error("patch is empty", at: loc, fix: "write the patch content, or remove the entry") }
        return ParsedPatch(docs: docs, file: patchFile)
    }

    static func apply(_ spec: PatchSpec, patch parsed: ParsedPatch, kind: Kind, kust: Kustomization,
                      to m: inout ResMap, batch: inout Batch) throws(Diagnostic) {
        let loc = SourceLocation(file: kust.file, mark: spec.mark)
        let docs = parsed.docs, patchFile = parsed.file

        let isJSON = docs.count == 1 && docs[0].array != nil
        if kind == .json6902 && !isJSON {
            throw .error("patchesJson6902 entry is not a list of JSON patch operations", at: loc,
                         fix: "write `- op: replace` entries, or move strategic merge patches to `patches:`")
        }
        if isJSON {
            guard let target = spec.target else {
                throw .error("a JSON 6902 patch needs a `target`", at: loc, fix: "add `target: {kind: …, name: …}`")
            }
            let patch = try JSONPatch(parsing: docs[0], file: patchFile)
            for i in select(target, in: m, batch) {
                do throws(Diagnostic) {
                    // During a Kustomize build every object carries internal build annotations, so
                    // `metadata.annotations` always exists for JSON patches: `add
                    // /metadata/annotations/x` works on objects without annotations. Emulate that.
                    var v = m.items[i].value
                    let hadAnnotations = v[path: ["metadata", "annotations"]] != nil
                    if !hadAnnotations, v["metadata"]?.object != nil { v[path: ["metadata", "annotations"]] = .emptyObject }
                    v = try patch.apply(to: v)
                    if !hadAnnotations, v[path: ["metadata", "annotations"]]?.object?.isEmpty == true {
                        v[path: ["metadata", "annotations"]] = nil
                    }
                    // A JSON patch may rename: Kustomize stores the previous id first, so
                    // references (a RoleBinding's roleRef, …) follow the new name.
                    let before = m.items[i].curId
                    m.items[i].value = v
                    if m.items[i].curId != before { m.items[i].prevIds.append(before) }
                    batch.ids[i] = m.items[i].curId
                } catch {
                    var e = error
                    e.message += " (patching \(m.items[i].curId))"
                    throw e
                }
            }
            return
        }
        for d in docs where d.object == nil {
            throw .error("strategic merge patch must be a map, found \(d.typeName)", at: SourceLocation(file: patchFile, mark: d.mark),
                         fix: "write the patch as a partial Kubernetes object")
        }
        if let target = spec.target {
            if docs.count > 1 {
                throw .error("a `patches` entry with a target may hold only one strategic merge patch", at: loc,
                             fix: "split the documents into separate `patches` entries")
            }
            let targets = select(target, in: m, batch)
            try applySMP(docs[0], to: targets, in: &m, file: patchFile, spec: spec, batch: &batch)
            return
        }
        for d in docs {
            let id = KResource.id(of: d)
            guard !id.name.isEmpty, !id.gvk.kind.isEmpty else {
                throw .error("strategic merge patch without a target needs `kind` and `metadata.name`",
                             at: SourceLocation(file: patchFile, mark: d.mark), fix: "add kind and metadata.name, or a `target:`")
            }
            let matches = batch.index.indices(matchingAnyId: id, in: m).filter { !batch.deleted.contains($0) }
            if matches.isEmpty {
                throw .error("no resource matches strategic merge patch for \(id)", at: SourceLocation(file: patchFile, mark: d.mark),
                             fix: "check kind, name and namespace of the patch against the resources (use the original name, without prefix)")
            }
            if matches.count > 1 {
                throw .error("strategic merge patch for \(id) matches \(matches.count) resources", at: SourceLocation(file: patchFile, mark: d.mark),
                             fix: "add metadata.namespace to the patch")
            }
            try applySMP(d, to: matches, in: &m, file: patchFile, spec: spec, batch: &batch)
        }
    }

    static func select(_ target: PatchTarget, in m: ResMap, _ batch: Batch) -> [Int] {
        m.items.indices.filter { i in
            guard !batch.deleted.contains(i), target.matchesGVK(batch.ids[i].gvk) else { return false }
            let r = m.items[i]
            return target.matches(r.value, originalName: r.orgId.name, originalNamespace: r.orgId.namespace)
        }
    }

    /// Applies one strategic merge patch to the objects at `indices`. The patch never renames
    /// (name, namespace, apiVersion and kind are restored) unless `options.allowNameChange` /
    /// `allowKindChange` say so, in which case the previous id is recorded for references.
    static func applySMP(_ patch: Value, to indices: [Int], in m: inout ResMap, file: String,
                         spec: PatchSpec, batch: inout Batch) throws(Diagnostic) {
        let renames = spec.allowNameChange || spec.allowKindChange
        for i in indices {
            if renames { m.items[i].storePreviousId() }
            guard let v = try merge(patch, into: m.items[i], spec: spec, schema: m.openAPI.custom, file: file) else {
                batch.deleted.insert(i); continue
            }
            m.items[i].value = v
        }
        if renames {
            for i in indices { batch.ids[i] = m.items[i].curId }
            batch.index = AnyIdIndex(m)
        }
    }

    /// `r`'s value with one strategic merge patch applied (nil: the patch deletes it), its
    /// apiVersion, kind, name and namespace kept unless the spec allows changing them.
    static func merge(_ patch: Value, into r: KResource, spec: PatchSpec, schema: OpenAPISchema?,
                      file: String) throws(Diagnostic) -> Value? {
        var p = patch
        p["apiVersion"] = r.value["apiVersion"]
        if !spec.allowKindChange || p["kind"] == nil { p["kind"] = r.value["kind"] }
        if !spec.allowNameChange { p[path: ["metadata", "name"]] = .string(r.name) }
        let merged: Value?
        do throws(Diagnostic) { merged = try StrategicMerge.apply(p, to: r.value, schema: schema) } catch {
            var e = error
            e.location = SourceLocation(file: file, mark: error.location?.mark ?? patch.mark)
            throw e
        }
        guard var v = merged else { return nil }
        v["apiVersion"] = r.value["apiVersion"]
        if !spec.allowKindChange { v["kind"] = r.value["kind"] }
        if !spec.allowNameChange { v[path: ["metadata", "name"]] = .string(r.name) }
        if r.namespace.isEmpty {
            if v[path: ["metadata", "namespace"]] != nil { v[path: ["metadata", "namespace"]] = nil }
        } else {
            v[path: ["metadata", "namespace"]] = .string(r.namespace)
        }
        return v
    }

    /// The patches of one batch as independent work per object, when that gives exactly what
    /// applying them one after another gives: every patch is a strategic merge patch that
    /// keeps identities (no `allowNameChange`/`allowKindChange`, no JSON 6902), none deletes or
    /// replaces a whole object (no top-level `$patch`), and every target is chosen by
    /// identity alone (a patch's metadata, or a `target` without label or annotation
    /// selectors). Then no patch changes which objects a later patch selects, and the patches
    /// of one object apply in their order while objects proceed on all cores. Any other batch,
    /// and any batch that selects nothing or fails, goes the sequential way (which reports its
    /// errors in order).
    struct Plan {
        /// For each object that is patched: its index and its patches (spec index, document, file), in order.
        var work: [(object: Int, patches: [(spec: Int, doc: Value, file: String)])]
        var schema: OpenAPISchema?

        init?(_ specs: [PatchSpec], _ parsed: [Result<ParsedPatch, Diagnostic>], kind: Kind, in m: ResMap, _ batch: Batch) {
            guard specs.count >= 8, kind != .json6902 else { return nil }
            var byObject: [Int: [(spec: Int, doc: Value, file: String)]] = [:]
            var order: [Int] = []
            for (s, spec) in specs.enumerated() {
                guard !spec.allowNameChange, !spec.allowKindChange, case .success(let patch) = parsed[s] else { return nil }
                for d in patch.docs {
                    guard let o = d.object, o["$patch"] == nil else { return nil }
                }
                var targets: [(Int, Value)] = []
                if let target = spec.target {
                    guard patch.docs.count == 1, target.labelSelector == nil, target.annotationSelector == nil else { return nil }
                    targets = PatchTransformer.select(target, in: m, batch).map { ($0, patch.docs[0]) }
                } else {
                    for d in patch.docs {
                        let id = KResource.id(of: d)
                        guard !id.name.isEmpty, !id.gvk.kind.isEmpty else { return nil }
                        let matches = batch.index.indices(matchingAnyId: id, in: m)
                        guard matches.count == 1 else { return nil }
                        targets.append((matches[0], d))
                    }
                }
                for (i, d) in targets {
                    if byObject[i] == nil { order.append(i) }
                    byObject[i, default: []].append((s, d, patch.file))
                }
            }
            guard !order.isEmpty else { return nil }
            work = order.map { ($0, byObject[$0]!) }
            schema = m.openAPI.custom
        }

        /// Applies the plan; false, with `m` untouched, when any merge fails or deletes.
        func applyInParallel(_ specs: [PatchSpec], to m: inout ResMap) -> Bool {
            let items = m.items, schema = schema
            let results = ParallelMap.map(work, minimum: 16) { job -> Value? in
                var r = items[job.object]
                for p in job.patches {
                    guard let v = try? PatchTransformer.merge(p.doc, into: r, spec: specs[p.spec], schema: schema, file: p.file) else {
                        return nil
                    }
                    r.value = v
                }
                return r.value
            }
            guard !results.contains(where: { $0 == nil }) else { return false }
            for (job, v) in zip(work, results) { m.items[job.object].value = v! }
            return true
        }
    }
}
