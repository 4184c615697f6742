import PatternCore

/// A plain `https://host/path/file.yaml` resource, downloaded (not cloned) as Kustomize does.
///
/// A GitOps render must be reproducible, so the file is pinned by its content:
/// `https://host/path/file.yaml#sha256=<64 hex>` (the fragment is never sent to the server, so
/// `kubectl kustomize` fetches the same URL). An entry without the pin is refused unless the
/// build allows unpinned remotes, exactly like a remote base without a tag or commit.
public struct RemoteFileURL: Sendable, Hashable, CustomStringConvertible {
    /// The entry as written.
    public var raw: String
    /// What is fetched: the entry without its `#` fragment.
    public var url: String
    /// The pinned content digest (64 lowercase hex digits), if any.
    public var sha256: String?

    public var description: String { url }

    /// Splits the pin off `text`. Throws for a fragment that is not `sha256=<64 hex>`.
    public init(parsing text: String) throws(RemoteSpec.ParseError) {
        raw = text
        guard let hash = text.firstIndex(of: "#") else { url = text; sha256 = nil; return }
        url = String(text[..<hash])
        let fragment = text[text.index(after: hash)...]
        guard fragment.hasPrefix("sha256=") else {
            throw RemoteSpec.ParseError(description: "unknown fragment '#\(fragment)' (only '#sha256=<digest>' pins a file)")
        }
        let hex = fragment.dropFirst(7).lowercased()
        guard hex.utf8.count == 64, hex.utf8.allSatisfy({ ($0 >= 48 && $0 <= 57) || ($0 >= 97 && $0 <= 102) }) else {
            throw RemoteSpec.ParseError(description: "'#\(fragment)' is not sha256=<64 hex digits>")
        }
        sha256 = hex
    }
}

/// A downloaded remote file.
public struct RemoteFile: Sendable {
    public var bytes: [UInt8]
    /// True when the bytes came from the cache because the network could not be used (the
    /// last copy fetched of an unpinned URL).
    public var stale: Bool
    public init(bytes: [UInt8], stale: Bool = false) { self.bytes = bytes; self.stale = stale }
}

/// Downloads plain remote files for a build (implemented over PatternSource's HTTP client and
/// cache outside this module). `maxBytes` bounds the download.
public protocol RemoteFileLoader: Sendable {
    func loadFile(_ url: RemoteFileURL, maxBytes: Int) throws(RemoteBaseError) -> RemoteFile
}

/// A tree holding one downloaded file at its root, so the builder reads it like a local
/// resource file (its name is the URL's last path segment).
struct RemoteFileTree: SourceTree {
    let name: String
    let bytes: [UInt8]
    let displayName: String
    func entryKind(_ path: TreePath) -> TreeEntryKind? {
        path.isRoot ? .directory : (path.components == [name] ? .file : nil)
    }
    func list(_ dir: TreePath) throws -> [TreeEntry] {
        guard dir.isRoot else { throw SourceTreeError(path: dir.description, message: "not a directory") }
        return [TreeEntry(name: name, kind: .file)]
    }
    func read(_ path: TreePath) throws -> [UInt8] {
        guard path.components == [name] else { throw SourceTreeError(path: path.description, message: "no such file") }
        return bytes
    }
    func readLink(_ path: TreePath) throws -> String { throw SourceTreeError(path: path.description, message: "not a symlink") }
    func resolve(_ path: TreePath) throws -> TreePath { path }
    func fileSize(_ path: TreePath) -> Int? { path.components == [name] ? bytes.count : nil }
}

extension TreeLoader {
    /// Downloads a plain `https://…/file.yaml` resource and returns a loader for a tree holding
    /// just that file, checked against its `#sha256=` pin.
    func fetchFile(_ rel: String, at loc: SourceLocation, what: String) throws(Diagnostic) -> (TreeLoader, TreePath) {
        let u: RemoteFileURL
        do throws(RemoteSpec.ParseError) { u = try RemoteFileURL(parsing: rel) } catch {
            throw .error("remote \(what) '\(rel)': \(error)", at: loc, fix: "pin the file as `\(rel.split(separator: "#").first ?? "")#sha256=<sha256sum of the file>`")
        }
        guard let l = remote.files else {
            throw .error("remote \(what) '\(u.url)' is a plain HTTP(S) file, which this build does not download", at: loc,
                         fix: "vendor the file into the repository, or render with remote resources enabled (pattern render downloads them through the source cache)")
        }
        if u.sha256 == nil && !remote.allowUnpinned {
            throw .error("remote \(what) '\(u.url)' is not pinned: a file at a URL can change between renders", at: loc,
                         fix: "pin it by content: `\(u.url)#sha256=<sha256sum of the file>`, or allow unpinned remotes explicitly")
        }
        let file: RemoteFile
        do throws(RemoteBaseError) { file = try l.loadFile(u, maxBytes: limits.yaml.maxBytes) } catch {
            throw .error("remote \(what) '\(u.url)': \(error.message)", at: loc, fix: error.fix)
        }
        let digest = SHA256.hex(file.bytes)
        if let want = u.sha256, want != digest {
            throw .error("remote \(what) '\(u.url)' has sha256 \(digest), not the pinned \(want)", at: loc,
                         fix: "check that the URL serves the file you reviewed; if the change is intended, update the pin to #sha256=\(digest)")
        }
        var name = String(u.url.split(separator: "?", maxSplits: 1).first ?? "")
        name = String(name.split(separator: "/").last ?? "")
        if name.isEmpty || name == "." || name == ".." { name = "resource.yaml" }
        var sub = TreeLoader(tree: RemoteFileTree(name: name, bytes: file.bytes, displayName: u.url), limits: limits, remote: remote)
        sub.scope = u.url + "@sha256:" + digest
        return (sub, TreePath.root.appending(name))
    }
}
