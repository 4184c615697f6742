import Testing
import PatternCore

/// `containsUTF8` against the standard library's `contains` on every short ASCII text and
/// needle over a small alphabet (where partial matches, repeats and overlaps all occur), on
/// substrings, and on the one case where they differ by design.
@Suite struct ByteSearchTests {
    static let alphabet: [Character] = [":", "/", "a", "."]

    static func strings(upTo length: Int) -> [String] {
        var all = [""], layer = [""]
        for _ in 0..<length {
            layer = layer.flatMap { s in alphabet.map { s + String($0) } }
            all += layer
        }
        return all
    }

    @Test func agreesWithContainsOnAllShortASCIIStrings() {
        // Non-empty needles: the empty one is found everywhere (checked below).
        let texts = Self.strings(upTo: 5), needles = Self.strings(upTo: 3).filter { !$0.isEmpty }
        var checked = 0
        for t in texts {
            for n in needles {
                #expect(t.containsUTF8(n) == t.contains(n), "\(t) contains \(n)")
                checked += 1
            }
        }
        #expect(checked == 1365 * 84)
        #expect(texts.allSatisfy { $0.containsUTF8("") })
    }

    @Test func searchesSubstringsAndNonASCIIText() {
        let s = "prefix-héllo://wörld"
        let sub = s.dropFirst(7)   // "héllo://wörld"
        #expect(sub.containsUTF8("://"))
        #expect(sub.containsUTF8("héllo"))
        #expect(!sub.containsUTF8("prefix"))
        #expect(!"".containsUTF8("a"))
        #expect("".containsUTF8(""))
        #expect(!"ab".containsUTF8("abc"))
    }

    /// Characters differ from bytes only where a combining mark extends the match's last
    /// character: no hand-written path or URL does that.
    @Test func bytesMatchWhereACombiningMarkFollows() {
        let s = "https:/\u{301}/x"
        #expect(s.containsUTF8(":/"))
        #expect(!s.contains(":/"))
    }
}
