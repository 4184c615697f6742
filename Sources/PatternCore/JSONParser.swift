import Synchronization
#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// A strict JSON (RFC 8259) parser over bytes, producing `Value`s with line:column marks.
/// No Foundation: API responses are parsed once, straight into the pipeline's value type.
public struct JSONParser {
    public var maxDepth: Int

    /// A key whose map values are read once per distinct text: a value under this key that is
    /// byte for byte one already read in the same parse, at the same depth, is that value again
    /// (sharing its storage, so its marks are the first one's) instead of being built anew.
    /// The value is the same either way; only the work and the memory differ.
    ///
    /// A LIST response sets it to `fieldsV1`: the field sets in `metadata.managedFields` are
    /// about 40 % of a typical object's bytes and the costliest part to build (a map per field,
    /// most of them empty), and objects of one shape, applied by one manager, carry the same
    /// set. Nil (the default) shares nothing.
    public var sharedKey: String?

    public init(maxDepth: Int = 512, sharedKey: String? = nil) {
        self.maxDepth = maxDepth
        self.sharedKey = sharedKey
    }

    public static func parse(_ text: String, file: String = "<json>") throws(Diagnostic) -> Value {
        var t = text
        let r = t.withUTF8 { b in Result { () throws(Diagnostic) in try JSONParser().parse(bytes: b, file: file) } }
        return try r.get()
    }

    public static func parse(_ bytes: [UInt8], file: String = "<json>") throws(Diagnostic) -> Value {
        let r = bytes.withUnsafeBufferPointer { b in Result { () throws(Diagnostic) in try JSONParser().parse(bytes: b, file: file) } }
        return try r.get()
    }

    public func parse(bytes: UnsafeBufferPointer<UInt8>, file: String) throws(Diagnostic) -> Value {
        try read(bytes: bytes, file: file, splitting: nil).value
    }

    /// `parse(bytes:file:)` for a top-level object whose `key` holds a long array (a LIST
    /// response's `items`): the array's elements are found by a scan and parsed on all cores.
    /// The result is exactly `parse`'s, marks included: an array with fewer than
    /// `minimumElements` elements, or with an element that does not parse on its own, is read
    /// by the sequential parse from where it starts (which also reports any error as `parse`).
    public func parse(bytes: UnsafeBufferPointer<UInt8>, file: String, splittingArrayAt key: String,
                      minimumElements: Int = 64) throws(Diagnostic) -> Value {
        try read(bytes: bytes, file: file, splitting: (key, minimumElements)).value
    }

    /// The value of `key` in a top-level object, read without building anything before it,
    /// when it comes before any `stop` key (nil otherwise, or when the text is not such an
    /// object). A LIST page names its continue token in `metadata`, which every API server
    /// writes before `items`: the next page can be asked for before this one's items are read.
    public static func member(_ key: String, before stop: String, in bytes: UnsafeBufferPointer<UInt8>) -> Value? {
        var r = Reader(b: bytes, file: "<json>", maxDepth: 64)
        r.skipByteOrderMark()
        r.skipWS()
        guard r.i < bytes.count, bytes[r.i] == UInt8(ascii: "{") else { return nil }
        r.i += 1
        while true {
            r.skipWS()
            guard r.i < bytes.count, bytes[r.i] == UInt8(ascii: "\""), let k = try? r.string() else { return nil }
            r.skipWS()
            guard r.i < bytes.count, bytes[r.i] == UInt8(ascii: ":") else { return nil }
            r.i += 1
            r.skipWS()
            if k == key { return try? r.value(depth: 1) }
            if k == stop { return nil }
            guard r.skipValue() else { return nil }
            r.skipWS()
            guard r.i < bytes.count, bytes[r.i] == UInt8(ascii: ",") else { return nil }
            r.i += 1
        }
    }

    /// The parse, and whether the array named by `splitting` was parsed on all cores.
    func read(bytes: UnsafeBufferPointer<UInt8>, file: String,
              splitting: (key: String, minimum: Int)?) throws(Diagnostic) -> (value: Value, split: Bool) {
        var r = Reader(b: bytes, file: file, maxDepth: maxDepth)
        r.splitting = splitting
        if let sharedKey, !sharedKey.isEmpty { r.shared = SharedValues(key: sharedKey) }
        r.skipByteOrderMark()
        r.skipWS()
        let v = try r.value(depth: 0)
        r.skipWS()
        if r.i != bytes.count { throw r.fail("unexpected content after the JSON value") }
        return (v, r.didSplit)
    }

    struct Reader {
        let b: UnsafeBufferPointer<UInt8>
        let file: String
        let maxDepth: Int
        var i = 0
        var line = 1
        var lineStart = 0
        /// The top-level key whose array `parallelArray` parses, and its least element count.
        var splitting: (key: String, minimum: Int)?
        var didSplit = false
        /// The values read once per text (`JSONParser.sharedKey`), shared by the readers of
        /// every element of a split array.
        var shared: SharedValues?

        init(b: UnsafeBufferPointer<UInt8>, file: String, maxDepth: Int) {
            self.b = b; self.file = file; self.maxDepth = maxDepth
        }

        var mark: Mark { Mark(line: line, column: i - lineStart + 1) }

        func fail(_ msg: String) -> Diagnostic {
            .error("invalid JSON: \(msg)", at: SourceLocation(file: file, mark: mark), fix: "fix the JSON syntax at this position")
        }

        /// RFC 8259 §8.1: a parser may ignore a leading UTF-8 byte-order mark; editors add one.
        mutating func skipByteOrderMark() {
            if i == 0 && b.count >= 3 && b[0] == 0xEF && b[1] == 0xBB && b[2] == 0xBF { i = 3; lineStart = 3 }
        }

        @inline(__always) mutating func skipWS() {
            while i < b.count {
                let c = b[i]
                if c == 0x20 || c == 0x09 || c == 0x0D { i += 1 }
                else if c == 0x0A { i += 1; line += 1; lineStart = i }
                else { break }
            }
        }

        mutating func value(depth: Int) throws(Diagnostic) -> Value {
            guard i < b.count else { throw fail("unexpected end of input") }
            let m = mark
            switch b[i] {
            case UInt8(ascii: "{"):
                if depth >= maxDepth { throw fail("nesting deeper than \(maxDepth) levels") }
                i += 1
                skipWS()
                if i < b.count && b[i] == UInt8(ascii: "}") { i += 1; return Value(.object(Object()), mark: m) }
                var entries = Object.Gathering(capacity: 8)
                while true {
                    skipWS()
                    guard i < b.count, b[i] == UInt8(ascii: "\"") else { throw fail("expected a string key") }
                    let km = mark
                    let keyStart = i
                    let k = try string()
                    let keyEnd = i
                    skipWS()
                    guard i < b.count, b[i] == UInt8(ascii: ":") else { throw fail("expected ':' after key") }
                    i += 1
                    skipWS()
                    let v: Value
                    if depth == 0, let split = splitting, k == split.key, !didSplit, let a = parallelArray(minimumElements: split.minimum) {
                        v = a
                        didSplit = true
                    } else if let shared, i < b.count, b[i] == UInt8(ascii: "{"),
                              shared.isKey(UnsafeBufferPointer(rebasing: b[(keyStart + 1)..<(keyEnd - 1)])) {
                        v = try sharedValue(shared, depth: depth + 1)
                    } else {
                        v = try value(depth: depth + 1)
                    }
                    guard entries.add(k, v, keyMark: km) else {
                        throw Diagnostic.error("duplicate key '\(k)'", at: SourceLocation(file: file, mark: km),
                                               fix: "remove one of the two '\(k)' entries")
                    }
                    skipWS()
                    guard i < b.count else { throw fail("unexpected end of input in object") }
                    if b[i] == UInt8(ascii: ",") { i += 1; continue }
                    if b[i] == UInt8(ascii: "}") { i += 1; break }
                    throw fail("expected ',' or '}'")
                }
                return Value(.object(entries.object()), mark: m)
            case UInt8(ascii: "["):
                if depth >= maxDepth { throw fail("nesting deeper than \(maxDepth) levels") }
                i += 1
                var a: [Value] = []
                skipWS()
                if i < b.count && b[i] == UInt8(ascii: "]") { i += 1; return Value(.array(a), mark: m) }
                while true {
                    skipWS()
                    a.append(try value(depth: depth + 1))
                    skipWS()
                    guard i < b.count else { throw fail("unexpected end of input in array") }
                    if b[i] == UInt8(ascii: ",") { i += 1; continue }
                    if b[i] == UInt8(ascii: "]") { i += 1; break }
                    throw fail("expected ',' or ']'")
                }
                return Value(.array(a), mark: m)
            case UInt8(ascii: "\""):
                return Value(.string(try string()), mark: m, quoted: true)
            case UInt8(ascii: "t"):
                try literal("true"); return Value(.bool(true), mark: m)
            case UInt8(ascii: "f"):
                try literal("false"); return Value(.bool(false), mark: m)
            case UInt8(ascii: "n"):
                try literal("null"); return Value(.null, mark: m)
            default:
                return Value(try number(), mark: m)
            }
        }

        /// At a `{` under the shared key: the value read before from the same bytes at this
        /// depth, or this one read now (and kept for the next). Text that does not scan as one
        /// value is read as usual, which reports the error.
        mutating func sharedValue(_ shared: SharedValues, depth: Int) throws(Diagnostic) -> Value {
            let start = i, startLine = line, startLineStart = lineStart
            guard skipValue() else {
                (i, line, lineStart) = (start, startLine, startLineStart)
                return try value(depth: depth)
            }
            let text = UnsafeBufferPointer(rebasing: b[start..<i])
            let (hash, found) = shared.value(for: text, depth: depth)
            if let found { return found }
            let end = i, endLine = line, endLineStart = lineStart
            (i, line, lineStart) = (start, startLine, startLineStart)
            let v = try value(depth: depth)
            guard i == end, line == endLine, lineStart == endLineStart else { return v }
            return shared.keep(v, for: text, depth: depth, hash: hash)
        }

        /// At a `[` one level below the top: the array, its elements found by `skipValue` and
        /// parsed on all cores, each by a reader that starts where the sequential one would
        /// (same line and column, so the same marks). Nil, with the reader back where it was,
        /// when this is no array, it has fewer than `minimumElements` elements or any fails.
        mutating func parallelArray(minimumElements: Int) -> Value? {
            guard i < b.count, b[i] == UInt8(ascii: "[") else { return nil }
            let saved = (i, line, lineStart)
            guard let v = scanAndParseArray(minimumElements: minimumElements) else {
                (i, line, lineStart) = saved
                return nil
            }
            return v
        }

        private mutating func scanAndParseArray(minimumElements: Int) -> Value? {
            let m = mark
            i += 1
            // (start, line, lineStart, end) of each element.
            var spans: [(start: Int, line: Int, lineStart: Int, end: Int)] = []
            skipWS()
            if i < b.count && b[i] == UInt8(ascii: "]") { return nil }
            while true {
                skipWS()
                let start = i, startLine = line, startLineStart = lineStart
                guard skipValue() else { return nil }
                spans.append((start, startLine, startLineStart, i))
                skipWS()
                guard i < b.count else { return nil }
                if b[i] == UInt8(ascii: ",") { i += 1; continue }
                if b[i] == UInt8(ascii: "]") { i += 1; break }
                return nil
            }
            guard spans.count >= minimumElements else { return nil }
            let input = SendableBytes(buffer: b), file = self.file, maxDepth = self.maxDepth, shared = self.shared
            let items = ParallelMap.map(spans, minimum: minimumElements) { span -> Value? in
                var r = Reader(b: input.buffer, file: file, maxDepth: maxDepth)
                r.shared = shared
                r.i = span.start; r.line = span.line; r.lineStart = span.lineStart
                guard let v = try? r.value(depth: 2), r.i == span.end else { return nil }
                return v
            }
            var out: [Value] = []
            out.reserveCapacity(items.count)
            for v in items {
                guard let v else { return nil }
                out.append(v)
            }
            return Value(.array(out), mark: m)
        }

        /// Moves past one JSON value without building it (strings, nesting and line counts
        /// followed; nothing validated: the element's own parse does that). False at the end
        /// of input or on a closing bracket where a value should be.
        mutating func skipValue() -> Bool {
            var depth = 0
            while i < b.count {
                let c = b[i]
                switch c {
                case UInt8(ascii: "\""):
                    i += 1
                    // Eight bytes at a time, straight to the first quote or backslash of a word
                    // (its lowest marked byte is exact). A raw newline in a string, not counted
                    // where words are skipped, fails that element's parse, and with it the split.
                    while i < b.count {
                        if i + 8 <= b.count {
                            let m = JSONParser.quoteOrBackslashBytes(JSONParser.word(b, i))
                            if m == 0 { i += 8; continue }
                            i += m.trailingZeroBitCount >> 3
                        }
                        let s = b[i]
                        if s == UInt8(ascii: "\"") { break }
                        if s == UInt8(ascii: "\\") { i += 2; continue }
                        if s == 0x0A { line += 1; lineStart = i + 1 }
                        i += 1
                    }
                    guard i < b.count else { return false }
                    i += 1
                case UInt8(ascii: "{"), UInt8(ascii: "["):
                    depth += 1; i += 1
                case UInt8(ascii: "}"), UInt8(ascii: "]"):
                    if depth == 0 { return false }
                    depth -= 1; i += 1
                case UInt8(ascii: ","):
                    if depth == 0 { return false }
                    i += 1
                case 0x0A:
                    i += 1; line += 1; lineStart = i
                default:
                    i += 1
                }
                if depth == 0 {
                    // A scalar ends where a delimiter or whitespace starts.
                    while i < b.count, c != UInt8(ascii: "\""), c != UInt8(ascii: "}"), c != UInt8(ascii: "]") {
                        let n = b[i]
                        if n == UInt8(ascii: ",") || n == UInt8(ascii: "]") || n == UInt8(ascii: "}") || n == 0x20 || n == 0x0A || n == 0x09 || n == 0x0D { break }
                        i += 1
                    }
                    return true
                }
            }
            return false
        }

        mutating func literal(_ word: StaticString) throws(Diagnostic) {
            let n = word.utf8CodeUnitCount
            guard i + n <= b.count else { throw fail("unexpected end of input") }
            let p = word.utf8Start
            for k in 0..<n where b[i + k] != p[k] { throw fail("unexpected token") }
            i += n
        }

        mutating func number() throws(Diagnostic) -> Value.Kind {
            let start = i
            var isInt = true
            if i < b.count && b[i] == UInt8(ascii: "-") { i += 1 }
            guard i < b.count, b[i] >= 48, b[i] <= 57 else { throw fail("unexpected character") }
            if b[i] == 48 { i += 1 } else { while i < b.count, b[i] >= 48, b[i] <= 57 { i += 1 } }
            if i < b.count, b[i] == UInt8(ascii: ".") {
                isInt = false; i += 1
                let s = i
                while i < b.count, b[i] >= 48, b[i] <= 57 { i += 1 }
                if i == s { throw fail("expected digits after '.'") }
            }
            if i < b.count, b[i] == UInt8(ascii: "e") || b[i] == UInt8(ascii: "E") {
                isInt = false; i += 1
                if i < b.count, b[i] == UInt8(ascii: "+") || b[i] == UInt8(ascii: "-") { i += 1 }
                let s = i
                while i < b.count, b[i] >= 48, b[i] <= 57 { i += 1 }
                if i == s { throw fail("expected exponent digits") }
            }
            let text = String(decoding: UnsafeBufferPointer(rebasing: b[start..<i]), as: UTF8.self)
            if isInt, let v = Int(text) { return .int(v) }
            guard let d = Double(text) else { throw fail("invalid number '\(text)'") }
            return .double(d)
        }

        mutating func hex4() throws(Diagnostic) -> UInt32 {
            guard i + 4 <= b.count else { throw fail("truncated \\u escape") }
            var v: UInt32 = 0
            for _ in 0..<4 {
                let c = b[i]
                let d: UInt32
                switch c {
                case 48...57: d = UInt32(c - 48)
                case 65...70: d = UInt32(c - 55)
                case 97...102: d = UInt32(c - 87)
                default: throw fail("invalid \\u escape")
                }
                v = v << 4 | d
                i += 1
            }
            return v
        }

        mutating func string() throws(Diagnostic) -> String {
            i += 1  // opening quote
            let start = i
            // Fast path: no escapes (and no validation needed when every byte is ASCII). Eight
            // plain bytes (ASCII, not a quote, backslash or control character) at a time first.
            while i + 8 <= b.count, JSONParser.isPlainASCII(JSONParser.word(b, i)) { i += 8 }
            var ascii = true
            while i < b.count {
                let c = b[i]
                if c == UInt8(ascii: "\"") {
                    let slice = UnsafeBufferPointer(rebasing: b[start..<i])
                    let s = ascii ? String(decoding: slice, as: UTF8.self) : String(validating: slice, as: UTF8.self)
                    guard let s else { throw fail("invalid UTF-8 in string") }
                    i += 1
                    return s
                }
                if c == UInt8(ascii: "\\") { break }
                if c < 0x20 { throw fail("control character in string") }
                if c >= 0x80 { ascii = false }
                i += 1
            }
            var out: [UInt8] = Array(UnsafeBufferPointer(rebasing: b[start..<i]))
            while i < b.count {
                let c = b[i]
                if c == UInt8(ascii: "\"") {
                    i += 1
                    guard let s = String(validating: out, as: UTF8.self) else { throw fail("invalid UTF-8 in string") }
                    return s
                }
                if c < 0x20 { throw fail("control character in string") }
                if c != UInt8(ascii: "\\") { out.append(c); i += 1; continue }
                i += 1
                guard i < b.count else { break }
                let e = b[i]; i += 1
                switch e {
                case UInt8(ascii: "\""): out.append(0x22)
                case UInt8(ascii: "\\"): out.append(0x5C)
                case UInt8(ascii: "/"): out.append(0x2F)
                case UInt8(ascii: "b"): out.append(0x08)
                case UInt8(ascii: "f"): out.append(0x0C)
                case UInt8(ascii: "n"): out.append(0x0A)
                case UInt8(ascii: "r"): out.append(0x0D)
                case UInt8(ascii: "t"): out.append(0x09)
                case UInt8(ascii: "u"):
                    var cp = try hex4()
                    if cp >= 0xD800 && cp < 0xDC00 {
                        if i + 6 <= b.count, b[i] == UInt8(ascii: "\\"), b[i + 1] == UInt8(ascii: "u") {
                            i += 2
                            let lo = try hex4()
                            guard lo >= 0xDC00 && lo < 0xE000 else { throw fail("invalid surrogate pair") }
                            cp = 0x10000 + ((cp - 0xD800) << 10) + (lo - 0xDC00)
                        } else { cp = 0xFFFD }
                    } else if cp >= 0xDC00 && cp < 0xE000 { cp = 0xFFFD }
                    out.append(contentsOf: String(Character(Unicode.Scalar(cp)!)).utf8)
                default: throw fail("invalid escape '\\\(Character(Unicode.Scalar(e)))'")
                }
            }
            throw fail("unterminated string")
        }
    }
}

extension JSONParser {
    static let ones: UInt64 = 0x0101_0101_0101_0101
    static let highs: UInt64 = 0x8080_8080_8080_8080

    /// The eight bytes at `i` (which must be in bounds), as one word: the byte at `i` lowest.
    @inline(__always) static func word(_ b: UnsafeBufferPointer<UInt8>, _ i: Int) -> UInt64 {
        UInt64(littleEndian: UnsafeRawPointer(b.baseAddress!).loadUnaligned(fromByteOffset: i, as: UInt64.self))
    }

    /// High bit set in each byte of `w` that is zero, when any is (the borrow can only mark
    /// bytes above a zero byte, so "any" is exact).
    @inline(__always) static func zeroBytes(_ w: UInt64) -> UInt64 { (w &- ones) & ~w & highs }

    /// Whether a byte of `w` is `"` or `\`.
    @inline(__always) static func hasQuoteOrBackslash(_ w: UInt64) -> Bool {
        quoteOrBackslashBytes(w) != 0
    }

    /// High bit set in bytes of `w` that are `"` or `\`, and possibly in bytes above one of
    /// them: the lowest set bit marks the first such byte exactly (the word is read little-endian,
    /// so the lowest byte is the first in memory), and zero means there is none.
    @inline(__always) static func quoteOrBackslashBytes(_ w: UInt64) -> UInt64 {
        zeroBytes(w ^ (0x22 &* ones)) | zeroBytes(w ^ (0x5C &* ones))
    }

    /// Whether a byte of `w` is a control character (< 0x20). (w - 0x20 in each byte) & ~w has
    /// a high bit set only above a byte below 0x20 (a byte >= 0x80 clears its own, and borrows
    /// start only at a byte below 0x20), so "any" is exact for every byte value.
    @inline(__always) static func hasControlByte(_ w: UInt64) -> Bool {
        (w &- (0x20 &* ones)) & ~w & highs != 0
    }

    /// Whether a byte of `w` must be escaped in a JSON string: a control character, `"` or `\`.
    @inline(__always) static func needsEscape(_ w: UInt64) -> Bool {
        hasControlByte(w) || hasQuoteOrBackslash(w)
    }

    /// Whether every byte of `w` is ASCII and none is `"`, `\` or a control character (< 0x20).
    @inline(__always) static func isPlainASCII(_ w: UInt64) -> Bool {
        w & highs == 0 && !needsEscape(w)
    }
}

/// The values of one parse read once per text (`JSONParser.sharedKey`): each kept with the
/// bytes it was read from (a view of the input, which outlives the parse), found by a hash of
/// those bytes and then compared byte for byte. Shared by the readers of a split array's
/// elements, so behind a lock; it holds no more entries than the input has shared values.
final class SharedValues: @unchecked Sendable {
    /// Sendable as the input it views is: read-only, and alive for the whole parse.
    private struct Entry: @unchecked Sendable {
        let text: UnsafeBufferPointer<UInt8>
        let depth: Int
        let value: Value
    }

    private let key: [UInt8]
    private let entries = Mutex<[Int: [Entry]]>([:])

    init(key: String) { self.key = Array(key.utf8) }

    /// Whether a key's raw bytes (between its quotes, as written) are the shared key. A key
    /// written with escapes does not match, and is read as usual.
    @inline(__always) func isKey(_ raw: UnsafeBufferPointer<UInt8>) -> Bool {
        raw.count == key.count && key.withUnsafeBufferPointer { k in memcmp(k.baseAddress!, raw.baseAddress!, k.count) == 0 }
    }

    /// Most texts a bucket holds: more (texts made to collide) are read as usual, not kept,
    /// so a lookup compares at most this many.
    static let bucketLimit = 4

    /// A hash of the text, eight bytes at a time (a multiply and a shift per word: the bytes
    /// are compared anyway, so it only has to spread them, and `bucketLimit` bounds the cost
    /// of texts that collide).
    static func hash(_ text: UnsafeBufferPointer<UInt8>, depth: Int) -> Int {
        let k: UInt64 = 0x9E37_79B9_7F4A_7C15
        var h = (UInt64(truncatingIfNeeded: depth) &+ UInt64(text.count) &* k) &* k
        guard let base = text.baseAddress else { return Int(truncatingIfNeeded: h) }
        let raw = UnsafeRawPointer(base)
        var i = 0
        while i + 8 <= text.count {
            h = (h ^ raw.loadUnaligned(fromByteOffset: i, as: UInt64.self)) &* k
            h ^= h >> 29
            i += 8
        }
        var last: UInt64 = 0
        while i < text.count { last = last << 8 | UInt64(text[i]); i += 1 }
        h = (h ^ last) &* k
        return Int(truncatingIfNeeded: h ^ (h >> 32))
    }

    @inline(__always) private static func same(_ e: Entry, _ text: UnsafeBufferPointer<UInt8>, _ depth: Int) -> Bool {
        e.depth == depth && e.text.count == text.count && memcmp(e.text.baseAddress!, text.baseAddress!, text.count) == 0
    }

    /// The value kept for this text at this depth, if any, and the text's hash (for `keep`).
    func value(for text: UnsafeBufferPointer<UInt8>, depth: Int) -> (hash: Int, value: Value?) {
        let h = SharedValues.hash(text, depth: depth)
        return (h, value(for: text, depth: depth, hash: h))
    }

    /// The value kept for this text at this depth under the hash `h`.
    func value(for text: UnsafeBufferPointer<UInt8>, depth: Int, hash h: Int) -> Value? {
        entries.withLock { entries -> Value? in
            guard let list = entries[h] else { return nil }
            for e in list where SharedValues.same(e, text, depth) { return e.value }
            return nil
        }
    }

    /// Keeps `value` for this text and returns the value to use: `value`, or the one another
    /// reader kept for the same text first (two readers may read it at once; both then share
    /// the first one's, whichever finishes second).
    @discardableResult
    func keep(_ value: Value, for text: UnsafeBufferPointer<UInt8>, depth: Int, hash h: Int) -> Value {
        entries.withLock { entries -> Value in
            let list = entries[h] ?? []
            if let first = list.first(where: { SharedValues.same($0, text, depth) }) { return first.value }
            guard list.count < SharedValues.bucketLimit else { return value }
            entries[h, default: []].append(Entry(text: text, depth: depth, value: value))
            return value
        }
    }
}

/// The response bytes, read by every element's parse (they outlive the parallel map).
private struct SendableBytes: @unchecked Sendable {
    let buffer: UnsafeBufferPointer<UInt8>
}
