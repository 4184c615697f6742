/// Line diff (Myers' O(ND) algorithm) and unified-diff hunks with context.
public enum TextDiff {
    public enum Op: Sendable, Hashable { case equal, delete, insert }

    /// One line of an edit script with its op.
    public struct Line: Sendable, Hashable {
        public var op: Op
        public var text: String
    }

    /// Splits text into lines (a trailing newline does not make an extra empty line).
    public static func lines(_ s: String) -> [String] {
        if s.isEmpty { return [] }
        var out = s.split(separator: "\n", omittingEmptySubsequences: false).map(String.init)
        if out.last == "" { out.removeLast() }
        return out
    }

    /// Shortest edit script from `a` to `b` (Myers 1986, greedy forward with a compact trace),
    /// after stripping the common prefix and suffix. When more than `maxEditDistance` edits
    /// would be needed the middle is replaced as a block (bounded time and memory: the trace is
    /// O(D²) integers).
    public static func editScript(_ a: [String], _ b: [String], maxEditDistance: Int = 2000) -> [Line] {
        var pre = 0
        while pre < a.count && pre < b.count && a[pre] == b[pre] { pre += 1 }
        var suf = 0
        while suf < a.count - pre && suf < b.count - pre && a[a.count - 1 - suf] == b[b.count - 1 - suf] { suf += 1 }
        var out = a[0..<pre].map { Line(op: .equal, text: $0) }
        let midA = Array(a[pre..<(a.count - suf)]), midB = Array(b[pre..<(b.count - suf)])
        out += myers(midA, midB, maxD: maxEditDistance)
            ?? (midA.map { Line(op: .delete, text: $0) } + midB.map { Line(op: .insert, text: $0) })
        out += a[(a.count - suf)...].map { Line(op: .equal, text: $0) }
        return out
    }

    static func myers(_ a: [String], _ b: [String], maxD: Int) -> [Line]? {
        let n = a.count, m = b.count
        if n == 0 { return b.map { Line(op: .insert, text: $0) } }
        if m == 0 { return a.map { Line(op: .delete, text: $0) } }
        // Intern lines to ints for fast comparison.
        var ids: [String: Int] = [:]
        let ai = a.map { s -> Int in if let i = ids[s] { return i }; let i = ids.count; ids[s] = i; return i }
        let bi = b.map { s -> Int in if let i = ids[s] { return i }; let i = ids.count; ids[s] = i; return i }
        let limit = min(n + m, maxD)
        let offset = n + m
        var v = [Int](repeating: 0, count: 2 * (n + m) + 2)
        // trace[d] = v[-(d-1)...(d-1)] before step d (what backtracking at step d reads).
        var trace: [[Int]] = []
        var found = false
        for d in 0...limit {
            trace.append(d == 0 ? [] : Array(v[(offset - d + 1)...(offset + d - 1)]))
            var k = -d
            while k <= d {
                var x: Int
                if k == -d || (k != d && v[offset + k - 1] < v[offset + k + 1]) {
                    x = v[offset + k + 1]
                } else {
                    x = v[offset + k - 1] + 1
                }
                var y = x - k
                while x < n && y < m && ai[x] == bi[y] { x += 1; y += 1 }
                v[offset + k] = x
                if x >= n && y >= m { found = true; break }
                k += 2
            }
            if found { break }
        }
        guard found else { return nil }
        // Backtrack.
        var out: [Line] = []
        var x = n, y = m
        for d in stride(from: trace.count - 1, through: 0, by: -1) {
            let vd = trace[d]
            func at(_ k: Int) -> Int { vd[k + d - 1] }
            let k = x - y
            let prevK: Int
            if k == -d || (k != d && at(k - 1) < at(k + 1)) { prevK = k + 1 } else { prevK = k - 1 }
            let prevX = d == 0 ? 0 : at(prevK)
            let prevY = prevX - prevK
            while x > prevX && y > prevY {
                out.append(Line(op: .equal, text: a[x - 1])); x -= 1; y -= 1
            }
            if d > 0 {
                if x == prevX { out.append(Line(op: .insert, text: b[y - 1])); y -= 1 }
                else { out.append(Line(op: .delete, text: a[x - 1])); x -= 1 }
            }
        }
        while x > 0 && y > 0 { out.append(Line(op: .equal, text: a[x - 1])); x -= 1; y -= 1 }
        return out.reversed()
    }

    /// Unified diff of two texts (`--- fromName` / `+++ toName`, `@@ -a,b +c,d @@` hunks with
    /// `context` lines around changes). Empty when the texts are equal.
    public static func unified(_ from: String, _ to: String, fromName: String, toName: String, context: Int = 3) -> String {
        let a = lines(from), b = lines(to)
        let script = editScript(a, b)
        guard script.contains(where: { $0.op != .equal }) else { return "" }
        // Positions of each script line in a and b.
        var aPos: [Int] = [], bPos: [Int] = []
        var ia = 0, ib = 0
        for l in script {
            aPos.append(ia); bPos.append(ib)
            switch l.op {
            case .equal: ia += 1; ib += 1
            case .delete: ia += 1
            case .insert: ib += 1
            }
        }
        // Group changes into hunks: changes separated by at most 2*context equal lines merge.
        let changed = script.indices.filter { script[$0].op != .equal }
        var hunks: [(Int, Int)] = []  // script index ranges [start, end)
        var g = 0
        while g < changed.count {
            var last = changed[g]
            var h = g + 1
            while h < changed.count && changed[h] - last - 1 <= 2 * context { last = changed[h]; h += 1 }
            hunks.append((max(0, changed[g] - context), min(script.count, last + context + 1)))
            g = h
        }
        var out = "--- \(fromName)\n+++ \(toName)\n"
        for (s, e) in hunks {
            let slice = script[s..<e]
            let aCount = slice.filter { $0.op != .insert }.count
            let bCount = slice.filter { $0.op != .delete }.count
            let aStart = aCount == 0 ? aPos[s] : aPos[s] + 1
            let bStart = bCount == 0 ? bPos[s] : bPos[s] + 1
            out += "@@ -\(range(aStart, aCount)) +\(range(bStart, bCount)) @@\n"
            for l in slice {
                switch l.op {
                case .equal: out += " " + l.text + "\n"
                case .delete: out += "-" + l.text + "\n"
                case .insert: out += "+" + l.text + "\n"
                }
            }
        }
        return out
    }

    static func range(_ start: Int, _ count: Int) -> String {
        count == 1 ? "\(start)" : "\(start),\(count)"
    }
}
