import PatternCore
import Testing
@testable import HelmTemplate

/// Functions issue 9 names that the other tables did not exercise: `kindIs`, `htmlDate`,
/// `fromJsonArray`, and the clock readers `now`/`ago` (refused unless allowed).
@Suite struct IssueNineFunctionTests {
    @Test(arguments: [
        ("{{ kindIs \"map\" (dict) }}|{{ kindIs \"slice\" (list 1) }}|{{ kindIs \"string\" 1 }}|{{ kindIs \"int\" 1 }}|{{ kindIs \"float64\" 1.5 }}",
         "true|true|false|true|true"),
        ("{{ htmlDate 0 }}|{{ htmlDate 1704067200 }}", "1970-01-01|2024-01-01"),
        ("{{ fromJsonArray \"[1, \\\"a\\\", true, null]\" }}|{{ typeOf (index (fromJsonArray \"[1]\") 0) }}|{{ len (fromJsonArray \"[]\") }}",
         "[1 a true <nil>]|float64|0"),
    ])
    func functions(_ text: String, _ expected: String) throws {
        #expect(try render(text) == expected)
    }

    @Test func nowAndAgoReadTheClockAndAreRefusedUnlessAllowed() throws {
        #expect(renderError("{{ now }}").contains("error calling now: now is nondeterministic"), "\(renderError("{{ now }}"))")
        #expect(renderError("{{ ago 0 }}").contains("error calling ago: ago is nondeterministic"), "\(renderError("{{ ago 0 }}"))")
        var set = TemplateSet()
        try set.parse(name: "t", text: "{{ now | date \"2006\" | len }}|{{ ago 0 | len | lt 0 }}")
        let r = try TemplateRenderer(templates: set, options: RenderOptions(allowNondeterministic: true)).render("t", data: .null)
        #expect(r.output == "4|true")
        #expect(Set(r.nondeterministicFunctions) == ["now", "ago"])
    }
}
