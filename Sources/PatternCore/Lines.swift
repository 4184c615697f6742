extension Substring {
    /// The text cut at each line feed byte, as Go's `strings.Split(s, "\n")` and
    /// `bufio.Scanner` cut it: a CRLF file is cut at every line too (Swift's
    /// `split(separator: "\n")` works on Characters, and "\r\n" is one Character that is not
    /// "\n", so it would not cut there). A line keeps a trailing "\r".
    public func linesAtLineFeeds(omittingEmptySubsequences: Bool = false) -> [Substring] {
        utf8.split(separator: 0x0A, omittingEmptySubsequences: omittingEmptySubsequences).map { Substring($0) }
    }
}

extension String {
    /// `Substring.linesAtLineFeeds` of the whole text.
    public func linesAtLineFeeds(omittingEmptySubsequences: Bool = false) -> [Substring] {
        self[...].linesAtLineFeeds(omittingEmptySubsequences: omittingEmptySubsequences)
    }
}
