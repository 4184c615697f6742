import CGit2
import PatternCore

/// A `SourceTree` over a git tree at a commit, read from the object database without a
/// working-tree checkout.
///
/// Design (thread safety): the *structure* of the tree (every path, its kind, its blob id,
/// and symlink targets) is read eagerly when the tree is opened, into plain Swift values.
/// File *contents* are read lazily: a `BlobReader` keeps one `git_repository *` open and
/// serializes every use of it with a lock, so the tree is `Sendable` while no libgit2 object
/// is ever used by two threads at once, and each error is read on the thread that caused it.
/// Mode 120000 entries are `.symlink` (target from `readLink`); submodule entries (160000) are
/// not reported.
public struct GitTree: SourceTree {
    struct Node: Sendable {
        var kind: TreeEntryKind
        var oid: [UInt8]          // 20 raw bytes
        var linkTarget: String?
        var children: [TreeEntry]?
    }

    let nodes: [TreePath: Node]
    let reader: BlobReader
    /// Full commit id the tree was read from.
    public let commit: String
    /// The source URL, redacted.
    public let url: String
    /// Directory inside the repository this tree is rooted at (root = whole repository).
    public let subdirectory: TreePath

    public var displayName: String {
        "\(url)@\(commit.prefix(12))" + (subdirectory.isRoot ? "" : ":\(subdirectory.string)")
    }

    /// Opens the tree of `commit` (full id or any revision) in the repository at `gitDir`,
    /// rooted at `subdirectory`.
    public init(repository gitDir: String, commit: String, subdirectory: TreePath = .root,
                url: String? = nil) throws(SourceError) {
        let reader = BlobReader(gitDir: gitDir)
        let (id, nodes) = try reader.withRepo { (repo) throws(SourceError) -> (String, [TreePath: Node]) in
            guard let oid = repo.commitId(revision: commit) else {
                throw SourceError(.refNotFound, "commit '\(commit)' not found in \(gitDir)")
            }
            return (Git.oidString(oid), try GitTree.readStructure(repo: repo, commit: oid, subdirectory: subdirectory,
                                                                   label: url ?? gitDir))
        }
        self.reader = reader
        self.commit = id
        self.nodes = nodes
        self.url = url ?? gitDir
        self.subdirectory = subdirectory
    }

    static func readStructure(repo: Repo, commit: git_oid, subdirectory: TreePath, label: String) throws(SourceError) -> [TreePath: Node] {
        var oid = commit
        var c: OpaquePointer?
        try Git.check(git_commit_lookup(&c, repo.pointer, &oid), "cannot read commit \(Git.oidString(commit))")
        defer { git_commit_free(c) }
        var rootTree: OpaquePointer?
        try Git.check(git_commit_tree(&rootTree, c), "cannot read tree of commit \(Git.oidString(commit))")
        defer { git_tree_free(rootTree) }

        var tree: OpaquePointer? = rootTree
        var ownedSubtree: OpaquePointer? = nil
        defer { if let ownedSubtree { git_tree_free(ownedSubtree) } }
        if !subdirectory.isRoot {
            var entry: OpaquePointer?
            guard git_tree_entry_bypath(&entry, rootTree, subdirectory.string) == 0, let entry else {
                throw SourceError(.pathNotFound, "path '\(subdirectory.string)' does not exist in \(label) at \(Git.oidString(commit).prefix(12))",
                                  fix: "check the source's path and ref")
            }
            defer { git_tree_entry_free(entry) }
            guard git_tree_entry_type(entry) == GIT_OBJECT_TREE else {
                throw SourceError(.pathNotFound, "path '\(subdirectory.string)' in \(label) is not a directory",
                                  fix: "point the source's path at a directory")
            }
            var sub: OpaquePointer?
            try Git.check(git_tree_lookup(&sub, repo.pointer, git_tree_entry_id(entry)), "cannot read '\(subdirectory.string)'")
            ownedSubtree = sub
            tree = sub
        }

        var nodes: [TreePath: Node] = [:]
        func walk(_ t: OpaquePointer, _ path: TreePath) throws(SourceError) {
            let n = git_tree_entrycount(t)
            var children: [TreeEntry] = []
            children.reserveCapacity(n)
            for i in 0..<n {
                guard let e = git_tree_entry_byindex(t, i) else { continue }
                let name = String(cString: git_tree_entry_name(e))
                let mode = git_tree_entry_filemode(e)
                let idp = git_tree_entry_id(e)!
                let raw = withUnsafeBytes(of: idp.pointee.id) { Array($0) }
                let child = path.appending(name)
                switch mode {
                case GIT_FILEMODE_TREE:
                    var sub: OpaquePointer?
                    try Git.check(git_tree_lookup(&sub, repo.pointer, idp), "cannot read '\(child.string)'")
                    defer { git_tree_free(sub) }
                    try walk(sub!, child)
                    children.append(TreeEntry(name: name, kind: .directory))
                case GIT_FILEMODE_LINK:
                    var blob: OpaquePointer?
                    try Git.check(git_blob_lookup(&blob, repo.pointer, idp), "cannot read symlink '\(child.string)'")
                    defer { git_blob_free(blob) }
                    let size = Int(git_blob_rawsize(blob))
                    let target = String(decoding: UnsafeRawBufferPointer(start: git_blob_rawcontent(blob), count: size), as: UTF8.self)
                    nodes[child] = Node(kind: .symlink, oid: raw, linkTarget: target, children: nil)
                    children.append(TreeEntry(name: name, kind: .symlink))
                case GIT_FILEMODE_BLOB, GIT_FILEMODE_BLOB_EXECUTABLE:
                    nodes[child] = Node(kind: .file, oid: raw, linkTarget: nil, children: nil)
                    children.append(TreeEntry(name: name, kind: .file))
                default:
                    continue // submodule (gitlink)
                }
            }
            children.sort { $0.name < $1.name }
            nodes[path] = Node(kind: .directory, oid: [], linkTarget: nil, children: children)
        }
        try walk(tree!, .root)
        return nodes
    }

    /// Every regular file path, sorted (handy for hashing and tests).
    public var allFiles: [TreePath] { nodes.filter { $0.value.kind == .file }.map(\.key).sorted() }

    public func entryKind(_ path: TreePath) -> TreeEntryKind? { nodes[path]?.kind }

    public func list(_ dir: TreePath) throws -> [TreeEntry] {
        guard let n = nodes[dir], let children = n.children else {
            throw SourceTreeError(path: dir.description, message: "not a directory in \(displayName)")
        }
        return children
    }

    public func read(_ path: TreePath) throws -> [UInt8] {
        guard let n = nodes[path], n.kind == .file else {
            throw SourceTreeError(path: path.description, message: nodes[path] == nil ? "no such file in \(displayName)" : "not a regular file")
        }
        return try reader.read(oid: n.oid, path: path.description)
    }

    public func readLink(_ path: TreePath) throws -> String {
        guard let n = nodes[path], let t = n.linkTarget else {
            throw SourceTreeError(path: path.description, message: "not a symlink")
        }
        return t
    }
}

/// One open repository used for blob reads, serialized by a lock. Holds one libgit2 init
/// reference for its lifetime (released in deinit).
final class BlobReader: @unchecked Sendable {
    let gitDir: String
    private let lock = Lock()
    private var repo: Repo?
    private var initialized = false

    init(gitDir: String) { self.gitDir = gitDir }

    deinit {
        repo = nil
        if initialized { git_libgit2_shutdown() }
    }

    func withRepo<T>(_ body: (Repo) throws(SourceError) -> T) throws(SourceError) -> T {
        try lock.withLock { () throws(SourceError) -> T in
            if !initialized { _ = git_libgit2_init(); initialized = true }
            if repo == nil { repo = try Repo.open(gitDir) }
            return try body(repo!)
        }
    }

    func read(oid raw: [UInt8], path: String) throws -> [UInt8] {
        try withRepo { (repo) throws(SourceError) -> [UInt8] in
            var oid = git_oid()
            withUnsafeMutableBytes(of: &oid.id) { $0.copyBytes(from: raw) }
            var blob: OpaquePointer?
            try Git.check(git_blob_lookup(&blob, repo.pointer, &oid), "cannot read '\(path)'")
            defer { git_blob_free(blob) }
            let size = Int(git_blob_rawsize(blob))
            guard size > 0 else { return [] }
            return Array(UnsafeRawBufferPointer(start: git_blob_rawcontent(blob), count: size))
        }
    }
}
