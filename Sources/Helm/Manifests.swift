import PatternCore
import HelmTemplate

/// A Helm hook (`helm.sh/hook` annotation) on a rendered object.
public struct HelmHook: Sendable, Hashable {
    public enum Event: String, Sendable, Hashable, CaseIterable {
        case preInstall = "pre-install", postInstall = "post-install"
        case preDelete = "pre-delete", postDelete = "post-delete"
        case preUpgrade = "pre-upgrade", postUpgrade = "post-upgrade"
        case preRollback = "pre-rollback", postRollback = "post-rollback"
        case test = "test", testSuccess = "test-success"
    }
    public var events: [Event]
    /// `helm.sh/hook-weight` (0 when absent or not an integer, as Helm).
    public var weight: Int
    /// `helm.sh/hook-delete-policy` entries (`before-hook-creation`, `hook-succeeded`, `hook-failed`).
    public var deletePolicies: [String]

    public var isTest: Bool { events.contains(.test) || events.contains(.testSuccess) }

    static let annotation = "helm.sh/hook"
    static let weightAnnotation = "helm.sh/hook-weight"
    static let deleteAnnotation = "helm.sh/hook-delete-policy"

    /// The hook of an object, nil when it has none. Unknown events make the object skipped
    /// (as Helm does: "skipping unknown hook"), reported as `.unknown`.
    static func parse(_ object: Value) -> Result<HelmHook, UnknownHook>? {
        guard let text = object.annotations[annotation]?.string else { return nil }
        var events: [Event] = []
        for raw in text.split(separator: ",") {
            let t = raw.trimming(.spacesTabsAndReturns).lowercased()
            guard let e = Event(rawValue: t) else { return .failure(UnknownHook(value: text)) }
            events.append(e)
        }
        let w = object.annotations[weightAnnotation]?.string.flatMap { Int($0.trimming(TrimSet(characters: " "))) } ?? 0
        let policies = (object.annotations[deleteAnnotation]?.string ?? "").split(separator: ",").map { $0.trimming(.spacesTabsAndReturns) }.filter { !$0.isEmpty }
        return .success(HelmHook(events: events, weight: w, deletePolicies: policies))
    }

    struct UnknownHook: Error { var value: String }
}

/// One rendered object of a chart with its origin.
public struct RenderedManifest: Sendable {
    /// `<chart>/templates/<file>` (or `<chart>/crds/<file>`), as Helm's `# Source:` line.
    public var source: String
    public var object: Value
    /// Set for hook objects.
    public var hook: HelmHook?
}

/// Splitting rendered template output into objects (Helm's `releaseutil.SplitManifests` and
/// `SortManifests`).
enum ManifestSplitter {
    /// The YAML documents of one rendered file, empty ones dropped.
    static func documents(_ text: String, source: String, limits: YAMLLimits) throws(Diagnostic) -> [Value] {
        // The usual rendered subset is read directly into values (the same values and marks);
        // anything else, and every error, goes through the full YAML parser.
        if let docs = RenderedYAML.documents(text, limits: limits) {
            return try objects(docs.lazy.map { YAMLDocument(value: $0.value, mark: $0.mark, index: 0) }, source: source)
        }
        if text.allSatisfy({ $0.isWhitespace }) { return [] }
        let docs: [YAMLDocument]
        do { docs = try YAMLParser.parseStream(text, file: source, limits: limits) } catch {
            var d = error
            d.message = "YAML parse error on \(source): " + d.message
            if d.fix == nil { d.fix = "render the chart with `pattern render <chart-dir>` and look at the output of this template" }
            throw d
        }
        return try objects(docs, source: source)
    }

    /// The non-null documents as objects (a v1 List as its items).
    static func objects(_ docs: some Sequence<YAMLDocument>, source: String) throws(Diagnostic) -> [Value] {
        var out: [Value] = []
        for d in docs where !d.value.isNull {
            let v = HelmYAML.yaml11Objects(d.value)
            guard v.object != nil else {
                throw Diagnostic.error("YAML parse error on \(source): a manifest must be a map, found \(v.typeName)",
                                       at: SourceLocation(file: source, mark: d.mark),
                                       fix: "check the template's output: every document must be a Kubernetes object")
            }
            if v.kindName == "List", v.apiVersion == "v1", let items = v["items"]?.array {
                out += items   // a v1 List is its items, as the API server's clients apply it
            } else {
                out.append(v)
            }
        }
        return out
    }
}

extension HelmYAML {
    /// Objects rendered by templates are read as Kubernetes reads them (the API server applies
    /// YAML 1.1 booleans to unquoted scalars too).
    static func yaml11Objects(_ v: Value) -> Value { yaml11(v) }
}
