/// Go's `text/template/parse` parser: builds the trees of one file (its body plus every
/// `define`/`block` inside it).
struct Parser {
    struct Failure: Error { var error: TemplateError }

    let tokens: [Token]
    let parseName: String
    let text: String
    let hasFunction: (String) -> Bool
    var i = 0
    var maxRead = 0
    var vars: [String] = ["$"]
    var rangeDepth = 0
    var actionLine = 0
    /// Trees defined by this parse, in definition order.
    var trees: [Tree] = []
    var treeIndex: [String: Int] = [:]
    /// Name of the tree being built (for `add`).
    var name: String

    init(name: String, text: String, hasFunction: @escaping (String) -> Bool) {
        self.tokens = Lexer.lex(text)
        self.parseName = name
        self.name = name
        self.text = text
        self.hasFunction = hasFunction
    }

    /// Parses `text`; returns the trees (the body first) or a Go-shaped parse error.
    static func parse(name: String, text: String, hasFunction: @escaping (String) -> Bool) throws(TemplateError) -> [Tree] {
        var p = Parser(name: name, text: text, hasFunction: hasFunction)
        do {
            let root = try p.parseTop()
            try p.add(Tree(name: name, parseName: name, text: text, root: root))
        } catch {
            throw error.error
        }
        // Body first, then definitions.
        var out: [Tree] = []
        if let b = p.treeIndex[name] { out.append(p.trees[b]) }
        for (k, t) in p.trees.enumerated() where p.treeIndex[name] != k { out.append(t) }
        return out
    }

    // MARK: token stream

    mutating func next() -> Token {
        let t = tokens[min(i, tokens.count - 1)]
        if i < tokens.count { i += 1 }
        maxRead = max(maxRead, i)
        return t
    }

    mutating func backup() { i -= 1 }

    mutating func peek() -> Token {
        let t = tokens[min(i, tokens.count - 1)]
        maxRead = max(maxRead, i + 1)
        return t
    }

    mutating func nextNonSpace() -> Token {
        var t = next()
        while t.type == .space { t = next() }
        return t
    }

    mutating func peekNonSpace() -> Token {
        let t = nextNonSpace()
        backup()
        return t
    }

    var currentLine: Int { tokens[min(max(maxRead - 1, 0), tokens.count - 1)].line }

    func fail(_ msg: String) -> Failure {
        let line = currentLine
        let message = "template: \(parseName):\(line): \(msg)"
        return Failure(error: TemplateError(
            kind: .parse, message: message,
            location: TemplateError.Point(template: parseName, line: line, column: nil),
            reason: msg, fix: Parser.fixHint(msg)))
    }

    static func fixHint(_ msg: String) -> String {
        if msg.hasPrefix("function ") && msg.hasSuffix(" not defined") {
            return "fix: check the function name's spelling; see Docs/helm.md (Functions) for the supported functions"
        }
        if msg.contains("unexpected EOF") { return "fix: close every {{if}}, {{range}}, {{with}}, {{define}} and {{block}} with {{end}}" }
        if msg.hasPrefix("undefined variable") { return "fix: declare the variable with := before using it, in the same or an enclosing block" }
        return "fix: correct the template syntax at this line"
    }

    mutating func unexpected(_ t: Token, _ context: String) -> Failure {
        if t.type == .error {
            var extra = ""
            if actionLine != 0 && actionLine != t.line {
                extra = " in action started at \(parseName):\(actionLine)"
                if t.val.hasPrefix(" action") { extra = String(extra.dropFirst(" in action".count)) }
            }
            return fail(t.val + extra)
        }
        return fail("unexpected \(t.description) in \(context)")
    }

    mutating func expect(_ type: TokenType, _ context: String) throws(Failure) -> Token {
        let t = nextNonSpace()
        if t.type != type { throw unexpected(t, context) }
        return t
    }

    // MARK: trees

    mutating func add(_ tree: Tree) throws(Failure) {
        if let k = treeIndex[tree.name] {
            if Node.isEmpty(trees[k].root) {
                trees[k] = tree
                return
            }
            if !Node.isEmpty(tree.root) {
                throw fail("template: multiple definition of template \(GoFormat.quote(tree.name))")
            }
            return
        }
        treeIndex[tree.name] = trees.count
        trees.append(tree)
    }

    mutating func parseTop() throws(Failure) -> [Node] {
        var root: [Node] = []
        while peek().type != .eof {
            if peek().type == .leftDelim {
                let save = i
                _ = next()
                if nextNonSpace().type == .define {
                    try parseDefinition()
                    continue
                }
                i = save
            }
            let n = try textOrAction()
            switch n {
            case .end: throw fail("unexpected {{end}}")
            case .else: throw fail("unexpected {{else}}")
            case .node(let node): root.append(node)
            }
        }
        return root
    }

    mutating func parseDefinition() throws(Failure) {
        let context = "define clause"
        let nameTok = nextNonSpace()
        guard nameTok.type == .string || nameTok.type == .rawString else { throw unexpected(nameTok, context) }
        let defName: String
        do { defName = try Parser.unquote(nameTok.val) } catch { throw fail(error.message) }
        _ = try expect(.rightDelim, context)
        let savedVars = vars
        let savedRange = rangeDepth
        vars = ["$"]
        rangeDepth = 0
        let (list, end) = try itemList()
        vars = savedVars
        rangeDepth = savedRange
        if case .else = end { throw fail("unexpected {{else}} in \(context)") }
        try add(Tree(name: defName, parseName: parseName, text: text, root: list))
    }

    enum Item { case node(Node), end(pos: Int), `else`(pos: Int, line: Int) }

    mutating func itemList() throws(Failure) -> ([Node], Item) {
        var list: [Node] = []
        while peekNonSpace().type != .eof {
            let n = try textOrAction()
            switch n {
            case .end, .else: return (list, n)
            case .node(let node): list.append(node)
            }
        }
        throw fail("unexpected EOF")
    }

    mutating func textOrAction() throws(Failure) -> Item {
        let t = nextNonSpace()
        switch t.type {
        case .text: return .node(.text(t.val))
        case .leftDelim:
            actionLine = t.line
            defer { actionLine = 0 }
            return try action()
        default:
            throw unexpected(t, "input")
        }
    }

    mutating func action() throws(Failure) -> Item {
        let t = nextNonSpace()
        switch t.type {
        case .block: return .node(try blockControl())
        case .break:
            let n = nextNonSpace()
            if n.type != .rightDelim { throw unexpected(n, "{{break}}") }
            if rangeDepth == 0 { throw fail("{{break}} outside {{range}}") }
            return .node(.breakNode(pos: t.pos))
        case .continue:
            let n = nextNonSpace()
            if n.type != .rightDelim { throw unexpected(n, "{{continue}}") }
            if rangeDepth == 0 { throw fail("{{continue}} outside {{range}}") }
            return .node(.continueNode(pos: t.pos))
        case .else:
            let p = peekNonSpace()
            if p.type == .if || p.type == .with { return .else(pos: p.pos, line: p.line) }
            let r = try expect(.rightDelim, "else")
            return .else(pos: r.pos, line: r.line)
        case .end:
            let r = try expect(.rightDelim, "end")
            return .end(pos: r.pos)
        case .if: return .node(.ifNode(try parseControl("if")))
        case .range: return .node(.rangeNode(try parseControl("range")))
        case .with: return .node(.withNode(try parseControl("with")))
        case .template: return .node(try templateControl())
        default: break
        }
        backup()
        let tok = peek()
        let pipe = try pipeline("command", end: .rightDelim)
        return .node(.action(pos: tok.pos, line: tok.line, pipe))
    }

    mutating func parseControl(_ context: String) throws(Failure) -> ControlNode {
        let savedVars = vars.count
        defer { vars.removeLast(vars.count - savedVars) }
        let pipe = try pipeline(context, end: .rightDelim)
        if context == "range" { rangeDepth += 1 }
        let (list, next) = try itemList()
        if context == "range" { rangeDepth -= 1 }
        var elseList: [Node]? = nil
        switch next {
        case .else:
            if context == "if" && peek().type == .if {
                _ = self.next()
                elseList = [.ifNode(try parseControl("if"))]
            } else if context == "with" && peek().type == .with {
                _ = self.next()
                elseList = [.withNode(try parseControl("with"))]
            } else {
                let (el, n2) = try itemList()
                if case .end = n2 {} else { throw fail("expected end; found {{else}}") }
                elseList = el
            }
        default: break
        }
        return ControlNode(pos: pipe.pos, line: pipe.line, pipe: pipe, list: list, elseList: elseList)
    }

    mutating func templateName(_ t: Token, _ context: String) throws(Failure) -> String {
        guard t.type == .string || t.type == .rawString else { throw unexpected(t, context) }
        do { return try Parser.unquote(t.val) } catch { throw fail(error.message) }
    }

    mutating func templateControl() throws(Failure) -> Node {
        let context = "template clause"
        let t = nextNonSpace()
        let name = try templateName(t, context)
        var pipe: PipeNode? = nil
        if nextNonSpace().type != .rightDelim {
            backup()
            pipe = try pipeline(context, end: .rightDelim)
        }
        return .template(pos: t.pos, line: t.line, name: name, pipe)
    }

    mutating func blockControl() throws(Failure) -> Node {
        let context = "block clause"
        let t = nextNonSpace()
        let name = try templateName(t, context)
        let pipe = try pipeline(context, end: .rightDelim)
        let savedVars = vars
        let savedRange = rangeDepth
        vars = ["$"]
        rangeDepth = 0
        let (list, end) = try itemList()
        vars = savedVars
        rangeDepth = savedRange
        if case .else = end { throw fail("unexpected {{else}} in \(context)") }
        try add(Tree(name: name, parseName: parseName, text: text, root: list))
        return .template(pos: t.pos, line: t.line, name: name, pipe)
    }

    // MARK: pipelines

    mutating func pipeline(_ context: String, end: TokenType) throws(Failure) -> PipeNode {
        let tok = peekNonSpace()
        var pipe = PipeNode(pos: tok.pos, line: tok.line)
        decls: while true {
            let v = peekNonSpace()
            guard v.type == .variable else { break }
            _ = next()
            let afterVar = i
            let tokenAfterVariable = peek()
            let nxt = peekNonSpace()
            if nxt.type == .assign || nxt.type == .declare {
                pipe.isAssign = nxt.type == .assign
                _ = nextNonSpace()
                pipe.decl.append(v.val)
                vars.append(v.val)
                break decls
            } else if nxt.type == .char && nxt.val == "," {
                _ = nextNonSpace()
                pipe.decl.append(v.val)
                vars.append(v.val)
                if context == "range" && pipe.decl.count < 2 {
                    switch peekNonSpace().type {
                    case .variable, .rightDelim, .rightParen:
                        continue decls
                    default:
                        throw fail("range can only initialize variables")
                    }
                }
                throw fail("too many declarations in \(context)")
            } else if tokenAfterVariable.type == .space {
                i = afterVar - 1
                break decls
            } else {
                i = afterVar - 1
                break decls
            }
        }
        while true {
            let t = nextNonSpace()
            if t.type == end {
                try checkPipeline(pipe, context)
                return pipe
            }
            switch t.type {
            case .bool, .charConstant, .complex, .dot, .field, .identifier, .number, .nil, .rawString, .string, .variable, .leftParen:
                backup()
                pipe.cmds.append(try command())
            default:
                throw unexpected(t, context)
            }
        }
    }

    func checkPipeline(_ pipe: PipeNode, _ context: String) throws(Failure) {
        if pipe.cmds.isEmpty { throw fail("missing value for \(context)") }
        for (k, c) in pipe.cmds.enumerated() where k > 0 {
            switch c.args[0] {
            case .bool, .dot, .nil, .number, .string:
                throw fail("non executable command in pipeline stage \(k + 1)")
            default: break
            }
        }
    }

    mutating func command() throws(Failure) -> CommandNode {
        var cmd = CommandNode(pos: peekNonSpace().pos)
        while true {
            _ = peekNonSpace()
            if let operand = try operand() { cmd.args.append(operand) }
            let t = next()
            switch t.type {
            case .space: continue
            case .rightDelim, .rightParen: backup()
            case .pipe: break
            case .error: throw fail(t.val)
            default: throw unexpected(t, "operand")
            }
            break
        }
        if cmd.args.isEmpty { throw fail("empty command") }
        return cmd
    }

    mutating func operand() throws(Failure) -> ArgNode? {
        guard let node = try term() else { return nil }
        if peek().type == .field {
            let chainPos = peek().pos
            var fields: [String] = []
            while peek().type == .field { fields.append(String(next().val.dropFirst())) }
            switch node {
            // Go gives the merged node the position of the chain (its first added field).
            case .field(_, let idents): return .field(pos: chainPos, idents: idents + fields)
            case .variable(_, let idents): return .variable(pos: chainPos, idents: idents + fields)
            case .bool, .string, .number, .nil, .dot:
                throw fail("unexpected . after term \(GoFormat.quote(node.goString))")
            default:
                _ = chainPos
                return .chain(pos: chainPos, node: node, fields: fields)
            }
        }
        return node
    }

    mutating func term() throws(Failure) -> ArgNode? {
        let t = nextNonSpace()
        switch t.type {
        case .error: throw fail(t.val)
        case .identifier:
            if !hasFunction(t.val) { throw fail("function \(GoFormat.quote(t.val)) not defined") }
            return .identifier(pos: t.pos, name: t.val)
        case .dot: return .dot(pos: t.pos)
        case .nil: return .nil(pos: t.pos)
        case .variable:
            let idents = t.val.split(separator: ".", omittingEmptySubsequences: false).map(String.init)
            let head = idents[0]
            if !vars.contains(head) { throw fail("undefined variable \(GoFormat.quote(head))") }
            return .variable(pos: t.pos, idents: idents)
        case .field:
            return .field(pos: t.pos, idents: [String(t.val.dropFirst())])
        case .bool: return .bool(pos: t.pos, t.val == "true")
        case .charConstant, .complex, .number:
            do { return .number(pos: t.pos, try Parser.number(t.val, t.type)) } catch { throw fail(error.message) }
        case .leftParen:
            let pipe = try pipeline("parenthesized pipeline", end: .rightParen)
            return .pipe(pipe)
        case .string, .rawString:
            do { return .string(pos: t.pos, quoted: t.val, text: try Parser.unquote(t.val)) } catch { throw fail(error.message) }
        default:
            backup()
            return nil
        }
    }

    // MARK: literals

    struct LiteralError: Error { var message: String }

    /// Go's `strconv.Unquote` for "…", `…` and '…'.
    static func unquote(_ s: String) throws(LiteralError) -> String {
        // Fast path: "…" without escapes (the lexer guarantees the closing quote).
        let b = s.utf8
        if b.count >= 2, b.first == UInt8(ascii: "\""), b.last == UInt8(ascii: "\""),
           !b.dropFirst().dropLast().contains(where: { $0 == UInt8(ascii: "\\") || $0 == UInt8(ascii: "\"") || $0 == 10 })
        {
            return String(decoding: b.dropFirst().dropLast(), as: UTF8.self)
        }
        let u = Array(s.unicodeScalars)
        guard u.count >= 2, let q = u.first, u.last == q else { throw LiteralError(message: "invalid syntax") }
        if q == "`" {
            return String(String.UnicodeScalarView(u[1..<(u.count - 1)].filter { $0 != "\r" }))
        }
        guard q == "\"" || q == "'" else { throw LiteralError(message: "invalid syntax") }
        var out = String.UnicodeScalarView()
        var k = 1
        let end = u.count - 1
        func hexVal(_ c: Unicode.Scalar) -> UInt32? {
            switch c.value {
            case 48...57: return c.value - 48
            case 65...70: return c.value - 55
            case 97...102: return c.value - 87
            default: return nil
            }
        }
        var bytes: [UInt8] = []  // pending \x / octal bytes
        func flushBytes() { if !bytes.isEmpty { out.append(contentsOf: String(decoding: bytes, as: UTF8.self).unicodeScalars); bytes = [] } }
        while k < end {
            let c = u[k]
            if c == q && q == "\"" { throw LiteralError(message: "invalid syntax") }
            if c != "\\" { flushBytes(); out.append(c); k += 1; continue }
            k += 1
            guard k < end else { throw LiteralError(message: "invalid syntax") }
            let e = u[k]
            k += 1
            switch e {
            case "a": flushBytes(); out.append("\u{07}")
            case "b": flushBytes(); out.append("\u{08}")
            case "f": flushBytes(); out.append("\u{0C}")
            case "n": flushBytes(); out.append("\n")
            case "r": flushBytes(); out.append("\r")
            case "t": flushBytes(); out.append("\t")
            case "v": flushBytes(); out.append("\u{0B}")
            case "\\": flushBytes(); out.append("\\")
            case "'", "\"":
                if e != q { throw LiteralError(message: "invalid syntax") }
                flushBytes(); out.append(e)
            case "x", "u", "U":
                let n = e == "x" ? 2 : (e == "u" ? 4 : 8)
                guard k + n <= end else { throw LiteralError(message: "invalid syntax") }
                var v: UInt32 = 0
                for j in 0..<n {
                    guard let h = hexVal(u[k + j]) else { throw LiteralError(message: "invalid syntax") }
                    v = v * 16 + h
                }
                k += n
                if e == "x" {
                    if q == "'" { flushBytes(); out.append(Unicode.Scalar(v)!) } else { bytes.append(UInt8(v)) }
                } else {
                    guard let sc = Unicode.Scalar(v) else { throw LiteralError(message: "invalid syntax") }
                    flushBytes(); out.append(sc)
                }
            case "0"..."7":
                guard k + 2 <= end else { throw LiteralError(message: "invalid syntax") }
                var v = e.value - 48
                for j in 0..<2 {
                    let d = u[k + j].value
                    guard d >= 48 && d <= 55 else { throw LiteralError(message: "invalid syntax") }
                    v = v * 8 + d - 48
                }
                k += 2
                guard v <= 255 else { throw LiteralError(message: "invalid syntax") }
                bytes.append(UInt8(v))
            default:
                throw LiteralError(message: "invalid syntax")
            }
        }
        flushBytes()
        let result = String(out)
        if q == "'" && result.unicodeScalars.count != 1 { throw LiteralError(message: "invalid syntax") }
        return result
    }

    /// Go's `strconv.ParseInt/ParseUint(s, 0, 64)` (base prefixes, underscores).
    static func parseGoInt(_ text: String) -> (neg: Bool, mag: UInt64)? {
        var u = Array(text.utf8)[...]
        var neg = false
        if let f = u.first, f == UInt8(ascii: "+") || f == UInt8(ascii: "-") { neg = f == UInt8(ascii: "-"); u = u.dropFirst() }
        guard !u.isEmpty else { return nil }
        var base: UInt64 = 10
        var prefixed = false
        if u.count >= 2 && u.first == UInt8(ascii: "0") {
            switch u[u.startIndex + 1] | 0x20 {
            case UInt8(ascii: "x"): base = 16; u = u.dropFirst(2); prefixed = true
            case UInt8(ascii: "o"): base = 8; u = u.dropFirst(2); prefixed = true
            case UInt8(ascii: "b"): base = 2; u = u.dropFirst(2); prefixed = true
            default: base = 8; u = u.dropFirst(1); prefixed = true
            }
        }
        // underscores: only with base prefix (base 0), between digits / after prefix
        var sawUnderscore = false
        var v: UInt64 = 0
        var any = false
        var prev: UInt8 = prefixed ? UInt8(ascii: "_") : 0
        for c in u {
            if c == UInt8(ascii: "_") {
                sawUnderscore = true
                prev = c
                continue
            }
            var d: UInt64
            switch c {
            case 48...57: d = UInt64(c - 48)
            case 97...122: d = UInt64(c - 87)
            case 65...90: d = UInt64(c - 55)
            default: return nil
            }
            guard d < base else { return nil }
            let (m, o1) = v.multipliedReportingOverflow(by: base)
            let (s, o2) = m.addingReportingOverflow(d)
            if o1 || o2 { return nil }
            v = s
            any = true
            prev = c
        }
        if !any && !(base == 8 && !prefixed) {
            if base == 8 && u.isEmpty { return (neg, 0) }  // "0"
            return nil
        }
        if sawUnderscore {
            // Go: underscores must separate digits; not at the end, not doubled.
            if prev == UInt8(ascii: "_") { return nil }
            if text.contains("__") { return nil }
        }
        return (neg, v)
    }

    /// Go's `strconv.ParseFloat(s, 64)` for decimal (and hex) float syntax.
    static func parseGoFloat(_ text: String) -> Double? {
        var t = text
        if t.contains("_") { t = t.filter { $0 != "_" } }
        let lower = t.lowercased()
        if lower.hasPrefix("0x") || lower.hasPrefix("-0x") || lower.hasPrefix("+0x") {
            return Double(t)  // Swift accepts C hex floats (0x1p-2)
        }
        for c in t.utf8 where !(c >= 48 && c <= 57) && c != UInt8(ascii: ".") && c != UInt8(ascii: "e") && c != UInt8(ascii: "E")
            && c != UInt8(ascii: "+") && c != UInt8(ascii: "-")
        {
            return nil
        }
        return Double(t)
    }

    static func number(_ text: String, _ type: TokenType) throws(LiteralError) -> NumberLit {
        var n = NumberLit(text: text)
        if type == .charConstant {
            let s = try unquote(text)
            let r = s.unicodeScalars.first!
            n.isInt = true; n.int64 = Int64(r.value)
            n.isUint = true; n.uint64 = UInt64(r.value)
            n.isFloat = true; n.float64 = Double(r.value)
            return n
        }
        if type == .complex || text.hasSuffix("i") {
            throw LiteralError(message: "complex numbers are not supported: \(GoFormat.quote(text))")
        }
        if let (neg, mag) = parseGoInt(text) {
            if !neg { n.isUint = true; n.uint64 = mag }
            if neg {
                if mag <= UInt64(Int64.max) + 1 { n.isInt = true; n.int64 = mag == UInt64(Int64.max) + 1 ? Int64.min : -Int64(mag) }
                if mag == 0 { n.isUint = true; n.uint64 = 0 }
            } else if mag <= UInt64(Int64.max) {
                n.isInt = true; n.int64 = Int64(mag)
            }
        }
        if n.isInt {
            n.isFloat = true; n.float64 = Double(n.int64)
        } else if n.isUint {
            n.isFloat = true; n.float64 = Double(n.uint64)
        } else if let f = parseGoFloat(text) {
            if !text.contains(where: { ".eEpP".contains($0) }) {
                throw LiteralError(message: "integer overflow: \(GoFormat.quote(text))")
            }
            n.isFloat = true; n.float64 = f
            if f.isFinite, f == f.rounded(), abs(f) < 9.2e18 { n.isInt = true; n.int64 = Int64(f) }
            if f.isFinite, f == f.rounded(), f >= 0, f < 1.8e19 { n.isUint = true; n.uint64 = UInt64(f) }
        }
        if !n.isInt && !n.isUint && !n.isFloat {
            throw LiteralError(message: "illegal number syntax: \(GoFormat.quote(text))")
        }
        return n
    }
}
