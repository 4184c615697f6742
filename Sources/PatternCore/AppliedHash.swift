/// The `pattern.dev/applied-hash` annotation apply writes on every object: a live object whose
/// hash is the one of the object being applied was applied from exactly that configuration, so
/// the fields pattern applied are the desired ones and the removal check can be skipped.
///
/// Current hashes (`v2-` and 16 hex digits, `current`) are made from the render's content digest
/// and the site's member labels (`SiteIdentity.prepare`). Hashes written by earlier versions (16 hex
/// digits) were the SHA-256 of the applied object's JSON; objects keep them until they are
/// written again (a re-apply that changes nothing writes nothing), so they are still honoured.
public enum AppliedHash {
    /// The start of every current hash.
    public static let currentPrefix = "v2-"

    /// What every current hash of a site hashes before the object's content digest: a version
    /// tag and the site's member label values (`pattern.dev/owner`, the ApplySet id).
    public static func sitePrefix(ownerValue: String, applySetID: String) -> [UInt8] {
        Array("pattern.dev/applied-hash/v2\u{0}\(ownerValue)\u{0}\(applySetID)\u{0}".utf8)
    }

    /// A site's `sitePrefix` and the hash state after it: every object's hash continues from a
    /// copy of that state, so the prefix is hashed once per site, not once per object.
    public struct Site: Sendable, Hashable {
        /// The bytes hashed first (`sitePrefix`).
        public let prefix: [UInt8]
        fileprivate let state: SHA256

        public init(ownerValue: String, applySetID: String) {
            prefix = AppliedHash.sitePrefix(ownerValue: ownerValue, applySetID: applySetID)
            var h = SHA256()
            prefix.withUnsafeBytes { h.update($0) }
            state = h
        }

        public static func == (a: Site, b: Site) -> Bool { a.prefix == b.prefix }
        public func hash(into hasher: inout Hasher) { hasher.combine(prefix) }
    }

    /// The current hash of an object whose content digest is `digest`, applied by `site`:
    /// `v2-` and the SHA-256 (first 16 hex) of the site's prefix and the digest. What is
    /// applied is a function of exactly these (null fields dropped, member labels set), so equal
    /// hashes mean equal applied configurations; the bookkeeping annotations are outside the
    /// digest, so the hash does not change with the rendered revision.
    public static func current(_ digest: ObjectDigest, site: Site) -> String {
        var h = site.state
        digest.bytes.withUnsafeBytes { h.update($0) }
        return h.finalize(hexOfFirst: 8, after: currentPrefix)
    }

    /// True when `live` carries the applied hash of `prepared` (the object as apply sends it,
    /// its current hash included), current or legacy.
    public static func matches(prepared: Value, live: Value) -> Bool {
        guard let l = live.annotations[LabelKeys.appliedHash]?.string,
              let p = prepared.annotations[LabelKeys.appliedHash]?.string else { return false }
        if p == l { return true }
        // A current hash that differs is a different configuration; only a legacy one is
        // worth the legacy computation.
        guard !l.hasPrefix(currentPrefix), l.utf8.count == 16 else { return false }
        return legacy(prepared) == l
    }

    /// The hash earlier versions wrote: SHA-256 (first 16 hex) of the compact JSON of the
    /// applied object without its applied-hash and rendered-revision annotations.
    public static func legacy(_ prepared: Value) -> String {
        var bytes: [UInt8] = []
        bytes.reserveCapacity(1024)
        JSONWriter.write(prepared, omittingAnnotations: [LabelKeys.appliedHash, LabelKeys.revision], into: &bytes)
        return String(SHA256.hex(bytes).prefix(16))
    }
}
