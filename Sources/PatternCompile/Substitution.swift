import PatternCore

/// Flux-style variable substitution in rendered objects: `${var}`, `${var:=default}` (and
/// `${var:-default}`), `$${var}` for a literal `${var}`.
///
/// A plain scalar that is exactly one `${var}` takes the variable's type (number stays number,
/// map stays map), as Flux's textual substitution followed by YAML parsing would give; a quoted
/// scalar stays a string. An unknown variable without a default is an error at the scalar's
/// file:line:column. Objects annotated `pattern.dev/substitute: disabled` are left alone.
///
/// The text that substitution inserts into one object is bounded by `maxInsertedBytes`
/// (`${blob}` repeated thousands of times with a large value would otherwise grow memory
/// without limit). Messages about a Secret never quote its values.
public struct Substituter: Sendable {
    /// Variables: merged values plus the reserved `pattern`, `site` and `cluster` maps.
    public var variables: Value
    /// Most bytes substitution may insert into one object's strings (default 4 MiB; the
    /// Kubernetes API refuses requests over 3 MiB anyway).
    public var maxInsertedBytes: Int

    public init(variables: Value, maxInsertedBytes: Int = 4 << 20) {
        self.variables = variables
        self.maxInsertedBytes = maxInsertedBytes
    }

    public static let disableAnnotation = "pattern.dev/substitute"

    /// Per-object state: the remaining insertion budget and whether values are secret.
    struct Context {
        var file: String
        var budget: Int
        var secret: Bool
        var exhausted = false
    }

    /// Substitutes throughout `object`, appending problems to `diagnostics`.
    public func apply(to object: inout Value, file: String, diagnostics: inout [Diagnostic]) {
        if object.annotations[Substituter.disableAnnotation]?.string == "disabled" { return }
        let secret = object.kindName == "Secret" && (object.apiVersion == "v1")
        // Almost no object mentions a variable: a read-only scan first, so that the walk (which
        // takes every map and list it enters for writing, copying any the caller still shares)
        // runs only where there is something to substitute.
        guard Substituter.mentionsDollar(object) else { return }
        var ctx = Context(file: file, budget: maxInsertedBytes, secret: secret)
        walk(&object, ctx: &ctx, diagnostics: &diagnostics)
    }

    /// Whether any string or map key in `v` contains `$` (a possible `${…}` reference).
    static func mentionsDollar(_ v: Value) -> Bool {
        switch v.kind {
        case .string(let s): return hasDollar(s)
        case .array(let a):
            for e in a where mentionsDollar(e) { return true }
            return false
        case .object(let o):
            for (k, child) in o where hasDollar(k) || mentionsDollar(child) { return true }
            return false
        default: return false
        }
    }

    /// Whether `s` holds a `$`: one pass over its contiguous bytes (this scan runs over every
    /// string of every rendered object).
    @inline(__always) static func hasDollar(_ s: String) -> Bool {
        if let found = s.utf8.withContiguousStorageIfAvailable({ bytes -> Bool in
            for b in bytes where b == UInt8(ascii: "$") { return true }
            return false
        }) { return found }
        return s.utf8.contains(UInt8(ascii: "$"))
    }

    func walk(_ v: inout Value, ctx: inout Context, diagnostics: inout [Diagnostic]) {
        if ctx.exhausted { return }
        switch v.kind {
        case .string(let s):
            guard s.utf8.contains(UInt8(ascii: "$")) else { return }
            if let r = substitute(s, quoted: v.quoted, mark: v.mark, ctx: &ctx, diagnostics: &diagnostics) {
                let mark = v.mark
                v = r
                v.mark = mark
            }
        case .array:
            v.withArray { a in for i in a.indices { walk(&a[i], ctx: &ctx, diagnostics: &diagnostics) } }
        case .object(let o):
            // Keys may hold variables too (rare, but Flux substitutes the whole text).
            let needsKeyRewrite = o.contains { $0.0.utf8.contains(UInt8(ascii: "$")) }
            if needsKeyRewrite {
                var out = Object()
                for (k, child) in o {
                    var c = child
                    walk(&c, ctx: &ctx, diagnostics: &diagnostics)
                    var key = k
                    if k.utf8.contains(UInt8(ascii: "$")),
                       let r = substitute(k, quoted: true, mark: o.keyMark(k) ?? child.mark, ctx: &ctx, diagnostics: &diagnostics) {
                        key = r.scalarText ?? k
                    }
                    out.set(key, c, keyMark: o.keyMark(k) ?? .none)
                }
                v.kind = .object(out)
            } else {
                v.withObject { obj in
                    obj.updateValues { _, slot in walk(&slot, ctx: &ctx, diagnostics: &diagnostics) }
                }
            }
        default:
            return
        }
    }

    /// Result of substituting in one string; nil when nothing changed.
    func substitute(_ s: String, quoted: Bool, mark: Mark, ctx: inout Context, diagnostics: inout [Diagnostic]) -> Value? {
        let file = ctx.file
        // Inside a Secret, the text around a reference may be secret too: quote only the
        // variable name, never the value.
        let shownValue = ctx.secret ? "a Secret value" : "'\(s)'"
        let u = Array(s.utf8)
        var out: [UInt8] = []
        out.reserveCapacity(u.count)
        var i = 0
        var changed = false
        var wholeValue: Value? = nil
        while i < u.count {
            if u[i] == UInt8(ascii: "$") && i + 2 < u.count && u[i + 1] == UInt8(ascii: "$") && u[i + 2] == UInt8(ascii: "{") {
                // Escape: $${x} → ${x}
                out.append(UInt8(ascii: "$")); i += 2; changed = true
                continue
            }
            guard u[i] == UInt8(ascii: "$"), i + 1 < u.count, u[i + 1] == UInt8(ascii: "{") else {
                out.append(u[i]); i += 1; continue
            }
            guard let close = u[(i + 2)...].firstIndex(of: UInt8(ascii: "}")) else {
                out.append(u[i]); i += 1; continue
            }
            let inner = String(decoding: u[(i + 2)..<close], as: UTF8.self)
            var name = inner
            var def: String? = nil
            let ib = Array(inner.utf8)
            if let j = ib.indices.dropLast().first(where: { ib[$0] == UInt8(ascii: ":") && (ib[$0 + 1] == UInt8(ascii: "=") || ib[$0 + 1] == UInt8(ascii: "-")) }) {
                name = String(decoding: ib[..<j], as: UTF8.self)
                def = String(decoding: ib[(j + 2)...], as: UTF8.self)
            }
            let col = mark.isKnown && !quoted ? Mark(line: Int(mark.line), column: Int(mark.column) + i) : mark
            guard isVariableName(name) else {
                let shown = ctx.secret ? "a '${…}' reference in a Secret value" : "'${\(inner)}'"
                diagnostics.append(.error("invalid variable name\(ctx.secret ? "" : " '\(name)'") in \(shown)", at: SourceLocation(file: file, mark: col),
                                          fix: "variable names use letters, digits, '_', '-' and '.'; write $${...} for a literal ${...}"))
                return nil
            }
            let isWhole = i == 0 && close == u.count - 1
            var value = lookup(name)
            if value == nil || value!.isNull, let def {
                value = isWhole && !quoted ? Value(YAMLScalar.resolvePlain(def)) : .string(def)
            }
            guard let value, !value.isNull else {
                diagnostics.append(.error("unknown variable '\(name)' in \(shownValue)", at: SourceLocation(file: file, mark: col),
                                          fix: "set '\(name)' in the pattern's or site's values, or give a default: ${\(name):=value}"))
                return nil
            }
            changed = true
            if isWhole && !quoted {
                ctx.budget -= Substituter.textBytes(value)
                if ctx.budget < 0 {
                    ctx.exhausted = true
                    diagnostics.append(.error("substitution inserts more than \(maxInsertedBytes) bytes into this object (last: variable '\(name)')",
                                              at: SourceLocation(file: file, mark: col),
                                              fix: "reference large values fewer times, or mark the object 'pattern.dev/substitute: disabled'"))
                    return nil
                }
                wholeValue = value
                i = close + 1
                continue
            }
            guard let text = value.scalarText else {
                diagnostics.append(.error("variable '\(name)' is \(value.typeName) and cannot be inserted into a string",
                                          at: SourceLocation(file: file, mark: col),
                                          fix: "use the variable alone as an unquoted value (key: ${\(name)}) to insert a \(value.typeName)"))
                return nil
            }
            ctx.budget -= text.utf8.count
            if ctx.budget < 0 {
                ctx.exhausted = true
                diagnostics.append(.error("substitution inserts more than \(maxInsertedBytes) bytes into this object (last: variable '\(name)')",
                                          at: SourceLocation(file: file, mark: col),
                                          fix: "reference large values fewer times, or mark the object 'pattern.dev/substitute: disabled'"))
                return nil
            }
            out.append(contentsOf: text.utf8)
            i = close + 1
        }
        if let wholeValue { return wholeValue }
        return changed ? Value(.string(String(decoding: out, as: UTF8.self)), quoted: quoted) : nil
    }

    /// Text bytes a value adds to the output (scalars and keys), for the insertion budget.
    static func textBytes(_ v: Value) -> Int {
        switch v.kind {
        case .string(let s): return s.utf8.count
        case .array(let a): return a.reduce(0) { $0 + textBytes($1) }
        case .object(let o): return o.reduce(0) { $0 + $1.0.utf8.count + textBytes($1.1) }
        default: return 8
        }
    }

    /// Dotted lookup; numeric components index lists (`ports.0`).
    func lookup(_ name: String) -> Value? {
        var cur: Value? = variables
        for part in name.split(separator: ".") {
            guard let c = cur else { return nil }
            if let a = c.array, let i = Int(part) { cur = i >= 0 && i < a.count ? a[i] : nil } else { cur = c[String(part)] }
        }
        return cur
    }

    func isVariableName(_ s: String) -> Bool {
        guard let f = s.unicodeScalars.first, f == "_" || f.properties.isAlphabetic else { return false }
        return s.unicodeScalars.allSatisfy { $0 == "_" || $0 == "-" || $0 == "." || ($0.isASCII && ($0.properties.isAlphabetic || ("0"..."9").contains($0))) }
    }
}
