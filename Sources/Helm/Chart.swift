import PatternCore

/// `Chart.yaml` (Helm's `chart.Metadata`), apiVersion v2 or v1.
public struct ChartMetadata: Sendable {
    public struct Maintainer: Sendable, Hashable {
        public var name: String, email: String, url: String
    }

    public var apiVersion: String
    public var name: String
    public var version: String
    public var appVersion: String
    public var description: String
    public var type: String
    public var kubeVersion: String
    public var home: String
    public var icon: String
    public var condition: String
    public var tags: String
    public var deprecated: Bool
    public var sources: [String]
    public var keywords: [String]
    public var maintainers: [Maintainer]
    /// Annotations in file order.
    public var annotations: [(key: String, value: String)]
    public var dependencies: [ChartDependency]
    /// The parsed file (marks point into it).
    public var raw: Value

    /// Whether this is a `type: library` chart (only its partials are used).
    public var isLibrary: Bool { type == "library" }
}

/// One entry of `dependencies:` (Chart.yaml v2, or requirements.yaml for v1 charts).
public struct ChartDependency: Sendable {
    public var name: String
    public var version: String
    public var repository: String
    /// Comma-separated value paths; the first that resolves to a boolean decides.
    public var condition: String
    public var tags: [String]
    /// Set by `condition`/`tags` processing; `nil` until then (an explicit value in the file
    /// is ignored, as Helm does).
    public var enabled: Bool
    /// `import-values` entries: strings (`child.path`) or maps (`{child: …, parent: …}`).
    public var importValues: [Value]
    public var alias: String
    public var mark: Mark
}

/// A loaded chart: metadata, default values, templates, other files and subcharts, as Helm's
/// `chart.Chart` after `loader.Load`.
public struct Chart: Sendable {
    public var metadata: ChartMetadata
    /// `values.yaml` as parsed (marks kept), an empty map when absent.
    public var values: Value
    /// `values.schema.json`, parsed.
    public var schema: Value?
    /// Files under `templates/` (names include `templates/`), in name order.
    public var templates: [ChartFile]
    /// Every other file (crds/, README, …), which `.Files` serves; in name order.
    public var files: [ChartFile]
    /// Subcharts from `charts/` (directories and archives), ordered by directory name.
    public var dependencies: [Chart]
    /// Where the chart was loaded from, as shown in messages (`charts/web`,
    /// `charts/web/charts/db-1.2.0.tgz`).
    public var origin: String

    /// The chart's name (after an alias was applied).
    public var name: String { metadata.name }

    /// `path` of a file of this chart as shown to users.
    public func display(_ path: String) -> String { origin.isEmpty ? path : origin + "/" + path }

    /// The CRD files of `crds/` (not templated), as Helm's `CRDObjects` (this chart only).
    public var crdFiles: [ChartFile] {
        files.filter { $0.name.hasPrefix("crds/") && ($0.name.hasSuffix(".yaml") || $0.name.hasSuffix(".yml") || $0.name.hasSuffix(".json")) }
    }
}

/// Why a chart could not be loaded or rendered: one message with chart, file and line, and a
/// fix a user can act on.
public struct ChartError: Error, Sendable, CustomStringConvertible {
    public var diagnostics: [Diagnostic]
    public init(_ diagnostics: [Diagnostic]) { self.diagnostics = diagnostics }
    public init(_ d: Diagnostic) { self.diagnostics = [d] }
    public var description: String { diagnostics.map(\.description).joined(separator: "\n") }
}

extension ChartMetadata {
    static let known = ["apiVersion", "name", "version", "kubeVersion", "description", "type", "keywords", "home", "sources",
                        "dependencies", "maintainers", "icon", "appVersion", "deprecated", "annotations", "condition", "tags"]

    /// Decodes and validates `Chart.yaml` as Helm's `Metadata.Validate`.
    static func decode(_ v: Value, file: String) throws(ChartError) -> ChartMetadata {
        var problems: [Diagnostic] = []
        func loc(_ v: Value?) -> SourceLocation { SourceLocation(file: file, mark: v?.mark ?? .none) }
        guard let o = v.object else {
            throw ChartError(.error("Chart.yaml must be a map, found \(v.typeName)", at: loc(v),
                                    fix: "start it with 'apiVersion: v2', 'name:' and 'version:'"))
        }
        func str(_ k: String) -> String {
            guard let x = o[k], !x.isNull else { return "" }
            if let s = x.scalarText, x.isScalar { return s }
            problems.append(.error("Chart.yaml field '\(k)' must be a string, found \(x.typeName)", at: loc(x)))
            return ""
        }
        func strs(_ k: String) -> [String] {
            guard let x = o[k], !x.isNull else { return [] }
            guard let a = x.array else {
                problems.append(.error("Chart.yaml field '\(k)' must be a list, found \(x.typeName)", at: loc(x))); return []
            }
            return a.compactMap { $0.scalarText }
        }
        var apiVersion = str("apiVersion")
        if apiVersion.isEmpty { apiVersion = "v1" }
        if apiVersion != "v1" && apiVersion != "v2" {
            problems.append(.error("chart.metadata.apiVersion \"\(apiVersion)\" is invalid", at: loc(o["apiVersion"]),
                                   fix: "use 'apiVersion: v2' (Helm 3) or 'v1'"))
        }
        let name = str("name")
        if name.isEmpty {
            problems.append(.error("validation: chart.metadata.name is required", at: loc(v), fix: "add 'name: <chart name>'"))
        } else if name.contains("/") || name.contains("\\") || name == "." || name == ".." {
            problems.append(.error("chart.metadata.name \"\(name)\" is invalid", at: loc(o["name"]),
                                   fix: "use a name without '/' such as 'my-chart'"))
        }
        let version = str("version")
        if version.isEmpty {
            problems.append(.error("validation: chart.metadata.version is required", at: loc(v), fix: "add 'version: 0.1.0'"))
        } else if !SemverSyntax.isValid(version) {
            problems.append(.error("validation: chart.metadata.version \"\(version)\" is invalid", at: loc(o["version"]),
                                   fix: "use a semantic version such as 1.2.3"))
        }
        let type = str("type")
        if !type.isEmpty && type != "application" && type != "library" {
            problems.append(.error("chart.metadata.type must be application or library", at: loc(o["type"]),
                                   fix: "use 'type: application' or 'type: library'"))
        }
        if apiVersion == "v1" && !type.isEmpty && type != "application" {
            problems.append(.error("chart.metadata.type is only allowed for apiVersion v2 charts", at: loc(o["type"])))
        }
        var maintainers: [Maintainer] = []
        if let ms = o["maintainers"]?.array {
            for m in ms {
                maintainers.append(Maintainer(name: m["name"]?.scalarText ?? "", email: m["email"]?.scalarText ?? "",
                                              url: m["url"]?.scalarText ?? ""))
            }
        }
        var annotations: [(String, String)] = []
        if let ao = o["annotations"]?.object {
            for (k, x) in ao {
                guard let s = x.scalarText, x.isScalar else {
                    problems.append(.error("chart annotation '\(k)' must be a string", at: loc(x))); continue
                }
                annotations.append((k, s))
            }
        }
        var deps: [ChartDependency] = []
        if let dv = o["dependencies"], !dv.isNull {
            if apiVersion == "v1" {
                problems.append(.error("dependencies in Chart.yaml need apiVersion v2", at: loc(dv),
                                       fix: "set 'apiVersion: v2', or move them to requirements.yaml for a v1 chart"))
            }
            deps = decodeDependencies(dv, file: file, problems: &problems)
        }
        let deprecated = o["deprecated"]?.bool ?? false
        if !problems.isEmpty { throw ChartError(problems) }
        return ChartMetadata(apiVersion: apiVersion, name: name, version: version, appVersion: str("appVersion"),
                             description: str("description"), type: type, kubeVersion: str("kubeVersion"), home: str("home"),
                             icon: str("icon"), condition: str("condition"), tags: str("tags"), deprecated: deprecated,
                             sources: strs("sources"), keywords: strs("keywords"), maintainers: maintainers,
                             annotations: annotations, dependencies: deps, raw: v)
    }

    static func decodeDependencies(_ dv: Value, file: String, problems: inout [Diagnostic]) -> [ChartDependency] {
        func loc(_ v: Value?) -> SourceLocation { SourceLocation(file: file, mark: v?.mark ?? .none) }
        guard let list = dv.array else {
            problems.append(.error("'dependencies' must be a list, found \(dv.typeName)", at: loc(dv))); return []
        }
        var out: [ChartDependency] = []
        var seen: [String: Mark] = [:]
        for d in list {
            guard let o = d.object else { problems.append(.error("a dependency must be a map", at: loc(d))); continue }
            let name = o["name"]?.scalarText ?? ""
            if name.isEmpty { problems.append(.error("dependency needs a 'name'", at: loc(d), fix: "add 'name: <subchart name>'")) }
            let alias = o["alias"]?.scalarText ?? ""
            if !alias.isEmpty && !alias.allSatisfy({ $0.isLetter || $0.isNumber || $0 == "-" || $0 == "_" }) {
                problems.append(.error("dependency \"\(name)\" has disallowed characters in the alias", at: loc(o["alias"]),
                                       fix: "use letters, digits, '-' and '_' only"))
            }
            let effective = alias.isEmpty ? name : alias
            if let prev = seen[effective] {
                problems.append(.error("more than one dependency with name or alias \"\(effective)\"", at: loc(d),
                                       fix: "give one of them a distinct 'alias'", related: [SourceLocation(file: file, mark: prev)]))
            }
            seen[effective] = d.mark
            var tags: [String] = []
            if let t = o["tags"] {
                if let a = t.array { tags = a.compactMap(\.scalarText) } else if !t.isNull {
                    problems.append(.error("dependency 'tags' must be a list", at: loc(t)))
                }
            }
            var imports: [Value] = []
            if let iv = o["import-values"], !iv.isNull {
                if let a = iv.array { imports = a } else { problems.append(.error("'import-values' must be a list", at: loc(iv))) }
            }
            out.append(ChartDependency(name: name, version: o["version"]?.scalarText ?? "", repository: o["repository"]?.scalarText ?? "",
                                       condition: o["condition"]?.scalarText ?? "", tags: tags, enabled: true,
                                       importValues: imports, alias: alias, mark: d.mark))
        }
        return out
    }
}

/// Semantic version syntax as Masterminds/semver's `NewVersion` accepts it (a leading `v`,
/// one to three numeric parts, pre-release and build suffixes).
enum SemverSyntax {
    static func isValid(_ s: String) -> Bool {
        var t = Substring(s)
        if t.first == "v" || t.first == "V" { t = t.dropFirst() }
        var core = t
        var rest: Substring = ""
        if let i = t.firstIndex(where: { $0 == "-" || $0 == "+" }) { core = t[..<i]; rest = t[i...] }
        let parts = core.split(separator: ".", omittingEmptySubsequences: false)
        guard (1...3).contains(parts.count), parts.allSatisfy({ !$0.isEmpty && $0.allSatisfy(\.isASCIIDigit) }) else { return false }
        if parts.contains(where: { $0.count > 1 && $0.first == "0" }) { return false }
        if rest.isEmpty { return true }
        let ok: (Character) -> Bool = { $0.isASCIIDigit || ($0.isASCII && $0.isLetter) || $0 == "-" || $0 == "." }
        var pre = rest, build: Substring = ""
        if let plus = rest.firstIndex(of: "+") { pre = rest[..<plus]; build = rest[rest.index(after: plus)...] ; if build.isEmpty { return false } }
        if pre.first == "-" { pre = pre.dropFirst(); if pre.isEmpty { return false } }
        return pre.allSatisfy(ok) && build.allSatisfy(ok)
    }
}

extension Character {
    var isASCIIDigit: Bool { isASCII && isNumber }
}
