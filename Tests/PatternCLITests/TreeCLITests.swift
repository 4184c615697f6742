import Testing
import TestSupport
import PatternCore

/// `pattern tree <site>`: the render as site → components → objects.
@Suite struct TreeCLITests {
    @Test func treeGroupsObjectsUnderTheirComponentsInDependencyOrder() async throws {
        let r = await CLI.runInProcess(["tree", "hub"])
        #expect(r.status == 0, "\(r.stderr)")
        let lines = r.stdout.split(separator: "\n").map(String.init)
        #expect(lines.first?.hasPrefix("Site/hub (pattern ") == true)
        // Every object line sits under a component line; the last component uses └──.
        let components = lines.filter { $0.hasPrefix("├── Component/") || $0.hasPrefix("└── Component/") }
        #expect(components.count >= 2)
        #expect(components.last?.hasPrefix("└── ") == true)
        #expect(lines.contains { $0.hasPrefix("│   ├── Namespace/") || $0.hasPrefix("│   └── Namespace/") || $0.hasPrefix("    └── Namespace/") || $0.hasPrefix("    ├── Namespace/") })

        let json = try JSONParser.parse(await CLI.runInProcess(["tree", "hub", "-o", "json"]).stdout)
        #expect(json["kind"]?.string == "Tree" && json["apiVersion"] != nil)
        let objects = (json["components"]?.array ?? []).flatMap { $0["objects"]?.array ?? [] }
        // The tree holds each rendered object exactly once.
        let rendered = try JSONParser.parse(await CLI.runInProcess(["render", "hub", "-o", "json"]).stdout)
        let count = rendered["items"]?.array?.count ?? rendered.array?.count ?? -1
        #expect(objects.count == count)
        #expect(lines.count == 1 + components.count + objects.count)
    }
}
