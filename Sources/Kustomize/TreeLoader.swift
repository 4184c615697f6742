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
    /// How remote `resources:`/`components:` entries are fetched.
    var remote = RemotePolicy.none
    /// Names the tree in cycle checks: `""` for the build's own tree, `<url>@<commit>` for a
    /// remote base.
    var scope = ""

    /// `dir` as a member of the accumulation stack (unique across trees).
    func stackKey(_ dir: TreePath) -> String { scope.isEmpty ? dir.string : scope + "//" + dir.string }

    /// The remote repository `rel` names, if it is written as one (Kustomize: a URL with a
    /// scheme, `git@host:…`, `github.com/…`). Throws when it looks remote but does not parse.
    func remoteSpec(_ rel: String, at loc: SourceLocation, what: String) throws(Diagnostic) -> RemoteSpec? {
        guard TreeLoader.looksRemote(rel), !TreeLoader.isPlainFileURL(rel) else { return nil }
        do throws(RemoteSpec.ParseError) { return try RemoteSpec(parsing: rel) } catch {
            throw .error("remote \(what) '\(rel)': \(error)", at: loc,
                         fix: "write it as Kustomize does: `https://host/org/repo//dir?ref=<tag>` or `git@host:org/repo//dir?ref=<tag>`")
        }
    }

    static func looksRemote(_ rel: String) -> Bool {
        // Every remote form holds a `:` (`://`, `git@host:`, `github.com:`, `git::`) or starts
        // with `g` (`git@`, `github.com/`): a plain relative path skips the lowercased copy.
        let u = rel.utf8
        guard u.contains(UInt8(ascii: ":")) || u.first == UInt8(ascii: "g") || u.first == UInt8(ascii: "G") else { return false }
        let l = rel.lowercased()
        return l.containsUTF8("://") || l.hasPrefix("git@") || l.hasPrefix("github.com/") || l.hasPrefix("github.com:") || l.hasPrefix("git::")
    }

    /// `https://host/…/file.yaml` with no repository marker: Kustomize downloads such a file
    /// over HTTP instead of cloning.
    static func isPlainFileURL(_ rel: String) -> Bool {
        guard let c = rel.utf8.first, c == UInt8(ascii: "h") || c == UInt8(ascii: "H") else { return false }
        var l = rel.lowercased()
        guard l.hasPrefix("http://") || l.hasPrefix("https://") else { return false }
        if let hash = l.firstIndex(of: "#") { l = String(l[..<hash]) }  // the `#sha256=` pin
        let noQuery = l.split(separator: "?", maxSplits: 1).first.map(String.init) ?? l
        let afterScheme = noQuery.split(separator: "/", maxSplits: 1, omittingEmptySubsequences: false).count > 1
            ? String(noQuery.drop(while: { $0 != "/" }).dropFirst(2)) : noQuery
        if afterScheme.containsUTF8("//") || noQuery.containsUTF8(".git") || noQuery.containsUTF8("_git/") || l.containsUTF8("ref=") { return false }
        return noQuery.hasSuffix(".yaml") || noQuery.hasSuffix(".yml") || noQuery.hasSuffix(".json")
    }

    /// A `resources:`/`components:` entry: a remote base (fetched) or a local path, with the
    /// loader for the tree it lives in.
    func locate(_ rel: String, from dir: TreePath, at loc: SourceLocation, what: String) throws(Diagnostic) -> (TreeLoader, TreePath) {
        if TreeLoader.isPlainFileURL(rel) { return try fetchFile(rel, at: loc, what: what) }
        if let spec = try remoteSpec(rel, at: loc, what: what) { return try fetch(spec, at: loc, what: what) }
        return (self, try resolve(rel, from: dir, at: loc, what: what))
    }

    /// Fetches a remote base and returns a loader for its tree and the base's directory in it.
    func fetch(_ spec: RemoteSpec, at loc: SourceLocation, what: String) throws(Diagnostic) -> (TreeLoader, TreePath) {
        guard let l = remote.loader else {
            throw .error("remote \(what) '\(spec.raw)' is not fetched in this build", at: loc,
                         fix: "vendor the remote base into the repository, or render with remote bases enabled (pattern render fetches them through the git source cache)")
        }
        let base: RemoteBase
        do throws(RemoteBaseError) { base = try l.load(spec) } catch {
            throw .error("remote \(what) '\(spec.raw)': \(error.message)", at: loc, fix: error.fix)
        }
        if !base.pinned && !remote.allowUnpinned {
            let why = spec.ref.isEmpty ? "has no `ref=` (the default branch moves)" : "names branch '\(spec.ref)' (a branch moves)"
            throw .error("remote \(what) '\(spec.raw)' is not pinned: it \(why)", at: loc,
                         fix: "pin it with `?ref=<tag or full commit id>` (resolved now to \(base.commit)), or allow unpinned remote bases explicitly")
        }
        let dir: TreePath
        do { dir = try TreePath(spec.path.hasSuffix("/") ? String(spec.path.dropLast()) : spec.path) } catch {
            throw .error("remote \(what) '\(spec.raw)': \(error)", at: loc, fix: "use a directory inside the repository")
        }
        var sub = TreeLoader(tree: base.tree, limits: limits, remote: remote)
        sub.scope = spec.cloneURL + "@" + base.commit
        guard sub.kind(dir) == .directory else {
            throw .error("remote \(what) '\(spec.raw)': '\(spec.path)' is not a directory in \(spec.cloneURL) at \(base.commit)", at: loc,
                         fix: "fix the path after `//`")
        }
        return (sub, dir)
    }

    /// Resolves `rel` (as written at `loc`) against `dir`, following symlinks safely.
    func resolve(_ rel: String, from dir: TreePath, at loc: SourceLocation, what: String) throws(Diagnostic) -> TreePath {
        try resolveWithKind(rel, from: dir, at: loc, what: what).path
    }

    /// `resolve`, also returning what the path is (nil: nothing there). `resolvedDir` is
    /// `dir` already resolved (callers resolving many entries of one directory pass it once).
    func resolveWithKind(_ rel: String, from dir: TreePath, at loc: SourceLocation, what: String,
                         resolvedDir: TreePath? = nil) throws(Diagnostic) -> (path: TreePath, kind: TreeEntryKind?) {
        if rel.containsUTF8("://") || rel.hasPrefix("git@") || rel.hasPrefix("github.com/") {
            throw .error("remote \(what) '\(rel)' is not supported", at: loc,
                         fix: "vendor the remote base into the repository, or reference it as a pattern source")
        }
        let p: TreePath
        do { p = try dir.resolving(rel) } catch {
            throw .error("\(what) '\(rel)': \(error)", at: loc, fix: "keep \(what) paths inside the repository")
        }
        let resolved: TreePath, kind: TreeEntryKind?
        do { (resolved, kind) = try tree.resolveWithKind(p) } catch let e as TreePathError {
            throw .error("\(what) '\(rel)': \(e)", at: loc, fix: "replace the symlink with a path inside the repository")
        } catch {
            throw .error("\(what) '\(rel)': \(error)", at: loc, fix: "check the path")
        }
        if limits.loadRestrictor == .rootOnly, kind != .directory {
            // Checked on real paths (symlinks followed), as Kustomize's RestrictionRootOnly does.
            let root = resolvedDir ?? (try? tree.resolve(dir)) ?? dir
            if !resolved.hasPrefix(root) {
                throw .error("security; file '\(shown(resolved))' is not in or below '\(shown(root))'", at: loc,
                             fix: "move the file into the kustomization's directory, or allow it explicitly with --load-restrictor \(LoadRestrictor.none.rawValue)")
            }
        }
        return (resolved, kind)
    }

    /// A tree path as users see it: absolute when the tree is rooted at `/`.
    func shown(_ p: TreePath) -> String {
        tree.displayName == "/" ? "/" + p.string : (p.isRoot ? "." : p.string)
    }

    func kind(_ p: TreePath) -> TreeEntryKind? { tree.entryKind(p) }

    /// `kind`: what the caller already found at `p` (one `lstat` fewer), else nil.
    func read(_ p: TreePath, at loc: SourceLocation, what: String, kind: TreeEntryKind? = nil) throws(Diagnostic) -> [UInt8] {
        guard let k = kind ?? tree.entryKind(p) else {
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

    /// `duplicateKeys: .lastWins` for kustomization files, which Kustomize decodes with
    /// go-yaml v2 into Go maps (a repeated key keeps its last value); every other file Kustomize
    /// reads through kyaml, which refuses repeated keys.
    /// With `annotationText`, documents' non-string annotation values keep their source text
    /// (`AnnotationText`), as for resources.
    func parseStream(_ p: TreePath, at loc: SourceLocation, what: String,
                     duplicateKeys: DuplicateKeys = .reject, annotationText: Bool = false) throws(Diagnostic) -> [YAMLDocument] {
        let bytes = try read(p, at: loc, what: what)
        let r = bytes.withUnsafeBufferPointer { buf in
            Result { () throws(Diagnostic) in
                var docs = try YAMLParser.parseStream(bytes: buf, file: p.string, limits: limits.yaml, duplicateKeys: duplicateKeys)
                if annotationText {
                    for i in docs.indices where AnnotationText.needed(docs[i].value) { AnnotationText.restore(&docs[i].value, source: buf) }
                }
                return docs
            }
        }
        return try r.get()
    }

    /// Kubernetes objects in a resource file: all documents, `*List` kinds flattened, empty
    /// documents skipped.
    func objects(in p: TreePath, at loc: SourceLocation, kind: TreeEntryKind? = nil) throws(Diagnostic) -> [KResource] {
        var out: [KResource] = []
        let file = p.string  // joined once, not per document
        let bytes = try read(p, at: loc, what: "resource", kind: kind)
        let r = bytes.withUnsafeBufferPointer { buf in
            Result { () throws(Diagnostic) in try YAMLParser.parseStream(bytes: buf, file: file, limits: limits.yaml) }
        }
        let docs = try r.get()
        // Raw control characters are refused by the YAML reader; escaped ones (`"\x7f"`) can
        // only come from a double-quoted scalar, so only files with a backslash are checked.
        let escapes = bytes.contains(UInt8(ascii: "\\"))
        let nonFinite = ControlCharacters.mayHoldNonFinite(bytes)
        for doc in docs {
            if escapes { try ControlCharacters.check(doc.value, file: file) }
            if nonFinite { try ControlCharacters.checkFinite(doc.value, file: file) }
            var v = doc.value
            if AnnotationText.needed(v) { bytes.withUnsafeBufferPointer { AnnotationText.restore(&v, source: $0) } }
            try append(v, file: file, into: &out)
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
        // Like kubectl: `kind` is required, `apiVersion` is not (the object has no group/version).
        guard v.kindName != nil else {
            throw .error("resource is missing `kind`", at: l, fix: "add apiVersion and kind")
        }
        guard let name = v.metadataName, !name.isEmpty else {
            throw .error("resource \(v.kindName!) is missing `metadata.name`", at: l, fix: "add metadata.name")
        }
        out.append(KResource(value: v, file: file))
    }
}

/// `kubectl kustomize` refuses DEL and the C1 control characters (U+007F–U+009F except
/// U+0085) anywhere in a resource ("control characters are not allowed"); so does this engine.
enum ControlCharacters {
    static func isRefused(_ v: UInt32) -> Bool { v >= 0x7F && v <= 0x9F && v != 0x85 }

    static func check(_ v: Value, file: String) throws(Diagnostic) {
        switch v.kind {
        case .string(let s): try check(string: s, mark: v.mark, file: file)
        case .array(let a): for x in a { try check(x, file: file) }
        case .object(let o):
            for (k, x) in o {
                try check(string: k, mark: o.keyMark(k) ?? x.mark, file: file, isKey: true)
                try check(x, file: file)
            }
        default: break
        }
    }

    /// `.inf` / `.nan` (any case) occur in the text: only then can a number be non-finite.
    static func mayHoldNonFinite(_ b: [UInt8]) -> Bool {
        guard b.count >= 4 else { return false }
        for i in 0..<(b.count - 3) where b[i] == UInt8(ascii: ".") {
            let w = (b[i + 1] | 0x20, b[i + 2] | 0x20, b[i + 3] | 0x20)
            if w == (105, 110, 102) || w == (110, 97, 110) { return true }  // inf, nan
        }
        return false
    }

    /// kubectl refuses `.inf` and `.nan` (JSON has no such numbers); so does this engine.
    static func checkFinite(_ v: Value, file: String) throws(Diagnostic) {
        switch v.kind {
        case .double(let d) where !d.isFinite:
            throw .error("\(YAMLScalar.format(d)) is not a valid number in a Kubernetes object (JSON has no infinity or NaN)",
                         at: SourceLocation(file: file, mark: v.mark), fix: "quote the value to make it a string, or write a finite number")
        case .array(let a): for x in a { try checkFinite(x, file: file) }
        case .object(let o): for (_, x) in o { try checkFinite(x, file: file) }
        default: break
        }
    }

    /// With `isKey`, U+0085 (NEL) is refused too: kubectl prints its output through JSON read
    /// back as YAML, where a key holding a raw NEL is a multi-line key and the build fails
    /// ("did not find expected ',' or '}'"). A NEL can reach a key only through the `\N` escape
    /// (a raw one is folded by the reader), so files without a backslash need no check.
    static func check(string s: String, mark: Mark, file: String, isKey: Bool = false) throws(Diagnostic) {
        // U+007F is 0x7F in UTF-8, U+0080–U+009F are 0xC2 0x80–0x9F.
        var prev: UInt8 = 0
        for b in s.utf8 {
            if isKey && prev == 0xC2 && b == 0x85 {
                throw .error("a map key holding U+0085 (NEL) cannot be printed by kubectl kustomize", at: SourceLocation(file: file, mark: mark),
                             fix: "remove the \\N escape from the key")
            }
            if b == 0x7F || (prev == 0xC2 && b >= 0x80 && b <= 0x9F && b != 0x85) {
                throw .error("control characters are not allowed (U+\(b == 0x7F ? "007F" : "00" + String(b, radix: 16, uppercase: true)) in a string)",
                             at: SourceLocation(file: file, mark: mark),
                             fix: "remove the control character, or base64-encode binary data (ConfigMap `binaryData`, Secret `data`)")
            }
            prev = b
        }
    }
}
