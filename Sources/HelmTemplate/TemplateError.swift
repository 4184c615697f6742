import PatternCore

/// A template parse or execution error, with Go's exact message text (`message`) and the
/// structured location of its root cause.
///
/// Execution errors raised inside `include`/`tpl` keep Go's nesting in `message`
/// (`template: a.yaml:3:4: executing "a.yaml" at <include "x" .>: error calling include: template: …`);
/// `templateName`/`line`/`column` point at the innermost failing action and `callers` list the
/// outer call sites, outermost first.
public struct TemplateError: Error, Sendable, CustomStringConvertible {
    public enum Kind: Sendable, Hashable {
        /// The template text does not parse.
        case parse
        /// Executing failed (bad field, wrong type, function error, `fail`, `required`).
        case execution
        /// A function that reads the clock or randomness was called while not allowed.
        case nondeterministic
        /// A limit was hit (recursion depth, output size, range size).
        case limit
    }

    /// A point in a template: the file (parse name), 1-based line and 0-based byte column as
    /// Go reports them.
    public struct Point: Sendable, Hashable, CustomStringConvertible {
        public var template: String
        public var line: Int
        public var column: Int?
        public init(template: String, line: Int, column: Int?) {
            self.template = template
            self.line = line
            self.column = column
        }
        public var description: String { column.map { "\(template):\(line):\($0)" } ?? "\(template):\(line)" }
    }

    public var kind: Kind
    /// The full message as Go's `text/template` (and Helm) print it.
    public var message: String
    /// Where the root cause is (innermost template, line, column), when known.
    public var location: Point?
    /// Call sites of `include`/`tpl`/`template` that led to the error, outermost first.
    public var callers: [Point]
    /// The root cause's own message without the location prefixes (`error calling required: x`
    /// → `x` for `fail`/`required`).
    public var reason: String
    /// A hint a user can act on.
    public var fix: String?

    public init(kind: Kind, message: String, location: Point?, callers: [Point] = [], reason: String, fix: String? = nil) {
        self.kind = kind
        self.message = message
        self.location = location
        self.callers = callers
        self.reason = reason
        self.fix = fix
    }

    /// Template (parse) name of the root cause.
    public var templateName: String? { location?.template }
    public var line: Int? { location?.line }
    public var column: Int? { location?.column }

    public var description: String { message }

    /// The error as a PatternCore diagnostic (file:line:column, message, fix).
    public var diagnostic: Diagnostic {
        let loc = location.map { SourceLocation(file: $0.template, line: $0.line, column: ($0.column ?? 0) + 1) }
        return Diagnostic(.error, at: loc, message, fix: fix)
    }
}

/// An error a template function reports; the executor wraps it as Go does
/// (`error calling NAME: MESSAGE`).
public struct TemplateFunctionError: Error, Sendable, CustomStringConvertible {
    public var message: String
    public var fix: String?
    public var kind: TemplateError.Kind
    public init(_ message: String, fix: String? = nil, kind: TemplateError.Kind = .execution) {
        self.message = message
        self.fix = fix
        self.kind = kind
    }
    public var description: String { message }
}
