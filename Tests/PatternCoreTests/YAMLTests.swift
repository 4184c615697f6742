import Testing
@testable import PatternCore

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
}
