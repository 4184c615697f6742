import Testing
@testable import PatternCore

@Suite struct JSONTests {
    @Test func parsesAllValueKinds() throws {
        let v = try JSONParser.parse(#"{"a":[1,-2.5e3,"x\n\"y\u00e9\ud83d\ude00",true,false,null],"b":{}}"#)
        #expect(v["a"]?.array?[0] == 1)
        #expect(v["a"]?.array?[1] == .double(-2500))
        #expect(v["a"]?.array?[2] == "x\n\"yé😀")
        #expect(v["a"]?.array?[5].isNull == true)
        #expect(v["b"]?.object?.isEmpty == true)
    }

    @Test func rejectsInvalidJSONWithLocation() {
        for bad in ["{", "[1,]", "{\"a\" 1}", "tru", "01", "\"\u{1}\"", "{\"a\":1,\"a\":2}", "1 2", "\"\\x\""] {
            #expect(throws: Diagnostic.self, "accepted \(bad)") { try JSONParser.parse(bad) }
        }
        do { _ = try JSONParser.parse("{\n  \"a\": [1,\n  ]\n}", file: "x.json") } catch {
            #expect(error.location?.file == "x.json")
            #expect(error.location?.mark.line == 3)
        }
    }

    /// Maps are built once from the gathered entries: order, lookups (small maps scanned,
    /// large ones indexed), key marks and duplicate keys at either size.
    @Test func mapsKeepOrderLookupsAndRefuseDuplicatesAtAnySize() throws {
        for size in [1, 5, 12, 13, 40] {
            let keys = (0..<size).map { "key\($0)" }
            let text = "{" + keys.enumerated().map { "\n \"\($1)\": \($0)" }.joined(separator: ",") + "\n}"
            let o = try #require(try JSONParser.parse(text).object)
            #expect(o.keys == keys)
            for (i, k) in keys.enumerated() {
                #expect(o[k] == .int(i))
                #expect(o.keyMark(k).map { Int($0.line) } == i + 2)
            }
            #expect(o["absent"] == nil)
            for dup in [0, size - 1] {
                let bad = "{" + (keys + [keys[dup]]).map { "\"\($0)\": 1" }.joined(separator: ", ") + "}"
                do {
                    _ = try JSONParser.parse(bad, file: "d.json")
                    Issue.record("duplicate \(keys[dup]) in \(size) keys accepted")
                } catch {
                    #expect(error.message == "duplicate key '\(keys[dup])'", "\(size)")
                }
            }
        }
    }

    @Test func writerEscapesAndKeepsOrder() {
        let v: Value = ["z": "a\"b\\c\n\u{1}", "a": 1.5, "m": 3]
        #expect(JSONWriter.string(v) == #"{"z":"a\"b\\c\n\u0001","a":1.5,"m":3}"#)
        #expect(JSONWriter.string(v, options: .init(sortKeys: true)) == #"{"a":1.5,"m":3,"z":"a\"b\\c\n\u0001"}"#)
    }

    /// `write(_:omittingAnnotations:into:)` writes what removing the annotations from a copy
    /// and writing that would, without the copy (legacy applied hashes use it).
    @Test func writingWithoutAnnotationsMatchesRemovingThemFirst() throws {
        let omitted = ["pattern.dev/applied-hash", "pattern.dev/revision"]
        let cases: [Value] = [
            try YAMLParser.parse("apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: a\n  annotations:\n    x: \"1\"\n    pattern.dev/revision: r\n    pattern.dev/applied-hash: h\n  labels: {a: b}\ndata: {k: v}\n"),
            try YAMLParser.parse("kind: A\nmetadata:\n  annotations:\n    pattern.dev/revision: r\n"),
            try YAMLParser.parse("kind: A\nmetadata:\n  name: n\n"),
            try YAMLParser.parse("kind: A\nspec: {metadata: {annotations: {pattern.dev/revision: kept}}}\n"),
            try YAMLParser.parse("kind: A\nmetadata: text\n"),
            try YAMLParser.parse("kind: A\nmetadata: {annotations: [1, 2]}\n"),
            ["a": 1],
        ]
        for v in cases {
            var removed = v
            removed.withObject { o in
                o.modify("metadata") { m in
                    m?.withObject { mo in
                        mo.modify("annotations") { a in a?.withObject { ao in for k in omitted { ao.removeValue(forKey: k) } } }
                    }
                }
            }
            var bytes: [UInt8] = []
            JSONWriter.write(v, omittingAnnotations: omitted, into: &bytes)
            #expect(String(decoding: bytes, as: UTF8.self) == JSONWriter.string(removed), "\(JSONWriter.string(v))")
        }
    }

    /// `writeCanonical` writes what removing the annotations (and then an `annotations` that is
    /// empty or not a map) from a copy and writing that with sorted keys would, without the
    /// copy (every object's content digest uses it).
    @Test func canonicalWritingMatchesRemovingTheAnnotationsFirst() throws {
        let omitted = ["pattern.dev/applied-hash", "pattern.dev/revision"]
        let cases: [Value] = [
            try YAMLParser.parse("apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: a\n  annotations:\n    x: \"1\"\n    pattern.dev/revision: r\n    pattern.dev/applied-hash: h\n  labels: {b: c, a: b}\ndata: {k: v, a: [z, {y: 1, x: 2}]}\n"),
            try YAMLParser.parse("kind: A\nmetadata:\n  annotations:\n    pattern.dev/revision: r\n"),
            try YAMLParser.parse("kind: A\nmetadata:\n  annotations: {}\n  name: n\n"),
            try YAMLParser.parse("kind: A\nmetadata:\n  name: n\n"),
            try YAMLParser.parse("kind: A\nspec: {metadata: {annotations: {pattern.dev/revision: kept}}}\n"),
            try YAMLParser.parse("kind: A\nmetadata: text\n"),
            try YAMLParser.parse("kind: A\nmetadata: {annotations: [1, 2], z: 1}\n"),
            try YAMLParser.parse("kind: A\nmetadata: {annotations: null}\n"),
            ["a": 1],
            "text",
        ]
        for v in cases {
            var removed = v
            if removed.object != nil {
                removed.withObject { o in
                    o.modify("metadata") { m in
                        guard m?.object != nil else { return }
                        m!.withObject { mo in
                            mo.modify("annotations") { a in
                                a?.withObject { ao in for k in omitted { ao.removeValue(forKey: k) } }
                                if a?.object?.isEmpty == true { a = nil }
                            }
                        }
                    }
                }
            }
            var bytes: [UInt8] = []
            JSONWriter.writeCanonical(v, omittingAnnotations: omitted, into: &bytes)
            #expect(String(decoding: bytes, as: UTF8.self) == JSONWriter.string(removed, options: .init(sortKeys: true)), "\(JSONWriter.string(v))")
        }
        // Keys are sorted at every depth.
        var sorted: [UInt8] = []
        JSONWriter.writeCanonical(try YAMLParser.parse("b: {d: 1, c: 2}\na: [{f: 1, e: 2}]\n"), omittingAnnotations: omitted, into: &sorted)
        #expect(String(decoding: sorted, as: UTF8.self) == #"{"a":[{"e":2,"f":1}],"b":{"c":2,"d":1}}"#)
    }

    /// Every node's mark, in document order (equality of values ignores marks).
    static func marks(_ v: Value) -> [String] {
        var out = ["\(v.mark.line):\(v.mark.column)"]
        switch v.kind {
        case .object(let o):
            for (k, item) in o { out.append("\(k)@\(o.keyMark(k).map { "\($0.line):\($0.column)" } ?? "-")"); out += marks(item) }
        case .array(let a): for item in a { out += marks(item) }
        default: break
        }
        return out
    }

    static func listJSON(items n: Int, pretty: Bool) -> String {
        let nl = pretty ? "\n" : "", sp = pretty ? "  " : ""
        var items: [String] = []
        for i in 0..<n {
            items.append("\(sp){\(nl)\(sp)\(sp)\"metadata\": {\"name\": \"obj-\(i)\", \"labels\": {\"a\": \"x\\\"y\\\\z\"}},\(nl)"
                + "\(sp)\(sp)\"data\": {\"n\": \(i), \"f\": -1.5e3, \"t\": true, \"z\": null, \"u\": \"\\u00e9\\n]},[\", \"l\": [1, [2, {\"k\": \"}\"}], []]}\(nl)\(sp)}")
        }
        return "{\"kind\": \"ConfigMapList\", \"apiVersion\": \"v1\",\(nl)\"metadata\": {\"resourceVersion\": \"7\"},\(nl)\"items\": [\(nl)"
            + items.joined(separator: ",\(nl)") + "\(nl)]\(nl)}\(nl)"
    }

    static func bothWays(_ text: String) -> (split: Result<Value, Diagnostic>, sequential: Result<Value, Diagnostic>, took: Bool) {
        let bytes = Array(text.utf8)
        return bytes.withUnsafeBufferPointer { b in
            (Result { () throws(Diagnostic) in try JSONParser().parse(bytes: b, file: "r", splittingArrayAt: "items") },
             Result { () throws(Diagnostic) in try JSONParser().parse(bytes: b, file: "r") },
             (try? JSONParser().read(bytes: b, file: "r", splitting: ("items", 64)).split) ?? false)
        }
    }

    /// A LIST response's items parsed on all cores are the sequential parse's, marks included.
    @Test(arguments: [false, true])
    func splittingTheItemsArrayParsesWhatTheSequentialParseDoes(_ pretty: Bool) throws {
        let (split, sequential, took) = Self.bothWays(Self.listJSON(items: 300, pretty: pretty))
        #expect(took, "the split parse applies")
        let a = try split.get(), b = try sequential.get()
        #expect(a == b)
        #expect(a["items"]?.array?.count == 300)
        #expect(a["items"]?.array?[7][path: ["data", "u"]] == "é\n]},[")
        #expect(Self.marks(a) == Self.marks(b))
        #expect(a.object?.keys == ["kind", "apiVersion", "metadata", "items"])
    }

    /// What the split parse does not take gives the sequential result or error, exactly.
    @Test(arguments: [
        ("few items", Self.listJSON(items: 10, pretty: true), false),
        ("an element with a duplicate key", Self.listJSON(items: 100, pretty: true).replacingFirst("\"t\": true", with: "\"t\": true, \"t\": 1"), true),
        ("an invalid element", Self.listJSON(items: 100, pretty: false).replacingFirst("\"t\": true", with: "\"t\": tru"), true),
        ("a duplicate top-level key", Self.listJSON(items: 100, pretty: false).replacingFirst("\"kind\": \"ConfigMapList\",", with: "\"items\": 1,"), true),
        ("content after the object", Self.listJSON(items: 100, pretty: false) + "x", true),
        ("an unterminated array", String(Self.listJSON(items: 100, pretty: false).dropLast(3)), true),
        ("no items", "{\"kind\": \"List\", \"metadata\": {}}", false),
        ("items that are not an array", "{\"items\": {\"a\": 1}}", false),
        ("a control character in a string", Self.listJSON(items: 100, pretty: false).replacingFirst("obj-5\"", with: "obj\n-5\""), true),
    ])
    func anythingUnusualGivesTheSequentialResult(_ what: String, _ text: String, _ fails: Bool) {
        let (split, sequential, took) = Self.bothWays(text)
        #expect(!took, "\(what): split")
        switch (split, sequential) {
        case (.success(let a), .success(let b)):
            #expect(!fails, "\(what) parsed")
            #expect(a == b && Self.marks(a) == Self.marks(b), "\(what)")
        case (.failure(let a), .failure(let b)):
            #expect(fails, "\(what) failed: \(a)")
            #expect(a.message == b.message && a.location == b.location, "\(what): \(a) vs \(b)")
        default:
            Issue.record("\(what): split \(split), sequential \(sequential)")
        }
    }

    /// A leading UTF-8 byte-order mark is skipped (RFC 8259 §8.1), by the parse and by the
    /// member read alike; anywhere else it is content, and not JSON.
    @Test func aLeadingByteOrderMarkIsSkipped() throws {
        let bom: [UInt8] = [0xEF, 0xBB, 0xBF]
        let text = Array(#"{"metadata":{"continue":"t"},"items":[]}"#.utf8)
        let v = try JSONParser.parse(bom + text)
        #expect(v[path: ["metadata", "continue"]]?.string == "t")
        #expect(v.object?.keyMark("metadata")?.column == 2)
        let found = (bom + text).withUnsafeBufferPointer { JSONParser.member("metadata", before: "items", in: $0)?["continue"]?.string }
        #expect(found == "t")
        #expect(throws: Diagnostic.self) { try JSONParser.parse(Array(" ".utf8) + bom + text) }
    }

    /// A top-level member read before the rest: found when it comes before the stop key, not
    /// after it, and nothing at all for text that is not such an object.
    @Test(arguments: [
        (#"{"kind":"List","metadata":{"continue":"t1","resourceVersion":"5"},"items":[1,2]}"#, "t1"),
        (#" { "kind" : "List" , "metadata" : { "continue" : "t\"2" } , "items" : [] } "#, "t\"2"),
        (#"{"kind":"List","items":[{"metadata":{"continue":"no"}}],"metadata":{"continue":"t3"}}"#, nil),
        (#"{"a":[{"x":"}]"},"\\"],"metadata":{"continue":"t4"}}"#, "t4"),
        (#"{"metadata":{"resourceVersion":"5"},"items":[]}"#, nil),
        (#"[{"metadata":{"continue":"t"}}]"#, nil),
        (#"{"kind":"List","metadata":"#, nil),
        (#"{"kind":"List""#, nil),
        ("", nil),
    ] as [(String, String?)])
    func aTopLevelMemberIsReadBeforeTheItems(_ json: String, _ token: String?) {
        let bytes = Array(json.utf8)
        let found = bytes.withUnsafeBufferPointer { JSONParser.member("metadata", before: "items", in: $0)?["continue"]?.string }
        #expect(found == token, "\(json)")
    }

    /// The scan that finds the items of a split array jumps through strings a word at a time,
    /// to the first quote or backslash of each word: an escaped quote or backslash (or one
    /// next to another, or two in one word) at every position of strings of every length up
    /// to 24 (three words) ends no string early and lets none run on, so the split parse takes
    /// every such array and reads what the sequential parse reads.
    @Test func theSplitScanFindsEveryStringsEndAtEveryPosition() throws {
        let escapes = [#"\""#, #"\\"#, #"\\\""#, #"\"\""#]
        for length in 0...24 {
            for position in 0...length {
                for e in escapes {
                    let plain = String(repeating: "a", count: length)
                    let text = String(plain.prefix(position)) + e + String(plain.dropFirst(position))
                    // Elements of different offsets, so each string starts at each byte of a word.
                    let items = (0..<64).map { i in "{\"p\":\"\(String(repeating: "b", count: i % 8))\",\"s\":\"\(text)\",\"n\":\(i)}" }
                    let json = "{\"items\":[" + items.joined(separator: ",") + "],\"k\":\"\(text)\"}"
                    let (split, sequential, took) = Self.bothWays(json)
                    #expect(took, "length \(length), escape \(e) at \(position): split")
                    let a = try split.get(), b = try sequential.get()
                    #expect(a == b && Self.marks(a) == Self.marks(b), "length \(length), escape \(e) at \(position)")
                    #expect(a["items"]?.array?.count == 64)
                }
            }
        }
    }

    /// Strings are scanned eight bytes at a time: a quote, backslash, control character or
    /// non-ASCII byte at every position of strings of every length up to 40 is found where it is.
    @Test func stringsScannedByWordsFindEveryByteThatMatters() throws {
        let specials: [(json: String, decoded: String?)] = [
            ("\\\"", "\""), ("\\\\", "\\"), ("\\n", "\n"), ("é", "é"), ("\u{1}", nil), ("\t", nil), ("\u{7F}", "\u{7F}"),
        ]
        for length in 0...40 {
            let plain = String((0..<length).map { Character(Unicode.Scalar(UInt8(97 + $0 % 26))) })
            let doc = "[\"\(plain)\",\"x\"]"
            #expect(try JSONParser.parse(doc).array?.map(\.string) == [plain, "x"], "\(length)")
            for at in 0...length {
                let head = String(plain.prefix(at)), tail = String(plain.dropFirst(at))
                for (json, decoded) in specials {
                    let text = "{\"k\":\"\(head)\(json)\(tail)\",\"n\":1}"
                    if let decoded {
                        let v = try JSONParser.parse(text)
                        #expect(v["k"]?.string == head + decoded + tail && v["n"] == 1, "\(text)")
                    } else {
                        #expect(throws: Diagnostic.self, "\(text)") { try JSONParser.parse(text) }
                    }
                }
            }
        }
        // The split scan skips strings the same way: quotes and backslashes at every position.
        for at in 0...20 {
            let pad = String(repeating: "p", count: at)
            let list = Self.listJSON(items: 80, pretty: false).replacingFirst("obj-3\"", with: "obj-3\(pad)\\\"\(pad)\\\\\"")
            let (split, sequential, took) = Self.bothWays(list)
            #expect(took)
            #expect(try split.get() == sequential.get(), "\(at)")
        }
    }

    /// The writer checks strings eight bytes at a time: a byte that must be escaped, at every
    /// position of strings of every length up to 40, is escaped, and the text reads back.
    @Test func writerFindsEveryByteToEscapeAtEveryPosition() throws {
        let specials: [(raw: String, written: String)] = [
            ("\"", "\\\""), ("\\", "\\\\"), ("\n", "\\n"), ("\u{1}", "\\u0001"), ("\u{1F}", "\\u001f"),
            ("é", "é"), ("\u{7F}", "\u{7F}"), (" ", " "),
        ]
        for length in 0...40 {
            let plain = String((0..<length).map { Character(Unicode.Scalar(UInt8(97 + $0 % 26))) })
            #expect(JSONWriter.string(.string(plain)) == "\"\(plain)\"")
            for at in 0...length {
                let head = String(plain.prefix(at)), tail = String(plain.dropFirst(at))
                for (raw, written) in specials {
                    let s = head + raw + tail
                    let text = JSONWriter.string(.string(s))
                    #expect(text == "\"" + head + written + tail + "\"", "\(length) at \(at): \(text)")
                    #expect(try JSONParser.parse(text).string == s)
                }
            }
        }
    }

    @Test func deepNestingIsBounded() {
        let deep = String(repeating: "[", count: 100_000)
        #expect(throws: Diagnostic.self) { try JSONParser.parse(deep) }
    }
}

@Suite struct ValueTests {
    @Test func equalityIgnoresMapOrderAndMarks() throws {
        let a = try YAMLParser.parse("x: 1\ny: [a, b]\n")
        let b = try JSONParser.parse(#"{"y":["a","b"],"x":1}"#)
        #expect(a == b)
        #expect(a.hashValue == b.hashValue)
        #expect(a != (try YAMLParser.parse("x: 1\ny: [b, a]\n")))
    }

    @Test func pathSubscriptCreatesAndDeletes() {
        var v: Value = [:]
        v[path: ["metadata", "labels", "app"]] = "web"
        #expect(v[path: ["metadata", "labels", "app"]] == "web")
        v[path: ["metadata", "labels", "app"]] = nil
        #expect(v[path: ["metadata", "labels"]]?.object?.isEmpty == true)
    }

    @Test func largeMapsStayConsistent() {
        var o = Object()
        for i in 0..<100 { o["k\(i)"] = .int(i) }
        for i in stride(from: 0, to: 100, by: 3) { o.removeValue(forKey: "k\(i)") }
        #expect(o.count == 66)
        #expect(o["k1"] == 1 && o["k3"] == nil && o["k98"] == 98)
        #expect(o.keys.first == "k1")
    }

    @Test func sha256MatchesKnownVectors() {
        #expect(SHA256.hex("") == "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855")
        #expect(SHA256.hex("abc") == "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad")
        #expect(SHA256.hex(String(repeating: "a", count: 1000)) == "41edece42d63e8d9bf515a9ba6932e1c20cbc9f5a5d134645adb5db1b9737ea3")
    }

    /// One-shot digests (libcrypto) and the portable incremental code agree at every length
    /// around the 64-byte block and its padding boundary, and on a large buffer.
    @Test func oneShotAndIncrementalDigestsAgree() {
        for n in Array(0...130) + [1_000, 65_537] {
            let bytes = (0..<n).map { UInt8(truncatingIfNeeded: $0 &* 31 &+ 7) }
            var h = SHA256()
            for chunk in stride(from: 0, to: n, by: 17) { h.update(bytes[chunk..<min(n, chunk + 17)]) }
            #expect(SHA256.digest(bytes) == h.finalize(), "length \(n)")
        }
        #expect(SHA256.hex([UInt8]("abc".utf8)) == "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad")
    }
}

@Suite struct SourceTreeTests {
    @Test func pathsCannotEscape() {
        #expect(throws: TreePathError.self) { try TreePath("../x") }
        #expect(throws: TreePathError.self) { try TreePath("a/../../x") }
        #expect(throws: TreePathError.self) { try TreePath("/etc/passwd") }
        #expect((try? TreePath("a/./b/../c"))?.string == "a/c")
    }
}

extension String {
    /// The text with the first occurrence of `target` replaced (tests build variants of one input).
    func replacingFirst(_ target: String, with replacement: String) -> String {
        guard let r = range(of: target) else { return self }
        return replacingCharacters(in: r, with: replacement)
    }
}
