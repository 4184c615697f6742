import PatternCore

/// `generators:` and `transformers:` entries that configure Kustomize's built-in plugins
/// (`apiVersion: builtin`): each entry is inline YAML, a file, or a directory built as a
/// kustomization whose objects are the configurations. Generators run after
/// `configMapGenerator`/`secretGenerator`; transformers after the built-in fields, in entry
/// order — as in Kustomize's `runGenerators`/`runTransformers`. Exec, container and Go
/// plugins are never run: any other `apiVersion`/`kind` is an error naming it.
enum BuiltinPlugins {
    /// One plugin configuration and where it was written.
    struct Config {
        var value: Value
        var file: String
        var kind: String { value.kindName ?? "" }
        var location: SourceLocation { SourceLocation(file: file, mark: value.mark) }
    }

    static let generatorKinds: Set<String> = ["ConfigMapGenerator", "SecretGenerator"]
    static let transformerKinds: Set<String> = [
        "PatchTransformer", "PatchStrategicMergeTransformer", "PatchJson6902Transformer", "LabelTransformer",
        "AnnotationsTransformer", "NamespaceTransformer", "PrefixSuffixTransformer", "PrefixTransformer",
        "SuffixTransformer", "ImageTagTransformer", "ReplicaCountTransformer", "ReplacementTransformer",
    ]

    /// Reads the configurations of `entries` (in order).
    static func configs(_ entries: [Located<String>], field: String, kust: Kustomization, builder: KustomizeBuilder,
                        stack: [String], loader: TreeLoader) throws(Diagnostics) -> [Config] {
        // Kustomize reads inline entries first, then files and directories (its
        // configureExternalGenerators/Transformers): that is also the order they run in.
        var inline: [Config] = []
        var out: [Config] = []
        var diags: [Diagnostic] = []
        for entry in entries {
            let loc = SourceLocation(file: kust.file, mark: entry.mark)
            do throws(Diagnostics) {
                if entry.value.contains("\n") {
                    let docs: [YAMLDocument]
                    do throws(Diagnostic) {
                        docs = try YAMLParser.parseStream(entry.value, file: kust.file, limits: loader.limits.yaml)
                    } catch {
                        var e = error
                        e.message = "inline \(field) entry: " + e.message
                        e.location = loc
                        throw Diagnostics([e])
                    }
                    // Marks inside the inline text are relative to it: point at the entry.
                    for d in docs where !d.value.isNull { inline.append(Config(value: Value(d.value.kind, mark: entry.mark), file: kust.file)) }
                    continue
                }
                let p: TreePath
                do throws(Diagnostic) { p = try loader.resolve(entry.value, from: kust.dir, at: loc, what: field) } catch { throw Diagnostics([error]) }
                switch loader.kind(p) {
                case .directory?:
                    var sub = ResMap()
                    try builder.accumulate(p, into: &sub, stack: stack, component: false, loader: loader, from: loc)
                    out += sub.items.map { Config(value: $0.value, file: $0.file) }
                case .file?:
                    do throws(Diagnostic) {
                        for d in try loader.parseStream(p, at: loc, what: field) where !d.value.isNull {
                            out.append(Config(value: d.value, file: p.string))
                        }
                    } catch { throw Diagnostics([error]) }
                default:
                    throw Diagnostics([.error("\(field) entry '\(entry.value)' does not exist", at: loc,
                                              fix: "fix the path (relative to \(kust.file)) or write the configuration inline")])
                }
            } catch { diags += error.items }
        }
        if !diags.isEmpty { throw Diagnostics(diags) }
        out = inline + out
        let allowed = field == "generators" ? generatorKinds : transformerKinds
        for c in out {
            guard c.value.object != nil else {
                diags.append(.error("a \(field) configuration must be a map, found \(c.value.typeName)", at: c.location,
                                    fix: "write `apiVersion: builtin`, `kind: …` and the plugin's fields"))
                continue
            }
            let api = c.value.apiVersion ?? ""
            if api != "builtin" || !(allowed.contains(c.kind) || (field == "generators" && c.kind == helmChartInflationKind)) {
                let what = api == "builtin" ? "built-in plugin '\(c.kind)' is not supported in `\(field)`"
                    : "plugin '\(api)/\(c.kind)' is not run: only `apiVersion: builtin` plugins are supported (no exec, container or Go plugins)"
                diags.append(.error(what, at: c.location,
                                    fix: "use one of: \(allowed.sorted().joined(separator: ", ")), or the equivalent kustomization field"))
            }
        }
        if !diags.isEmpty { throw Diagnostics(diags) }
        return out
    }

    /// Runs `ConfigMapGenerator` / `SecretGenerator` configurations.
    static func generate(_ configs: [Config], kust: Kustomization, loader: TreeLoader, into m: inout ResMap) throws(Diagnostics) {
        var diags: [Diagnostic] = []
        for c in configs {
            if c.kind == helmChartInflationKind {
                do throws(Diagnostics) {
                    for r in try inflateHelmChart(c, kust: kust, loader: loader) {
                        do throws(Diagnostic) { try m.append(r) } catch { diags.append(error) }
                    }
                } catch { diags += error.items }
                continue
            }
            var d = Kustomization.Decoder(file: c.file, lenient: true)
            var o = c.value.object!
            let meta = o["metadata"]?.object ?? Object()
            o.removeValue(forKey: "apiVersion"); o.removeValue(forKey: "kind"); o.removeValue(forKey: "metadata")
            // The generator's own `name`/`namespace` win over the plugin's metadata.
            if o["name"] == nil, let n = meta["name"] { o["name"] = n }
            if o["namespace"] == nil, let ns = meta["namespace"] { o["namespace"] = ns }
            let secret = c.kind == "SecretGenerator"
            let specs = d.generators(.array([Value(.object(o), mark: c.value.mark)]), c.kind, secret: secret)
            if !d.diagnostics.isEmpty { diags += d.diagnostics; continue }
            var k = kust
            k.file = c.file
            for g in specs {
                do throws(Diagnostics) {
                    // A plugin's own options only (the kustomization's generatorOptions don't apply).
                    var r = try Generators.make(g, secret: secret, global: nil, kust: k, loader: loader)
                    r.generatedBy?.name = meta["name"]?.string
                    do throws(Diagnostic) { try Generators.absorb(r, into: &m) } catch { throw Diagnostics([error]) }
                } catch { diags += error.items }
            }
        }
        if !diags.isEmpty { throw Diagnostics(diags) }
    }

    /// Runs the transformer configurations in order.
    static func transform(_ configs: [Config], kust: Kustomization, loader: TreeLoader, m: inout ResMap) throws(Diagnostics) {
        func one(_ body: () throws(Diagnostic) -> Void) throws(Diagnostics) {
            do throws(Diagnostic) { try body() } catch { throw Diagnostics([error]) }
        }
        for c in configs {
            var d = Kustomization.Decoder(file: c.file, lenient: true)
            let o = c.value.object!
            let fieldSpecs = o["fieldSpecs"].map { d.fieldSpecs($0, "fieldSpecs") }
            var k = kust
            k.file = c.file
            switch c.kind {
            case "PatchTransformer":
                var p = d.patches(.array([c.value]), c.kind).first
                p?.mark = c.value.mark
                if !d.diagnostics.isEmpty { throw Diagnostics(d.diagnostics) }
                if let p { try PatchTransformer.apply([p], kind: .either, kust: k, loader: loader, to: &m) }
            case "PatchJson6902Transformer":
                var p = PatchSpec(mark: c.value.mark)
                p.path = o["path"].flatMap { d.string($0, "path") }
                p.inline = o["jsonOp"].flatMap { d.string($0, "jsonOp") }
                if let t = o["target"] {
                    do throws(Diagnostic) { p.target = try PatchTarget(parsing: t, file: c.file) } catch { throw Diagnostics([error]) }
                }
                if !d.diagnostics.isEmpty { throw Diagnostics(d.diagnostics) }
                try PatchTransformer.apply([p], kind: .json6902, kust: k, loader: loader, to: &m)
            case "PatchStrategicMergeTransformer":
                var specs: [PatchSpec] = []
                for path in o["paths"].map({ d.strings($0, "paths") }) ?? [] {
                    specs.append(PatchSpec(path: path.value, mark: path.mark))
                }
                if let inline = o["patches"].flatMap({ d.string($0, "patches") }) {
                    specs.append(PatchSpec(inline: inline, mark: c.value.mark))
                }
                if !d.diagnostics.isEmpty { throw Diagnostics(d.diagnostics) }
                try PatchTransformer.apply(specs, kind: .strategicMerge, kust: k, loader: loader, to: &m)
            case "LabelTransformer", "AnnotationsTransformer":
                let key = c.kind == "LabelTransformer" ? "labels" : "annotations"
                let pairs = o[key].map { d.stringMap($0, key) } ?? Object()
                if !d.diagnostics.isEmpty { throw Diagnostics(d.diagnostics) }
                try one { () throws(Diagnostic) in try MapFieldTransformer.apply(pairs, specs: fieldSpecs ?? [], to: &m) }
            case "NamespaceTransformer":
                let ns = c.value[path: ["metadata", "namespace"]].flatMap { d.string($0, "metadata.namespace") } ?? ""
                if let u = o["unsetOnly"], d.bool(u, "unsetOnly") {
                    d.error("NamespaceTransformer `unsetOnly: true` is not supported", u.mark, fix: "remove `unsetOnly`, or use the `namespace:` field")
                }
                if !d.diagnostics.isEmpty { throw Diagnostics(d.diagnostics) }
                try one { () throws(Diagnostic) in try NamespaceTransformer.apply(ns, to: &m, at: c.location) }
            case "PrefixSuffixTransformer", "PrefixTransformer", "SuffixTransformer":
                let prefix = o["prefix"].flatMap { d.string($0, "prefix") } ?? ""
                let suffix = o["suffix"].flatMap { d.string($0, "suffix") } ?? ""
                guard let specs = fieldSpecs else {
                    throw Diagnostics([.error("fieldSpecs is not expected to be nil", at: c.location, fix: "add `fieldSpecs: [{path: metadata/name}]`")])
                }
                for s in specs where s.path != ["metadata", "name"] {
                    d.error("\(c.kind) field spec '\(s.pathString)' is not supported (only metadata/name)", c.value.mark,
                            fix: "use `path: metadata/name`")
                }
                if !d.diagnostics.isEmpty { throw Diagnostics(d.diagnostics) }
                PrefixSuffixTransformer.apply(prefix: c.kind == "SuffixTransformer" ? "" : prefix,
                                              suffix: c.kind == "PrefixTransformer" ? "" : suffix,
                                              selecting: specs.map(\.gvk), to: &m)
            case "ImageTagTransformer":
                guard let t = o["imageTag"]?.object else {
                    throw Diagnostics([.error("ImageTagTransformer needs `imageTag`", at: c.location, fix: "add `imageTag: {name: …, newTag: …}`")])
                }
                var img = ImageSpec(name: "", mark: c.value.mark)
                img.name = t["name"].flatMap { d.string($0, "name") } ?? ""
                img.newName = t["newName"].flatMap { d.string($0, "newName") } ?? ""
                img.newTag = t["newTag"].flatMap { d.string($0, "newTag") } ?? ""
                img.digest = t["digest"].flatMap { d.string($0, "digest") } ?? ""
                if !d.diagnostics.isEmpty { throw Diagnostics(d.diagnostics) }
                ImageTransformer.apply([img], to: &m)
            case "ReplicaCountTransformer":
                guard let r = o["replica"]?.object else {
                    throw Diagnostics([.error("ReplicaCountTransformer needs `replica`", at: c.location, fix: "add `replica: {name: …, count: …}`")])
                }
                let spec = ReplicaSpec(name: r["name"].flatMap { d.string($0, "name") } ?? "", count: r["count"]?.int ?? 0, mark: c.value.mark)
                if !d.diagnostics.isEmpty { throw Diagnostics(d.diagnostics) }
                try one { () throws(Diagnostic) in try ReplicaTransformer.apply([spec], fieldSpecs: fieldSpecs ?? [], to: &m, file: c.file) }
            case "ReplacementTransformer":
                let entries = o["replacements"].map { d.maps($0, "replacements") } ?? []
                if !d.diagnostics.isEmpty { throw Diagnostics(d.diagnostics) }
                let rs = try ReplacementTransformer.load(entries, kust: k, loader: loader)
                try one { () throws(Diagnostic) in try ReplacementTransformer.apply(rs, to: &m) }
            default:
                throw Diagnostics([.error("built-in plugin '\(c.kind)' is not supported", at: c.location, fix: "use the kustomization field instead")])
            }
            m.noteTransformer(c.kind, configuredIn: c.file, name: c.value.metadataName, namespace: c.value.metadataNamespace)
        }
    }
}
