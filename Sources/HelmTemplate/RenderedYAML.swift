import PatternCore

/// A direct reader for the block YAML that chart templates render, straight into `Value`s.
///
/// Rendered manifests are almost always the same small subset of YAML: block maps and
/// sequences indented with spaces, single-line plain and quoted scalars, `{}`/`[]`, comments and
/// `---` separators. For that subset this reader builds exactly what `YAMLParser` (libyaml
/// events) builds — the same values, source marks, key marks, key order and `quoted` flags — in
/// one pass over the bytes, without libyaml's token and event machinery.
///
/// Anything outside the subset (flow collections with content, block scalars `|` `>`,
/// multi-line scalars, escapes in double quotes, anchors, aliases, tags, merge keys, directives,
/// tabs, carriage returns, non-ASCII text, duplicate keys, deep nesting, top-level scalars or
/// sequences) makes `documents` return nil, and the caller parses the text with `YAMLParser`,
/// which also produces every error. So the result is either exactly `YAMLParser`'s or nil.
public enum RenderedYAML {
    /// The non-null documents of `text` with their start marks, or nil when the text needs the
    /// full YAML parser.
    public static func documents(_ text: String, limits: YAMLLimits = .default) -> [(value: Value, mark: Mark)]? {
        var t = text
        return t.withUTF8 { buf -> [(value: Value, mark: Mark)]? in
            guard buf.count <= limits.maxBytes, buf.count < Int(UInt32.max) else { return nil }
            var reader = BlockReader(buf, maxDepth: limits.maxDepth)
            return reader.run()
        }
    }
}

/// Signals that the text is outside the subset (the caller falls back to `YAMLParser`).
private struct Unsupported: Error {}

private struct BlockReader {
    let b: UnsafeBufferPointer<UInt8>
    let maxDepth: Int
    /// Current byte offset.
    var i = 0
    /// 0-based line of `i` and the offset where that line starts.
    var line = 0
    var lineStart = 0
    /// Indent of the content line the cursor is at; -1 at the end of the text or at a
    /// document marker (`---`, `...`), which ends every open block.
    var indent = -1
    var depth = 0

    init(_ b: UnsafeBufferPointer<UInt8>, maxDepth: Int) {
        self.b = b
        self.maxDepth = maxDepth
    }

    static let space = UInt8(ascii: " "), newline = UInt8(ascii: "\n"), hash = UInt8(ascii: "#")
    static let colon = UInt8(ascii: ":"), dash = UInt8(ascii: "-"), dquote = UInt8(ascii: "\""), squote = UInt8(ascii: "'")

    @inline(__always) func at(_ k: Int) -> UInt8 { k < b.count ? b[k] : 0 }
    @inline(__always) func isBlankOrEnd(_ k: Int) -> Bool { k >= b.count || b[k] == BlockReader.space || b[k] == BlockReader.newline }
    @inline(__always) func mark(_ k: Int) -> Mark { Mark(line: line + 1, column: k - lineStart + 1) }

    func text(_ a: Int, _ e: Int) -> String { String(decoding: UnsafeBufferPointer(rebasing: b[a..<e]), as: UTF8.self) }

    mutating func run() -> [(value: Value, mark: Mark)]? {
        // Only printable ASCII and newlines: columns are byte offsets, and nothing libyaml would
        // reject (control characters, invalid UTF-8, a byte-order mark) or count differently
        // (multi-byte characters) gets here.
        for c in b where c >= 0x7F || (c < 0x20 && c != BlockReader.newline) { return nil }
        do { return try stream() } catch { return nil }
    }

    // MARK: lines

    /// Moves from the current position to the first content of the next line that is neither
    /// blank nor a comment, and sets `indent` (-1 at the end or at a document marker).
    mutating func nextContentLine() {
        // Finish the current line.
        while i < b.count && b[i] != BlockReader.newline { i += 1 }
        while i < b.count {
            // `i` is at a newline: start the next line.
            i += 1
            line += 1
            lineStart = i
            while i < b.count && b[i] == BlockReader.space { i += 1 }
            if i >= b.count { break }
            let c = b[i]
            if c == BlockReader.newline { continue }
            if c == BlockReader.hash {
                while i < b.count && b[i] != BlockReader.newline { i += 1 }
                continue
            }
            indent = i - lineStart
            if indent == 0 && isDocumentMarker() { indent = -1 }
            return
        }
        indent = -1
    }

    /// At column 0: `---` or `...` followed by a blank or the end of the line.
    func isDocumentMarker() -> Bool {
        let c = at(i)
        guard (c == BlockReader.dash || c == UInt8(ascii: ".")) && at(i + 1) == c && at(i + 2) == c else { return false }
        return isBlankOrEnd(i + 3)
    }

    /// Skips spaces; true when the rest of the line is empty or a comment.
    mutating func restOfLineIsEmpty() -> Bool {
        let before = i
        while i < b.count && b[i] == BlockReader.space { i += 1 }
        if i >= b.count || b[i] == BlockReader.newline { return true }
        if b[i] == BlockReader.hash { return i > before }
        return false
    }

    // MARK: documents

    mutating func stream() throws(Unsupported) -> [(value: Value, mark: Mark)] {
        var docs: [(value: Value, mark: Mark)] = []
        // Position the cursor at the first content line (the text's first line counts too).
        i = 0; line = 0; lineStart = 0
        while i < b.count && b[i] == BlockReader.space { i += 1 }
        if i < b.count && b[i] != BlockReader.newline && b[i] != BlockReader.hash {
            indent = i - lineStart
            if indent == 0 && isDocumentMarker() { indent = -1 }
        } else {
            nextContentLine()
        }
        var explicitMark: Mark? = nil
        while i < b.count {
            if indent == -1 {
                // A document marker at column 0.
                guard b[i] == BlockReader.dash else { throw Unsupported() }   // `...`
                explicitMark = mark(i)
                i += 3
                guard restOfLineIsEmpty() else { throw Unsupported() }       // `--- value`
                nextContentLine()
                continue
            }
            guard indent == 0 else { throw Unsupported() }
            let docMark = explicitMark ?? mark(i)
            explicitMark = nil
            guard try keyAhead() else { throw Unsupported() }               // top level: a map
            let v = try mapping(indent: 0)
            docs.append((v, docMark))
            if indent != -1 { throw Unsupported() }
        }
        return docs
    }

    // MARK: blocks

    /// A block node whose first content is at the cursor, at column `indent`.
    mutating func blockNode() throws(Unsupported) -> Value {
        if b[i] == BlockReader.dash && isBlankOrEnd(i + 1) { return try sequence(indent: indent) }
        guard try keyAhead() else { throw Unsupported() }   // a scalar on its own line
        return try mapping(indent: indent)
    }

    /// A simple key starts at the cursor (the cursor does not move).
    mutating func keyAhead() throws(Unsupported) -> Bool {
        let start = i
        defer { i = start }
        if case .key = try scanKey() { return true }
        return false
    }

    mutating func enter() throws(Unsupported) {
        depth += 1
        if depth >= maxDepth - 1 { throw Unsupported() }   // YAMLParser reports the limit
    }

    /// A block map whose first key is at the cursor; its keys are at column `n`.
    mutating func mapping(indent n: Int) throws(Unsupported) -> Value {
        try enter()
        defer { depth -= 1 }
        let m = mark(i)
        var obj = Object()
        while true {
            guard case .key(let key, let keyMark, let plain) = try scanKey() else { throw Unsupported() }
            if plain && key == "<<" { throw Unsupported() }        // merge keys
            if obj.contains(key) { throw Unsupported() }            // YAMLParser reports duplicates
            let v = try valueAfterColon(keyIndent: n)
            obj.append(key, v, keyMark: keyMark)
            if indent == n && !(b[i] == BlockReader.dash && isBlankOrEnd(i + 1)) { continue }
            if indent > n || indent == n { throw Unsupported() }   // over-indented, or `- ` after a key's scalar
            return Value(.object(obj), mark: m)
        }
    }

    /// The value after `key:` (the cursor is just after the colon). Leaves the cursor at the
    /// next content line.
    mutating func valueAfterColon(keyIndent n: Int) throws(Unsupported) -> Value {
        let emptyMark = mark(i)
        if restOfLineIsEmpty() {
            nextContentLine()
            if indent > n { return try blockNode() }
            if indent == n && b[i] == BlockReader.dash && isBlankOrEnd(i + 1) { return try sequence(indent: n) }
            return Value(.null, mark: emptyMark)
        }
        let v = try inlineScalar()
        nextContentLine()
        return v
    }

    /// A block sequence whose first `-` is at the cursor, at column `n`.
    mutating func sequence(indent n: Int) throws(Unsupported) -> Value {
        try enter()
        defer { depth -= 1 }
        let m = mark(i)
        var items: [Value] = []
        while true {
            i += 1   // the `-`
            if restOfLineIsEmpty() { throw Unsupported() }   // an empty item or a node on the next lines
            if b[i] == BlockReader.dash && isBlankOrEnd(i + 1) { throw Unsupported() }   // `- - x`
            if try keyAhead() {
                indent = i - lineStart
                items.append(try mapping(indent: indent))
            } else {
                items.append(try inlineScalar())
                nextContentLine()
            }
            if indent == n && b[i] == BlockReader.dash && isBlankOrEnd(i + 1) { continue }
            if indent > n { throw Unsupported() }
            return Value(.array(items), mark: m)
        }
    }

    // MARK: scalars

    enum KeyScan { case key(String, Mark, plain: Bool), notKey }

    /// A simple key at the cursor (`name:`, `"a.b/c":`, `'x':`); on success the cursor is just
    /// after the colon. `notKey` leaves the cursor unspecified (callers restore it).
    mutating func scanKey() throws(Unsupported) -> KeyScan {
        let start = i
        let m = mark(i)
        let c = b[i]
        if c == BlockReader.dquote || c == BlockReader.squote {
            let s = try quoted()
            while i < b.count && b[i] == BlockReader.space { i += 1 }
            guard at(i) == BlockReader.colon && isBlankOrEnd(i + 1) else { return .notKey }
            i += 1
            return .key(s, m, plain: false)
        }
        try checkPlainStart()
        var j = start
        while j < b.count {
            let x = b[j]
            if x == BlockReader.newline { return .notKey }
            if x == BlockReader.colon && isBlankOrEnd(j + 1) { break }
            if x == BlockReader.space && at(j + 1) == BlockReader.hash { return .notKey }
            j += 1
        }
        if j >= b.count { return .notKey }
        var e = j
        while e > start && b[e - 1] == BlockReader.space { e -= 1 }
        if e - start > 1024 { throw Unsupported() }   // not a simple key for libyaml
        i = j + 1
        return .key(text(start, e), m, plain: true)
    }

    /// Plain scalars must not start with an indicator (`-?:` only when followed by a blank).
    func checkPlainStart() throws(Unsupported) {
        switch b[i] {
        case UInt8(ascii: "-"), UInt8(ascii: "?"), UInt8(ascii: ":"):
            if isBlankOrEnd(i + 1) { throw Unsupported() }
        case UInt8(ascii: ","), UInt8(ascii: "["), UInt8(ascii: "]"), UInt8(ascii: "{"), UInt8(ascii: "}"), UInt8(ascii: "#"),
             UInt8(ascii: "&"), UInt8(ascii: "*"), UInt8(ascii: "!"), UInt8(ascii: "|"), UInt8(ascii: ">"), UInt8(ascii: "%"),
             UInt8(ascii: "@"), UInt8(ascii: "`"):
            throw Unsupported()
        default: break
        }
    }

    /// A single-line scalar, `{}` or `[]` at the cursor, followed by nothing but a comment.
    mutating func inlineScalar() throws(Unsupported) -> Value {
        let m = mark(i)
        let c = b[i]
        let v: Value
        if c == BlockReader.dquote || c == BlockReader.squote {
            v = Value(.string(try quoted()), mark: m, quoted: true)
        } else if (c == UInt8(ascii: "{") && at(i + 1) == UInt8(ascii: "}")) || (c == UInt8(ascii: "[") && at(i + 1) == UInt8(ascii: "]")) {
            i += 2
            v = c == UInt8(ascii: "{") ? Value(.object(Object()), mark: m) : Value(.array([]), mark: m)
        } else {
            try checkPlainStart()
            let start = i
            var j = i
            while j < b.count {
                let x = b[j]
                if x == BlockReader.newline { break }
                if x == BlockReader.colon && isBlankOrEnd(j + 1) { throw Unsupported() }   // `a: b: c`
                if x == BlockReader.space && at(j + 1) == BlockReader.hash { break }
                j += 1
            }
            var e = j
            while e > start && b[e - 1] == BlockReader.space { e -= 1 }
            i = j
            return Value(YAMLScalar.resolvePlain(text(start, e)), mark: m)
        }
        guard restOfLineIsEmpty() else { throw Unsupported() }
        return v
    }

    /// A quoted scalar on one line (no escapes in double quotes; `''` in single quotes). The
    /// cursor ends after the closing quote.
    mutating func quoted() throws(Unsupported) -> String {
        let q = b[i]
        i += 1
        let start = i
        var hasEscapedQuote = false
        while true {
            guard i < b.count else { throw Unsupported() }
            let x = b[i]
            if x == BlockReader.newline { throw Unsupported() }             // a multi-line scalar
            if q == BlockReader.dquote && x == UInt8(ascii: "\\") { throw Unsupported() }
            if x == q {
                if q == BlockReader.squote && at(i + 1) == BlockReader.squote { hasEscapedQuote = true; i += 2; continue }
                break
            }
            i += 1
        }
        let end = i
        i += 1
        guard hasEscapedQuote else { return text(start, end) }
        var bytes: [UInt8] = []
        bytes.reserveCapacity(end - start)
        var k = start
        while k < end {
            bytes.append(b[k])
            k += b[k] == BlockReader.squote ? 2 : 1
        }
        return String(decoding: bytes, as: UTF8.self)
    }
}
