import PatternCore

/// Strict, diagnostic-collecting reader for the project's own file formats (pattern.yaml,
/// overlay.yaml): unknown fields and wrong types are errors that name file:line:column and
/// suggest the closest known field.
struct FieldReader {
    let file: String
    var diagnostics: [Diagnostic] = []

    init(file: String) { self.file = file }

    func loc(_ v: Value) -> SourceLocation { SourceLocation(file: file, mark: v.mark) }
    func loc(_ m: Mark) -> SourceLocation { SourceLocation(file: file, mark: m) }

    mutating func error(_ message: String, at v: Value, fix: String? = nil) {
        diagnostics.append(.error(message, at: loc(v), fix: fix))
    }

    /// The map at `v`, or an error (and an empty map).
    mutating func object(_ v: Value?, _ what: String) -> Object? {
        guard let v else { return nil }
        if v.isNull { return nil }
        guard let o = v.object else {
            error("\(what) must be a map, found \(v.typeName)", at: v)
            return nil
        }
        return o
    }

    /// Reports keys of `o` outside `known` with a "did you mean" hint.
    mutating func checkKnown(_ o: Object, _ known: [String], in what: String) {
        for (k, v) in o where !known.contains(k) {
            let guess = closest(k, known)
            let m = o.keyMark(k) ?? v.mark
            diagnostics.append(.error("unknown field '\(k)' in \(what)", at: loc(m),
                                      fix: guess.map { "did you mean '\($0)'?" } ?? "known fields: \(known.joined(separator: ", "))"))
        }
    }

    mutating func string(_ o: Object, _ key: String, in what: String, required: Bool = false) -> String? {
        guard let v = o[key], !v.isNull else {
            if required { diagnostics.append(.error("\(what) needs '\(key)'", at: SourceLocation(file: file), fix: "add '\(key):'")) }
            return nil
        }
        guard let s = v.string else {
            error("'\(key)' in \(what) must be a string, found \(v.typeName)", at: v, fix: "quote the value")
            return nil
        }
        return s
    }

    mutating func bool(_ o: Object, _ key: String, in what: String) -> Bool? {
        guard let v = o[key], !v.isNull else { return nil }
        guard let b = v.bool else {
            error("'\(key)' in \(what) must be true or false, found \(v.typeName)", at: v)
            return nil
        }
        return b
    }

    mutating func strings(_ o: Object, _ key: String, in what: String) -> [(String, Mark)] {
        guard let v = o[key], !v.isNull else { return [] }
        guard let a = v.array else {
            error("'\(key)' in \(what) must be a list of strings, found \(v.typeName)", at: v, fix: "write it as a list: [a, b]")
            return []
        }
        var out: [(String, Mark)] = []
        for item in a {
            if let s = item.string { out.append((s, item.mark)) } else {
                error("'\(key)' entries in \(what) must be strings, found \(item.typeName)", at: item)
            }
        }
        return out
    }

    /// Levenshtein-closest candidate within distance 3.
    func closest(_ s: String, _ candidates: [String]) -> String? {
        var best: (String, Int)? = nil
        for c in candidates {
            let d = editDistance(s.lowercased(), c.lowercased())
            if d <= 3, best == nil || d < best!.1 { best = (c, d) }
        }
        return best?.0
    }
}

func editDistance(_ a: String, _ b: String) -> Int {
    let a = Array(a), b = Array(b)
    if a.isEmpty { return b.count }
    if b.isEmpty { return a.count }
    var prev = Array(0...b.count)
    var cur = [Int](repeating: 0, count: b.count + 1)
    for i in 1...a.count {
        cur[0] = i
        for j in 1...b.count {
            cur[j] = min(prev[j] + 1, cur[j - 1] + 1, prev[j - 1] + (a[i - 1] == b[j - 1] ? 0 : 1))
        }
        swap(&prev, &cur)
    }
    return prev[b.count]
}
