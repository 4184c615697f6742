import Testing
import PatternCore
@testable import Helm

let helmFixtures: String = {
    let parts = #filePath.split(separator: "/").dropLast(2)
    return "/" + parts.joined(separator: "/") + "/Fixtures/helm"
}()

func file(_ name: String, _ text: String) -> ChartFile { ChartFile(name: name, data: Array(text.utf8)) }

func yaml(_ s: String) -> Value { try! HelmYAML.parse(Array(s.utf8), file: "<test>") }

/// A chart from in-memory files.
func chart(_ files: [ChartFile], origin: String = "c") throws -> Chart {
    try ChartLoader().loadFiles(files, origin: origin, nesting: 0)
}

func chartYAML(_ name: String, version: String = "1.0.0", extra: String = "") -> ChartFile {
    file("Chart.yaml", "apiVersion: v2\nname: \(name)\nversion: \(version)\n" + extra)
}
