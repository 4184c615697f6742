// PatternSource: see Docs/architecture.md.
import PatternCore
