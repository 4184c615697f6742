import Testing
@testable import PatternCLI

/// Notes that sites print while they run concurrently reach stderr per site, whole, each line
/// prefixed with the site (FleetRun.buffered).
@Suite struct FleetNotesTests {
    @Test func notesOfConcurrentSitesDoNotInterleave() async {
        let capture = OutputCapture()
        await Output.$capture.withValue(capture) {
            await withTaskGroup(of: Void.self) { group in
                for site in ["edge-eu", "edge-us", "edge-ap"] {
                    group.addTask {
                        await FleetRun.buffered(site) {
                            for i in 0..<20 {
                                Output.err("note: step \(i)\n")
                                await Task.yield()
                            }
                        }
                    }
                }
            }
        }
        let lines = capture.stderr.split(separator: "\n").map(String.init)
        #expect(lines.count == 60)
        // Every line names its site, and each site's 20 lines are one block, in order.
        var blocks: [String] = []
        for l in lines {
            let site = String(l.prefix { $0 != ":" })
            #expect(l.hasPrefix(site + ": note: step "), "\(l)")
            if blocks.last != site { blocks.append(site) }
        }
        #expect(blocks.count == 3, "notes interleave: \(lines)")
        #expect(Set(blocks) == ["edge-eu", "edge-us", "edge-ap"])
        for s in blocks {
            let own = lines.filter { $0.hasPrefix(s + ":") }
            #expect(own == (0..<20).map { "\(s): note: step \($0)" })
        }
    }
}
