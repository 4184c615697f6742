import Testing
import TestSupport
import PatternCore
import ArgoCD
#if canImport(Glibc)
import Glibc
#endif

/// The URL the test repositories answer to as "the pattern's own repository".
let ownURL = "https://git.example.com/platform/apps.git"

/// A pattern-like repository in a temporary directory.
final class Repo {
    let dir = TemporaryDirectory("argocd")
    var root: String { dir.path }

    func write(_ rel: String, _ text: String) {
        let path = root + "/" + rel
        var cur = ""
        for c in path.split(separator: "/").dropLast() { cur += "/" + c; mkdir(cur, 0o755) }
        let fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0o644)
        _ = text.withCString { Glibc.write(fd, $0, strlen($0)) }
        close(fd)
    }

    func context(resolver: (any ApplicationRepoResolver)? = nil, charts: any ChartRepositoryResolver = UnavailableChartRepositories(),
                 clusters: [ApplicationSetCluster] = [], maxDepth: Int = 10) -> ExpansionContext {
        ExpansionContext(repositories: [KnownRepository(urls: [ownURL], tree: LocalTree(root: root))], repoResolver: resolver,
                         charts: charts, clusters: { clusters }, maxDepth: maxDepth)
    }

    /// Expands the YAML documents in `text` (read as the file `file`).
    func expand(_ text: String, file: String = "apps/app.yaml", context: ExpansionContext? = nil) throws(Diagnostics) -> Expansion {
        let objects = yaml(text, file: file).map { ExpandedObject(object: $0, file: file, component: "apps") }
        return try ApplicationExpander(context: context ?? self.context()).expand(objects)
    }

    deinit { dir.remove() }
}

func yaml(_ text: String, file: String = "test.yaml") -> [Value] {
    let docs = try! Array(text.utf8).withUnsafeBufferPointer { b throws(Diagnostic) in try YAMLParser.parseStream(bytes: b, file: file) }
    return docs.map(\.value).filter { !$0.isNull }
}

/// The diagnostics an expansion threw (empty when it succeeded).
func problems(_ body: () throws(Diagnostics) -> Expansion) -> [Diagnostic] {
    do { _ = try body(); return [] } catch { return error.items }
}

/// `name` of every expanded object, in order, as `Kind/namespace/name`.
func names(_ e: Expansion) -> [String] {
    e.objects.map { "\($0.object.kindName ?? "")/\($0.object.metadataNamespace ?? "")/\($0.object.metadataName ?? "")" }
}

func object(_ e: Expansion, _ kind: String, _ name: String) -> Value? {
    e.objects.first { $0.object.kindName == kind && $0.object.metadataName == name }?.object
}

/// An Application with one source, in YAML.
func app(_ name: String, source: String, namespace: String = "web", extra: String = "", annotations: String = "") -> String {
    """
    apiVersion: argoproj.io/v1alpha1
    kind: Application
    metadata:
      name: \(name)
      namespace: argocd
    \(annotations.isEmpty ? "" : "  annotations: {\(annotations)}")
    spec:
      project: default
      destination: {server: https://kubernetes.default.svc, namespace: \(namespace)}
      source:
    \(source.split(separator: "\n").map { "    " + $0 }.joined(separator: "\n"))
    \(extra.split(separator: "\n").map { "  " + $0 }.joined(separator: "\n"))
    """
}
