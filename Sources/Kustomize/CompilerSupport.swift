import PatternCore

// Entry points for PatternCompile: builds that keep each object's source file (for
// substitution errors and provenance), and Kustomize-style `patches` applied to an already
// rendered object set (site overlays).

extension KustomizeBuilder {
    /// Like `build(_:)`, returning with each object the file it came from (for generated
    /// objects, the kustomization that generated them).
    public func buildWithOrigins(_ dir: TreePath) throws(Diagnostics) -> [(object: Value, file: String)] {
        let (items, order) = try buildResources(dir)
        return order.map { (items[$0].value, items[$0].file) }
    }

    /// The built resources and the order to print them in (indices into the resources).
    func buildResources(_ dir: TreePath) throws(Diagnostics) -> (items: [KResource], order: [Int]) {
        let loader = TreeLoader(tree: tree, limits: limits, remote: remote)
        var m = ResMap()
        let root: TreePath
        do { root = try tree.resolve(dir) } catch {
            throw Diagnostics([.error("kustomization directory '\(dir)': \(error)", at: nil, fix: "build a directory inside the repository")])
        }
        let top = try accumulate(root, into: &m, stack: [], component: false, loader: loader, from: nil)
        if let e = top.sortOptionsError { throw Diagnostics([e]) }
        for i in m.items.indices where m.items[i].needsHashSuffix {
            let h = GeneratorHash.suffix(for: m.items[i].value)
            m.items[i].storePreviousId()
            m.items[i].setName(m.items[i].name + "-" + h)
        }
        do throws(Diagnostic) {
            try NameReferenceTransformer.apply(to: &m)
            try VarTransformer.resolve(&m)
        } catch { throw Diagnostics([error]) }
        KustomizeBuilder.finish(&m)
        let metadata = Set(top.buildMetadata.map(\.value))
        if metadata.contains("originAnnotations") { KustomizeBuilder.addOriginAnnotations(&m, root: root) }
        if metadata.contains("transformerAnnotations") {
            for i in m.items.indices where !m.items[i].transformations.isEmpty {
                m.items[i].value[path: ["metadata", "annotations", KustomizeBuilder.transformationsAnnotation]] =
                    .string(m.items[i].transformations.joined())
            }
        }
        if metadata.contains("managedByLabel") {
            for i in m.items.indices {
                m.items[i].value[path: ["metadata", "labels", KustomizeBuilder.managedByLabel]] = .string(KustomizeBuilder.managedByValue)
            }
        }
        // A one-shot command leaves each object's bookkeeping (ids, file, history: a box of a
        // dozen small allocations) to the process's exit instead of freeing it object by
        // object. Only the boxes: the objects themselves are the caller's to change.
        if KeepUntilExit.processEndsAfterRun { KeepUntilExit.keep(objects: m.items.count, m.items.map(\.bookkeeping)) }
        let rank: [String: Int]
        switch top.sortOrder {
        case .fifo?: return (m.items, Array(m.items.indices))
        case .legacy(let first, let last)? where first != nil || last != nil:
            rank = LegacySort.rank(orderFirst: first ?? [], orderLast: last ?? [])
        default: rank = LegacySort.rank
        }
        return (m.items, LegacySort.order(m.items.map(\.value), rank: rank))
    }
}

/// Applies the `patches` entries of a site overlay (Kustomize's `patches` syntax: `path` or
/// inline `patch`, optional `target`; strategic merge or JSON 6902) to rendered objects.
public enum OverlayPatcher {
    public static func apply(_ entries: [Value], overlayDir: TreePath, overlayFile: String, tree: any SourceTree,
                             to objects: inout [(object: Value, file: String)]) throws(Diagnostics) {
        if entries.isEmpty { return }
        let kust = try Kustomization(parsing: ["patches": .array(entries)], file: overlayFile, dir: overlayDir)
        var m = ResMap()
        m.items = objects.map { KResource(value: $0.object, file: $0.file) }
        try PatchTransformer.apply(kust.patches, kind: .either, kust: kust, loader: TreeLoader(tree: tree, limits: .default), to: &m)
        objects = m.items.map { ($0.value, $0.file) }
    }
}

extension KustomizeBuilder {
    /// The annotation marking an object used only as build input (Kustomize's `IgnoreLocal`).
    static let localConfigAnnotation = "config.kubernetes.io/local-config"

    /// Kustomize's last steps after vars: objects annotated `config.kubernetes.io/local-config`
    /// (any value but `"false"`) are dropped — they served as name-reference and replacement
    /// sources — and annotation values become strings (`RemoveBuildAnnotations` rewrites every
    /// annotation map as `map[string]string`: `port: 8080` is printed `port: "8080"`).
    static func finish(_ m: inout ResMap) {
        // One pass on all cores: which objects are local config, and which have annotation
        // values to stringify (the maps read in place; most objects have neither).
        let found = ParallelMap.map(m.items) { r -> (local: Bool, nonString: Bool) in
            let ann = r.value.annotations
            guard !ann.isEmpty else { return (false, false) }
            let local = ann[localConfigAnnotation].map { $0.scalarText != "false" } ?? false
            return (local, ann.containsValue { $0.string == nil })
        }
        if found.contains(where: \.nonString) {
            // Objects are independent: all cores, each object mutated in place (no copy).
            _ = ParallelMap.update(&m.items) { (r: inout KResource) in stringifyAnnotations(&r) }
        }
        if found.contains(where: \.local) { m.items = m.items.indices.filter { !found[$0].local }.map { m.items[$0] } }
    }

    /// `RemoveBuildAnnotations`' rewrite of one object's annotations as strings.
    static func stringifyAnnotations(_ r: inout KResource) {
        let ann = r.value.annotations
        guard ann.containsValue(where: { $0.string == nil }) else { return }
        var out = Object()
        for (k, v) in ann {
            if v.string != nil { out.append(k, v); continue }
            let text: String
            switch v.kind {
            case .null: text = "null"
            case .array, .object: text = v.scalarText ?? ""
            default: text = v.scalarText ?? ""
            }
            out.append(k, Value(.string(text), mark: v.mark))
        }
        r.value[path: ["metadata", "annotations"]] = .object(out)
    }
}

extension KustomizeBuilder {
    static let originAnnotation = "config.kubernetes.io/origin"
    static let managedByLabel = "app.kubernetes.io/managed-by"
    static let transformationsAnnotation = "alpha.config.kubernetes.io/transformations"
    /// What `kubectl kustomize` v5.5.0 writes (its embedded Kustomize reports no version).
    static let managedByValue = "kustomize-(devel)"

    /// `buildMetadata: [originAnnotations]`: each object's source file, or the kustomization
    /// (or plugin configuration) and generator that made it, relative to the built directory.
    static func addOriginAnnotations(_ m: inout ResMap, root: TreePath) {
        for i in m.items.indices {
            let r = m.items[i]
            let path = relativePath(r.file, from: root.string)
            var text: String
            if let g = r.generatedBy {
                text = "configuredIn: \(path)\nconfiguredBy:\n  apiVersion: builtin\n  kind: \(g.kind)\n"
                if let n = g.name { text += "  name: \(n)\n" }
            } else {
                text = "path: \(path)\n"
            }
            m.items[i].value[path: ["metadata", "annotations", originAnnotation]] = .string(text)
        }
    }

    /// `file` (tree-relative) as seen from directory `dir` (tree-relative): `../base/x.yaml`.
    static func relativePath(_ file: String, from dir: String) -> String {
        let f = file.split(separator: "/").map(String.init)
        let d = dir.split(separator: "/").map(String.init)
        var common = 0
        while common < d.count && common < f.count - 1 && f[common] == d[common] { common += 1 }
        return (Array(repeating: "..", count: d.count - common) + f[common...]).joined(separator: "/")
    }
}
