import PatternCLI
#if canImport(Glibc)
import Glibc
#endif

exit(await PatternMain.run())
