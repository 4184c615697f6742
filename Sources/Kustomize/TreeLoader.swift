import PatternCore

/// Which files a kustomization may load, as `kubectl kustomize --load-restrictor`.
public enum LoadRestrictor: String, Sendable, Hashable, CaseIterable {
    /// Kustomize's default: files (resource files, patches, generator sources, configurations,
    /// replacements) must be in or below the directory of the kustomization that names them;
    /// other kustomization *directories* (bases, components) may be anywhere in the tree.
    case rootOnly = "LoadRestrictionsRootOnly"
    /// Files may be anywhere in the tree (never outside it).
    case none = "LoadRestrictionsNone"
}

/// Reads files for a build through a `SourceTree`, so paths (and symlinks) can never leave
/// the tree, turning every failure into a located `Diagnostic`.
struct TreeLoader: Sendable {
    let tree: any SourceTree
    let limits: KustomizeLimits

    /// Resolves `rel` (as written at `loc`) against `dir`, following symlinks safely.
    func resolve(_ rel: String, from dir: TreePath, at loc: SourceLocation, what: String) throws(Diagnostic) -> TreePath {
        if rel.contains("://") || rel.hasPrefix("git@") || rel.hasPrefix("github.com/") {
            throw .error("remote \(what) '\(rel)' is not supported", at: loc,
                         fix: "vendor the remote base into the repository, or reference it as a pattern source")
        }
        let p: TreePath
        do { p = try dir.resolving(rel) } catch {
            throw .error("\(what) '\(rel)': \(error)", at: loc, fix: "keep \(what) paths inside the repository")
        }
        let resolved: TreePath
        do { resolved = try tree.resolve(p) } catch let e as TreePathError {
            throw .error("\(what) '\(rel)': \(e)", at: loc, fix: "replace the symlink with a path inside the repository")
        } catch {
            throw .error("\(what) '\(rel)': \(error)", at: loc, fix: "check the path")
        }
        if limits.loadRestrictor == .rootOnly, tree.entryKind(resolved) != .directory {
            // Checked on real paths (symlinks followed), as Kustomize's RestrictionRootOnly does.
            let root = (try? tree.resolve(dir)) ?? dir
            if !resolved.hasPrefix(root) {
                throw .error("security; file '\(shown(resolved))' is not in or below '\(shown(root))'", at: loc,
                             fix: "move the file into the kustomization's directory, or allow it explicitly with --load-restrictor \(LoadRestrictor.none.rawValue)")
            }
        }
        return resolved
    }

    /// A tree path as users see it: absolute when the tree is rooted at `/`.
    func shown(_ p: TreePath) -> String {
        tree.displayName == "/" ? "/" + p.string : (p.isRoot ? "." : p.string)
    }

    func kind(_ p: TreePath) -> TreeEntryKind? { tree.entryKind(p) }

    func read(_ p: TreePath, at loc: SourceLocation, what: String) throws(Diagnostic) -> [UInt8] {
        guard let k = tree.entryKind(p) else {
            throw .error("\(what) '\(p)' does not exist", at: loc, fix: "fix the path or add the file")
        }
        guard k == .file else {
            throw .error("\(what) '\(p)' is not a file", at: loc, fix: "point at a file")
        }
        let bytes: [UInt8]
        do { bytes = try tree.read(p) } catch {
            throw .error("cannot read \(what) '\(p)': \(error)", at: loc, fix: "check file permissions")
        }
        if bytes.count > limits.yaml.maxBytes {
            throw .error("\(what) '\(p)' is \(bytes.count) bytes, more than the limit of \(limits.yaml.maxBytes)", at: loc,
                         fix: "split the file")
        }
        return bytes
    }

    func parseStream(_ p: TreePath, at loc: SourceLocation, what: String) throws(Diagnostic) -> [YAMLDocument] {
        let bytes = try read(p, at: loc, what: what)
        let r = bytes.withUnsafeBufferPointer { buf in
            Result { () throws(Diagnostic) in try YAMLParser.parseStream(bytes: buf, file: p.string, limits: limits.yaml) }
        }
        return try r.get()
    }

    /// Kubernetes objects in a resource file: all documents, `*List` kinds flattened, empty
    /// documents skipped.
    func objects(in p: TreePath, at loc: SourceLocation) throws(Diagnostic) -> [KResource] {
        var out: [KResource] = []
        for doc in try parseStream(p, at: loc, what: "resource") {
            try append(doc.value, file: p.string, into: &out)
        }
        return out
    }

    func append(_ v: Value, file: String, into out: inout [KResource]) throws(Diagnostic) {
        if v.isNull { return }
        let l = SourceLocation(file: file, mark: v.mark)
        guard v.object != nil else {
            throw .error("a resource must be a map, found \(v.typeName)", at: l, fix: "each YAML document must be one Kubernetes object")
        }
        if let kind = v.kindName, kind.hasSuffix("List"), let items = v["items"]?.array {
            for item in items { try append(item, file: file, into: &out) }
            return
        }
        guard v.apiVersion != nil, v.kindName != nil else {
            throw .error("resource is missing `apiVersion` or `kind`", at: l, fix: "add apiVersion and kind")
        }
        guard let name = v.metadataName, !name.isEmpty else {
            throw .error("resource \(v.kindName!) is missing `metadata.name`", at: l, fix: "add metadata.name")
        }
        out.append(KResource(value: v, file: file))
    }
}
