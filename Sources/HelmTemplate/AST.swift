/// A number literal as Go's parser classifies it.
struct NumberLit: Sendable {
    var text: String
    var isInt = false, isUint = false, isFloat = false, isComplex = false
    var int64: Int64 = 0
    var uint64: UInt64 = 0
    var float64: Double = 0
}

/// `declarations? command ('|' command)*`.
struct PipeNode: Sendable {
    var pos: Int
    var line: Int
    var isAssign = false
    var decl: [String] = []
    var cmds: [CommandNode] = []

    var goString: String {
        var s = ""
        if !decl.isEmpty {
            s += decl.joined(separator: ", ")
            s += isAssign ? " = " : " := "
        }
        for (i, c) in cmds.enumerated() {
            if i > 0 { s += " | " }
            s += c.goString
        }
        return s
    }
}

struct CommandNode: Sendable {
    var pos: Int
    var args: [ArgNode] = []

    var goString: String {
        var s = ""
        for (i, a) in args.enumerated() {
            if i > 0 { s += " " }
            if case .pipe(let p) = a { s += "(" + p.goString + ")" } else { s += a.goString }
        }
        return s
    }
}

indirect enum ArgNode: Sendable {
    case field(pos: Int, idents: [String])
    case chain(pos: Int, node: ArgNode, fields: [String])
    case variable(pos: Int, idents: [String])
    case identifier(pos: Int, name: String)
    case dot(pos: Int)
    case `nil`(pos: Int)
    case bool(pos: Int, Bool)
    case number(pos: Int, NumberLit)
    case string(pos: Int, quoted: String, text: String)
    case pipe(PipeNode)

    var pos: Int {
        switch self {
        case .field(let p, _), .chain(let p, _, _), .variable(let p, _), .identifier(let p, _), .dot(let p), .nil(let p),
             .bool(let p, _), .number(let p, _), .string(let p, _, _):
            return p
        case .pipe(let p): return p.pos
        }
    }

    var goString: String {
        switch self {
        case .field(_, let idents): return idents.map { "." + $0 }.joined()
        case .chain(_, let node, let fields):
            var s: String
            if case .pipe(let p) = node { s = "(" + p.goString + ")" } else { s = node.goString }
            for f in fields { s += "." + f }
            return s
        case .variable(_, let idents): return idents.joined(separator: ".")
        case .identifier(_, let name): return name
        case .dot: return "."
        case .nil: return "nil"
        case .bool(_, let b): return b ? "true" : "false"
        case .number(_, let n): return n.text
        case .string(_, let q, _): return q
        case .pipe(let p): return p.goString
        }
    }
}

struct ControlNode: Sendable {
    var pos: Int
    var line: Int
    var pipe: PipeNode
    var list: [Node]
    var elseList: [Node]?
}

indirect enum Node: Sendable {
    case text(String)
    case action(pos: Int, line: Int, PipeNode)
    case ifNode(ControlNode)
    case rangeNode(ControlNode)
    case withNode(ControlNode)
    case template(pos: Int, line: Int, name: String, PipeNode?)
    case breakNode(pos: Int)
    case continueNode(pos: Int)

    /// Only whitespace text (Go's `IsEmptyTree`).
    static func isEmpty(_ nodes: [Node]) -> Bool {
        for n in nodes {
            switch n {
            case .text(let t):
                if !t.utf8.allSatisfy({ $0 == 32 || $0 == 9 || $0 == 10 || $0 == 13 || $0 == 11 || $0 == 12 }) { return false }
            default: return false
            }
        }
        return true
    }
}

/// One parsed template (a file body, a `define` or a `block`).
final class Tree: Sendable {
    /// Template name (`define` name or file name).
    let name: String
    /// Name of the file it was parsed from, for error locations.
    let parseName: String
    /// The parsed text (shared by all trees of one file), for locations.
    let text: String
    let root: [Node]

    init(name: String, parseName: String, text: String, root: [Node]) {
        self.name = name
        self.parseName = parseName
        self.text = text
        self.root = root
    }

    /// Go's `ErrorContext` location: `name:line:col` with a 0-based byte column.
    func point(_ pos: Int) -> TemplateError.Point {
        var line = 1
        var lastNL = -1
        var i = 0
        for c in text.utf8 {
            if i >= pos { break }
            if c == 10 { line += 1; lastNL = i }
            i += 1
        }
        let col = lastNL < 0 ? pos : pos - lastNL - 1
        return TemplateError.Point(template: parseName, line: line, column: col)
    }
}
