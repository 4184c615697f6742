import PatternCore

/// Reads `application/apply-patch+yaml` bodies as the API server does: YAML 1.1 scalar
/// rules, so unquoted `y`, `yes`, `on`, `off`, `n`, `no` (any case form) are booleans.
/// Quoted scalars stay strings (the source at each value's mark tells plain from quoted).
enum YAML11 {
    static let trueWords: Set<String> = ["y", "Y", "yes", "Yes", "YES", "on", "On", "ON"]
    static let falseWords: Set<String> = ["n", "N", "no", "No", "NO", "off", "Off", "OFF"]

    static func parse(_ body: [UInt8]) throws(APIError) -> Value {
        let text = String(decoding: body, as: UTF8.self)
        let v: Value
        do {
            v = try YAMLParser.parse(text, file: "<body>")
        } catch {
            throw APIError.badRequest("error decoding YAML: \(error.message)")
        }
        let lines = text.split(separator: "\n", omittingEmptySubsequences: false).map { Array($0.unicodeScalars) }
        return convert(v, lines)
    }

    static func isPlain(_ mark: Mark, _ lines: [[Unicode.Scalar]]) -> Bool {
        guard mark.isKnown, Int(mark.line) - 1 < lines.count else { return true }
        let line = lines[Int(mark.line) - 1]
        let col = Int(mark.column) - 1
        guard col >= 0, col < line.count else { return true }
        return line[col] != "'" && line[col] != "\""
    }

    static func convert(_ v: Value, _ lines: [[Unicode.Scalar]]) -> Value {
        switch v.kind {
        case .string(let s):
            if trueWords.contains(s) && isPlain(v.mark, lines) { return Value(.bool(true), mark: v.mark) }
            if falseWords.contains(s) && isPlain(v.mark, lines) { return Value(.bool(false), mark: v.mark) }
            return v
        case .array(let a):
            return Value(.array(a.map { convert($0, lines) }), mark: v.mark)
        case .object(let o):
            var out = Object()
            for (k, x) in o { out.append(k, convert(x, lines)) }
            return Value(.object(out), mark: v.mark)
        default:
            return v
        }
    }
}
