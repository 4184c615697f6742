#if canImport(Glibc)
import Glibc
#endif
import PatternCore
import Kustomize

/// The fuzz targets' bodies, shared by the libFuzzer executables in `Fuzz/` (sanitized,
/// long runs) and by `Tests/FuzzCorpusTests` (every seed and every saved crasher replayed
/// inside `swift test`, so a regression is caught in CI without the 5-minute sanitized build).
/// Each body must return for any bytes; a round trip that breaks is a `finding`.
public enum FuzzTargets {
    /// What one input did.
    public enum Outcome: Sendable, Equatable {
        /// The reader refused the input with a diagnostic (the expected answer to bad input).
        case rejected
        /// The input was read (and its round trip held).
        case accepted
        /// A bug: what went wrong. The libFuzzer executables abort on it.
        case finding(String)
    }

    /// What the libFuzzer executables do with an outcome: a finding is printed to standard
    /// error and the process aborts, so libFuzzer saves the input as `crash-…`.
    public static func abortOnFinding(_ outcome: Outcome) {
        guard case .finding(let what) = outcome else { return }
        let line = Array("finding: \(what)\n".utf8)
        _ = line.withUnsafeBytes { write(2, $0.baseAddress, $0.count) }
        abort()
    }

    /// Any bytes → `YAMLParser.parseStream` (1 MiB, depth 64, 10,000 alias nodes, 1 MiB of
    /// alias expansion); whatever parses must emit and parse back to the same values.
    public static func yaml(_ bytes: UnsafeBufferPointer<UInt8>) -> Outcome {
        let limits = YAMLLimits(maxBytes: 1 << 20, maxDepth: 64, maxAliasExpansion: 10_000, maxAliasExpandedBytes: 1 << 20)
        guard let docs = try? YAMLParser.parseStream(bytes: bytes, file: "fuzz.yaml", limits: limits) else { return .rejected }
        let values = docs.map(\.value)
        let text = YAMLEmitter(options: .init(sortKeys: true)).emitStream(values)
        let again: [YAMLDocument]
        do throws(Diagnostic) {
            again = try YAMLParser.parseStream(text, file: "emitted.yaml", limits: YAMLLimits(maxBytes: 64 << 20, maxDepth: 64))
        } catch {
            return .finding("emitted YAML does not parse: \(error.message)")
        }
        let first = YAMLEmitter(options: .init(sortKeys: true)).emitStream(again.map(\.value))
        if first != text { return .finding("emitted YAML reads back as different values") }
        return .accepted
    }

    /// Any bytes → `JSONParser` (depth 128, the reader for manifests and API responses);
    /// whatever parses must write and read back to the same text.
    public static func json(_ bytes: UnsafeBufferPointer<UInt8>) -> Outcome {
        guard let v = try? JSONParser(maxDepth: 128).parse(bytes: bytes, file: "fuzz.json") else { return .rejected }
        let text = JSONWriter.string(v, options: .init(indent: 0, sortKeys: true))
        var t = text
        let parsed: Result<Value, Diagnostic> = t.withUTF8 { b in
            do throws(Diagnostic) { return .success(try JSONParser(maxDepth: 256).parse(bytes: b, file: "written.json")) } catch { return .failure(error) }
        }
        let back: Value
        switch parsed {
        case .success(let v): back = v
        case .failure(let error): return .finding("written JSON does not parse: \(error.message)")
        }
        if JSONWriter.string(back, options: .init(indent: 0, sortKeys: true)) != text { return .finding("written JSON reads back as a different value") }
        return .accepted
    }

    /// The input is `app/kustomization.yaml` (anything after a line `---FILE---` becomes
    /// `app/extra.yaml`) in an in-memory tree with a base, resources, patches, an env file
    /// and symlink loops; a build gives objects or diagnostics.
    public static func kustomize(_ input: UnsafeBufferPointer<UInt8>) -> Outcome {
        var bytes = Array(input)
        var extra: [UInt8] = []
        let marker = Array("\n---FILE---\n".utf8)
        if bytes.count >= marker.count, let i = (0...(bytes.count - marker.count)).first(where: { bytes[$0..<($0 + marker.count)].elementsEqual(marker) }) {
            extra = Array(bytes[(i + marker.count)...])
            bytes = Array(bytes[..<i])
        }
        var files = KustomizeFixture.files.mapValues { Array($0.utf8) }
        files["app/kustomization.yaml"] = bytes
        files["app/extra.yaml"] = extra
        let tree = MemoryTree(files: files, links: ["app/loop": ".", "app/up": "../app"])
        let limits = KustomizeLimits(yaml: YAMLLimits(maxBytes: 1 << 20, maxDepth: 64, maxAliasExpansion: 10_000, maxAliasExpandedBytes: 1 << 20),
                                     maxDepth: 16, maxObjects: 2_000)
        guard let app = try? TreePath("app"), let objects = try? KustomizeBuilder(tree: tree, limits: limits).build(app) else { return .rejected }
        _ = YAMLEmitter(options: .init(sortKeys: true)).emitStream(objects)
        return .accepted
    }
}

/// An in-memory tree: path → bytes (directories implied), symlinks by target.
struct MemoryTree: SourceTree, Sendable {
    var files: [String: [UInt8]]
    var links: [String: String] = [:]
    var displayName: String { "memory" }

    func entryKind(_ path: TreePath) -> TreeEntryKind? {
        let p = path.string
        if files[p] != nil { return .file }
        if links[p] != nil { return .symlink }
        if path.isRoot || files.keys.contains(where: { $0.hasPrefix(p + "/") }) || links.keys.contains(where: { $0.hasPrefix(p + "/") }) {
            return .directory
        }
        return nil
    }

    func list(_ dir: TreePath) throws -> [TreeEntry] {
        let prefix = dir.isRoot ? "" : dir.string + "/"
        var names: [String: TreeEntryKind] = [:]
        for k in Array(files.keys) + Array(links.keys) where k.hasPrefix(prefix) {
            let rest = k.dropFirst(prefix.count)
            if let slash = rest.firstIndex(of: "/") { names[String(rest[..<slash])] = .directory }
            else { names[String(rest)] = files[k] != nil ? .file : .symlink }
        }
        return names.map { TreeEntry(name: $0.key, kind: $0.value) }.sorted { $0.name < $1.name }
    }

    func read(_ path: TreePath) throws -> [UInt8] {
        guard let b = files[path.string] else { throw SourceTreeError(path: path.string, message: "no such file") }
        return b
    }

    func readLink(_ path: TreePath) throws -> String {
        guard let t = links[path.string] else { throw SourceTreeError(path: path.string, message: "not a symlink") }
        return t
    }
}

enum KustomizeFixture {
    static let files: [String: String] = [
    "app/cm.yaml": "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: cm, labels: {a: b}}\ndata: {k: v}\n",
    "app/patch.yaml": "apiVersion: apps/v1\nkind: Deployment\nmetadata: {name: web}\nspec: {replicas: 3}\n",
    "app/json6902.yaml": "- {op: replace, path: /spec/replicas, value: 2}\n",
    "app/env.txt": "A=1\nB=two\n",
    "base/kustomization.yaml": "resources: [deploy.yaml]\nnamePrefix: base-\ncommonLabels: {tier: base}\n",
    "base/deploy.yaml": "apiVersion: apps/v1\nkind: Deployment\nmetadata: {name: web}\nspec:\n  template:\n    spec:\n      containers: [{name: c, image: nginx:1}]\n",
    ]
}

