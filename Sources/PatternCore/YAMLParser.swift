import CYAML

/// Bounds that keep hostile or broken input from exhausting time or memory.
public struct YAMLLimits: Sendable, Hashable {
    /// Largest accepted stream, in bytes.
    public var maxBytes: Int
    /// Deepest accepted nesting of maps and lists.
    public var maxDepth: Int
    /// Most nodes that aliases may expand to in one stream (billion-laughs guard).
    public var maxAliasExpansion: Int
    /// Most bytes (scalar and key text) that aliases may expand to in one stream: a 1 MiB
    /// anchored scalar referenced 4,000 times is few nodes but 4 GiB once emitted.
    public var maxAliasExpandedBytes: Int

    public init(maxBytes: Int = 32 << 20, maxDepth: Int = 128, maxAliasExpansion: Int = 100_000,
                maxAliasExpandedBytes: Int = 32 << 20) {
        self.maxBytes = maxBytes
        self.maxDepth = maxDepth
        self.maxAliasExpansion = maxAliasExpansion
        self.maxAliasExpandedBytes = maxAliasExpandedBytes
    }

    public static let `default` = YAMLLimits()
}

/// What the parser does with a key written twice in one map.
public enum DuplicateKeys: Sendable, Hashable {
    /// An error at the second key (the default everywhere).
    case reject
    /// The later value replaces the earlier one, as go-yaml v2 decoding into a Go map does:
    /// Kustomize reads `kustomization.yaml` this way (`namePrefix: a` then `namePrefix: b`
    /// builds with `b`).
    case lastWins
}

/// One document of a YAML stream.
public struct YAMLDocument: Sendable {
    public var value: Value
    /// Where the document starts (its `---` or first node).
    public var mark: Mark
    /// 0-based position of the document in the stream.
    public var index: Int

    public init(value: Value, mark: Mark, index: Int) {
        self.value = value; self.mark = mark; self.index = index
    }
}

/// Parses YAML through libyaml's event API into `Value`s, keeping line:column for every node.
///
/// Rejects, with a `Diagnostic` naming file:line:column and a fix: syntax errors, tabs used as
/// indentation, invalid UTF-8, duplicate keys, non-scalar keys, nesting deeper than
/// `limits.maxDepth`, alias expansion beyond `limits.maxAliasExpansion`, and streams larger
/// than `limits.maxBytes`.
public enum YAMLParser {
    /// Parses every document of `text`. `file` is used only for error locations.
    public static func parseStream(_ text: String, file: String = "<input>", limits: YAMLLimits = .default) throws(Diagnostic) -> [YAMLDocument] {
        var t = text
        let r = t.withUTF8 { buf in Result { () throws(Diagnostic) in try parseStream(bytes: buf, file: file, limits: limits) } }
        return try r.get()
    }

    /// Parses a single-document stream (an empty stream is `null`).
    public static func parse(_ text: String, file: String = "<input>", limits: YAMLLimits = .default) throws(Diagnostic) -> Value {
        let docs = try parseStream(text, file: file, limits: limits)
        if docs.count > 1 {
            throw Diagnostic.error("expected one YAML document, found \(docs.count)",
                                   at: SourceLocation(file: file, mark: docs[1].mark),
                                   fix: "remove the extra `---` documents or split the file")
        }
        return docs.first?.value ?? Value(.null, mark: Mark(line: 1, column: 1))
    }

    public static func parseStream(bytes: UnsafeBufferPointer<UInt8>, file: String, limits: YAMLLimits = .default,
                                   duplicateKeys: DuplicateKeys = .reject) throws(Diagnostic) -> [YAMLDocument] {
        if bytes.count > limits.maxBytes {
            throw Diagnostic.error("YAML input is \(bytes.count) bytes, more than the limit of \(limits.maxBytes)",
                                   at: SourceLocation(file: file),
                                   fix: "split the file into smaller ones")
        }
        // A leading UTF-8 byte-order mark (Windows editors write one) is not content; columns
        // on line 1 count from after it, as editors show them.
        if bytes.count >= 3 && bytes[0] == 0xEF && bytes[1] == 0xBB && bytes[2] == 0xBF {
            return try parseStream(bytes: UnsafeBufferPointer(rebasing: bytes[3...]), file: file, limits: limits, duplicateKeys: duplicateKeys)
        }
        var builder = Builder(file: file, limits: limits)
        builder.lastKeyWins = duplicateKeys == .lastWins
        var parser = yaml_parser_t()
        guard cyaml_parser_open(&parser, bytes.baseAddress ?? UnsafePointer(bitPattern: 1)!, bytes.count) != 0 else {
            throw Diagnostic.error("libyaml could not initialize a parser (out of memory?)", at: SourceLocation(file: file))
        }
        defer { yaml_parser_delete(&parser) }
        var event = yaml_event_t()
        while true {
            guard yaml_parser_parse(&parser, &event) != 0 else {
                throw syntaxError(parser, bytes: bytes, file: file)
            }
            defer { yaml_event_delete(&event) }
            if event.type == YAML_STREAM_END_EVENT { break }
            try builder.handle(&event)
        }
        return builder.documents
    }

    static func syntaxError(_ p: yaml_parser_t, bytes: UnsafeBufferPointer<UInt8>, file: String) -> Diagnostic {
        let problem = p.problem.map { String(cString: $0) } ?? "invalid YAML"
        let mark = p.problem_mark
        let loc = SourceLocation(file: file, line: Int(mark.line) + 1, column: Int(mark.column) + 1)
        let context = p.context.map { String(cString: $0) }
        let offset = p.error == YAML_READER_ERROR ? Int(p.problem_offset) : Int(mark.index)
        let ch: UInt8? = offset < bytes.count ? bytes[offset] : nil
        var msg = problem
        if let context { msg = "\(context): \(problem)" }
        var fix = "check the YAML syntax (indentation, quoting) at this position"
        if let bom = bomNear(bytes, offset) {
            var line = 1, col = 1
            for i in 0..<bom where bytes[i] == UInt8(ascii: "\n") { line += 1; col = 1 }
            var j = bom
            while j > 0 && bytes[j - 1] != UInt8(ascii: "\n") { j -= 1; col += 1 }
            return .error("byte-order mark (U+FEFF) inside the YAML stream", at: SourceLocation(file: file, line: line, column: col),
                          fix: "save the file as UTF-8 without a byte-order mark (a BOM is only accepted as the file's first bytes)")
        }
        if problem.contains("UTF-8") || problem.contains("invalid Unicode") || p.error == YAML_READER_ERROR {
            msg = "invalid UTF-8 or control character in YAML (\(problem))"
            fix = "save the file as UTF-8 and remove control characters"
            if offset >= 0 {
                // libyaml's reader reports an offset; turn it into line:column ourselves.
                var line = 1, col = 1
                for i in 0..<min(offset, bytes.count) {
                    if bytes[i] == UInt8(ascii: "\n") { line += 1; col = 1 } else if bytes[i] & 0xC0 != 0x80 { col += 1 }
                }
                return .error(msg, at: SourceLocation(file: file, line: line, column: col), fix: fix)
            }
        } else if ch == UInt8(ascii: "\t") || (problem.contains("cannot start any token") && lineHasLeadingTab(bytes, offset)) {
            msg = "tab character used for indentation"
            fix = "indent YAML with spaces only"
        } else if problem.contains("mapping values are not allowed") {
            fix = "quote the value if it contains ': ', or fix the indentation of this line"
        } else if problem.contains("did not find expected key") || problem.contains("did not find expected '-'") {
            fix = "check that this line is indented like its siblings"
        } else if problem.contains("found undefined alias") || problem.contains("undefined") {
            fix = "define the anchor (&name) before using the alias (*name)"
        }
        return .error(msg, at: loc, fix: fix)
    }

    /// Offset of a UTF-8 byte-order mark on the line of `offset` or the line before, if any.
    static func bomNear(_ bytes: UnsafeBufferPointer<UInt8>, _ offset: Int) -> Int? {
        guard bytes.count >= 3 else { return nil }
        var start = min(max(offset, 0), bytes.count - 1)
        var newlines = 0
        while start > 0 {
            if bytes[start - 1] == UInt8(ascii: "\n") { newlines += 1; if newlines == 2 { break } }
            start -= 1
        }
        var end = min(max(offset, 0), bytes.count - 1)
        while end < bytes.count - 1 && bytes[end] != UInt8(ascii: "\n") { end += 1 }
        var i = start
        while i + 2 <= end {
            if bytes[i] == 0xEF && bytes[i + 1] == 0xBB && bytes[i + 2] == 0xBF { return i }
            i += 1
        }
        return nil
    }

    static func lineHasLeadingTab(_ bytes: UnsafeBufferPointer<UInt8>, _ offset: Int) -> Bool {
        var i = min(offset, bytes.count - 1)
        while i > 0 && bytes[i - 1] != UInt8(ascii: "\n") { i -= 1 }
        while i < bytes.count {
            let c = bytes[i]
            if c == UInt8(ascii: "\t") { return true }
            if c != UInt8(ascii: " ") { return false }
            i += 1
        }
        return false
    }

    /// Turns events into values with a stack of open containers.
    struct Builder: ~Copyable {
        /// An open container. Its entries wait in the builder's scratch arrays from `start` on
        /// (one set of arrays for all depths, reused across documents), so a map or list is
        /// allocated once, at its exact size, when it closes.
        struct Frame {
            var isMapping: Bool
            var mark: Mark
            var anchor: String?
            var start: Int
            /// A map's key waiting for its value.
            var pendingKey: String? = nil
            var pendingKeyMark = Mark.none
            /// The pending key is a plain `<<` (YAML 1.1 merge key).
            var pendingIsMerge = false
            /// Maps merged in by `<<` (applied when the map closes).
            var merges: [Value] = []
            /// Key → position (relative to `start`) once a map has more than a few keys.
            var index: [String: Int]? = nil
        }
        /// Open containers, innermost last.
        var stack: [Frame] = []
        /// Entries of open maps and items of open lists.
        var mapEntries = MoveStack<Object.Entry>()
        var seqItems = MoveStack<Value>()
        let file: String
        let limits: YAMLLimits
        var documents: [YAMLDocument] = []
        var docMark = Mark.none
        var anchors: [String: (value: Value, nodes: Int, bytes: Int)] = [:]
        var expanded = 0
        var expandedBytes = 0
        var nodeCount = 0
        var docValue: Value? = nil
        /// `DuplicateKeys.lastWins`: a repeated key replaces the earlier value.
        var lastKeyWins = false

        init(file: String, limits: YAMLLimits) { self.file = file; self.limits = limits }

        func loc(_ m: Mark) -> SourceLocation { SourceLocation(file: file, mark: m) }

        static func mark(_ m: yaml_mark_t) -> Mark { Mark(line: Int(m.line) + 1, column: Int(m.column) + 1) }

        static func string(_ p: UnsafeMutablePointer<yaml_char_t>?, _ n: Int) -> String {
            guard let p else { return "" }
            return String(decoding: UnsafeBufferPointer(start: p, count: n), as: UTF8.self)
        }
        static func cstring(_ p: UnsafeMutablePointer<yaml_char_t>?) -> String? {
            guard let p else { return nil }
            return String(cString: UnsafePointer(p))
        }

        mutating func handle(_ e: inout yaml_event_t) throws(Diagnostic) {
            let m = Builder.mark(e.start_mark)
            switch e.type {
            case YAML_DOCUMENT_START_EVENT:
                docMark = m
                docValue = nil
                anchors.removeAll(keepingCapacity: true)
            case YAML_DOCUMENT_END_EVENT:
                documents.append(YAMLDocument(value: docValue ?? Value(.null, mark: docMark), mark: docMark, index: documents.count))
            case YAML_SCALAR_EVENT:
                let s = e.data.scalar
                let text = Builder.string(s.value, Int(s.length))
                let tag = Builder.cstring(s.tag)
                var v: Value
                if let tag, tag != "!" {
                    v = try Builder.tagged(text, tag: tag, mark: m, loc: loc(m))
                } else if s.style == YAML_PLAIN_SCALAR_STYLE && tag == nil {
                    v = Value(YAMLScalar.resolvePlain(text), mark: m)
                } else {
                    v = Value(.string(text), mark: m, quoted: s.style != YAML_PLAIN_SCALAR_STYLE)
                }
                nodeCount += 1
                // Bytes, not `text == "<<"`: a string comparison per scalar.
                let isPlainMergeKey = s.style == YAML_PLAIN_SCALAR_STYLE && s.length == 2
                    && s.value[0] == UInt8(ascii: "<") && s.value[1] == UInt8(ascii: "<")
                try add(v, anchor: Builder.cstring(s.anchor), scalarText: text, isMergeKey: isPlainMergeKey)
            case YAML_SEQUENCE_START_EVENT:
                try push(m)
                stack.append(Frame(isMapping: false, mark: m, anchor: Builder.cstring(e.data.sequence_start.anchor), start: seqItems.count))
            case YAML_MAPPING_START_EVENT:
                try push(m)
                stack.append(Frame(isMapping: true, mark: m, anchor: Builder.cstring(e.data.mapping_start.anchor), start: mapEntries.count))
            case YAML_SEQUENCE_END_EVENT:
                guard let f = stack.popLast(), !f.isMapping else { return }
                let items = seqItems.take(from: f.start)
                nodeCount += 1
                try add(Value(.array(items), mark: f.mark), anchor: f.anchor, scalarText: nil, isMergeKey: false)
            case YAML_MAPPING_END_EVENT:
                guard let last = stack.last, last.isMapping else { return }
                // YAML 1.1 merge keys: explicit keys win, earlier merged maps win over later ones.
                for merged in last.merges {
                    for (k, v) in merged.object ?? Object() where position(of: k) == nil { appendEntry(k, v, .none) }
                }
                let f = stack.removeLast()
                let obj = Object(uniqueEntries: mapEntries.take(from: f.start))
                nodeCount += 1
                try add(Value(.object(obj), mark: f.mark), anchor: f.anchor, scalarText: nil, isMergeKey: false)
            case YAML_ALIAS_EVENT:
                let name = Builder.cstring(e.data.alias.anchor) ?? ""
                guard let target = anchors[name] else {
                    throw .error("unknown alias *\(name)", at: loc(m), fix: "define the anchor &\(name) before using it")
                }
                expanded += target.nodes
                if expanded > limits.maxAliasExpansion {
                    throw .error("aliases expand to more than \(limits.maxAliasExpansion) nodes (a 'billion laughs' document?)",
                                 at: loc(m), fix: "write the repeated content out, or use fewer nested aliases")
                }
                expandedBytes += target.bytes
                if expandedBytes > limits.maxAliasExpandedBytes {
                    throw .error("aliases expand to more than \(limits.maxAliasExpandedBytes) bytes (a large anchored value repeated by aliases)",
                                 at: loc(m), fix: "write the repeated content out once, or use fewer aliases of large values")
                }
                var v = target.value
                v.mark = m
                // An alias of a scalar may be a map key (`*name : 1`), as go-yaml allows.
                try add(v, anchor: nil, scalarText: v.isScalar && !v.isNull ? v.scalarText : nil, isMergeKey: false, aliasNodes: target.nodes)
            default:
                break
            }
        }

        mutating func push(_ m: Mark) throws(Diagnostic) {
            if stack.count >= limits.maxDepth {
                throw .error("YAML nesting deeper than \(limits.maxDepth) levels", at: loc(m),
                             fix: "flatten the structure; Kubernetes objects never need this depth")
            }
        }

        static func tagged(_ text: String, tag: String, mark m: Mark, loc: SourceLocation) throws(Diagnostic) -> Value {
            switch tag {
            case "tag:yaml.org,2002:str", "tag:yaml.org,2002:timestamp":
                return Value(.string(text), mark: m)
            case "tag:yaml.org,2002:binary":
                // As go-yaml: the decoded bytes are the string (`!!binary aGVsbG8=` is "hello").
                guard let bytes = Base64.decode(text.filter { !$0.isWhitespace }) else {
                    throw .error("'!!binary' value is not valid base64", at: loc, fix: "fix the base64 text or remove the !!binary tag")
                }
                return Value(.string(String(decoding: bytes, as: UTF8.self)), mark: m)
            case "tag:yaml.org,2002:null": return Value(.null, mark: m)
            case "tag:yaml.org,2002:bool":
                switch YAMLScalar.resolvePlain(text) {
                case .bool(let b): return Value(.bool(b), mark: m)
                default: throw .error("'\(text)' is not a boolean (tagged !!bool)", at: loc, fix: "use true or false")
                }
            case "tag:yaml.org,2002:int":
                if case .int(let i) = YAMLScalar.resolvePlain(text) { return Value(.int(i), mark: m) }
                throw .error("'\(text)' is not an integer (tagged !!int)", at: loc, fix: "remove the tag or fix the number")
            case "tag:yaml.org,2002:float":
                switch YAMLScalar.resolvePlain(text) {
                case .int(let i): return Value(.double(Double(i)), mark: m)
                case .double(let d): return Value(.double(d), mark: m)
                default: throw .error("'\(text)' is not a number (tagged !!float)", at: loc, fix: "remove the tag or fix the number")
                }
            default:
                // Application tags (`!Ref`, …) carry no meaning for Kubernetes: keep the text.
                return Value(YAMLScalar.resolvePlain(text), mark: m)
            }
        }

        mutating func add(_ v: Value, anchor: String?, scalarText: String?, isMergeKey: Bool, aliasNodes: Int = 1) throws(Diagnostic) {
            if let anchor {
                let (nodes, bytes) = measure(v)
                anchors[anchor] = (v, nodes, bytes)
            }
            guard !stack.isEmpty else {
                docValue = v
                return
            }
            let top = stack.count - 1
            guard stack[top].isMapping else {
                seqItems.append(v)
                return
            }
            if let key = stack[top].pendingKey {
                stack[top].pendingKey = nil
                if stack[top].pendingIsMerge {
                    stack[top].pendingIsMerge = false
                    switch v.kind {
                    case .object: stack[top].merges.append(v)
                    case .array(let maps) where maps.allSatisfy({ $0.object != nil }): stack[top].merges.append(contentsOf: maps)
                    default:
                        throw .error("merge key '<<' needs a map or a list of maps, found \(v.typeName)", at: loc(v.mark),
                                     fix: "point '<<' at an anchored map (<<: *defaults)")
                    }
                } else if lastKeyWins, let i = position(of: key) {
                    mapEntries[stack[top].start + i].value = v
                } else {
                    appendEntry(key, v, stack[top].pendingKeyMark)
                }
            } else {
                guard let keyText = scalarText else {
                    throw .error("map keys must be scalars, found \(v.typeName)", at: loc(v.mark),
                                 fix: "use a plain string as the key")
                }
                if !isMergeKey, !lastKeyWins, let i = position(of: keyText) {
                    throw .error("duplicate key '\(keyText)'", at: loc(v.mark),
                                 fix: "remove one of the two '\(keyText)' entries", related: [loc(mapEntries[stack[top].start + i].mark)])
                }
                stack[top].pendingKey = keyText
                stack[top].pendingKeyMark = v.mark
                stack[top].pendingIsMerge = isMergeKey
            }
        }

        /// Position of `key` among the entries of the innermost open map (relative to its start).
        func position(of key: String) -> Int? {
            let top = stack.count - 1
            if stack[top].index != nil { return stack[top].index![key] }
            let start = stack[top].start
            let n = key.utf8.count
            return mapEntries.withElements(from: start) { e in
                for i in e.indices where e[i].key.utf8.count == n && e[i].key == key { return i }
                return nil
            }
        }

        /// Adds an entry to the innermost open map, indexing it once it has more than a few keys.
        mutating func appendEntry(_ key: String, _ value: Value, _ mark: Mark) {
            mapEntries.append(Object.Entry(key: key, value: value, mark: mark))
            let top = stack.count - 1
            let start = stack[top].start
            let count = mapEntries.count - start
            if stack[top].index != nil {
                stack[top].index![key] = count - 1
            } else if count > Object.indexThreshold {
                stack[top].index = mapEntries.withElements(from: start) { Object.makeIndex(entries: $0) }
            }
        }

        /// Nodes and text bytes (scalars and keys) of a value, as an alias would repeat them.
        func measure(_ v: Value) -> (nodes: Int, bytes: Int) {
            switch v.kind {
            case .array(let a):
                return a.reduce((1, 0)) { acc, x in let m = measure(x); return (acc.0 + m.nodes, acc.1 + m.bytes) }
            case .object(let o):
                var acc = (nodes: 1, bytes: 0)
                for (k, x) in o { let m = measure(x); acc.nodes += m.nodes; acc.bytes += m.bytes + k.utf8.count }
                return acc
            case .string(let s): return (1, s.utf8.count)
            default: return (1, 8)
            }
        }
    }
}
