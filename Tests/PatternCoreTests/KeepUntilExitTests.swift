import Testing
@testable import PatternCLI

/// `diff` and `apply` leave their large values to the process's exit, but only when the
/// command is the process: run in-process (as these tests do), everything is released.
@Suite struct KeepUntilExitTests {
    final class Probe {}

    @Test func valuesAreKeptOnlyWhenTheProcessEndsAfterTheCommand() {
        weak var released: Probe?
        do {
            let p = Probe()
            released = p
            KeepUntilExit.keep(p, [p])
        }
        #expect(released == nil, "kept although the process does not end after the command")

        weak var kept: Probe?
        KeepUntilExit.$processEndsAfterRun.withValue(true) {
            let p = Probe()
            kept = p
            KeepUntilExit.keep(p)
        }
        #expect(kept != nil, "released although the process ends right after the command")
    }
}
