import PatternCore

/// Annotation values keep the text they were written with, as in `kubectl kustomize`.
///
/// Kustomize holds objects as YAML nodes and writes annotations out as `map[string]string`, so a
/// value written as a number, boolean, null or timestamp keeps its source text: `0x1F` stays
/// `"0x1F"` (not `"31"`), `1.50` stays `"1.50"`, `True` stays `"True"`, `~` stays `"~"`,
/// `2001-12-14` stays `"2001-12-14"`, and an empty value (`key:`) is dropped. This engine parses
/// into typed `Value`s, so right after parsing a resource or patch document each such annotation
/// is replaced by its source text, found from the value's line:column in the file's bytes.
enum AnnotationText {
    /// The document has an annotation whose value is not a plain string (only then is anything
    /// to do; the common case costs one map lookup).
    static func needed(_ doc: Value) -> Bool {
        guard let ann = doc[path: ["metadata", "annotations"]]?.object else { return false }
        for (_, v) in ann where rewritten(v) { return true }
        return false
    }

    /// A value whose printed form could differ from its source text: a non-string scalar, or an
    /// unquoted string that was a timestamp (the reader normalised it to RFC 3339).
    static func rewritten(_ v: Value) -> Bool {
        switch v.kind {
        case .null, .bool, .int, .double: return true
        case .string(let s):
            guard !v.quoted, let f = s.utf8.first, f >= 48, f <= 57 else { return false }
            return YAMLScalar.timestamp(s) != nil
        case .array, .object: return false
        }
    }

    /// Replaces the annotations of `doc` that `rewritten` selects by their source text in
    /// `source` (the bytes `doc` was parsed from); an empty value is removed. A value whose text
    /// cannot be found or does not read back as the same value (an alias, a tag, a multi-line
    /// scalar) is left as it is and stringified later as before.
    static func restore(_ doc: inout Value, source: UnsafeBufferPointer<UInt8>) {
        guard let ann = doc[path: ["metadata", "annotations"]]?.object else { return }
        var lines = LineStarts(source)
        var out = Object()
        for (k, v) in ann {
            guard rewritten(v), let text = lines.plainText(at: v.mark) else { out.append(k, v); continue }
            if Value(YAMLScalar.resolvePlain(text)) == v {
                if text.isEmpty, v.isNull { continue }  // `key:` with no value: kubectl drops it
                out.append(k, Value(.string(text), mark: v.mark, quoted: true))
            } else if v.isNull, let keyMark = ann.keyMark(k), v.mark.line > keyMark.line {
                // The reader marks an empty value at the next token (`key:` then a new line):
                // no null literal is written there, so the value was empty.
                continue
            } else {
                out.append(k, v)
            }
        }
        doc[path: ["metadata", "annotations"]] = .object(out)
    }

    /// Byte offsets of line starts, computed once per file on first use. Line breaks as libyaml
    /// counts them: LF, CR LF, CR, U+0085, U+2028, U+2029.
    struct LineStarts {
        let bytes: UnsafeBufferPointer<UInt8>
        var starts: [Int] = []

        init(_ bytes: UnsafeBufferPointer<UInt8>) { self.bytes = bytes }

        mutating func offset(line: Int) -> Int? {
            if starts.isEmpty {
                starts.append(0)
                var i = 0
                let n = bytes.count
                while i < n {
                    let c = bytes[i]
                    if c == 10 { starts.append(i + 1); i += 1 }
                    else if c == 13 { i += (i + 1 < n && bytes[i + 1] == 10) ? 2 : 1; starts.append(i) }
                    else if c == 0xC2, i + 1 < n, bytes[i + 1] == 0x85 { i += 2; starts.append(i) }
                    else if c == 0xE2, i + 2 < n, bytes[i + 1] == 0x80, bytes[i + 2] == 0xA8 || bytes[i + 2] == 0xA9 { i += 3; starts.append(i) }
                    else { i += 1 }
                }
            }
            guard line >= 1, line <= starts.count else { return nil }
            return starts[line - 1]
        }

        /// The single-line plain scalar starting at `mark` (1-based line, column in characters):
        /// up to a line break, a ` #` comment, or a flow indicator, trailing blanks removed.
        mutating func plainText(at mark: Mark) -> String? {
            guard mark.isKnown, var i = offset(line: Int(mark.line)) else { return nil }
            var col = 1
            let n = bytes.count
            while col < Int(mark.column) && i < n {
                let c = bytes[i]
                if c == 10 || c == 13 { return nil }
                i += 1
                while i < n && bytes[i] & 0xC0 == 0x80 { i += 1 }
                col += 1
            }
            let start = i
            var end = i
            while i < n {
                let c = bytes[i]
                if c == 10 || c == 13 || c == UInt8(ascii: ",") || c == UInt8(ascii: "}") || c == UInt8(ascii: "]") { break }
                if c >= 0x80 { return nil }  // numbers, booleans, nulls and timestamps are ASCII
                if c == UInt8(ascii: "#") && i > start && (bytes[i - 1] == 32 || bytes[i - 1] == 9) { break }
                i += 1
                if c != 32 && c != 9 { end = i }
            }
            return String(decoding: UnsafeBufferPointer(rebasing: bytes[start..<end]), as: UTF8.self)
        }
    }
}
