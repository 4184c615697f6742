/// Removes credentials from text before it reaches a log, an error, a ledger or output.
///
/// Two layers: URL userinfo is rewritten wherever a `scheme://user:pass@host` appears
/// (for http(s) the whole userinfo, since tokens are often passed as the user name; for other
/// schemes only a password part), and every configured secret value is replaced by `***`.
public struct Redactor: Sendable {
    var secrets: [String]

    public init(secrets: [String] = []) {
        // Longest first so a secret that contains another is removed whole.
        self.secrets = secrets.filter { $0.count >= 3 }.sorted { $0.count > $1.count }
    }

    public static let urlsOnly = Redactor()

    public func callAsFunction(_ text: String) -> String { scrub(text) }

    public func scrub(_ text: String) -> String {
        var out = Redactor.redactURLs(in: text)
        for s in secrets where out.contains(s) {
            out = out.replacing(s, with: "***")
        }
        return out
    }

    /// Rewrites userinfo in every URL found in `text`.
    public static func redactURLs(in text: String) -> String {
        guard text.contains("://") else { return text }
        var result = ""
        var rest = Substring(text)
        while let r = rest.firstRange(of: "://") {
            let schemeStart = rest[..<r.lowerBound].lastIndex(where: { !($0.isLetter || $0.isNumber || $0 == "+" || $0 == "-" || $0 == ".") })
                .map { rest.index(after: $0) } ?? rest.startIndex
            let scheme = rest[schemeStart..<r.lowerBound].lowercased()
            result += rest[..<r.upperBound]
            rest = rest[r.upperBound...]
            // authority ends at '/', whitespace, quote or end
            let end = rest.firstIndex(where: { $0 == "/" || $0 == " " || $0 == "'" || $0 == "\"" || $0 == "\n" || $0 == "\t" || $0 == ">" }) ?? rest.endIndex
            let authority = rest[..<end]
            if let at = authority.lastIndex(of: "@") {
                let userinfo = authority[..<at]
                if scheme == "http" || scheme == "https" {
                    result += "***"
                } else if let colon = userinfo.firstIndex(of: ":") {
                    result += userinfo[..<colon] + ":***"
                } else {
                    result += userinfo
                }
                result += authority[at...]
            } else {
                result += authority
            }
            rest = rest[end...]
        }
        result += rest
        return result
    }
}

