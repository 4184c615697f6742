/// A problem found in user input, with where it is and what to do about it.
///
/// Every user-facing error in the pipeline is (or carries) a `Diagnostic`, so the CLI can
/// print `file:line:column: error: message` followed by a `fix:` hint, and collect many of
/// them instead of stopping at the first.
public struct Diagnostic: Error, Sendable, Hashable, CustomStringConvertible {
    public enum Severity: String, Sendable, Hashable { case error, warning }

    public var severity: Severity
    public var location: SourceLocation?
    public var message: String
    /// What the user can do to fix it ("quote the value", "remove one of the two keys", …).
    public var fix: String?
    /// Other places that matter (the first definition of a duplicate, …).
    public var related: [SourceLocation]

    public init(_ severity: Severity = .error, at location: SourceLocation?, _ message: String,
                fix: String? = nil, related: [SourceLocation] = []) {
        self.severity = severity
        self.location = location
        self.message = message
        self.fix = fix
        self.related = related
    }

    public static func error(_ message: String, at location: SourceLocation? = nil, fix: String? = nil,
                             related: [SourceLocation] = []) -> Diagnostic {
        Diagnostic(.error, at: location, message, fix: fix, related: related)
    }

    public var description: String {
        var s = ""
        if let location { s += "\(location): " }
        s += "\(severity.rawValue): \(message)"
        for r in related { s += "\n  see also: \(r)" }
        if let fix { s += "\n  fix: \(fix)" }
        return s
    }
}

/// Several diagnostics at once: validation reports all problems, not just the first.
public struct Diagnostics: Error, Sendable, CustomStringConvertible {
    public var items: [Diagnostic]
    public init(_ items: [Diagnostic]) { self.items = items }
    public var description: String { items.map(\.description).joined(separator: "\n") }
}

extension Diagnostic {
    /// The same diagnostic with `prefix` put before every file name (e.g. a git source).
    public func prefixingFiles(_ prefix: String) -> Diagnostic {
        guard !prefix.isEmpty else { return self }
        var d = self
        if let l = d.location { d.location = SourceLocation(file: prefix + l.file, mark: l.mark) }
        d.related = d.related.map { SourceLocation(file: prefix + $0.file, mark: $0.mark) }
        return d
    }
}
