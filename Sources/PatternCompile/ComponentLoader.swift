import PatternCore

/// Reads the objects of one component directory: a Kustomize directory (built by the
/// `Kustomize` module) or a directory tree of plain manifests (`*.yaml`, `*.yml`, `*.json`,
/// recursively, in path order; `List` kinds are flattened, empty documents skipped).
struct ComponentLoader {
    let tree: any SourceTree
    let displayPrefix: String
    let limits: YAMLLimits

    static let kustomizationNames = ["kustomization.yaml", "kustomization.yml", "Kustomization"]

    func isKustomization(_ dir: TreePath) -> Bool {
        ComponentLoader.kustomizationNames.contains { tree.resolvedKind(dir.appending($0)) == .file }
    }

    func load(_ dir: TreePath, component: String, referencedAt: SourceLocation) throws(Diagnostics) -> [(Value, String)] {
        let resolved: TreePath
        do { resolved = try tree.resolve(dir) } catch {
            throw Diagnostics([.error("component '\(component)': \(error)", at: referencedAt, fix: "keep component paths inside the repository")])
        }
        guard tree.entryKind(resolved) == .directory else {
            throw Diagnostics([.error("component '\(component)': directory \(displayPrefix + dir.string) does not exist", at: referencedAt,
                                      fix: "create it or fix the component's 'path'")])
        }
        if isKustomization(resolved) {
            return try KustomizeBridge.build(tree: tree, dir: resolved, displayPrefix: displayPrefix, limits: limits)
        }
        var files: [TreePath] = []
        try collect(resolved, into: &files)
        if files.isEmpty {
            throw Diagnostics([.error("component '\(component)' has no manifests in \(displayPrefix + dir.string)", at: referencedAt,
                                      fix: "add *.yaml files or a kustomization.yaml, or disable the component")])
        }
        var out: [(Value, String)] = []
        var problems: [Diagnostic] = []
        for f in files {
            let shown = displayPrefix + f.string
            do {
                // *.json has no parser-side size limit: check before (when the tree knows
                // sizes) and after reading.
                if let size = tree.fileSize(f), size > limits.maxBytes {
                    throw Diagnostic.error("\(shown) is \(size) bytes, more than the limit of \(limits.maxBytes)",
                                           at: SourceLocation(file: shown), fix: "split the file into smaller ones")
                }
                let bytes = try tree.read(f)
                let docs: [YAMLDocument]
                if bytes.count > limits.maxBytes {
                    throw Diagnostic.error("\(shown) is \(bytes.count) bytes, more than the limit of \(limits.maxBytes)",
                                           at: SourceLocation(file: shown), fix: "split the file into smaller ones")
                }
                if f.name.hasSuffix(".json") {
                    let v = try bytes.withUnsafeBufferPointer { b throws(Diagnostic) in try JSONParser().parse(bytes: b, file: shown) }
                    docs = [YAMLDocument(value: v, mark: v.mark, index: 0)]
                } else {
                    docs = try bytes.withUnsafeBufferPointer { b throws(Diagnostic) in try YAMLParser.parseStream(bytes: b, file: shown, limits: limits) }
                }
                for d in docs where !d.value.isNull {
                    guard d.value.object != nil else {
                        problems.append(.error("a manifest must be a map, found \(d.value.typeName)", at: SourceLocation(file: shown, mark: d.mark)))
                        continue
                    }
                    if let kind = d.value.kindName, kind.hasSuffix("List"), let items = d.value["items"]?.array {
                        for item in items { out.append((item, shown)) }
                    } else {
                        out.append((d.value, shown))
                    }
                }
            } catch let d as Diagnostic {
                problems.append(d)
            } catch {
                problems.append(.error("cannot read \(shown): \(error)", at: SourceLocation(file: shown)))
            }
        }
        if !problems.isEmpty { throw Diagnostics(problems) }
        return out
    }

    func collect(_ dir: TreePath, into files: inout [TreePath]) throws(Diagnostics) {
        do {
            files += try tree.walkFiles(dir) { $0.hasSuffix(".yaml") || $0.hasSuffix(".yml") || $0.hasSuffix(".json") }
        } catch let e as TreePathError {
            let at: String, fix: String
            switch e {
            case .symlinkLoop(let p): at = p; fix = "remove the symlink or point it at a directory that does not contain it"
            case .symlinkEscapes(let p, _), .absolute(let p), .escapes(let p): at = p; fix = "replace the symlink with a file inside the repository"
            }
            throw Diagnostics([.error("\(e)", at: SourceLocation(file: displayPrefix + at), fix: fix)])
        } catch {
            throw Diagnostics([.error("cannot list \(displayPrefix + dir.string): \(error)", at: SourceLocation(file: displayPrefix + dir.string))])
        }
    }
}
