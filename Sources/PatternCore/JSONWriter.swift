/// Writes `Value`s as JSON (compact for API bodies, indented for people). No Foundation.
public enum JSONWriter {
    public struct Options: Sendable {
        /// Spaces per level; 0 writes compact JSON on one line.
        public var indent: Int
        public var sortKeys: Bool
        public init(indent: Int = 0, sortKeys: Bool = false) { self.indent = indent; self.sortKeys = sortKeys }
    }

    public static func string(_ v: Value, options: Options = Options()) -> String {
        var out: [UInt8] = []
        out.reserveCapacity(256)
        write(v, options: options, into: &out)
        return String(decoding: out, as: UTF8.self)
    }

    public static func bytes(_ v: Value, options: Options = Options()) -> [UInt8] {
        var out: [UInt8] = []
        out.reserveCapacity(256)
        write(v, options: options, into: &out)
        return out
    }

    public static func write(_ v: Value, options: Options = Options(), into out: inout [UInt8]) {
        write(v, options: options, level: 0, into: &out)
    }

    /// Compact JSON of `v` as if the `metadata.annotations` keys in `omitted` had been removed
    /// first (and a `metadata` or `annotations` that is not a map replaced by an empty one, as
    /// removing through them does), without copying any of `v`'s maps.
    public static func write(_ v: Value, omittingAnnotations omitted: [String], into out: inout [UInt8]) {
        guard case .object(let top) = v.kind else { write(v, into: &out); return }
        writeMap(top, level: 0, below: ["metadata", "annotations"], omitting: omitted, into: &out)
    }

    /// `o` as compact JSON. The entry named `path.first` is written the same way with the rest
    /// of the path (an empty map in place of anything that is not a map); in the map at the end
    /// of the path, the keys in `omitted` are left out.
    private static func writeMap(_ o: Object, level: Int, below path: ArraySlice<String>, omitting omitted: [String],
                                 into out: inout [UInt8]) {
        out.append(UInt8(ascii: "{"))
        var n = 0
        o.forEachEntry(sorted: false) { k, item in
            if path.isEmpty && omitted.contains(k) { return }
            startEntry(k, &n, &out)
            if let next = path.first, k == next {
                writeMap(item.object ?? Object(), level: level + 1, below: path.dropFirst(), omitting: omitted, into: &out)
            } else {
                write(item, options: Options(), level: level + 1, into: &out)
            }
        }
        out.append(UInt8(ascii: "}"))
    }

    /// Compact JSON of `v` with every map's keys sorted, as if the `metadata.annotations` keys
    /// in `omitted` had been removed first and then `annotations` itself when that left it
    /// empty (or it is not a map), without copying any of `v`'s maps. Two objects that differ
    /// only in those annotations, or in an empty `annotations`, are written the same.
    public static func writeCanonical(_ v: Value, omittingAnnotations omitted: [String], into out: inout [UInt8]) {
        let sorted = Options(sortKeys: true)
        guard case .object(let top) = v.kind else { write(v, options: sorted, into: &out); return }
        out.append(UInt8(ascii: "{"))
        var n = 0
        top.forEachEntry(sorted: true) { k, item in
            startEntry(k, &n, &out)
            guard k == "metadata", case .object(let metadata) = item.kind else {
                write(item, options: sorted, level: 1, into: &out)
                return
            }
            out.append(UInt8(ascii: "{"))
            var m = 0
            metadata.forEachEntry(sorted: true) { mk, mItem in
                guard mk == "annotations" else {
                    startEntry(mk, &m, &out)
                    write(mItem, options: sorted, level: 2, into: &out)
                    return
                }
                guard case .object(let annotations) = mItem.kind,
                      annotations.contains(where: { ak, _ in !omitted.contains(ak) }) else { return }
                startEntry(mk, &m, &out)
                out.append(UInt8(ascii: "{"))
                var a = 0
                annotations.forEachEntry(sorted: true) { ak, aItem in
                    if omitted.contains(ak) { return }
                    startEntry(ak, &a, &out)
                    write(aItem, options: sorted, level: 3, into: &out)
                }
                out.append(UInt8(ascii: "}"))
            }
            out.append(UInt8(ascii: "}"))
        }
        out.append(UInt8(ascii: "}"))
    }

    /// A compact map entry's start: a comma unless it is the first (`count` counts them), the
    /// key and a colon.
    @inline(__always) private static func startEntry(_ key: String, _ count: inout Int, _ out: inout [UInt8]) {
        if count > 0 { out.append(UInt8(ascii: ",")) }
        count += 1
        writeString(key, into: &out)
        out.append(UInt8(ascii: ":"))
    }

    private static func newline(_ options: Options, _ level: Int, _ out: inout [UInt8]) {
        guard options.indent > 0 else { return }
        out.append(10)
        for _ in 0..<(options.indent * level) { out.append(32) }
    }

    private static func write(_ v: Value, options: Options, level: Int, into out: inout [UInt8]) {
        switch v.kind {
        case .null: out.append(contentsOf: "null".utf8)
        case .bool(let b): out.append(contentsOf: (b ? "true" : "false").utf8)
        case .int(let i): out.append(contentsOf: String(i).utf8)
        case .double(let d):
            // JSON has no NaN or infinity.
            if d.isFinite { out.append(contentsOf: YAMLScalar.format(d).utf8) } else { out.append(contentsOf: "null".utf8) }
        case .string(let s): writeString(s, into: &out)
        case .array(let a):
            out.append(UInt8(ascii: "["))
            for (n, item) in a.enumerated() {
                if n > 0 { out.append(UInt8(ascii: ",")) }
                newline(options, level + 1, &out)
                write(item, options: options, level: level + 1, into: &out)
            }
            if !a.isEmpty { newline(options, level, &out) }
            out.append(UInt8(ascii: "]"))
        case .object(let o):
            out.append(UInt8(ascii: "{"))
            var n = 0
            o.forEachEntry(sorted: options.sortKeys) { k, item in
                if n > 0 { out.append(UInt8(ascii: ",")) }
                n += 1
                newline(options, level + 1, &out)
                writeString(k, into: &out)
                out.append(UInt8(ascii: ":"))
                if options.indent > 0 { out.append(32) }
                write(item, options: options, level: level + 1, into: &out)
            }
            if !o.isEmpty { newline(options, level, &out) }
            out.append(UInt8(ascii: "}"))
        }
    }

    static let hexDigits: [UInt8] = Array("0123456789abcdef".utf8)

    public static func writeString(_ s: String, into out: inout [UInt8]) {
        out.append(UInt8(ascii: "\""))
        // Most strings need no escape: copy their bytes at once (checked eight at a time).
        let copied: Bool? = s.utf8.withContiguousStorageIfAvailable { bytes in
            var i = 0
            if bytes.count >= 8 {
                let raw = UnsafeRawPointer(bytes.baseAddress!)
                while i + 8 <= bytes.count {
                    // Bytes >= 0x80 (UTF-8) are copied as they are.
                    if JSONParser.needsEscape(raw.loadUnaligned(fromByteOffset: i, as: UInt64.self)) { return false }
                    i += 8
                }
            }
            while i < bytes.count {
                let c = bytes[i]
                if c < 0x20 || c == UInt8(ascii: "\"") || c == UInt8(ascii: "\\") { return false }
                i += 1
            }
            out.append(contentsOf: bytes)
            return true
        }
        if copied == true {
            out.append(UInt8(ascii: "\""))
            return
        }
        for c in s.utf8 {
            switch c {
            case UInt8(ascii: "\""): out.append(0x5C); out.append(c)
            case UInt8(ascii: "\\"): out.append(0x5C); out.append(c)
            case 0x0A: out.append(0x5C); out.append(UInt8(ascii: "n"))
            case 0x0D: out.append(0x5C); out.append(UInt8(ascii: "r"))
            case 0x09: out.append(0x5C); out.append(UInt8(ascii: "t"))
            case 0..<0x20:
                out.append(contentsOf: "\\u00".utf8)
                out.append(hexDigits[Int(c >> 4)]); out.append(hexDigits[Int(c & 0xF)])
            default: out.append(c)
            }
        }
        out.append(UInt8(ascii: "\""))
    }
}
