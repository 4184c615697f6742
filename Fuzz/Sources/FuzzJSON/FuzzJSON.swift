import PatternCore

/// libFuzzer entry: the JSON reader (manifests and Kubernetes API responses) must return a
/// value or a `Diagnostic` for any bytes; whatever parses must write and read back.
@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzJSON(_ data: UnsafePointer<UInt8>, _ size: Int) -> CInt {
    let buf = UnsafeBufferPointer(start: data, count: size)
    if let v = try? JSONParser(maxDepth: 128).parse(bytes: buf, file: "fuzz.json") {
        let text = JSONWriter.string(v, options: .init(indent: 0, sortKeys: true))
        var t = text
        _ = t.withUTF8 { b in try? JSONParser(maxDepth: 256).parse(bytes: b, file: "written.json") }
    }
    return 0
}
