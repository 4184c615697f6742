#if canImport(Glibc)
import Glibc
#endif
import FuzzTargets

// The body is `FuzzTargets.json` (Fuzz/Targets, shared with the corpus replay test).

// SwiftPM links executables with `main` aliased to `<Module>_main`, so libFuzzer's own `main`
// is not used: this file is the entry point and hands control to libFuzzer's driver.
@_silgen_name("LLVMFuzzerRunDriver")
func LLVMFuzzerRunDriver(_ argc: UnsafeMutablePointer<CInt>,
                         _ argv: UnsafeMutablePointer<UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>>,
                         _ callback: @convention(c) (UnsafePointer<UInt8>?, Int) -> CInt) -> CInt

var argc = CommandLine.argc
var argv = CommandLine.unsafeArgv
exit(LLVMFuzzerRunDriver(&argc, &argv, { data, size in
    guard let data else { return 0 }
    FuzzTargets.abortOnFinding(FuzzTargets.json(UnsafeBufferPointer(start: data, count: size)))
    return 0
}))
