import PatternCore
import HelmTemplate

/// The chart layer's template engine: HelmTemplate (Go text/template + Sprig + Helm functions)
/// with `.Chart`, `.Files`, `.Capabilities`, `.Release`, `.Template`, `.Subcharts` built as Helm
/// builds them, and `lookup` answered by the render's `LookupSession`.
public struct HelmTemplateEngine: ChartTemplateEngine {
    /// Allow `now`, `randAlphaNum`, `uuidv4`, … (output then differs between renders).
    public var allowNondeterministic: Bool
    /// Helm's `--strict` (missing keys are errors).
    public var strict: Bool

    public init(allowNondeterministic: Bool = false, strict: Bool = false) {
        self.allowNondeterministic = allowNondeterministic
        self.strict = strict
    }

    public func render(_ job: TemplateJob) throws(ChartError) -> [String: String] {
        var functions = FunctionMap.helm
        let session = job.lookup
        // `FunctionMap.helm`'s own `lookup` already answers empty maps: keeping the map unchanged
        // keeps its prebuilt function index (no per-chart dictionary copy and re-index).
        if case .empty = session.mode {} else { functions["lookup"] = TemplateFunction(params: [.string, .string, .string, .string]) { c in
            let r = try session.lookup(apiVersion: c.args[0].stringValue ?? "", kind: c.args[1].stringValue ?? "",
                                       namespace: c.args[2].stringValue ?? "", name: c.args[3].stringValue ?? "")
            return TemplateConversion.data(r)
        } }
        var set = TemplateSet(functions: functions)
        for t in job.templates {
            do { try set.parse(name: t.name, text: t.text) } catch { throw ChartError(diagnostic(error, job)) }
        }
        var options = strict ? RenderOptions.helmStrict : RenderOptions.helm
        options.allowNondeterministic = allowNondeterministic
        let renderer = TemplateRenderer(templates: set, functions: functions, options: options)

        // One `next` map per chart scope, children first so `.Subcharts` can point at them.
        let release = TemplateValue.dict([
            "Name": .string(job.release.name), "Namespace": .string(job.release.namespace),
            "IsUpgrade": .bool(job.release.isUpgrade), "IsInstall": .bool(job.release.isInstall),
            "Revision": .int(job.release.revision), "Service": "Helm",
        ])
        let caps = TemplateValue.object(CapabilitiesObject(job.capabilities))
        var scopeMaps: [TemplateMap?] = Array(repeating: nil, count: job.scopes.count)
        let rootValues = TemplateConversion.values(job.scopes.first?.values ?? .emptyObject)
        func build(_ i: Int, values: TemplateValue) -> TemplateMap {
            let s = job.scopes[i]
            var subcharts: [String: TemplateValue] = [:]
            let m = TemplateMap([
                "Chart": .object(ChartObject(s.metadata, isRoot: s.isRoot)),
                "Files": .object(FilesObject(s.files)),
                "Release": release,
                "Capabilities": caps,
                "Values": values,
            ])
            for c in s.children {
                let name = job.scopes[c].metadata.name
                var childValues = TemplateValue.dict([:])
                if case .map(let vm) = values, let sub = vm[name], case .map = sub { childValues = sub }
                subcharts[name] = .map(build(c, values: childValues))
            }
            m["Subcharts"] = .dict(subcharts)
            scopeMaps[i] = m
            return m
        }
        if !job.scopes.isEmpty { _ = build(0, values: rootValues) }

        var out: [String: String] = [:]
        for t in job.templates where t.produces {
            guard let scope = scopeMaps[t.scope] else { continue }
            let data = scope.copy()
            data["Template"] = .dict(["Name": .string(t.name), "BasePath": .string(t.basePath)])
            do {
                out[t.name] = try renderer.execute(t.name, data: .map(data))
            } catch {
                throw ChartError(diagnostic(error, job))
            }
        }
        return out
    }

    /// A template error as a diagnostic at the chart file in the repository.
    func diagnostic(_ e: TemplateError, _ job: TemplateJob) -> Diagnostic {
        var d = e.diagnostic
        if let loc = d.location { d.location = SourceLocation(file: job.display(loc.file), mark: loc.mark) }
        if let f = d.fix, f.hasPrefix("fix: ") { d.fix = String(f.dropFirst(5)) }
        if d.fix == nil {
            switch e.kind {
            case .parse: d.fix = "fix the template syntax at this line"
            case .nondeterministic: d.fix = "set the value explicitly in the chart's values so every render gives the same output"
            case .limit: d.fix = "the template recursed or produced too much output; check include/tpl loops"
            case .execution: d.fix = "check the values this template reads (render with `pattern render <chart-dir>` to iterate)"
            }
        }
        return d
    }
}

extension TemplateJob {
    /// Maps a template name (`web/charts/db/templates/x.yaml`) to the file as the user sees it.
    func display(_ templateName: String) -> String {
        var best: (Int, String)? = nil
        for s in scopes {
            let prefix = s.fullPath + "/"
            if templateName.hasPrefix(prefix), best == nil || prefix.count > best!.0 {
                best = (prefix.count, s.origin.isEmpty ? String(templateName.dropFirst(prefix.count)) : s.origin + "/" + templateName.dropFirst(prefix.count))
            }
        }
        return best?.1 ?? templateName
    }
}

/// PatternCore values → Go-typed template values, as Helm sees them.
public enum TemplateConversion {
    /// Values: numbers are float64 (values files through JSON), except integers that came
    /// from `--set` (marked by `HelmValues.markSetIntegers`), which stay int64.
    public static func values(_ v: Value) -> TemplateValue {
        switch v.kind {
        case .null: return .null
        case .bool(let b): return .bool(b)
        case .int(let i): return v.quoted ? .int64(Int64(i)) : .float64(Double(i))
        case .double(let d): return .float64(d)
        case .string(let s): return .string(s)
        case .array(let a): return .list(a.map(values))
        case .object(let o):
            var m: [String: TemplateValue] = [:]
            m.reserveCapacity(o.count)
            for (k, x) in o { m[k] = values(x) }
            return .map(TemplateMap(m))
        }
    }

    /// API data (lookup results): integers int64, as unstructured JSON decoding gives.
    public static func data(_ v: Value) -> TemplateValue { TemplateValue(value: v) }
}

/// `.Chart`: chart.Metadata plus IsRoot.
struct ChartObject: TemplateObject {
    let m: ChartMetadata
    let isRoot: Bool
    init(_ m: ChartMetadata, isRoot: Bool) { self.m = m; self.isRoot = isRoot }

    var goTypeName: String { "struct { *chart.Metadata; IsRoot bool }" }

    func field(_ name: String) -> TemplateValue? {
        switch name {
        case "Name": return .string(m.name)
        case "Home": return .string(m.home)
        case "Sources": return .list(m.sources.map { .string($0) })
        case "Version": return .string(m.version)
        case "Description": return .string(m.description)
        case "Keywords": return .list(m.keywords.map { .string($0) })
        case "Maintainers": return .list(m.maintainers.map { .object(MaintainerObject(m: $0)) })
        case "Icon": return .string(m.icon)
        case "APIVersion": return .string(m.apiVersion)
        case "Condition": return .string(m.condition)
        case "Tags": return .string(m.tags)
        case "AppVersion": return .string(m.appVersion)
        case "Deprecated": return .bool(m.deprecated)
        case "Annotations":
            var d: [String: TemplateValue] = [:]
            for (k, v) in m.annotations { d[k] = .string(v) }
            return .dict(d)
        case "KubeVersion": return .string(m.kubeVersion)
        case "Dependencies": return .list(m.dependencies.map { .object(DependencyObject(d: $0)) })
        case "Type": return .string(m.type)
        case "IsRoot": return .bool(isRoot)
        default: return nil
        }
    }
    func method(_ name: String) -> TemplateMethod? { nil }

    var dataValue: TemplateValue? {
        var d: [String: TemplateValue] = ["name": .string(m.name), "version": .string(m.version), "apiVersion": .string(m.apiVersion), "IsRoot": .bool(isRoot)]
        func put(_ k: String, _ s: String) { if !s.isEmpty { d[k] = .string(s) } }
        put("home", m.home); put("description", m.description); put("icon", m.icon); put("condition", m.condition)
        put("tags", m.tags); put("appVersion", m.appVersion); put("kubeVersion", m.kubeVersion); put("type", m.type)
        if !m.sources.isEmpty { d["sources"] = field("Sources") }
        if !m.keywords.isEmpty { d["keywords"] = field("Keywords") }
        if !m.maintainers.isEmpty { d["maintainers"] = .list(m.maintainers.map { MaintainerObject(m: $0).dataValue! }) }
        if m.deprecated { d["deprecated"] = .bool(true) }
        if !m.annotations.isEmpty { d["annotations"] = field("Annotations") }
        if !m.dependencies.isEmpty { d["dependencies"] = .list(m.dependencies.map { DependencyObject(d: $0).dataValue! }) }
        return .dict(d)
    }
}

struct MaintainerObject: TemplateObject {
    let m: ChartMetadata.Maintainer
    var goTypeName: String { "*chart.Maintainer" }
    func field(_ name: String) -> TemplateValue? {
        switch name {
        case "Name": return .string(m.name)
        case "Email": return .string(m.email)
        case "URL": return .string(m.url)
        default: return nil
        }
    }
    func method(_ name: String) -> TemplateMethod? { nil }
    var dataValue: TemplateValue? {
        var d: [String: TemplateValue] = ["name": .string(m.name)]
        if !m.email.isEmpty { d["email"] = .string(m.email) }
        if !m.url.isEmpty { d["url"] = .string(m.url) }
        return .dict(d)
    }
}

struct DependencyObject: TemplateObject {
    let d: ChartDependency
    var goTypeName: String { "*chart.Dependency" }
    func field(_ name: String) -> TemplateValue? {
        switch name {
        case "Name": return .string(d.name)
        case "Version": return .string(d.version)
        case "Repository": return .string(d.repository)
        case "Condition": return .string(d.condition)
        case "Tags": return .list(d.tags.map { .string($0) })
        case "Enabled": return .bool(d.enabled)
        case "ImportValues": return .list(d.importValues.map { TemplateValue(value: $0) })
        case "Alias": return .string(d.alias)
        default: return nil
        }
    }
    func method(_ name: String) -> TemplateMethod? { nil }
    var dataValue: TemplateValue? {
        var o: [String: TemplateValue] = ["name": .string(d.name), "repository": .string(d.repository)]
        if !d.version.isEmpty { o["version"] = .string(d.version) }
        if !d.condition.isEmpty { o["condition"] = .string(d.condition) }
        if !d.tags.isEmpty { o["tags"] = field("Tags") }
        if d.enabled { o["enabled"] = .bool(true) }
        if !d.alias.isEmpty { o["alias"] = .string(d.alias) }
        return .dict(o)
    }
}

/// `.Capabilities`.
struct CapabilitiesObject: TemplateObject {
    let c: Capabilities
    init(_ c: Capabilities) { self.c = c }
    var goTypeName: String { "*chartutil.Capabilities" }
    func field(_ name: String) -> TemplateValue? {
        switch name {
        case "KubeVersion": return .object(KubeVersionObject(v: c.kubeVersion))
        case "APIVersions": return .object(APIVersionsObject(versions: c.apiVersions, set: Set(c.apiVersions)))
        case "HelmVersion": return .object(HelmVersionObject(version: c.helmVersion))
        default: return nil
        }
    }
    func method(_ name: String) -> TemplateMethod? { nil }
    var dataValue: TemplateValue? {
        .dict(["KubeVersion": KubeVersionObject(v: c.kubeVersion).dataValue!, "APIVersions": .list(c.apiVersions.map { .string($0) }),
               "HelmVersion": HelmVersionObject(version: c.helmVersion).dataValue!])
    }
}

struct KubeVersionObject: TemplateObject {
    let v: KubeVersion
    var goTypeName: String { "chartutil.KubeVersion" }
    func field(_ name: String) -> TemplateValue? {
        switch name {
        case "Version", "GitVersion": return .string(v.version)
        case "Major": return .string(v.major)
        case "Minor": return .string(v.minor)
        default: return nil
        }
    }
    func method(_ name: String) -> TemplateMethod? {
        name == "String" ? TemplateMethod { _ in .string(v.version) } : nil
    }
    var dataValue: TemplateValue? { .dict(["Version": .string(v.version), "Major": .string(v.major), "Minor": .string(v.minor)]) }
    var goFormatted: String? { v.version }
}

struct APIVersionsObject: TemplateObject {
    let versions: [String]
    let set: Set<String>
    var goTypeName: String { "chartutil.VersionSet" }
    var goKind: String { "slice" }
    func field(_ name: String) -> TemplateValue? { nil }
    func method(_ name: String) -> TemplateMethod? {
        name == "Has" ? TemplateMethod(params: [.string]) { args in .bool(set.contains(args[0].stringValue ?? "")) } : nil
    }
    var dataValue: TemplateValue? { .list(versions.map { .string($0) }) }
}

struct HelmVersionObject: TemplateObject {
    let version: String
    var goTypeName: String { "version.BuildInfo" }
    func field(_ name: String) -> TemplateValue? {
        switch name {
        case "Version": return .string(version)
        case "GitCommit": return ""
        case "GitTreeState": return "clean"
        case "GoVersion": return "go1.22"
        default: return nil
        }
    }
    func method(_ name: String) -> TemplateMethod? { nil }
    var dataValue: TemplateValue? {
        .dict(["version": .string(version), "git_tree_state": "clean", "go_version": "go1.22"])
    }
}

/// `.Files`: the chart's non-template files (Helm's `engine.files`).
struct FilesObject: TemplateObject {
    let files: [ChartFile]
    let byName: [String: Int]
    init(_ files: [ChartFile]) {
        self.files = files
        var m: [String: Int] = [:]
        for (i, f) in files.enumerated() { m[f.name] = i }
        byName = m
    }
    var goTypeName: String { "engine.files" }
    var goKind: String { "map" }
    func field(_ name: String) -> TemplateValue? { nil }

    func text(_ name: String) -> String { byName[name].map { String(decoding: files[$0].data, as: UTF8.self) } ?? "" }

    func method(_ name: String) -> TemplateMethod? {
        switch name {
        case "Get":
            return TemplateMethod(params: [.string]) { a in .string(text(a[0].stringValue ?? "")) }
        case "GetBytes":
            return TemplateMethod(params: [.string]) { a in .string(text(a[0].stringValue ?? "")) }
        case "Lines":
            return TemplateMethod(params: [.string]) { a in
                guard let i = byName[a[0].stringValue ?? ""] else { return .list([]) }
                // As Helm: the final LF byte ends the last line (a CRLF file's lines keep their "\r").
                var data = files[i].data[...]
                if data.last == 0x0A { data = data.dropLast() }
                return .list(String(decoding: data, as: UTF8.self).linesAtLineFeeds().map { .string(String($0)) })
            }
        case "Glob":
            return TemplateMethod(params: [.string]) { a in
                let pattern = a[0].stringValue ?? ""
                return .object(FilesObject(files.filter { FileGlob.match(pattern, $0.name) }))
            }
        case "AsConfig":
            return TemplateMethod { _ in .string(asMap(base64: false)) }
        case "AsSecrets":
            return TemplateMethod { _ in .string(asMap(base64: true)) }
        default:
            return nil
        }
    }

    /// `AsConfig`/`AsSecrets`: base name → content (base64 for secrets) as YAML, keys sorted.
    func asMap(base64: Bool) -> String {
        if files.isEmpty { return "" }
        var o = Object()
        for f in files.sorted(by: { $0.name < $1.name }) {
            let base = f.name.split(separator: "/").last.map(String.init) ?? f.name
            o[base] = .string(base64 ? Base64.encode(f.data) : String(decoding: f.data, as: UTF8.self))
        }
        var s = YAMLEmitter(options: .init(sortKeys: true)).emit(.object(o))
        while s.hasSuffix("\n") { s.removeLast() }
        return s
    }

    var dataValue: TemplateValue? {
        var d: [String: TemplateValue] = [:]
        for f in files { d[f.name] = .string(String(decoding: f.data, as: UTF8.self)) }
        return .dict(d)
    }

    /// `range $path, $content := .Files.Glob "…"`: file paths in sorted order with their
    /// contents (Go gives `[]byte`; here the content as a string, see Docs/helm.md).
    var rangeEntries: [(key: String, value: TemplateValue)]? {
        files.sorted { $0.name < $1.name }.map { (key: $0.name, value: .string(String(decoding: $0.data, as: UTF8.self))) }
    }
}
