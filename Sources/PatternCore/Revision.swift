/// The one short form of a rendered revision (`sha256:<hex>`) used in output, events and status.
public enum Revision {
    /// The first 12 hex digits, without the `sha256:` prefix.
    public static func short(_ revision: String) -> String {
        revision.hasPrefix("sha256:") ? String(revision.dropFirst(7).prefix(12)) : String(revision.prefix(12))
    }
}
