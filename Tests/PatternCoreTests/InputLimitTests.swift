import Testing
import TestSupport
@testable import PatternCore
#if canImport(Glibc)
import Glibc
#endif

/// Issue 12: expanded bytes of aliases are bounded, not only their node count.
@Suite struct YAMLExpansionLimitTests {
    @Test func aLargeAnchoredScalarRepeatedByAliasesIsRefused() {
        let big = String(repeating: "x", count: 1 << 20)
        var text = "a: &blob \(big)\nlist:\n"
        for _ in 0..<4000 { text += "- *blob\n" }
        do {
            _ = try YAMLParser.parse(text, file: "bomb.yaml")
            Issue.record("expected an error")
        } catch {
            #expect(error.message.contains("aliases expand to more than"))
            #expect(error.message.contains("bytes"))
            #expect(error.location?.file == "bomb.yaml")
            #expect((error.location?.mark.line ?? 0) > 2)
        }
    }

    @Test func modestAliasUseStillWorks() throws {
        let v = try YAMLParser.parse("a: &x {k: v}\nb: *x\nc: *x\n", file: "ok.yaml")
        #expect(v["c"]?["k"]?.string == "v")
    }

    @Test func walkingATreeWithASymlinkLoopThrowsInsteadOfRecursing() throws {
        let dir = TemporaryDirectories.make("pattern-walk")
        defer {
            unlink(dir + "/a/b/up"); unlink(dir + "/a/f.yaml"); rmdir(dir + "/a/b"); rmdir(dir + "/a"); rmdir(dir)
        }
        mkdir(dir + "/a", 0o755); mkdir(dir + "/a/b", 0o755)
        let fd = open(dir + "/a/f.yaml", O_WRONLY | O_CREAT, 0o644); close(fd)
        symlink("../..", dir + "/a/b/up")
        let tree = LocalTree(root: dir)
        do {
            _ = try tree.walkFiles(try TreePath("a"))
            Issue.record("expected a loop error")
        } catch let e as TreePathError {
            #expect(e == .symlinkLoop("a/b/up"))
        }
        unlink(dir + "/a/b/up")
        #expect(try tree.walkFiles(try TreePath("a")) == [try TreePath("a/f.yaml")])
    }
}
