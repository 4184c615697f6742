import Testing
@testable import PatternCore

/// go-yaml v2's key order (`YAMLScalar.keyLess`): the byte-level fast path must agree with the
/// rune-level comparison everywhere it answers.
@Suite struct YAMLKeyOrderTests {
    @Test(arguments: [
        ("apiVersion", "kind", true), ("kind", "apiVersion", false), ("metadata", "metadata", false),
        ("spec", "specs", true), ("specs", "spec", false), ("item2", "item10", true), ("item10", "item2", false),
        ("v1.2.9", "v1.2.10", true), ("a", "B", false), ("B", "a", true), ("a-b", "ab", true), ("ab", "a-b", false),
        ("x1y", "x1Y", false), ("name", "näme", true), ("", "a", true), ("a", "", false), ("007", "7", false),
    ])
    func table(_ a: String, _ b: String, _ less: Bool) {
        #expect(YAMLScalar.keyLess(a, b) == less, "\(a) < \(b)")
        #expect(YAMLScalar.keyLess(a, b) == YAMLScalar.keyLessSlow(Array(a.unicodeScalars), Array(b.unicodeScalars)))
    }

    @Test func fastPathAgreesWithTheRuneComparisonOnMixedKeys() {
        // Letters of both cases, digits, punctuation and a non-ASCII letter, in short keys
        // that share prefixes: every pair.
        let alphabet: [Character] = ["a", "b", "Z", "0", "1", "9", "-", ".", "_", "é"]
        var keys: [String] = [""]
        for c in alphabet { keys.append(String(c)) }
        for c in alphabet { for d in alphabet { keys.append(String([c, d])) } }
        for d in alphabet { keys.append("ab" + String(d) + "1") }
        for a in keys {
            for b in keys {
                let slow = YAMLScalar.keyLessSlow(Array(a.unicodeScalars), Array(b.unicodeScalars))
                #expect(YAMLScalar.keyLess(a, b) == slow, "\(a) < \(b)")
            }
        }
    }

    @Test func emittedMapsAreInKeyOrderAtEverySize() throws {
        // Maps out of order, small (sorted on the stack) and large (sorted as an array), with
        // keys whose natural order is not their byte order.
        var state: UInt64 = 42
        for n in [2, 3, 5, 8, 16, 31, 32, 33, 40, 70] {
            var keys = (0..<n).map { "item\($0)" }
            for i in stride(from: keys.count - 1, to: 0, by: -1) {
                state = state &* 6_364_136_223_846_793_005 &+ 1_442_695_040_888_963_407
                keys.swapAt(i, Int((state >> 33) % UInt64(i + 1)))
            }
            if keys == keys.sorted(by: YAMLScalar.keyLess) { keys.reverse() }
            var o = Object()
            for (i, k) in keys.enumerated() { o.set(k, .int(i)) }
            let text = YAMLEmitter(options: .init(sortKeys: true)).emit(.object(o))
            let written = text.split(separator: "\n").map { String($0.prefix(while: { $0 != ":" })) }
            #expect(written == keys.sorted(by: YAMLScalar.keyLess), "\(n) keys")
            #expect(written == (0..<n).map { "item\($0)" }, "\(n) keys: natural order")
            // The values stay with their keys.
            let back = try YAMLParser.parse(text)
            for (i, k) in keys.enumerated() { #expect(back[k] == .int(i)) }
        }
    }
}
