import CCrypto

/// SHA-256 (FIPS 180-4), used for content hashes: rendered revisions, generator name
/// suffixes, Secret fingerprints in diffs. Incremental hashing is portable Swift; one-shot
/// digests of a buffer (`digest`, `hex` of an array) go through libcrypto, which uses the
/// CPU's SHA extensions where there are any: renders and diffs hash megabytes of JSON.
public struct SHA256: Sendable {
    private var h: (UInt32, UInt32, UInt32, UInt32, UInt32, UInt32, UInt32, UInt32) =
        (0x6a09e667, 0xbb67ae85, 0x3c6ef372, 0xa54ff53a, 0x510e527f, 0x9b05688c, 0x1f83d9ab, 0x5be0cd19)
    private var buffer: [UInt8] = []
    private var length: UInt64 = 0

    private static let k: [UInt32] = [
        0x428a2f98, 0x71374491, 0xb5c0fbcf, 0xe9b5dba5, 0x3956c25b, 0x59f111f1, 0x923f82a4, 0xab1c5ed5,
        0xd807aa98, 0x12835b01, 0x243185be, 0x550c7dc3, 0x72be5d74, 0x80deb1fe, 0x9bdc06a7, 0xc19bf174,
        0xe49b69c1, 0xefbe4786, 0x0fc19dc6, 0x240ca1cc, 0x2de92c6f, 0x4a7484aa, 0x5cb0a9dc, 0x76f988da,
        0x983e5152, 0xa831c66d, 0xb00327c8, 0xbf597fc7, 0xc6e00bf3, 0xd5a79147, 0x06ca6351, 0x14292967,
        0x27b70a85, 0x2e1b2138, 0x4d2c6dfc, 0x53380d13, 0x650a7354, 0x766a0abb, 0x81c2c92e, 0x92722c85,
        0xa2bfe8a1, 0xa81a664b, 0xc24b8b70, 0xc76c51a3, 0xd192e819, 0xd6990624, 0xf40e3585, 0x106aa070,
        0x19a4c116, 0x1e376c08, 0x2748774c, 0x34b0bcb5, 0x391c0cb3, 0x4ed8aa4a, 0x5b9cca4f, 0x682e6ff3,
        0x748f82ee, 0x78a5636f, 0x84c87814, 0x8cc70208, 0x90befffa, 0xa4506ceb, 0xbef9a3f7, 0xc67178f2,
    ]

    public init() { buffer.reserveCapacity(64) }

    public mutating func update<S: Sequence>(_ bytes: S) where S.Element == UInt8 {
        if let done: Void = bytes.withContiguousStorageIfAvailable({ update(UnsafeRawBufferPointer($0)) }) { return done }
        update(Array(bytes))
    }

    /// Hashes contiguous bytes: whole 64-byte blocks straight from memory, the rest buffered.
    public mutating func update(_ raw: UnsafeRawBufferPointer) {
        var p = raw[...]
        length &+= UInt64(raw.count)
        if !buffer.isEmpty {
            let take = min(64 - buffer.count, p.count)
            buffer.append(contentsOf: p.prefix(take))
            p = p.dropFirst(take)
            if buffer.count == 64 {
                buffer.withUnsafeBytes { block($0.baseAddress!) }
                buffer.removeAll(keepingCapacity: true)
            }
        }
        while p.count >= 64 {
            block(p.base.baseAddress! + p.startIndex)
            p = p.dropFirst(64)
        }
        buffer.append(contentsOf: p)
    }

    public mutating func update(_ s: String) {
        var s = s
        s.withUTF8 { update(UnsafeRawBufferPointer($0)) }
    }

    public mutating func finalize() -> [UInt8] {
        let bits = length &* 8
        var pad: [UInt8] = [0x80]
        let rem = (buffer.count + 1) % 64
        pad += [UInt8](repeating: 0, count: rem <= 56 ? 56 - rem : 120 - rem)
        for i in (0..<8).reversed() { pad.append(UInt8(truncatingIfNeeded: bits >> (UInt64(i) * 8))) }
        let saved = length
        pad.withUnsafeBytes { update($0) }
        length = saved
        var out: [UInt8] = []
        for w in [h.0, h.1, h.2, h.3, h.4, h.5, h.6, h.7] {
            out += [UInt8(w >> 24), UInt8(truncatingIfNeeded: w >> 16), UInt8(truncatingIfNeeded: w >> 8), UInt8(truncatingIfNeeded: w)]
        }
        return out
    }

    private mutating func block(_ b: UnsafeRawPointer) {
        withUnsafeTemporaryAllocation(of: UInt32.self, capacity: 64) { w in
            for i in 0..<16 {
                let o = i * 4
                w[i] = UInt32(b.load(fromByteOffset: o, as: UInt8.self)) << 24 | UInt32(b.load(fromByteOffset: o + 1, as: UInt8.self)) << 16
                    | UInt32(b.load(fromByteOffset: o + 2, as: UInt8.self)) << 8 | UInt32(b.load(fromByteOffset: o + 3, as: UInt8.self))
            }
            compress(w)
        }
    }

    private mutating func compress(_ w: UnsafeMutableBufferPointer<UInt32>) {
        for i in 16..<64 {
            let s0 = w[i - 15].rotr(7) ^ w[i - 15].rotr(18) ^ (w[i - 15] >> 3)
            let s1 = w[i - 2].rotr(17) ^ w[i - 2].rotr(19) ^ (w[i - 2] >> 10)
            w[i] = w[i - 16] &+ s0 &+ w[i - 7] &+ s1
        }
        var (a, b2, c, d, e, f, g, hh) = h
        for i in 0..<64 {
            let s1 = e.rotr(6) ^ e.rotr(11) ^ e.rotr(25)
            let ch = (e & f) ^ (~e & g)
            let t1 = hh &+ s1 &+ ch &+ SHA256.k[i] &+ w[i]
            let s0 = a.rotr(2) ^ a.rotr(13) ^ a.rotr(22)
            let maj = (a & b2) ^ (a & c) ^ (b2 & c)
            let t2 = s0 &+ maj
            hh = g; g = f; f = e; e = d &+ t1; d = c; c = b2; b2 = a; a = t1 &+ t2
        }
        h = (h.0 &+ a, h.1 &+ b2, h.2 &+ c, h.3 &+ d, h.4 &+ e, h.5 &+ f, h.6 &+ g, h.7 &+ hh)
    }

    /// Digest of `bytes` in one call (libcrypto; the portable code should libcrypto refuse).
    public static func digest(_ bytes: [UInt8]) -> [UInt8] {
        var out = [UInt8](repeating: 0, count: 32)
        let n = bytes.withUnsafeBufferPointer { b in
            out.withUnsafeMutableBufferPointer { ccrypto_digest(Int32(CCRYPTO_SHA256), b.baseAddress, b.count, $0.baseAddress) }
        }
        if n == 32 { return out }
        var s = SHA256()
        s.update(bytes)
        return s.finalize()
    }

    /// Hex digest of `bytes`.
    public static func hex(_ bytes: [UInt8]) -> String { digest(bytes).hexString }

    /// Hex digest of `bytes`.
    public static func hex<S: Sequence>(_ bytes: S) -> String where S.Element == UInt8 {
        var s = SHA256()
        s.update(bytes)
        return s.finalize().hexString
    }

    public static func hex(_ text: String) -> String { hex(Array(text.utf8)) }
}

extension UInt32 {
    @inline(__always) fileprivate func rotr(_ n: UInt32) -> UInt32 { (self >> n) | (self << (32 - n)) }
}

extension Array where Element == UInt8 {
    /// Lowercase hexadecimal.
    public var hexString: String {
        let d: [UInt8] = Array("0123456789abcdef".utf8)
        var out: [UInt8] = []
        out.reserveCapacity(count * 2)
        for b in self { out.append(d[Int(b >> 4)]); out.append(d[Int(b & 0xF)]) }
        return String(decoding: out, as: UTF8.self)
    }
}
