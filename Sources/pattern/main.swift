import CMallocTuning
import PatternCLI
#if canImport(Glibc)
import Glibc
#endif

// Set by CMallocTuning's constructor before any thread started; read here so the linker keeps it.
_ = pattern_malloc_top_pad_set()
// The plain renders run right here, on the main thread; everything else goes through the
// async entry point (and Swift concurrency's worker threads).
if let code = PatternMain.runRender() { exit(code) }
exit(await PatternMain.runCommand())
