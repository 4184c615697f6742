import Synchronization
import Testing
@testable import PatternCore

/// The YAML builder's scratch stack: elements moved out keep their values and identities,
/// nothing is retained twice or released twice (tracked with class instances), and what is
/// left when the stack goes away is released.
@Suite struct MoveStackTests {
    final class Tracked {
        let id: Int
        static let count = Atomic<Int>(0)
        static var alive: Int { count.load(ordering: .sequentiallyConsistent) }
        init(_ id: Int) { self.id = id; Tracked.count.add(1, ordering: .sequentiallyConsistent) }
        deinit { Tracked.count.subtract(1, ordering: .sequentiallyConsistent) }
    }

    @Test func takesTheTopRunInOrderAndGrows() {
        var s = MoveStack<String>(capacity: 2)
        for i in 0..<100 { s.append("key\(i)-" + String(repeating: "x", count: i % 20)) }
        #expect(s.count == 100)
        let top = s.take(from: 90)
        #expect(top == (90..<100).map { "key\($0)-" + String(repeating: "x", count: $0 % 20) })
        #expect(s.count == 90)
        #expect(s.take(from: 90).isEmpty)
        s[3] = "changed"
        #expect(s[3] == "changed")
        #expect(s.withElements(from: 88) { Array($0) } == ["key88-" + String(repeating: "x", count: 8), "key89-" + String(repeating: "x", count: 9)])
        let all = s.take(from: 0)
        #expect(all.count == 90 && all[3] == "changed" && s.count == 0)
    }

    @Test func movedElementsAreNeitherLeakedNorFreedTwice() {
        let before = Tracked.alive
        var kept: [Tracked] = []
        do {
            var s = MoveStack<Tracked>(capacity: 1)
            for i in 0..<50 { s.append(Tracked(i)) }
            #expect(Tracked.alive == before + 50)
            kept = s.take(from: 20)
            #expect(kept.map(\.id) == Array(20..<50))
            #expect(Tracked.alive == before + 50)
            s.append(Tracked(99))
            // 21 elements are left on the stack when it goes out of scope here.
        }
        #expect(Tracked.alive == before + 30)
        kept.removeAll()
        #expect(Tracked.alive == before)
    }
}
