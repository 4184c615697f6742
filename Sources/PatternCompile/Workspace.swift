import PatternCore

/// A pattern repository as users fork it: `patterns/<name>/pattern.yaml` and
/// `overlays/<name>/overlay.yaml`, read through a `SourceTree`.
public struct Workspace: Sendable {
    public var tree: any SourceTree
    public var patternsDir: TreePath
    public var overlaysDir: TreePath
    public var yamlLimits: YAMLLimits
    /// A layout that implies sites without overlay files (e.g. Validated Patterns); nil for
    /// the project's own layout only.
    public var layout: (any RepoLayout)?

    public static let overlayFileName = "overlay.yaml"
    public static let patternFileName = "pattern.yaml"

    public init(tree: any SourceTree, patternsDir: String = "patterns", overlaysDir: String = "overlays",
                yamlLimits: YAMLLimits = .default, layout: (any RepoLayout)? = nil) {
        self.tree = tree
        self.layout = layout
        self.patternsDir = (try? TreePath(patternsDir)) ?? .root
        self.overlaysDir = (try? TreePath(overlaysDir)) ?? .root
        self.yamlLimits = yamlLimits
    }

    /// Display path of a file in this workspace (relative, as users see it in their repo).
    public func display(_ p: TreePath) -> String { p.string }

    /// Names of every overlay directory that holds an overlay file, sorted.
    public func overlayNames() throws -> [String] {
        guard tree.resolvedKind(overlaysDir) == .directory else { return [] }
        return try tree.list(try tree.resolve(overlaysDir)).filter { e in
            tree.resolvedKind(overlaysDir.appending(e.name).appending(Workspace.overlayFileName)) == .file
        }.map(\.name)
    }

    /// Names of the sites (`kind: Site` overlays), sorted.
    public func siteNames() throws(Diagnostics) -> [String] {
        let names: [String]
        do { names = try overlayNames() } catch { throw Diagnostics([.error("cannot list \(overlaysDir): \(error)")]) }
        var out: [String] = []
        var problems: [Diagnostic] = []
        for n in names {
            do { if try loadOverlay(n, mark: nil, from: nil).kind == .site { out.append(n) } } catch { problems += error.items }
        }
        if !problems.isEmpty { throw Diagnostics(problems) }
        if let layout { return Array(Set(out + (try layout.siteNames(in: self)))).sorted() }
        return out
    }

    /// Reads and parses one YAML file of the workspace.
    public func readYAML(_ path: TreePath) throws(Diagnostics) -> [YAMLDocument] {
        let bytes: [UInt8]
        do { bytes = try tree.readResolved(path) } catch {
            throw Diagnostics([.error("cannot read \(path): \(error)", at: SourceLocation(file: path.string))])
        }
        do {
            return try bytes.withUnsafeBufferPointer { b throws(Diagnostic) in
                try YAMLParser.parseStream(bytes: b, file: path.string, limits: yamlLimits)
            }
        } catch { throw Diagnostics([error]) }
    }

    func single(_ path: TreePath) throws(Diagnostics) -> Value {
        let docs = try readYAML(path).filter { !$0.value.isNull }
        if docs.count > 1 {
            throw Diagnostics([.error("expected one document in \(path), found \(docs.count)",
                                      at: SourceLocation(file: path.string, mark: docs[1].mark), fix: "remove the extra '---' documents")])
        }
        return docs.first?.value ?? .null
    }

    /// Loads `overlays/<name>/overlay.yaml`.
    public func loadOverlay(_ name: String, mark: Mark?, from referrer: String?) throws(Diagnostics) -> OverlaySpec {
        let dir = overlaysDir.appending(name)
        let file = dir.appending(Workspace.overlayFileName)
        guard isDNSLabel(name) || (name.allSatisfy({ $0.isLetter || $0.isNumber || $0 == "-" || $0 == "_" || $0 == "." })
                                    && !name.allSatisfy({ $0 == "." })),
              tree.resolvedKind(file) == .file else {
            if let layout, let implied = try layout.overlay(named: name, in: self) { return implied }
            let known = (try? overlayNames()) ?? []
            let guess = FieldReader(file: "").closest(name, known)
            let fix: String
            if let guess { fix = "did you mean '\(guess)'?" }
            else if !known.isEmpty { fix = "known overlays: \(known.joined(separator: ", "))" }
            else if tree.resolvedKind(overlaysDir) != .directory {
                fix = "\(tree.displayName) has no \(overlaysDir)/ directory: pass --repo <pattern repository>, or create \(overlaysDir)/\(name)/\(Workspace.overlayFileName)"
            } else {
                fix = "\(overlaysDir)/ holds no overlays yet: create \(overlaysDir)/\(name)/\(Workspace.overlayFileName)"
            }
            throw Diagnostics([.error("no overlay named '\(name)' (expected \(file))",
                                      at: referrer.map { SourceLocation(file: $0, mark: mark ?? .none) }, fix: fix)])
        }
        return try OverlaySpec.decode(try single(file), file: file.string, directory: dir)
    }

    /// The overlay chain of `site`: everything it extends (depth first, each once, in order),
    /// then the site itself. Cycles are errors.
    public func overlayChain(_ site: String) throws(Diagnostics) -> [OverlaySpec] {
        var out: [OverlaySpec] = []
        var done: Set<String> = []
        var visiting: [String] = []
        func visit(_ name: String, mark: Mark?, from: String?) throws(Diagnostics) {
            if done.contains(name) { return }
            if let i = visiting.firstIndex(of: name) {
                throw Diagnostics([.error("overlays extend each other in a cycle: \((visiting[i...] + [name]).joined(separator: " → "))",
                                          at: from.map { SourceLocation(file: $0, mark: mark ?? .none) },
                                          fix: "remove one of the 'extends' entries")])
            }
            visiting.append(name)
            let o = try loadOverlay(name, mark: mark, from: from)
            for e in o.extends { try visit(e.name, mark: e.mark, from: o.file) }
            visiting.removeLast()
            done.insert(name)
            out.append(o)
        }
        try visit(site, mark: nil, from: nil)
        return out
    }

    /// Loads `pattern.yaml` from `dir` in `tree`.
    public static func loadPattern(tree: any SourceTree, dir: TreePath, displayPrefix: String = "", limits: YAMLLimits = .default) throws(Diagnostics) -> PatternSpec {
        let path = dir.appending(patternFileName)
        let shown = displayPrefix + path.string
        guard tree.resolvedKind(path) == .file else {
            throw Diagnostics([.error("no pattern file at \(shown)", at: SourceLocation(file: shown),
                                      fix: "check the site's 'pattern' setting; a pattern directory holds \(patternFileName)")])
        }
        let ws = Workspace(tree: tree, yamlLimits: limits)
        let doc: Value
        do { doc = try ws.single(path) } catch {
            throw Diagnostics(error.items.map { $0.prefixingFiles(displayPrefix) })
        }
        return try PatternSpec.decode(doc, file: shown)
    }
}

#if canImport(Glibc)
import Glibc
#endif

func currentDirectory() -> String {
    var buf = [CChar](repeating: 0, count: 4096)
    guard getcwd(&buf, 4096) != nil else { return "." }
    return String(cString: buf)
}
