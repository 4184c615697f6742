// PatternRecord: see Docs/architecture.md.
import PatternCore
