/// Reads one manifest file of a source tree: `*.json` (one object) or a YAML stream, within the
/// size limit (checked before reading when the tree knows sizes, and after), empty documents
/// skipped, `*List` kinds flattened into their items. Shared by plain component directories and
/// Argo CD directory sources.
public enum ManifestFile {
    /// The objects of `files` (each with the name shown in messages), in order, and every
    /// problem of every file. `skip` leaves out a file by its contents.
    public static func readAll(_ tree: any SourceTree, _ files: [(path: TreePath, shown: String)], limits: YAMLLimits,
                               skip: ([UInt8]) -> Bool = { _ in false }) -> (objects: [(Value, String)], problems: [Diagnostic]) {
        var out: [(Value, String)] = []
        var problems: [Diagnostic] = []
        for (f, shown) in files {
            do {
                let r = try read(tree, f, shown: shown, limits: limits, skip: skip)
                problems += r.problems
                for v in r.objects { out.append((v, shown)) }
            } catch let d as Diagnostic {
                problems.append(d)
            } catch {
                problems.append(.error("cannot read \(shown): \(error)", at: SourceLocation(file: shown)))
            }
        }
        return (out, problems)
    }

    /// The file's objects, and a problem for every document that is not a map.
    public static func read(_ tree: any SourceTree, _ path: TreePath, shown: String, limits: YAMLLimits,
                            skip: ([UInt8]) -> Bool = { _ in false }) throws -> (objects: [Value], problems: [Diagnostic]) {
        if let size = tree.fileSize(path), size > limits.maxBytes {
            throw Diagnostic.error("\(shown) is \(size) bytes, more than the limit of \(limits.maxBytes)",
                                   at: SourceLocation(file: shown), fix: "split the file into smaller ones")
        }
        let bytes = try tree.read(path)
        if bytes.count > limits.maxBytes {
            throw Diagnostic.error("\(shown) is \(bytes.count) bytes, more than the limit of \(limits.maxBytes)",
                                   at: SourceLocation(file: shown), fix: "split the file into smaller ones")
        }
        if skip(bytes) { return ([], []) }
        return try parse(bytes, json: path.name.hasSuffix(".json"), shown: shown, limits: limits)
    }

    /// Parses manifest bytes (see `read`).
    public static func parse(_ bytes: [UInt8], json: Bool, shown: String,
                             limits: YAMLLimits) throws(Diagnostic) -> (objects: [Value], problems: [Diagnostic]) {
        let docs: [Value]
        if json {
            docs = [try bytes.withUnsafeBufferPointer { b throws(Diagnostic) in try JSONParser().parse(bytes: b, file: shown) }]
        } else {
            docs = try bytes.withUnsafeBufferPointer { b throws(Diagnostic) in
                try YAMLParser.parseStream(bytes: b, file: shown, limits: limits)
            }.map(\.value)
        }
        var objects: [Value] = []
        var problems: [Diagnostic] = []
        for d in docs where !d.isNull {
            guard d.object != nil else {
                problems.append(.error("a manifest must be a map, found \(d.typeName)", at: SourceLocation(file: shown, mark: d.mark)))
                continue
            }
            if let kind = d.kindName, kind.hasSuffix("List"), let items = d["items"]?.array {
                objects += items
            } else {
                objects.append(d)
            }
        }
        return (objects, problems)
    }
}
