// PatternReport: see Docs/architecture.md.
import PatternCore
