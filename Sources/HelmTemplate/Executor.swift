#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// Executes templates of a `TemplateSet` with a `FunctionMap`: Go's `text/template` exec.go.
public struct TemplateRenderer: Sendable {
    public var templates: TemplateSet
    public var functions: FunctionMap {
        didSet { functionIndex = functions.isHelmDefault ? FunctionIndex.helm : FunctionIndex(functions) }
    }
    public var options: RenderOptions
    /// `functions` indexed for calls by name (rebuilt when `functions` changes).
    private var functionIndex: FunctionIndex

    public init(templates: TemplateSet, functions: FunctionMap = .helm, options: RenderOptions = .helm) {
        self.templates = templates
        self.functions = functions
        self.options = options
        self.functionIndex = functions.isHelmDefault ? FunctionIndex.helm : FunctionIndex(functions)
    }

    /// Executes the template `name` with `data` as `.` and `$`.
    public func execute(_ name: String, data: TemplateValue) throws(TemplateError) -> String {
        try render(name, data: data).output
    }

    /// Executes the template `name` and reports the nondeterministic functions it used.
    public func render(_ name: String, data: TemplateValue) throws(TemplateError) -> RenderResult {
        let shared = SharedState(trees: templates.trees, functions: functions, functionIndex: functionIndex, options: options)
        do {
            var out = try shared.executeTop(name, data: data)
            if options.removeNoValue, mayContainNoValue(&out) {
                out = removeAll(out, "<no value>")
            }
            return RenderResult(output: out, nondeterministicFunctions: shared.nondeterministicUsed.sorted())
        } catch let f as ExecFailure {
            throw f.error
        } catch {
            throw TemplateError(kind: .execution, message: "template: \(name): \(error)", location: nil, reason: "\(error)")
        }
    }
}

/// Whether `s` has a `<` at all (fast scan before the `<no value>` removal).
func mayContainNoValue(_ s: inout String) -> Bool {
    s.withUTF8 { u in
        guard let base = u.baseAddress, u.count > 0 else { return false }
        return memchr(base, Int32(UInt8(ascii: "<")), u.count) != nil
    }
}

/// `strings.ReplaceAll(s, pattern, "")` without Foundation.
func removeAll(_ s: String, _ pattern: String) -> String {
    let p = Array(pattern.utf8)
    let u = Array(s.utf8)
    guard u.count >= p.count else { return s }
    var out: [UInt8] = []
    out.reserveCapacity(u.count)
    var i = 0
    var changed = false
    while i < u.count {
        if u[i] == p[0] && i + p.count <= u.count {
            var ok = true
            for k in 1..<p.count where u[i + k] != p[k] { ok = false; break }
            if ok { i += p.count; changed = true; continue }
        }
        out.append(u[i])
        i += 1
    }
    return changed ? String(decoding: out, as: UTF8.self) : s
}

struct ExecFailure: Error { var error: TemplateError }
struct BreakSignal: Error {}
struct ContinueSignal: Error {}

/// State shared by one render and all its nested `include`/`tpl`/`template` executions.
final class SharedState {
    let trees: [String: Tree]
    let functions: FunctionMap
    let functionIndex: FunctionIndex
    let options: RenderOptions
    /// Names of the `include`s under way, innermost last (Helm's per-name nesting limit is
    /// checked against it only once nesting is deeper than that limit, so no hashing per include).
    @exclusivity(unchecked) var includeStack: [String] = []
    /// Function names for parse-time checks of `tpl` texts (built on the first `tpl`).
    lazy var functionNames: Set<String> = functions.nameSet
    /// Nested executions must stay above this stack address (see `StackGuard`); looked up only
    /// once nesting gets deep (glibc reads /proc for the main thread's stack bounds).
    lazy var stackLowWater = StackGuard.lowWaterMark()

    /// Throws a limit error when one more nested execution could overflow the thread's stack.
    func checkStack() throws {
        if depth >= 16, StackGuard.currentAddress() < stackLowWater {
            throw TemplateFunctionError(
                "template nesting too deep for the thread's stack (\(depth) nested template executions)",
                fix: "fix: a template includes itself without end; add a stop condition", kind: .limit)
        }
    }
    var nondeterministicUsed: Set<String> = []
    // One render runs on one thread and never overlaps these accesses: no dynamic exclusivity checks.
    @exclusivity(unchecked) var depth = 0

    init(trees: [String: Tree], functions: FunctionMap, functionIndex: FunctionIndex, options: RenderOptions) {
        self.trees = trees
        self.functions = functions
        self.functionIndex = functionIndex
        self.options = options
    }

    func executeTop(_ name: String, data: TemplateValue) throws -> String {
        guard let tree = trees[name] else {
            let msg = "template: no template \(GoFormat.quote(name)) associated with template \(GoFormat.quote(options.rootName))"
            throw ExecFailure(error: TemplateError(kind: .execution, message: msg, location: nil, reason: msg,
                                                  fix: "fix: check the template name; defined templates are listed by `pattern render --explain`"))
        }
        let s = ExecState(shared: self, tree: tree, overlay: nil, data: data)
        s.out.reserveCapacity(4096)
        try s.walk(tree.root)
        return s.out
    }
}

/// A value during evaluation plus whether a nil is a typed `interface{}` nil (Go distinguishes
/// it from the invalid value: a field of the former is an error, of the latter empty).
typealias EV = (v: TemplateValue, iface: Bool)

enum At {
    case none
    case arg(ArgNode)
    case pipe(PipeNode)
    case cmd(CommandNode)
    case text(pos: Int, String)

    var pos: Int? {
        switch self {
        case .none: return nil
        case .arg(let a): return a.pos
        case .pipe(let p): return p.pos
        case .cmd(let c): return c.pos
        case .text(let p, _): return p
        }
    }

    var goString: String {
        switch self {
        case .none: return ""
        case .arg(let a): return a.goString
        case .pipe(let p): return p.goString
        case .cmd(let c): return c.goString
        case .text(_, let s): return s
        }
    }
}

/// Templates defined by `tpl` texts, looked up before the set (shared, not copied, per execution).
final class Overlay {
    let trees: [String: Tree]
    init(_ trees: [String: Tree]) { self.trees = trees }
}

final class ExecState {
    let shared: SharedState
    let tree: Tree
    let overlay: Overlay?
    // An ExecState belongs to one execution on one thread, and no access to these overlaps
    // another (they are hot: every command sets `at`): no dynamic exclusivity checks.
    @exclusivity(unchecked) var out = ""
    @exclusivity(unchecked) var vars: [(name: String, value: EV)]
    @exclusivity(unchecked) var at: At = .none

    init(shared: SharedState, tree: Tree, overlay: Overlay?, data: TemplateValue, dataIface: Bool = false) {
        self.shared = shared
        self.tree = tree
        self.overlay = overlay
        self.vars = [("$", (data, dataIface))]
    }

    func lookup(_ name: String) -> Tree? {
        if let overlay, let t = overlay.trees[name] { return t }
        return shared.trees[name]
    }

    // MARK: errors

    func fail(_ msg: String, kind: TemplateError.Kind = .execution, fix: String? = nil) -> ExecFailure {
        let name = tree.name
        guard let pos = at.pos else {
            let message = "template: \(name): \(msg)"
            return ExecFailure(error: TemplateError(kind: kind, message: message, location: nil, reason: msg, fix: fix ?? ExecState.fixHint(msg)))
        }
        let point = tree.point(pos)
        let message = "template: \(point): executing \(GoFormat.quote(name)) at <\(at.goString)>: \(msg)"
        return ExecFailure(error: TemplateError(kind: kind, message: message, location: point, reason: msg, fix: fix ?? ExecState.fixHint(msg)))
    }

    static func fixHint(_ msg: String) -> String {
        if msg.hasPrefix("nil pointer evaluating") {
            return "fix: a parent value is missing; guard it with `{{ if }}`/`{{ with }}`, use `dig`, or set it in the values"
        }
        if msg.hasPrefix("map has no entry for key") { return "fix: set the value, or render without --strict" }
        if msg.hasPrefix("wrong type for value") || msg.hasPrefix("expected ") {
            return "fix: convert the argument (toString, int, float64) to the type the function takes"
        }
        if msg.hasPrefix("incompatible types for comparison") {
            return "fix: compare values of one type (numbers from values files are float64: use `int` or a float literal)"
        }
        if msg.hasPrefix("wrong number of args") { return "fix: pass the number of arguments the function takes" }
        return "fix: correct the template or the values it reads"
    }

    /// Wraps an error thrown by a function body as Go does.
    func wrapCall(_ name: String, _ error: Error) -> ExecFailure {
        switch error {
        case let f as ExecFailure:
            var inner = f.error
            let outer = fail("error calling \(name): \(inner.message)", kind: inner.kind, fix: inner.fix)
            var e = outer.error
            if let here = e.location { inner.callers.insert(here, at: 0) }
            e.location = inner.location ?? e.location
            e.callers = inner.callers
            e.reason = inner.reason
            e.kind = inner.kind
            return ExecFailure(error: e)
        case let f as TemplateFunctionError:
            var e = fail("error calling \(name): \(f.message)", kind: f.kind, fix: f.fix).error
            e.reason = f.message
            return ExecFailure(error: e)
        case let te as TemplateError:
            var e = fail("error calling \(name): \(te.message)", kind: te.kind, fix: te.fix).error
            if let here = e.location { e.callers = [here] + te.callers }
            e.location = te.location ?? e.location
            e.reason = te.reason
            return ExecFailure(error: e)
        default:
            return fail("error calling \(name): \(error)")
        }
    }

    // MARK: output

    @inline(__always) func write(_ s: String) throws {
        out += s
        if out.utf8.count > shared.options.maxOutputBytes {
            throw fail("output exceeds \(shared.options.maxOutputBytes) bytes", kind: .limit,
                       fix: "fix: the template produces unbounded output (a runaway range or recursion?)")
        }
    }

    // MARK: walk

    @exclusivity(unchecked) var dot: EV = (.null, false)

    func walk(_ nodes: [Node]) throws {
        dot = vars[0].value
        try walkList(nodes, dot: dot)
    }

    func walkList(_ nodes: [Node], dot: EV) throws {
        for n in nodes { try walkNode(n, dot: dot) }
    }

    func walkNode(_ node: Node, dot: EV) throws {
        switch node {
        case .text(let t):
            try write(t)
        case .action(_, _, let pipe):
            at = .pipe(pipe)
            let val = try evalPipeline(dot, pipe)
            if pipe.decl.isEmpty { try printValue(val, pipe) }
        case .ifNode(let c):
            try walkIfOrWith(isWith: false, dot, c)
        case .withNode(let c):
            try walkIfOrWith(isWith: true, dot, c)
        case .rangeNode(let c):
            try walkRange(dot, c)
        case .template(let pos, _, let name, let pipe):
            try walkTemplate(dot, pos: pos, name: name, pipe: pipe)
        case .breakNode:
            throw BreakSignal()
        case .continueNode:
            throw ContinueSignal()
        }
    }

    func printValue(_ v: EV, _ pipe: PipeNode) throws {
        switch v.v {
        case .null: try write("<no value>")
        case .string(let s): try write(s)
        default: try write(GoFormat.v(v.v))
        }
    }

    func walkIfOrWith(isWith: Bool, _ dot: EV, _ c: ControlNode) throws {
        let mark = vars.count
        defer { vars.removeLast(vars.count - mark) }
        let val = try evalPipeline(dot, c.pipe)
        if val.v.isTrue {
            try walkList(c.list, dot: isWith ? val : dot)
        } else if let e = c.elseList {
            try walkList(e, dot: dot)
        }
    }

    func walkRange(_ dot: EV, _ r: ControlNode) throws {
        let mark0 = vars.count
        defer { vars.removeLast(vars.count - mark0) }
        let val = try evalPipeline(dot, r.pipe)
        let mark = vars.count
        let pipe = r.pipe
        func oneIteration(_ index: EV, _ elem: EV) throws -> Bool {
            if !pipe.decl.isEmpty {
                if pipe.isAssign {
                    if pipe.decl.count > 1 { try setVar(pipe.decl[0], index) } else { try setVar(pipe.decl[0], elem) }
                } else {
                    vars[vars.count - 1].value = elem
                }
            }
            if pipe.decl.count > 1 {
                if pipe.isAssign { try setVar(pipe.decl[1], elem) } else { vars[vars.count - 2].value = index }
            }
            defer { vars.removeLast(vars.count - mark) }
            do {
                try walkList(r.list, dot: elem)
            } catch is ContinueSignal {
            } catch is BreakSignal {
                return false
            }
            return true
        }
        switch val.v {
        case .list(let l):
            if !l.isEmpty {
                for (i, e) in l.enumerated() where try !oneIteration((.int(i), false), (e, true)) { break }
                return
            }
        case .map(let m):
            if !m.isEmpty {
                for (k, v) in m.sortedEntries where try !oneIteration((.string(k), false), (v, true)) { break }
                return
            }
        case .int, .int64:
            let count: Int64
            let isInt64: Bool
            if case .int64(let x) = val.v { count = x; isInt64 = true } else if case .int(let x) = val.v { count = Int64(x); isInt64 = false } else { count = 0; isInt64 = false }
            if pipe.decl.count > 1 {
                at = .pipe(pipe)
                throw fail("can't use \(GoFormat.v(val.v)) to iterate over more than one variable")
            }
            if count > Int64(shared.options.maxRangeIterations) {
                at = .pipe(pipe)
                throw fail("range over \(count) exceeds the limit of \(shared.options.maxRangeIterations) iterations", kind: .limit,
                           fix: "fix: range over a smaller number")
            }
            if count > 0 {
                var i: Int64 = 0
                while i < count {
                    let e: TemplateValue = isInt64 ? .int64(i) : .int(Int(i))
                    if try !oneIteration((.null, false), (e, false)) { break }
                    i += 1
                }
                return
            }
        case .object(let o) where o.rangeEntries != nil:
            let entries = o.rangeEntries ?? []
            if !entries.isEmpty {
                for (k, v) in entries where try !oneIteration((.string(k), false), (v, true)) { break }
                return
            }
        case .null:
            break
        default:
            at = .text(pos: r.pos, "{{range \(r.pipe.goString)}}")
            throw fail("range can't iterate over \(GoFormat.v(val.v))")
        }
        if let e = r.elseList { try walkList(e, dot: dot) }
    }

    func walkTemplate(_ dot: EV, pos: Int, name: String, pipe: PipeNode?) throws {
        let here: At = .text(pos: pos, pipe.map { "{{template \(GoFormat.quote(name)) \($0.goString)}}" } ?? "{{template \(GoFormat.quote(name))}}")
        at = here
        guard let t = lookup(name) else { throw fail("template \(GoFormat.quote(name)) not defined") }
        if shared.depth >= shared.options.maxNestingDepth {
            throw fail("exceeded maximum template depth (\(shared.options.maxNestingDepth))", kind: .limit,
                       fix: "fix: a template calls itself without end; add a stop condition")
        }
        do { try shared.checkStack() } catch let e as TemplateFunctionError { throw fail(e.message, kind: .limit, fix: e.fix) }
        var newDot: EV = (.null, false)
        if let pipe { newDot = try evalPipeline(dot, pipe) }
        let sub = ExecState(shared: shared, tree: t, overlay: overlay, data: newDot.v, dataIface: newDot.iface)
        shared.depth += 1
        defer { shared.depth -= 1 }
        do {
            try sub.walk(t.root)
        } catch let f as ExecFailure {
            var e = f.error
            at = here
            if let p = at.pos { e.callers.insert(tree.point(p), at: 0) }
            throw ExecFailure(error: e)
        }
        try write(sub.out)
    }

    // MARK: variables

    func setVar(_ name: String, _ v: EV) throws {
        var i = vars.count - 1
        while i >= 0 {
            if vars[i].name == name { vars[i].value = v; return }
            i -= 1
        }
        throw fail("undefined variable: \(name)")
    }

    func varValue(_ name: String) throws -> EV {
        var i = vars.count - 1
        while i >= 0 {
            if vars[i].name == name { return vars[i].value }
            i -= 1
        }
        throw fail("undefined variable: \(name)")
    }

    // MARK: pipelines and commands

    func evalPipeline(_ dot: EV, _ pipe: PipeNode) throws -> EV {
        at = .pipe(pipe)
        var value: EV? = nil
        for cmd in pipe.cmds {
            var v = try evalCommand(dot, cmd, final: value)
            // An interface{} result is dug into: a nil becomes the invalid value.
            if v.v.isNull { v.iface = false }
            value = v
        }
        let result = value ?? (.null, false)
        for d in pipe.decl {
            if pipe.isAssign { try setVar(d, result) } else { vars.append((d, result)) }
        }
        return result
    }

    func notAFunction(_ args: [ArgNode], _ final: EV?) throws {
        if args.count > 1 || final != nil {
            throw fail("can't give argument to non-function \(args[0].goString)")
        }
    }

    func evalCommand(_ dot: EV, _ cmd: CommandNode, final: EV?) throws -> EV {
        let first = cmd.args[0]
        switch first {
        case .field(_, let idents):
            at = .arg(first)
            return try evalFieldChain(dot, receiver: dot, node: first, idents: idents[...], args: cmd.args, final: final)
        case .chain(_, let node, let fields):
            at = .arg(first)
            if case .nil = node { throw fail("indirection through explicit nil in \(first.goString)") }
            let recv = try evalArg(dot, .any, node)
            return try evalFieldChain(dot, receiver: recv, node: first, idents: fields[...], args: cmd.args, final: final)
        case .identifier(_, let name):
            return try evalFunction(dot, name: name, node: first, cmd: .cmd(cmd), args: cmd.args, final: final)
        case .pipe(let p):
            try notAFunction(cmd.args, final)
            return try evalPipeline(dot, p)
        case .variable(_, let idents):
            return try evalVariableNode(dot, first, idents, args: cmd.args, final: final)
        default: break
        }
        at = .arg(first)
        try notAFunction(cmd.args, final)
        switch first {
        case .bool(_, let b): return (.bool(b), false)
        case .dot: return dot
        case .nil: throw fail("nil is not a command")
        case .number(_, let n): return (try idealConstant(n), false)
        case .string(_, _, let t): return (.string(t), false)
        default: throw fail("can't evaluate command \(GoFormat.quote(first.goString))")
        }
    }

    func idealConstant(_ n: NumberLit) throws -> TemplateValue {
        let t = n.text
        let isHexInt = t.count > 2 && t.hasPrefix("0") && (t.dropFirst().first == "x" || t.dropFirst().first == "X") && !t.contains(where: { $0 == "p" || $0 == "P" })
        if n.isFloat && !isHexInt && !t.hasPrefix("'") && t.contains(where: { ".eEpP".contains($0) }) {
            return .float64(n.float64)
        }
        if n.isInt { return .int(Int(n.int64)) }
        if n.isUint { throw fail("\(t) overflows int") }
        return .null
    }

    func evalVariableNode(_ dot: EV, _ node: ArgNode, _ idents: [String], args: [ArgNode], final: EV?) throws -> EV {
        at = .arg(node)
        let value = try varValue(idents[0])
        if idents.count == 1 {
            try notAFunction(args, final)
            return value
        }
        return try evalFieldChain(dot, receiver: value, node: node, idents: idents[1...], args: args, final: final)
    }

    func evalFieldChain(_ dot: EV, receiver: EV, node: ArgNode, idents: ArraySlice<String>, args: [ArgNode], final: EV?) throws -> EV {
        var r = receiver
        let last = idents.endIndex - 1
        var i = idents.startIndex
        while i < last {
            r = try evalField(dot, idents[i], node: node, args: [], final: nil, receiver: r)
            i += 1
        }
        return try evalField(dot, idents[last], node: node, args: args, final: final, receiver: r)
    }

    func evalField(_ dot: EV, _ name: String, node: ArgNode, args: [ArgNode], final: EV?, receiver: EV) throws -> EV {
        let hasArgs = args.count > 1 || final != nil
        switch receiver.v {
        case .null:
            if !receiver.iface {
                if shared.options.missingKey == .error { throw fail("nil data; no entry for key \(GoFormat.quote(name))") }
                return (.null, false)
            }
            throw fail("nil pointer evaluating interface {}.\(name)")
        case .map(let m):
            if hasArgs { throw fail("\(name) is not a method but has arguments") }
            if let v = m[name] { return (v, true) }
            switch shared.options.missingKey {
            case .invalid: return (.null, false)
            case .zero: return (.null, true)
            case .error: throw fail("map has no entry for key \(GoFormat.quote(name))")
            }
        case .object(let o):
            if let method = o.method(name) {
                return try evalCall(dot, params: method.params, variadic: method.variadic, name: name, node: .arg(node),
                                    args: args, final: final, special: .none) { argv in try method.body(argv) }
            }
            if let f = o.field(name) {
                if hasArgs { throw fail("\(name) has arguments but cannot be invoked as function") }
                return (f, true)
            }
            throw fail("can't evaluate field \(name) in type \(o.goTypeName)")
        default:
            throw fail("can't evaluate field \(name) in type \(receiver.v.goTypeName)")
        }
    }

    func evalFunction(_ dot: EV, name: String, node: ArgNode, cmd: At, args: [ArgNode], final: EV?) throws -> EV {
        at = .arg(node)
        guard let entry = shared.functionIndex.lookup(name) else {
            throw fail("\(GoFormat.quote(name)) is not a defined function")
        }
        if entry.function.isNondeterministic {
            shared.nondeterministicUsed.insert(name)
            if !shared.options.allowNondeterministic {
                at = cmd
                throw fail("error calling \(name): \(name) is nondeterministic (reads the clock or randomness), so the output would change on every render",
                           kind: .nondeterministic,
                           fix: "fix: set the value explicitly in the values, or render with --allow-nondeterministic")
            }
        }
        return try evalCall(dot, params: entry.function.params, variadic: entry.function.variadic, name: name, node: cmd,
                            args: args, final: final, special: entry.function.special) { argv in
            try entry.function.body(FunctionCall(name: name, args: argv, state: self))
        }
    }

    func evalCall(_ dot: EV, params: [TemplateParam], variadic: TemplateParam?, name: String, node: At, args allArgs: [ArgNode],
                  final: EV?, special: TemplateFunction.Special, call: ([TemplateValue]) throws -> TemplateValue) throws -> EV {
        let args = allArgs.isEmpty ? allArgs[...] : allArgs.dropFirst()
        var numIn = args.count
        if final != nil { numIn += 1 }
        let numFixed = variadic != nil ? params.count : args.count
        if variadic != nil {
            if numIn < params.count {
                throw fail("wrong number of args for \(name): want at least \(params.count) got \(args.count)")
            }
        } else if numIn != params.count {
            throw fail("wrong number of args for \(name): want \(params.count) got \(numIn)")
        }
        if special == .and || special == .or {
            var v: EV = (.null, false)
            for a in args {
                v = try evalArg(dot, .any, a)
                if v.v.isTrue == (special == .or) { return v }
            }
            if let final { v = final }
            return v
        }
        var argv: [TemplateValue] = []
        argv.reserveCapacity(numIn)
        var i = args.startIndex
        var k = 0
        while k < numFixed && i < args.endIndex {
            argv.append(try evalArg(dot, params[k], args[i]).v)
            i += 1
            k += 1
        }
        if let variadic {
            while i < args.endIndex {
                argv.append(try evalArg(dot, variadic, args[i]).v)
                i += 1
            }
        }
        if let final {
            let t: TemplateParam
            if let variadic {
                t = numIn - 1 < numFixed ? params[numIn - 1] : variadic
            } else {
                t = params[params.count - 1]
            }
            argv.append(try validateType(final, t))
        }
        let v: TemplateValue
        do {
            v = try call(argv)
        } catch {
            at = node
            throw wrapCall(name, error)
        }
        // Bound what variables can accumulate (`$s = printf "%s%s" $s $s` doubles each time).
        switch v {
        case .string(let str) where str.utf8.count > shared.options.maxOutputBytes:
            at = node
            throw fail("error calling \(name): result exceeds \(shared.options.maxOutputBytes) bytes", kind: .limit,
                       fix: "fix: the template builds an unbounded string (a loop doubling a variable?)")
        case .list(let l) where l.count > shared.options.maxRangeIterations:
            at = node
            throw fail("error calling \(name): result exceeds \(shared.options.maxRangeIterations) elements", kind: .limit,
                       fix: "fix: the template builds an unbounded list (a loop doubling a variable?)")
        default:
            return (v, true)
        }
    }

    func validateType(_ value: EV, _ t: TemplateParam) throws -> TemplateValue {
        let v = value.v
        if case .null = v {
            if t == .any { return .null }
            if !value.iface {
                if t.canBeNil { return .null }
                throw fail("invalid value; expected \(t.goName)")
            }
            throw fail("wrong type for value; expected \(t.goName); got interface {}")
        }
        switch (t, v) {
        case (.any, _), (.string, .string), (.int, .int), (.int64, .int64), (.float64, .float64), (.bool, .bool),
             (.map, .map), (.list, .list):
            return v
        default:
            throw fail("wrong type for value; expected \(t.goName); got \(v.goTypeName)")
        }
    }

    func evalArg(_ dot: EV, _ t: TemplateParam, _ n: ArgNode) throws -> EV {
        at = .arg(n)
        switch n {
        case .dot:
            return (try validateType(dot, t), dot.iface)
        case .nil:
            if t.canBeNil { return (.null, false) }
            throw fail("cannot assign nil to \(t.goName)")
        case .field(_, let idents):
            let v = try evalFieldChain(dot, receiver: dot, node: n, idents: idents[...], args: [n], final: nil)
            return (try validateType(v, t), v.iface)
        case .variable(_, let idents):
            let v = try evalVariableNode(dot, n, idents, args: [], final: nil)
            return (try validateType(v, t), v.iface)
        case .pipe(let p):
            let v = try evalPipeline(dot, p)
            return (try validateType(v, t), v.iface)
        case .identifier(_, let name):
            var v = try evalFunction(dot, name: name, node: n, cmd: .arg(n), args: [], final: nil)
            if v.v.isNull { v.iface = true }
            return (try validateType(v, t), v.iface)
        case .chain(_, let node, let fields):
            at = .arg(n)
            if case .nil = node { throw fail("indirection through explicit nil in \(n.goString)") }
            let recv = try evalArg(dot, .any, node)
            let v = try evalFieldChain(dot, receiver: recv, node: n, idents: fields[...], args: [], final: nil)
            return (try validateType(v, t), v.iface)
        default: break
        }
        switch t {
        case .bool:
            if case .bool(_, let b) = n { return (.bool(b), false) }
            throw fail("expected bool; found \(n.goString)")
        case .float64:
            if case .number(_, let num) = n, num.isFloat { return (.float64(num.float64), false) }
            throw fail("expected float; found \(n.goString)")
        case .int, .int64:
            if case .number(_, let num) = n, num.isInt { return (t == .int ? .int(Int(num.int64)) : .int64(num.int64), false) }
            throw fail("expected integer; found \(n.goString)")
        case .string:
            if case .string(_, _, let s) = n { return (.string(s), false) }
            throw fail("expected string; found \(n.goString)")
        case .any:
            switch n {
            case .bool(_, let b): return (.bool(b), false)
            case .number(_, let num): return (try idealConstant(num), false)
            case .string(_, _, let s): return (.string(s), false)
            default: break
            }
        case .map, .list:
            break
        }
        throw fail("can't handle \(n.goString) for arg of type \(t.goName)")
    }

    // MARK: include / tpl

    func executeNamed(_ name: String, data: TemplateValue) throws -> String {
        guard let t = lookup(name) else {
            throw TemplateFunctionError(
                "template: no template \(GoFormat.quote(name)) associated with template \(GoFormat.quote(shared.options.rootName))",
                fix: "fix: define the template with {{ define \(GoFormat.quote(name)) }} in a file of the chart (or its subcharts), or fix the name")
        }
        if shared.depth >= shared.options.maxNestingDepth {
            throw TemplateFunctionError("exceeded maximum template depth (\(shared.options.maxNestingDepth))", fix: "fix: a template includes itself without end; add a stop condition", kind: .limit)
        }
        try shared.checkStack()
        let sub = ExecState(shared: shared, tree: t, overlay: overlay, data: data)
        shared.depth += 1
        defer { shared.depth -= 1 }
        try sub.walk(t.root)
        return sub.out
    }

    func include(_ name: String, data: TemplateValue) throws -> String {
        // `name` is under way at most `includeStack.count` times: count only when that could pass the limit.
        if shared.includeStack.count > shared.options.maxIncludeDepth {
            var n = 0
            for active in shared.includeStack where active == name { n += 1 }
            if n > shared.options.maxIncludeDepth {
                throw TemplateFunctionError("rendering template has a nested reference name: \(name): unable to execute template",
                                            fix: "fix: the template includes itself without end; add a stop condition", kind: .limit)
            }
        }
        shared.includeStack.append(name)
        defer { shared.includeStack.removeLast() }
        return try executeNamed(name, data: data)
    }

    func tpl(_ text: String, data: TemplateValue) throws -> String {
        let root = shared.options.rootName
        let names = shared.functionNames
        let parsed: [Tree]
        do {
            parsed = try Parser.parse(name: root, text: text, hasFunction: { names.contains($0) })
        } catch {
            throw TemplateError(kind: .parse, message: "cannot parse template \(GoFormat.quote(text)): \(error.message)",
                                location: error.location, reason: error.reason, fix: error.fix)
        }
        var ov = overlay?.trees ?? [:]
        for t in parsed {
            if let old = ov[t.name] ?? shared.trees[t.name], Node.isEmpty(t.root), !Node.isEmpty(old.root), t.name != root { continue }
            ov[t.name] = t
        }
        guard let body = ov[root] else { return "" }
        if shared.depth >= shared.options.maxNestingDepth {
            throw TemplateFunctionError("exceeded maximum template depth (\(shared.options.maxNestingDepth))", kind: .limit)
        }
        try shared.checkStack()
        let sub = ExecState(shared: shared, tree: body, overlay: Overlay(ov), data: data)
        shared.depth += 1
        defer { shared.depth -= 1 }
        do {
            try sub.walk(body.root)
        } catch let f as ExecFailure {
            var e = f.error
            e.message = "error during tpl function execution for \(GoFormat.quote(text)): \(e.message)"
            throw ExecFailure(error: e)
        }
        return removeAll(sub.out, "<no value>")
    }
}
