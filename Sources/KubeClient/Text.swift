extension StringProtocol {
    /// The text without leading and trailing whitespace (spaces, tabs and line breaks, as
    /// `Character.isWhitespace` says).
    func trimmedWhitespace() -> String {
        guard let first = firstIndex(where: { !$0.isWhitespace }) else { return "" }
        let last = lastIndex(where: { !$0.isWhitespace })!
        return String(self[first...last])
    }
}
