import Synchronization
#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// A normalized path inside a source tree: `/`-separated, no `.`/`..` components, never
/// absolute. The empty path is the tree's root. Constructing one is where "paths never
/// escape the repository" is enforced.
public struct TreePath: Sendable, Hashable, Comparable, CustomStringConvertible {
    public private(set) var components: [String]

    public static let root = TreePath(components: [])

    init(components: [String]) { self.components = components }

    /// Normalizes `path` relative to `base`. Throws when the result would leave the tree
    /// (`..` above the root, or an absolute path).
    public init(_ path: String, relativeTo base: TreePath = .root) throws(TreePathError) {
        if path.hasPrefix("/") { throw .absolute(path) }
        var parts = base.components
        // Split at "/" bytes, as the kernel does: a `Character` split is slower and would not
        // cut a "/" that a combining mark follows.
        for piece in path.utf8.split(separator: UInt8(ascii: "/"), omittingEmptySubsequences: true) {
            let c = path[piece.startIndex..<piece.endIndex]
            if c == "." { continue }
            if c == ".." {
                if parts.isEmpty { throw .escapes(path) }
                parts.removeLast()
                continue
            }
            parts.append(String(c))
        }
        components = parts
    }

    public var string: String { components.joined(separator: "/") }
    public var description: String { components.isEmpty ? "." : string }
    public var name: String { components.last ?? "" }
    public var parent: TreePath { TreePath(components: Array(components.dropLast())) }
    public var isRoot: Bool { components.isEmpty }

    public func appending(_ name: String) -> TreePath { TreePath(components: components + [name]) }

    /// Joins a relative path (which may contain `..`), refusing to leave the tree.
    public func resolving(_ relative: String) throws(TreePathError) -> TreePath {
        try TreePath(relative, relativeTo: self)
    }

    public func hasPrefix(_ other: TreePath) -> Bool { components.starts(with: other.components) }

    public static func < (a: TreePath, b: TreePath) -> Bool { a.components.lexicographicallyPrecedes(b.components) }
}

public enum TreePathError: Error, Sendable, Hashable, CustomStringConvertible {
    case absolute(String)
    case escapes(String)
    case symlinkEscapes(String, target: String)
    case symlinkLoop(String)

    public var description: String {
        switch self {
        case .absolute(let p): return "absolute path '\(p)' is not allowed; paths must be relative to the repository"
        case .escapes(let p): return "path '\(p)' leaves the repository"
        case .symlinkEscapes(let p, let t): return "symlink '\(p)' points to '\(t)', outside the repository"
        case .symlinkLoop(let p): return "symbolic link loop at '\(p)' (it leads back to a directory that contains it)"
        }
    }
}

/// What a tree entry is.
public enum TreeEntryKind: Sendable, Hashable { case file, directory, symlink }

public struct TreeEntry: Sendable, Hashable {
    public var name: String
    public var kind: TreeEntryKind
    public init(name: String, kind: TreeEntryKind) { self.name = name; self.kind = kind }
}

/// Read access to a tree of files: a local directory or a git tree at a commit.
///
/// Implementations report symlinks as such (`lstat` semantics, or git mode 120000) and return
/// their target with `readLink`; `resolve` follows them and refuses any that leave the tree.
/// Compile only reads through this protocol, so the same render works on a working copy and
/// straight from a git object database.
public protocol SourceTree: Sendable {
    /// Human-readable origin, for messages and provenance ("/path/to/repo", "https://…@abc123").
    var displayName: String { get }
    /// The entry kind at `path` without following a final symlink; nil when absent.
    func entryKind(_ path: TreePath) -> TreeEntryKind?
    /// Entries of a directory, sorted by name.
    func list(_ dir: TreePath) throws -> [TreeEntry]
    /// Contents of a regular file.
    func read(_ path: TreePath) throws -> [UInt8]
    /// Target text of a symlink.
    func readLink(_ path: TreePath) throws -> String
    /// Follows symlinks in every component of `path`, refusing links that leave the tree.
    func resolve(_ path: TreePath) throws -> TreePath
    /// `resolve(path)` and the entry kind at the result (nil when absent), in one step where
    /// the tree can (a local tree answers both from one `lstat`).
    func resolveWithKind(_ path: TreePath) throws -> (path: TreePath, kind: TreeEntryKind?)
    /// Size in bytes of a regular file when it is cheap to know (nil otherwise), so callers
    /// can refuse huge files before reading them.
    func fileSize(_ path: TreePath) -> Int?
}

extension SourceTree {
    public func fileSize(_ path: TreePath) -> Int? { nil }
}

extension SourceTree {
    public func resolve(_ path: TreePath) throws -> TreePath { try resolveFollowingLinks(path) }

    public func resolveWithKind(_ path: TreePath) throws -> (path: TreePath, kind: TreeEntryKind?) {
        let resolved = try resolve(path)
        return (resolved, entryKind(resolved))
    }

    /// The generic resolution: one component at a time, reading each link.
    public func resolveFollowingLinks(_ path: TreePath) throws -> TreePath {
        var resolved = TreePath.root
        var pending = path.components[...]
        var hops = 0
        while let c = pending.first {
            pending = pending.dropFirst()
            let next = resolved.appending(c)
            if entryKind(next) == .symlink {
                hops += 1
                if hops > 40 { throw TreePathError.symlinkLoop(path.string) }
                let target = try readLink(next)
                if target.hasPrefix("/") { throw TreePathError.symlinkEscapes(next.string, target: target) }
                let via: TreePath
                do { via = try TreePath(target, relativeTo: resolved) } catch { throw TreePathError.symlinkEscapes(next.string, target: target) }
                pending = (via.components + Array(pending))[...]
                resolved = .root
                continue
            }
            resolved = next
        }
        return resolved
    }

    /// Every regular file below `dir` (recursively, sorted by path within each directory),
    /// following directory symlinks that stay inside the tree, with loop detection: a link
    /// that leads back to the directory being walked or one of its ancestors
    /// (`ln -s . loop`, `up -> ../..`) throws `TreePathError.symlinkLoop` naming the link,
    /// and the walk never visits more than `maxDirectories` directories. Entries whose name
    /// starts with `.` are skipped when `skipHidden` is set; `include` filters file names.
    public func walkFiles(_ dir: TreePath, skipHidden: Bool = true, maxDirectories: Int = 10_000,
                          include: (String) -> Bool = { _ in true }) throws -> [TreePath] {
        var files: [TreePath] = []
        var visited = 0
        // `ancestors` holds the resolved directories on the current path from `dir` down.
        func walk(_ d: TreePath, ancestors: [TreePath]) throws {
            visited += 1
            if visited > maxDirectories {
                throw SourceTreeError(path: d.description, message: "more than \(maxDirectories) directories below \(dir.description)")
            }
            for e in try list(d) where !(skipHidden && e.name.hasPrefix(".")) {
                let p = d.appending(e.name)
                var kind = e.kind
                var target = p
                if kind == .symlink {
                    target = try resolve(p)
                    guard let k = entryKind(target) else { continue }
                    kind = k
                    if k == .directory, ancestors.contains(where: { $0.hasPrefix(target) }) {
                        throw TreePathError.symlinkLoop(p.string)
                    }
                }
                switch kind {
                case .directory: try walk(target, ancestors: ancestors + [target])
                case .file: if include(e.name) { files.append(target) }
                case .symlink: break
                }
            }
        }
        let start = try resolve(dir)
        try walk(start, ancestors: [start])
        return files
    }

    /// Reads `path` after resolving symlinks safely.
    public func readResolved(_ path: TreePath) throws -> [UInt8] { try read(try resolve(path)) }

    /// The kind after following symlinks (nil when absent).
    public func resolvedKind(_ path: TreePath) -> TreeEntryKind? {
        guard let r = try? resolve(path) else { return nil }
        return entryKind(r)
    }
}

public struct SourceTreeError: Error, Sendable, CustomStringConvertible {
    public var path: String
    public var message: String
    public init(path: String, message: String) { self.path = path; self.message = message }
    public var description: String { "\(path): \(message)" }
}

/// A directory on the local file system.
public struct LocalTree: SourceTree {
    /// Absolute or working-directory-relative root directory.
    public let root: String
    /// The root with every symlink resolved (nil when it does not exist).
    let realRoot: String?
    public var displayName: String { root }

    public init(root: String) {
        var r = root
        while r.count > 1 && r.hasSuffix("/") { r.removeLast() }
        self.root = r
        self.realRoot = LocalTree.realpath(r)
    }

    /// Directories already resolved by `resolve(_:)` (relative path → resolved path), so a
    /// directory of a thousand files costs one `realpath(3)` (one `readlink` per component)
    /// instead of a thousand. Shared by copies of this tree; lives as long as they do.
    final class DirectoryCache: Sendable {
        let entries = Mutex<[String: TreePath]>([:])
        /// Bounded: a tree walked by a hostile repository cannot grow it without limit.
        static let capacity = 4096
        func get(_ key: String) -> TreePath? { entries.withLock { $0[key] } }
        func put(_ key: String, _ value: TreePath) {
            entries.withLock { if $0.count < DirectoryCache.capacity { $0[key] = value } }
        }
    }
    let directories = DirectoryCache()

    static func realpath(_ p: String) -> String? {
        guard let c = Glibc.realpath(p, nil) else { return nil }
        defer { free(c) }
        return String(cString: c)
    }

    /// Resolves with one `realpath(3)` and checks the result stays under the root's real path;
    /// falls back to link-by-link resolution (for precise errors, and for paths that do not
    /// exist yet).
    ///
    /// A file whose directory was resolved before costs one `lstat`: when the file itself is
    /// not a symlink it resolves to the directory's resolution plus its name.
    public func resolve(_ path: TreePath) throws -> TreePath {
        if path.isRoot { return path }
        let dir = path.parent
        var st = stat()
        let existsUnlinked = lstat(fsPath(path), &st) == 0 && st.st_mode & S_IFMT != S_IFLNK
        if existsUnlinked, let resolvedDir = dir.isRoot ? TreePath.root : directories.get(dir.string) {
            return resolvedDir.appending(path.name)
        }
        guard let resolved = resolveWithRealpath(path) else { return try resolveFollowingLinks(path) }
        // Remember the directory: the file's own name is the last component unless it was a link.
        if existsUnlinked, !dir.isRoot, resolved.name == path.name, !resolved.isRoot {
            directories.put(dir.string, resolved.parent)
        }
        return resolved
    }

    /// `resolve` plus the kind of what it resolves to. A file whose directory was resolved
    /// before and that is not a symlink costs one `lstat` for both.
    public func resolveWithKind(_ path: TreePath) throws -> (path: TreePath, kind: TreeEntryKind?) {
        if !path.isRoot {
            var st = stat()
            let dir = path.parent
            if lstat(fsPath(path), &st) == 0, st.st_mode & S_IFMT != S_IFLNK,
               let resolvedDir = dir.isRoot ? TreePath.root : directories.get(dir.string) {
                return (resolvedDir.appending(path.name), LocalTree.kind(st.st_mode))
            }
        }
        let resolved = try resolve(path)
        return (resolved, entryKind(resolved))
    }

    static func kind(_ mode: mode_t) -> TreeEntryKind? {
        switch mode & S_IFMT {
        case S_IFDIR: return .directory
        case S_IFLNK: return .symlink
        case S_IFREG: return .file
        default: return nil
        }
    }

    /// One `realpath(3)`, kept only when it stays under the root's real path.
    func resolveWithRealpath(_ path: TreePath) -> TreePath? {
        guard let realRoot, let real = LocalTree.realpath(fsPath(path)) else { return nil }
        if real == realRoot { return .root }
        let prefix = realRoot == "/" ? "/" : realRoot + "/"
        if real.hasPrefix(prefix), let rel = try? TreePath(String(real.dropFirst(prefix.count))) { return rel }
        return nil
    }

    func fsPath(_ p: TreePath) -> String { p.isRoot ? root : root + "/" + p.string }

    public func fileSize(_ path: TreePath) -> Int? {
        var st = stat()
        guard stat(fsPath(path), &st) == 0 else { return nil }
        return Int(st.st_size)
    }

    public func entryKind(_ path: TreePath) -> TreeEntryKind? {
        var st = stat()
        guard lstat(fsPath(path), &st) == 0 else { return nil }
        return LocalTree.kind(st.st_mode)
    }

    public func list(_ dir: TreePath) throws -> [TreeEntry] {
        guard let d = opendir(fsPath(dir)) else {
            throw SourceTreeError(path: dir.description, message: "cannot read directory (\(String(cString: strerror(errno))))")
        }
        defer { closedir(d) }
        var out: [TreeEntry] = []
        while let e = readdir(d) {
            let name = withUnsafeBytes(of: e.pointee.d_name) { raw in
                String(cString: raw.bindMemory(to: CChar.self).baseAddress!)
            }
            if name == "." || name == ".." { continue }
            if let k = entryKind(dir.appending(name)) { out.append(TreeEntry(name: name, kind: k)) }
        }
        return out.sorted { $0.name < $1.name }
    }

    public func read(_ path: TreePath) throws -> [UInt8] {
        let p = fsPath(path)
        let fd = open(p, O_RDONLY)
        guard fd >= 0 else {
            throw SourceTreeError(path: path.description, message: "cannot open (\(String(cString: strerror(errno))))")
        }
        defer { close(fd) }
        // Read straight into the result's uninitialized storage (sized by fstat, +1 to see
        // EOF in the same pass): no zero-filled scratch buffer, no copy.
        var st = stat()
        var capacity = fstat(fd, &st) == 0 ? Int(st.st_size) + 1 : 65536
        var out: [UInt8] = []
        var failure: Int32 = 0
        while true {
            var eof = false
            let chunk = [UInt8](unsafeUninitializedCapacity: capacity) { buf, count in
                count = 0
                while count < capacity {
                    let n = Glibc.read(fd, buf.baseAddress! + count, capacity - count)
                    if n < 0 {
                        if errno == EINTR { continue }
                        failure = errno
                        return
                    }
                    if n == 0 { eof = true; return }
                    count += n
                }
            }
            if failure != 0 {
                throw SourceTreeError(path: path.description, message: "read failed (\(String(cString: strerror(failure))))")
            }
            if out.isEmpty { out = chunk } else { out.append(contentsOf: chunk) }
            if eof { return out }
            capacity = 65536  // the file grew since fstat: read the rest in chunks
        }
    }

    public func readLink(_ path: TreePath) throws -> String {
        var buf = [CChar](repeating: 0, count: 4097)
        let n = readlink(fsPath(path), &buf, 4096)
        guard n >= 0 else { throw SourceTreeError(path: path.description, message: "not a symlink") }
        return String(decoding: buf[0..<n].map { UInt8(bitPattern: $0) }, as: UTF8.self)
    }
}
