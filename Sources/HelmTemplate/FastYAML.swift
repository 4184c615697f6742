import PatternCore
import Synchronization

/// `toYaml` straight from `TemplateValue`s into one byte buffer, for the values charts pass to
/// it (maps, lists, numbers, booleans and strings that need no folding or escaping).
///
/// It writes exactly what `jsonRoundTrip` + `YAMLEmitter` write — same key order, same number
/// forms, same quoting decision (`YAMLScalar.style`) — without building a `PatternCore.Value`
/// tree first. Anything it does not handle itself (a string that would be double-quoted, a
/// literal block, a string with a space that might be folded, a non-finite float, a cycle)
/// makes it give up, and the caller takes the general path for the whole value, so the output
/// never differs. `FastPathTests` compares both paths.
struct FastYAML {
    struct GiveUp: Error {}

    var out: [UInt8] = []

    /// The `toYaml` text of `v` (final newline removed), or nil when the general path must write it.
    static func toYAML(_ v: TemplateValue) -> String? {
        var w = FastYAML()
        w.out.reserveCapacity(256)
        do {
            try w.document(v)
        } catch {
            return nil
        }
        if w.out.last == 10 { w.out.removeLast() }
        return String(decoding: w.out, as: UTF8.self)
    }

    /// What the value is as JSON data: objects become their data (or an empty map).
    enum Shape { case map(TemplateMap), list([TemplateValue]), scalar }

    /// Maps and lists by their entries; objects (rare in `toYaml`) go to the general path.
    @inline(__always) static func shape(_ v: TemplateValue, depth: Int) throws(GiveUp) -> (Shape, TemplateValue) {
        switch v {
        case .map(let m): return (.map(m), v)
        case .list(let l): return (.list(l), v)
        case .object: throw GiveUp()
        default: return (.scalar, v)
        }
    }

    mutating func document(_ v: TemplateValue) throws(GiveUp) {
        let (shape, v) = try FastYAML.shape(v, depth: 0)
        switch shape {
        case .map(let m):
            let entries = m.sortedEntries
            if !entries.isEmpty { try writeMap(entries, indent: 0, depth: 1); return }
            out.append(contentsOf: "{}".utf8)
        case .list(let l):
            if !l.isEmpty { try writeSeq(l, indent: 0, depth: 1); return }
            out.append(contentsOf: "[]".utf8)
        case .scalar:
            try writeScalar(v)
        }
        out.append(10)
    }

    @inline(__always) mutating func pad(_ n: Int) {
        for _ in 0..<n { out.append(32) }
    }

    mutating func writeMap(_ entries: [(key: String, value: TemplateValue)], indent: Int, firstLineIndented: Bool = true,
                           depth: Int) throws(GiveUp) {
        if depth > 256 { throw GiveUp() }
        var first = true
        for (k, v) in entries {
            if !first || firstLineIndented { pad(indent) }
            first = false
            try writeString(k, allowLiteral: false)
            out.append(UInt8(ascii: ":"))
            let (shape, x) = try FastYAML.shape(v, depth: depth)
            switch shape {
            case .map(let m):
                let inner = m.sortedEntries
                if !inner.isEmpty {
                    out.append(10)
                    try writeMap(inner, indent: indent + 2, depth: depth + 1)
                    continue
                }
                out.append(contentsOf: " {}\n".utf8)
            case .list(let l):
                if !l.isEmpty {
                    out.append(10)
                    try writeSeq(l, indent: indent, depth: depth + 1)
                    continue
                }
                out.append(contentsOf: " []\n".utf8)
            case .scalar:
                out.append(32)
                try writeScalar(x)
                out.append(10)
            }
        }
    }

    mutating func writeSeq(_ items: [TemplateValue], indent: Int, firstLineIndented: Bool = true, depth: Int) throws(GiveUp) {
        if depth > 256 { throw GiveUp() }
        var first = true
        for item in items {
            if !first || firstLineIndented { pad(indent) }
            first = false
            out.append(UInt8(ascii: "-"))
            let (shape, x) = try FastYAML.shape(item, depth: depth)
            switch shape {
            case .map(let m):
                let inner = m.sortedEntries
                if !inner.isEmpty {
                    out.append(32)
                    try writeMap(inner, indent: indent + 2, firstLineIndented: false, depth: depth + 1)
                    continue
                }
                out.append(contentsOf: " {}\n".utf8)
            case .list(let l):
                if !l.isEmpty {
                    out.append(32)
                    try writeSeq(l, indent: indent + 2, firstLineIndented: false, depth: depth + 1)
                    continue
                }
                out.append(contentsOf: " []\n".utf8)
            case .scalar:
                out.append(32)
                try writeScalar(x)
                out.append(10)
            }
        }
    }

    /// A scalar (never a map, list or object) as `jsonRoundTrip` + `YAMLEmitter.writeScalar` write it.
    mutating func writeScalar(_ v: TemplateValue) throws(GiveUp) {
        switch v {
        case .null: out.append(contentsOf: "null".utf8)
        case .bool(let b): out.append(contentsOf: (b ? "true" : "false").utf8)
        case .int(let i): appendInt(i)
        case .int64(let i): appendInt(Int(i))
        case .float64(let d):
            guard d.isFinite else { throw GiveUp() }
            if d == d.rounded(.towardZero), abs(d) < 1e15 {
                // GoFormat.jsonFloat prints these without '.' or exponent; jsonRoundTrip makes them ints.
                appendInt(Int(d))
            } else {
                let text = GoFormat.jsonFloat(d)
                if !text.contains("."), !text.contains("e"), let i = Int(text) {
                    appendInt(i)
                } else {
                    out.append(contentsOf: YAMLScalar.format(d).utf8)
                }
            }
        case .string(let s): try writeString(s, allowLiteral: true)
        case .list, .map, .object: throw GiveUp()  // not reached: shape() handles them
        }
    }

    @inline(__always) mutating func appendInt(_ i: Int) {
        if i >= 0 && i < 10 { out.append(UInt8(48 + i)); return }
        out.append(contentsOf: String(i).utf8)
    }

    /// A key or string value. Plain and single-quoted strings without a space are written here;
    /// everything else gives up.
    mutating func writeString(_ s: String, allowLiteral: Bool) throws(GiveUp) {
        var s = s
        let simple: Bool? = s.withUTF8 { u -> Bool? in
            // YAMLScalar.isSimpleWord: a letter, then letters, digits, `./_-:@`, not ending in `:`.
            guard let f = u.first else { return nil }
            guard (f >= 97 && f <= 122) || (f >= 65 && f <= 90) else { return nil }
            for c in u {
                switch c {
                case UInt8(ascii: "a")...UInt8(ascii: "z"), UInt8(ascii: "A")...UInt8(ascii: "Z"),
                     UInt8(ascii: "0")...UInt8(ascii: "9"), UInt8(ascii: "."), UInt8(ascii: "/"), UInt8(ascii: "_"),
                     UInt8(ascii: "-"), UInt8(ascii: ":"), UInt8(ascii: "@"):
                    continue
                default: return nil
                }
            }
            if u[u.count - 1] == UInt8(ascii: ":") { return nil }
            // Every YAML 1.1/1.2 word `isAmbiguous` quotes (y, yes, n, no, on, off, true, false,
            // null and their case forms) starts with one of these letters and is at most 5 bytes.
            if u.count > 5 { return true }
            switch f {
            case UInt8(ascii: "y"), UInt8(ascii: "Y"), UInt8(ascii: "n"), UInt8(ascii: "N"), UInt8(ascii: "o"),
                 UInt8(ascii: "O"), UInt8(ascii: "t"), UInt8(ascii: "T"), UInt8(ascii: "f"), UInt8(ascii: "F"):
                return false
            default: return true
            }
        }
        if simple == true {
            out.append(contentsOf: s.utf8)
            return
        }
        if s.isEmpty {  // YAMLScalar.style: ambiguous, so double-quoted
            out.append(contentsOf: "\"\"".utf8)
            return
        }
        // A space means the emitter may fold the line; leave that to it.
        if allowLiteral && s.utf8.contains(32) { throw GiveUp() }
        switch FastYAML.style(s, allowLiteral: allowLiteral) {
        case .plain:
            out.append(contentsOf: s.utf8)
        case .singleQuoted:
            out.append(UInt8(ascii: "'"))
            for c in s.utf8 {
                if c == UInt8(ascii: "'") { out.append(c) }
                out.append(c)
            }
            out.append(UInt8(ascii: "'"))
        case .doubleQuoted:
            // Simple words that a YAML reader takes for a bool or null: quoted, nothing to escape.
            if simple == false { out.append(34); out.append(contentsOf: s.utf8); out.append(34); return }
            throw GiveUp()
        case .literal:
            throw GiveUp()
        }
    }

    /// `YAMLScalar.style` remembered per string: it is a pure function of its arguments, and the
    /// same strings (`100m`, `128Mi`, `/`, `1.16.0`) come back in every render. Bounded: strings
    /// up to 128 bytes, at most 4096 of them; past that it is computed each time.
    static func style(_ s: String, allowLiteral: Bool) -> YAMLScalar.Style {
        guard s.utf8.count <= 128 else { return YAMLScalar.style(for: s, allowLiteral: allowLiteral) }
        let key = StyleKey(text: s, allowLiteral: allowLiteral)
        if let known = styleCache.withLock({ $0[key] }) { return known }
        let style = YAMLScalar.style(for: s, allowLiteral: allowLiteral)
        styleCache.withLock { cache in
            if cache.count < 4096 { cache[key] = style }
        }
        return style
    }

    struct StyleKey: Hashable { var text: String; var allowLiteral: Bool }
    static let styleCache = Mutex<[StyleKey: YAMLScalar.Style]>([:])
}
