import Testing
import TestSupport
import PatternCore

/// `pattern graph`: components by default (few boxes and merged edges, levels as columns),
/// `--objects` for every object.
@Suite struct GraphCLITests {
    @Test func defaultGraphHasOneBoxPerComponentAndLevelAndFarFewerEdges() async throws {
        let c = await CLI.runInProcess(["graph", "hub"])
        #expect(c.status == 0, "\(c.stderr)")
        let o = await CLI.runInProcess(["graph", "hub", "--objects"])
        #expect(o.status == 0)
        let componentEdges = c.stdout.split(separator: "\n").filter { $0.contains(" -> ") && !$0.contains("style=invis") }
        let objectEdges = o.stdout.split(separator: "\n").filter { $0.contains(" -> ") }
        // hub: 22 objects, over a hundred object edges; the component picture merges them.
        #expect(objectEdges.count > 50)
        #expect(componentEdges.count > 0 && componentEdges.count * 4 < objectEdges.count, "\(componentEdges.count) vs \(objectEdges.count)")
        // A box per component and level, counting its objects by kind (4 Namespaces in one box).
        #expect(c.stdout.contains(#""L0:namespaces" [label="namespaces (4)\n4 Namespace"]"#))
        #expect(!c.stdout.contains("Namespace config-demo"))
        // Levels are columns: an invisible anchor per level, chained in order.
        #expect(c.stdout.contains(#""level0" -> "level1" -> "level2""#))
        // Every object is in the detailed graph.
        #expect(o.stdout.contains("Namespace config-demo"))
        // Merged edges carry the distinct reasons once.
        #expect(componentEdges.contains { $0.contains("label=\"crd\"") })
    }
}
