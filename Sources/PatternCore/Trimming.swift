/// Which characters `trimming(_:)` removes from both ends of a string. Characters are Swift
/// `Character`s (grapheme clusters): "\r\n" is one character, which is not "\r", and a space
/// followed by a combining mark is one character, which is not " ".
public struct TrimSet: Sendable {
    let contains: @Sendable (Character) -> Bool

    /// The characters for which `contains` is true.
    public init(_ contains: @escaping @Sendable (Character) -> Bool) { self.contains = contains }

    /// Exactly the characters of `characters`.
    public init(characters: String) {
        let set = Set(characters)
        self.contains = { set.contains($0) }
    }

    /// Unicode white space, line breaks included (`Character.isWhitespace`: space, tab, "\n",
    /// "\r\n", no-break space, …). HTTP header values, tokens and command output (KubeClient).
    public static let whitespacesAndNewlines = TrimSet { $0.isWhitespace }
    /// Space, tab and carriage return (Helm: `.helmignore` rules, hook annotations).
    public static let spacesTabsAndReturns = TrimSet(characters: " \t\r")
    /// Space and tab (Argo CD annotation values and `fasttemplate` keys).
    public static let spacesAndTabs = TrimSet(characters: " \t")
}

extension StringProtocol {
    /// The text without the leading and trailing characters in `set`.
    public func trimming(_ set: TrimSet) -> String {
        guard let first = firstIndex(where: { !set.contains($0) }) else { return "" }
        let last = lastIndex(where: { !set.contains($0) })!
        return String(self[first...last])
    }
}
