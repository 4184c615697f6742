#if canImport(Glibc)
import Glibc
#endif
import PatternCore

/// One libFuzzer input: the JSON reader (manifests and Kubernetes API responses) must return a
/// value or a `Diagnostic` for any bytes; whatever parses must write and read back.
func fuzzJSON(_ data: UnsafePointer<UInt8>?, _ size: Int) -> CInt {
    guard let data else { return 0 }
    let buf = UnsafeBufferPointer(start: data, count: size)
    if let v = try? JSONParser(maxDepth: 128).parse(bytes: buf, file: "fuzz.json") {
        let text = JSONWriter.string(v, options: .init(indent: 0, sortKeys: true))
        var t = text
        _ = t.withUTF8 { b in try? JSONParser(maxDepth: 256).parse(bytes: b, file: "written.json") }
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
exit(LLVMFuzzerRunDriver(&argc, &argv, { fuzzJSON($0, $1) }))
