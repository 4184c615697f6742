import PatternCore
import PatternDiff

/// The group and version of Argo CD's resources.
public let argoAPIVersion = "argoproj.io/v1alpha1"

/// An Argo CD `Application` (`argoproj.io/v1alpha1`), the fields pattern acts on.
///
/// Decoding is strict: a field Argo CD does not define is an error at its file:line; a field
/// pattern cannot honour (a `plugin`, `jsonnet`, `Replace=true`) is an error saying why and
/// what to do. Fields that only steer Argo CD's own controller (`project`, `syncPolicy.automated`,
/// `retry`, `info`, `revisionHistoryLimit`) are accepted and have no effect.
public struct Application: Sendable {
    public var name: String
    public var namespace: String?
    public var annotations: [String: String]
    /// `spec.source`, or `spec.sources` in order (`isMultiSource`).
    public var sources: [ApplicationSource]
    public var isMultiSource: Bool
    public var destination: Destination
    public var syncOptions: SyncOptions
    /// `syncPolicy.managedNamespaceMetadata`: put on the namespace `CreateNamespace=true` creates.
    public var managedNamespaceLabels: Object
    public var managedNamespaceAnnotations: Object
    public var ignoreDifferences: [IgnoreRule]
    /// Where the object was read (for messages).
    public var file: String
    public var mark: Mark

    public struct Destination: Sendable, Hashable {
        public var server: String?
        public var name: String?
        public var namespace: String?
    }
}

/// One source of an Application (`spec.source` or an item of `spec.sources`).
public struct ApplicationSource: Sendable {
    public var repoURL: String
    public var path: String?
    public var targetRevision: String?
    /// A chart name in a chart repository (`repoURL` is then the repository).
    public var chart: String?
    /// Names this source for `$ref/…` value files of the other sources.
    public var ref: String?
    public var helm: HelmSource?
    public var kustomize: KustomizeSource?
    public var directory: DirectorySource?
    public var mark: Mark
}

/// `source.helm`.
public struct HelmSource: Sendable {
    public var valueFiles: [(path: String, mark: Mark)] = []
    /// `values` (a YAML string) or `valuesObject` (a map; wins when both are set, as Argo CD).
    public var values: Value?
    public var parameters: [(name: String, value: String, forceString: Bool)] = []
    public var fileParameters: [(name: String, path: String, mark: Mark)] = []
    public var releaseName: String?
    public var namespace: String?
    public var skipCrds = false
    public var skipTests = false
    public var ignoreMissingValueFiles = false
    /// `version: v3` (the only Helm version); anything else is an error.
    public var kubeVersion: String?
    public var apiVersions: [String] = []
}

/// `source.kustomize`: the edits Argo CD makes with `kustomize edit` before building.
public struct KustomizeSource: Sendable {
    public var namePrefix: String?
    public var nameSuffix: String?
    public var images: [String] = []
    public var commonLabels: Object = Object()
    public var commonAnnotations: Object = Object()
    public var namespace: String?
    public var patches: [Value] = []
    public var replicas: [(name: String, count: Value)] = []
    public var components: [String] = []
}

/// `source.directory`.
public struct DirectorySource: Sendable {
    public var recurse = false
    /// Globs matched against the path relative to the source directory (Argo CD's `glob.Match`:
    /// `*` also matches `/`; `{a,b}` alternatives).
    public var include: String?
    public var exclude: String?
}

/// `syncPolicy.syncOptions` (and the `argocd.argoproj.io/sync-options` annotation).
public struct SyncOptions: Sendable, Hashable {
    public var createNamespace = false
    /// `Prune=false` (or `confirm`): objects get `pattern.dev/prune: disabled`.
    public var pruneDisabled = false

    /// Options that need nothing from pattern: server-side apply is how pattern always applies;
    /// the API server validates every object (there is no client-side validation to turn off);
    /// pattern writes only objects whose owned fields changed and always keeps ignored fields.
    static let accepted = ["ServerSideApply", "Validate", "ApplyOutOfSyncOnly", "RespectIgnoreDifferences",
                           "SkipDryRunOnMissingResource", "PruneLast", "PrunePropagationPolicy", "FailOnSharedResource",
                           "ClientSideApplyMigration", "Delete"]

    /// Parses `Key=value` entries. `Replace=true` and `Force=true` are errors: pattern never
    /// deletes and recreates an object to apply it.
    static func parse(_ entries: [(String, Mark)], file: String, into options: inout SyncOptions, problems: inout [Diagnostic]) {
        for (e, m) in entries {
            let kv = e.split(separator: "=", maxSplits: 1).map { String($0).trimmed }
            guard kv.count == 2 else {
                problems.append(.error("sync option '\(e)' is not Key=value", at: SourceLocation(file: file, mark: m),
                                       fix: "write it like CreateNamespace=true"))
                continue
            }
            let (k, v) = (kv[0], kv[1].lowercased())
            switch k {
            case "CreateNamespace": options.createNamespace = v == "true"
            case "Prune": options.pruneDisabled = v == "false" || v == "confirm"
            case "Replace", "Force":
                if v == "true" {
                    problems.append(.error("sync option \(k)=true is not supported: pattern applies every object with server-side apply and never deletes and recreates one",
                                           at: SourceLocation(file: file, mark: m),
                                           fix: "remove \(k)=true; for a field the API server refuses to change, delete the object once by hand (kubectl delete) and apply again"))
                }
            default:
                if k == "Delete" && v == "false" { options.pruneDisabled = true }
                if !accepted.contains(k) {
                    problems.append(.error("unknown sync option '\(k)'", at: SourceLocation(file: file, mark: m),
                                           fix: "Argo CD's sync options: CreateNamespace, Prune, ServerSideApply, Validate, ApplyOutOfSyncOnly, RespectIgnoreDifferences, PruneLast, …"))
                }
            }
        }
    }
}

extension String {
    var trimmed: String {
        var s = Substring(self)
        while s.first == " " || s.first == "\t" { s = s.dropFirst() }
        while s.last == " " || s.last == "\t" { s = s.dropLast() }
        return String(s)
    }
}

// MARK: - Strict decoding

/// A strict reader of Argo CD objects: unknown fields and wrong types become diagnostics at
/// the value's file:line:column, naming the field's path (`spec.source.helm.valueFiles`).
struct ArgoReader {
    let file: String
    var problems: [Diagnostic] = []

    func at(_ v: Value) -> SourceLocation { SourceLocation(file: file, mark: v.mark) }

    mutating func fail(_ message: String, _ v: Value, fix: String? = nil) { problems.append(.error(message, at: at(v), fix: fix)) }

    /// The map at `path` of `parent`, checking its keys against `known` and refusing those in
    /// `unsupported` (with their reason).
    mutating func map(_ v: Value?, _ path: String, known: [String], unsupported: [String: String] = [:]) -> Object? {
        guard let v, !v.isNull else { return nil }
        guard let o = v.object else { fail("\(path) must be a map, found \(v.typeName)", v); return nil }
        for (k, x) in o {
            let loc = SourceLocation(file: file, mark: o.keyMark(k) ?? x.mark)
            if let why = unsupported[k] {
                problems.append(.error("\(path).\(k) is not supported: \(why.split(separator: "|")[0])", at: loc,
                                       fix: why.split(separator: "|").dropFirst().first.map(String.init)))
            } else if !known.contains(k) {
                let hint = known.min(by: { distance($0, k) < distance($1, k) }).flatMap { distance($0, k) <= 3 ? "did you mean '\($0)'?" : nil }
                problems.append(.error("unknown field '\(k)' in \(path)", at: loc, fix: hint ?? "known fields: \(known.joined(separator: ", "))"))
            }
        }
        return o
    }

    mutating func string(_ o: Object, _ k: String, _ path: String) -> String? {
        guard let v = o[k], !v.isNull else { return nil }
        if let s = v.string { return s }
        if v.isScalar, let t = v.scalarText, k == "targetRevision" || k == "value" || k == "version" { return t }
        fail("\(path).\(k) must be a string, found \(v.typeName)", v, fix: "quote the value")
        return nil
    }

    mutating func bool(_ o: Object, _ k: String, _ path: String) -> Bool {
        guard let v = o[k], !v.isNull else { return false }
        if let b = v.bool { return b }
        fail("\(path).\(k) must be true or false, found \(v.typeName)", v)
        return false
    }

    mutating func strings(_ o: Object, _ k: String, _ path: String) -> [(String, Mark)] {
        guard let v = o[k], !v.isNull else { return [] }
        guard let a = v.array else { fail("\(path).\(k) must be a list of strings, found \(v.typeName)", v, fix: "write it as a list: [a, b]"); return [] }
        var out: [(String, Mark)] = []
        for x in a { if let s = x.string { out.append((s, x.mark)) } else { fail("\(path).\(k) entries must be strings, found \(x.typeName)", x) } }
        return out
    }

    mutating func list(_ o: Object, _ k: String, _ path: String) -> [Value] {
        guard let v = o[k], !v.isNull else { return [] }
        guard let a = v.array else { fail("\(path).\(k) must be a list, found \(v.typeName)", v); return [] }
        return a
    }

    mutating func stringMap(_ o: Object, _ k: String, _ path: String) -> Object {
        guard let v = o[k], !v.isNull else { return Object() }
        guard let m = v.object else { fail("\(path).\(k) must be a map of strings, found \(v.typeName)", v); return Object() }
        var out = Object()
        for (key, x) in m {
            if let s = x.scalarText, x.isScalar, !x.isNull { out[key] = .string(s) } else { fail("\(path).\(k).\(key) must be a string", x) }
        }
        return out
    }

    func distance(_ a: String, _ b: String) -> Int {
        let a = Array(a.lowercased()), b = Array(b.lowercased())
        if a.isEmpty || b.isEmpty { return max(a.count, b.count) }
        var prev = Array(0...b.count)
        for i in 1...a.count {
            var cur = [i] + [Int](repeating: 0, count: b.count)
            for j in 1...b.count { cur[j] = min(prev[j] + 1, cur[j - 1] + 1, prev[j - 1] + (a[i - 1] == b[j - 1] ? 0 : 1)) }
            prev = cur
        }
        return prev[b.count]
    }
}

extension Application {
    static let specFields = ["project", "source", "sources", "destination", "syncPolicy", "ignoreDifferences", "info",
                             "revisionHistoryLimit"]
    static let sourceFields = ["repoURL", "path", "targetRevision", "chart", "ref", "name", "helm", "kustomize", "directory"]
    static let helmFields = ["valueFiles", "values", "valuesObject", "parameters", "fileParameters", "releaseName", "namespace",
                             "skipCrds", "skipTests", "skipSchemaValidation", "ignoreMissingValueFiles", "version", "kubeVersion",
                             "apiVersions", "passCredentials"]
    static let kustomizeFields = ["namePrefix", "nameSuffix", "images", "commonLabels", "commonAnnotations", "namespace", "patches",
                                  "replicas", "components", "forceCommonLabels", "forceCommonAnnotations", "version"]

    /// True for an `argoproj.io/*` `Application`.
    public static func isApplication(_ v: Value) -> Bool {
        v.kindName == "Application" && (v.apiVersion?.hasPrefix("argoproj.io/") ?? false)
    }

    /// Decodes an Application object read from `file`.
    public static func decode(_ v: Value, file: String) throws(Diagnostics) -> Application {
        var r = ArgoReader(file: file)
        if v.apiVersion != argoAPIVersion {
            r.fail("Application apiVersion \(v.apiVersion ?? "?") is not supported", v, fix: "use apiVersion: \(argoAPIVersion)")
        }
        let top = r.map(v, "Application", known: ["apiVersion", "kind", "metadata", "spec", "status", "operation"]) ?? Object()
        let meta = r.map(top["metadata"], "metadata", known: ["name", "namespace", "labels", "annotations", "finalizers", "generateName", "uid",
                                                              "resourceVersion", "generation", "creationTimestamp", "managedFields", "ownerReferences", "deletionTimestamp"]) ?? Object()
        let name = r.string(meta, "name", "metadata") ?? ""
        if name.isEmpty { r.fail("an Application needs metadata.name", v) }
        var annotations: [String: String] = [:]
        for (k, x) in r.stringMap(meta, "annotations", "metadata") { annotations[k] = x.string }
        let spec = r.map(top["spec"], "spec", known: specFields,
                         unsupported: ["sourceHydrator": "pattern renders sources itself|use spec.source with the path the hydrator reads"]) ?? Object()

        var sources: [ApplicationSource] = []
        let multi = spec["sources"] != nil && !(spec["sources"]!.isNull)
        if multi {
            if spec["source"] != nil && !(spec["source"]!.isNull) {
                r.fail("an Application sets both spec.source and spec.sources", spec["sources"]!, fix: "keep one: Argo CD ignores spec.source when spec.sources is set")
            }
            for (i, s) in r.list(spec, "sources", "spec").enumerated() {
                if let src = decodeSource(s, path: "spec.sources[\(i)]", reader: &r) { sources.append(src) }
            }
        } else if let s = spec["source"], let src = decodeSource(s, path: "spec.source", reader: &r) {
            sources.append(src)
        }
        if sources.isEmpty && r.problems.isEmpty {
            r.fail("Application '\(name)' has no source", v, fix: "add spec.source: {repoURL: …, path: …} or spec.sources")
        }
        var refs: Set<String> = []
        for s in sources {
            guard let ref = s.ref else { continue }
            if !refs.insert(ref).inserted { r.problems.append(.error("two sources share ref '\(ref)'", at: SourceLocation(file: file, mark: s.mark))) }
        }

        var destination = Destination()
        if let d = r.map(spec["destination"], "spec.destination", known: ["server", "name", "namespace"]) {
            destination = Destination(server: r.string(d, "server", "spec.destination"), name: r.string(d, "name", "spec.destination"),
                                      namespace: r.string(d, "namespace", "spec.destination"))
        }
        var options = SyncOptions()
        var nsLabels = Object(), nsAnnotations = Object()
        if let sp = r.map(spec["syncPolicy"], "spec.syncPolicy", known: ["automated", "syncOptions", "retry", "managedNamespaceMetadata"]) {
            SyncOptions.parse(r.strings(sp, "syncOptions", "spec.syncPolicy"), file: file, into: &options, problems: &r.problems)
            if let mm = r.map(sp["managedNamespaceMetadata"], "spec.syncPolicy.managedNamespaceMetadata", known: ["labels", "annotations"]) {
                nsLabels = r.stringMap(mm, "labels", "spec.syncPolicy.managedNamespaceMetadata")
                nsAnnotations = r.stringMap(mm, "annotations", "spec.syncPolicy.managedNamespaceMetadata")
            }
        }
        var ignore: [IgnoreRule] = []
        if let id = spec["ignoreDifferences"] {
            do { ignore = try IgnoreRule.decodeList(id, file: file, in: "Application '\(name)'") } catch { r.problems += error.items }
        }
        if !r.problems.isEmpty { throw Diagnostics(r.problems) }
        return Application(name: name, namespace: r.string(meta, "namespace", "metadata"), annotations: annotations, sources: sources,
                           isMultiSource: multi, destination: destination, syncOptions: options,
                           managedNamespaceLabels: nsLabels, managedNamespaceAnnotations: nsAnnotations,
                           ignoreDifferences: ignore, file: file, mark: v.mark)
    }

    static func decodeSource(_ v: Value, path: String, reader r: inout ArgoReader) -> ApplicationSource? {
        guard let o = r.map(v, path, known: sourceFields, unsupported: [
            "plugin": "config management plugins run arbitrary programs in Argo CD's repo server|render the manifests into the repository (or use a Helm chart or Kustomize directory) and point the source at them",
        ]) else { return nil }
        let repoURL = r.string(o, "repoURL", path) ?? ""
        if repoURL.isEmpty { r.fail("\(path) needs repoURL", v) }
        var src = ApplicationSource(repoURL: repoURL, path: r.string(o, "path", path), targetRevision: r.string(o, "targetRevision", path),
                                    chart: r.string(o, "chart", path), ref: r.string(o, "ref", path), mark: v.mark)
        _ = r.string(o, "name", path)
        if let h = r.map(o["helm"], "\(path).helm", known: helmFields) {
            let hp = "\(path).helm"
            var helm = HelmSource()
            helm.valueFiles = r.strings(h, "valueFiles", hp).map { (path: $0.0, mark: $0.1) }
            if let vo = h["valuesObject"], !vo.isNull {
                if vo.object == nil { r.fail("\(hp).valuesObject must be a map, found \(vo.typeName)", vo) } else { helm.values = vo }
            } else if let vs = h["values"], !vs.isNull {
                if let s = vs.string {
                    do {
                        let docs = try Array(s.utf8).withUnsafeBufferPointer { b throws(Diagnostic) in
                            try YAMLParser.parseStream(bytes: b, file: "\(r.file) (\(hp).values)")
                        }
                        let value = docs.first?.value ?? .null
                        if !value.isNull && value.object == nil { r.fail("\(hp).values must hold a YAML map, found \(value.typeName)", vs) }
                        else if !value.isNull { helm.values = value }
                    } catch { r.problems.append(error) }
                } else if vs.object != nil {
                    helm.values = vs  // Argo CD accepts a map here too (it is stored as YAML text)
                } else { r.fail("\(hp).values must be a YAML string, found \(vs.typeName)", vs, fix: "write it as a block string: values: |") }
            }
            for p in r.list(h, "parameters", hp) {
                guard let po = r.map(p, "\(hp).parameters[]", known: ["name", "value", "forceString"]) else { continue }
                guard let n = r.string(po, "name", "\(hp).parameters[]") else { r.fail("a helm parameter needs a name", p); continue }
                helm.parameters.append((n, r.string(po, "value", "\(hp).parameters[]") ?? "", r.bool(po, "forceString", "\(hp).parameters[]")))
            }
            for p in r.list(h, "fileParameters", hp) {
                guard let po = r.map(p, "\(hp).fileParameters[]", known: ["name", "path"]) else { continue }
                guard let n = r.string(po, "name", "\(hp).fileParameters[]"), let fp = r.string(po, "path", "\(hp).fileParameters[]") else {
                    r.fail("a helm fileParameter needs name and path", p); continue
                }
                helm.fileParameters.append((n, fp, p.mark))
            }
            helm.releaseName = r.string(h, "releaseName", hp)
            helm.namespace = r.string(h, "namespace", hp)
            helm.skipCrds = r.bool(h, "skipCrds", hp)
            helm.skipTests = r.bool(h, "skipTests", hp)
            _ = r.bool(h, "skipSchemaValidation", hp)
            _ = r.bool(h, "passCredentials", hp)
            helm.ignoreMissingValueFiles = r.bool(h, "ignoreMissingValueFiles", hp)
            if let ver = r.string(h, "version", hp), ver != "v3" {
                r.fail("\(hp).version \(ver) is not supported", h["version"]!, fix: "pattern renders charts as Helm v3; remove the field or set v3")
            }
            helm.kubeVersion = r.string(h, "kubeVersion", hp)
            helm.apiVersions = r.strings(h, "apiVersions", hp).map(\.0)
            src.helm = helm
        }
        if let k = r.map(o["kustomize"], "\(path).kustomize", known: kustomizeFields,
                         unsupported: ["commonAnnotationsEnvsubst": "it substitutes Argo CD's build environment|write the values into commonAnnotations",
                                       "labelWithoutSelector": "not implemented by pattern yet|add the labels with a labels: entry in kustomization.yaml",
                                       "kubeVersion": "not implemented by pattern yet|remove it",
                                       "apiVersions": "not implemented by pattern yet|remove it"]) {
            let kp = "\(path).kustomize"
            var ks = KustomizeSource()
            ks.namePrefix = r.string(k, "namePrefix", kp)
            ks.nameSuffix = r.string(k, "nameSuffix", kp)
            ks.images = r.strings(k, "images", kp).map(\.0)
            ks.commonLabels = r.stringMap(k, "commonLabels", kp)
            ks.commonAnnotations = r.stringMap(k, "commonAnnotations", kp)
            ks.namespace = r.string(k, "namespace", kp)
            ks.patches = r.list(k, "patches", kp)
            ks.components = r.strings(k, "components", kp).map(\.0)
            _ = r.bool(k, "forceCommonLabels", kp)
            _ = r.bool(k, "forceCommonAnnotations", kp)
            _ = r.string(k, "version", kp)
            for rep in r.list(k, "replicas", kp) {
                guard let ro = r.map(rep, "\(kp).replicas[]", known: ["name", "count"]) else { continue }
                // Plain `switch` on purpose: `c.int.map(Value.int) ?? …` here made the Swift 6.3
                // optimizer abort (CopyPropagation, "Found ownership error").
                var count: Int? = nil
                if let c = ro["count"] {
                    switch c.kind {
                    case .int(let i): count = i
                    case .string(let s): count = Int(s)
                    default: break
                    }
                }
                guard let n = r.string(ro, "name", "\(kp).replicas[]"), let count else {
                    r.fail("a kustomize replicas entry needs name and an integer count", rep); continue
                }
                ks.replicas.append((n, .int(count)))
            }
            src.kustomize = ks
        }
        if let d = r.map(o["directory"], "\(path).directory", known: ["recurse", "include", "exclude", "jsonnet"]) {
            let dp = "\(path).directory"
            var ds = DirectorySource()
            ds.recurse = r.bool(d, "recurse", dp)
            ds.include = r.string(d, "include", dp)
            ds.exclude = r.string(d, "exclude", dp)
            if let j = d["jsonnet"], let jo = j.object, !jo.isEmpty {
                r.fail("\(dp).jsonnet is not supported: pattern has no Jsonnet engine", j,
                       fix: "render the Jsonnet to YAML in the repository (jsonnet -y), or exclude the .jsonnet files")
            }
            src.directory = ds
        }
        let kinds = [src.helm != nil, src.kustomize != nil, src.directory != nil].filter { $0 }.count
        if kinds > 1 { r.fail("\(path) sets more than one of helm, kustomize and directory", v, fix: "keep the one that matches the source's files") }
        if src.path == nil && src.chart == nil && src.ref == nil {
            r.fail("\(path) needs path (a directory in the repository) or chart (a chart in a chart repository)", v)
        }
        return src
    }
}
