import PatternCore

extension Sprig {
    static func addMore(_ m: inout FunctionMap) {
        addEncodings(&m)
        addPaths(&m)
        addRegex(&m)
        addSemver(&m)
        addRandom(&m)
        addURLs(&m)
        addDates(&m)
        m["trimall"] = m["trimAll"]
        m["chunk"] = f([.int, .any]) { a in try chunk(a) }
        m["mustChunk"] = m["chunk"]
        m["mustFromJson"] = f([.string]) { a in
            let v = TemplateCodecs.fromJSON(s(a[0]))
            if case .map(let d) = v, d.count == 1, let e = d["Error"], case .string(let msg) = e { throw err(msg) }
            return v
        }
        m["getHostByName"] = f([.string], nondeterministic: true) { _ in
            throw err("getHostByName is not supported: rendering never reaches the network")
        }
        // Keys, certificates, bcrypt, AES and random bytes (SprigKeys.swift).
        SprigKeys.add(&m)
        m["derivePassword"] = f([.int, .string, .string, .string, .string]) { a in
            .string(SprigCrypto.derivePassword(counter: UInt32(truncatingIfNeeded: i(a[0])), type: s(a[1]), password: s(a[2]),
                                               user: s(a[3]), site: s(a[4])))
        }
    }

    static func chunk(_ a: Args) throws -> TemplateValue {
        let size = i(a[0])
        guard case .list(let l) = a[1] else { throw err("Cannot chunk type \(a[1].goTypeName)") }
        guard size > 0 else { throw err("runtime error: integer divide by zero") }
        var out: [TemplateValue] = []
        var k = 0
        while k < l.count {
            out.append(.list(Array(l[k..<min(k + size, l.count)])))
            k += size
        }
        return .list(out)
    }

    // MARK: encodings and hashes

    static func addEncodings(_ m: inout FunctionMap) {
        m["b64enc"] = f([.string]) { .string(Base64.encode(s($0[0]).utf8)) }
        m["b64dec"] = f([.string]) { a in
            guard let b = Base64.decode(s(a[0])) else { return .string("illegal base64 data at input byte 0") }
            return .string(String(decoding: b, as: UTF8.self))
        }
        m["b32enc"] = f([.string]) { .string(base32Encode(Array(s($0[0]).utf8))) }
        m["b32dec"] = f([.string]) { a in
            guard let b = base32Decode(s(a[0])) else { return .string("illegal base32 data at input byte 0") }
            return .string(String(decoding: b, as: UTF8.self))
        }
        m["sha256sum"] = f([.string]) { .string(PatternCore.SHA256.hex(s($0[0]))) }
        m["sha1sum"] = f([.string]) { .string(SHA1.hex(Array(s($0[0]).utf8))) }
        m["adler32sum"] = f([.string]) { a in
            var x: UInt32 = 1, y: UInt32 = 0
            for b in s(a[0]).utf8 { x = (x + UInt32(b)) % 65521; y = (y + x) % 65521 }
            return .string(String((y << 16) | x))
        }
    }

    static let b32Alphabet = Array("ABCDEFGHIJKLMNOPQRSTUVWXYZ234567".utf8)

    static func base32Encode(_ b: [UInt8]) -> String {
        var out: [UInt8] = []
        var i = 0
        while i < b.count {
            let chunk = Array(b[i..<min(i + 5, b.count)])
            var buf = [UInt8](repeating: 0, count: 5)
            for (k, x) in chunk.enumerated() { buf[k] = x }
            let bits = buf.reduce(UInt64(0)) { ($0 << 8) | UInt64($1) }
            let chars = [2, 4, 5, 7, 8][chunk.count - 1]
            for k in 0..<8 {
                if k < chars { out.append(b32Alphabet[Int((bits >> UInt64(35 - 5 * k)) & 31)]) } else { out.append(UInt8(ascii: "=")) }
            }
            i += 5
        }
        return String(decoding: out, as: UTF8.self)
    }

    static func base32Decode(_ s: String) -> [UInt8]? {
        var vals: [UInt8] = []
        for c in s.utf8 where c != UInt8(ascii: "\n") && c != UInt8(ascii: "\r") {
            if c == UInt8(ascii: "=") { break }
            guard let k = b32Alphabet.firstIndex(of: c) else { return nil }
            vals.append(UInt8(k))
        }
        var out: [UInt8] = []
        var acc: UInt32 = 0, n = 0
        for v in vals {
            acc = (acc << 5) | UInt32(v)
            n += 5
            if n >= 8 { n -= 8; out.append(UInt8((acc >> UInt32(n)) & 0xFF)) }
        }
        return out
    }

    // MARK: paths (Go's path package)

    static func addPaths(_ m: inout FunctionMap) {
        m["base"] = f([.string]) { .string(pathBase(s($0[0]))) }
        m["dir"] = f([.string]) { .string(pathDir(s($0[0]))) }
        m["clean"] = f([.string]) { .string(pathClean(s($0[0]))) }
        m["ext"] = f([.string]) { .string(pathExt(s($0[0]))) }
        m["isAbs"] = f([.string]) { .bool(s($0[0]).hasPrefix("/")) }
        m["osBase"] = m["base"]
        m["osDir"] = m["dir"]
        m["osClean"] = m["clean"]
        m["osExt"] = m["ext"]
        m["osIsAbs"] = m["isAbs"]
    }

    static func pathClean(_ p: String) -> String {
        if p.isEmpty { return "." }
        let rooted = p.hasPrefix("/")
        var parts: [Substring] = []
        for seg in p.split(separator: "/", omittingEmptySubsequences: true) {
            if seg == "." { continue }
            if seg == ".." {
                if let last = parts.last, last != ".." { parts.removeLast() } else if !rooted { parts.append(seg) }
                continue
            }
            parts.append(seg)
        }
        let joined = parts.joined(separator: "/")
        if rooted { return "/" + joined }
        return joined.isEmpty ? "." : joined
    }

    static func pathBase(_ p: String) -> String {
        if p.isEmpty { return "." }
        var t = Substring(p)
        while t.count > 0 && t.last == "/" { t = t.dropLast() }
        if let i = t.lastIndex(of: "/") { t = t[t.index(after: i)...] }
        return t.isEmpty ? "/" : String(t)
    }

    static func pathDir(_ p: String) -> String {
        guard let i = p.lastIndex(of: "/") else { return "." }
        return pathClean(String(p[...i]))
    }

    static func pathExt(_ p: String) -> String {
        for (k, c) in p.utf8.enumerated().reversed() {
            if c == UInt8(ascii: "/") { return "" }
            if c == UInt8(ascii: ".") { return String(decoding: Array(p.utf8)[k...], as: UTF8.self) }
        }
        return ""
    }

    // MARK: semver

    static func addSemver(_ m: inout FunctionMap) {
        m["semver"] = f([.string]) { a in
            do throws(SemverError) { return .object(SemverObject(version: try SemanticVersion(s(a[0])))) } catch let e { throw err(e.message) }
        }
        m["semverCompare"] = f([.string, .string]) { a in
            let c: SemverConstraint
            let v: SemanticVersion
            do throws(SemverError) { c = try SemverConstraint(s(a[0])) } catch let e { throw err(e.message) }
            do throws(SemverError) { v = try SemanticVersion(s(a[1])) } catch let e { throw err(e.message) }
            return .bool(c.check(v))
        }
    }

    // MARK: random (nondeterministic)

    static func addRandom(_ m: inout FunctionMap) {
        @Sendable func rand(_ n: Int, _ alphabet: String) -> String {
            let chars = Array(alphabet)
            var g = SystemRandomNumberGenerator()
            return String((0..<max(n, 0)).map { _ in chars[Int.random(in: 0..<chars.count, using: &g)] })
        }
        let letters = "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ"
        let digits = "0123456789"
        m["randAlphaNum"] = f([.int], nondeterministic: true) { .string(rand(i($0[0]), letters + digits)) }
        m["randAlpha"] = f([.int], nondeterministic: true) { .string(rand(i($0[0]), letters)) }
        m["randNumeric"] = f([.int], nondeterministic: true) { .string(rand(i($0[0]), digits)) }
        m["randAscii"] = f([.int], nondeterministic: true) { a in
            .string(rand(i(a[0]), String((32...126).map { Character(Unicode.Scalar(UInt8($0))) })))
        }
        m["randInt"] = f([.int, .int], nondeterministic: true) { a in
            let lo = i(a[0]), hi = i(a[1])
            guard hi > lo else { throw err("invalid argument to Intn") }
            return .int(Int.random(in: lo..<hi))
        }
        m["shuffle"] = f([.string], nondeterministic: true) { .string(String(s($0[0]).shuffled())) }
        m["uuidv4"] = f([], nondeterministic: true) { _ in
            var b = (0..<16).map { _ in UInt8.random(in: 0...255) }
            b[6] = (b[6] & 0x0F) | 0x40
            b[8] = (b[8] & 0x3F) | 0x80
            let h = b.map { x -> String in let s = String(x, radix: 16); return s.count == 1 ? "0" + s : s }
            return .string(h[0..<4].joined() + "-" + h[4..<6].joined() + "-" + h[6..<8].joined() + "-" + h[8..<10].joined() + "-" + h[10..<16].joined())
        }
    }

    // MARK: URLs

    static func addURLs(_ m: inout FunctionMap) {
        m["urlParse"] = f([.string]) { a in .dict(urlParse(s(a[0]))) }
        m["urlJoin"] = f([.map]) { a in
            let d = a[0].mapValue?.entries ?? [:]
            func g(_ k: String) -> String { d[k].map { strval($0) } ?? "" }
            var out = ""
            let scheme = g("scheme")
            if !scheme.isEmpty { out += scheme + ":" }
            let host = g("host")
            let user = g("userinfo")
            let opaque = g("opaque")
            if !opaque.isEmpty {
                out += opaque
            } else {
                if !scheme.isEmpty || !host.isEmpty || !user.isEmpty { out += "//" }
                if !user.isEmpty { out += user + "@" }
                out += host
                let path = g("path")
                if !path.isEmpty && !path.hasPrefix("/") && !host.isEmpty { out += "/" }
                out += path
            }
            let q = g("query")
            if !q.isEmpty { out += "?" + q }
            let frag = g("fragment")
            if !frag.isEmpty { out += "#" + frag }
            return .string(out)
        }
    }

    static func urlParse(_ u: String) -> [String: TemplateValue] {
        var rest = Substring(u)
        var fragment = "", query = "", scheme = "", userinfo = "", host = "", path = "", opaque = ""
        if let h = rest.firstIndex(of: "#") { fragment = String(rest[rest.index(after: h)...]); rest = rest[..<h] }
        if let q = rest.firstIndex(of: "?") { query = String(rest[rest.index(after: q)...]); rest = rest[..<q] }
        if let c = rest.firstIndex(of: ":"), let f = rest.first, f.isLetter,
           rest[..<c].allSatisfy({ $0.isLetter || $0.isNumber || $0 == "+" || $0 == "-" || $0 == "." })
        {
            scheme = rest[..<c].lowercased()
            rest = rest[rest.index(after: c)...]
        }
        if rest.hasPrefix("//") {
            rest = rest.dropFirst(2)
            let end = rest.firstIndex(of: "/") ?? rest.endIndex
            var authority = rest[..<end]
            rest = rest[end...]
            if let at = authority.lastIndex(of: "@") { userinfo = String(authority[..<at]); authority = authority[authority.index(after: at)...] }
            host = String(authority)
            path = String(rest)
        } else if !scheme.isEmpty && !rest.hasPrefix("/") {
            opaque = String(rest)
        } else {
            path = String(rest)
        }
        var hostname = host
        if hostname.hasPrefix("["), let close = hostname.firstIndex(of: "]") {
            hostname = String(hostname[hostname.index(after: hostname.startIndex)..<close])
        } else if let colon = hostname.lastIndex(of: ":") {
            hostname = String(hostname[..<colon])
        }
        return [
            "scheme": .string(scheme), "host": .string(host), "hostname": .string(hostname), "path": .string(percentDecode(path)),
            "query": .string(query), "opaque": .string(opaque), "fragment": .string(percentDecode(fragment)), "userinfo": .string(userinfo),
        ]
    }

    static func percentDecode(_ s: String) -> String {
        guard s.contains("%") else { return s }
        var out: [UInt8] = []
        let u = Array(s.utf8)
        var i = 0
        while i < u.count {
            if u[i] == UInt8(ascii: "%"), i + 2 < u.count, let h = UInt8(String(decoding: u[(i + 1)...(i + 2)], as: UTF8.self), radix: 16) {
                out.append(h)
                i += 3
            } else {
                out.append(u[i])
                i += 1
            }
        }
        return String(decoding: out, as: UTF8.self)
    }
}

/// SHA-1 (for Sprig's `sha1sum`).
enum SHA1 {
    static func hex(_ message: [UInt8]) -> String {
        var h: [UInt32] = [0x67452301, 0xEFCDAB89, 0x98BADCFE, 0x10325476, 0xC3D2E1F0]
        var msg = message
        let ml = UInt64(message.count) * 8
        msg.append(0x80)
        while msg.count % 64 != 56 { msg.append(0) }
        for k in (0..<8).reversed() { msg.append(UInt8((ml >> UInt64(k * 8)) & 0xFF)) }
        var w = [UInt32](repeating: 0, count: 80)
        for chunk in stride(from: 0, to: msg.count, by: 64) {
            for t in 0..<16 {
                let b = chunk + t * 4
                w[t] = UInt32(msg[b]) << 24 | UInt32(msg[b + 1]) << 16 | UInt32(msg[b + 2]) << 8 | UInt32(msg[b + 3])
            }
            for t in 16..<80 {
                let x = w[t - 3] ^ w[t - 8] ^ w[t - 14] ^ w[t - 16]
                w[t] = (x << 1) | (x >> 31)
            }
            var a = h[0], b = h[1], c = h[2], d = h[3], e = h[4]
            for t in 0..<80 {
                let f: UInt32, k: UInt32
                switch t {
                case 0..<20: f = (b & c) | (~b & d); k = 0x5A827999
                case 20..<40: f = b ^ c ^ d; k = 0x6ED9EBA1
                case 40..<60: f = (b & c) | (b & d) | (c & d); k = 0x8F1BBCDC
                default: f = b ^ c ^ d; k = 0xCA62C1D6
                }
                let temp = ((a << 5) | (a >> 27)) &+ f &+ e &+ k &+ w[t]
                e = d; d = c; c = (b << 30) | (b >> 2); b = a; a = temp
            }
            h[0] &+= a; h[1] &+= b; h[2] &+= c; h[3] &+= d; h[4] &+= e
        }
        return h.map { x -> String in
            let s = String(x, radix: 16)
            return String(repeating: "0", count: 8 - s.count) + s
        }.joined()
    }
}
