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

    @Test func writerEscapesAndKeepsOrder() {
        let v: Value = ["z": "a\"b\\c\n\u{1}", "a": 1.5, "m": 3]
        #expect(JSONWriter.string(v) == #"{"z":"a\"b\\c\n\u0001","a":1.5,"m":3}"#)
        #expect(JSONWriter.string(v, options: .init(sortKeys: true)) == #"{"a":1.5,"m":3,"z":"a\"b\\c\n\u0001"}"#)
    }

    /// `write(_:omittingAnnotations:into:)` writes what removing the annotations from a copy
    /// and writing that would, without the copy (the applied-hash of every object uses it).
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
