import PatternCLI
#if canImport(Glibc)
import Glibc
#endif

// The plain renders run right here, on the main thread; everything else goes through the
// async entry point (and Swift concurrency's worker threads).
if let code = PatternMain.runRender() { exit(code) }
exit(await PatternMain.runCommand())
