import Testing
import PatternCore

/// `trimming(_:)` with each set the modules use, over the cases where the sets differ: line
/// breaks, carriage returns, other Unicode white space, "\r\n" (one Character), and a space
/// followed by a combining mark (one Character that is not " ").
@Suite struct TrimmingTests {
    /// Input, then the expected result with `.whitespacesAndNewlines` (KubeClient),
    /// `.spacesTabsAndReturns` (Helm: .helmignore lines, hook annotations) and `.spacesAndTabs`
    /// (Argo CD: sync waves, hook annotations, fasttemplate keys).
    static let table: [(input: String, whitespace: String, spaceTabCR: String, spaceTab: String)] = [
        ("", "", "", ""),
        ("plain", "plain", "plain", "plain"),
        ("  a b  ", "a b", "a b", "a b"),
        ("\t\ta\t", "a", "a", "a"),
        (" \t \t", "", "", ""),
        ("a\r", "a", "a", "a\r"),
        ("\r a \r", "a", "a", "\r a \r"),
        ("\na\n", "a", "\na\n", "\na\n"),
        (" \r\na\r\n ", "a", "\r\na\r\n", "\r\na\r\n"),    // "\r\n" is one Character, not "\r"
        ("\u{A0}a\u{3000}", "a", "\u{A0}a\u{3000}", "\u{A0}a\u{3000}"),
        ("\u{2028}a\u{85}", "a", "\u{2028}a\u{85}", "\u{2028}a\u{85}"),
        ("\u{B}\u{C}a", "a", "\u{B}\u{C}a", "\u{B}\u{C}a"),
        (" \u{301}a", "a", " \u{301}a", " \u{301}a"),       // space + combining acute: one Character
        ("\u{200B}a", "\u{200B}a", "\u{200B}a", "\u{200B}a"), // zero width space is not white space
    ]

    @Test func eachSetTrimsItsCharactersFromBothEnds() {
        for (input, whitespace, spaceTabCR, spaceTab) in Self.table {
            let shown = String(describing: input.unicodeScalars.map { "U+" + String($0.value, radix: 16) })
            #expect(input.trimming(.whitespacesAndNewlines) == whitespace, "\(shown)")
            #expect(input.trimming(.spacesTabsAndReturns) == spaceTabCR, "\(shown)")
            #expect(input.trimming(.spacesAndTabs) == spaceTab, "\(shown)")
            // Substrings (split lines, annotation parts) trim the same.
            let sub = ("x" + input + "x").dropFirst().dropLast()
            #expect(sub.trimming(.spacesTabsAndReturns) == spaceTabCR, "\(shown)")
        }
    }

    /// The helpers the call sites had, kept here as the reference: each set trims exactly as its
    /// call site did before.
    @Test func eachSetTrimsAsTheHelperItReplaced() {
        func kubeClient(_ s: String) -> String {   // KubeClient Text.swift trimmedWhitespace
            guard let first = s.firstIndex(where: { !$0.isWhitespace }) else { return "" }
            return String(s[first...s.lastIndex(where: { !$0.isWhitespace })!])
        }
        func helm(_ s: Substring) -> String {      // Helm HelmIgnore.swift trimmingWhitespace
            var s = s
            while let f = s.first, f == " " || f == "\t" || f == "\r" { s = s.dropFirst() }
            while let l = s.last, l == " " || l == "\t" || l == "\r" { s = s.dropLast() }
            return String(s)
        }
        func argoCD(_ s: Substring) -> String {    // ArgoCD SyncOrdering.swift trimmingCharacters(in: .whitespaces)
            var s = s
            while let f = s.first, f == " " || f == "\t" { s = s.dropFirst() }
            while let l = s.last, l == " " || l == "\t" { s = s.dropLast() }
            return String(s)
        }
        for input in Self.table.map(\.input) + [" \t\r\n\u{A0} ", "\r\r x\r\r", "\t\u{301}\t"] {
            #expect(input.trimming(.whitespacesAndNewlines) == kubeClient(input))
            #expect(input.trimming(.spacesTabsAndReturns) == helm(Substring(input)))
            #expect(input.trimming(.spacesAndTabs) == argoCD(Substring(input)))
        }
        // A set of one's own.
        #expect("--a-b--".trimming(TrimSet(characters: "-")) == "a-b")
        #expect("xxyx".trimming(TrimSet { $0 == "x" || $0 == "y" }) == "")
    }
}
