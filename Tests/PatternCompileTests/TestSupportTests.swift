import Testing
import Foundation
import TestSupport

/// The shared test support: temporary directories live under one root per process and go
/// away; repository paths come from the checkout, wherever it is.
@Suite struct TestSupportTests {
    @Test func temporaryDirectoriesLiveUnderOneRootAndAreRemoved() throws {
        let root = TemporaryDirectories.root
        #expect(root.contains("/pattern-tests-"))
        var path = ""
        do {
            let dir = TemporaryDirectory("support")
            path = dir.path
            #expect(path.hasPrefix(root + "/support-"))
            try "x".write(toFile: dir.file("f"), atomically: false, encoding: .utf8)
            #expect(FileManager.default.fileExists(atPath: dir.file("f")))
        }
        // Released: gone (unless KEEP_TMP asks to keep them).
        #expect(FileManager.default.fileExists(atPath: path) == TemporaryDirectories.keep)
        // Nothing outside the root is ever removed.
        let outside = FileManager.default.currentDirectoryPath
        TemporaryDirectories.remove(outside)
        #expect(FileManager.default.fileExists(atPath: outside))
    }

    @Test func repositoryPathsPointAtThisCheckout() {
        #expect(FileManager.default.fileExists(atPath: RepositoryPaths.root + "/Package.swift"))
        #expect(FileManager.default.fileExists(atPath: RepositoryPaths.fixtures + "/compile"))
    }

    @Test func gitRunsWithAFixedIdentity() throws {
        let dir = TemporaryDirectory("git")
        try git(["init", "-q", "-b", "main"], in: dir.path)
        try "hello\n".write(toFile: dir.file("README"), atomically: false, encoding: .utf8)
        try git(["add", "-A"], in: dir.path)
        try git(["commit", "-q", "-m", "one"], in: dir.path)
        #expect(try git(["log", "-1", "--format=%an <%ae>"], in: dir.path) == "Test <test@example.com>")
        #expect(throws: CommandFailed.self) { try git(["rev-parse", "no-such-ref"], in: dir.path) }
    }
}
