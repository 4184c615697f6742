#if canImport(Glibc)
import Glibc
#endif

/// Whether a person is at a terminal to answer a question, and how to read the answer.
/// Injectable (`Terminal.$current`) so tests can play the person; the controller never asks.
public struct Terminal: Sendable {
    /// True when a question can be asked: stdin and stderr are terminals.
    public var isInteractive: Bool
    /// Reads one answer line (nil at end of input).
    public var readLine: @Sendable () -> String?

    public init(isInteractive: Bool, readLine: @escaping @Sendable () -> String?) {
        self.isInteractive = isInteractive; self.readLine = readLine
    }

    /// The process's own terminal (not interactive when output is captured in-process).
    public static var system: Terminal {
        Terminal(isInteractive: Output.capture == nil && isatty(0) != 0 && isatty(2) != 0,
                 readLine: { Swift.readLine(strippingNewline: true) })
    }

    /// The terminal of the running command: a test's stand-in, else `system`.
    @TaskLocal public static var override: Terminal?
    public static var current: Terminal { override ?? system }

    /// Asks `question [yN] ` on stderr; true only for `y` or `yes` (any case). End of input is no.
    public func confirm(_ question: String) -> Bool {
        Output.err(question + " [yN]: ")
        guard let answer = readLine() else { Output.err("\n"); return false }
        let a = answer.trimmingSpaces.lowercased()
        return a == "y" || a == "yes"
    }
}

extension String {
    var trimmingSpaces: String {
        var s = Substring(self)
        while let f = s.first, f == " " || f == "\t" || f == "\r" { s.removeFirst() }
        while let l = s.last, l == " " || l == "\t" || l == "\r" { s.removeLast() }
        return String(s)
    }
}
