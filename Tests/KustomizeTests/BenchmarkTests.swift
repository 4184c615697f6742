import Testing
import PatternCore
import Kustomize
#if canImport(Glibc)
import Glibc
#endif

/// Not a timed test: a benchmark, enabled only when `KUSTOMIZE_BENCH_DIR` names a corpus
/// from `python3 ../shared/bench/gen_corpus.py OUT APPS 1` (shared/ beside the repository; it builds
/// `OUT/overlays/site0`). Run it in release:
///
///     KUSTOMIZE_BENCH_DIR=/tmp/corpus200 swift test -c release -Xswiftc -enable-testing \
///         --filter KustomizeTests.BenchmarkTests
@Suite struct BenchmarkTests {
    static var corpus: String? {
        guard let p = getenv("KUSTOMIZE_BENCH_DIR") else { return nil }
        return String(cString: p)
    }

    @Test(.enabled(if: corpus != nil)) func buildCorpusOverlay() throws {
        let tree = LocalTree(root: Self.corpus!)
        let dir = try TreePath("overlays/site0")
        let builder = KustomizeBuilder(tree: tree)
        var best = Duration.seconds(1000)
        var count = 0
        let clock = ContinuousClock()
        for _ in 0..<10 {
            let t = clock.measure { count = (try? builder.build(dir).count) ?? -1 }
            best = min(best, t)
        }
        var usage = rusage()
        getrusage(RUSAGE_SELF.rawValue, &usage)
        print("BENCH objects=\(count) best=\(best) maxrss=\(usage.ru_maxrss / 1024) MiB")
        #expect(count > 0)
        // Optionally compare with `kubectl kustomize OUT/overlays/site0 > FILE`.
        if let p = getenv("KUSTOMIZE_BENCH_EXPECTED") {
            let file = String(cString: p)
            let expected = String(decoding: try LocalTree(root: "/").read(try TreePath(String(file.dropFirst()))), as: UTF8.self)
            let text = YAMLEmitter(options: .init(sortKeys: true)).emitStream(try builder.build(dir))
            print("BENCH byte-identical=\(text == expected)")
            #expect(text == expected)
        }
    }
}
