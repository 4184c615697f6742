import Testing
@testable import PatternCore

func fixture(_ path: String) -> String {
    let dir = String(#filePath.split(separator: "/").dropLast(2).joined(separator: "/"))
    let tree = LocalTree(root: "/" + dir + "/Fixtures")
    return String(decoding: try! tree.read(try! TreePath(path)), as: UTF8.self)
}

@Suite struct YAMLParseTests {
    @Test func parsesMapsInSourceOrderWithMarks() throws {
        let v = try YAMLParser.parse("b: 1\na:\n  - x\n  - 2.5\n  - true\n  - null\n", file: "f.yaml")
        #expect(v.object?.keys == ["b", "a"])
        #expect(v["b"]?.int == 1)
        #expect(v["a"]?.array?.count == 4)
        #expect(v["a"]?.array?[1] == .double(2.5))
        #expect(v["a"]?.array?[2] == .bool(true))
        #expect(v["a"]?.array?[3].isNull == true)
        #expect(v["a"]?.array?[0].mark == Mark(line: 3, column: 5))
    }

    @Test func resolvesScalarsLikeKustomize() throws {
        let v = try YAMLParser.parse("""
            a: on
            b: "on"
            c: 0123
            d: 1_000
            e: 0x1F
            f: 1e3
            g: .5
            h: ~
            i: yes
            j: !!str 12
            k: '12'
            l: -.inf
            """)
        #expect(v["a"] == "on")           // YAML 1.2: a string
        #expect(v["b"] == "on")
        #expect(v["c"] == 83)             // octal, as yaml.v3
        #expect(v["d"] == 1000)
        #expect(v["e"] == 31)
        #expect(v["f"] == .double(1000))
        #expect(v["g"] == .double(0.5))
        #expect(v["h"]?.isNull == true)
        #expect(v["i"] == "yes")
        #expect(v["j"] == "12")
        #expect(v["k"] == "12")
        #expect(v["l"] == .double(-.infinity))
    }

    @Test func multiDocumentStreamsSkipNothingAndKeepOrder() throws {
        let docs = try YAMLParser.parseStream("a: 1\n---\nb: 2\n---\n# only a comment\n---\nc: 3\n")
        #expect(docs.count == 4)
        #expect(docs[0].value["a"] == 1)
        #expect(docs[2].value.isNull)
        #expect(docs[3].value["c"] == 3)
        #expect(docs[3].mark.line == 6)
    }

    @Test func anchorsAliasesAndMergeKeys() throws {
        let v = try YAMLParser.parse("""
            base: &b {x: 1, y: 2}
            derived:
              <<: *b
              y: 3
            copy: *b
            """)
        #expect(v["derived"] == ["x": 1, "y": 3])
        #expect(v["copy"] == ["x": 1, "y": 2])
    }

    @Test func duplicateKeysAreErrorsNamingBothPlaces() {
        do {
            _ = try YAMLParser.parse("a: 1\nb: 2\na: 3\n", file: "dup.yaml")
            Issue.record("expected an error")
        } catch {
            #expect(error.location == SourceLocation(file: "dup.yaml", line: 3, column: 1))
            #expect(error.related == [SourceLocation(file: "dup.yaml", line: 1, column: 1)])
            #expect(error.message.contains("duplicate key 'a'"))
            #expect(error.fix != nil)
        }
    }

    @Test func billionLaughsFailsFast() {
        var doc = "a0: &a0 [lol, lol, lol, lol, lol, lol, lol, lol, lol, lol]\n"
        for i in 1...12 {
            doc += "a\(i): &a\(i) [" + Array(repeating: "*a\(i - 1)", count: 10).joined(separator: ", ") + "]\n"
        }
        let start = ContinuousClock.now
        #expect(throws: Diagnostic.self) { try YAMLParser.parse(doc, file: "laughs.yaml") }
        do { _ = try YAMLParser.parse(doc, file: "laughs.yaml") } catch {
            #expect(error.message.contains("aliases expand"))
            #expect(error.location?.file == "laughs.yaml")
        }
        // Fails long before expanding 10^13 nodes (generous bound, not a timing test of speed).
        #expect(ContinuousClock.now - start < .seconds(5))
    }

    @Test func nestingDepthIsBounded() {
        let deep = String(repeating: "[", count: 10_000) + String(repeating: "]", count: 10_000)
        do { _ = try YAMLParser.parse(deep, file: "deep.yaml"); Issue.record("expected an error") } catch {
            #expect(error.message.contains("nesting deeper than"))
            #expect(error.location?.mark.line == 1)
        }
    }

    @Test func documentSizeIsBounded() {
        let big = "a: " + String(repeating: "x", count: 2000) + "\n"
        do {
            _ = try YAMLParser.parseStream(big, file: "big.yaml", limits: YAMLLimits(maxBytes: 1000))
            Issue.record("expected an error")
        } catch {
            #expect(error.message.contains("more than the limit"))
        }
    }

    @Test func tabsAsIndentationGetAClearError() {
        do { _ = try YAMLParser.parse("a:\n\tb: 1\n", file: "tabs.yaml"); Issue.record("expected an error") } catch {
            #expect(error.message.contains("tab"))
            #expect(error.location?.mark.line == 2)
            #expect(error.fix?.contains("spaces") == true)
        }
    }

    @Test func invalidUTF8GetsAClearError() {
        let bytes: [UInt8] = Array("a: ok\nb: ".utf8) + [0xC3, 0x28] + Array("\n".utf8)
        do {
            _ = try bytes.withUnsafeBufferPointer { try YAMLParser.parseStream(bytes: $0, file: "bad.yaml") }
            Issue.record("expected an error")
        } catch let error as Diagnostic {
            #expect(error.message.contains("UTF-8"))
            #expect(error.location?.mark.line == 2)
        } catch { Issue.record("unexpected error type") }
    }

    @Test func syntaxErrorsCarryLocationAndFix() {
        do { _ = try YAMLParser.parse("a: b: c\n", file: "s.yaml"); Issue.record("expected an error") } catch {
            #expect(error.location?.file == "s.yaml")
            #expect(error.location?.mark.line == 1)
            #expect(error.fix?.isEmpty == false)
        }
    }

    @Test func nonScalarKeysAreRejected() {
        #expect(throws: Diagnostic.self) { try YAMLParser.parse("? [a, b]\n: c\n") }
    }

    @Test func fuzzedInputNeverCrashes() {
        // Deterministic pseudo-random mutations of a valid document: every outcome must be a
        // value or a Diagnostic, never a crash or hang.
        let seed = Array("apiVersion: v1\nkind: ConfigMap\nmetadata: {name: x, labels: {a: b}}\ndata:\n  k: |\n    line\n  l: [1, 2, &x 3, *x]\n".utf8)
        var rng = SplitMix(seed: 42)
        let alphabet: [UInt8] = Array(":-[]{}&*!|>'\"#%@`\t\n ?,abc0123".utf8) + [0xFF, 0xC3, 0x00]
        for _ in 0..<2000 {
            var b = seed
            for _ in 0..<(1 + Int(rng.next() % 4)) {
                let pos = Int(rng.next() % UInt64(b.count))
                switch rng.next() % 3 {
                case 0: b[pos] = alphabet[Int(rng.next() % UInt64(alphabet.count))]
                case 1: b.insert(alphabet[Int(rng.next() % UInt64(alphabet.count))], at: pos)
                default: b.remove(at: pos)
                }
            }
            _ = try? b.withUnsafeBufferPointer { try YAMLParser.parseStream(bytes: $0, file: "fuzz.yaml") }
        }
    }
}

struct SplitMix {
    var state: UInt64
    init(seed: UInt64) { state = seed }
    mutating func next() -> UInt64 {
        state &+= 0x9E3779B97F4A7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58476D1CE4E5B9
        z = (z ^ (z >> 27)) &* 0x94D049BB133111EB
        return z ^ (z >> 31)
    }
}

@Suite struct YAMLEmitTests {
    @Test func emitsExactlyWhatKustomizePrints() throws {
        let input = try YAMLParser.parse(fixture("yaml/quoting-input.yaml"))
        let expected = fixture("yaml/quoting-kustomize-output.yaml")
        // Kustomize turns the unquoted timestamp into RFC 3339; everything else is a pure
        // re-emission, which must match byte for byte.
        var v = input
        v[path: ["data", "ts"]] = "2001-12-14T00:00:00Z"
        #expect(YAMLEmitter(options: .init(sortKeys: true)).emit(v) == expected)
    }

    @Test func stringsThatYAML11ReadersMisreadAreQuoted() throws {
        let risky = ["on", "off", "yes", "no", "y", "n", "Y", "N", "ON", "0123", "1e3", "null", "~", "true",
                     "a: b", "a #b", "-", "- x", "?", ": x", "x:", "1:20", "0b101", "1_000", ".5", "+1",
                     "2001-12-14", "", " lead", "trail ", "*x", "&x", "!x", "%x", "@x", "`x", "{x}", "[x]",
                     "'q'", "\"q\"", "|", ">", "#c", "tab\there", "nul\u{0}x", "multi\nline\n", "multi\nline",
                     "  indented\nblock", "trailing space \nline", "=", "<<", ".inf", "-.inf", ".nan", "0x1F", "0o17"]
        for s in risky {
            let doc: Value = ["k": .string(s), .init(stringLiteral: s): "key"]
            let text = YAMLEmitter().emit(doc)
            let back = try YAMLParser.parse(text)
            #expect(back == doc, "round trip failed for \(s.debugDescription): \(text)")
            // YAML 1.1 words and number-like text must never be emitted plain.
            let line = text.split(separator: "\n").first { $0.hasPrefix("k:") }
            if ["on", "off", "yes", "no", "y", "n", "0123", "1e3", "1:20", "2001-12-14", "1_000"].contains(s) {
                #expect(line == "k: \"\(s)\"", "\(s) must be double-quoted, got \(line ?? "")")
            }
        }
    }

    @Test func roundTripsNestedStructures() throws {
        let v: Value = [
            "apiVersion": "apps/v1",
            "spec": ["template": ["spec": ["containers": [["name": "a", "args": ["--x", "1"], "env": []]]]]],
            "list": [[1, 2], ["a": [:]], nil, 1.5, -3, true],
            "empty": [:],
            "text": "line1\nline2\n",
        ]
        let yaml = YAMLEmitter().emit(v)
        #expect(try YAMLParser.parse(yaml) == v)
        #expect(yaml.contains("containers:\n      - args:") || yaml.contains("containers:\n      - name: a"))
        // JSON round trip as well.
        #expect(try JSONParser.parse(JSONWriter.string(v)) == v)
        #expect(try JSONParser.parse(JSONWriter.string(v, options: .init(indent: 2))) == v)
    }

    @Test func keepsSourceKeyOrderUnlessAskedToSort() throws {
        let v = try YAMLParser.parse("kind: A\napiVersion: v1\nmetadata: {name: x}\n")
        #expect(YAMLEmitter().emit(v) == "kind: A\napiVersion: v1\nmetadata:\n  name: x\n")
        #expect(YAMLEmitter(options: .init(sortKeys: true)).emit(v) == "apiVersion: v1\nkind: A\nmetadata:\n  name: x\n")
    }
}

@Suite struct YAMLQuotingRulesTests {
    @Test func quotesExactlyWhatGoYAMLv2WouldMisread() {
        for s in ["0123", "1e3", "1_000", "0x1F", "0b101", "0o17", "+1", "-2.5", ".5", "1.", "1:20", "190:20:30", "2001-12-14",
                  "+inf", "-Infinity", "1e+3", "0x1p-2"] {
            #expect(YAMLScalar.style(for: s) == .doubleQuoted, "\(s) must be quoted")
        }
        for s in ["14f69ae6631c2bf337821990de5349fc11c63d1d", "1a", "3d-printer", "1.2.3", "10.0.0.1", "v1.2.3", "1-2", "0-9", "80/TCP",
                  "100m", "128Mi", "-Xmx512m", "1 GB", "2h30m"] {
            #expect(YAMLScalar.style(for: s) == .plain, "\(s) may be plain")
        }
    }

    /// go-yaml's base-60 rule, as `kubectl kustomize` v5.5.0 printed each of these.
    @Test func base60TextIsQuotedExactlyAsKubectlQuotesIt() {
        for s in ["0:30", "1:20", "1:20.5", "1_0:20", "+1:20", "12:34:56.7_8", "1:20.", "190:20:30", "-1:05"] {
            #expect(YAMLScalar.style(for: s) == .doubleQuoted, "\(s) is base 60")
        }
        for s in ["1:60", "9:4.x", "1:2_0", "1:5a", "1::2", "1:123", ":30"] {
            #expect(YAMLScalar.style(for: s) == .plain, "\(s) is no base-60 number")
        }
    }

    @Test func decimalIntegersReadStraightFromTheirBytesAgreeWithTheFullReader() {
        let cases: [(String, Int?)] = [("0", 0), ("-0", 0), ("+5", 5), ("42", 42), ("-17", -17), ("999999999999999999", 999_999_999_999_999_999),
                                       ("007", nil), ("1_000", nil), ("0x1F", nil), ("1e3", nil), ("", nil), ("-", nil), ("+", nil),
                                       ("12a", nil), ("1.0", nil), ("9999999999999999999", nil), (" 1", nil)]
        for (text, expected) in cases {
            #expect(YAMLScalar.plainDecimalInt(text) == expected, "\(text.debugDescription)")
        }
        // What the fast path declines still reads as before.
        for (text, kind) in [("007", Value.Kind.int(7)), ("1_000", .int(1000)), ("0x1F", .int(31)), ("9999999999999999999", .double(9999999999999999999))] {
            #expect(Value(YAMLScalar.resolvePlain(text)) == Value(kind), "\(text)")
        }
        for n in [Int.min + 1, -1_000_000, -1, 0, 1, 80, 8080, 1 << 40, 999_999_999_999_999_999] {
            #expect(Value(YAMLScalar.resolvePlain(String(n))) == .int(n))
        }
    }

    /// `resolveNumber` refuses text outside `fitsNumericAlphabet` without reading it; that is sound
    /// only if the full reading refuses all such text too. Checked over every string of up to
    /// three bytes from a mixed alphabet and over random longer ones.
    @Test func numbersRuledOutEarlyAreNeverReadAsNumbers() {
        let bytes = Array("0123456789+-._ eExXoObBiInNfFaAcCdDmMgGkK/".utf8)
        var samples = ["100m", "128Mi", "1.0.0", "1.0.0-rc1", "0x1F", "0o17", "0b101", "-0x1f", "1_000.5e+3", "+12", "1e5", "0.5Gi", "3d",
                       "0_x1F", "0_b1", "0_o7", "_0x10", "0x-1", "0xfF", "1_0", "0xg", "12f"]
        for a in bytes { for b in bytes { for c in bytes { samples.append(String(decoding: [a, b, c], as: UTF8.self)) } } }
        var rng = SystemRandomNumberGenerator()
        for _ in 0..<20_000 {
            let n = Int.random(in: 4...16, using: &rng)
            samples.append(String(decoding: (0..<n).map { _ in bytes.randomElement(using: &rng)! }, as: UTF8.self))
        }
        var ruledOut = 0, read = 0
        for s in samples {
            if YAMLScalar.readNumber(s) != nil { read += 1 }
            guard !YAMLScalar.fitsNumericAlphabet(s.utf8) else { continue }
            ruledOut += 1
            #expect(YAMLScalar.readNumber(s) == nil, "\(s.debugDescription) is ruled out early but reads as a number")
        }
        #expect(ruledOut > 10_000 && read > 1_000, "the sample holds both kinds")
        #expect(Value(YAMLScalar.resolvePlain("100m")) == "100m")
        #expect(Value(YAMLScalar.resolvePlain("0x1F")) == .int(31))
        #expect(Value(YAMLScalar.resolvePlain("1_000.5e+3")) == .double(1_000_500))
    }

    /// `isAmbiguous` stops early on number-like text holding a byte outside the numeric
    /// alphabet; that is sound only if no such text is a number, a time or a base-60 form to
    /// any reader. Checked over every string of up to three bytes from a mixed alphabet and
    /// over random longer ones.
    @Test func textOutsideTheNumericAlphabetIsNeverANumberOrATime() {
        let bytes = Array("0123456789+-._: eExXoObBpPiInNfFtTzZyYaAmMgGkK/@#".utf8)
        var samples: [String] = []
        for a in bytes { for b in bytes { for c in bytes { samples.append(String(decoding: [a, b, c], as: UTF8.self)) } } }
        var rng = SystemRandomNumberGenerator()
        for _ in 0..<20_000 {
            let n = Int.random(in: 4...24, using: &rng)
            samples.append(String(decoding: (0..<n).map { _ in bytes.randomElement(using: &rng)! }, as: UTF8.self))
        }
        samples += ["2001-12-14T21:59:43.10-05:00", "2001-12-14 21:59:43.10 -5", "0x1p-2", "-Infinity", "1_000.5e+3", "190:20:30.15"]
        var checked = 0
        for s in samples {
            let u = s.utf8
            guard let f = u.first, (f >= 48 && f <= 57) || f == UInt8(ascii: "+") || f == UInt8(ascii: "-") || f == UInt8(ascii: ".") else { continue }
            let numberLike: Bool
            if case .string = YAMLScalar.resolvePlain(s) { numberLike = YAMLScalar.isGoNumber(s) || YAMLScalar.isBase60(s) || YAMLScalar.looksLikeTimestamp(u) }
            else { numberLike = true }
            if numberLike {
                #expect(YAMLScalar.fitsNumericAlphabet(u), "\(s.debugDescription) reads as a number or time but leaves the alphabet")
                checked += 1
            }
        }
        #expect(checked > 1_000, "the sample holds number-like text")
    }

    /// The YAML 1.1 words (booleans, null, merge and value keys) are found by a packed-integer
    /// set: every text of up to four bytes over their letters, and the longer spellings, must
    /// be ambiguous exactly when go-yaml would read it as something other than a string.
    @Test func ambiguousWordsAreExactlyTheYAML11Words() {
        let words: Set<String> = [
            "y", "Y", "yes", "Yes", "YES", "n", "N", "no", "No", "NO",
            "on", "On", "ON", "off", "Off", "OFF", "true", "True", "TRUE", "false", "False", "FALSE",
            "null", "Null", "NULL", "~", "<<", "=",
        ]
        // Every text of up to three bytes over the words' letters, every upper/lower-case
        // spelling of every word, and near misses.
        let alphabet = Array("yYeEsSnNoOfFtTrRuUlLaA~<=".utf8)
        var texts: [String] = [""]
        var layer: [String] = [""]
        for _ in 0..<3 {
            layer = layer.flatMap { t in alphabet.map { t + String(UnicodeScalar($0)) } }
            texts += layer
        }
        for w in words {
            var spellings = [""]
            for c in w { spellings = spellings.flatMap { [$0 + c.lowercased(), $0 + c.uppercased()] } }
            texts += spellings
        }
        texts += ["nulls", "truee", "yes!", "<<<", "==", "~~", "falsy", "Nul"]
        texts = Array(Set(texts))
        var ambiguous = 0
        for t in texts where !t.isEmpty {
            #expect(YAMLScalar.isAmbiguous(t) == words.contains(t), "\(t)")
            if YAMLScalar.isSimpleWord(t) { #expect(YAMLScalar.isReservedWord(t) == words.contains(t), "\(t)") }
            if words.contains(t) { ambiguous += 1 }
        }
        #expect(ambiguous == words.count)
    }

    /// For simple words (letters first), the short check gives `isAmbiguous`'s answer: over
    /// every simple word of up to three bytes from letters, digits and the allowed marks, and
    /// over longer words that look like numbers, times or YAML words after their first letter.
    @Test func simpleWordsNeedOnlyTheWordCheck() {
        let alphabet = Array("yYnNoOtTfFaeEsSlLrRuU0123456789._-/:@xX".utf8)
        var layer: [String] = [""], texts: [String] = []
        for _ in 0..<3 {
            layer = layer.flatMap { t in alphabet.map { t + String(UnicodeScalar($0)) } }
            texts += layer
        }
        texts += ["e10", "x1F", "Inf", "NaN", "nan", "inf", "T12:00", "yes1", "Yes.", "null_", "true-", "E-5", "b101"]
        var simple = 0
        for t in texts where YAMLScalar.isSimpleWord(t) {
            simple += 1
            #expect(YAMLScalar.isReservedWord(t) == YAMLScalar.isAmbiguous(t), "\(t)")
        }
        #expect(simple > 10_000)
    }
}
