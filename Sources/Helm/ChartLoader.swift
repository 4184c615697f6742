import PatternCore

/// YAML as Helm reads values and Chart.yaml (sigs.k8s.io/yaml over go-yaml v2): YAML 1.1
/// booleans, so unquoted `yes`/`no`/`on`/`off`/`y`/`n` are booleans.
public enum HelmYAML {
    static let trueWords: Set<String> = ["y", "Y", "yes", "Yes", "YES", "on", "On", "ON"]
    static let falseWords: Set<String> = ["n", "N", "no", "No", "NO", "off", "Off", "OFF"]

    /// Parses one document; an empty stream is an empty map.
    public static func parse(_ bytes: [UInt8], file: String, limits: YAMLLimits = .default) throws(Diagnostic) -> Value {
        let docs = try bytes.withUnsafeBufferPointer { b throws(Diagnostic) in try YAMLParser.parseStream(bytes: b, file: file, limits: limits) }
        guard let first = docs.first else { return Value(.object(Object()), mark: Mark(line: 1, column: 1)) }
        if docs.count > 1, docs.dropFirst().contains(where: { !$0.value.isNull }) {
            throw Diagnostic.error("expected one YAML document, found \(docs.count)", at: SourceLocation(file: file, mark: docs[1].mark),
                                   fix: "remove the extra `---` documents")
        }
        return yaml11(first.value)
    }

    /// Applies the YAML 1.1 boolean words to plain (unquoted) strings.
    public static func yaml11(_ v: Value) -> Value {
        // Most documents hold no YAML 1.1 boolean word: then the value is returned as is,
        // without rebuilding every map and list.
        if !hasYAML11Word(v) { return v }
        switch v.kind {
        case .string(let s) where !v.quoted:
            if trueWords.contains(s) { return Value(.bool(true), mark: v.mark) }
            if falseWords.contains(s) { return Value(.bool(false), mark: v.mark) }
            return v
        case .array(let a):
            return Value(.array(a.map(yaml11)), mark: v.mark, quoted: v.quoted)
        case .object(let o):
            var out = Object()
            out.reserveCapacity(o.count)
            for (k, c) in o { out.append(k, yaml11(c), keyMark: o.keyMark(k) ?? .none) }
            return Value(.object(out), mark: v.mark)
        default:
            return v
        }
    }

    /// Whether an unquoted string anywhere in `v` is a YAML 1.1 boolean word (a cheap length
    /// and first-letter test before the set lookup).
    static func hasYAML11Word(_ v: Value) -> Bool {
        switch v.kind {
        case .string(let s) where !v.quoted:
            let n = s.utf8.count
            guard n >= 1 && n <= 5, let f = s.utf8.first else { return false }
            switch f {
            case UInt8(ascii: "y"), UInt8(ascii: "Y"), UInt8(ascii: "n"), UInt8(ascii: "N"), UInt8(ascii: "o"), UInt8(ascii: "O"),
                 UInt8(ascii: "t"), UInt8(ascii: "T"), UInt8(ascii: "f"), UInt8(ascii: "F"):
                return trueWords.contains(s) || falseWords.contains(s)
            default: return false
            }
        case .array(let a):
            for x in a where hasYAML11Word(x) { return true }
            return false
        case .object(let o):
            for (_, c) in o where hasYAML11Word(c) { return true }
            return false
        default:
            return false
        }
    }
}

/// Loads charts as Helm's `pkg/chart/loader` does: a directory (with `.helmignore`) or a
/// gzip-compressed tar archive; subcharts in `charts/` as directories or archives.
public struct ChartLoader: Sendable {
    public var archiveLimits: ArchiveLimits
    public var yamlLimits: YAMLLimits
    /// Most files accepted in one chart directory tree.
    public var maxFiles: Int

    public init(archiveLimits: ArchiveLimits = .default, yamlLimits: YAMLLimits = .default, maxFiles: Int = 20_000) {
        self.archiveLimits = archiveLimits
        self.yamlLimits = yamlLimits
        self.maxFiles = maxFiles
    }

    /// Loads the chart at `path` of `tree`: a directory, or a `.tgz`/`.tar.gz` file.
    /// `display` is how the chart's location is shown in messages.
    public func load(tree: any SourceTree, path: TreePath, display: String) throws(ChartError) -> Chart {
        let resolved: TreePath
        do { resolved = try tree.resolve(path) } catch {
            throw ChartError(.error("chart path: \(error)", at: SourceLocation(file: display), fix: "keep chart paths inside the repository"))
        }
        switch tree.entryKind(resolved) {
        case .directory:
            return try loadFiles(try directoryFiles(tree: tree, dir: resolved, display: display), origin: display, nesting: 0)
        case .file:
            let bytes: [UInt8]
            do { bytes = try tree.read(resolved) } catch {
                throw ChartError(.error("cannot read chart archive: \(error)", at: SourceLocation(file: display)))
            }
            return try loadArchive(bytes, origin: display, nesting: 0)
        default:
            throw ChartError(.error("chart \(display) does not exist", at: SourceLocation(file: display),
                                    fix: "point at a directory holding Chart.yaml, or at a .tgz chart archive"))
        }
    }

    /// Loads a chart archive's bytes.
    public func loadArchive(_ bytes: [UInt8], origin: String, nesting: Int = 0) throws(ChartError) -> Chart {
        if nesting > archiveLimits.maxNesting {
            throw ChartError(.error("chart archives nested more than \(archiveLimits.maxNesting) deep", at: SourceLocation(file: origin)))
        }
        do {
            let (_, files) = try ChartArchive.read(bytes, limits: archiveLimits)
            return try loadFiles(files, origin: origin, nesting: nesting)
        } catch let e as ArchiveError {
            throw ChartError(.error("\(e)", at: SourceLocation(file: origin),
                                    fix: "rebuild the archive with `helm package` from a trusted chart directory"))
        } catch let e as ChartError {
            throw e
        } catch {
            throw ChartError(.error("\(error)", at: SourceLocation(file: origin)))
        }
    }

    /// The chart files of a directory, filtered by `.helmignore` (plus Helm's default rule),
    /// following symlinks that stay inside the tree.
    public func directoryFiles(tree: any SourceTree, dir: TreePath, display: String) throws(ChartError) -> [ChartFile] {
        var rules = HelmIgnore.defaults
        let ignorePath = dir.appending(".helmignore")
        if tree.resolvedKind(ignorePath) == .file {
            do {
                let text = String(decoding: try tree.readResolved(ignorePath), as: UTF8.self)
                var r = try HelmIgnore(text: text)
                r.append(HelmIgnore.defaults)
                rules = r
            } catch let e as HelmIgnoreError {
                throw ChartError(.error(e.message, at: SourceLocation(file: display + "/.helmignore", line: e.line, column: 1),
                                        fix: "use Go filepath.Match patterns; '**' is not supported"))
            } catch {
                throw ChartError(.error("cannot read .helmignore: \(error)", at: SourceLocation(file: display + "/.helmignore")))
            }
        }
        var out: [ChartFile] = []
        var total = 0
        var visiting = Set<TreePath>()
        func walk(_ real: TreePath, _ rel: String) throws(ChartError) {
            guard visiting.insert(real).inserted else {
                throw ChartError(.error("symlink loop at \(rel)", at: SourceLocation(file: display + "/" + rel)))
            }
            defer { visiting.remove(real) }
            let entries: [TreeEntry]
            do { entries = try tree.list(real) } catch {
                throw ChartError(.error("cannot list \(display)/\(rel): \(error)", at: SourceLocation(file: display)))
            }
            for e in entries {
                let childRel = rel.isEmpty ? e.name : rel + "/" + e.name
                let shown = display + "/" + childRel
                var target = real.appending(e.name)
                var kind: TreeEntryKind? = e.kind
                if e.kind == .symlink {
                    do { target = try tree.resolve(target) } catch {
                        throw ChartError(.error("\(error)", at: SourceLocation(file: shown),
                                                fix: "replace the symlink with a file inside the repository"))
                    }
                    kind = tree.entryKind(target)
                }
                switch kind {
                case .directory:
                    if rules.ignores(childRel, isDirectory: true) { continue }
                    try walk(target, childRel)
                case .file:
                    if rules.ignores(childRel, isDirectory: false) { continue }
                    let data: [UInt8]
                    do { data = try tree.read(target) } catch {
                        throw ChartError(.error("cannot read \(shown): \(error)", at: SourceLocation(file: shown)))
                    }
                    if data.count > archiveLimits.maxFileBytes {
                        throw ChartError(.error("file is \(data.count) bytes, more than the limit of \(archiveLimits.maxFileBytes)",
                                                at: SourceLocation(file: shown), fix: "add it to .helmignore or make it smaller"))
                    }
                    total += data.count
                    if total > archiveLimits.maxDecompressedBytes || out.count >= maxFiles {
                        throw ChartError(.error("chart is larger than the limit of \(archiveLimits.maxDecompressedBytes) bytes or \(maxFiles) files",
                                                at: SourceLocation(file: display), fix: "exclude large files with .helmignore"))
                    }
                    out.append(ChartFile(name: childRel, data: data))
                default:
                    if rules.ignores(childRel, isDirectory: false) { continue }
                    throw ChartError(.error("cannot load irregular file \(childRel) as it has file mode type bits set",
                                            at: SourceLocation(file: shown), fix: "remove it or add it to .helmignore"))
                }
            }
        }
        try walk(dir, "")
        return out
    }

    /// Builds a chart from its files (names relative to the chart root), as Helm's `LoadFiles`.
    public func loadFiles(_ files: [ChartFile], origin: String, nesting: Int) throws(ChartError) -> Chart {
        func shown(_ n: String) -> String { origin.isEmpty ? n : origin + "/" + n }
        guard let chartFile = files.first(where: { $0.name == "Chart.yaml" }) else {
            throw ChartError(.error("Chart.yaml file is missing", at: SourceLocation(file: origin),
                                    fix: "a chart directory needs a Chart.yaml with apiVersion, name and version"))
        }
        var problems: [Diagnostic] = []
        var metadata: ChartMetadata
        do {
            metadata = try ChartMetadata.decode(try HelmYAML.parse(chartFile.data, file: shown("Chart.yaml"), limits: yamlLimits),
                                                file: shown("Chart.yaml"))
        } catch let d as Diagnostic {
            throw ChartError(d)
        } catch let e as ChartError {
            throw e
        } catch { throw ChartError(.error("\(error)", at: SourceLocation(file: shown("Chart.yaml")))) }

        var values = Value(.object(Object()), mark: .none)
        var schema: Value? = nil
        var templates: [ChartFile] = []
        var other: [ChartFile] = []
        var subFiles: [String: [ChartFile]] = [:]
        for f in files {
            switch f.name {
            case "Chart.yaml", "Chart.lock", "requirements.lock": continue
            case "values.yaml":
                do {
                    let v = try HelmYAML.parse(f.data, file: shown("values.yaml"), limits: yamlLimits)
                    if v.isNull { continue }
                    guard v.object != nil else {
                        problems.append(.error("values.yaml must hold a map, found \(v.typeName)", at: SourceLocation(file: shown("values.yaml"), mark: v.mark)))
                        continue
                    }
                    values = v
                } catch { problems.append(error) }
            case "values.schema.json":
                do { schema = try JSONParser.parse(f.data, file: shown("values.schema.json")) } catch { problems.append(error) }
            case "requirements.yaml":
                do {
                    let v = try HelmYAML.parse(f.data, file: shown("requirements.yaml"), limits: yamlLimits)
                    if let d = v["dependencies"], !d.isNull {
                        if metadata.apiVersion != "v1" {
                            problems.append(.error("requirements.yaml is only read for apiVersion v1 charts", at: SourceLocation(file: shown("requirements.yaml")),
                                                   fix: "move its dependencies into Chart.yaml"))
                        }
                        metadata.dependencies = ChartMetadata.decodeDependencies(d, file: shown("requirements.yaml"), problems: &problems)
                    }
                } catch { problems.append(error) }
            default:
                if f.name.hasPrefix("templates/") {
                    templates.append(f)
                } else if f.name.hasPrefix("charts/") {
                    if f.name.hasSuffix(".prov") { other.append(f); continue }
                    let rest = f.name.dropFirst("charts/".count)
                    let parts = rest.split(separator: "/", maxSplits: 1, omittingEmptySubsequences: false)
                    let cname = String(parts[0])
                    let inner = parts.count > 1 ? String(parts[1]) : cname
                    subFiles[cname, default: []].append(ChartFile(name: inner, data: f.data))
                } else {
                    other.append(f)
                }
            }
        }
        if !problems.isEmpty { throw ChartError(problems) }

        var subcharts: [Chart] = []
        for (cname, sfiles) in subFiles.sorted(by: { $0.key < $1.key }) {
            if cname.hasPrefix("_") || cname.hasPrefix(".") { continue }
            let subOrigin = shown("charts/" + cname)
            do throws(ChartError) {
                if cname.hasSuffix(".tgz") || cname.hasSuffix(".tar.gz") {
                    guard sfiles.count == 1, sfiles[0].name == cname else {
                        throw ChartError(.error("error unpacking tar in \(metadata.name): expected \(cname) to be a file",
                                                at: SourceLocation(file: subOrigin)))
                    }
                    subcharts.append(try loadArchive(sfiles[0].data, origin: subOrigin, nesting: nesting + 1))
                } else {
                    // Files directly in charts/ that are not archives are not charts.
                    if sfiles.count == 1 && sfiles[0].name == cname { continue }
                    subcharts.append(try loadFiles(sfiles, origin: subOrigin, nesting: nesting))
                }
            } catch {
                throw ChartError(error.diagnostics.map { d in
                    var d = d
                    d.message = "error unpacking \(cname) in \(metadata.name): " + d.message
                    return d
                })
            }
        }
        return Chart(metadata: metadata, values: values, schema: schema,
                     templates: templates.sorted { $0.name < $1.name }, files: other.sorted { $0.name < $1.name },
                     dependencies: subcharts, origin: origin)
    }
}
