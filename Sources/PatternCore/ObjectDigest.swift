/// The SHA-256 of an object's content: its compact JSON with sorted keys, leaving out pattern's
/// own bookkeeping annotations (`pattern.dev/applied-hash`, `pattern.dev/rendered-revision`)
/// and an `annotations` map that is empty without them (`JSONWriter.writeCanonical`).
///
/// The rendered revision is made from these digests, and the applied hash of every object
/// (`SiteIdentity.prepare`) from its digest and the site's member labels. Setting a bookkeeping
/// annotation leaves the digest as it is, so the render computes it once per object and the
/// diff and apply that follow reuse it (`RenderedObject.contentDigest`).
public struct ObjectDigest: Sendable, Hashable {
    /// The 32 digest bytes.
    public let bytes: [UInt8]

    /// The annotations left out of the digest.
    public static let bookkeepingAnnotations = [LabelKeys.appliedHash, LabelKeys.revision]

    /// The digest of `object`'s content.
    public init(of object: Value) {
        var buf: [UInt8] = []
        buf.reserveCapacity(2048)
        JSONWriter.writeCanonical(object, omittingAnnotations: ObjectDigest.bookkeepingAnnotations, into: &buf)
        bytes = SHA256.digest(buf)
    }
}
