import Crypto

/// SHA-256 (FIPS 180-4), used for content hashes: rendered revisions, generator name
/// suffixes, Secret fingerprints in diffs. Backed by swift-crypto, which compiles BoringSSL's
/// implementation (with the CPU's SHA extensions where there are any) into the binary: renders
/// and diffs hash megabytes of JSON, and no shared library is loaded for it at process start.
public struct SHA256: Sendable {
    private var hasher = Crypto.SHA256()

    public init() {}

    public mutating func update<S: Sequence>(_ bytes: S) where S.Element == UInt8 {
        if let done: Void = bytes.withContiguousStorageIfAvailable({ update(UnsafeRawBufferPointer($0)) }) { return done }
        update(Array(bytes))
    }

    /// Hashes contiguous bytes.
    public mutating func update(_ raw: UnsafeRawBufferPointer) { hasher.update(bufferPointer: raw) }

    public mutating func update(_ s: String) {
        var s = s
        s.withUTF8 { update(UnsafeRawBufferPointer($0)) }
    }

    /// The 32-byte digest of everything hashed so far.
    public mutating func finalize() -> [UInt8] { Array(hasher.finalize()) }

    /// `prefix` followed by the lowercase hex of the digest's first `bytes` bytes (no array of
    /// the digest is made).
    public mutating func finalize(hexOfFirst bytes: Int, after prefix: String) -> String {
        let digest = hasher.finalize()
        return digest.withUnsafeBytes { d in prefix + SHA256.lowercaseHex(UnsafeRawBufferPointer(rebasing: d.prefix(max(bytes, 0)))) }
    }

    /// Lowercase hexadecimal of `bytes`.
    static func lowercaseHex(_ bytes: UnsafeRawBufferPointer) -> String {
        @inline(__always) func digit(_ n: UInt8) -> UInt8 { n < 10 ? 48 + n : 87 + n }
        return String(unsafeUninitializedCapacity: bytes.count * 2) { out in
            for i in bytes.indices {
                out[2 * i] = digit(bytes[i] >> 4)
                out[2 * i + 1] = digit(bytes[i] & 0xF)
            }
            return bytes.count * 2
        }
    }

    /// Digest of `bytes` in one call.
    public static func digest(_ bytes: [UInt8]) -> [UInt8] { Array(Crypto.SHA256.hash(data: bytes)) }

    /// Hex digest of `bytes`.
    public static func hex(_ bytes: [UInt8]) -> String { digest(bytes).hexString }

    /// Hex digest of `bytes`.
    public static func hex<S: Sequence>(_ bytes: S) -> String where S.Element == UInt8 {
        var s = SHA256()
        s.update(bytes)
        return s.finalize().hexString
    }

    public static func hex(_ text: String) -> String {
        var text = text
        return text.withUTF8 { Array(Crypto.SHA256.hash(data: UnsafeRawBufferPointer($0))) }.hexString
    }
}

extension Array where Element == UInt8 {
    /// Lowercase hexadecimal.
    public var hexString: String { withUnsafeBytes { SHA256.lowercaseHex($0) } }
}
