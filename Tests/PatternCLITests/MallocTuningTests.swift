import Testing
import CMallocTuning
#if canImport(Glibc)
import Glibc
#endif

/// glibc malloc's top pad (Sources/CMallocTuning): one-shot commands get it before any thread
/// starts; the long-running controller keeps glibc's defaults.
@Suite struct MallocTuningTests {
    func pads(_ args: [String]) -> Bool {
        let argv = (["pattern"] + args).map { strdup($0) }
        defer { argv.forEach { free($0) } }
        let pointers = argv.map { UnsafePointer<CChar>($0) }
        return pointers.withUnsafeBufferPointer { pattern_malloc_pads_heaps(Int32($0.count), $0.baseAddress) } == 1
    }

    @Test(arguments: [
        ([], true),
        (["render", "overlays/hub"], true),
        (["apply", "hub", "--prune"], true),
        (["--no-color", "diff", "hub"], true),
        (["controller"], false),
        (["controller", "--leader-elect"], false),
        (["--color", "never", "controller"], false),
        (["--color=always", "controller"], false),
        (["--color", "controller", "apply"], true),  // `controller` is --color's value here
        (["render", "controller"], true),           // a site named controller
    ])
    func oneShotCommandsPadTheHeapsAndTheControllerDoesNot(args: [String], expected: Bool) {
        #expect(pads(args) == expected, "\(args)")
    }

    /// The constructor ran in this process too (its arguments name no `controller`) and glibc
    /// took the pad.
    @Test func theConstructorSetThePadBeforeMain() {
        #expect(pattern_malloc_top_pad_set() == 1)
    }
}
