/// Writes `Value`s as block-style YAML, deterministically.
///
/// The layout is the one `kubectl kustomize` prints (two-space indent, list items at the
/// indentation of their key, go-yaml v2 quoting), so output can be compared byte for byte.
/// Every string that a YAML 1.1 or 1.2 reader would take for another type is quoted.
public struct YAMLEmitter: Sendable {
    public struct Options: Sendable {
        /// Sort map keys (as Kustomize's output does); otherwise keep source order.
        public var sortKeys: Bool
        /// Print strings holding U+0085 (NEL) as `kubectl kustomize` does. It writes its output
        /// through JSON (which keeps NEL raw) read back as YAML 1.1, where a raw NEL is a line
        /// break inside a double-quoted scalar and is folded: spaces around a run of NELs are
        /// dropped and the run becomes one space, or `n - 1` line feeds for `n` NELs. Off by
        /// default (NEL is then written as `\N` and reads back unchanged).
        public var foldNextLine: Bool
        public init(sortKeys: Bool = false, foldNextLine: Bool = false) {
            self.sortKeys = sortKeys
            self.foldNextLine = foldNextLine
        }

        /// What `kubectl kustomize` prints: keys sorted, NEL folded.
        public static let kubectlKustomize = Options(sortKeys: true, foldNextLine: true)
    }

    public var options: Options
    public init(options: Options = Options()) { self.options = options }

    /// One document, without a leading `---`.
    public func emit(_ v: Value) -> String {
        var out: [UInt8] = []
        out.reserveCapacity(1024)
        write(v, into: &out)
        return String(decoding: out, as: UTF8.self)
    }

    /// Several documents separated by `---` lines (emitted in parallel, joined in order).
    public func emitStream(_ docs: [Value]) -> String {
        let parts = emitDocuments(docs)
        var out: [UInt8] = []
        out.reserveCapacity(parts.reduce(0) { $0 + $1.count + 4 })
        for (i, p) in parts.enumerated() {
            if i > 0 { out.append(contentsOf: "---\n".utf8) }
            out.append(contentsOf: p)
        }
        return String(decoding: out, as: UTF8.self)
    }

    /// Each document's text (without `---` separators), emitted in parallel, in order: a caller
    /// that writes the stream (`pattern render`) can send these out as they are instead of
    /// joining them into one more copy of the whole output.
    public func emitDocuments(_ docs: [Value]) -> [[UInt8]] {
        let emitter = self
        return ParallelMap.map(docs) { d -> [UInt8] in
            var b: [UInt8] = []
            b.reserveCapacity(1024)
            emitter.write(d, into: &b)
            return b
        }
    }

    /// Appends one document to `out`.
    public func write(_ v: Value, into out: inout [UInt8]) {
        switch v.kind {
        case .object(let o) where !o.isEmpty:
            writeMap(o, indent: 0, into: &out)
        case .array(let a) where !a.isEmpty:
            writeSeq(a, indent: 0, into: &out)
        default:
            writeScalar(v, indent: 2, into: &out)
            out.append(10)
        }
    }

    private func pad(_ n: Int, _ out: inout [UInt8]) {
        for _ in 0..<n { out.append(32) }
    }

    private func writeMap(_ o: Object, indent: Int, firstLineIndented: Bool = true, into out: inout [UInt8]) {
        var first = true
        func entry(_ k: String, _ v: Value) {
            if !first || firstLineIndented { pad(indent, &out) }
            first = false
            if YAMLScalar.isSimpleWord(k) {
                // Nearly every key: one pass over its bytes decides how it is written.
                YAMLEmitter.writeSimpleWord(k, into: &out)
                out.append(UInt8(ascii: ":"))
                writeValueAfterKey(v, indent: indent, into: &out)
                return
            }
            if YAMLScalar.needsComplexKey(k) {
                // go-yaml: a key with a line break is no simple key; `? key` then `: value`.
                out.append(contentsOf: "? ".utf8)
                writeString(k, indent: indent + 2, allowLiteral: true, into: &out)
                out.append(10)
                pad(indent, &out)
                out.append(UInt8(ascii: ":"))
                writeValueAfterKey(v, indent: indent, into: &out)
                return
            }
            writeString(k, indent: indent, allowLiteral: false, into: &out)
            out.append(UInt8(ascii: ":"))
            writeValueAfterKey(v, indent: indent, into: &out)
        }
        guard options.sortKeys else {
            for (k, v) in o { entry(k, v) }
            return
        }
        // go-yaml v2's key order (natural: `item2 < item10`), free when already in order. The
        // object's entries are read in place (no copy per map).
        let e = o.entries
        var ordered = true
        var i = 1
        while i < e.count {
            if !YAMLScalar.keyLess(e[i - 1].key, e[i].key) { ordered = false; break }
            i += 1
        }
        if ordered {
            for i in e.indices { entry(e[i].key, e[i].value) }
            return
        }
        // Out of order (nearly always a small metadata map a namespace or a label was added
        // to): the indices are sorted in a temporary buffer, on the stack when small.
        withUnsafeTemporaryAllocation(of: Int.self, capacity: e.count) { buffer in
            var order = buffer
            for i in e.indices { order.initializeElement(at: i, to: i) }
            order.sort { YAMLScalar.keyLess(e[$0].key, e[$1].key) }
            for i in order { entry(e[i].key, e[i].value) }
        }
    }

    private func writeValueAfterKey(_ v: Value, indent: Int, into out: inout [UInt8]) {
        switch v.kind {
        case .object(let o) where !o.isEmpty:
            out.append(10)
            writeMap(o, indent: indent + 2, into: &out)
        case .array(let a) where !a.isEmpty:
            out.append(10)
            writeSeq(a, indent: indent, into: &out)
        default:
            out.append(32)
            writeScalar(v, indent: indent + 2, into: &out)
            out.append(10)
        }
    }

    private func writeSeq(_ a: [Value], indent: Int, firstLineIndented: Bool = true, into out: inout [UInt8]) {
        var first = true
        for item in a {
            if !first || firstLineIndented { pad(indent, &out) }
            first = false
            out.append(UInt8(ascii: "-"))
            switch item.kind {
            case .object(let o) where !o.isEmpty:
                out.append(32)
                writeMap(o, indent: indent + 2, firstLineIndented: false, into: &out)
            case .array(let inner) where !inner.isEmpty:
                out.append(32)
                writeSeq(inner, indent: indent + 2, firstLineIndented: false, into: &out)
            default:
                out.append(32)
                writeScalar(item, indent: indent + 2, into: &out)
                out.append(10)
            }
        }
    }

    private func writeScalar(_ v: Value, indent: Int, into out: inout [UInt8]) {
        switch v.kind {
        case .null: out.append(contentsOf: "null".utf8)
        case .bool(let b): out.append(contentsOf: (b ? "true" : "false").utf8)
        case .int(let i): out.append(contentsOf: String(i).utf8)
        case .double(let d): out.append(contentsOf: YAMLScalar.format(d).utf8)
        case .string(let s): writeString(s, indent: indent, allowLiteral: true, into: &out)
        case .array: out.append(contentsOf: "[]".utf8)
        case .object: out.append(contentsOf: "{}".utf8)
        }
    }

    /// go-yaml's preferred line width: a value scalar is folded at a single space once its line
    /// is longer than this (keys are never folded), as `kubectl kustomize` prints it.
    static let bestWidth = 80

    private func writeString(_ s: String, indent: Int, allowLiteral: Bool, into out: inout [UInt8]) {
        if YAMLScalar.isSimpleWord(s) {
            YAMLEmitter.writeSimpleWord(s, into: &out)
            return
        }
        if options.foldNextLine, YAMLEmitter.containsNextLine(s) {
            writeString(YAMLEmitter.foldingNextLines(s), indent: indent, allowLiteral: allowLiteral, into: &out)
            return
        }
        // Folding is only possible at a space, and only for values (`allowLiteral`).
        let fold = allowLiteral && YAMLEmitter.containsSpace(s)
        switch YAMLScalar.style(for: s, allowLiteral: allowLiteral) {
        case .plain:
            if fold { YAMLEmitter.writeFolded(s, quote: nil, indent: indent, into: &out) } else { YAMLEmitter.appendUTF8(s, to: &out) }
        case .singleQuoted:
            // Folding at spaces (values only) and U+2028/U+2029 breaks are handled there.
            YAMLEmitter.writeFolded(s, quote: UInt8(ascii: "'"), indent: indent, foldSpaces: fold, into: &out)
        case .doubleQuoted:
            YAMLEmitter.writeDoubleQuoted(s, foldIndent: fold ? indent : nil, into: &out)
        case .literal:
            writeLiteral(s, indent: indent, into: &out)
        }
    }

    /// A simple word (`YAMLScalar.isSimpleWord`: ASCII letters first, then letters, digits and
    /// `._-/:@`) holds no space, line break or NEL, so it is never folded: it is written plain,
    /// or double-quoted when a YAML 1.1 reader would take it for a boolean or null — what
    /// `YAMLScalar.style` decides for it, without the scans for those characters.
    static func writeSimpleWord(_ s: String, into out: inout [UInt8]) {
        if YAMLScalar.isReservedWord(s) {
            writeDoubleQuoted(s, foldIndent: nil, into: &out)
        } else {
            appendUTF8(s, to: &out)
        }
    }

    /// Appends the bytes of `s` in one copy (the generic `append(contentsOf: s.utf8)` goes
    /// byte by byte).
    @inlinable public static func appendUTF8(_ s: String, to out: inout [UInt8]) {
        if s.utf8.withContiguousStorageIfAvailable({ out.append(contentsOf: $0) }) == nil {
            out.append(contentsOf: s.utf8)
        }
    }

    /// A space occurs in `s` (read in place: `utf8.contains` is a generic loop per byte).
    static func containsSpace(_ s: String) -> Bool {
        s.utf8.withContiguousStorageIfAvailable { b in b.contains(UInt8(ascii: " ")) } ?? s.utf8.contains(UInt8(ascii: " "))
    }

    /// U+0085 (UTF-8 `C2 85`) occurs in `s`.
    static func containsNextLine(_ s: String) -> Bool {
        // One pass over the contiguous bytes (every string of every object is scanned).
        if let found = s.utf8.withContiguousStorageIfAvailable({ b -> Bool in
            var i = 1
            while i < b.count {
                if b[i] == 0x85 && b[i - 1] == 0xC2 { return true }
                i += 1
            }
            return false
        }) { return found }
        var prev: UInt8 = 0
        for b in s.utf8 {
            if b == 0x85 && prev == 0xC2 { return true }
            prev = b
        }
        return false
    }

    /// `s` as a YAML 1.1 reader reads it back from a double-quoted scalar with raw NELs (see
    /// `Options.foldNextLine`): each run of NELs and the spaces around it becomes one space
    /// (one NEL) or `n - 1` line feeds (`n` NELs). Tabs and other characters stay (JSON escapes them).
    static func foldingNextLines(_ s: String) -> String {
        let u = Array(s.utf8)
        var out: [UInt8] = []
        out.reserveCapacity(u.count)
        @inline(__always) func isNEL(_ i: Int) -> Bool { i + 1 < u.count && u[i] == 0xC2 && u[i + 1] == 0x85 }
        var i = 0
        while i < u.count {
            guard isNEL(i) else { out.append(u[i]); i += 1; continue }
            while out.last == 32 { out.removeLast() }
            var breaks = 1
            var j = i + 2
            while true {
                while j < u.count && u[j] == 32 { j += 1 }
                guard isNEL(j) else { break }
                breaks += 1
                j += 2
            }
            if breaks == 1 { out.append(32) } else { out.append(contentsOf: repeatElement(10, count: breaks - 1)) }
            i = j
        }
        return String(decoding: out, as: UTF8.self)
    }

    /// Characters since the last line break of `out`.
    static func column(_ out: [UInt8]) -> Int {
        var n = 0
        var i = out.count - 1
        while i >= 0 && out[i] != 10 {
            if out[i] & 0xC0 != 0x80 { n += 1 }
            i -= 1
        }
        return n
    }

    /// A plain (`quote == nil`) or single-quoted scalar, folded like go-yaml's emitter: a single
    /// space past column `bestWidth` becomes a line break plus `indent` spaces (in quotes, not
    /// at the first or last character). Folding keeps the value: a reader turns the break back
    /// into that space.
    static func writeFolded(_ s: String, quote: UInt8?, indent: Int, foldSpaces: Bool = true, into out: inout [UInt8]) {
        let u = Array(s.utf8)
        var col = column(out)
        if let quote { out.append(quote); col += 1 }
        var spaces = false
        var breaks = false
        var i = 0
        while i < u.count {
            let c = u[i]
            if c == 32 {
                let nextIsSpace = i + 1 < u.count && u[i + 1] == 32
                let inner = quote == nil || (i > 0 && i < u.count - 1)
                if foldSpaces && !spaces && col > bestWidth && !nextIsSpace && inner {
                    out.append(10)
                    for _ in 0..<indent { out.append(32) }
                    col = indent
                } else {
                    out.append(32); col += 1
                }
                spaces = true
                i += 1
                continue
            }
            if c == 0xE2, i + 2 < u.count, u[i + 1] == 0x80, u[i + 2] == 0xA8 || u[i + 2] == 0xA9 {
                // U+2028/U+2029 (only in single quotes): go-yaml writes the break itself and
                // indents the next character, so a YAML 1.1 reader keeps it and nothing after
                // it can start a new key.
                out.append(contentsOf: u[i...(i + 2)])
                col = 0
                breaks = true
                i += 3
                continue
            }
            if breaks {
                while col < indent { out.append(32); col += 1 }
                breaks = false
            }
            if let quote, c == quote { out.append(c); col += 1 }
            out.append(c)
            if c & 0xC0 != 0x80 { col += 1 }
            spaces = false
            i += 1
        }
        if let quote { out.append(quote) }
    }

    /// A literal block scalar as go-yaml writes it: `|2` when the text starts with a space or
    /// a line break (the reader can't guess the indentation), then the chomping indicator
    /// (`-` no final break, `+` more than one or only a break).
    private func writeLiteral(_ s: String, indent: Int, into out: inout [UInt8]) {
        let u = Array(s.utf8)
        var trailing = 0
        while trailing < u.count && u[u.count - 1 - trailing] == 10 { trailing += 1 }
        out.append(UInt8(ascii: "|"))
        if let f = u.first, f == 32 || f == 10 || (f == 0xE2 && YAMLEmitter.isLSPS(u, 0)) {
            out.append(UInt8(ascii: "2"))
        }
        if trailing == 0 { out.append(UInt8(ascii: "-")) } else if trailing > 1 || u.count == 1 { out.append(UInt8(ascii: "+")) }
        out.append(10)
        let body = u[0..<(u.count - trailing)]
        var lineStart = true
        var i = body.startIndex
        while i < body.endIndex {
            let c = body[i]
            if c == 0xE2 && YAMLEmitter.isLSPS(u, i) {
                out.append(contentsOf: body[i...(i + 2)])
                lineStart = true
                i += 3
                continue
            }
            if lineStart && c != 10 { pad(indent, &out) }
            out.append(c)
            lineStart = c == 10
            i += 1
        }
        // The caller writes the final line break.
        if trailing > 1 { for _ in 0..<(trailing - 1) { out.append(10) } }
    }

    @inline(__always) static func isLSPS(_ u: [UInt8], _ i: Int) -> Bool {
        i + 2 < u.count && u[i] == 0xE2 && u[i + 1] == 0x80 && (u[i + 2] == 0xA8 || u[i + 2] == 0xA9)
    }

    /// A double-quoted scalar; with `foldIndent`, folded like go-yaml's emitter (a space past
    /// column `bestWidth`, not first or last, becomes a line break plus indent; a following
    /// space is escaped so the reader keeps it).
    static func writeDoubleQuoted(_ s: String, foldIndent: Int? = nil, into out: inout [UInt8]) {
        var col = foldIndent == nil ? 0 : column(out)
        out.append(UInt8(ascii: "\""))
        col += 1
        let scalars = Array(s.unicodeScalars)
        var spaces = false
        for (i, sc) in scalars.enumerated() {
            if sc == " " {
                if let indent = foldIndent, !spaces, col > bestWidth, i > 0, i < scalars.count - 1 {
                    out.append(10)
                    for _ in 0..<indent { out.append(32) }
                    col = indent
                    if scalars[i + 1] == " " { out.append(UInt8(ascii: "\\")); col += 1 }
                } else {
                    out.append(32); col += 1
                }
                spaces = true
                continue
            }
            spaces = false
            let before = out.count
            switch sc {
            case "\"": out.append(contentsOf: "\\\"".utf8)
            case "\\": out.append(contentsOf: "\\\\".utf8)
            case "\n": out.append(contentsOf: "\\n".utf8)
            case "\t": out.append(contentsOf: "\\t".utf8)
            case "\r": out.append(contentsOf: "\\r".utf8)
            case "\0": out.append(contentsOf: "\\0".utf8)
            case "\u{07}": out.append(contentsOf: "\\a".utf8)
            case "\u{08}": out.append(contentsOf: "\\b".utf8)
            case "\u{0B}": out.append(contentsOf: "\\v".utf8)
            case "\u{0C}": out.append(contentsOf: "\\f".utf8)
            case "\u{1B}": out.append(contentsOf: "\\e".utf8)
            case "\u{85}": out.append(contentsOf: "\\N".utf8)
            case "\u{2028}": out.append(contentsOf: "\\L".utf8)
            case "\u{2029}": out.append(contentsOf: "\\P".utf8)
            default:
                if YAMLScalar.isPrintable(sc) {
                    out.append(contentsOf: String(sc).utf8)
                } else if sc.value <= 0xFF {
                    out.append(contentsOf: "\\x".utf8); out.append(contentsOf: hex(sc.value, 2).utf8)
                } else if sc.value <= 0xFFFF {
                    out.append(contentsOf: "\\u".utf8); out.append(contentsOf: hex(sc.value, 4).utf8)
                } else {
                    out.append(contentsOf: "\\U".utf8); out.append(contentsOf: hex(sc.value, 8).utf8)
                }
            }
            for byte in out[before...] where byte & 0xC0 != 0x80 { col += 1 }
        }
        out.append(UInt8(ascii: "\""))
    }

    static func hex(_ v: UInt32, _ width: Int) -> String {
        let s = String(v, radix: 16, uppercase: true)
        return String(repeating: "0", count: max(0, width - s.count)) + s
    }
}
