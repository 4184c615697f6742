import Foundation
import Testing
import FuzzTargets
import TestSupport

/// Replays every seed in `Fuzz/corpus/<target>/` and every saved crasher in
/// `Fuzz/crashers/<target>/` through the fuzz targets' own bodies (no sanitizer), so the
/// inputs fuzzing found stay fixed and the harness keeps working, inside `swift test`.
@Suite struct CorpusReplayTests {
    static let targets: [(dir: String, run: @Sendable (UnsafeBufferPointer<UInt8>) -> FuzzTargets.Outcome)] = [
        ("yaml", FuzzTargets.yaml), ("json", FuzzTargets.json), ("kustomize", FuzzTargets.kustomize),
    ]

    /// The inputs of one target: seeds and crashers, sorted by path.
    func inputs(_ dir: String) -> [String] {
        var out: [String] = []
        for kind in ["corpus", "crashers"] {
            let d = RepositoryPaths.root + "/Fuzz/\(kind)/" + dir
            for f in ((try? FileManager.default.contentsOfDirectory(atPath: d)) ?? []).sorted() where !f.hasPrefix(".") && f != "README" {
                out.append(d + "/" + f)
            }
        }
        return out
    }

    @Test(arguments: ["yaml", "json", "kustomize"])
    func everySeedAndCrasherRunsWithoutAFinding(_ target: String) throws {
        let run = try #require(Self.targets.first { $0.dir == target }?.run)
        let files = inputs(target)
        #expect(files.count >= 5, "the \(target) corpus has seeds")
        var accepted = 0, rejected = 0
        for f in files {
            let bytes = [UInt8](try #require(FileManager.default.contents(atPath: f)))
            let outcome = bytes.withUnsafeBufferPointer { run($0) }
            switch outcome {
            case .accepted: accepted += 1
            case .rejected: rejected += 1
            case .finding(let what): Issue.record("\(f): \(what)")
            }
        }
        // Both paths are exercised: valid seeds are read, hostile seeds refused.
        #expect(accepted > 0, "\(target): no seed was accepted")
        #expect(rejected > 0, "\(target): no seed was refused")
    }

    @Test func theTargetsTellReadFromRefused() {
        // Counting accepted and refused inputs above relies on this distinction.
        let ok = Array("{\"a\": [1, 2.5, \"x\", null, true]}".utf8)
        #expect(ok.withUnsafeBufferPointer { FuzzTargets.json($0) } == .accepted)
        let bad = Array("{\"a\": ".utf8)
        #expect(bad.withUnsafeBufferPointer { FuzzTargets.json($0) } == .rejected)
    }
}
