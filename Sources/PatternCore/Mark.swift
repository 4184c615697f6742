/// A position in a source file: 1-based line and column. `Mark.none` (0:0) means "unknown",
/// e.g. for values built in code rather than parsed.
public struct Mark: Sendable, Hashable, Comparable, CustomStringConvertible {
    public var line: UInt32
    public var column: UInt32

    public init(line: Int, column: Int) {
        self.line = UInt32(clamping: line)
        self.column = UInt32(clamping: column)
    }

    public static let none = Mark(line: 0, column: 0)
    public var isKnown: Bool { line != 0 }

    public static func < (a: Mark, b: Mark) -> Bool {
        (a.line, a.column) < (b.line, b.column)
    }

    public var description: String { isKnown ? "\(line):\(column)" : "?" }
}

/// A file plus a position in it. `file` is the path as the user should see it (relative to
/// the repository or working directory when possible).
public struct SourceLocation: Sendable, Hashable, CustomStringConvertible {
    public var file: String
    public var mark: Mark

    public init(file: String, mark: Mark = .none) {
        self.file = file
        self.mark = mark
    }

    public init(file: String, line: Int, column: Int) {
        self.init(file: file, mark: Mark(line: line, column: column))
    }

    /// `file:line:column`, or just `file` when the position is unknown.
    public var description: String { mark.isKnown ? "\(file):\(mark.line):\(mark.column)" : file }
}
