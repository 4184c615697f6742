#if canImport(Glibc)
import Glibc
#endif
import PatternCore

/// One libFuzzer input: any bytes through the YAML reader must give documents or a `Diagnostic`,
/// never a crash, a hang or unbounded memory. Small limits keep each run fast.
func fuzzYAML(_ data: UnsafePointer<UInt8>?, _ size: Int) -> CInt {
    guard let data else { return 0 }
    let limits = YAMLLimits(maxBytes: 1 << 20, maxDepth: 64, maxAliasExpansion: 10_000, maxAliasExpandedBytes: 1 << 20)
    let buf = UnsafeBufferPointer(start: data, count: size)
    if let docs = try? YAMLParser.parseStream(bytes: buf, file: "fuzz.yaml", limits: limits) {
        // Whatever parses must emit and re-parse (round trip of the emitter's output).
        let text = YAMLEmitter(options: .init(sortKeys: true)).emitStream(docs.map(\.value))
        _ = try? YAMLParser.parseStream(text, file: "emitted.yaml", limits: YAMLLimits(maxBytes: 64 << 20, maxDepth: 64))
    }
    return 0
}

// SwiftPM links executables with `main` aliased to `<Module>_main`, so libFuzzer's own `main`
// is not used: this file is the entry point and hands control to libFuzzer's driver.
@_silgen_name("LLVMFuzzerRunDriver")
func LLVMFuzzerRunDriver(_ argc: UnsafeMutablePointer<CInt>,
                         _ argv: UnsafeMutablePointer<UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>>,
                         _ callback: @convention(c) (UnsafePointer<UInt8>?, Int) -> CInt) -> CInt

var argc = CommandLine.argc
var argv = CommandLine.unsafeArgv
exit(LLVMFuzzerRunDriver(&argc, &argv, { fuzzYAML($0, $1) }))
