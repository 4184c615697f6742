import PatternCore

/// A Kubernetes resource quantity (`100m`, `0.1`, `1Gi`, `1e3`, `1k`) reduced to an exact
/// canonical decimal form, so that equal amounts compare equal however they are spelled.
///
/// Grammar (k8s.io/apimachinery `resource.Quantity`):
/// `[+-]digits[.digits](suffix)` with suffix one of binary `Ki Mi Gi Ti Pi Ei`, decimal
/// `n u m "" k M G T P E`, or an exponent `e<int>`/`E<int>`.
public struct Quantity: Sendable, Hashable, CustomStringConvertible {
    /// Sign, significant decimal digits without leading or trailing zeros, and a power of ten:
    /// value = ±digits × 10^exponent. Zero is `digits == []`, positive, exponent 0.
    public let negative: Bool
    public let digits: [UInt8]
    public let exponent: Int

    public init?(_ text: String) {
        var s = Substring(text)
        guard !s.isEmpty else { return nil }
        var neg = false
        if s.first == "+" || s.first == "-" { neg = s.first == "-"; s = s.dropFirst() }
        var intPart: [UInt8] = []
        var fracPart: [UInt8] = []
        var seenDot = false
        var i = s.startIndex
        while i < s.endIndex {
            let c = s[i]
            if let d = c.wholeNumberValue, c.isASCII {
                if seenDot { fracPart.append(UInt8(d)) } else { intPart.append(UInt8(d)) }
            } else if c == "." && !seenDot {
                seenDot = true
            } else { break }
            i = s.index(after: i)
        }
        guard !intPart.isEmpty || !fracPart.isEmpty else { return nil }
        let suffix = String(s[i...])
        var exp10 = -fracPart.count
        var pow1024 = 0
        switch suffix {
        case "": break
        case "n": exp10 -= 9
        case "u": exp10 -= 6
        case "m": exp10 -= 3
        case "k": exp10 += 3
        case "M": exp10 += 6
        case "G": exp10 += 9
        case "T": exp10 += 12
        case "P": exp10 += 15
        case "E": exp10 += 18
        case "Ki": pow1024 = 1
        case "Mi": pow1024 = 2
        case "Gi": pow1024 = 3
        case "Ti": pow1024 = 4
        case "Pi": pow1024 = 5
        case "Ei": pow1024 = 6
        default:
            guard let f = suffix.first, f == "e" || f == "E", let e = Int(suffix.dropFirst()), abs(e) < 10_000 else { return nil }
            exp10 += e
        }
        var ds = intPart + fracPart
        for _ in 0..<pow1024 { ds = Quantity.multiply(ds, by: 1024) }
        // Normalize: strip leading zeros, move trailing zeros into the exponent.
        while let f = ds.first, f == 0 { ds.removeFirst() }
        while let l = ds.last, l == 0 { ds.removeLast(); exp10 += 1 }
        if ds.isEmpty { negative = false; digits = []; exponent = 0; return }
        negative = neg
        digits = ds
        exponent = exp10
    }

    /// A quantity from a scalar value: strings are parsed, integers and numbers formatted first.
    public init?(_ v: Value) {
        switch v.kind {
        case .string(let s): self.init(s)
        case .int(let i): self.init(String(i))
        case .double(let d):
            guard d.isFinite else { return nil }
            self.init(YAMLScalar.format(d))
        default: return nil
        }
    }

    static func multiply(_ ds: [UInt8], by m: Int) -> [UInt8] {
        var out = [UInt8](repeating: 0, count: ds.count)
        var carry = 0
        for i in stride(from: ds.count - 1, through: 0, by: -1) {
            let p = Int(ds[i]) * m + carry
            out[i] = UInt8(p % 10)
            carry = p / 10
        }
        var prefix: [UInt8] = []
        while carry > 0 { prefix.insert(UInt8(carry % 10), at: 0); carry /= 10 }
        return prefix + out
    }

    /// Canonical text: `[-]digits e exponent` (`1e3`, `1e-1`), stable across spellings.
    public var description: String {
        if digits.isEmpty { return "0" }
        return (negative ? "-" : "") + digits.map { String($0) }.joined() + "e\(exponent)"
    }
}
