// PatternDiff: see Docs/architecture.md.
import PatternCore
