import Foundation
import PatternCore

/// Label selectors (`a=b`, `a!=b`, `a in (x,y)`, `a notin (x)`, `a`, `!a`) and field
/// selectors (`metadata.name`, `metadata.namespace`).
struct LabelSelector: Sendable {
    enum Op: Sendable { case eq, neq, `in`, notIn, exists, notExists }
    struct Requirement: Sendable { var key: String; var op: Op; var values: [String] }
    var requirements: [Requirement] = []

    struct ParseError: Error { var message: String }

    init() {}

    init(parsing text: String) throws(ParseError) {
        var parts: [String] = []
        var depth = 0, cur = ""
        for c in text {
            if c == "(" { depth += 1 } else if c == ")" { depth -= 1 }
            if c == "," && depth == 0 { parts.append(cur); cur = "" } else { cur.append(c) }
        }
        if !cur.trimmingSpaces.isEmpty || !parts.isEmpty { parts.append(cur) }
        for raw in parts {
            let p = raw.trimmingSpaces
            if p.isEmpty { throw ParseError(message: "found '', expected: identifier") }
            if p.hasPrefix("!") {
                requirements.append(Requirement(key: String(p.dropFirst()).trimmingSpaces, op: .notExists, values: []))
                continue
            }
            if let r = p.range(of: " notin ") ?? p.range(of: " notin(") {
                let key = String(p[..<r.lowerBound]).trimmingSpaces
                requirements.append(Requirement(key: key, op: .notIn, values: try LabelSelector.set(String(p[r.upperBound...]), p)))
                continue
            }
            if let r = p.range(of: " in ") ?? p.range(of: " in(") {
                let key = String(p[..<r.lowerBound]).trimmingSpaces
                requirements.append(Requirement(key: key, op: .in, values: try LabelSelector.set(String(p[r.upperBound...]), p)))
                continue
            }
            if let r = p.range(of: "!=") {
                requirements.append(Requirement(key: String(p[..<r.lowerBound]).trimmingSpaces, op: .neq, values: [String(p[r.upperBound...]).trimmingSpaces]))
                continue
            }
            if let r = p.range(of: "==") ?? p.range(of: "=") {
                requirements.append(Requirement(key: String(p[..<r.lowerBound]).trimmingSpaces, op: .eq, values: [String(p[r.upperBound...]).trimmingSpaces]))
                continue
            }
            if p.contains(" ") || p.contains("(") { throw ParseError(message: "unable to parse requirement: found '\(p)', expected: '=', '!=', '==', 'in', notin'") }
            requirements.append(Requirement(key: p, op: .exists, values: []))
        }
    }

    static func set(_ s: String, _ whole: String) throws(ParseError) -> [String] {
        var t = s.trimmingSpaces
        if !t.hasPrefix("(") { t = "(" + t }
        guard t.hasSuffix(")") else { throw ParseError(message: "unable to parse requirement: found '\(whole)', expected: ')'") }
        return t.dropFirst().dropLast().split(separator: ",").map { String($0).trimmingSpaces }
    }

    func matches(_ labels: Object) -> Bool {
        for r in requirements {
            let v = labels[r.key]?.string
            switch r.op {
            case .eq: if v != r.values.first { return false }
            case .neq: if v == r.values.first { return false }
            case .in: guard let v, r.values.contains(v) else { return false }
            case .notIn: if let v, r.values.contains(v) { return false }
            case .exists: if v == nil { return false }
            case .notExists: if v != nil { return false }
            }
        }
        return true
    }
}

struct FieldSelector: Sendable {
    var requirements: [(field: String, equal: Bool, value: String)] = []
    struct ParseError: Error { var message: String }

    init() {}

    init(parsing text: String) throws(ParseError) {
        for raw in text.split(separator: ",") {
            let p = String(raw).trimmingSpaces
            let field: String, value: String, equal: Bool
            if let r = p.range(of: "!=") { field = String(p[..<r.lowerBound]); value = String(p[r.upperBound...]); equal = false }
            else if let r = p.range(of: "==") ?? p.range(of: "=") { field = String(p[..<r.lowerBound]); value = String(p[r.upperBound...]); equal = true }
            else { throw ParseError(message: "invalid selector: '\(text)'; can't understand '\(p)'") }
            requirements.append((field.trimmingSpaces, equal, value.trimmingSpaces))
        }
    }

    func validate(kind: String) throws(ParseError) {
        for r in requirements where !["metadata.name", "metadata.namespace"].contains(r.field) {
            if kind == "Secret" && r.field == "type" { continue }
            if kind == "Event" && r.field.hasPrefix("involvedObject.") { continue }
            if kind == "Pod" && ["spec.nodeName", "status.phase"].contains(r.field) { continue }
            throw ParseError(message: "field label not supported: \(r.field)")
        }
    }

    func matches(_ obj: Value) -> Bool {
        for r in requirements {
            let v: String
            switch r.field {
            case "metadata.name": v = obj.metadataName ?? ""
            case "metadata.namespace": v = obj.metadataNamespace ?? ""
            default: v = obj[path: r.field.split(separator: ".").map(String.init)]?.scalarText ?? ""
            }
            if (v == r.value) != r.equal { return false }
        }
        return true
    }
}
