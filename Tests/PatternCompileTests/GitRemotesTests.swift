import Testing
import Foundation
import TestSupport
import PatternCompile

/// The checkout's remotes, read from `.git/config` as git reads it: a config file with CRLF line
/// ends (a checkout made on Windows) gives the same URLs as one with LF.
@Suite struct GitRemotesTests {
    @Test(arguments: ["\n", "\r\n"])
    func remotesAreReadWhateverTheLineEnds(_ end: String) throws {
        let root = TemporaryDirectories.make("pattern-git-remotes")
        defer { TemporaryDirectories.remove(root) }
        try FileManager.default.createDirectory(atPath: root + "/.git", withIntermediateDirectories: true)
        let config = ["[core]", "\trepositoryformatversion = 0", "[remote \"origin\"]",
                      "\turl = https://git.example.com/platform/demo.git", "\tfetch = +refs/heads/*:refs/remotes/origin/*",
                      "[remote \"mirror\"]", "\turl = https://mirror.example.com/demo.git", ""].joined(separator: end)
        try config.write(toFile: root + "/.git/config", atomically: true, encoding: .utf8)
        #expect(GitRemotes.url(of: root) == "https://git.example.com/platform/demo.git")
        #expect(GitRemotes.urls(of: root) == ["https://git.example.com/platform/demo.git", "https://mirror.example.com/demo.git"])
    }
}
