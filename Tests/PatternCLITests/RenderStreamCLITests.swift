import Testing
import TestSupport
import PatternCore
@testable import PatternCLI

/// `pattern render <kustomize-dir>` writes the documents as they were emitted, in 256 KiB
/// writes, instead of joining the whole output into one string first: the bytes on stdout must
/// be exactly the joined stream, across chunk boundaries and for a document larger than a chunk.
@Suite struct RenderStreamCLITests {
    @Test func streamedOutputIsTheJoinedStreamByteForByte() throws {
        let dir = TemporaryDirectory("render-stream")
        defer { dir.remove() }
        var resources = "resources:\n"
        var files = 0
        // ~2,000 small objects: the output crosses several 256 KiB chunk boundaries.
        for i in 0..<40 {
            var text = ""
            for j in 0..<50 {
                text += "---\napiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: cm-\(i)-\(j)\ndata:\n  key: \"value \(i) \(j) \(String(repeating: "x", count: 60))\"\n"
            }
            try FileSystem.write(dir.path + "/cms-\(i).yaml", Array(text.utf8))
            resources += "- cms-\(i).yaml\n"
            files += 1
        }
        // One document larger than a chunk (written on its own).
        let big = String(repeating: "abcdefgh", count: 48 * 1024)
        try FileSystem.write(dir.path + "/big.yaml", Array("apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: big\ndata:\n  blob: \(big)\n".utf8))
        resources += "- big.yaml\n"
        try FileSystem.write(dir.path + "/kustomization.yaml", Array((resources + "namePrefix: p-\n").utf8))

        let objects = try Renderer.kustomize(dir.path)
        #expect(objects.count == 40 * 50 + 1)
        let joined = Renderer.formatKustomize(objects, as: .yaml)
        #expect(joined.utf8.count > 2 * 256 * 1024, "crosses at least two chunk boundaries")

        let r = CLI.run(["render", dir.path])
        #expect(r.status == 0, "\(r.stderr)")
        #expect(r.stdout.utf8.count == joined.utf8.count)
        #expect(r.stdout == joined)
    }
}
