/// When output is coloured: `--color=auto|always|never` and the `NO_COLOR` convention
/// (https://no-color.org), decided in one place for every command.
public enum ColorMode: String, Sendable, CaseIterable {
    /// Colour when the stream is a terminal, `NO_COLOR` is unset or empty, and `TERM` is not `dumb`.
    case auto
    /// Always colour (an explicit flag wins over `NO_COLOR`, as no-color.org allows).
    case always
    /// Never colour.
    case never

    /// Whether to colour a stream that is (`isTerminal`) or is not a terminal, given the environment.
    public func enabled(isTerminal: Bool, noColor: String?, term: String?) -> Bool {
        switch self {
        case .always: return true
        case .never: return false
        case .auto: return isTerminal && (noColor ?? "").isEmpty && term != "dumb"
        }
    }
}
