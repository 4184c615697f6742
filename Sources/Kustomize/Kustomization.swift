import PatternCore

/// A string from a kustomization file with where it was written.
struct Located<T: Sendable>: Sendable {
    var value: T
    var mark: Mark
}

/// `labels:` entry.
struct LabelSpec: Sendable {
    var pairs: Object
    var includeSelectors = false
    var includeTemplates = false
    /// Extra field specs (`fields:`), applied before the defaults.
    var fields: [FieldSpec] = []
}

/// `images:` entry.
struct ImageSpec: Sendable {
    var name: String
    var newName = ""
    var newTag = ""
    var digest = ""
    var mark: Mark
}

/// `replicas:` entry.
struct ReplicaSpec: Sendable {
    var name: String
    var count: Int
    var mark: Mark
}

/// `patches:` / `patchesJson6902:` / `patchesStrategicMerge:` entry.
struct PatchSpec: Sendable {
    var path: String?
    var inline: String?
    var target: PatchTarget?
    /// `options.allowNameChange` / `options.allowKindChange` (strategic merge only).
    var allowNameChange = false
    var allowKindChange = false
    var mark: Mark
    /// Mark of the `target:` map, for errors about it.
    var targetMark: Mark = .none
}

/// `sortOptions:` — output order of the top-level build.
enum SortOrder: Sendable {
    /// Kind order (Kustomize's default list, or `legacySortOptions.orderFirst/orderLast`).
    case legacy(orderFirst: [String]?, orderLast: [String]?)
    /// Accumulation order.
    case fifo
}

/// `configMapGenerator:` / `secretGenerator:` entry.
struct GeneratorSpec: Sendable {
    var name: String
    var namespace: String?
    var behavior: GeneratorBehavior = .create
    var literals: [Located<String>] = []
    var files: [Located<String>] = []
    var envs: [Located<String>] = []
    var type: String?
    var options: GeneratorOptions?
    var mark: Mark
}

/// `generatorOptions:` or a generator's `options:`.
struct GeneratorOptions: Sendable {
    var labels = Object()
    var annotations = Object()
    var disableNameSuffixHash: Bool?
    var immutable: Bool?
}

/// A parsed `kustomization.yaml` (or `kind: Component`).
///
/// Every field Kustomize accepts is either modelled here or rejected by name with an error:
/// nothing is silently ignored.
struct Kustomization: Sendable {
    var file: String
    var dir: TreePath
    var isComponent = false
    var resources: [Located<String>] = []
    var components: [Located<String>] = []
    var namespace: String?
    var namespaceMark = Mark.none
    var namePrefix = ""
    var nameSuffix = ""
    var commonLabels = Object()
    var labels: [LabelSpec] = []
    var commonAnnotations = Object()
    var images: [ImageSpec] = []
    var replicas: [ReplicaSpec] = []
    var patches: [PatchSpec] = []
    var patchesStrategicMerge: [PatchSpec] = []
    var patchesJson6902: [PatchSpec] = []
    var configMapGenerator: [GeneratorSpec] = []
    var secretGenerator: [GeneratorSpec] = []
    var generatorOptions: GeneratorOptions?
    /// Raw `vars` entries, read by `VarTransformer.parse`.
    var vars: [Value] = []
    /// `configurations:` files (transformer field specs for custom resources).
    var configurations: [Located<String>] = []
    /// Only the top-level kustomization's `sortOptions` matter (as in Kustomize).
    var sortOrder: SortOrder?
    /// Raw `replacements` entries (inline or `path:`), read by `ReplacementTransformer.load`.
    var replacements: [Value] = []
    /// `transformers:` / `generators:` entries (built-in plugin configurations).
    var transformers: [Located<String>] = []
    /// `crds:` OpenAPI definition files (transformer configuration for custom kinds).
    var crds: [Located<String>] = []
    /// `buildMetadata:` options (only the top-level kustomization's apply, as in Kustomize).
    var buildMetadata: [Located<String>] = []
    var generators: [Located<String>] = []
    /// `openapi: {path: …}` — a custom schema file for strategic merge.
    var openAPIPath: Located<String>?
    /// `openapi: {version: …}` — a built-in schema version (only `v1.21.2` is built in).
    var openAPIVersion: Located<String>?
    /// Raw `helmCharts` entries and `helmGlobals`, read by `HelmChartsGenerator`.
    var helmCharts: [Value] = []
    var helmGlobals: Value?

    /// Fields Kustomize knows that this engine does not implement: each is an error.
    static let unsupportedFields: [String: String] = [
        "validators": "plugins are not run",
        "helmChartInflationGenerator": "render the chart to files and list them in `resources`",
        "inventory": "remove `inventory`",
    ]

    static let knownFields: Set<String> = [
        "apiVersion", "kind", "metadata", "resources", "bases", "components", "namespace", "namePrefix",
        "nameSuffix", "commonLabels", "labels", "commonAnnotations", "images", "replicas", "patches",
        "patchesStrategicMerge", "patchesJson6902", "configMapGenerator", "secretGenerator", "generatorOptions",
        "replacements", "sortOptions", "configurations", "imageTags", "vars", "transformers", "generators", "buildMetadata", "crds", "helmCharts", "helmGlobals",
        "openapi",
    ]

    /// Lower-cased field name → its spelling here.
    static let canonicalField: [String: String] = {
        var m: [String: String] = [:]
        for k in knownFields { m[k.lowercased()] = k }
        for k in unsupportedFields.keys { m[k.lowercased()] = k }
        return m
    }()

    /// An invalid `sortOptions` (Kustomize only checks the top-level kustomization's).
    var sortOptionsError: Diagnostic?

    init(parsing root: Value, file: String, dir: TreePath) throws(Diagnostics) {
        self.file = file
        self.dir = dir
        var d = Decoder(file: file)
        guard let o = root.object else {
            if root.isNull { return }
            throw Diagnostics([.error("a kustomization must be a map, found \(root.typeName)",
                                      at: d.loc(root.mark), fix: "write `resources:` and other fields at the top level")])
        }
        if let kind = o["kind"] {
            switch kind.string {
            case "Kustomization": isComponent = false
            case "Component": isComponent = true
            default:
                d.error("unknown kustomization kind '\(kind.scalarText ?? kind.typeName)'", kind.mark,
                        fix: "use `kind: Kustomization` or `kind: Component`")
            }
        }
        for (rawKey, value) in o {
            let km = o.keyMark(rawKey) ?? value.mark
            // Kustomize decodes the file with Go's encoding/json: field names match
            // case-insensitively (`nameprefix:` is `namePrefix:`).
            let key = Kustomization.canonicalField[rawKey.lowercased()] ?? rawKey
            if let hint = Kustomization.unsupportedFields[key] {
                d.error("kustomization field '\(key)' is not supported by pattern's Kustomize engine", km, fix: hint)
                continue
            }
            guard Kustomization.knownFields.contains(key) else {
                d.error("unknown kustomization field '\(key)'", km,
                        fix: "check the spelling; see Docs/kustomize.md for the supported fields")
                continue
            }
            switch key {
            case "resources", "bases": resources += d.strings(value, key)
            case "components": components = d.strings(value, key)
            case "namespace": namespace = d.string(value, key); namespaceMark = value.mark
            case "namePrefix": namePrefix = d.string(value, key) ?? ""
            case "nameSuffix": nameSuffix = d.string(value, key) ?? ""
            case "commonLabels": commonLabels = d.stringMap(value, key)
            case "commonAnnotations": commonAnnotations = d.stringMap(value, key)
            case "labels":
                for item in d.maps(value, key) {
                    var l = LabelSpec(pairs: Object())
                    for (k, v) in item.object! {
                        switch k {
                        case "pairs": l.pairs = d.stringMap(v, "labels.pairs")
                        case "includeSelectors": l.includeSelectors = d.bool(v, k)
                        case "includeTemplates": l.includeTemplates = d.bool(v, k)
                        case "fields": l.fields = d.fieldSpecs(v, "labels.fields")
                        default: d.unknown("labels", k, item.object!.keyMark(k) ?? v.mark)
                        }
                    }
                    labels.append(l)
                }
            case "images", "imageTags":  // imageTags: Kustomize's deprecated spelling
                for item in d.maps(value, key) {
                    var img = ImageSpec(name: "", mark: item.mark)
                    for (k, v) in item.object! {
                        switch k {
                        case "name": img.name = d.string(v, k) ?? ""
                        case "newName": img.newName = d.string(v, k) ?? ""
                        case "newTag": img.newTag = d.string(v, k) ?? ""
                        case "digest": img.digest = d.string(v, k) ?? ""
                        default: d.unknown("images", k, item.object!.keyMark(k) ?? v.mark)
                        }
                    }
                    if img.name.isEmpty { d.error("images entry needs a `name`", item.mark, fix: "add `name: <image to replace>`") }
                    images.append(img)
                }
            case "replicas":
                for item in d.maps(value, key) {
                    var r = ReplicaSpec(name: "", count: 0, mark: item.mark)
                    for (k, v) in item.object! {
                        switch k {
                        case "name": r.name = d.string(v, k) ?? ""
                        case "count":
                            if let c = v.int { r.count = c } else { d.error("replicas count must be an integer", v.mark, fix: "write `count: 3`") }
                        default: d.unknown("replicas", k, item.object!.keyMark(k) ?? v.mark)
                        }
                    }
                    replicas.append(r)
                }
            case "patches": patches = d.patches(value, key)
            case "patchesJson6902": patchesJson6902 = d.patches(value, key)
            case "patchesStrategicMerge":
                for item in d.list(value, key) {
                    guard let s = item.string else {
                        d.error("patchesStrategicMerge entries must be file paths or inline YAML strings", item.mark,
                                fix: "write the patch as a path, or use `patches:` with `patch: |`")
                        continue
                    }
                    // Kustomize treats an entry containing a newline or starting like YAML as inline.
                    let inline = s.contains("\n") || s.hasPrefix("apiVersion") || s.hasPrefix("kind")
                    patchesStrategicMerge.append(PatchSpec(path: inline ? nil : s, inline: inline ? s : nil, mark: item.mark))
                }
            case "configMapGenerator": configMapGenerator = d.generators(value, key, secret: false)
            case "secretGenerator": secretGenerator = d.generators(value, key, secret: true)
            case "generatorOptions": generatorOptions = d.generatorOptions(value)
            case "replacements": replacements = d.maps(value, key)
            case "sortOptions":
                var sd = Decoder(file: file)
                sortOrder = sd.sortOptions(value)
                sortOptionsError = sd.diagnostics.first
            case "configurations": configurations = d.strings(value, key)
            case "vars": vars = d.maps(value, key)
            case "transformers": transformers = d.strings(value, key)
            case "crds": crds = d.strings(value, key)
            case "buildMetadata":
                buildMetadata = d.strings(value, key)
            case "generators": generators = d.strings(value, key)
            case "openapi":
                // Kustomize reads `openapi` as map[string]string; other keys are ignored.
                let o = d.stringMap(value, key)
                if let p = o["path"]?.string { openAPIPath = Located(value: p, mark: value["path"]?.mark ?? value.mark) }
                if let v = o["version"]?.string { openAPIVersion = Located(value: v, mark: value["version"]?.mark ?? value.mark) }
            case "helmCharts": helmCharts = d.maps(value, key)
            case "helmGlobals": helmGlobals = value
            default: break  // apiVersion, kind, metadata
            }
        }
        if !d.diagnostics.isEmpty { throw Diagnostics(d.diagnostics) }
    }

    /// Collects type errors while reading a kustomization.
    struct Decoder {
        let file: String
        /// Plugin configurations are decoded like Go's yaml.Unmarshal: unknown fields ignored.
        var lenient = false
        var diagnostics: [Diagnostic] = []

        init(file: String, lenient: Bool = false) { self.file = file; self.lenient = lenient }

        func loc(_ m: Mark) -> SourceLocation { SourceLocation(file: file, mark: m) }

        mutating func error(_ msg: String, _ m: Mark, fix: String) {
            diagnostics.append(.error(msg, at: loc(m), fix: fix))
        }

        mutating func unknown(_ parent: String, _ key: String, _ m: Mark) {
            if lenient { return }
            error("unknown field '\(key)' in '\(parent)'", m, fix: "check the spelling; see Docs/kustomize.md")
        }

        mutating func string(_ v: Value, _ key: String) -> String? {
            if v.isNull { return nil }
            if let s = v.string { return s }
            // Kustomize refuses numbers and booleans here; converting `1.10` would give "1.1".
            error("'\(key)' must be a string, found \(v.typeName)", v.mark,
                  fix: v.isScalar ? "quote the value: \(key): \"\(v.scalarText ?? "")\"" : "write a plain string")
            return nil
        }

        mutating func bool(_ v: Value, _ key: String) -> Bool {
            if let b = v.bool { return b }
            error("'\(key)' must be true or false, found \(v.typeName)", v.mark, fix: "write true or false")
            return false
        }

        mutating func list(_ v: Value, _ key: String) -> [Value] {
            if v.isNull { return [] }
            guard let a = v.array else {
                error("'\(key)' must be a list, found \(v.typeName)", v.mark, fix: "write one `- item` per line")
                return []
            }
            return a
        }

        mutating func strings(_ v: Value, _ key: String) -> [Located<String>] {
            list(v, key).compactMap { item in
                guard let s = item.string else {
                    error("'\(key)' entries must be strings, found \(item.typeName)", item.mark, fix: "write a relative path")
                    return nil
                }
                return Located(value: s, mark: item.mark)
            }
        }

        mutating func maps(_ v: Value, _ key: String) -> [Value] {
            list(v, key).filter { item in
                if item.object != nil { return true }
                error("'\(key)' entries must be maps, found \(item.typeName)", item.mark, fix: "see Docs/kustomize.md for the entry format")
                return false
            }
        }

        mutating func stringMap(_ v: Value, _ key: String) -> Object {
            if v.isNull { return Object() }
            guard let o = v.object else {
                error("'\(key)' must be a map of strings, found \(v.typeName)", v.mark, fix: "write `key: value` pairs")
                return Object()
            }
            var out = Object()
            for (k, val) in o {
                if let s = val.string {
                    out.append(k, .string(s))
                } else {
                    error("'\(key).\(k)' must be a string, found \(val.typeName)", val.mark,
                          fix: "quote the value (YAML reads yes/no/on/off/y/n, numbers and null as other types)")
                }
            }
            return out
        }

        mutating func patches(_ v: Value, _ key: String) -> [PatchSpec] {
            maps(v, key).map { item in
                var p = PatchSpec(mark: item.mark)
                let o = item.object!
                for (k, val) in o {
                    switch k {
                    case "path": p.path = string(val, k)
                    case "patch": p.inline = string(val, k)
                    case "target":
                        p.targetMark = val.mark
                        do throws(Diagnostic) { p.target = try PatchTarget(parsing: val, file: file) } catch { diagnostics.append(error) }
                    case "options":
                        for (ok, ov) in val.object ?? Object() {
                            switch ok {
                            case "allowNameChange": p.allowNameChange = bool(ov, ok)
                            case "allowKindChange": p.allowKindChange = bool(ov, ok)
                            default: unknown("patches.options", ok, val.object!.keyMark(ok) ?? ov.mark)
                            }
                        }
                    default: unknown(key, k, o.keyMark(k) ?? val.mark)
                    }
                }
                if (p.path == nil) == (p.inline == nil) {
                    error("a patch needs exactly one of `path` or `patch`", item.mark, fix: "point `path:` at a file or write the patch inline under `patch: |`")
                }
                return p
            }
        }

        /// `- {path: …, group: …, version: …, kind: …, create: …}` entries.
        mutating func fieldSpecs(_ v: Value, _ key: String) -> [FieldSpec] {
            maps(v, key).compactMap { item in
                let o = item.object!
                var gvk = GvkSelector()
                var path: String?
                var create = false
                for (k, val) in o {
                    switch k {
                    case "path": path = string(val, k)
                    case "group": gvk.group = string(val, k) ?? ""
                    case "version": gvk.version = string(val, k) ?? ""
                    case "kind": gvk.kind = string(val, k) ?? ""
                    case "create": create = bool(val, k)
                    default: unknown(key, k, o.keyMark(k) ?? val.mark)
                    }
                }
                guard let path, !path.isEmpty else {
                    error("field spec needs a `path`", item.mark, fix: "add e.g. `path: spec/template/metadata/labels`")
                    return nil
                }
                return FieldSpec(gvk: gvk, path: path, create: create)
            }
        }

        mutating func sortOptions(_ v: Value) -> SortOrder? {
            guard let o = v.object else {
                error("sortOptions must be a map, found \(v.typeName)", v.mark, fix: "write `sortOptions: {order: fifo}`")
                return nil
            }
            var order = ""
            var first: [String]?, last: [String]?
            var legacySet = false
            for (k, val) in o {
                switch k {
                case "order": order = string(val, k) ?? ""
                case "legacySortOptions":
                    legacySet = true
                    for (lk, lv) in val.object ?? Object() {
                        switch lk {
                        case "orderFirst": first = strings(lv, lk).map(\.value)
                        case "orderLast": last = strings(lv, lk).map(\.value)
                        default: unknown("sortOptions.legacySortOptions", lk, val.object!.keyMark(lk) ?? lv.mark)
                        }
                    }
                default: unknown("sortOptions", k, o.keyMark(k) ?? val.mark)
                }
            }
            switch order {
            case "fifo":
                if legacySet {
                    error("the field 'sortOptions.legacySortOptions' is set but the selected sort order is 'fifo', not 'legacy'",
                          v.mark, fix: "remove legacySortOptions or use order: legacy")
                }
                return .fifo
            case "legacy": return .legacy(orderFirst: first, orderLast: last)
            default:
                error("the field 'sortOptions.order' must be one of [fifo, legacy]\(order.isEmpty ? "" : ", found '\(order)'")",
                      o["order"]?.mark ?? v.mark, fix: "write `order: legacy` or `order: fifo`")
                return nil
            }
        }

        mutating func generatorOptions(_ v: Value) -> GeneratorOptions {
            var g = GeneratorOptions()
            guard let o = v.object else {
                error("generator options must be a map, found \(v.typeName)", v.mark, fix: "see Docs/kustomize.md")
                return g
            }
            for (k, val) in o {
                switch k {
                case "labels": g.labels = stringMap(val, k)
                case "annotations": g.annotations = stringMap(val, k)
                case "disableNameSuffixHash": g.disableNameSuffixHash = bool(val, k)
                case "immutable": g.immutable = bool(val, k)
                default: unknown("generatorOptions", k, o.keyMark(k) ?? val.mark)
                }
            }
            return g
        }

        mutating func generators(_ v: Value, _ key: String, secret: Bool) -> [GeneratorSpec] {
            maps(v, key).map { item in
                var g = GeneratorSpec(name: "", mark: item.mark)
                let o = item.object!
                for (k, val) in o {
                    switch k {
                    case "name": g.name = string(val, k) ?? ""
                    case "namespace": g.namespace = string(val, k)
                    case "behavior":
                        let s = string(val, k) ?? "create"
                        if let b = GeneratorBehavior(rawValue: s) { g.behavior = b } else {
                            error("unknown generator behavior '\(s)'", val.mark, fix: "use create, merge or replace")
                        }
                    case "literals": g.literals = strings(val, k)
                    case "files": g.files = strings(val, k)
                    case "envs": g.envs = strings(val, k)
                    case "env": g.envs.append(contentsOf: string(val, k).map { [Located(value: $0, mark: val.mark)] } ?? [])
                    case "type" where secret: g.type = string(val, k)
                    case "options": g.options = generatorOptions(val)
                    default: unknown(key, k, o.keyMark(k) ?? val.mark)
                    }
                }
                if g.name.isEmpty { error("\(key) entry needs a `name`", item.mark, fix: "add `name: <object name>`") }
                return g
            }
        }
    }
}
