import PatternCore

/// An RFC 6902 JSON patch: `add`, `remove`, `replace`, `move`, `copy`, `test` with RFC 6901
/// JSON pointers (`~1` for `/`, `~0` for `~`, `-` for the end of a list in `add`).
///
/// Errors are `Diagnostic`s pointing at the operation that failed.
public struct JSONPatch: Sendable {
    public enum Op: String, Sendable { case add, remove, replace, move, copy, test }

    public struct Operation: Sendable {
        public var op: Op
        public var path: [String]
        public var from: [String]?
        public var value: Value?
        public var mark: Mark
        public var pathText: String
    }

    public var operations: [Operation]
    /// File the patch came from, for error locations.
    public var file: String

    /// Reads a list of operations (parsed from YAML or JSON).
    public init(parsing v: Value, file: String) throws(Diagnostic) {
        self.file = file
        func loc(_ m: Mark) -> SourceLocation { SourceLocation(file: file, mark: m) }
        guard let items = v.array else {
            throw .error("a JSON 6902 patch must be a list of operations, found \(v.typeName)", at: loc(v.mark),
                         fix: "write `- op: replace`, `path: /spec/replicas`, `value: 3` entries")
        }
        var ops: [Operation] = []
        for item in items {
            guard let o = item.object else {
                throw .error("JSON patch operation must be a map, found \(item.typeName)", at: loc(item.mark), fix: "write `- op: …` entries")
            }
            guard let opText = o["op"]?.string, let op = Op(rawValue: opText) else {
                throw .error("JSON patch operation needs `op` (add, remove, replace, move, copy or test)", at: loc(item.mark),
                             fix: "set `op:` to one of add, remove, replace, move, copy, test")
            }
            guard let p = o["path"]?.string else {
                throw .error("JSON patch '\(opText)' operation needs a `path`", at: loc(item.mark), fix: "add `path: /spec/...`")
            }
            let path = try JSONPatch.pointer(p, at: loc(o["path"]!.mark))
            var from: [String]?
            if op == .move || op == .copy {
                guard let f = o["from"]?.string else {
                    throw .error("JSON patch '\(opText)' operation needs `from`", at: loc(item.mark), fix: "add `from: /path`")
                }
                from = try JSONPatch.pointer(f, at: loc(o["from"]!.mark))
            }
            if (op == .add || op == .replace || op == .test) && !o.contains("value") {
                throw .error("JSON patch '\(opText)' operation needs a `value`", at: loc(item.mark), fix: "add `value: …`")
            }
            ops.append(Operation(op: op, path: path, from: from, value: o["value"], mark: item.mark, pathText: p))
        }
        operations = ops
    }

    static func pointer(_ s: String, at loc: SourceLocation) throws(Diagnostic) -> [String] {
        if s.isEmpty { return [] }
        guard s.hasPrefix("/") else {
            throw .error("JSON pointer '\(s)' must start with '/'", at: loc, fix: "write the path as /spec/template/...")
        }
        return s.dropFirst().split(separator: "/", omittingEmptySubsequences: false).map { part in
            var t = ""
            var it = part.makeIterator()
            while let c = it.next() {
                if c == "~" {
                    switch it.next() {
                    case "1": t.append("/")
                    case "0": t.append("~")
                    case let x?: t.append("~"); t.append(x)
                    case nil: t.append("~")
                    }
                } else { t.append(c) }
            }
            return t
        }
    }

    /// Applies all operations in order.
    public func apply(to doc: Value) throws(Diagnostic) -> Value {
        var d = doc
        for op in operations {
            do throws(PatchFailure) {
                try apply(op, &d)
            } catch {
                throw .error("JSON patch \(op.op.rawValue) at '\(op.pathText)' failed: \(error.message)",
                             at: SourceLocation(file: file, mark: op.mark),
                             fix: "check that the path exists in the target object (list indexes start at 0)")
            }
        }
        return d
    }

    struct PatchFailure: Error { var message: String }

    private func apply(_ op: Operation, _ d: inout Value) throws(PatchFailure) {
        switch op.op {
        case .add: try JSONPatch.add(&d, op.path[...], op.value!)
        case .remove: _ = try JSONPatch.remove(&d, op.path[...])
        case .replace:
            _ = try JSONPatch.get(d, op.path[...])
            try JSONPatch.replace(&d, op.path[...], op.value!)
        case .move:
            let v = try JSONPatch.remove(&d, op.from![...])
            try JSONPatch.add(&d, op.path[...], v)
        case .copy:
            let v = try JSONPatch.get(d, op.from![...])
            try JSONPatch.add(&d, op.path[...], v)
        case .test:
            let v = try JSONPatch.get(d, op.path[...])
            if v != op.value! { throw PatchFailure(message: "value is \(v), expected \(op.value!)") }
        }
    }

    static func index(_ t: String, count: Int, allowEnd: Bool) throws(PatchFailure) -> Int {
        if allowEnd && t == "-" { return count }
        guard let i = Int(t), i >= 0, i < count + (allowEnd ? 1 : 0), !(t.count > 1 && t.hasPrefix("0")) else {
            throw PatchFailure(message: "index '\(t)' is out of range (list has \(count) items)")
        }
        return i
    }

    static func get(_ d: Value, _ path: ArraySlice<String>) throws(PatchFailure) -> Value {
        guard let t = path.first else { return d }
        switch d.kind {
        case .object(let o):
            guard let c = o[t] else { throw PatchFailure(message: "no field '\(t)'") }
            return try get(c, path.dropFirst())
        case .array(let a):
            return try get(a[try index(t, count: a.count, allowEnd: false)], path.dropFirst())
        default:
            throw PatchFailure(message: "cannot descend into \(d.typeName) at '\(t)'")
        }
    }

    static func add(_ d: inout Value, _ path: ArraySlice<String>, _ v: Value) throws(PatchFailure) {
        guard let t = path.first else { d = v; return }
        let last = path.count == 1
        switch d.kind {
        case .object:
            var failure: PatchFailure?
            d.withObject { o in
                if last { o.set(t, v); return }
                o.modify(t) { c in
                    guard c != nil else { failure = PatchFailure(message: "no field '\(t)'"); return }
                    do throws(PatchFailure) { try add(&c!, path.dropFirst(), v) } catch { failure = error }
                }
            }
            if let failure { throw failure }
        case .array(let a):
            let i = try index(t, count: a.count, allowEnd: last)
            var failure: PatchFailure?
            d.withArray { arr in
                if last { arr.insert(v, at: i); return }
                do throws(PatchFailure) { try add(&arr[i], path.dropFirst(), v) } catch { failure = error }
            }
            if let failure { throw failure }
        default:
            throw PatchFailure(message: "cannot add into \(d.typeName) at '\(t)'")
        }
    }

    /// Replaces the value at `path` (which must exist): a list element is replaced in place,
    /// at any depth (RFC 6902 §4.3), never inserted.
    static func replace(_ d: inout Value, _ path: ArraySlice<String>, _ v: Value) throws(PatchFailure) {
        guard let t = path.first else { d = v; return }
        var failure: PatchFailure?
        switch d.kind {
        case .object(let o):
            guard o[t] != nil else { throw PatchFailure(message: "no field '\(t)'") }
            d.withObject { o in
                o.modify(t) { c in
                    do throws(PatchFailure) { try replace(&c!, path.dropFirst(), v) } catch { failure = error }
                }
            }
        case .array(let a):
            let i = try index(t, count: a.count, allowEnd: false)
            d.withArray { arr in
                do throws(PatchFailure) { try replace(&arr[i], path.dropFirst(), v) } catch { failure = error }
            }
        default:
            throw PatchFailure(message: "cannot replace in \(d.typeName) at '\(t)'")
        }
        if let failure { throw failure }
    }

    static func remove(_ d: inout Value, _ path: ArraySlice<String>) throws(PatchFailure) -> Value {
        guard let t = path.first else { throw PatchFailure(message: "cannot remove the whole document") }
        let last = path.count == 1
        var failure: PatchFailure?
        var removed: Value = .null
        switch d.kind {
        case .object(let o):
            guard o[t] != nil else { throw PatchFailure(message: "no field '\(t)'") }
            d.withObject { o in
                if last { removed = o.removeValue(forKey: t)!; return }
                o.modify(t) { c in
                    do throws(PatchFailure) { removed = try remove(&c!, path.dropFirst()) } catch { failure = error }
                }
            }
        case .array(let a):
            let i = try index(t, count: a.count, allowEnd: false)
            d.withArray { arr in
                if last { removed = arr.remove(at: i); return }
                do throws(PatchFailure) { removed = try remove(&arr[i], path.dropFirst()) } catch { failure = error }
            }
        default:
            throw PatchFailure(message: "cannot remove from \(d.typeName) at '\(t)'")
        }
        if let failure { throw failure }
        return removed
    }
}
