import Testing
@testable import PatternCore

/// `JSONParser.sharedKey`: values under the key read once per distinct text.
@Suite struct JSONSharedValuesTests {
    /// A LIST-shaped response whose items carry `managedFields` field sets; item `i` gets the
    /// field set `fields(i)`.
    static func list(items: Int, pretty: Bool, fields: (Int) -> String) -> String {
        let nl = pretty ? "\n" : ""
        let objs = (0..<items).map { i in
            #"{"metadata":{"name":"o-\#(i)","managedFields":[{"manager":"pattern","operation":"Apply","# + nl
                + #""fieldsType":"FieldsV1","fieldsV1":\#(fields(i))}]},"data":{"i":"\#(i)"}}"#
        }
        return #"{"kind":"ConfigMapList","metadata":{"resourceVersion":"9"},"items":["# + nl + objs.joined(separator: "," + nl) + "]}"
    }

    static let shapeA = #"{"f:data":{"f:a":{},"f:b":{}},"f:metadata":{"f:labels":{"f:app":{},"k:{\"name\":\"x\"}":{".":{}}}}}"#
    static let shapeB = #"{"f:data":{"f:a":{},"f:c":{}},"f:metadata":{"f:labels":{"f:app":{},"k:{\"name\":\"x\"}":{".":{}}}}}"#
    /// ShapeA's value, written with other spacing: equal, but not the same text.
    static let shapeASpaced = #"{"f:data": {"f:a":{},"f:b":{}},"f:metadata":{"f:labels":{"f:app":{},"k:{\"name\":\"x\"}":{".":{}}}}}"#

    static func fieldSets(_ v: Value) -> [Object] {
        (v["items"]?.array ?? []).compactMap { $0[path: ["metadata", "managedFields"]]?.array?.first?["fieldsV1"]?.object }
    }

    static func parse(_ text: String, shared: Bool, split: Bool) -> Result<Value, Diagnostic> {
        Array(text.utf8).withUnsafeBufferPointer { b in
            Result { () throws(Diagnostic) in
                let p = JSONParser(sharedKey: shared ? "fieldsV1" : nil)
                return split ? try p.parse(bytes: b, file: "r", splittingArrayAt: "items") : try p.parse(bytes: b, file: "r")
            }
        }
    }

    /// Items whose field sets are the same text get one stored map; other texts get their own;
    /// the parse is the unshared one, in the sequential parse and the split one alike.
    @Test(arguments: [(false, false), (false, true), (true, false), (true, true)])
    func sameTextIsReadOnceAndTheValueIsUnchanged(_ pretty: Bool, _ split: Bool) throws {
        let text = Self.list(items: 200, pretty: pretty) { i in
            i % 50 == 7 ? Self.shapeB : i % 50 == 9 ? Self.shapeASpaced : Self.shapeA
        }
        let shared = try Self.parse(text, shared: true, split: split).get()
        let plain = try Self.parse(text, shared: false, split: split).get()
        #expect(shared == plain)
        let sets = Self.fieldSets(shared)
        try #require(sets.count == 200)
        let boxes = sets.map { $0.storageIdentity }
        // Three texts (A, B, A spaced): three stored maps, each item holding its text's.
        #expect(Set(boxes).count == 3)
        #expect(boxes[0] == boxes[199] && boxes[0] == boxes[1])
        #expect(boxes[7] == boxes[57] && boxes[7] != boxes[0])
        #expect(boxes[9] == boxes[59] && boxes[9] != boxes[0] && boxes[9] != boxes[7])
        #expect(sets[9] == sets[0], "the spaced text is the same value")
        #expect(sets[7] != sets[0])
        // Without the key nothing is shared.
        #expect(Set(Self.fieldSets(plain).map { $0.storageIdentity }).count == 200)
        // What follows a shared value is read from the right place.
        #expect(shared["items"]?.array?[123][path: ["data", "i"]] == "123")
    }

    /// A field set that does not parse gives the error the unshared parse gives, whether its
    /// text came before or not.
    @Test(arguments: [
        #"{"f:a":{},"f:a":{}}"#,  // a duplicate key: scans as one value, fails to parse
        #"{"f:a":{},}"#,           // a trailing comma
        #"{"f:a":{}"#,             // unclosed: does not scan as one value
    ])
    func anInvalidFieldSetFailsAsWithoutSharing(_ bad: String) {
        let text = Self.list(items: 100, pretty: true) { i in i == 40 ? bad : Self.shapeA }
        for split in [false, true] {
            let a = Self.parse(text, shared: true, split: split), b = Self.parse(text, shared: false, split: split)
            switch (a, b) {
            case (.failure(let x), .failure(let y)):
                #expect(x.message == y.message && x.location == y.location, "\(x) vs \(y)")
            default:
                Issue.record("\(bad) split \(split): shared \(a), unshared \(b)")
            }
        }
    }

    /// The same text at another depth is read again (the depth limit applies where it is).
    @Test func sameTextAtAnotherDepthIsNotShared() throws {
        let text = #"{"fieldsV1":\#(Self.shapeA),"x":{"fieldsV1":\#(Self.shapeA)},"y":{"fieldsV1":\#(Self.shapeA)}}"#
        let v = try Self.parse(text, shared: true, split: false).get()
        let top = try #require(v["fieldsV1"]?.object), x = try #require(v[path: ["x", "fieldsV1"]]?.object),
            y = try #require(v[path: ["y", "fieldsV1"]]?.object)
        #expect(x.storageIdentity == y.storageIdentity)
        #expect(top.storageIdentity != x.storageIdentity)
        #expect(top == x)
        // The deepest map of shapeA is four levels below it: at depth 1 that is 5, at depth 3 it
        // is 7, past a limit of 7 — even though the same text read at depth 1 was within it.
        let deeper = #"{"fieldsV1":\#(Self.shapeA),"z":{"w":{"fieldsV1":\#(Self.shapeA)}}}"#
        let limited = JSONParser(maxDepth: 7, sharedKey: "fieldsV1")
        #expect(throws: Diagnostic.self) {
            try Array(deeper.utf8).withUnsafeBufferPointer { b throws(Diagnostic) in _ = try limited.parse(bytes: b, file: "r") }
        }
        #expect(throws: Never.self) {
            try Array(text.utf8).withUnsafeBufferPointer { b throws(Diagnostic) in _ = try limited.parse(bytes: b, file: "r") }
        }
    }

    /// Texts that share a hash are told apart by their bytes, and a bucket keeps at most
    /// `bucketLimit` of them (so texts made to collide cost a bounded comparison each).
    @Test func collidingTextsAreComparedAndBounded() {
        let texts = (0..<(SharedValues.bucketLimit + 2)).map { Array("{\"f:\($0)\":{}}".utf8) }
        let shared = SharedValues(key: "fieldsV1")
        withExtendedLifetime(texts) {
            let views = texts.map { t in t.withUnsafeBufferPointer { $0 } }
            for (n, view) in views.enumerated() {
                shared.keep(Value.int(n), for: view, depth: 3, hash: 42)
            }
            for (n, view) in views.enumerated() {
                let found = shared.value(for: view, depth: 3, hash: 42)
                // (`Optional.none`, not `nil`: `Value` is itself expressible by `nil`.)
                let expected: Value? = n < SharedValues.bucketLimit ? Value.int(n) : Optional.none
                #expect(found == expected, "text \(n)")
                #expect(shared.value(for: view, depth: 4, hash: 42) == nil, "text \(n) at another depth")
            }
        }
        // Texts that differ anywhere hash apart (in practice; the bytes decide either way).
        let a = Array(#"{"f:a":{},"f:b":{}}"#.utf8), b = Array(#"{"f:a":{},"f:c":{}}"#.utf8)
        let ha = a.withUnsafeBufferPointer { SharedValues.hash($0, depth: 1) }
        let hb = b.withUnsafeBufferPointer { SharedValues.hash($0, depth: 1) }
        let ha2 = a.withUnsafeBufferPointer { SharedValues.hash($0, depth: 2) }
        #expect(ha != hb && ha != ha2)
    }
}
