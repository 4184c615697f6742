import CCrypto
#if canImport(Glibc)
import Glibc
#endif
import PatternCore

/// Sprig's `certificate` struct (`genCA`, `genSelfSignedCert`, `genSignedCert`, …): `.Cert`
/// and `.Key` are PEM strings.
struct SprigCertificate: TemplateObject {
    var cert: String
    var key: String
    var goTypeName: String { "sprig.certificate" }
    func field(_ name: String) -> TemplateValue? {
        switch name {
        case "Cert": return .string(cert)
        case "Key": return .string(key)
        default: return nil
        }
    }
    func method(_ name: String) -> TemplateMethod? { nil }
    var dataValue: TemplateValue? { .map(TemplateMap(["Cert": .string(cert), "Key": .string(key)])) }
}

/// Sprig v3.3's crypto functions that need randomness or public-key cryptography, over OpenSSL
/// (and libxcrypt for bcrypt) through the `CCrypto` shim, producing what Sprig produces:
/// the same PEM block types, certificate fields and extensions as Go's `x509.CreateCertificate`
/// makes from Sprig's template, `$2a$10$` bcrypt hashes, AES-256-CBC with the IV in front.
/// Everything that draws randomness is nondeterministic: refused unless the render opts in.
enum SprigKeys {
    typealias Args = [TemplateValue]
    static func err(_ m: String) -> TemplateFunctionError { TemplateFunctionError(m) }

    static func add(_ m: inout FunctionMap) {
        m["randBytes"] = Sprig.f([.int], nondeterministic: true) { a in .string(Base64.encode(try random(Sprig.i(a[0])))) }
        m["bcrypt"] = Sprig.f([.string], nondeterministic: true) { a in .string(bcrypt(Sprig.s(a[0]))) }
        m["htpasswd"] = Sprig.f([.string, .string], nondeterministic: true) { a in
            let user = Sprig.s(a[0])
            if user.contains(":") { return .string("invalid username: \(user)") }
            return .string("\(user):\(bcrypt(Sprig.s(a[1])))")
        }
        m["encryptAES"] = Sprig.f([.string, .string], nondeterministic: true) { a in .string(try encryptAES(password: Sprig.s(a[0]), plaintext: Sprig.s(a[1]))) }
        m["decryptAES"] = Sprig.f([.string, .string]) { a in .string(try decryptAES(password: Sprig.s(a[0]), base64: Sprig.s(a[1]))) }
        m["genPrivateKey"] = Sprig.f([.string], nondeterministic: true) { a in .string(try genPrivateKey(Sprig.s(a[0]))) }
        m["buildCustomCert"] = Sprig.f([.string, .string]) { a in .object(try buildCustomCert(Sprig.s(a[0]), Sprig.s(a[1]))) }
        m["genCA"] = Sprig.f([.string, .int], nondeterministic: true) { a in
            .object(try certificate(cn: Sprig.s(a[0]), ips: [], dns: [], days: Sprig.i(a[1]), ca: nil, key: nil, isCA: true))
        }
        m["genCAWithKey"] = Sprig.f([.string, .int, .string], nondeterministic: true) { a in
            .object(try certificate(cn: Sprig.s(a[0]), ips: [], dns: [], days: Sprig.i(a[1]), ca: nil, key: Sprig.s(a[2]), isCA: true))
        }
        m["genSelfSignedCert"] = Sprig.f([.string, .list, .list, .int], nondeterministic: true) { a in
            .object(try certificate(cn: Sprig.s(a[0]), ips: try ips(a[1]), dns: try dnsNames(a[2]), days: Sprig.i(a[3]), ca: nil, key: nil, isCA: false))
        }
        m["genSelfSignedCertWithKey"] = Sprig.f([.string, .list, .list, .int, .string], nondeterministic: true) { a in
            .object(try certificate(cn: Sprig.s(a[0]), ips: try ips(a[1]), dns: try dnsNames(a[2]), days: Sprig.i(a[3]), ca: nil, key: Sprig.s(a[4]), isCA: false))
        }
        m["genSignedCert"] = Sprig.f([.string, .list, .list, .int, .any], nondeterministic: true) { a in
            .object(try certificate(cn: Sprig.s(a[0]), ips: try ips(a[1]), dns: try dnsNames(a[2]), days: Sprig.i(a[3]), ca: try signer(a[4]), key: nil, isCA: false))
        }
        m["genSignedCertWithKey"] = Sprig.f([.string, .list, .list, .int, .any, .string], nondeterministic: true) { a in
            .object(try certificate(cn: Sprig.s(a[0]), ips: try ips(a[1]), dns: try dnsNames(a[2]), days: Sprig.i(a[3]), ca: try signer(a[4]),
                                    key: Sprig.s(a[5]), isCA: false))
        }
    }

    /// Why libcrypto cannot be loaded (it is loaded on the first call), or nil.
    static var loadError: String? { ccrypto_load_error().map { String(cString: $0) } }

    /// Largest `randBytes` count (Go would allocate anything; a template should not).
    static let maxRandomBytes = 1 << 20

    static func random(_ n: Int) throws -> [UInt8] {
        guard n >= 0 else { throw err("runtime error: makeslice: len out of range") }
        guard n <= maxRandomBytes else { throw err("randBytes: \(n) bytes is over pattern's limit of \(maxRandomBytes)") }
        var buf = [UInt8](repeating: 0, count: n)
        guard ccrypto_random(&buf, n) == 1 else { throw err("randBytes: " + (loadError ?? "the random number generator failed")) }
        return buf
    }

    /// Sprig's `bcrypt`: golang.org/x/crypto/bcrypt at the default cost 10, `$2a$`; passwords
    /// over 72 bytes get x/crypto's error text, as Sprig prints it.
    static func bcrypt(_ password: String) -> String {
        if password.utf8.count > 72 { return "failed to encrypt string with bcrypt: bcrypt: password length exceeds 72 bytes" }
        if password.utf8.contains(0) { return "failed to encrypt string with bcrypt: password contains a NUL byte" }
        guard let salt = try? random(16) else { return "failed to encrypt string with bcrypt: no randomness" }
        var out = [CChar](repeating: 0, count: 128)
        guard ccrypto_bcrypt(password, 10, salt, &out, out.count) == 1 else { return "failed to encrypt string with bcrypt: " + (ccrypto_crypt_load_error().map { String(cString: $0) } ?? "libxcrypt refused") }
        return String(decoding: out.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }, as: UTF8.self)
    }

    /// The AES-256 key Sprig derives: the password's bytes in 32 zero bytes (cut at 32).
    static func aesKey(_ password: String) -> [UInt8] {
        var key = [UInt8](repeating: 0, count: 32)
        for (i, b) in password.utf8.prefix(32).enumerated() { key[i] = b }
        return key
    }

    /// Sprig's `encryptAES`: PKCS#7 padding, AES-256-CBC, base64(IV ‖ ciphertext).
    static func encryptAES(password: String, plaintext: String, iv fixedIV: [UInt8]? = nil) throws -> String {
        if plaintext.isEmpty { return "" }
        var content = Array(plaintext.utf8)
        let padding = 16 - content.count % 16
        content += [UInt8](repeating: UInt8(padding), count: padding)
        let iv = try fixedIV ?? random(16)
        var out = [UInt8](repeating: 0, count: content.count)
        guard ccrypto_aes256cbc(1, aesKey(password), iv, content, content.count, &out) == 1 else { throw err("encryptAES: " + (loadError ?? "AES failed")) }
        return Base64.encode(iv + out)
    }

    /// Sprig's `decryptAES`: the inverse; input Go would panic on is an error here.
    static func decryptAES(password: String, base64: String) throws -> String {
        if base64.isEmpty { return "" }
        guard let crypt = Base64.decode(base64) else { throw err("illegal base64 data at input byte 0") }
        guard crypt.count >= 16 else { throw err("runtime error: slice bounds out of range [:16] with capacity \(crypt.count)") }
        let body = Array(crypt[16...])
        guard body.count % 16 == 0 else { throw err("crypto/cipher: input not full blocks") }
        var out = [UInt8](repeating: 0, count: body.count)
        guard ccrypto_aes256cbc(0, aesKey(password), Array(crypt[..<16]), body, body.count, &out) == 1 else { throw err("decryptAES: " + (loadError ?? "AES failed")) }
        guard let last = out.last else { throw err("runtime error: index out of range [-1]") }
        guard Int(last) <= out.count else { throw err("runtime error: slice bounds out of range [:\(out.count - Int(last))]") }
        return String(decoding: out[..<(out.count - Int(last))], as: UTF8.self)
    }

    /// A key handle, freed when dropped.
    final class Key {
        let raw: UnsafeMutableRawPointer
        init(_ raw: UnsafeMutableRawPointer) { self.raw = raw }
        deinit { ccrypto_key_free(raw) }
        var kind: Int32 { ccrypto_key_kind(raw) }
        /// Sprig's `pemBlockForKey`.
        var pem: String {
            guard let s = ccrypto_key_pem(raw) else { return "" }
            defer { ccrypto_free(s) }
            return String(cString: s)
        }
        static func generate(_ kind: Int32, bits: Int32 = 0) throws -> Key {
            var e = [CChar](repeating: 0, count: Int(CCRYPTO_ERR_SIZE))
            guard let k = ccrypto_key_generate(kind, bits, &e) else { throw err("failed to generate private key: \(message(e))") }
            return Key(k)
        }
        /// Sprig's `parsePrivateKeyPEM`.
        static func parse(_ pem: String) throws -> Key {
            guard pem.contains("-----BEGIN ") else { throw err("no PEM data in input") }
            guard pem.contains(" PRIVATE KEY-----") else { throw err("no private key data in PEM block") }
            var e = [CChar](repeating: 0, count: Int(CCRYPTO_ERR_SIZE))
            let bytes = Array(pem.utf8)
            guard let k = bytes.withUnsafeBufferPointer({ b in
                b.baseAddress.flatMap { base in base.withMemoryRebound(to: CChar.self, capacity: b.count) { ccrypto_key_from_pem($0, b.count, &e) } }
            }) else { throw err("parsing private key from PEM: \(message(e))") }
            return Key(k)
        }
    }

    static func message(_ e: [CChar]) -> String { String(decoding: e.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }, as: UTF8.self) }

    /// Sprig's `genPrivateKey`: rsa (4096 bits, the default), dsa (L2048N256), ecdsa (P-256), ed25519.
    static func genPrivateKey(_ type: String) throws -> String {
        let key: Key
        switch type {
        case "", "rsa": key = try Key.generate(Int32(CCRYPTO_KEY_RSA), bits: 4096)
        case "dsa": key = try Key.generate(Int32(CCRYPTO_KEY_DSA))
        case "ecdsa": key = try Key.generate(Int32(CCRYPTO_KEY_EC))
        case "ed25519": key = try Key.generate(Int32(CCRYPTO_KEY_ED25519))
        default: return "Unknown type " + type
        }
        return key.pem
    }

    /// Sprig's `buildCustomCert`: base64 PEM certificate and key, checked, returned as is.
    static func buildCustomCert(_ b64cert: String, _ b64key: String) throws -> SprigCertificate {
        guard let cert = Base64.decode(b64cert) else { throw err("unable to decode base64 certificate") }
        guard let key = Base64.decode(b64key) else { throw err("unable to decode base64 private key") }
        let certText = String(decoding: cert, as: UTF8.self), keyText = String(decoding: key, as: UTF8.self)
        guard certText.contains("-----BEGIN ") else { throw err("unable to decode certificate") }
        var e = [CChar](repeating: 0, count: Int(CCRYPTO_ERR_SIZE))
        guard ccrypto_cert_check(certText, certText.utf8.count, &e) == 1 else {
            throw err("error parsing certificate: decodedCert.Bytes: \(message(e))")
        }
        do { _ = try Key.parse(keyText) } catch let x as TemplateFunctionError { throw err("error parsing private key: \(x.message)") }
        return SprigCertificate(cert: certText, key: keyText)
    }

    /// Go's `net.ParseIP` of each element, as 4 bytes for IPv4 (what `x509` writes).
    static func ips(_ v: TemplateValue) throws -> [[UInt8]] {
        guard case .list(let l) = v else { return [] }
        var out: [[UInt8]] = []
        for item in l {
            guard case .string(let s) = item else { throw err("error parsing ip: \(GoFormat.v(item)) is not a string") }
            var v4 = in_addr()
            var v6 = in6_addr()
            if inet_pton(AF_INET, s, &v4) == 1 {
                out.append(withUnsafeBytes(of: &v4) { Array($0) })
            } else if inet_pton(AF_INET6, s, &v6) == 1 {
                let b = withUnsafeBytes(of: &v6) { Array($0) }
                out.append(b[..<10].allSatisfy { $0 == 0 } && b[10] == 0xff && b[11] == 0xff ? Array(b[12...]) : b)
            } else {
                throw err("error parsing ip: \(s)")
            }
        }
        return out
    }

    static func dnsNames(_ v: TemplateValue) throws -> [String] {
        guard case .list(let l) = v else { return [] }
        var out: [String] = []
        for item in l {
            guard case .string(let s) = item else { throw err("error processing alternate dns name: \(GoFormat.v(item)) is not a string") }
            out.append(s)
        }
        return out
    }

    static func signer(_ v: TemplateValue) throws -> SprigCertificate {
        guard case .object(let o) = v, let c = o as? SprigCertificate else {
            throw err("wrong type for value; expected sprig.certificate; got \(v.goTypeName)")
        }
        return c
    }

    /// Sprig's certificate generators: a new RSA 2048 key unless `key` (PEM) is given, signed by
    /// itself or by `ca`.
    static func certificate(cn: String, ips: [[UInt8]], dns: [String], days: Int, ca: SprigCertificate?, key keyPEM: String?, isCA: Bool) throws -> SprigCertificate {
        guard !cn.utf8.contains(0), !dns.contains(where: { $0.utf8.contains(0) }) else { throw err("x509: a name contains a NUL byte") }
        let key: Key
        if let keyPEM {
            do { key = try Key.parse(keyPEM) } catch let x as TemplateFunctionError { throw err("parsing private key: \(x.message)") }
        } else {
            do { key = try Key.generate(Int32(CCRYPTO_KEY_RSA), bits: 2048) } catch let x as TemplateFunctionError {
                throw err("error generating rsa key: \(x.message)")
            }
        }
        var signerKey = key
        if let ca {
            var e = [CChar](repeating: 0, count: Int(CCRYPTO_ERR_SIZE))
            guard ccrypto_cert_check(ca.cert, ca.cert.utf8.count, &e) == 1 else { throw err("unable to decode certificate") }
            do { signerKey = try Key.parse(ca.key) } catch let x as TemplateFunctionError { throw err("error parsing private key: \(x.message)") }
        }
        var e = [CChar](repeating: 0, count: Int(CCRYPTO_ERR_SIZE))
        let dnsC = dns.map { strdup($0) }
        defer { for p in dnsC { free(p) } }
        let ipBuffers = ips.map { b -> UnsafeMutablePointer<UInt8> in
            let p = UnsafeMutablePointer<UInt8>.allocate(capacity: max(1, b.count))
            p.initialize(from: b, count: b.count)
            return p
        }
        defer { for p in ipBuffers { p.deallocate() } }
        let dnsPointers: [UnsafePointer<CChar>?] = dnsC.map { UnsafePointer($0) }
        let ipPointers: [UnsafePointer<UInt8>?] = ipBuffers.map { UnsafePointer($0) }
        let ipLengths = ips.map(\.count)
        let days32 = Int32(clamping: days)
        let pem: UnsafeMutablePointer<CChar>? = dnsPointers.withUnsafeBufferPointer { d in
            ipPointers.withUnsafeBufferPointer { ip in
                ipLengths.withUnsafeBufferPointer { il in
                    ccrypto_cert_create(key.raw, signerKey.raw, ca?.cert, ca?.cert.utf8.count ?? 0, cn, d.baseAddress, d.count,
                                        ip.baseAddress, il.baseAddress, ip.count, days32, isCA ? 1 : 0, &e)
                }
            }
        }
        guard let pem else { throw err("error creating certificate: \(message(e))") }
        defer { ccrypto_free(pem) }
        return SprigCertificate(cert: String(cString: pem), key: key.pem)
    }
}

extension SprigKeys {
    /// True when `hash` (`$2a$…`, `$2b$…`) is the bcrypt hash of `password` (for tests and checks).
    static func bcryptMatches(_ password: String, _ hash: String) -> Bool { ccrypto_bcrypt_verify(password, hash) == 1 }
}
