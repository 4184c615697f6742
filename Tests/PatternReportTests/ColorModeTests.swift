import Testing
import PatternReport

/// The one colour decision every command uses (no-color.org; `--color` wins when explicit).
@Suite struct ColorModeTests {
    @Test func autoNeedsATerminalAndNoNO_COLORAndAColourTerminal() {
        #expect(ColorMode.auto.enabled(isTerminal: true, noColor: nil, term: "xterm"))
        #expect(ColorMode.auto.enabled(isTerminal: true, noColor: "", term: "xterm"))   // empty NO_COLOR does not count
        #expect(!ColorMode.auto.enabled(isTerminal: true, noColor: "1", term: "xterm"))
        #expect(!ColorMode.auto.enabled(isTerminal: false, noColor: nil, term: "xterm"))
        #expect(!ColorMode.auto.enabled(isTerminal: true, noColor: nil, term: "dumb"))
    }

    @Test func explicitChoicesWin() {
        #expect(ColorMode.always.enabled(isTerminal: false, noColor: "1", term: "dumb"))
        #expect(!ColorMode.never.enabled(isTerminal: true, noColor: nil, term: "xterm"))
    }
}
