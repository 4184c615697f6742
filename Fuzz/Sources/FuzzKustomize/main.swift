#if canImport(Glibc)
import Glibc
#endif
import PatternCore
import Kustomize

/// An in-memory tree: path → bytes (directories implied), symlinks by target.
struct MemoryTree: SourceTree {
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

enum Fixture {
    static let files: [String: String] = [
    "app/cm.yaml": "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: cm, labels: {a: b}}\ndata: {k: v}\n",
    "app/patch.yaml": "apiVersion: apps/v1\nkind: Deployment\nmetadata: {name: web}\nspec: {replicas: 3}\n",
    "app/json6902.yaml": "- {op: replace, path: /spec/replicas, value: 2}\n",
    "app/env.txt": "A=1\nB=two\n",
    "base/kustomization.yaml": "resources: [deploy.yaml]\nnamePrefix: base-\ncommonLabels: {tier: base}\n",
    "base/deploy.yaml": "apiVersion: apps/v1\nkind: Deployment\nmetadata: {name: web}\nspec:\n  template:\n    spec:\n      containers: [{name: c, image: nginx:1}]\n",
    ]
}

/// One libFuzzer input: the input is `app/kustomization.yaml` (anything after a line
/// `---FILE---` becomes `app/extra.yaml`) in an in-memory tree with a base, resources,
/// patches and generator sources (and a symlink loop); a build must give objects or
/// diagnostics, never a crash, hang or unbounded memory.
func fuzzKustomize(_ data: UnsafePointer<UInt8>?, _ size: Int) -> CInt {
    guard let data else { return 0 }
    var bytes = Array(UnsafeBufferPointer(start: data, count: size))
    var extra: [UInt8] = []
    let marker = Array("\n---FILE---\n".utf8)
    if bytes.count >= marker.count, let i = (0...(bytes.count - marker.count)).first(where: { bytes[$0..<($0 + marker.count)].elementsEqual(marker) }) {
        extra = Array(bytes[(i + marker.count)...])
        bytes = Array(bytes[..<i])
    }
    var files = Fixture.files.mapValues { Array($0.utf8) }
    files["app/kustomization.yaml"] = bytes
    files["app/extra.yaml"] = extra
    let tree = MemoryTree(files: files, links: ["app/loop": ".", "app/up": "../app"])
    let limits = KustomizeLimits(yaml: YAMLLimits(maxBytes: 1 << 20, maxDepth: 64, maxAliasExpansion: 10_000, maxAliasExpandedBytes: 1 << 20),
                                 maxDepth: 16, maxObjects: 2_000)
    if let objects = try? KustomizeBuilder(tree: tree, limits: limits).build(try! TreePath("app")) {
        _ = YAMLEmitter(options: .init(sortKeys: true)).emitStream(objects)
    }
    return 0
}

// SwiftPM links executables with `main` aliased to `<Module>_main`, so libFuzzer's own `main`
// is not used: this file is the entry point and hands control to libFuzzer's driver.
@_silgen_name("LLVMFuzzerRunDriver")
func LLVMFuzzerRunDriver(_ argc: UnsafeMutablePointer<CInt>,
                         _ argv: UnsafeMutablePointer<UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>>,
                         _ callback: @convention(c) (UnsafePointer<UInt8>?, Int) -> CInt) -> CInt

var argc = CommandLine.argc
var argv = CommandLine.unsafeArgv
exit(LLVMFuzzerRunDriver(&argc, &argv, { fuzzKustomize($0, $1) }))
