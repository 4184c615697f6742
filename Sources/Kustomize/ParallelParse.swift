import Dispatch
import PatternCore

/// Parses the resource files of one kustomization concurrently (YAML parsing dominates a
/// build of many small files). Results are consumed in `resources` order by the builder, so
/// output and diagnostics are exactly those of a sequential build.
enum ParallelParse {
    /// One resource file's objects, with the identity key of each (worked out here, on all
    /// cores, rather than in the builder's serial appends).
    struct File: Sendable {
        var resources: [KResource]
        var keys: [ResMap.Key]
    }

    /// For each entry that names a file: its objects or its error; nil for directories and
    /// entries that fail to resolve (the builder handles those itself, in order).
    static func resourceFiles(_ resources: [Located<String>], dir: TreePath, kustomizationFile: String,
                              loader: TreeLoader) -> [Result<File, Diagnostic>?] {
        let n = resources.count
        guard n >= 8 else { return Array(repeating: nil, count: n) }
        let box = ResultsBox(count: n)
        let resolvedDir = try? loader.tree.resolve(dir)  // once, not once per entry
        DispatchQueue.concurrentPerform(iterations: n) { i in
            let entry = resources[i]
            let loc = SourceLocation(file: kustomizationFile, mark: entry.mark)
            guard let (p, kind) = try? loader.resolveWithKind(entry.value, from: dir, at: loc, what: "resource", resolvedDir: resolvedDir),
                  kind == .file else { return }
            let r = Result { () throws(Diagnostic) -> File in
                // Just parsed, so each object's identity is still its original one.
                let rs = try loader.objects(in: p, at: loc, kind: kind)
                return File(resources: rs, keys: rs.map { ResMap.key($0.orgId) })
            }
            box.set(i, r)
        }
        return box.results
    }
}

/// Slots written by distinct iterations (one index each) and read after all of them finished.
private final class ResultsBox: @unchecked Sendable {
    private(set) var results: [Result<ParallelParse.File, Diagnostic>?]
    private let lock = Lock()
    init(count: Int) { results = Array(repeating: nil, count: count) }
    func set(_ i: Int, _ r: Result<ParallelParse.File, Diagnostic>) { lock.withLock { results[i] = r } }
}
