// PatternCompile: see Docs/architecture.md.
import PatternCore
