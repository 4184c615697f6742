import Foundation
import Testing
import TestSupport
@testable import PatternCore
#if canImport(Glibc)
import Glibc
#endif

/// The one file helper the CLI and the controller share (issue 11: there were two).
@Suite struct FileSystemTests {
    private func contents(_ path: String) -> String? { try? String(contentsOfFile: path, encoding: .utf8) }

    private func mode(_ path: String) -> mode_t {
        var st = stat()
        return stat(path, &st) == 0 ? st.st_mode & 0o777 : 0
    }

    @Test func writesReplaceWholeFilesWithTheirMode() throws {
        let dir = TemporaryDirectory("fs")
        try FileSystem.makeDirectories(dir.sub("a/b"))
        #expect(FileSystem.isDirectory(dir.sub("a/b")))
        try FileSystem.write(dir.file("a/b/out.yaml"), Array("first, longer content\n".utf8))
        try FileSystem.write(dir.file("a/b/out.yaml"), Array("second\n".utf8))
        #expect(contents(dir.file("a/b/out.yaml")) == "second\n")
        #expect(mode(dir.file("a/b/out.yaml")) == 0o644)
        try FileSystem.writePrivate(dir.file("a/b/token"), Array("s3cret".utf8))
        #expect(mode(dir.file("a/b/token")) == 0o600)
        // No temporary file is left beside them.
        #expect(!FileSystem.exists(dir.file("a/b/out.yaml.tmp-\(getpid())")))
    }

    /// The CLI's old helper opened its temporary file with O_TRUNC and followed a symlink planted
    /// there, overwriting the symlink's target (a file outside the output directory).
    @Test func aSymlinkAtTheTemporaryPathIsNotFollowed() throws {
        let dir = TemporaryDirectory("fs")
        let victim = dir.file("victim")
        try FileSystem.write(victim, Array("keep me".utf8))
        let target = dir.file("out.yaml")
        #expect(symlink(victim, target + ".tmp-\(getpid())") == 0)
        try FileSystem.write(target, Array("rendered".utf8))
        #expect(contents(victim) == "keep me")
        #expect(contents(target) == "rendered")
    }

    @Test func failuresAreDiagnosticsNamingThePath() throws {
        let dir = TemporaryDirectory("fs")
        try FileSystem.write(dir.file("file"), Array("x".utf8))
        #expect(throws: Diagnostic.self) { try FileSystem.makeDirectories(dir.sub("file/sub")) }
        do {
            try FileSystem.write(dir.file("missing/out.yaml"), Array("x".utf8))
            Issue.record("a write into a missing directory succeeded")
        } catch {
            #expect(error.message.contains(dir.file("missing")))
            #expect(error.fix != nil)
        }
    }
}
