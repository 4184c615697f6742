import PatternCore
import Synchronization

/// Sprig's deterministic crypto helper `derivePassword` (the Master Password algorithm:
/// scrypt N=32768 r=8 p=2 over the master password and user, HMAC-SHA256 over the site and
/// counter, then a character template), implemented exactly as Sprig v3 does.
enum SprigCrypto {
    static let seed = Array("com.lyndir.masterpassword".utf8)

    static let templates: [String: [[UInt8]]] = [
        "maximum": ["anoxxxxxxxxxxxxxxxxx", "axxxxxxxxxxxxxxxxxno"].map { Array($0.utf8) },
        "long": ["CvcvnoCvcvCvcv", "CvcvCvcvnoCvcv", "CvcvCvcvCvcvno", "CvccnoCvcvCvcv", "CvccCvcvnoCvcv", "CvccCvcvCvcvno",
                 "CvcvnoCvccCvcv", "CvcvCvccnoCvcv", "CvcvCvccCvcvno", "CvcvnoCvcvCvcc", "CvcvCvcvnoCvcc", "CvcvCvcvCvccno",
                 "CvccnoCvccCvcv", "CvccCvccnoCvcv", "CvccCvccCvcvno", "CvcvnoCvccCvcc", "CvcvCvccnoCvcc", "CvcvCvccCvccno",
                 "CvccnoCvcvCvcc", "CvccCvcvnoCvcc", "CvccCvcvCvccno"].map { Array($0.utf8) },
        "medium": ["CvcnoCvc", "CvcCvcno"].map { Array($0.utf8) },
        "short": [Array("Cvcn".utf8)],
        "basic": ["aaanaaan", "aannaaan", "aaannaaa"].map { Array($0.utf8) },
        "pin": [Array("nnnn".utf8)],
    ]

    static let characters: [UInt8: [UInt8]] = [
        UInt8(ascii: "V"): Array("AEIOU".utf8),
        UInt8(ascii: "C"): Array("BCDFGHJKLMNPQRSTVWXYZ".utf8),
        UInt8(ascii: "v"): Array("aeiou".utf8),
        UInt8(ascii: "c"): Array("bcdfghjklmnpqrstvwxyz".utf8),
        UInt8(ascii: "A"): Array("AEIOUBCDFGHJKLMNPQRSTVWXYZ".utf8),
        UInt8(ascii: "a"): Array("AEIOUaeiouBCDFGHJKLMNPQRSTVWXYZbcdfghjklmnpqrstvwxyz".utf8),
        UInt8(ascii: "n"): Array("0123456789".utf8),
        UInt8(ascii: "o"): Array("@&%?,=[]_:-+*$#!'^~;()/.".utf8),
        UInt8(ascii: "x"): Array("AEIOUaeiouBCDFGHJKLMNPQRSTVWXYZbcdfghjklmnpqrstvwxyz0123456789!@#$%^&*()".utf8),
    ]

    static func bigEndian(_ v: UInt32) -> [UInt8] { [UInt8(v >> 24), UInt8(v >> 16 & 0xff), UInt8(v >> 8 & 0xff), UInt8(v & 0xff)] }

    /// Sprig's `derivePassword counter type password user site`.
    static func derivePassword(counter: UInt32, type: String, password: String, user: String, site: String) -> String {
        guard let temps = templates[type] else { return "cannot find password template \(type)" }
        let salt = seed + bigEndian(UInt32(truncatingIfNeeded: user.utf8.count)) + Array(user.utf8)
        let key = masterKey(password: password, salt: salt)
        let message = seed + bigEndian(UInt32(truncatingIfNeeded: site.utf8.count)) + Array(site.utf8) + bigEndian(counter)
        let mac = hmacSHA256(key: key, message: message)
        let temp = temps[Int(mac[0]) % temps.count]
        var out: [UInt8] = []
        for (i, element) in temp.enumerated() {
            let chars = characters[element]!
            out.append(chars[Int(mac[i + 1]) % chars.count])
        }
        return String(decoding: out, as: UTF8.self)
    }

    /// scrypt keys of recent (password, user) pairs: a chart deriving several passwords from
    /// one master password pays for scrypt (32 MiB, the expensive part) once.
    static let keyCache = Mutex<[[UInt8]: [UInt8]]>([:])
    static let keyCacheLimit = 8

    static func masterKey(password: String, salt: [UInt8]) -> [UInt8] {
        let id = bigEndian(UInt32(truncatingIfNeeded: password.utf8.count)) + Array(password.utf8) + salt
        if let k = keyCache.withLock({ $0[id] }) { return k }
        let key = scrypt(password: Array(password.utf8), salt: salt, n: 32768, r: 8, p: 2, length: 64)
        keyCache.withLock { c in
            if c.count >= keyCacheLimit { c.removeAll() }
            c[id] = key
        }
        return key
    }

    static func hmacSHA256(key: [UInt8], message: [UInt8]) -> [UInt8] {
        var k = key
        if k.count > 64 { var h = SHA256(); h.update(k); k = h.finalize() }
        k += [UInt8](repeating: 0, count: 64 - k.count)
        var inner = SHA256()
        inner.update(k.map { $0 ^ 0x36 })
        inner.update(message)
        var outer = SHA256()
        outer.update(k.map { $0 ^ 0x5c })
        outer.update(inner.finalize())
        return outer.finalize()
    }

    /// PBKDF2-HMAC-SHA256 with one iteration (all scrypt needs).
    static func pbkdf2Once(password: [UInt8], salt: [UInt8], length: Int) -> [UInt8] {
        var out: [UInt8] = []
        out.reserveCapacity(length + 32)
        var block: UInt32 = 1
        while out.count < length {
            out += hmacSHA256(key: password, message: salt + bigEndian(block))
            block += 1
        }
        return Array(out.prefix(length))
    }

    /// scrypt (RFC 7914). Memory: 128·r·N bytes (32 MiB for derivePassword's parameters).
    static func scrypt(password: [UInt8], salt: [UInt8], n: Int, r: Int, p: Int, length: Int) -> [UInt8] {
        let blockWords = 32 * r
        var b = pbkdf2Once(password: password, salt: salt, length: p * 128 * r)
        var x = [UInt32](repeating: 0, count: blockWords)
        var y = [UInt32](repeating: 0, count: blockWords)
        var v = [UInt32](repeating: 0, count: blockWords * n)
        for i in 0..<p {
            let base = i * 128 * r
            for w in 0..<blockWords {
                let o = base + w * 4
                x[w] = UInt32(b[o]) | UInt32(b[o + 1]) << 8 | UInt32(b[o + 2]) << 16 | UInt32(b[o + 3]) << 24
            }
            x.withUnsafeMutableBufferPointer { xp in
                y.withUnsafeMutableBufferPointer { yp in
                    v.withUnsafeMutableBufferPointer { vp in
                        for j in 0..<n {
                            (vp.baseAddress! + j * blockWords).update(from: xp.baseAddress!, count: blockWords)
                            blockMix(xp, yp, r)
                        }
                        for _ in 0..<n {
                            let j = Int(xp[(2 * r - 1) * 16]) & (n - 1)
                            let vj = vp.baseAddress! + j * blockWords
                            for w in 0..<blockWords { xp[w] ^= vj[w] }
                            blockMix(xp, yp, r)
                        }
                    }
                }
            }
            for w in 0..<blockWords {
                let o = base + w * 4
                b[o] = UInt8(x[w] & 0xff); b[o + 1] = UInt8(x[w] >> 8 & 0xff)
                b[o + 2] = UInt8(x[w] >> 16 & 0xff); b[o + 3] = UInt8(x[w] >> 24)
            }
        }
        return pbkdf2Once(password: password, salt: b, length: length)
    }

    /// scrypt's BlockMix with Salsa20/8, in place on `b` (2r 64-byte blocks), `y` scratch.
    static func blockMix(_ b: UnsafeMutableBufferPointer<UInt32>, _ y: UnsafeMutableBufferPointer<UInt32>, _ r: Int) {
        var t = (UInt32(0), UInt32(0), UInt32(0), UInt32(0), UInt32(0), UInt32(0), UInt32(0), UInt32(0),
                 UInt32(0), UInt32(0), UInt32(0), UInt32(0), UInt32(0), UInt32(0), UInt32(0), UInt32(0))
        withUnsafeMutableBytes(of: &t) { raw in
            let x = raw.bindMemory(to: UInt32.self)
            for k in 0..<16 { x[k] = b[(2 * r - 1) * 16 + k] }
            for i in 0..<(2 * r) {
                for k in 0..<16 { x[k] ^= b[i * 16 + k] }
                salsa8(x)
                // Even blocks to the first half, odd to the second.
                let dst = (i % 2 == 0 ? i / 2 : r + i / 2) * 16
                for k in 0..<16 { y[dst + k] = x[k] }
            }
        }
        b.baseAddress!.update(from: y.baseAddress!, count: 32 * r)
    }

    @inline(__always) static func rotl(_ v: UInt32, _ n: UInt32) -> UInt32 { v << n | v >> (32 - n) }

    /// Salsa20/8 core, in place.
    static func salsa8(_ b: UnsafeMutableBufferPointer<UInt32>) {
        var x0 = b[0], x1 = b[1], x2 = b[2], x3 = b[3], x4 = b[4], x5 = b[5], x6 = b[6], x7 = b[7]
        var x8 = b[8], x9 = b[9], x10 = b[10], x11 = b[11], x12 = b[12], x13 = b[13], x14 = b[14], x15 = b[15]
        for _ in 0..<4 {
            x4 ^= rotl(x0 &+ x12, 7); x8 ^= rotl(x4 &+ x0, 9); x12 ^= rotl(x8 &+ x4, 13); x0 ^= rotl(x12 &+ x8, 18)
            x9 ^= rotl(x5 &+ x1, 7); x13 ^= rotl(x9 &+ x5, 9); x1 ^= rotl(x13 &+ x9, 13); x5 ^= rotl(x1 &+ x13, 18)
            x14 ^= rotl(x10 &+ x6, 7); x2 ^= rotl(x14 &+ x10, 9); x6 ^= rotl(x2 &+ x14, 13); x10 ^= rotl(x6 &+ x2, 18)
            x3 ^= rotl(x15 &+ x11, 7); x7 ^= rotl(x3 &+ x15, 9); x11 ^= rotl(x7 &+ x3, 13); x15 ^= rotl(x11 &+ x7, 18)
            x1 ^= rotl(x0 &+ x3, 7); x2 ^= rotl(x1 &+ x0, 9); x3 ^= rotl(x2 &+ x1, 13); x0 ^= rotl(x3 &+ x2, 18)
            x6 ^= rotl(x5 &+ x4, 7); x7 ^= rotl(x6 &+ x5, 9); x4 ^= rotl(x7 &+ x6, 13); x5 ^= rotl(x4 &+ x7, 18)
            x11 ^= rotl(x10 &+ x9, 7); x8 ^= rotl(x11 &+ x10, 9); x9 ^= rotl(x8 &+ x11, 13); x10 ^= rotl(x9 &+ x8, 18)
            x12 ^= rotl(x15 &+ x14, 7); x13 ^= rotl(x12 &+ x15, 9); x14 ^= rotl(x13 &+ x12, 13); x15 ^= rotl(x14 &+ x13, 18)
        }
        b[0] &+= x0; b[1] &+= x1; b[2] &+= x2; b[3] &+= x3; b[4] &+= x4; b[5] &+= x5; b[6] &+= x6; b[7] &+= x7
        b[8] &+= x8; b[9] &+= x9; b[10] &+= x10; b[11] &+= x11; b[12] &+= x12; b[13] &+= x13; b[14] &+= x14; b[15] &+= x15
    }
}
