import Testing
@testable import PatternCompile
@testable import PatternCore

/// The read-only scan that decides whether an object is walked for `${…}` references at all:
/// a `$` anywhere (a string at any depth, in a list or a map, or a map key) must be found, or
/// the reference is left unsubstituted.
@Suite struct SubstitutionScanTests {
    @Test(arguments: [
        ("a: plain\nb: [1, two, {c: d}]\n", false),
        ("a: ${x}\n", true),
        ("a: [1, [2, [x, 'y$']]]\n", true),
        ("a: {b: {c: [{d: e}, {f: 'g ${h}'}]}}\n", true),
        ("a: {'k$': 1}\n", true),
        ("a: [{b: 1}, {'${k}': v}]\n", true),
        ("a: 1\nb: true\nc: null\nd: 2.5\n", false),
        ("a: 'dollar-free $ne'\n", true),
        ("a: {b: [], c: {}}\n", false),
    ])
    func aDollarAnywhereIsFound(_ yaml: String, _ found: Bool) throws {
        let v = try YAMLParser.parse(yaml)
        #expect(Substituter.mentionsDollar(v) == found, "\(yaml)")
    }
}
