import Foundation
import Testing
import PatternCore
import TestSupport
#if canImport(Glibc)
import Glibc
#endif

/// Child processes without Foundation's `Process`: output, input, status, directory, and a
/// process holding thousands of descriptors (where `Process.run` read past a buffer and the
/// whole test run died with SIGSEGV; an AddressSanitizer run reports that read every time).
@Suite struct SubprocessTests {
    @Test func collectsBothStreamsAndTheExitStatus() throws {
        let o = try Subprocess.run("/bin/sh", ["-c", "echo out; echo err >&2; exit 3"])
        #expect(o.status == 3)
        #expect(o.stdoutText == "out")
        #expect(o.stderrText == "err")
        #expect(!o.succeeded)
    }

    /// An executable still open for writing (a script just written, whose descriptor a child
    /// started by another thread holds for a moment) fails with ETXTBSY: tried again until it
    /// is closed.
    @Test func anExecutableBusyForAMomentIsRunOnceItIsClosed() throws {
        let dir = TemporaryDirectories.make("subprocess-busy")
        defer { TemporaryDirectories.remove(dir) }
        let path = dir + "/tool"
        let fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0o755)
        try #require(fd >= 0)
        let script = Array("#!/bin/sh\necho ran\n".utf8)
        #expect(write(fd, script, script.count) == script.count)
        let closer = Thread { usleep(30_000); close(fd) }
        closer.start()
        let o = try Subprocess.run(path)
        #expect(o.succeeded && o.stdoutText == "ran")
    }

    @Test func largeOutputOnBothStreamsDoesNotDeadlock() throws {
        // Both far beyond a pipe's 64 KiB buffer: read together, or the child blocks forever.
        let o = try Subprocess.run("/bin/sh", ["-c", "head -c 1000000 /dev/zero; head -c 700000 /dev/zero >&2; head -c 300000 /dev/zero"])
        #expect(o.status == 0)
        #expect(o.stdout.count == 1_300_000)
        #expect(o.stderr.count == 700_000)
    }

    @Test func inputReachesTheChildAndOutputIsBounded() throws {
        let text = String(repeating: "line\n", count: 50_000)
        let o = try Subprocess.run("/bin/cat", [], input: Array(text.utf8), maxOutputBytes: 1000)
        #expect(o.status == 0)
        #expect(o.stdout.count == 1000)
        let all = try Subprocess.run("/usr/bin/wc", ["-l"], input: Array(text.utf8))
        #expect(all.stdoutText.trimmingCharacters(in: .whitespaces) == "50000")
    }

    @Test func environmentDirectoryAndSignals() throws {
        let dir = FileManager.default.temporaryDirectory.path
        let o = try Subprocess.run("/bin/sh", ["-c", "pwd; echo $ONLY"], environment: ["ONLY": "this", "PATH": "/usr/bin:/bin"], directory: dir)
        #expect(o.stdoutText == "\(URL(fileURLWithPath: dir).resolvingSymlinksInPath().path)\nthis")
        let killed = try Subprocess.run("/bin/sh", ["-c", "kill -TERM $$"])
        #expect(killed.status == 128 + SIGTERM)
        #expect(throws: Subprocess.Failure.self) { try Subprocess.run("/nonexistent/program") }
        #expect(throws: Subprocess.Failure.self) { try Subprocess.run("no-such-program-anywhere") }
    }

    @Test func aSpawnedChildIsSignalledAndReaped() throws {
        let dir = FileManager.default.temporaryDirectory.path + "/subprocess-\(UUID().uuidString)"
        try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let child = try Subprocess.spawn("/bin/sh", ["-c", "echo ready; read line; echo got $line; sleep 60"],
                                         stdout: .file(dir + "/out"), input: true)
        #expect(child.isRunning)
        #expect(child.write(Array("hello\n".utf8)))
        var text = ""
        for _ in 0..<500 where !text.contains("got hello") {
            text = (try? String(contentsOfFile: dir + "/out", encoding: .utf8)) ?? ""
            usleep(10_000)
        }
        #expect(text == "ready\ngot hello\n")
        child.kill(SIGTERM)
        #expect(child.wait() == 128 + SIGTERM)
        #expect(!child.isRunning)
    }

    /// The failure that crashed CI: a process with well over a thousand descriptors open runs
    /// children over and over. The child closes every inherited descriptor above standard
    /// error (it sees only 0, 1, 2 and the one `ls` opens), and nothing reads `/proc/self/fd`
    /// in the parent.
    @Test func manyOpenDescriptorsAreNeitherReadNorInherited() throws {
        var limit = rlimit()
        getrlimit(__rlimit_resource_t(RLIMIT_NOFILE.rawValue), &limit)
        let count = min(2500, Int(limit.rlim_cur) - 500)
        try #require(count > 1100, "the descriptor limit (\(limit.rlim_cur)) is too low for this test")
        var opened: [Int32] = []
        defer { for fd in opened { close(fd) } }
        for _ in 0..<count {
            let fd = open("/dev/null", O_RDONLY)
            if fd < 0 { break }
            opened.append(fd)
        }
        #expect(opened.count == count)
        for _ in 0..<40 {
            let o = try Subprocess.run("/bin/sh", ["-c", "ls /proc/self/fd | wc -l"])
            #expect(o.status == 0)
            #expect(Int(o.stdoutText.trimmingCharacters(in: .whitespaces)) ?? 99 <= 4, "\(o.stdoutText)")
        }
    }
}
