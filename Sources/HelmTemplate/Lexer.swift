/// Go's `text/template/parse` lexer (delimiters `{{` `}}`, trim markers, comments, Go literals).
enum TokenType: Sendable, Equatable {
    case error, bool, char, charConstant, complex, assign, declare, eof, field, identifier
    case leftDelim, leftParen, number, pipe, rawString, rightDelim, rightParen, space, string, text, variable
    // keywords
    case block, `break`, `continue`, dot, define, `else`, end, `if`, `nil`, range, template, with

    var isKeyword: Bool {
        switch self {
        case .block, .break, .continue, .dot, .define, .else, .end, .if, .nil, .range, .template, .with: return true
        default: return false
        }
    }
}

struct Token: Sendable {
    var type: TokenType
    var pos: Int
    var val: String
    var line: Int

    /// Go's `item.String()`.
    var description: String {
        switch type {
        case .eof: return "EOF"
        case .error: return val
        default:
            if type.isKeyword { return "<\(val)>" }
            if val.unicodeScalars.count > 10 {
                return GoFormat.quote(String(String.UnicodeScalarView(val.unicodeScalars.prefix(10)))) + "..."
            }
            return GoFormat.quote(val)
        }
    }
}

struct Lexer {
    let input: [UInt8]
    var pos = 0
    var start = 0
    var line = 1
    var startLine = 1
    var parenDepth = 0
    var tokens: [Token] = []
    var insideAction = false

    init(_ text: String) {
        input = Array(text.utf8)
        tokens.reserveCapacity(input.count / 6 + 8)
    }

    /// The keyword `word` spells, if any (a switch: no hashing per identifier).
    static func keyword(_ word: String) -> TokenType? {
        switch word {
        case "block": return .block
        case "break": return .break
        case "continue": return .continue
        case "define": return .define
        case "else": return .else
        case "end": return .end
        case "if": return .if
        case "range": return .range
        case "nil": return .nil
        case "template": return .template
        case "with": return .with
        default: return nil
        }
    }

    static func lex(_ text: String) -> [Token] {
        var l = Lexer(text)
        l.run()
        return l.tokens
    }

    // MARK: helpers

    @inline(__always) func byte(at i: Int) -> UInt8? { i < input.count ? input[i] : nil }

    func hasPrefix(_ p: StaticString, at i: Int) -> Bool {
        let n = p.utf8CodeUnitCount
        guard i + n <= input.count else { return false }
        let s = p.utf8Start
        for k in 0..<n where input[i + k] != s[k] { return false }
        return true
    }

    /// Index of the next two-byte delimiter (`{{` or `*/`) at or after `i`.
    func index(of p: StaticString, from i: Int) -> Int? {
        let a = p.utf8Start[0], b = p.utf8Start[1]
        guard input.count >= 2 else { return nil }
        var j = i
        let last = input.count - 2
        return input.withUnsafeBufferPointer { buf -> Int? in
            while j <= last {
                if buf[j] == a && buf[j + 1] == b { return j }
                j += 1
            }
            return nil
        }
    }

    static func isSpace(_ c: UInt8) -> Bool { c == 32 || c == 9 || c == 13 || c == 10 }

    func hasLeftTrimMarker(at i: Int) -> Bool {
        guard i + 1 < input.count else { return false }
        return input[i] == UInt8(ascii: "-") && Lexer.isSpace(input[i + 1])
    }

    func hasRightTrimMarker(at i: Int) -> Bool {
        guard i + 1 < input.count else { return false }
        return Lexer.isSpace(input[i]) && input[i + 1] == UInt8(ascii: "-")
    }

    func text(_ a: Int, _ b: Int) -> String { String(decoding: input[a..<b], as: UTF8.self) }

    func countNewlines(_ a: Int, _ b: Int) -> Int {
        var n = 0
        var i = a
        while i < b { if input[i] == 10 { n += 1 }; i += 1 }
        return n
    }

    mutating func emit(_ t: TokenType) {
        tokens.append(Token(type: t, pos: start, val: text(start, pos), line: startLine))
        line = startLine + countNewlines(start, pos)
        start = pos
        startLine = line
    }

    mutating func ignore() {
        line = startLine + countNewlines(start, pos)
        start = pos
        startLine = line
    }

    mutating func errorf(_ msg: String) {
        tokens.append(Token(type: .error, pos: start, val: msg, line: startLine))
    }

    /// Decodes one rune at `pos` (returns nil at EOF) and its width.
    func rune(at i: Int) -> (Unicode.Scalar, Int)? {
        guard i < input.count else { return nil }
        let b0 = input[i]
        if b0 < 0x80 { return (Unicode.Scalar(b0), 1) }
        var n = 0
        var v: UInt32 = 0
        if b0 & 0xE0 == 0xC0 { n = 2; v = UInt32(b0 & 0x1F) } else if b0 & 0xF0 == 0xE0 { n = 3; v = UInt32(b0 & 0x0F) } else if b0 & 0xF8 == 0xF0 { n = 4; v = UInt32(b0 & 0x07) } else { return ("\u{FFFD}", 1) }
        guard i + n <= input.count else { return ("\u{FFFD}", 1) }
        for k in 1..<n { v = (v << 6) | UInt32(input[i + k] & 0x3F) }
        return (Unicode.Scalar(v) ?? "\u{FFFD}", n)
    }

    static func isAlphaNumeric(_ r: Unicode.Scalar) -> Bool {
        if r == "_" { return true }
        if r.value < 0x80 {
            let c = r.value
            return (c >= 48 && c <= 57) || (c >= 65 && c <= 90) || (c >= 97 && c <= 122)
        }
        return r.properties.isAlphabetic || r.properties.numericType == .decimal
    }

    // MARK: states

    mutating func run() {
        var state: State = .text
        while true {
            switch state {
            case .text: state = lexText()
            case .leftDelim: state = lexLeftDelim()
            case .comment: state = lexComment()
            case .rightDelim: state = lexRightDelim()
            case .insideAction: state = lexInsideAction()
            case .done: return
            }
        }
    }

    enum State { case text, leftDelim, comment, rightDelim, insideAction, done }

    mutating func lexText() -> State {
        if let x = index(of: "{{", from: pos) {
            if x > pos {
                pos = x
                var trimLength = 0
                if hasLeftTrimMarker(at: pos + 2) {
                    var j = pos
                    while j > start && Lexer.isSpace(input[j - 1]) { j -= 1 }
                    trimLength = pos - j
                }
                pos -= trimLength
                if pos > start { emit(.text) }
                pos += trimLength
                ignore()
            }
            return .leftDelim
        }
        pos = input.count
        if pos > start { emit(.text) }
        emit(.eof)
        return .done
    }

    mutating func lexLeftDelim() -> State {
        pos += 2
        let trim = hasLeftTrimMarker(at: pos)
        let after = trim ? 2 : 0
        if hasPrefix("/*", at: pos + after) {
            pos += after
            ignore()
            return .comment
        }
        emit(.leftDelim)
        insideAction = true
        pos += after
        ignore()
        parenDepth = 0
        return .insideAction
    }

    func atRightDelim() -> (delim: Bool, trim: Bool) {
        if hasRightTrimMarker(at: pos) && hasPrefix("}}", at: pos + 2) { return (true, true) }
        if hasPrefix("}}", at: pos) { return (true, false) }
        return (false, false)
    }

    mutating func lexComment() -> State {
        pos += 2
        guard let x = index(of: "*/", from: pos) else {
            errorf("unclosed comment")
            return .done
        }
        pos = x + 2
        let (delim, trim) = atRightDelim()
        if !delim {
            errorf("comment ends before closing delimiter")
            return .done
        }
        if trim { pos += 2 }
        pos += 2
        if trim { while pos < input.count && Lexer.isSpace(input[pos]) { pos += 1 } }
        ignore()
        return .text
    }

    mutating func lexRightDelim() -> State {
        let (_, trim) = atRightDelim()
        if trim {
            pos += 2
            ignore()
        }
        pos += 2
        emit(.rightDelim)
        if trim {
            while pos < input.count && Lexer.isSpace(input[pos]) { pos += 1 }
            ignore()
        }
        insideAction = false
        return .text
    }

    mutating func lexInsideAction() -> State {
        let (delim, _) = atRightDelim()
        if delim {
            if parenDepth == 0 { return .rightDelim }
            errorf("unclosed left paren")
            return .done
        }
        guard let (r, w) = rune(at: pos) else {
            errorf("unclosed action")
            return .done
        }
        if r.value < 0x80 && Lexer.isSpace(UInt8(r.value)) {
            return lexSpace()
        }
        pos += w
        switch r {
        case "=":
            emit(.assign)
        case ":":
            if byte(at: pos) != UInt8(ascii: "=") {
                errorf("expected :=")
                return .done
            }
            pos += 1
            emit(.declare)
        case "|":
            emit(.pipe)
        case "\"":
            return lexQuote()
        case "`":
            return lexRawQuote()
        case "$":
            return lexVariable()
        case "'":
            return lexChar()
        case "(":
            parenDepth += 1
            emit(.leftParen)
        case ")":
            parenDepth -= 1
            if parenDepth < 0 {
                errorf("unexpected right paren")
                return .done
            }
            emit(.rightParen)
        default:
            if r == "." {
                if pos < input.count {
                    let c = input[pos]
                    if c < UInt8(ascii: "0") || c > UInt8(ascii: "9") { return lexFieldOrVariable(.field) }
                }
                pos -= w
                return lexNumber()
            }
            if r == "+" || r == "-" || (r.value >= 48 && r.value <= 57) {
                pos -= w
                return lexNumber()
            }
            if Lexer.isAlphaNumeric(r) {
                pos -= w
                return lexIdentifier()
            }
            if r.value < 0x80 && r.value >= 0x20 && r.value < 0x7F {
                emit(.char)
                return .insideAction
            }
            errorf("unrecognized character in action: \(Lexer.sharpU(r))")
            return .done
        }
        return .insideAction
    }

    /// Go's `%#U`.
    static func sharpU(_ r: Unicode.Scalar) -> String {
        var h = String(r.value, radix: 16, uppercase: true)
        if h.count < 4 { h = String(repeating: "0", count: 4 - h.count) + h }
        if GoFormat.isGoPrint(r) { return "U+\(h) '\(Character(r))'" }
        return "U+\(h)"
    }

    mutating func lexSpace() -> State {
        var numSpaces = 0
        while pos < input.count && Lexer.isSpace(input[pos]) {
            pos += 1
            numSpaces += 1
        }
        // A trim-marked closing delimiter: " -}}".
        if hasRightTrimMarker(at: pos - 1) && hasPrefix("}}", at: pos + 1) {
            pos -= 1
            if numSpaces == 1 { return .rightDelim }
        }
        emit(.space)
        return .insideAction
    }

    mutating func lexIdentifier() -> State {
        while let (r, w) = rune(at: pos), Lexer.isAlphaNumeric(r) { pos += w }
        if !atTerminator() {
            let r = rune(at: pos)?.0 ?? "\u{0}"
            errorf("bad character \(Lexer.sharpU(r))")
            return .done
        }
        let word = text(start, pos)
        if let k = Lexer.keyword(word) {
            emit(k)
        } else if word.first == "." {
            emit(.field)
        } else if word == "true" || word == "false" {
            emit(.bool)
        } else {
            emit(.identifier)
        }
        return .insideAction
    }

    mutating func lexVariable() -> State {
        if atTerminator() {
            emit(.variable)
            return .insideAction
        }
        return lexFieldOrVariable(.variable)
    }

    mutating func lexFieldOrVariable(_ t: TokenType) -> State {
        if atTerminator() {
            emit(t == .variable ? .variable : .dot)
            return .insideAction
        }
        while let (r, w) = rune(at: pos), Lexer.isAlphaNumeric(r) { pos += w }
        if !atTerminator() {
            let r = rune(at: pos)?.0 ?? "\u{0}"
            errorf("bad character \(Lexer.sharpU(r))")
            return .done
        }
        emit(t)
        return .insideAction
    }

    func atTerminator() -> Bool {
        guard let (r, _) = rune(at: pos) else { return true }
        if r.value < 0x80 && Lexer.isSpace(UInt8(r.value)) { return true }
        switch r {
        case ".", ",", "|", ":", ")", "(", "}", "=": return r != "=" || true
        default: return false
        }
    }

    mutating func lexChar() -> State {
        while true {
            guard let c = byte(at: pos) else {
                errorf("unterminated character constant")
                return .done
            }
            pos += 1
            if c == UInt8(ascii: "\\") {
                if let n = byte(at: pos), n != 10 { pos += 1; continue }
                errorf("unterminated character constant")
                return .done
            }
            if c == 10 {
                errorf("unterminated character constant")
                return .done
            }
            if c == UInt8(ascii: "'") { break }
        }
        emit(.charConstant)
        return .insideAction
    }

    mutating func lexNumber() -> State {
        if !scanNumber() {
            errorf("bad number syntax: \(GoFormat.quote(text(start, pos)))")
            return .done
        }
        if let s = byte(at: pos), s == UInt8(ascii: "+") || s == UInt8(ascii: "-") {
            if !scanNumber() || input[pos - 1] != UInt8(ascii: "i") {
                errorf("bad number syntax: \(GoFormat.quote(text(start, pos)))")
                return .done
            }
            emit(.complex)
        } else {
            emit(.number)
        }
        return .insideAction
    }

    mutating func accept(_ valid: String) -> Bool {
        if let c = byte(at: pos), valid.utf8.contains(c) { pos += 1; return true }
        return false
    }

    mutating func acceptRun(_ valid: String) {
        while let c = byte(at: pos), valid.utf8.contains(c) { pos += 1 }
    }

    mutating func scanNumber() -> Bool {
        _ = accept("+-")
        var digits = "0123456789_"
        if accept("0") {
            if accept("xX") { digits = "0123456789abcdefABCDEF_" } else if accept("oO") { digits = "01234567_" } else if accept("bB") { digits = "01_" }
        }
        acceptRun(digits)
        if accept(".") { acceptRun(digits) }
        if digits.count == 11 && accept("eE") {
            _ = accept("+-")
            acceptRun("0123456789_")
        }
        if digits.count == 23 && accept("pP") {
            _ = accept("+-")
            acceptRun("0123456789_")
        }
        _ = accept("i")
        if let (r, w) = rune(at: pos), Lexer.isAlphaNumeric(r) {
            pos += w
            return false
        }
        return true
    }

    mutating func lexQuote() -> State {
        while true {
            guard let c = byte(at: pos) else {
                errorf("unterminated quoted string")
                return .done
            }
            pos += 1
            if c == UInt8(ascii: "\\") {
                if let n = byte(at: pos), n != 10 { pos += 1; continue }
                errorf("unterminated quoted string")
                return .done
            }
            if c == 10 {
                errorf("unterminated quoted string")
                return .done
            }
            if c == UInt8(ascii: "\"") { break }
        }
        emit(.string)
        return .insideAction
    }

    mutating func lexRawQuote() -> State {
        while true {
            guard let c = byte(at: pos) else {
                errorf("unterminated raw quoted string")
                return .done
            }
            pos += 1
            if c == UInt8(ascii: "`") { break }
        }
        emit(.rawString)
        return .insideAction
    }
}
