import PatternCore
import Kustomize
import Helm

/// Supplies remote Kustomize bases and `https://` files to site compiles. `SiteCompiler` asks
/// its `resolver` for it (the CLI's and the controller's `GitPatternResolver` fetch through
/// the git source cache), so this module links no git or HTTP library.
public protocol KustomizeRemoteResolver: Sendable {
    /// The policy for one site; `allowUnpinned` comes from the overlay chain
    /// (`spec.kustomize.allowUnpinnedRemotes`, the site's setting winning).
    func kustomizeRemotes(allowUnpinned: Bool) -> RemotePolicy
}

/// Connects the compiler to the `Kustomize` module: kustomization directories, and the
/// shared strategic-merge / JSON 6902 patch engine for overlay `patches`.
enum KustomizeBridge {
    static func build(tree: any SourceTree, dir: TreePath, displayPrefix: String, limits: YAMLLimits,
                      remote: RemotePolicy = .none) throws(Diagnostics) -> [(Value, String)] {
        // Chart warnings are located in the build's tree: collected here, then passed on with
        // the display prefix the objects' files carry.
        var remote = remote
        let outer = remote.chartWarnings
        let local = ChartWarningSink()
        if outer != nil { remote.chartWarnings = local }
        defer { outer?.add(local.all.map { $0.prefixingFiles(displayPrefix) }) }
        do {
            return try KustomizeBuilder(tree: tree, limits: KustomizeLimits(yaml: limits), remote: remote).buildWithOrigins(dir)
                .map { ($0.object, displayPrefix + $0.file) }
        } catch {
            throw Diagnostics(error.items.map { $0.prefixingFiles(displayPrefix) })
        }
    }

    /// Applies Kustomize-style `patches` entries of an overlay to `objects`.
    ///
    /// A patch whose `target` selects no rendered object is an error (a typo in kind, name or
    /// namespace must not pass silently), unless it selects objects of a component that is
    /// disabled on this site: then it is a located warning (a group's patch for a component
    /// the site turned off). `disabledObjects` renders the disabled components; it is called
    /// at most once, and only when a target selects nothing.
    ///
    /// `overlaySource` is the overlay file's text: inline patches are re-positioned so their
    /// errors point at the patch's own line and column inside the overlay file.
    static func applyPatches(_ patches: [Value], overlayDir: TreePath, overlayFile: String, overlaySource: String?,
                             tree: any SourceTree, to objects: inout [RenderedObject],
                             disabledObjects: () -> [(object: Value, component: String)]) throws(Diagnostics) -> [Diagnostic] {
        if patches.isEmpty { return [] }
        var warnings: [Diagnostic] = []
        var errors: [Diagnostic] = []
        var components: [ObjectKey: String] = [:]
        for o in objects { if let k = o.object.objectKey { components[k] = o.component } }
        var pairs = objects.map { (object: $0.object, file: $0.file) }
        var disabled: [(object: Value, component: String)]? = nil
        let sourceLines = overlaySource.map { $0.split(separator: "\n", omittingEmptySubsequences: false) }
        // One entry at a time, so each target is checked against the objects as the earlier
        // patches left them.
        for var entry in patches {
            if let tv = entry["target"], tv.object != nil {
                let target: PatchTarget
                do { target = try PatchTarget(parsing: tv, file: overlayFile) } catch { throw Diagnostics([error]) }
                func selects(_ v: Value) -> Bool {
                    guard let av = v.apiVersion, let k = v.kindName else { return false }
                    return target.matchesGVK(GroupVersionKind(apiVersion: av, kind: k)) && target.matches(v)
                }
                if !pairs.contains(where: { selects($0.object) }) {
                    if disabled == nil { disabled = disabledObjects() }
                    let off = Set(disabled!.filter { selects($0.object) }.map(\.component)).sorted()
                    let at = SourceLocation(file: overlayFile, mark: tv.mark)
                    if off.isEmpty {
                        errors.append(.error("patch target \(tv.description) matches no rendered object",
                                             at: at,
                                             fix: "check the target's kind, name and namespace against `pattern render`, or remove the patch"))
                    } else {
                        warnings.append(Diagnostic(.warning, at: at,
                            "patch target \(tv.description) selects only objects of disabled component\(off.count == 1 ? "" : "s") \(off.map { "'\($0)'" }.joined(separator: ", ")); the patch was not applied",
                            fix: "enable the component on this site, or move the patch to the sites that enable it"))
                    }
                    continue
                }
            }
            if let sourceLines, let pv = entry["patch"], let text = pv.string,
               let placed = InlinePatchPosition.placed(text, at: pv.mark, in: sourceLines) {
                // A syntax error is reported here, at its own position (the patch engine
                // reports inline syntax errors at the entry).
                do throws(Diagnostic) { _ = try YAMLParser.parseStream(placed, file: overlayFile) } catch {
                    var e = error
                    e.message = "inline patch: " + e.message
                    errors.append(e)
                    continue
                }
                entry["patch"] = Value(.string(placed), mark: pv.mark)
            }
            do {
                try OverlayPatcher.apply([entry], overlayDir: overlayDir, overlayFile: overlayFile, tree: tree, to: &pairs)
            } catch { errors += error.items }
        }
        if !errors.isEmpty { throw Diagnostics(errors) }
        objects = pairs.map { p in
            let key = p.object.objectKey ?? ObjectKey(group: "", kind: p.object.kindName ?? "", namespace: "", name: p.object.metadataName ?? "")
            return RenderedObject(object: p.object, key: key, component: components[key] ?? "", file: p.file)
        }
        return warnings
    }
}

/// Keeps an inline overlay patch's source positions. The patch text is a scalar inside the
/// overlay file; parsed on its own, its first line would be `1:1`. When the scalar is a
/// literal block (`patch: |`) or a single-line scalar whose text appears verbatim in the
/// file, the text is padded with the newlines and indentation it had there, so the YAML
/// reader reports positions inside the overlay file. Anything else (folded blocks, escapes,
/// `---` separators that indentation would turn into text) is left as it was.
enum InlinePatchPosition {
    static func placed(_ text: String, at mark: Mark, in lines: [Substring]) -> String? {
        let lineIndex = Int(mark.line) - 1
        guard mark.isKnown, lineIndex >= 0, lineIndex < lines.count else { return nil }
        let header = Array(lines[lineIndex].unicodeScalars)
        let column = Int(mark.column) - 1
        guard column >= 0, column < header.count else { return nil }
        if header[column] == "|" {
            var content = text.split(separator: "\n", omittingEmptySubsequences: false)
            if text.hasSuffix("\n") { content.removeLast() }
            guard !content.isEmpty, lineIndex + content.count < lines.count else { return nil }
            var indent: Int? = nil
            for (i, c) in content.enumerated() {
                if c.hasPrefix("---") || c.hasPrefix("...") || c.hasPrefix("%") { return nil }
                let src = lines[lineIndex + 1 + i]
                if c.isEmpty {
                    guard src.allSatisfy({ $0 == " " }) else { return nil }
                    continue
                }
                let n = indent ?? (src.unicodeScalars.count - c.unicodeScalars.count)
                guard n >= 0, src.unicodeScalars.prefix(n).allSatisfy({ $0 == " " }),
                      Substring(src.unicodeScalars.dropFirst(n)) == c else { return nil }
                indent = n
            }
            guard let indent else { return nil }
            let pad = String(repeating: " ", count: indent)
            var out = String(repeating: "\n", count: lineIndex + 1)
            out += content.map { $0.isEmpty ? "" : pad + $0 }.joined(separator: "\n")
            if text.hasSuffix("\n") { out += "\n" }
            return out
        }
        guard !text.contains("\n"), !text.hasPrefix("---"), !text.hasPrefix("%") else { return nil }
        var start = column
        if header[column] == "\"" || header[column] == "'" { start += 1 }
        let rest = header.dropFirst(start)
        let want = Array(text.unicodeScalars)
        guard rest.count >= want.count, rest.prefix(want.count).elementsEqual(want) else { return nil }
        return String(repeating: "\n", count: lineIndex) + String(repeating: " ", count: start) + text
    }
}

/// Renders a plain Kustomize directory as `kubectl kustomize` would (nothing added).
public enum KustomizeRender {
    /// Builds `directory`. `restrictToRoot` is Kustomize's default load restrictor
    /// (`LoadRestrictionsRootOnly`): every file a kustomization reads must be in or below its
    /// own directory; false is `--load-restrictor LoadRestrictionsNone`.
    /// `remote` fetches remote bases (`github.com/org/repo//dir?ref=…`); by default they are errors.
    public static func build(directory: String, restrictToRoot: Bool = true, remote: RemotePolicy = .none) throws(Diagnostics) -> [Value] {
        var d = directory
        while d.count > 1 && d.hasSuffix("/") { d.removeLast() }
        // The tree is the directory's filesystem root boundary: Kustomize allows `../` bases,
        // so root the tree at the current directory and refuse only what leaves it.
        let cwd = currentDirectory()
        let absolute = d.hasPrefix("/") ? d : cwd + "/" + d
        let (root, rel) = commonRoot(absolute, cwd)
        let tree = LocalTree(root: root)
        let path: TreePath
        do { path = try TreePath(rel) } catch { throw Diagnostics([.error("\(error)", at: SourceLocation(file: directory))]) }
        var limits = KustomizeLimits.default
        limits.loadRestrictor = restrictToRoot ? .rootOnly : .none
        return try KustomizeBuilder(tree: tree, limits: limits, remote: remote).build(path)
    }

    /// The tree root for a Kustomize build: the working directory when the target is inside
    /// it, else the target's parent chain up to `/`.
    static func commonRoot(_ target: String, _ cwd: String) -> (String, String) {
        if target.hasPrefix(cwd + "/") { return (cwd, String(target.dropFirst(cwd.count + 1))) }
        return ("/", String(target.dropFirst()))
    }
}
