import Testing
@testable import PatternCore

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

    @Test func keptBookkeepingStaysWithinItsBudget() {
        weak var small: Probe?
        weak var large: Probe?
        KeepUntilExit.$processEndsAfterRun.withValue(true) {
            let a = Probe(), b = Probe()
            small = a
            large = b
            KeepUntilExit.keep(objects: 1, a)
            // More than the whole budget: released as usual, whatever was kept before.
            KeepUntilExit.keep(objects: KeepUntilExit.objectBudget + 1, b)
        }
        #expect(small != nil, "a value within the budget was released")
        #expect(large == nil, "a value over the budget was kept")

        weak var notEnding: Probe?
        do {
            let p = Probe()
            notEnding = p
            KeepUntilExit.keep(objects: 1, p)
        }
        #expect(notEnding == nil, "kept although the process does not end after the command")
    }
}
