import PatternCore
import HelmTemplate

/// Generates the Applications of an `ApplicationSet` (`argoproj.io/v1alpha1`) as Argo CD's
/// ApplicationSet controller would, for the generators that need no outside service:
///
/// - `list`: one parameter set per `elements` item;
/// - `clusters`: one per pattern site (`name`, `nameNormalized`, `server`, `metadata.labels.*`,
///   `values.*`), filtered by `selector` (`matchLabels`, `matchExpressions`);
/// - `git` `directories` (`path` globs, `exclude: true` entries) and `files` (each YAML/JSON
///   file's fields plus `path.*`), read from the pattern's own repository or through the resolver.
///
/// Templates use fasttemplate `{{name}}` replacement, or Go templates (`goTemplate: true`,
/// with `goTemplateOptions: ["missingkey=error"]`) executed by the HelmTemplate engine with
/// Sprig's functions. `matrix`, `merge` and the service-backed generators are errors.
struct ApplicationSetGenerator {
    let context: ExpansionContext

    static func isApplicationSet(_ v: Value) -> Bool {
        v.kindName == "ApplicationSet" && (v.apiVersion?.hasPrefix("argoproj.io/") ?? false)
    }

    static let specFields = ["generators", "template", "goTemplate", "goTemplateOptions", "syncPolicy", "strategy",
                             "preservedFields", "ignoreApplicationDifferences", "templatePatch", "applyNestedSelectors"]
    static let unsupportedGenerators: [String: String] = [
        "matrix": "matrix generators are not supported yet|write the combinations as a list generator",
        "merge": "merge generators are not supported yet|write the merged parameters as a list generator",
        "scmProvider": "it queries an SCM provider's API|list the repositories in a list generator",
        "pullRequest": "it queries a pull-request API|list the pull requests in a list generator",
        "clusterDecisionResource": "it reads a cluster decision resource from the cluster|use a clusters generator over pattern's sites",
        "plugin": "it calls a plugin service|list the parameters in a list generator",
    ]

    typealias Fetch = (_ url: String, _ revision: String?) throws(Diagnostics) -> (any SourceTree, String)

    func generate(_ v: Value, file: String, fetch: Fetch) throws(Diagnostics) -> [Value] {
        var r = ArgoReader(file: file)
        let top = r.map(v, "ApplicationSet", known: ["apiVersion", "kind", "metadata", "spec", "status"]) ?? Object()
        let meta = top["metadata"]?.object ?? Object()
        let setName = meta["name"]?.string ?? ""
        let spec = r.map(top["spec"], "spec", known: Self.specFields,
                         unsupported: ["templatePatch": "pattern does not apply template patches yet|put the fields into spec.template"]) ?? Object()
        let goTemplate = r.bool(spec, "goTemplate", "spec")
        let strict = r.strings(spec, "goTemplateOptions", "spec").contains { $0.0 == "missingkey=error" }
        guard let template = spec["template"], template.object != nil else {
            r.fail("ApplicationSet '\(setName)' needs spec.template", v)
            throw Diagnostics(r.problems)
        }
        var sets: [(params: Value, template: Value?)] = []
        for g in r.list(spec, "generators", "spec") {
            guard let go = r.map(g, "spec.generators[]", known: ["list", "clusters", "git", "selector"], unsupported: Self.unsupportedGenerators) else { continue }
            if go.count != 1 { r.fail("a generator sets exactly one kind (list, clusters or git)", g); continue }
            do {
                if let list = go["list"] { sets += try listParams(list, reader: &r) }
                if let clusters = go["clusters"] { sets += try clusterParams(clusters, goTemplate: goTemplate, reader: &r) }
                if let git = go["git"] { sets += try gitParams(git, goTemplate: goTemplate, reader: &r, fetch: fetch) }
            } catch {
                r.problems += error.items
            }
        }
        if !r.problems.isEmpty { throw Diagnostics(r.problems) }

        var out: [Value] = []
        var problems: [Diagnostic] = []
        for (params, override) in sets {
            var t = template
            if let override { t = Self.merge(t, override) }
            do {
                var app = try render(t, params: params, goTemplate: goTemplate, strict: strict, file: file)
                app["apiVersion"] = .string(argoAPIVersion)
                app["kind"] = "Application"
                if app[path: ["metadata", "namespace"]] == nil, let ns = meta["namespace"] { app[path: ["metadata", "namespace"]] = ns }
                out.append(app)
            } catch { problems += error.items }
        }
        if !problems.isEmpty { throw Diagnostics(problems) }
        return out
    }

    // MARK: Generators

    func listParams(_ v: Value, reader r: inout ArgoReader) throws(Diagnostics) -> [(params: Value, template: Value?)] {
        guard let o = r.map(v, "list generator", known: ["elements", "template", "elementsYaml"],
                            unsupported: ["elementsYaml": "not implemented by pattern yet|write the elements as a list"]) else { return [] }
        return r.list(o, "elements", "list generator").map { (params: $0, template: o["template"]) }
    }

    func clusterParams(_ v: Value, goTemplate: Bool, reader r: inout ArgoReader) throws(Diagnostics) -> [(params: Value, template: Value?)] {
        guard let o = r.map(v, "clusters generator", known: ["selector", "values", "template", "flatList"]) else {
            return try context.clusters().map { (params: Self.clusterParams($0, values: Object()), template: nil) }
        }
        let selector = o["selector"].map { LabelSelector($0, reader: &r) }
        let values = r.stringMap(o, "values", "clusters generator")
        var out: [(params: Value, template: Value?)] = []
        for c in try context.clusters() where selector?.matches(c.labels) ?? true {
            out.append((Self.clusterParams(c, values: values), o["template"]))
        }
        return out
    }

    static func clusterParams(_ c: ApplicationSetCluster, values: Object) -> Value {
        var labels = Object()
        for (k, v) in c.labels.sorted(by: { $0.key < $1.key }) { labels[k] = .string(v) }
        return ["name": .string(c.name), "nameNormalized": .string(normalize(c.name)), "server": .string(c.server),
                "metadata": ["labels": .object(labels), "annotations": .emptyObject], "values": .object(values)]
    }

    func gitParams(_ v: Value, goTemplate: Bool, reader r: inout ArgoReader, fetch: Fetch) throws(Diagnostics) -> [(params: Value, template: Value?)] {
        guard let o = r.map(v, "git generator", known: ["repoURL", "revision", "directories", "files", "template", "pathParamPrefix", "values", "requeueAfterSeconds"]) else { return [] }
        guard let url = r.string(o, "repoURL", "git generator") else { r.fail("a git generator needs repoURL", v); return [] }
        let (tree, display) = try fetch(url, r.string(o, "revision", "git generator"))
        var out: [(params: Value, template: Value?)] = []
        if o["directories"] != nil {
            var include: [Glob] = [], exclude: [Glob] = []
            for d in r.list(o, "directories", "git generator") {
                guard let dor = r.map(d, "git generator directories[]", known: ["path", "exclude"]), let p = r.string(dor, "path", "directories[]") else { continue }
                if r.bool(dor, "exclude", "directories[]") { exclude.append(Glob(p, slashStops: true)) } else { include.append(Glob(p, slashStops: true)) }
            }
            for dir in try Self.directories(tree) where include.contains(where: { $0.matches(dir) }) && !exclude.contains(where: { $0.matches(dir) }) {
                out.append((Self.pathParams(dir, goTemplate: goTemplate, file: false), o["template"]))
            }
        }
        if o["files"] != nil {
            for f in r.list(o, "files", "git generator") {
                guard let fo = r.map(f, "git generator files[]", known: ["path", "exclude"]), let p = r.string(fo, "path", "files[]") else { continue }
                let glob = Glob(p, slashStops: true)
                for path in try Self.files(tree) where glob.matches(path) {
                    let shown = display + path
                    let docs: [Value]
                    do {
                        let tp = try TreePath(path)
                        let bytes = try tree.readResolved(tp)
                        if bytes.count > context.limits.maxBytes { throw SourceTreeError(path: shown, message: "larger than \(context.limits.maxBytes) bytes") }
                        docs = try bytes.withUnsafeBufferPointer { b throws(Diagnostic) in
                            path.hasSuffix(".json") ? [try JSONParser().parse(bytes: b, file: shown)]
                                : try YAMLParser.parseStream(bytes: b, file: shown, limits: context.limits).map(\.value)
                        }
                    } catch let d as Diagnostic { throw Diagnostics([d]) } catch {
                        throw Diagnostics([.error("cannot read \(shown): \(error)", at: SourceLocation(file: shown))])
                    }
                    for doc in docs where !doc.isNull {
                        guard var params = doc.object.map(Value.object) else {
                            throw Diagnostics([.error("a git files generator file must hold a map, found \(doc.typeName)", at: SourceLocation(file: shown, mark: doc.mark))])
                        }
                        let pp = Self.pathParams(path, goTemplate: goTemplate, file: true)
                        for (k, x) in pp.object! { params[k] = x }
                        out.append((params, o["template"]))
                    }
                }
            }
        }
        return out
    }

    /// Every directory of the tree (relative paths, sorted), bounded.
    static func directories(_ tree: any SourceTree) throws(Diagnostics) -> [String] {
        var out: [String] = []
        func walk(_ dir: TreePath) throws {
            for e in try tree.list(dir) where e.kind == .directory && !e.name.hasPrefix(".") {
                let p = dir.appending(e.name)
                out.append(p.string)
                if out.count > 10_000 { throw SourceTreeError(path: p.string, message: "more than 10000 directories") }
                try walk(p)
            }
        }
        do { try walk(.root) } catch { throw Diagnostics([.error("cannot list the repository: \(error)")]) }
        return out.sorted()
    }

    static func files(_ tree: any SourceTree) throws(Diagnostics) -> [String] {
        do {
            return try tree.walkFiles(.root, maxDirectories: 10_000).map(\.string).sorted()
        } catch { throw Diagnostics([.error("cannot list the repository: \(error)")]) }
    }

    /// `path` parameters: fasttemplate flat keys (`path`, `path.basename`, `path[0]`, …) or,
    /// for Go templates, `.path.path`, `.path.basename`, `.path.segments`, ….
    static func pathParams(_ p: String, goTemplate: Bool, file: Bool) -> Value {
        let dir = file ? String(p.split(separator: "/").dropLast().joined(separator: "/")) : p
        let segments = dir.split(separator: "/").map(String.init)
        let base = segments.last ?? ""
        var o = Object()
        if goTemplate {
            var path: Value = ["path": .string(dir), "basename": .string(base), "basenameNormalized": .string(normalize(base)),
                               "segments": .array(segments.map(Value.string))]
            if file {
                let name = String(p.split(separator: "/").last ?? "")
                path["filename"] = .string(name); path["filenameNormalized"] = .string(normalize(name))
            }
            o["path"] = path
        } else {
            o["path"] = .string(dir)
            o["path.basename"] = .string(base)
            o["path.basenameNormalized"] = .string(normalize(base))
            for (i, s) in segments.enumerated() { o["path[\(i)]"] = .string(s) }
            if file {
                let name = String(p.split(separator: "/").last ?? "")
                o["path.filename"] = .string(name); o["path.filenameNormalized"] = .string(normalize(name))
            }
        }
        return .object(o)
    }

    /// Argo CD's `nameNormalized`: lowercase, characters outside `[a-z0-9-.]` become `-`.
    static func normalize(_ s: String) -> String {
        String(s.lowercased().map { ($0.isLetter && $0.isASCII) || ($0.isNumber && $0.isASCII) || $0 == "-" || $0 == "." ? $0 : "-" })
    }

    // MARK: Templates

    func render(_ template: Value, params: Value, goTemplate: Bool, strict: Bool, file: String) throws(Diagnostics) -> Value {
        if goTemplate {
            let data = TemplateValue(value: params)
            var problems: [Diagnostic] = []
            let out = Self.mapStrings(template) { s, mark in
                guard s.contains("{{") else { return s }
                do {
                    var set = TemplateSet()
                    try set.parse(name: "applicationset", text: s)
                    let renderer = TemplateRenderer(templates: set, options: strict ? .helmStrict : RenderOptions(missingKey: .invalid))
                    return try renderer.execute("applicationset", data: data)
                } catch {
                    problems.append(.error("ApplicationSet template: \(error)", at: SourceLocation(file: file, mark: mark),
                                           fix: "check the parameter names the generators provide (.name, .server, .path.basename, …)"))
                    return s
                }
            }
            if !problems.isEmpty { throw Diagnostics(problems) }
            return out
        }
        let flat = Self.flatten(params)
        return Self.mapStrings(template) { s, _ in Self.fasttemplate(s, flat) }
    }

    /// fasttemplate with `{{` `}}`: known keys (spaces trimmed) are replaced; unknown ones are kept.
    static func fasttemplate(_ s: String, _ params: [String: String]) -> String {
        guard s.contains("{{") else { return s }
        var out = ""
        var rest = Substring(s)
        while let open = rest.firstRange(of: "{{") {
            out += rest[..<open.lowerBound]
            guard let close = rest[open.upperBound...].firstRange(of: "}}") else { out += rest[open.lowerBound...]; return out }
            let key = rest[open.upperBound..<close.lowerBound].trimming(.spacesAndTabs)
            if let v = params[key] { out += v } else { out += rest[open.lowerBound..<close.upperBound] }
            rest = rest[close.upperBound...]
        }
        return out + rest
    }

    /// Flat `a.b.c` keys of a parameter map (list items as `a[0]` are not produced; nested maps are).
    static func flatten(_ v: Value) -> [String: String] {
        var out: [String: String] = [:]
        func walk(_ v: Value, _ prefix: String, depth: Int) {
            if depth > 32 { return }
            if let o = v.object {
                for (k, x) in o { walk(x, prefix.isEmpty ? k : prefix + "." + k, depth: depth + 1) }
            } else if let s = v.scalarText, v.isScalar {
                out[prefix] = v.isNull ? "" : s
            } else {
                out[prefix] = JSONWriter.string(v)
            }
        }
        walk(v, "", depth: 0)
        return out
    }

    static func mapStrings(_ v: Value, _ f: (String, Mark) -> String) -> Value {
        switch v.kind {
        case .string(let s): return Value(.string(f(s, v.mark)), mark: v.mark, quoted: v.quoted)
        case .array(let a): return Value(.array(a.map { mapStrings($0, f) }), mark: v.mark)
        case .object(let o):
            var out = Object()
            for (k, x) in o { out.set(f(k, x.mark), mapStrings(x, f), keyMark: o.keyMark(k) ?? .none) }
            return Value(.object(out), mark: v.mark)
        default: return v
        }
    }

    /// A generator's `template` over the set's: maps merge, everything else replaces.
    static func merge(_ base: Value, _ over: Value) -> Value {
        guard let b = base.object, let o = over.object else { return over }
        var out = b
        for (k, x) in o { out[k] = out[k].map { merge($0, x) } ?? x }
        return .object(out)
    }
}

/// A Kubernetes label selector (`matchLabels`, `matchExpressions` with In, NotIn, Exists,
/// DoesNotExist).
struct LabelSelector {
    var matchLabels: [String: String] = [:]
    var expressions: [(key: String, op: String, values: [String])] = []

    init(_ v: Value, reader r: inout ArgoReader) {
        guard let o = r.map(v, "selector", known: ["matchLabels", "matchExpressions"]) else { return }
        for (k, x) in r.stringMap(o, "matchLabels", "selector") { matchLabels[k] = x.string ?? "" }
        for e in r.list(o, "matchExpressions", "selector") {
            guard let eo = r.map(e, "matchExpressions[]", known: ["key", "operator", "values"]),
                  let key = r.string(eo, "key", "matchExpressions[]"), let op = r.string(eo, "operator", "matchExpressions[]") else { continue }
            if !["In", "NotIn", "Exists", "DoesNotExist"].contains(op) {
                r.fail("unknown selector operator '\(op)'", e, fix: "use In, NotIn, Exists or DoesNotExist")
            }
            expressions.append((key, op, r.strings(eo, "values", "matchExpressions[]").map(\.0)))
        }
    }

    func matches(_ labels: [String: String]) -> Bool {
        for (k, v) in matchLabels where labels[k] != v { return false }
        for e in expressions {
            let have = labels[e.key]
            switch e.op {
            case "In": if have == nil || !e.values.contains(have!) { return false }
            case "NotIn": if let have, e.values.contains(have) { return false }
            case "Exists": if have == nil { return false }
            case "DoesNotExist": if have != nil { return false }
            default: return false
            }
        }
        return true
    }
}
