import Testing
import PatternCore

/// The byte-level splits on the hot path of every build: tree paths at "/" and `apiVersion`
/// at its first "/".
@Suite struct PathAndKindParsingTests {
    @Test func treePathsNormalizeLikeBefore() throws {
        let table: [(path: String, base: [String], expected: [String])] = [
            ("a/b/c.yaml", [], ["a", "b", "c.yaml"]),
            ("a//b/", [], ["a", "b"]),
            ("./a/./b", [], ["a", "b"]),
            ("../x", ["base", "dir"], ["base", "x"]),
            ("../../x", ["base", "dir"], ["x"]),
            ("..", ["a"], []),
            ("", ["a"], ["a"]),
            ("é/ü.yaml", [], ["é", "ü.yaml"]),
            ("..a/.b/c..", [], ["..a", ".b", "c.."]),
        ]
        for (path, base, expected) in table {
            let b = try TreePath(base.joined(separator: "/"))
            #expect(try TreePath(path, relativeTo: b).components == expected, "\(path) from \(base)")
        }
    }

    @Test func treePathsRefuseToLeaveTheTree() {
        #expect(throws: TreePathError.escapes("../x")) { try TreePath("../x") }
        #expect(throws: TreePathError.escapes("a/../../x")) { try TreePath("a/../../x") }
        #expect(throws: TreePathError.absolute("/etc/passwd")) { try TreePath("/etc/passwd") }
    }

    /// A "/" followed by a combining mark is one `Character`, but the file system splits at
    /// the byte: so does `TreePath`.
    @Test func aSlashBeforeACombiningMarkStillSeparates() throws {
        #expect(try TreePath("a/\u{301}b").components == ["a", "\u{301}b"])
    }

    @Test func apiVersionSplitsAtTheFirstSlash() {
        let table: [(apiVersion: String, group: String, version: String)] = [
            ("v1", "", "v1"),
            ("apps/v1", "apps", "v1"),
            ("networking.k8s.io/v1beta1", "networking.k8s.io", "v1beta1"),
            ("a/b/c", "a", "b/c"),
            ("/v1", "", "v1"),
            ("", "", ""),
            ("grüße.example/v1", "grüße.example", "v1"),
        ]
        for (apiVersion, group, version) in table {
            let gvk = GroupVersionKind(apiVersion: apiVersion, kind: "K")
            #expect(gvk.group == group && gvk.version == version && gvk.kind == "K", "\(apiVersion)")
        }
    }
}
