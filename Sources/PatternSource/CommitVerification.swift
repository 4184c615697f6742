import CCrypto
import CGit2
import PatternCore

/// Which keys may sign the commit a source resolves to, the way Flux's `verify` works: the
/// commit's `gpgsig` header must hold a signature that verifies against one of these keys.
///
/// - SSH signatures (`git -c gpg.format=ssh commit -S`): the sshsig format over namespace
///   `git`, with `ssh-ed25519`, `ecdsa-sha2-nistp256` or RSA (`rsa-sha2-512`/`rsa-sha2-256`)
///   keys, given as `authorized_keys` / `allowed_signers` lines (options before the key type
///   and principals are ignored).
/// - OpenPGP signatures (`git commit -S` with gpg): v4 signatures by RSA or Ed25519 (EdDSA)
///   primary keys or subkeys, SHA-256 or SHA-512, keys given as ASCII-armored public key
///   blocks (`gpg --armor --export`).
///
/// The cryptography is OpenSSL's libcrypto through the `CCrypto` shim; the sshsig and
/// OpenPGP formats are parsed here with bounds on every length.
public struct CommitVerification: Sendable, Hashable {
    /// `authorized_keys`-style lines (`ssh-ed25519 AAAA… comment`).
    public var sshKeys: [String]
    /// ASCII-armored OpenPGP public key blocks.
    public var gpgKeys: [String]

    public init(sshKeys: [String] = [], gpgKeys: [String] = []) {
        self.sshKeys = sshKeys
        self.gpgKeys = gpgKeys
    }

    /// Reads `verify:` from a config value:
    /// ```yaml
    /// verify:
    ///   sshKeys: ["ssh-ed25519 AAAAC3Nz… release@example.com"]
    ///   sshKeysFile: keys/allowed_signers      # one key per line; '#' comments
    ///   gpgKeys: ["-----BEGIN PGP PUBLIC KEY BLOCK-----\n…"]
    ///   gpgKeysFile: keys/release.asc          # one or more armored blocks
    /// ```
    /// Relative files are read relative to `baseDirectory`.
    public init(value: Value, baseDirectory: String? = nil) throws(SourceError) {
        guard let o = value.object else {
            throw SourceError(.invalidSource, "'verify' must be a mapping with sshKeys/sshKeysFile/gpgKeys/gpgKeysFile")
        }
        var ssh: [String] = [], gpg: [String] = []
        for (k, v) in o {
            switch k {
            case "sshKeys", "gpgKeys":
                guard let a = v.array, a.allSatisfy({ $0.string != nil }) else {
                    throw SourceError(.invalidSource, "'verify.\(k)' must be a list of strings")
                }
                if k == "sshKeys" { ssh += a.compactMap(\.string) } else { gpg += a.compactMap(\.string) }
            case "sshKeysFile", "gpgKeysFile":
                guard let f = v.string else { throw SourceError(.invalidSource, "'verify.\(k)' must be a file path") }
                let path = f.hasPrefix("/") || baseDirectory == nil ? f : baseDirectory! + "/" + f
                guard let bytes = FS.readFile(path) else {
                    throw SourceError(.invalidSource, "cannot read verify.\(k) '\(f)'", fix: "check the path (relative to the file that names it)")
                }
                let text = String(decoding: bytes, as: UTF8.self)
                if k == "sshKeysFile" { ssh += text.split(separator: "\n").map(String.init) } else { gpg.append(text) }
            default:
                throw SourceError(.invalidSource, "unknown field 'verify.\(k)'", fix: "use sshKeys, sshKeysFile, gpgKeys or gpgKeysFile")
            }
        }
        self.init(sshKeys: ssh, gpgKeys: gpg)
        _ = try keys()
    }

    /// The parsed keys; a line or block that cannot be read is an error (a typo must not
    /// silently shrink the allowed set to nothing).
    func keys() throws(SourceError) -> [AllowedKey] {
        var out: [AllowedKey] = []
        for line in sshKeys {
            let t = line.trimmingSpaces()
            if t.isEmpty || t.hasPrefix("#") { continue }
            guard let k = SSHSignature.parseAuthorizedKey(t) else {
                throw SourceError(.invalidSource, "verify.sshKeys: cannot read '\(t.prefix(40))…' as an SSH public key",
                                  fix: "use a line of ~/.ssh/id_ed25519.pub (`ssh-ed25519 AAAA… comment`)")
            }
            out.append(k)
        }
        for block in gpgKeys {
            let keys = try OpenPGP.publicKeys(armored: block)
            if keys.isEmpty {
                throw SourceError(.invalidSource, "verify.gpgKeys: no RSA or Ed25519 public key in the armored block",
                                  fix: "export the key with `gpg --armor --export <fingerprint>`")
            }
            out += keys
        }
        if out.isEmpty {
            throw SourceError(.invalidSource, "'verify' names no key", fix: "add sshKeys/sshKeysFile or gpgKeys/gpgKeysFile")
        }
        return out
    }
}

/// A key allowed to sign: its algorithm, public numbers and the fingerprint users know it by.
struct AllowedKey: Sendable {
    enum Material: Sendable {
        case ed25519([UInt8])
        case ecdsaP256(point: [UInt8])
        case rsa(n: [UInt8], e: [UInt8])
    }
    var material: Material
    /// SSH: `SHA256:<base64>` of the key blob; OpenPGP: the v4 fingerprint in hex.
    var fingerprint: String
    /// SSH: the wire-format key blob (compared with the one in the signature).
    var sshBlob: [UInt8] = []
    /// OpenPGP: the 20-byte v4 fingerprint (its last 8 bytes are the key id).
    var pgpFingerprint: [UInt8] = []

    /// Checks `signature` over `message` (digest `hash` for RSA/ECDSA; Ed25519 signs `message`).
    func verify(signature: [UInt8], message: [UInt8], hash: Int32) -> Bool {
        switch material {
        case .ed25519(let pub):
            guard pub.count == 32, signature.count == 64 else { return false }
            return ccrypto_ed25519_verify(pub, signature, message, message.count) == 1
        case .ecdsaP256:
            return false  // ECDSA signatures carry (r, s): see verifyECDSA
        case .rsa(let n, let e):
            return ccrypto_rsa_verify(n, n.count, e, e.count, hash, signature, signature.count, message, message.count) == 1
        }
    }

    func verifyECDSA(r: [UInt8], s: [UInt8], message: [UInt8]) -> Bool {
        guard case .ecdsaP256(let point) = material else { return false }
        return ccrypto_ecdsa_p256_verify(point, point.count, r, r.count, s, s.count, message, message.count) == 1
    }
}

enum Digest {
    static func compute(_ alg: Int32, _ data: [UInt8]) -> [UInt8] {
        var out = [UInt8](repeating: 0, count: 64)
        let n = ccrypto_digest(alg, data, data.count, &out)
        return n > 0 ? Array(out.prefix(Int(n))) : []
    }
}

/// A bounds-checked reader of big-endian binary formats.
struct ByteReader {
    let bytes: [UInt8]
    var at = 0
    init(_ bytes: [UInt8]) { self.bytes = bytes }
    var atEnd: Bool { at >= bytes.count }
    mutating func take(_ n: Int) -> [UInt8]? {
        guard n >= 0, n <= bytes.count - at else { return nil }
        defer { at += n }
        return Array(bytes[at..<(at + n)])
    }
    mutating func u8() -> UInt8? { take(1)?.first }
    mutating func u16() -> Int? { take(2).map { Int($0[0]) << 8 | Int($0[1]) } }
    mutating func u32() -> Int? { take(4).map { Int($0[0]) << 24 | Int($0[1]) << 16 | Int($0[2]) << 8 | Int($0[3]) } }
    /// SSH `string`: uint32 length + bytes.
    mutating func sshString() -> [UInt8]? { u32().flatMap { take($0) } }
    /// OpenPGP MPI: uint16 bit count + bytes.
    mutating func mpi() -> [UInt8]? { u16().flatMap { take(($0 + 7) / 8) } }
}

extension Array where Element == UInt8 {
    /// SSH wire `string` encoding.
    var sshString: [UInt8] {
        let n = count
        return [UInt8(n >> 24 & 0xff), UInt8(n >> 16 & 0xff), UInt8(n >> 8 & 0xff), UInt8(n & 0xff)] + self
    }
    /// Uppercase hexadecimal, as OpenPGP fingerprints are shown (`gpg --fingerprint`); not
    /// PatternCore's lowercase `hexString` of digests.
    var uppercaseHexString: String {
        let digits = Array("0123456789ABCDEF".utf8)
        var out: [UInt8] = []
        out.reserveCapacity(count * 2)
        for b in self { out.append(digits[Int(b >> 4)]); out.append(digits[Int(b & 15)]) }
        return String(decoding: out, as: UTF8.self)
    }
    /// Strips leading zero bytes (SSH mpints carry a sign byte).
    var unsignedMagnitude: [UInt8] { Array(drop(while: { $0 == 0 })) }
}

/// The body between armor lines, base64-decoded (`Key: value` header lines, blank lines and
/// the OpenPGP `=` CRC-24 line skipped).
func dearmor(_ text: Substring) -> [UInt8]? {
    var body = ""
    for raw in text.split(separator: "\n") {
        let line = String(raw).trimmingSpaces()
        if line.isEmpty || line.hasPrefix("-----") || line.contains(": ") { continue }
        if line.hasPrefix("=") && line.count == 5 { continue }
        body += line
    }
    return Base64.decode(body)
}

/// Armored blocks `-----BEGIN <label>-----` … `-----END <label>-----` in `text`.
func armoredBlocks(_ text: String, label: String) -> [Substring] {
    var out: [Substring] = []
    var rest = text[...]
    let begin = "-----BEGIN \(label)-----", end = "-----END \(label)-----"
    while let b = rest.firstRange(ofText: begin), let e = rest[b.upperBound...].firstRange(ofText: end) {
        out.append(rest[b.lowerBound..<e.upperBound])
        rest = rest[e.upperBound...]
    }
    return out
}

extension StringProtocol {
    /// The first range of `needle` (byte-wise), without Foundation.
    func firstRange(ofText needle: String) -> Range<Index>? {
        let n = Array(needle.utf8)
        guard !n.isEmpty else { return nil }
        var i = startIndex
        while i < endIndex {
            if self[i...].utf8.starts(with: n) { return i..<utf8.index(i, offsetBy: n.count) }
            i = index(after: i)
        }
        return nil
    }
}

/// Verifies the signature in a commit's `gpgsig` header against the allowed keys.
enum CommitSignature {
    static func verify(repo: Repo, commit oid: git_oid, policy: CommitVerification, url: String) throws(SourceError) {
        let id = Git.oidString(oid)
        if let why = ccrypto_load_error() {
            throw SourceError(.untrustedCommit, "cannot check the signature of commit \(id) from \(url): \(String(cString: why))",
                              fix: "the commit is not deployed until its signature can be checked; make libcrypto loadable")
        }
        let allowed = try policy.keys()
        var sig = git_buf(), data = git_buf()
        defer { git_buf_dispose(&sig); git_buf_dispose(&data) }
        var o = oid
        let rc = git_commit_extract_signature(&sig, &data, repo.pointer, &o, "gpgsig")
        let fixAllowed = "sign the commit with an allowed key (`git commit -S`), or add the signer's public key to the source's verify keys"
        guard rc == 0, let sp = sig.ptr, let dp = data.ptr else {
            git_error_clear()
            throw SourceError(.untrustedCommit, "commit \(id) from \(url) is not signed, and this source requires a signature by an allowed key",
                              fix: fixAllowed)
        }
        let signature = String(decoding: UnsafeBufferPointer(start: UnsafeRawPointer(sp).assumingMemoryBound(to: UInt8.self), count: sig.size), as: UTF8.self)
        let signed = Array(UnsafeBufferPointer(start: UnsafeRawPointer(dp).assumingMemoryBound(to: UInt8.self), count: data.size))
        let outcome: SignatureCheck
        if signature.contains("-----BEGIN SSH SIGNATURE-----") {
            outcome = SSHSignature.check(signature, data: signed, allowed: allowed)
        } else if signature.contains("-----BEGIN PGP SIGNATURE-----") {
            outcome = OpenPGP.check(signature, data: signed, allowed: allowed)
        } else {
            outcome = .malformed("a signature of an unsupported kind (neither SSH nor OpenPGP)")
        }
        switch outcome {
        case .valid: return
        case .unknownKey(let fp):
            throw SourceError(.untrustedCommit, "commit \(id) from \(url) is signed by key \(fp), which is not among the allowed keys",
                              fix: "if \(fp) is a trusted signer, add its public key to the source's verify keys; otherwise do not deploy this commit")
        case .badSignature(let fp):
            throw SourceError(.untrustedCommit, "the signature of commit \(id) from \(url) by key \(fp) does not verify: the commit was changed after it was signed, or the signature is forged",
                              fix: "do not deploy this commit; check \(url) for tampering and re-sign the intended commit")
        case .malformed(let why):
            throw SourceError(.untrustedCommit, "commit \(id) from \(url) has an unusable signature: \(why)", fix: fixAllowed)
        }
    }
}

enum SignatureCheck: Equatable {
    case valid
    /// Signed by a key (fingerprint) that is not allowed.
    case unknownKey(String)
    /// An allowed key, but the signature does not verify over the commit.
    case badSignature(String)
    case malformed(String)
}

enum SSHSignature {
    /// `[options] <type> <base64> [comment]` → key, or nil.
    static func parseAuthorizedKey(_ line: String) -> AllowedKey? {
        let fields = line.split(whereSeparator: { $0 == " " || $0 == "\t" })
        for (i, f) in fields.enumerated() where f.hasPrefix("ssh-") || f.hasPrefix("ecdsa-") {
            guard i + 1 < fields.count, let blob = Base64.decode(String(fields[i + 1])) else { return nil }
            return key(blob: blob)
        }
        return nil
    }

    /// A key from its wire-format blob.
    static func key(blob: [UInt8]) -> AllowedKey? {
        var r = ByteReader(blob)
        guard let type = r.sshString().map({ String(decoding: $0, as: UTF8.self) }) else { return nil }
        let material: AllowedKey.Material
        switch type {
        case "ssh-ed25519":
            guard let pk = r.sshString(), pk.count == 32 else { return nil }
            material = .ed25519(pk)
        case "ecdsa-sha2-nistp256":
            guard let curve = r.sshString(), curve == Array("nistp256".utf8), let q = r.sshString(), q.count == 65 else { return nil }
            material = .ecdsaP256(point: q)
        case "ssh-rsa":
            guard let e = r.sshString(), let n = r.sshString() else { return nil }
            material = .rsa(n: n.unsignedMagnitude, e: e.unsignedMagnitude)
        default:
            return nil
        }
        guard r.atEnd else { return nil }
        let fp = "SHA256:" + String(Base64.encode(Digest.compute(Int32(CCRYPTO_SHA256), blob)).prefix { $0 != "=" })
        return AllowedKey(material: material, fingerprint: fp, sshBlob: blob)
    }

    /// The sshsig format (OpenSSH PROTOCOL.sshsig) over namespace `git`.
    static func check(_ armored: String, data: [UInt8], allowed: [AllowedKey]) -> SignatureCheck {
        guard let block = armoredBlocks(armored, label: "SSH SIGNATURE").first, let raw = dearmor(block) else {
            return .malformed("the SSH signature is not valid base64")
        }
        var r = ByteReader(raw)
        guard r.take(6) == Array("SSHSIG".utf8), r.u32() == 1, let pub = r.sshString(), let namespace = r.sshString(),
              let reserved = r.sshString(), let hashName = r.sshString(), let sigBlob = r.sshString() else {
            return .malformed("not an sshsig v1 signature")
        }
        guard let signer = key(blob: pub) else { return .malformed("the signing key is of an unsupported type (use ed25519, ecdsa-sha2-nistp256 or RSA)") }
        guard let key = allowed.first(where: { !$0.sshBlob.isEmpty && $0.sshBlob == pub }) else { return .unknownKey(signer.fingerprint) }
        guard namespace == Array("git".utf8) else {
            return .malformed("signed for namespace '\(String(decoding: namespace, as: UTF8.self))', not 'git'")
        }
        let hashAlg: Int32
        switch String(decoding: hashName, as: UTF8.self) {
        case "sha512": hashAlg = Int32(CCRYPTO_SHA512)
        case "sha256": hashAlg = Int32(CCRYPTO_SHA256)
        default: return .malformed("unsupported hash '\(String(decoding: hashName, as: UTF8.self))'")
        }
        let message = Array("SSHSIG".utf8) + namespace.sshString + reserved.sshString + hashName.sshString
            + Digest.compute(hashAlg, data).sshString
        var s = ByteReader(sigBlob)
        guard let algo = s.sshString().map({ String(decoding: $0, as: UTF8.self) }), let sig = s.sshString() else {
            return .malformed("the signature blob is truncated")
        }
        let ok: Bool
        switch (key.material, algo) {
        case (.ed25519, "ssh-ed25519"):
            ok = key.verify(signature: sig, message: message, hash: 0)
        case (.ecdsaP256, "ecdsa-sha2-nistp256"):
            var rs = ByteReader(sig)
            guard let rr = rs.sshString(), let ss = rs.sshString() else { return .malformed("the ECDSA signature is truncated") }
            ok = key.verifyECDSA(r: rr.unsignedMagnitude, s: ss.unsignedMagnitude, message: message)
        case (.rsa, "rsa-sha2-512"):
            ok = key.verify(signature: sig, message: message, hash: Int32(CCRYPTO_SHA512))
        case (.rsa, "rsa-sha2-256"):
            ok = key.verify(signature: sig, message: message, hash: Int32(CCRYPTO_SHA256))
        default:
            return .malformed("signature algorithm '\(algo)' is not accepted for this key (SHA-1 'ssh-rsa' signatures are refused)")
        }
        return ok ? .valid : .badSignature(key.fingerprint)
    }
}

/// The parts of OpenPGP (RFC 4880) that commit signatures need: v4 public keys (RSA,
/// EdDSA/Ed25519) and v4 binary signatures with SHA-256/512.
enum OpenPGP {
    struct Packet { var tag: Int; var body: [UInt8] }

    /// Splits a binary OpenPGP message into packets (old and new formats, definite lengths).
    static func packets(_ bytes: [UInt8]) -> [Packet]? {
        var r = ByteReader(bytes)
        var out: [Packet] = []
        while !r.atEnd {
            guard let h = r.u8(), h & 0x80 != 0 else { return nil }
            let tag: Int
            let length: Int
            if h & 0x40 != 0 {
                tag = Int(h & 0x3f)
                guard let o1 = r.u8() else { return nil }
                if o1 < 192 { length = Int(o1) }
                else if o1 < 224 { guard let o2 = r.u8() else { return nil }; length = (Int(o1) - 192) << 8 + Int(o2) + 192 }
                else if o1 == 255 { guard let n = r.u32() else { return nil }; length = n }
                else { return nil }  // partial lengths: not used for keys and signatures
            } else {
                tag = Int(h >> 2 & 0x0f)
                switch h & 3 {
                case 0: guard let n = r.u8() else { return nil }; length = Int(n)
                case 1: guard let n = r.u16() else { return nil }; length = n
                case 2: guard let n = r.u32() else { return nil }; length = n
                default: length = bytes.count - r.at
                }
            }
            guard let body = r.take(length) else { return nil }
            out.append(Packet(tag: tag, body: body))
        }
        return out
    }

    /// Primary keys and subkeys (tags 6 and 14) of every armored block in `text`.
    static func publicKeys(armored text: String) throws(SourceError) -> [AllowedKey] {
        var out: [AllowedKey] = []
        let blocks = armoredBlocks(text, label: "PGP PUBLIC KEY BLOCK")
        if blocks.isEmpty {
            throw SourceError(.invalidSource, "verify.gpgKeys: no '-----BEGIN PGP PUBLIC KEY BLOCK-----' block",
                              fix: "export the key with `gpg --armor --export <fingerprint>`")
        }
        for b in blocks {
            guard let bytes = dearmor(b), let packets = packets(bytes) else {
                throw SourceError(.invalidSource, "verify.gpgKeys: the armored key block cannot be read",
                                  fix: "export the key again with `gpg --armor --export <fingerprint>`")
            }
            for p in packets where p.tag == 6 || p.tag == 14 {
                if let k = key(p.body) { out.append(k) }
            }
        }
        return out
    }

    static func key(_ body: [UInt8]) -> AllowedKey? {
        var r = ByteReader(body)
        guard r.u8() == 4, r.take(4) != nil, let algo = r.u8() else { return nil }
        let material: AllowedKey.Material
        switch algo {
        case 1, 3:
            guard let n = r.mpi(), let e = r.mpi() else { return nil }
            material = .rsa(n: n, e: e)
        case 22:
            let ed25519OID: [UInt8] = [0x2b, 0x06, 0x01, 0x04, 0x01, 0xda, 0x47, 0x0f, 0x01]
            guard let len = r.u8(), let oid = r.take(Int(len)), oid == ed25519OID, let point = r.mpi(),
                  point.count == 33, point[0] == 0x40 else { return nil }
            material = .ed25519(Array(point.dropFirst()))
        default:
            return nil
        }
        let n = body.count
        let fp = Digest.compute(Int32(CCRYPTO_SHA1), [0x99, UInt8(n >> 8 & 0xff), UInt8(n & 0xff)] + body)
        guard fp.count == 20 else { return nil }
        return AllowedKey(material: material, fingerprint: fp.uppercaseHexString, pgpFingerprint: fp)
    }

    static func check(_ armored: String, data: [UInt8], allowed: [AllowedKey]) -> SignatureCheck {
        guard let block = armoredBlocks(armored, label: "PGP SIGNATURE").first, let bytes = dearmor(block),
              let packets = packets(bytes), let p = packets.first(where: { $0.tag == 2 }) else {
            return .malformed("the OpenPGP signature cannot be read")
        }
        var r = ByteReader(p.body)
        guard r.u8() == 4 else { return .malformed("only v4 OpenPGP signatures are supported") }
        guard let type = r.u8(), let pkAlgo = r.u8(), let hashAlgo = r.u8(), let hashedLen = r.u16(),
              let hashed = r.take(hashedLen), let unhashedLen = r.u16(), let unhashed = r.take(unhashedLen),
              let left16 = r.take(2) else {
            return .malformed("the OpenPGP signature packet is truncated")
        }
        guard type == 0x00 || type == 0x01 else { return .malformed("signature type \(type) is not a document signature") }
        var issuerFP: [UInt8]? = nil
        var issuerID: [UInt8]? = nil
        for area in [hashed, unhashed] {
            for (t, v) in subpackets(area) ?? [] {
                if t == 33, v.count == 21 { issuerFP = Array(v.dropFirst()) }
                if t == 16, v.count == 8 { issuerID = v }
            }
        }
        let shownIssuer = issuerFP?.uppercaseHexString ?? issuerID.map { "key id " + $0.uppercaseHexString } ?? "an unnamed key"
        let candidates = allowed.filter { k in
            guard k.pgpFingerprint.count == 20 else { return false }
            if let issuerFP { return k.pgpFingerprint == issuerFP }
            if let issuerID { return Array(k.pgpFingerprint.suffix(8)) == issuerID }
            return false
        }
        guard let key = candidates.first else { return .unknownKey(shownIssuer) }
        let alg: Int32
        switch hashAlgo {
        case 8: alg = Int32(CCRYPTO_SHA256)
        case 10: alg = Int32(CCRYPTO_SHA512)
        default: return .malformed("hash algorithm \(hashAlgo) is not accepted (use SHA-256 or SHA-512)")
        }
        let header = Array(p.body.prefix(6 + hashedLen))
        let n = header.count
        let message = data + header + [0x04, 0xff, UInt8(n >> 24 & 0xff), UInt8(n >> 16 & 0xff), UInt8(n >> 8 & 0xff), UInt8(n & 0xff)]
        let digest = Digest.compute(alg, message)
        guard digest.count >= 2, Array(digest.prefix(2)) == left16 else { return .badSignature(key.fingerprint) }
        let ok: Bool
        switch (key.material, pkAlgo) {
        case (.rsa, 1), (.rsa, 3):
            guard let s = r.mpi() else { return .malformed("the RSA signature is truncated") }
            ok = key.verify(signature: s, message: message, hash: alg)
        case (.ed25519, 22):
            guard let rr = r.mpi(), let ss = r.mpi(), rr.count <= 32, ss.count <= 32 else { return .malformed("the EdDSA signature is truncated") }
            let sig = [UInt8](repeating: 0, count: 32 - rr.count) + rr + [UInt8](repeating: 0, count: 32 - ss.count) + ss
            ok = key.verify(signature: sig, message: digest, hash: 0)
        default:
            return .malformed("public-key algorithm \(pkAlgo) does not match the key")
        }
        return ok ? .valid : .badSignature(key.fingerprint)
    }

    /// (type, value) of each subpacket in a subpacket area.
    static func subpackets(_ area: [UInt8]) -> [(Int, [UInt8])]? {
        var r = ByteReader(area)
        var out: [(Int, [UInt8])] = []
        while !r.atEnd {
            guard let o1 = r.u8() else { return nil }
            let len: Int
            if o1 < 192 { len = Int(o1) }
            else if o1 < 255 { guard let o2 = r.u8() else { return nil }; len = (Int(o1) - 192) << 8 + Int(o2) + 192 }
            else { guard let n = r.u32() else { return nil }; len = n }
            guard len >= 1, let body = r.take(len) else { return nil }
            out.append((Int(body[0] & 0x7f), Array(body.dropFirst())))
        }
        return out
    }
}
