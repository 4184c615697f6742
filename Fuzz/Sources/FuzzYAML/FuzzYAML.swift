import PatternCore

/// libFuzzer entry: any bytes through the YAML reader must give documents or a `Diagnostic`,
/// never a crash, a hang or unbounded memory. Small limits keep each run fast.
@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzYAML(_ data: UnsafePointer<UInt8>, _ size: Int) -> CInt {
    let limits = YAMLLimits(maxBytes: 1 << 20, maxDepth: 64, maxAliasExpansion: 10_000, maxAliasExpandedBytes: 1 << 20)
    let buf = UnsafeBufferPointer(start: data, count: size)
    if let docs = try? YAMLParser.parseStream(bytes: buf, file: "fuzz.yaml", limits: limits) {
        // Whatever parses must emit and re-parse (round trip of the emitter's output).
        let text = YAMLEmitter(options: .init(sortKeys: true)).emitStream(docs.map(\.value))
        _ = try? YAMLParser.parseStream(text, file: "emitted.yaml", limits: YAMLLimits(maxBytes: 64 << 20, maxDepth: 64))
    }
    return 0
}
