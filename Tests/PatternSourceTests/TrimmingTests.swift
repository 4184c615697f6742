import Testing
@testable import PatternSource

/// Header values come from libcurl with their line ending: `"\r\n"` is a single `Character`
/// in Swift, so trimming by `Character` kept it and a `Docker-Content-Digest` never matched.
@Suite struct TrimmingTests {
    @Test(arguments: [
        ("sha256:abc\r\n", "sha256:abc"),
        ("  value\t\n", "value"),
        ("\r\n\r\n", ""),
        ("a b", "a b"),
        ("\r\nx\r", "x"),
        ("", ""),
    ])
    func headerValuesLoseSpacesAndLineEndings(input: String, expected: String) {
        #expect(input.trimmingSpaces() == expected)
    }
}
